/**
 * The fair class as Linux ran it from 2.6.23 to 6.5: CFS, the Completely Fair
 * Scheduler (kernel/sched/fair.c of v6.5, which keeps the 5.x rules).
 *
 * The rule it keeps: run the task that has received the least weighted CPU
 * time. Each task's virtual runtime advances by delta * 1024 / weight for
 * delta ns of running, so a nice -5 task (weight 3121) ages three times
 * slower than a nice 0 one and gets three times the CPU. The queue is a
 * red-black tree keyed by vruntime (ties FIFO) with its leftmost entity
 * cached; the leftmost runs next. min_vruntime is a monotonic floor that
 * follows the smallest vruntime on the queue; newcomers are placed relative
 * to it.
 *
 * How long curr runs: the period P(n) = sched_latency (6 ms x factor) for up to
 * sched_nr_latency = latency / min_granularity (8) tasks, else n x min_granularity;
 * curr's wall-clock slice is P * w / W (ALT_PERIOD and BASE_SLICE, 5.13+: at
 * least min_granularity), capped at sched_latency (5.19+). At each tick
 * (check_preempt_tick) curr is preempted if it ran longer than that slice, or
 * if it ran at least min_granularity and is ahead of the leftmost by more than
 * the slice (a virtual-vs-wall comparison, as in the kernel).
 *
 * Wakeups (check_preempt_wakeup): a NORMAL wakee preempts if curr's vruntime
 * exceeds its own by more than wakeup_granularity (1 ms x factor) scaled to
 * the wakee's weight; BATCH and IDLE wakees never preempt; anything that is
 * not SCHED_IDLE preempts a SCHED_IDLE curr.
 *
 * Placement (place_entity): a waking task gets vruntime
 * max(its own, min_vruntime - latency/2) (GENTLE_FAIR_SLEEPERS: at most half a
 * latency of sleeper credit; min_granularity/2 for SCHED_IDLE); a forked task
 * starts from the forking curr's vruntime and at least one virtual slice after
 * min_vruntime (START_DEBIT). Between a dequeue that is not a sleep (migration,
 * priority change) and the next enqueue, vruntime is kept relative to the old
 * queue's min_vruntime and rebased onto the new one; a task that wakes on
 * another CPU is rebased the same way (migrate_task_rq_fair).
 *
 * Buddies (pick_next_entity): the leftmost runs unless a buddy may run
 * without being unfair, that is unless its vruntime is at most one wakeup
 * granularity (scaled to the leftmost's weight) ahead of the leftmost's. A
 * wakee that preempts becomes the next buddy, so it runs next; the task it
 * preempted becomes the last buddy if at least sched_nr_latency (8) tasks
 * share the queue, so the CPU goes back to it afterwards (LAST_BUDDY);
 * sched_yield makes curr the skip buddy. A task loses its buddy roles when
 * it is picked, dequeued, yields, or uses up its slice at the tick. SCHED_IDLE
 * tasks are never buddies. NEXT_BUDDY (off by default: also mark the wakee
 * on wakeups that do not preempt) is not modelled.
 *
 * Simplified: no long-sleeper reset of vruntime (its only purpose is s64 overflow, which
 * doubles do not have). A SCHED_IDLE task's slice floor is sched_idle_min_granularity,
 * a fixed 0.75 ms that update_sysctl does not scale by the CPU count (not a tunable here).
 * Arithmetic is exact in doubles (weights.ts).
 *
 * Tick-exact and tickless: nextCheck() returns the first instant at which
 * check_preempt_tick would fire if curr kept running and nothing else changed.
 */
import type { Params } from "../param.ts";
import { SCHED_BATCH, SCHED_IDLE, type Task } from "../task/task.ts";
import { KernelPanic } from "../errno.ts";
import { DEQUEUE_SAVE, DEQUEUE_SLEEP, ENQUEUE_MIGRATED, ENQUEUE_WAKEUP, type SchedClass, DEQUEUE_MOVE } from "./class.ts";
import { RbTree } from "./rbtree.ts";
import type { Rq } from "./rq.ts";
import {
  EPS_NS, KernelLink, SchedEntity, cfsRqOf, chargeVruntime, firstTickIn, prioChangedFair, seOf, syncWeight, tunableFactor,
  wakeupPolicyRule, type FairRq,
} from "./fair_common.ts";
import { calcDelta, calcDeltaFair, vdeltaToWall } from "./weights.ts";

/** Behaviour switches (kernel/sched/features.h), defaults as in Linux 6.5. */
export interface CfsFeatures {
  /** Sleeper credit is half the latency (GENTLE_FAIR_SLEEPERS). */
  gentleFairSleepers: boolean;
  /** New tasks start one virtual slice behind (START_DEBIT). */
  startDebit: boolean;
  /** Wakeups may preempt (WAKEUP_PREEMPTION). */
  wakeupPreemption: boolean;
  /** A task preempted by a wakeup is preferred once the wakee is done, if that is not unfair (LAST_BUDDY). */
  lastBuddy: boolean;
}

export const CFS_FEATURES: Readonly<CfsFeatures> = Object.freeze({
  gentleFairSleepers: true,
  startDebit: true,
  wakeupPreemption: true,
  lastBuddy: true,
});

/** struct cfs_rq of CFS. */
export interface CfsRq extends FairRq {
  /** Skip buddy: the entity that called sched_yield (cfs_rq->skip). */
  skip: SchedEntity | null;
  /** Next buddy: the wakee that preempted curr (cfs_rq->next). */
  next: SchedEntity | null;
  /** Last buddy: the curr that a wakee preempted (cfs_rq->last). */
  last: SchedEntity | null;
  /** Queued SCHED_IDLE entities, curr included (cfs_rq->idle_nr_running). */
  nrIdle: number;
}

/** sysctl_sched_idle_min_granularity: a SCHED_IDLE task's slice floor, 0.75 ms, not scaled by CPU count. */
const IDLE_MIN_GRANULARITY = 750_000;

/** The CFS tunables after CPU scaling (update_sysctl). */
export interface CfsTunables {
  latency: number;
  minGranularity: number;
  wakeupGranularity: number;
  /** sched_nr_latency = ceil(latency / min_granularity). */
  nrLatency: number;
}

export function cfsTunables(p: Params): CfsTunables {
  const f = tunableFactor(p);
  return {
    latency: p.schedLatency * f,
    minGranularity: p.minGranularity * f,
    wakeupGranularity: p.wakeupGranularity * f,
    nrLatency: Math.ceil(p.schedLatency / p.minGranularity),
  };
}

const byVruntime = (se: SchedEntity): number => se.vruntime;

export function newCfsRq(cpu = -1): CfsRq {
  return { tree: new RbTree<SchedEntity>(byVruntime), curr: null, nrRunning: 0, load: 0, minVruntime: 0, skip: null, next: null, last: null, nrIdle: 0, cpu };
}

/** update_min_vruntime(): max(old, min(curr, leftmost)). */
function updateMinVruntime(cfs: CfsRq): void {
  const c = cfs.curr !== null && cfs.curr.onRq ? cfs.curr : null;
  const left = cfs.tree.first();
  let v = c !== null ? c.vruntime : cfs.minVruntime;
  if (left !== null) v = c !== null ? Math.min(v, left.value.vruntime) : left.value.vruntime;
  if (v > cfs.minVruntime) cfs.minVruntime = v;
}

/** wakeup_preempt_entity(): 1 if se should preempt curr, 0 if within the granularity, -1 if not ahead. */
function wakeupPreemptEntity(curr: SchedEntity, se: SchedEntity, gran: number): number {
  const vdiff = curr.vruntime - se.vruntime;
  if (vdiff <= 0) return -1;
  return vdiff > calcDeltaFair(gran, se.weight) ? 1 : 0;
}

/** clear_buddies(): se gives up whichever buddy roles it has. */
function clearBuddies(cfs: CfsRq, se: SchedEntity): void {
  if (cfs.last === se) cfs.last = null;
  if (cfs.next === se) cfs.next = null;
  if (cfs.skip === se) cfs.skip = null;
}

/** check_preempt_tick verdicts. */
const TICK_KEEP = 0, TICK_SLICE_USED = 1, TICK_AHEAD = 2;

/** The CFS machinery of one class instance. */
class Cfs {
  constructor(
    readonly t: CfsTunables,
    readonly feat: CfsFeatures,
  ) {}

  /** __sched_period(). */
  period(n: number): number {
    return n > this.t.nrLatency ? n * this.t.minGranularity : this.t.latency;
  }

  /** sched_slice(): se's wall-clock share of the period, counting se as queued. */
  slice(cfs: CfsRq, se: SchedEntity): number {
    const extra = se.onRq ? 0 : 1;
    const load = cfs.load + (se.onRq ? 0 : se.weight);
    const s = calcDelta(this.period(cfs.nrRunning + extra), se.weight, load);
    // BASE_SLICE: an idle entity among non-idle ones gets the idle floor (sched_idle_cfs_rq: all idle, the usual one)
    const allIdle = cfs.nrRunning > 0 && cfs.nrIdle === cfs.nrRunning;
    return Math.max(s, se.task.policy === SCHED_IDLE && !allIdle ? IDLE_MIN_GRANULARITY : this.t.minGranularity);
  }

  /** The slice check_preempt_tick compares against: sched_slice capped at the latency. */
  idealRuntime(cfs: CfsRq, se: SchedEntity): number {
    return Math.min(this.slice(cfs, se), this.t.latency);
  }

  /** place_entity(): sleeper credit for wakeups, START_DEBIT for new tasks. */
  placeEntity(cfs: CfsRq, se: SchedEntity, initial: boolean): void {
    let v = cfs.minVruntime;
    if (initial && this.feat.startDebit) v += calcDeltaFair(this.slice(cfs, se), se.weight);
    if (!initial) {
      let thresh = se.task.policy === SCHED_IDLE ? this.t.minGranularity : this.t.latency;
      if (this.feat.gentleFairSleepers) thresh /= 2;
      v -= thresh;
    }
    se.vruntime = Math.max(se.vruntime, v); // never gain time by being placed backwards
  }

  /**
   * pick_next_entity(): the leftmost, unless it is the skip buddy and the one
   * after it is close enough; then the next buddy, else the last buddy, if
   * close enough to the leftmost.
   */
  pick(cfs: CfsRq): SchedEntity | null {
    const curr = cfs.curr !== null && cfs.curr.onRq ? cfs.curr : null;
    const first = cfs.tree.first()?.value ?? null;
    const left = first === null || (curr !== null && curr.vruntime < first.vruntime) ? curr : first;
    if (left === null) return null;
    const gran = this.t.wakeupGranularity;
    let se = left;
    if (cfs.skip === left) {
      let second: SchedEntity | null;
      if (left === curr) second = first;
      else {
        second = cfs.tree.next(left.node)?.value ?? null;
        if (second === null || (curr !== null && curr.vruntime < second.vruntime)) second = curr;
      }
      if (second !== null && wakeupPreemptEntity(second, left, gran) < 1) se = second;
    }
    if (cfs.next !== null && wakeupPreemptEntity(cfs.next, left, gran) < 1) se = cfs.next; // someone really wants this to run
    else if (cfs.last !== null && wakeupPreemptEntity(cfs.last, left, gran) < 1) se = cfs.last; // back to the preempted task
    return se;
  }

  /** check_preempt_tick(): TICK_KEEP, or why curr must yield. */
  tickExpired(cfs: CfsRq, se: SchedEntity): number {
    const ideal = this.idealRuntime(cfs, se);
    const ran = se.task.sumExecRuntime - se.prevSumExecRuntime;
    if (ran > ideal) return TICK_SLICE_USED;
    if (ran < this.t.minGranularity) return TICK_KEEP;
    const left = cfs.tree.first();
    if (left === null) return TICK_KEEP;
    return se.vruntime - left.value.vruntime > ideal ? TICK_AHEAD : TICK_KEEP;
  }

  /** The first instant at which tickExpired() would hold, curr running on alone. */
  expiry(cfs: CfsRq, se: SchedEntity, execStart: number): number {
    const ideal = this.idealRuntime(cfs, se);
    const ran = se.task.sumExecRuntime - se.prevSumExecRuntime;
    const bySlice = execStart + Math.max(0, Math.floor(ideal - ran) + 1);
    const left = cfs.tree.first();
    if (left === null) return bySlice;
    const vdiff = se.vruntime - left.value.vruntime;
    const wall = vdeltaToWall(ideal - vdiff, se.weight);
    const byLead = Math.max(wall < 0 ? 0 : Math.ceil(wall - EPS_NS), this.t.minGranularity - ran);
    return Math.min(bySlice, execStart + byLead);
  }
}

/**
 * The CFS fair class for SCHED_NORMAL, SCHED_BATCH and SCHED_IDLE.
 * Latency, min and wakeup granularity = params x the tunable-scaling factor.
 *
 * @example
 * const classes = [cfsClass(params), idleClass];
 */
export function cfsClass(params: Params, features: Partial<CfsFeatures> = {}): SchedClass {
  const c = new Cfs(cfsTunables(params), { ...CFS_FEATURES, ...features });
  const link = new KernelLink();
  const q = (rq: Rq): CfsRq => cfsRqOf<CfsRq>(rq);
  const tickNs = Math.round(1e9 / params.hz);

  function wakeupPreempt(rq: Rq, p: Task): void {
    const curr = rq.curr;
    if (curr === p || rq.needResched || seOf(curr) !== q(rq).curr) return;
    const rule = wakeupPolicyRule(curr, p);
    if (rule === "preempt") return rq.resched();
    if (rule === "never" || !c.feat.wakeupPreemption) return;
    link.sync(rq);
    const cfs = q(rq);
    const se = seOf(curr);
    const pse = seOf(p);
    if (wakeupPreemptEntity(se, pse, c.t.wakeupGranularity) !== 1) return;
    if (p.policy !== SCHED_IDLE) cfs.next = pse; // set_next_buddy: bias the pick towards the wakee
    rq.resched();
    // set_last_buddy: only with sched_nr_latency tasks or more, and never for a SCHED_IDLE task
    if (c.feat.lastBuddy && se.onRq && cfs.nrRunning >= c.t.nrLatency && curr.policy !== SCHED_IDLE) cfs.last = se;
  }

  return {
    name: "cfs",
    policies: [0, 3, 5],
    attach(k) {
      link.k = k;
    },
    initRq(rq) {
      rq.cfs = newCfsRq(rq.cpu);
    },
    initTask(_rq, p) {
      p.se = new SchedEntity(p); // vruntime 0, as __sched_fork leaves it
    },
    getRrInterval(rq, p) {
      // get_rr_interval_fair (CFS): the task's sched_slice on its queue, 0 on a queue with no fair load
      const cfs = q(rq);
      return cfs.load === 0 ? 0 : c.slice(cfs, seOf(p));
    },
    switchedFrom(rq, p) {
      // detach_task_cfs_rq: a task that leaves the class while asleep is placed, then normalised
      // (vruntime_normalized: one that left queued was normalised by its dequeue).
      const se = seOf(p);
      if (se.relVruntime) return;
      const cfs = q(rq); // cfs_rq_of(se): the queue of the CPU the task is on now
      c.placeEntity(cfs, se, false);
      se.vruntime -= cfs.minVruntime;
      se.relVruntime = true;
    },
    switchedTo(rq, p) {
      // attach_task_cfs_rq: back in the class, the entity it left with; a sleeping one made absolute
      // again on this queue (a queued one is, by the enqueue that follows).
      if (!(p.se instanceof SchedEntity)) {
        p.se = new SchedEntity(p); // never in the class before: as initTask
        return;
      }
      const se = seOf(p);
      // se->cfs_rq follows the task's CPU in every class (set_task_rq): a task that moved while in
      // another class is now of this CPU's queue, which a later migration renormalises against.
      se.home = q(rq);
      if (se.relVruntime && !p.onRq) {
        se.vruntime += q(rq).minVruntime;
        se.relVruntime = false;
      }
    },
    enqueueTask(rq, p, flags) {
      link.sync(rq);
      const cfs = q(rq);
      const se = seOf(p);
      syncWeight(se); // CFS keeps vruntime across a weight change
      const wakeup = (flags & ENQUEUE_WAKEUP) !== 0;
      const migrated = (flags & ENQUEUE_MIGRATED) !== 0;
      if (wakeup && migrated && se.home !== null) {
        // migrate_task_rq_fair reads the old queue's min_vruntime as of that CPU's last update_curr
        if (se.home.cpu !== undefined && se.home.cpu >= 0) link.catchUp(se.home.cpu);
        se.vruntime -= se.home.minVruntime;
      }
      if (!wakeup || migrated) se.vruntime += cfs.minVruntime; // renormalise
      se.relVruntime = false;
      if (wakeup) c.placeEntity(cfs, se, false);
      cfs.nrRunning++;
      if (p.policy === SCHED_IDLE) cfs.nrIdle++;
      cfs.load += se.weight;
      se.onRq = true;
      se.home = cfs;
      if (cfs.curr !== se) cfs.tree.insert(se.node);
    },
    dequeueTask(rq, p, flags) {
      link.sync(rq);
      const cfs = q(rq);
      const se = seOf(p);
      if (!se.onRq) throw new KernelPanic(`cfs: dequeue of pid ${p.pid}, not queued`);
      clearBuddies(cfs, se);
      if (cfs.curr !== se) cfs.tree.erase(se.node);
      se.onRq = false;
      cfs.nrRunning--;
      if (p.policy === SCHED_IDLE) cfs.nrIdle--;
      cfs.load -= se.weight;
      if (!(flags & DEQUEUE_SLEEP)) {
        se.vruntime -= cfs.minVruntime;
        se.relVruntime = true;
      }
      if ((flags & (DEQUEUE_SAVE | DEQUEUE_MOVE)) !== DEQUEUE_SAVE) updateMinVruntime(cfs);
    },
    pickTask(rq) {
      const se = c.pick(q(rq));
      return se === null ? null : se.task;
    },
    putPrevTask(rq, prev) {
      const cfs = q(rq);
      const se = seOf(prev);
      if (se.onRq && !se.node.onTree) cfs.tree.insert(se.node);
      cfs.curr = null;
    },
    setNextTask(rq, p) {
      const cfs = q(rq);
      const se = seOf(p);
      if (se.node.onTree) cfs.tree.erase(se.node);
      clearBuddies(cfs, se);
      se.prevSumExecRuntime = p.sumExecRuntime;
      cfs.curr = se;
    },
    updateCurr(rq, curr, delta) {
      const se = seOf(curr);
      if (se.node.onTree) throw new KernelPanic(`cfs: pid ${curr.pid} runs while in the tree`);
      const cfs = q(rq);
      const end = curr.execStart;
      let from = end - delta;
      // Charged tick by tick over the ticks skipped inside this run, as a ticking kernel did (see firstTickIn).
      for (let t = firstTickIn(from, end, tickNs, rq.lastTick); t !== -1; t = t + tickNs < end ? t + tickNs : -1) {
        chargeVruntime(se, t - from);
        from = t;
        updateMinVruntime(cfs);
      }
      chargeVruntime(se, end - from);
      updateMinVruntime(cfs);
    },
    taskTick(rq, curr) {
      const cfs = q(rq);
      if (cfs.nrRunning <= 1) return;
      const why = c.tickExpired(cfs, seOf(curr));
      if (why === TICK_KEEP) return;
      rq.resched();
      if (why === TICK_SLICE_USED) clearBuddies(cfs, seOf(curr)); // ran long enough: no buddy favours to get re-elected

    },
    nextCheck(rq, curr) {
      const cfs = q(rq);
      return cfs.nrRunning <= 1 ? Infinity : c.expiry(cfs, seOf(curr), curr.execStart);
    },
    wakeupPreempt,
    yieldTask(rq) {
      const curr = rq.curr;
      if (rq.nrRunning === 1 || seOf(curr) !== q(rq).curr) return;
      clearBuddies(q(rq), seOf(curr));
      if (curr.policy !== SCHED_BATCH) link.sync(rq);
      q(rq).skip = seOf(curr);
    },
    taskFork(rq, p) {
      link.sync(rq);
      const cfs = q(rq);
      const se = seOf(p);
      const curr = cfs.curr;
      if (curr !== null) se.vruntime = curr.vruntime;
      c.placeEntity(cfs, se, true);
      if (params.childRunsFirst && curr !== null && curr.vruntime < se.vruntime) {
        [curr.vruntime, se.vruntime] = [se.vruntime, curr.vruntime];
        rq.resched();
      }
      se.vruntime -= cfs.minVruntime; // relative until the first enqueue, which may be on another CPU
    },
    prioChanged(rq, p, oldPrio) {
      prioChangedFair(rq, p, oldPrio, q(rq).nrRunning, () => wakeupPreempt(rq, p));
    },
    nrRunning: (rq) => q(rq).nrRunning,
    canMigrate: () => true, // the generic balancer moves fair tasks, as load_balance does
  };
}

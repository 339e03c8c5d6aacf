/**
 * The deadline class: SCHED_DEADLINE (kernel/sched/deadline.c), EDF + CBS.
 *
 * Models: deadline.c of Linux 4.11 .. 6.11 for tasks (the constrained-deadline
 * rules of 4.11 included); no dl_server entities (what later kernels build the
 * fair_server from).
 *
 * Each task reserves `dl_runtime` ns of CPU in every `dl_period`, to be used
 * within `dl_deadline` of each period's start (runtime <= deadline <= period).
 * The class runs the task with the earliest absolute scheduling deadline
 * (EDF); each task's Constant Bandwidth Server (CBS) keeps it to its
 * reservation. The states of a task's server:
 *
 *                   wakeup (CBS rule): if deadline < now
 *                   or runtime / (deadline - now) > dl_runtime / dl_deadline
 *                   then deadline = now + dl_deadline, runtime = dl_runtime
 *     +----------+ ------------------------------> +---------+  EDF: earliest  +---------+
 *     | sleeping |                                 |  ready  |  deadline runs  | running |
 *     |          |                                 | (tree)  | --------------> |         |
 *     +----------+                                 +---------+ <-------------- +---------+
 *       ^      ^                                        ^        preempted by    |     |
 *       |      |                 block                  |        an earlier one  |     |
 *       |      +----------------------------------------|------------------------+     |
 *       |                                               |                              |
 *       |                      dl_timer, next period:   |     runtime <= 0 (at a tick) |
 *       |                      while runtime <= 0:      |     or sched_yield           |
 *       |                        deadline += dl_period  |                              |
 *       |                        runtime  += dl_runtime |                              |
 *       |   block (the timer                      +-----------+                        |
 *       +-- still replenishes) ------------------ | throttled | <----------------------+
 *                                                 +-----------+
 *
 * While running: runtime -= time run. Admission control (sched_dl_overflow)
 * keeps sum(dl_runtime / dl_period) <= CPUs x rtRuntime / rtPeriod (0.95 per
 * CPU by default; no limit when rtRuntime is -1), in BW_SHIFT = 20 fixed point,
 * so admitted tasks get their runtime and, on one CPU, meet their deadlines.
 *
 * Rules kept: the wakeup rule above (dl_entity_overflow, with DL_SCALE
 * truncation), the revised wakeup of constrained tasks (runtime scaled to the
 * laxity) and their throttling when they wake between the deadline and the next
 * period, replenishment at the next period (deadline - dl_deadline + dl_period),
 * the reset of a lagging replenishment, sched_yield ending the current job,
 * deadline time also charged to the RT bandwidth (rt_time), EBUSY admission.
 *
 * Simplified: a budget overrun is noticed at the tick (hrtick off, the default),
 * so a task can overrun by up to a tick and pays it back at replenishment.
 * Bandwidth is released at once when a task leaves the class or exits (Linux
 * waits for the 0-lag time with the inactive timer); no GRUB reclaiming
 * (SCHED_FLAG_RECLAIM is accepted and ignored), no SIGXCPU for DL_OVERRUN, no
 * PI boosting. SMP: per-CPU EDF with wakeup placement as select_task_rq_dl and
 * cpudl (a free CPU, else the one with the latest earliest deadline); after
 * each pick, a wakeup that cannot preempt (task_woken_dl) and a replenishment
 * (dl_task_timer), queued tasks that would run at once elsewhere are pushed
 * there (push_dl_tasks), and a CPU whose deadline work got worse pulls the earliest
 * waiting task it may run from CPUs with two or more (pull_dl_task), scanning
 * every CPU rather than the dlo_mask. As in Linux this approximates global EDF:
 * it does not guarantee every deadline on several CPUs even under the limit.
 */
import { Prio, type Timer } from "../../sim/engine.ts";
import type { Kernel } from "../kernel.ts";
import type { Params } from "../param.ts";
import { KernelPanic } from "../errno.ts";
import { SCHED_DEADLINE, TASK_DEAD, type Task } from "../task/task.ts";
import { DEQUEUE_MIGRATING, DEQUEUE_SLEEP, ENQUEUE_INITIAL, ENQUEUE_MIGRATED, ENQUEUE_RESTORE, ENQUEUE_WAKEUP, type SchedClass } from "./class.ts";
import type { Rq } from "./rq.ts";
import { RbNode, RbTree } from "./rbtree.ts";
import { activateTask, allowed, checkPreempt, deactivateTask, mayMigrate, setTaskCpu } from "./core.ts";
import { rtBandwidthCharge } from "./rt.ts";

/** Fixed-point shift of bandwidths (BW_SHIFT). */
export const BW_SHIFT = 20;
/** Time values are truncated by this many bits in the overflow test (DL_SCALE). */
export const DL_SCALE = 10;
/** sysctl_sched_dl_period_min/max, in ns (100 us, 1<<22 us). */
export const DL_PERIOD_MIN = 100_000, DL_PERIOD_MAX = 4_194_304_000;

/** The parameters of sched_setattr for SCHED_DEADLINE, ns. period 0 means period = deadline. */
export interface DlParams {
  runtime: number;
  deadline: number;
  period: number;
  /** sched_flags kept by the entity (RECLAIM, DL_OVERRUN). */
  flags: number;
}

/** task.dl (struct sched_dl_entity). */
export class DlEntity {
  // parameters (owner: sched_setattr)
  dlRuntime = 0;
  dlDeadline = 0;
  dlPeriod = 0;
  flags = 0;
  // CBS state (owner: this class)
  runtime = 0; // left in the current job; may go negative by up to a tick
  deadline = -1; // absolute scheduling deadline; -1 = never set up
  throttled = false;
  yielded = false;
  /**
   * The absolute deadline of the job under way (NaN between jobs): set when a job starts (a
   * wakeup, or the replenishment after a yield) and kept while the CBS postpones `deadline` for
   * an overrun, so a job that ends late is seen late. TaskLab's bookkeeping for the dl_job event.
   */
  jobDeadline = NaN;
  /** The job under way has had CPU time: one that ends without any (the exit after a last yield) is no job. */
  jobRan = false;
  readonly node: RbNode<DlEntity>;
  /** Replenishment timer (dl_timer). */
  timer: Timer | null = null;
  constructor(readonly task: Task) {
    this.node = new RbNode<DlEntity>(this);
  }
}

/** rq.dl (struct dl_rq): ready entities by absolute deadline, FIFO among equals. */
class DlRq {
  readonly tree = new RbTree<DlEntity>((e) => e.deadline);
  /** Deadline tasks on this CPU (curr and throttled ones included). */
  nr = 0;
}

/** The root domain's admitted bandwidth (struct dl_bw), per kernel. */
interface DlBw {
  total: number;
  charged: Map<Task, number>;
}
const roots = new WeakMap<Kernel, DlBw>();
function rootOf(k: Kernel): DlBw {
  let r = roots.get(k);
  if (!r) roots.set(k, (r = { total: 0, charged: new Map() }));
  return r;
}

const dlRq = (rq: Rq): DlRq => rq.dl as DlRq;


/** to_ratio(period, runtime): bandwidth in BW_SHIFT fixed point. */
export function toRatio(period: number, runtime: number): number {
  return period === 0 ? 0 : Math.floor((runtime * 2 ** BW_SHIFT) / period);
}

/** The per-CPU bandwidth limit in fixed point, or -1 for none (dl_bw->bw). */
function bwLimit(p: Params): number {
  return p.rtRuntime === -1 ? -1 : toRatio(p.rtPeriod, p.rtRuntime);
}

/** __checkparam_dl: runtime >= 1024 ns, runtime <= deadline <= period, period within the sysctl bounds. */
export function checkDlParams(runtime: number, deadline: number, period: number): boolean {
  if (deadline === 0 || runtime < 2 ** DL_SCALE) return false;
  if (deadline >= 2 ** 63 || period >= 2 ** 63) return false;
  const per = period === 0 ? deadline : period;
  if (per < deadline || deadline < runtime) return false;
  return per >= DL_PERIOD_MIN && per <= DL_PERIOD_MAX;
}

/**
 * sched_dl_overflow: admits, changes or releases p's bandwidth for a change to
 * `policy` with `params`. Returns false (EBUSY) when the new total would exceed
 * the limit; the books are changed only on success.
 */
export function dlAdmit(k: Kernel, p: Task, policy: number, params: DlParams | null): boolean {
  const root = rootOf(k);
  const oldBw = root.charged.get(p) ?? 0;
  const newBw = policy === SCHED_DEADLINE && params ? toRatio(params.period || params.deadline, params.runtime) : 0;
  if (policy === SCHED_DEADLINE && newBw !== oldBw) {
    const limit = bwLimit(k.params);
    if (limit !== -1 && limit * k.rqs.length < root.total - oldBw + newBw) return false;
  }
  root.total += newBw - oldBw;
  if (newBw > 0) root.charged.set(p, newBw);
  else root.charged.delete(p);
  return true;
}

/** Whether deadline tasks can be admitted at all (dl_bandwidth_enabled and a non-zero limit). */
export function dlBandwidthUsable(k: Kernel): boolean {
  return bwLimit(k.params) !== 0;
}

/** The admitted total in fixed point and its limit (-1 for none), for tests and observers. */
export function dlBandwidth(k: Kernel): { total: number; limit: number } {
  const lim = bwLimit(k.params);
  return { total: rootOf(k).total, limit: lim === -1 ? -1 : lim * k.rqs.length };
}

/**
 * __setparam_dl: stores p's reservation. Caller holds the change (inside
 * changeSched) and has checked and admitted the parameters.
 */
export function setDlParams(p: Task, params: DlParams): void {
  if (!(p.dl instanceof DlEntity)) p.dl = new DlEntity(p);
  const ent = p.dl as DlEntity;
  ent.dlRuntime = params.runtime;
  ent.dlDeadline = params.deadline;
  ent.dlPeriod = params.period || params.deadline;
  ent.flags = params.flags;
}

/** __getparam_dl, or null if p has no reservation. */
export function getDlParams(p: Task): DlParams | null {
  const ent = p.dl;
  if (!(ent instanceof DlEntity) || ent.dlDeadline === 0) return null;
  return { runtime: ent.dlRuntime, deadline: ent.dlDeadline, period: ent.dlPeriod, flags: ent.flags };
}

const entity = (p: Task): DlEntity => p.dl as DlEntity;
/** Start of the next period: when a throttled job is replenished (dl_next_period). */
const nextPeriod = (e: DlEntity): number => e.deadline - e.dlDeadline + e.dlPeriod;

/** dl_entity_overflow: would runtime left / time left exceed dl_runtime / dl_deadline? */
function overflows(e: DlEntity, now: number): boolean {
  const scale = 2 ** DL_SCALE;
  const left = Math.floor(e.dlDeadline / scale) * Math.floor(e.runtime / scale);
  const right = Math.floor((e.deadline - now) / scale) * Math.floor(e.dlRuntime / scale);
  return right < left;
}

/** replenish_dl_new_period / setup_new_dl_entity: a fresh job now. */
function newPeriod(e: DlEntity, now: number): void {
  e.deadline = now + e.dlDeadline;
  e.runtime = e.dlRuntime;
}

/** update_dl_entity: the CBS wakeup rule. */
function wakeupRule(e: DlEntity, now: number): void {
  if (e.deadline >= now && !overflows(e, now)) return; // keep deadline and runtime
  if (e.dlDeadline !== e.dlPeriod && e.deadline >= now) {
    // update_dl_revised_wakeup: a constrained task keeps its deadline with runtime scaled to the laxity.
    e.runtime = Math.floor(((e.deadline - now) * e.dlRuntime) / e.dlDeadline);
    return;
  }
  newPeriod(e, now);
}

/** replenish_dl_entity: pay the overrun back out of the next periods; reset if lagging. */
function replenish(e: DlEntity, now: number): void {
  if (e.yielded && e.runtime > 0) e.runtime = 0;
  while (e.runtime <= 0) {
    e.deadline += e.dlPeriod;
    e.runtime += e.dlRuntime;
  }
  if (e.deadline < now) newPeriod(e, now); // "DL replenish lagged too much"
  e.yielded = false;
  e.throttled = false;
}

/**
 * The deadline class. One instance per kernel (it keeps the kernel from attach).
 * `_params` keeps the class factories uniform: admission reads the kernel's
 * params, since the bandwidth limit belongs to the whole machine.
 *
 * @example
 * const classes = [stopClass, dlClass(params), rtClass(params), fair, idleClass];
 */
export function dlClass(_params: Params): SchedClass {
  let k: Kernel | null = null;
  let self = -1;
  const kern = (): Kernel => k ?? panicUnattached();

  function insert(rq: Rq, e: DlEntity): void {
    if (!e.node.onTree) dlRq(rq).tree.insert(e.node);
  }
  function remove(rq: Rq, e: DlEntity): void {
    if (e.node.onTree) dlRq(rq).tree.erase(e.node);
  }

  /** The budget ran out or the job yielded: off the tree until the next period (start_dl_timer). */
  function throttle(rq: Rq, e: DlEntity): void {
    const now = kern().now;
    remove(rq, e);
    const at = nextPeriod(e);
    if (at <= now) {
      replenish(e, now); // the replenishment instant has passed: no timer needed
      jobStart(e);
      insert(rq, e);
    } else {
      e.throttled = true;
      kern().engine.arm(e.timer!, at);
    }
    if (dlRq(rq).tree.first() !== e.node) rq.resched();
  }

  /** A job starts (a wakeup, or a replenishment after a yield) unless one is under way. */
  function jobStart(e: DlEntity): void {
    if (!Number.isNaN(e.jobDeadline)) return;
    e.jobDeadline = e.deadline;
    e.jobRan = false;
  }

  /** The job under way ends (the task blocked, yielded or exited): traced with its lateness. */
  function jobEnd(p: Task, e: DlEntity): void {
    if (Number.isNaN(e.jobDeadline)) return;
    if (!e.jobRan) {
      e.jobDeadline = NaN; // released, but it ended (exited) without running: no work, no job
      return;
    }
    const kk = kern();
    if (kk.trace.on) kk.trace.emit({ name: "dl_job", ts: kk.now, cpu: p.cpu, comm: p.comm, pid: p.pid, deadline: e.jobDeadline, lateness: kk.now - e.jobDeadline });
    e.jobDeadline = NaN;
  }

  /** dl_task_timer: the replenishment instant of a throttled task. */
  function replenishTimer(p: Task, e: DlEntity): void {
    if (p.dl !== e || p.sclass !== self || !e.throttled) return; // left the class meanwhile
    const kk = kern();
    replenish(e, kk.now);
    if (!p.onRq) return; // asleep: its wakeup applies the CBS rule
    jobStart(e);
    const rq = kk.rqs[p.cpu]!;
    insert(rq, e);
    checkPreempt(kk, rq, p, 0);
    push(rq); // dl_task_timer: a replenished task that cannot run here may run elsewhere
  }

  /** dl_check_constrained_dl: a constrained task waking past its deadline waits for its next period. */
  function constrainedWait(e: DlEntity, now: number): boolean {
    // A fresh reservation (deadline -1) has no earlier job to wait out. (Linux's entity starts at
    // deadline 0, which its large rq clock puts periods in the past; TaskLab's clock starts at 0.)
    if (e.deadline < 0 || e.dlDeadline === e.dlPeriod || !(e.deadline < now && now < nextPeriod(e))) return false;
    e.throttled = true;
    if (e.runtime > 0) e.runtime = 0;
    kern().engine.arm(e.timer!, nextPeriod(e));
    return true;
  }

  /** Earliest ready deadline on a CPU, Infinity if it has none (cpudl). */
  function earliest(rq: Rq): number {
    return dlRq(rq).tree.first()?.value.deadline ?? Infinity;
  }

  /** The earliest-deadline ready task of src other than its curr that may run on cpu (pick_earliest_pushable_dl_task). */
  function earliestPushable(src: Rq, cpu: number): Task | null {
    for (const n of dlRq(src).tree) {
      const p = n.value.task;
      if (p !== src.curr && allowed(p, cpu)) return p;
    }
    return null;
  }

  /**
   * find_later_rq: an allowed CPU other than `from` where p would run at once:
   * one running no deadline task first (cpudl's free CPUs), else the one whose
   * earliest deadline is latest and later than p's. Never a CPU running a stopper.
   */
  function laterRq(p: Task, from: number): Rq | null {
    const rqs = kern().rqs;
    let best: Rq | null = null;
    let latest = entity(p).deadline;
    for (let i = 1; i < rqs.length; i++) {
      const rq = rqs[(from + i) % rqs.length]!;
      if (!allowed(p, rq.cpu)) continue;
      if (rq.curr.sclass < self) continue;
      const d = earliest(rq); // cpudl: the earliest ready deadline there, running or queued
      if (d > latest) [best, latest] = [rq, d];
    }
    return best;
  }

  function move(src: Rq, dst: Rq, p: Task): void {
    const kk = kern();
    deactivateTask(kk, src, p, DEQUEUE_MIGRATING);
    setTaskCpu(kk, p, dst.cpu);
    activateTask(kk, dst, p, ENQUEUE_MIGRATED);
  }

  /** push_dl_tasks: rq is about to run `next`; move queued deadline tasks that would run at once elsewhere. */
  function push(rq: Rq): void {
    const kk = kern();
    for (let n = 1; n < kk.rqs.length; n++) {
      let p: Task | null = null;
      let dst: Rq | null = null;
      for (const node of dlRq(rq).tree) {
        const t = node.value.task;
        if (t === rq.curr || !mayMigrate(t)) continue; // pushable_dl_tasks holds only tasks with nr_cpus_allowed > 1
        // push_dl_task: t preempts curr, and curr can move away: just reschedule.
        const c = rq.curr;
        if (c.sclass === self && entity(t).deadline < entity(c).deadline && mayMigrate(c)) {
          rq.resched();
          return;
        }
        dst = laterRq(t, rq.cpu);
        if (dst !== null) {
          p = t;
          break;
        }
        break; // the earliest pushable task fits nowhere: later ones will not either
      }
      if (p === null || dst === null) return;
      move(rq, dst, p);
      checkPreempt(kk, dst, p, ENQUEUE_MIGRATED);
    }
  }

  /**
   * pull_dl_task: rq's deadline work got worse (a deadline task blocked, was
   * throttled, left the class, or got a later deadline). From every other CPU
   * with two or more ready deadline tasks, take the earliest queued one that
   * may run here if it is earlier than anything rq would run and not earlier
   * than its own CPU's curr (then it is about to run there anyway); later CPUs
   * must beat what was already pulled.
   */
  function pull(rq: Rq): boolean {
    const rqs = kern().rqs;
    let pulled = false;
    for (let i = 1; i < rqs.length; i++) {
      const src = rqs[(rq.cpu + i) % rqs.length]!;
      if (dlRq(src).tree.size < 2) continue; // not overloaded
      const p = earliestPushable(src, rq.cpu);
      if (p === null || !(entity(p).deadline < earliest(rq))) continue;
      const c = src.curr;
      if (c.sclass === self && c !== p && entity(p).deadline < entity(c).deadline) continue;
      move(src, rq, p);
      pulled = true;
    }
    return pulled;
  }

  const cls: SchedClass = {
    name: "dl",
    policies: [SCHED_DEADLINE],
    attach(kernel) {
      if (k !== null && k !== kernel) throw new KernelPanic("dlClass instance attached to two kernels: build one per kernel");
      k = kernel;
      self = kernel.classes.findIndex((c) => c.name === cls.name); // the kernel keeps a uniform copy (uniformClass)
    },
    initRq(rq) {
      rq.dl = new DlRq();
    },
    initTask(rq, p) {
      const e = p.dl;
      if (!(e instanceof DlEntity) || e.dlDeadline === 0)
        throw new KernelPanic(`pid ${p.pid} joined the deadline class without a reservation (set it with sched_setattr)`);
      if (e.timer?.armed) kern().engine.cancel(e.timer);
      e.timer ??= kern().newTimer(Prio.TIMER, () => replenishTimer(p, e));
      e.deadline = -1; // set up at the first enqueue
      e.runtime = 0;
      e.throttled = e.yielded = false;
      e.jobDeadline = NaN;
    },
    enqueueTask(rq, p, flags) {
      const e = entity(p);
      const now = kern().now;
      dlRq(rq).nr++;
      if (e.throttled) return; // the replenishment timer will queue it
      if (flags & (ENQUEUE_WAKEUP | ENQUEUE_INITIAL)) {
        if (constrainedWait(e, now)) return;
        wakeupRule(e, now);
        jobStart(e);
      } else if (flags & ENQUEUE_RESTORE) {
        if (e.deadline < now) newPeriod(e, now); // new parameters, or a stale job
        jobStart(e); // joined the class queued or running (switched_to_dl): its first job is under way from here
      }
      insert(rq, e);
    },
    dequeueTask(rq, p, flags) {
      const e = entity(p);
      remove(rq, e);
      dlRq(rq).nr--;
      if (flags & DEQUEUE_SLEEP) jobEnd(p, e); // blocked or exited: the job is done
      if (p.state === TASK_DEAD) {
        // task_dead_dl: the reservation goes with the task.
        if (e.timer?.armed) kern().engine.cancel(e.timer);
        dlAdmit(kern(), p, -1, null);
      }
    },
    pickTask: (rq) => dlRq(rq).tree.first()?.value.task ?? null,
    putPrevTask() {}, // curr stays on the tree until it blocks or is throttled
    setNextTask(rq) {
      push(rq); // the picked task is already on the tree; others may run elsewhere now
    },
    updateCurr(rq, curr, delta) {
      const e = entity(curr);
      e.runtime -= delta;
      if (delta > 0) e.jobRan = true;
      rtBandwidthCharge(rq, curr.execStart - delta, curr.execStart);
      if (!e.throttled && e.runtime <= 0) throttle(rq, e);
    },
    taskTick() {}, // updateCurr, which the core runs before the tick, throttled an overrun
    nextCheck(rq, curr) {
      const e = entity(curr);
      return e.throttled ? Infinity : curr.execStart + Math.max(0, e.runtime);
    },
    wakeupPreempt(rq, p) {
      if (entity(p).deadline < entity(rq.curr).deadline) rq.resched(); // dl_entity_preempt
    },
    yieldTask(rq) {
      // yield_task_dl: the job is over; it is replenished at its next period.
      const e = entity(rq.curr);
      jobEnd(rq.curr, e); // the job is over even if its budget ran out at this same instant
      if (e.throttled) return;
      e.yielded = true;
      throttle(rq, e);
    },
    taskFork() {}, // fork of a deadline task without reset-on-fork fails with EAGAIN before this
    prioChanged(rq, p) {
      // prio_changed_dl: new parameters of the running task; pull, and give way to an earlier deadline.
      if (rq.curr !== p) return;
      pull(rq);
      if (dlRq(rq).tree.first() !== entity(p).node) rq.resched();
    },
    balance(rq, prev) {
      // balance_dl: prev is off the deadline tree (blocked, throttled or yielded): earlier work may wait elsewhere.
      if (prev.sclass !== self) return; // need_pull_dl_task: prev is a deadline task
      if (!entity(prev).node.onTree || prev.cpu !== rq.cpu) pull(rq); // off this CPU's tree, or moved away (affinity)
    },
    taskWoken(rq, p) {
      // task_woken_dl: p waits here behind an earlier deadline: push what can run elsewhere now.
      const curr = rq.curr;
      if (curr === p || rq.needResched || curr.sclass !== self || !mayMigrate(p)) return;
      if (mayMigrate(curr) && entity(p).deadline < entity(curr).deadline) return;
      push(rq);
    },
    switchedToQueued(rq, p) {
      // switched_to_dl: p->nr_cpus_allowed > 1 && rq->dl.overloaded -> push_dl_tasks (need_resched not consulted).
      if (mayMigrate(p) && dlRq(rq).tree.size > 1) push(rq);
    },
    switchedFrom(rq, p) {
      // switched_from_dl: the CPU lost a deadline task; pull if it has none left.
      if (!p.onRq || dlRq(rq).tree.size !== 0) return; // no ready deadline task left (throttled ones do not count: dl_nr_running)
      if (pull(rq)) rq.resched();
    },
    nrRunning: (rq) => dlRq(rq).nr,
    selectTaskRq(p, prevCpu) {
      const rqs = kern().rqs;
      const curr = rqs[prevCpu]!.curr;
      const busy = curr.sclass === self && curr !== p && !(entity(p).deadline < entity(curr).deadline);
      if (!busy || rqs.length === 1) return prevCpu;
      let best = prevCpu;
      let latest = earliest(rqs[prevCpu]!);
      for (let i = 1; i < rqs.length; i++) {
        const c = (prevCpu + i) % rqs.length;
        if (!allowed(p, c)) continue;
        const d = rqs[c]!.curr.sclass < self ? -Infinity : earliest(rqs[c]!);
        if (d > latest) [best, latest] = [c, d];
      }
      return entity(p).deadline < latest ? best : prevCpu;
    },
  };
  return cls;
}

function panicUnattached(): never {
  throw new KernelPanic("deadline class used before attach(k)");
}

/** For tests and observers: a deadline task's CBS state. */
export function dlState(p: Task): { runtime: number; deadline: number; throttled: boolean } | null {
  const e = p.dl;
  return e instanceof DlEntity ? { runtime: e.runtime, deadline: e.deadline, throttled: e.throttled } : null;
}

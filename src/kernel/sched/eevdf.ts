/**
 * The fair class as Linux 6.6+ runs it: EEVDF, "Earliest Eligible Virtual
 * Deadline First" (Stoica & Abdel-Wahab, 1995), kernel/sched/fair.c of
 * v6.6 with the v6.8 tree layout (commit 2227a957e1d5, rbtree sorted by
 * deadline), the O(1) leftmost fast path (ee4373dc902c) and the 6.12
 * features (custom slices, PREEMPT_SHORT, delayed dequeue,
 * PLACE_REL_DEADLINE). Every feature can be switched off
 * (params.schedFeatures, "NO_DELAY_DEQUEUE" and so on).
 *
 * Theory (after the comment above avg_vruntime() in fair.c)
 * ---------------------------------------------------------
 * Every queued entity i has a weight w_i and a virtual runtime v_i, which
 * advances by delta * 1024 / w_i for delta ns of real running: heavy tasks'
 * virtual clocks run slowly. An ideal fair CPU would run all of them at once,
 * each at rate w_i / W; the queue's virtual time V is where all of them
 * would be on that ideal CPU, and it is the weighted average
 *
 *     V = sum(w_i * v_i) / W,        W = sum(w_i)      (curr included).
 *
 * The lag of i is what the ideal CPU still owes it: lag_i = w_i * (V - v_i).
 * Lags sum to zero. Entity i is *eligible* iff lag_i >= 0, i.e. v_i <= V.
 * To test that without a division, and with small numbers, the kernel keeps
 * the sums relative to a reference v0 (min_vruntime here, as in 6.6..6.18;
 * newer kernels call it zero_vruntime):
 *
 *     avg = sum(w_i * (v_i - v0)),   load = sum(w_i)
 *     eligible(i)  <=>  avg >= (v_i - v0) * load
 *
 * updated incrementally on every enqueue/dequeue of the tree and shifted
 * (avg -= load * d) when v0 moves forward by d.
 *
 * Each entity asks for a request of r_i ns (the base slice) and gets the
 * virtual deadline vd_i = v_i + r_i * 1024 / w_i: the virtual time by which
 * the ideal CPU would have served that request. pick_eevdf() runs the
 * eligible entity with the earliest virtual deadline. The tree is keyed by
 * deadline, and each node also records the minimum v in its subtree, so:
 * if the leftmost (earliest deadline) is eligible take it (O(1)); else walk
 * from the root, going left when the left subtree's min v is eligible,
 * taking the node if it is eligible, else going right (O(log n)).
 *
 * Placement (place_entity, PLACE_LAG): a task keeps its lag across a sleep.
 * On dequeue its virtual lag vlag = V - v is saved, clamped to
 * +-calc_delta_fair(max(2r, TICK_NSEC)). On enqueue it is put back at
 * v = V - vlag * (W + w) / W: joining moves V towards the newcomer, and the
 * (W + w) / W inflation makes its lag after joining equal the saved one. A
 * forked task starts with lag 0 and, with PLACE_DEADLINE_INITIAL, half a
 * request: vd = V + r * 1024 / w / 2, so it runs soon but briefly.
 *
 * Preemption: when curr's v reaches its deadline it gets a new request
 * (vd = v + r * 1024 / w) and, if it has company, a reschedule; at the tick
 * that is the only tick preemption (no minimum granularity). RUN_TO_PARITY
 * lets a picked curr keep running until that deadline even if it stops
 * being the best choice. A waking NORMAL task preempts iff pick_eevdf()
 * would choose it now; BATCH and IDLE wakees never preempt; anything that is
 * not SCHED_IDLE preempts a SCHED_IDLE curr.
 *
 * Custom slices and PREEMPT_SHORT (6.12): a fair task may ask for its own
 * request size with sched_setattr's sched_runtime (clamped to 0.1..100 ms;
 * task.fairSlice); a waking task with a shorter slice than curr's, eligible
 * and earlier (or curr not eligible), cancels curr's RUN_TO_PARITY protection
 * (do_preempt_short), and a curr whose protection is gone yields at the next
 * tick that finds it not eligible (did_preempt_short).
 *
 * Delayed dequeue (DELAY_DEQUEUE, DELAY_ZERO, 6.12): lag should not be
 * shed by sleeping. A task that blocks while not eligible (it has received
 * more than its share) is not dequeued: it stays in the tree and in V, asleep,
 * until pick_eevdf() picks it, which then dequeues it instead of running it,
 * with its lag (now >= 0) cut to 0. If it is woken before that, it simply
 * stays where it is (placed again at V only if its lag became positive).
 * Stopped, traced and dead tasks are never delayed (DEQUEUE_SPECIAL). With
 * PLACE_REL_DEADLINE a task moved to another CPU, or re-queued around a
 * parameter change, keeps its deadline relative to its vruntime instead of
 * starting a new request.
 *
 * NEXT_BUDDY (off by default, as in Linux): a waking task (not a new one,
 * not a delayed one) becomes the queue's next buddy, and the pick takes the
 * buddy while it is eligible, before pick_eevdf()'s earliest deadline:
 * latency for the wakee, not fairness (it must still be eligible).
 *
 * Simplified (docs/simplifications.md): the vlag clamp is the
 * 6.6 one. Arithmetic is exact in doubles (weights.ts), and V is an exact
 * quotient where the kernel floors it towards -infinity. While curr runs
 * alone the kernel renews its request at every tick; TaskLab skips those
 * ticks and replays the renewals when it next accounts curr's run time
 * (renewAtTicks), so the deadline is the one a ticking kernel would have.
 *
 * Tick-exact and tickless: nextCheck() returns when curr's v will reach its
 * deadline; the core wakes at the first tick at or after it.
 */
import { parseSchedFeatures, type Params } from "../param.ts";
import type { Task } from "../task/task.ts";
import { KernelPanic } from "../errno.ts";
import { DEQUEUE_SAVE, ENQUEUE_INITIAL, type SchedClass, DEQUEUE_MOVE, DEQUEUE_SLEEP, DEQUEUE_SPECIAL, DEQUEUE_DELAYED, ENQUEUE_DELAYED, ENQUEUE_RESTORE } from "./class.ts";
import { RbTree } from "./rbtree.ts";
import type { Rq } from "./rq.ts";
import {
  EPS_NS, KernelLink, SchedEntity, cfsRqOf, chargeVruntime, firstTickIn, prioChangedFair, seOf, syncWeight, tunableFactor,
  wakeupPolicyRule, type FairRq,
} from "./fair_common.ts";
import { calcDeltaFair, vdeltaToWall } from "./weights.ts";

/** Behaviour switches (kernel/sched/features.h), all on by default as in Linux. */
export interface EevdfFeatures {
  /** Keep lag across sleeps and migrations (PLACE_LAG). */
  placeLag: boolean;
  /** A forked task's first request is half a slice (PLACE_DEADLINE_INITIAL). */
  placeDeadlineInitial: boolean;
  /** A picked curr runs until its deadline unless it becomes ineligible (RUN_TO_PARITY). */
  runToParity: boolean;
  /** Wakeups may preempt (WAKEUP_PREEMPTION). */
  wakeupPreemption: boolean;
  /**
   * A waking task with a shorter slice may cancel curr's RUN_TO_PARITY
   * protection, and curr then yields as soon as it is not eligible
   * (PREEMPT_SHORT, 6.12).
   */
  preemptShort: boolean;
  /**
   * A task that goes to sleep while not eligible (negative lag) stays queued,
   * still counted in V, until it is picked (then it leaves) or woken (then it
   * simply stays) (DELAY_DEQUEUE, 6.12).
   */
  delayDequeue: boolean;
  /** A delayed task leaves, or is woken, with its positive lag cut to 0 (DELAY_ZERO, 6.12). */
  delayZero: boolean;
  /** A migration or a parameter change keeps the deadline relative to vruntime instead of issuing a new request (PLACE_REL_DEADLINE, 6.12). */
  placeRelDeadline: boolean;
  /** A waking task is picked next while it is eligible (NEXT_BUDDY; off by default, as in Linux). */
  nextBuddy: boolean;
}

export const EEVDF_FEATURES: Readonly<EevdfFeatures> = Object.freeze({
  placeLag: true,
  placeDeadlineInitial: true,
  runToParity: true,
  wakeupPreemption: true,
  preemptShort: true,
  delayDequeue: true,
  delayZero: true,
  placeRelDeadline: true,
  nextBuddy: false,
});

/** struct cfs_rq with the EEVDF sums. */
export interface EevdfRq extends FairRq {
  /** sum of w_i * (v_i - minVruntime) over the tree (cfs_rq->avg_vruntime). */
  avgVruntime: number;
  /** sum of w_i over the tree (cfs_rq->avg_load). */
  avgLoad: number;
  /** Entities among nrRunning that are asleep, their dequeue delayed (h_nr_delayed). */
  nrDelayed: number;
  /** The next buddy (cfs_rq->next): a wakee to pick first while eligible, with NEXT_BUDDY. */
  next: SchedEntity | null;
}

/** Tree order: earlier virtual deadline first; equal deadlines FIFO. */
const byDeadline = (se: SchedEntity): number => se.deadline;

/** Augment: each node keeps the smallest vruntime in its subtree (se->min_vruntime). */
const ownVruntime = (se: SchedEntity): number => se.vruntime;

export function newEevdfRq(): EevdfRq {
  return {
    tree: new RbTree<SchedEntity>(byDeadline, ownVruntime),
    curr: null, nrRunning: 0, load: 0, minVruntime: 0, avgVruntime: 0, avgLoad: 0, nrDelayed: 0, next: null,
  };
}

// ---- the weighted average V -------------------------------------------------

/** The weighted sum avg, including curr if it is queued (no allocation: this runs per tree node). */
function sumAvg(cfs: EevdfRq): number {
  const c = cfs.curr;
  return c !== null && c.onRq ? cfs.avgVruntime + (c.vruntime - cfs.minVruntime) * c.weight : cfs.avgVruntime;
}

/** The total load, including curr if it is queued. */
function sumLoad(cfs: EevdfRq): number {
  const c = cfs.curr;
  return c !== null && c.onRq ? cfs.avgLoad + c.weight : cfs.avgLoad;
}

/** avg_vruntime(): V, the load-weighted average vruntime (min_vruntime if empty). */
export function avgVruntime(cfs: EevdfRq): number {
  const load = sumLoad(cfs);
  return load > 0 ? cfs.minVruntime + sumAvg(cfs) / load : cfs.minVruntime;
}

/** vruntime_eligible(): v <= V, without a division. */
function vruntimeEligible(cfs: EevdfRq, v: number): boolean {
  return sumAvg(cfs) >= (v - cfs.minVruntime) * sumLoad(cfs);
}

export function entityEligible(cfs: EevdfRq, se: SchedEntity): boolean {
  return vruntimeEligible(cfs, se.vruntime);
}

/** __enqueue_entity: into the tree and the sums. */
export function enqueueTree(cfs: EevdfRq, se: SchedEntity): void {
  cfs.avgVruntime += (se.vruntime - cfs.minVruntime) * se.weight;
  cfs.avgLoad += se.weight;
  cfs.tree.insert(se.node);
}

/** __dequeue_entity: out of the tree and the sums. */
export function dequeueTree(cfs: EevdfRq, se: SchedEntity): void {
  cfs.tree.erase(se.node);
  cfs.avgLoad -= se.weight;
  if (cfs.tree.size === 0) cfs.avgVruntime = cfs.avgLoad = 0; // drop rounding residue
  else cfs.avgVruntime -= (se.vruntime - cfs.minVruntime) * se.weight;
}

/**
 * update_min_vruntime(): v0 follows the smallest vruntime on the queue
 * (curr and the tree root's subtree minimum), never backwards; the sums
 * are rebased as it moves.
 */
export function updateMinVruntime(cfs: EevdfRq): void {
  const root = cfs.tree.root;
  const c = cfs.curr !== null && cfs.curr.onRq ? cfs.curr : null;
  let v = c !== null ? c.vruntime : cfs.minVruntime;
  if (root !== null) v = c !== null ? Math.min(v, root.aug) : root.aug;
  const d = v - cfs.minVruntime;
  if (d > 0) {
    cfs.avgVruntime -= cfs.avgLoad * d;
    cfs.minVruntime = v;
  }
}

// ---- the algorithm, on entities ----------------------------------------------

/** The EEVDF machinery of one class instance (its tunables and features). */
class Eevdf {
  constructor(
    readonly baseSlice: number,
    readonly tickNs: number,
    readonly feat: EevdfFeatures,
  ) {}

  /** update_entity_lag(): save V - v, clamped, while se is still counted in V. */
  updateEntityLag(cfs: EevdfRq, se: SchedEntity): void {
    const limit = calcDeltaFair(Math.max(2 * se.slice, this.tickNs), se.weight);
    const lag = avgVruntime(cfs) - se.vruntime;
    se.vlag = Math.max(-limit, Math.min(limit, lag));
  }

  /** The request size: the task's own (custom_slice) or the base slice. */
  sliceOf(se: SchedEntity): number {
    const own = se.task.fairSlice;
    return own > 0 ? own : this.baseSlice;
  }

  /** place_entity(): v from V and the saved lag; a fresh request and deadline. */
  placeEntity(cfs: EevdfRq, se: SchedEntity, flags: number): void {
    const V = avgVruntime(cfs);
    se.slice = this.sliceOf(se);
    let vslice = calcDeltaFair(se.slice, se.weight);
    let lag = 0;
    if (this.feat.placeLag && cfs.nrRunning > 0) {
      const c = cfs.curr;
      const load = cfs.avgLoad + (c !== null && c.onRq ? c.weight : 0);
      if (load > 0) lag = (se.vlag * (load + se.weight)) / load;
    }
    se.vruntime = V - lag;
    if (se.relDeadline) {
      se.deadline += se.vruntime; // PLACE_REL_DEADLINE: the request it had, moved with it
      se.relDeadline = false;
      return;
    }
    if (this.feat.placeDeadlineInitial && flags & ENQUEUE_INITIAL) vslice /= 2;
    se.deadline = se.vruntime + vslice;
  }

  /** update_deadline(): once v reaches vd the request is served; issue a new one. True if it did. */
  updateDeadline(se: SchedEntity): boolean {
    if (vdeltaToWall(se.deadline - se.vruntime, se.weight) > EPS_NS) return false;
    se.slice = this.sliceOf(se);
    se.deadline = se.vruntime + calcDeltaFair(se.slice, se.weight);
    return true;
  }
}

/**
 * pick_eevdf(): the eligible entity with the earliest virtual deadline,
 * curr included if queued; with RUN_TO_PARITY a curr still on the request it
 * was picked for keeps the CPU while eligible.
 */
export function pickEevdf(cfs: EevdfRq, runToParity = true): SchedEntity | null {
  const first = cfs.tree.first();
  let curr = cfs.curr;
  if (cfs.nrRunning === 1) return curr !== null && curr.onRq ? curr : (first?.value ?? null);
  if (curr !== null && (!curr.onRq || !entityEligible(cfs, curr))) curr = null;
  if (runToParity && curr !== null && curr.pickDeadline === curr.deadline) return curr;
  let best: SchedEntity | null = null;
  if (first !== null && vruntimeEligible(cfs, first.sub)) best = first.value; // O(1) fast path (sub: its vruntime)
  else best = heapSearch(cfs);
  if (best === null || (curr !== null && curr.deadline < best.deadline)) best = curr;
  // Rounding can in principle leave nobody eligible; 6.6 then falls back to the leftmost.
  return best ?? first?.value ?? cfs.curr;
}

/**
 * The O(log n) search: the earliest-deadline entity among those with v <= V.
 * Eligible entities in a left subtree always beat the node (earlier deadlines),
 * and a subtree whose minimum v is not eligible holds nobody eligible.
 */
export function heapSearch(cfs: EevdfRq): SchedEntity | null {
  // vruntimeEligible() with the sums read once: they do not change during the search
  const avg = sumAvg(cfs);
  const load = sumLoad(cfs);
  const v0 = cfs.minVruntime;
  let node = cfs.tree.root;
  while (node !== null) {
    const left = node.left;
    if (left !== null && avg >= (left.aug - v0) * load) {
      node = left;
      continue;
    }
    if (avg >= (node.sub - v0) * load) return node.value; // sub: the node's own vruntime
    node = node.right;
  }
  return null;
}

// ---- the class ----------------------------------------------------------------

/** The feature switches params.schedFeatures names (PLACE_LAG -> placeLag, ...). */
function featuresFromParams(params: Params): Partial<EevdfFeatures> {
  const out: Partial<EevdfFeatures> = {};
  for (const [name, on] of parseSchedFeatures(params.schedFeatures ?? "")) {
    const key = name.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof EevdfFeatures;
    out[key] = on;
  }
  return out;
}

/**
 * The EEVDF fair class for SCHED_NORMAL, SCHED_BATCH and SCHED_IDLE.
 * Base slice = params.baseSlice x the tunable-scaling factor.
 *
 * @example
 * const classes = [eevdfClass(params), idleClass];
 */
export function eevdfClass(params: Params, features: Partial<EevdfFeatures> = {}): SchedClass {
  const feat = { ...EEVDF_FEATURES, ...featuresFromParams(params), ...features };
  const e = new Eevdf(params.baseSlice * tunableFactor(params), Math.round(1e9 / params.hz), feat);
  const link = new KernelLink();
  const q = (rq: Rq): EevdfRq => cfsRqOf<EevdfRq>(rq);

  /**
   * update_curr() as the fair hooks call it: account, then check curr's
   * request. `resched` is false when curr itself is leaving (a switch follows anyway).
   */
  function updateCurrFair(rq: Rq, resched = true): void {
    link.sync(rq);
    const cfs = q(rq);
    const c = cfs.curr;
    if (c !== null && c.onRq && (e.updateDeadline(c) || didPreemptShort(cfs, c)) && resched && cfs.nrRunning > 1) rq.resched();
  }

  /** did_preempt_short(): curr's slice protection was cancelled and it is no longer eligible. */
  function didPreemptShort(cfs: EevdfRq, c: SchedEntity): boolean {
    return feat.preemptShort && c.pickDeadline !== c.deadline && !entityEligible(cfs, c);
  }

  /** do_preempt_short(): the wakee asks for a shorter slice, is eligible, and is earlier or curr is not eligible. */
  function doPreemptShort(cfs: EevdfRq, pse: SchedEntity, se: SchedEntity): boolean {
    if (!feat.preemptShort || pse.slice >= se.slice || !entityEligible(cfs, pse)) return false;
    return pse.deadline < se.deadline || !entityEligible(cfs, se);
  }

  /** Completes p's delayed dequeue (DEQUEUE_SLEEP | DEQUEUE_DELAYED). */
  function finishDelayed(rq: Rq, p: Task): void {
    classHooks.dequeueTask(rq, p, DEQUEUE_SLEEP | DEQUEUE_DELAYED);
  }

  /**
   * requeue_delayed_entity(): a delayed task is woken. It keeps its place in
   * the queue; with DELAY_ZERO a positive lag is dropped by placing it again at V.
   */
  function requeueDelayed(rq: Rq, cfs: EevdfRq, se: SchedEntity): void {
    if (!se.delayed || !se.onRq) throw new KernelPanic(`eevdf: wakeup of pid ${se.task.pid} as delayed, but it is not`);
    if (feat.delayZero) {
      e.updateEntityLag(cfs, se);
      if (se.vlag > 0) {
        cfs.nrRunning--;
        if (cfs.curr !== se) dequeueTree(cfs, se);
        se.vlag = 0;
        e.placeEntity(cfs, se, 0);
        if (cfs.curr !== se) enqueueTree(cfs, se);
        cfs.nrRunning++;
      }
    }
    se.delayed = false;
    cfs.nrDelayed--;
    rq.classDelayed[se.task.sclass]!--;
  }

  function wakeupPreempt(rq: Rq, p: Task, flags = 0): void {
    const curr = rq.curr;
    if (curr === p) return;
    // NEXT_BUDDY: set before the need_resched and policy checks, as check_preempt_wakeup_fair does
    const pse = seOf(p);
    if (feat.nextBuddy && !(flags & ENQUEUE_INITIAL) && !pse.delayed && pse.onRq && pse.home === q(rq)) q(rq).next = pse;
    if (rq.needResched || seOf(curr) !== q(rq).curr) return;
    const rule = wakeupPolicyRule(curr, p);
    if (rule === "preempt") return rq.resched();
    if (rule === "never" || !feat.wakeupPreemption) return;
    updateCurrFair(rq);
    if (rq.needResched) return;
    const cfs = q(rq);
    if (doPreemptShort(cfs, seOf(p), seOf(curr))) seOf(curr).pickDeadline = NaN; // cancel_protect_slice
    if (pickEevdf(cfs, feat.runToParity) === seOf(p)) rq.resched();
  }

  const classHooks: SchedClass = {
    name: "eevdf",
    policies: [0, 3, 5],
    attach(k) {
      link.k = k;
    },
    initRq(rq) {
      rq.cfs = newEevdfRq();
    },
    initTask(_rq, p) {
      const se = new SchedEntity(p); // vlag 0, as __sched_fork leaves it
      se.slice = e.sliceOf(se);
      p.se = se;
    },
    switchedTo(rq, p) {
      // Back from another class: the entity keeps the lag (and relative deadline) it left with, as
      // dequeue_entity saved them; place_entity uses them at the enqueue that follows or at its wakeup.
      if (!(p.se instanceof SchedEntity)) classHooks.initTask(rq, p);
    },
    enqueueTask(rq, p, flags) {
      // requeue_delayed_entity() makes no update_curr, so no reschedule either: only the accounting, which
      // keeps the lag exact (TaskLab's curr may not have been accounted since several ticks: tickless)
      updateCurrFair(rq, (flags & ENQUEUE_DELAYED) === 0);
      const cfs = q(rq);
      const se = seOf(p);
      if (flags & ENQUEUE_DELAYED) return requeueDelayed(rq, cfs, se);
      // A delayed task comes back from a parameter change still delayed (ENQUEUE_RESTORE), placed by its lag.
      if (se.delayed && (se.onRq || !(flags & ENQUEUE_RESTORE))) throw new KernelPanic(`eevdf: enqueue of pid ${p.pid}, still queued (delayed)`);
      const old = syncWeight(se);
      if (old !== 0) {
        // reweight_entity off the queue keeps w * vlag, and w * a relative deadline
        se.vlag = (se.vlag * old) / se.weight;
        if (se.relDeadline) se.deadline = (se.deadline * old) / se.weight;
      }
      e.placeEntity(cfs, se, flags);
      cfs.nrRunning++;
      cfs.load += se.weight;
      se.onRq = true;
      se.home = cfs;
      if (cfs.curr !== se) enqueueTree(cfs, se);
    },
    dequeueTask(rq, p, flags) {
      const cfs = q(rq);
      const se = seOf(p);
      updateCurrFair(rq, cfs.curr !== se || (flags & DEQUEUE_SLEEP) === 0); // curr going to sleep: a switch follows anyway
      if (!se.onRq) throw new KernelPanic(`eevdf: dequeue of pid ${p.pid}, not queued`);
      if (cfs.next === se) cfs.next = null; // dequeue_entity: clear_buddies, before the delay decision
      const sleep = (flags & DEQUEUE_SLEEP) !== 0;
      if (flags & DEQUEUE_DELAYED) {
        if (!se.delayed) throw new KernelPanic(`eevdf: delayed dequeue of pid ${p.pid}, not delayed`);
      } else {
        // A parameter change takes a delayed task off the queue and back (DEQUEUE_SAVE): it stays delayed.
        if (se.delayed && !(flags & DEQUEUE_SAVE)) throw new KernelPanic(`eevdf: dequeue of pid ${p.pid}, asleep (delayed)`);
        if (feat.delayDequeue && sleep && !(flags & DEQUEUE_SPECIAL) && !entityEligible(cfs, se)) {
          // DELAY_DEQUEUE: it keeps competing, still counted in V, until it is picked or woken.
          se.delayed = true;
          cfs.nrDelayed++;
          rq.classDelayed[p.sclass]!++;
          return false;
        }
      }
      e.updateEntityLag(cfs, se);
      if (feat.placeRelDeadline && !sleep) {
        se.deadline -= se.vruntime; // a migration or a parameter change keeps the request
        se.relDeadline = true;
      }
      if (cfs.curr !== se) dequeueTree(cfs, se);
      se.onRq = false;
      cfs.nrRunning--;
      cfs.load -= se.weight;
      if ((flags & (DEQUEUE_SAVE | DEQUEUE_MOVE)) !== DEQUEUE_SAVE) updateMinVruntime(cfs);
      if (flags & DEQUEUE_DELAYED) {
        // finish_delayed_dequeue_entity()
        se.delayed = false;
        cfs.nrDelayed--;
        rq.classDelayed[p.sclass]!--;
        if (feat.delayZero && se.vlag > 0) se.vlag = 0;
      }
      return true;
    },
    pickTask(rq) {
      const cfs = q(rq);
      // pick_next_entity: the next buddy first while it is eligible (never a delayed one)
      const nb = cfs.next;
      if (feat.nextBuddy && nb !== null && nb.onRq && !nb.delayed && entityEligible(cfs, nb)) return nb.task;
      for (;;) {
        const se = pickEevdf(cfs, feat.runToParity);
        if (se === null) return null;
        if (!se.delayed) return se.task;
        finishDelayed(rq, se.task); // pick_next_entity: a delayed task that is picked leaves instead of running
      }
    },
    putPrevTask(rq, prev) {
      const cfs = q(rq);
      const se = seOf(prev);
      if (se.onRq) {
        e.updateDeadline(se); // put_prev_entity's update_curr; schedule() is already under way
        if (!se.node.onTree) enqueueTree(cfs, se);
      }
      cfs.curr = null;
    },
    setNextTask(rq, p) {
      const cfs = q(rq);
      const se = seOf(p);
      if (se.node.onTree) dequeueTree(cfs, se);
      if (cfs.next === se) cfs.next = null; // set_next_entity: clear_buddies
      se.pickDeadline = se.deadline; // RUN_TO_PARITY (6.6 stashes it in se->vlag)
      se.prevSumExecRuntime = p.sumExecRuntime;
      cfs.curr = se;
    },
    updateCurr(rq, curr, delta) {
      const se = seOf(curr);
      if (se.node.onTree) throw new KernelPanic(`eevdf: pid ${curr.pid} runs while in the tree`);
      const cfs = q(rq);
      const end = curr.execStart;
      let from = end - delta;
      // The ticks skipped inside this run, as a ticking kernel took them (see firstTickIn): update_curr,
      // then the tick's update_deadline. A lone task renews its request there; with company the core
      // woke at the tick where the deadline is reached, so none is renewed here.
      for (let t = firstTickIn(from, end, e.tickNs, rq.lastTick); t !== -1; t = t + e.tickNs < end ? t + e.tickNs : -1) {
        chargeVruntime(se, t - from);
        from = t;
        updateMinVruntime(cfs);
        if (se.onRq) e.updateDeadline(se);
      }
      chargeVruntime(se, end - from);
      updateMinVruntime(cfs);
    },
    taskTick(rq, curr) {
      const cfs = q(rq);
      const se = seOf(curr);
      if ((e.updateDeadline(se) || didPreemptShort(cfs, se)) && cfs.nrRunning > 1) rq.resched();
    },
    nextCheck(rq, curr) {
      if (q(rq).nrRunning <= 1) return Infinity;
      const se = seOf(curr);
      // Protection cancelled by a shorter slice (PREEMPT_SHORT): every tick may find curr ineligible.
      if (feat.preemptShort && se.pickDeadline !== se.deadline) return curr.execStart;
      const wall = vdeltaToWall(se.deadline - se.vruntime, se.weight);
      return curr.execStart + (wall <= EPS_NS ? 0 : Math.ceil(wall - EPS_NS / 2));
    },
    wakeupPreempt,
    yieldTask(rq) {
      const curr = rq.curr;
      if (rq.nrRunning + q(rq).nrDelayed === 1 || seOf(curr) !== q(rq).curr) return; // rq->nr_running counts delayed tasks
      updateCurrFair(rq);
      const se = seOf(curr);
      if (q(rq).next === se) q(rq).next = null; // yield_task_fair: clear_buddies
      se.deadline += calcDeltaFair(se.slice, se.weight);
    },
    taskFork(rq) {
      updateCurrFair(rq); // placement happens at the first enqueue (ENQUEUE_INITIAL)
    },
    prioChanged(rq, p, oldPrio) {
      prioChangedFair(rq, p, oldPrio, q(rq).nrRunning, () => wakeupPreempt(rq, p));
    },
    nrRunning: (rq) => q(rq).nrRunning - q(rq).nrDelayed,
    canMigrate: () => true, // the generic balancer moves fair tasks, as load_balance does
    delayed: (p) => (p.se as SchedEntity | null)?.delayed === true,
    finishDelayed,
  };
  return classHooks;
}

/**
 * What the two fair-class algorithms (eevdf.ts, cfs.ts) share: the scheduling
 * entity (struct sched_entity, in task.se), the per-CPU fair runqueue
 * (struct cfs_rq, in rq.cfs), the CPU scaling of the tunables, and the
 * policy rules of wakeup preemption that both kernels apply before their own
 * test (SCHED_IDLE is preempted by anything else; BATCH and IDLE never
 * preempt on wakeup).
 *
 * As in Linux, the running entity (cfs_rq.curr) is kept out of the tree:
 * setNextTask takes it out, putPrevTask puts it back if it is still queued.
 * `se.onRq` is the class's own "queued" flag; the core's task.onRq can stay
 * true across a DEQUEUE_SAVE / ENQUEUE_RESTORE pair, the entity's cannot.
 *
 * Simplified: no group scheduling (one cfs_rq per CPU, task entities only),
 * no PELT load tracking, no bandwidth control.
 */
import type { Kernel } from "../kernel.ts";
import type { Params } from "../param.ts";
import { SCHED_IDLE, SCHED_NORMAL, type Task } from "../task/task.ts";
import { RbNode, type RbTree } from "./rbtree.ts";
import type { Rq } from "./rq.ts";
import { calcDeltaFair, weightOf } from "./weights.ts";
import { updateCurr as coreUpdateCurr, catchUpToTick as coreCatchUpToTick } from "./core.ts";

/**
 * struct sched_entity: a task's fair-class state (task.se). The entity is its
 * own tree node (the kernel embeds rb_node in sched_entity): a pick that
 * walks the tree lands on the entity itself, with no further object to load.
 */
export class SchedEntity extends RbNode<SchedEntity> {
  /** load.weight on the 1024 scale (see weights.ts). */
  weight: number;
  /** Virtual runtime in virtual ns (non-integer: see weights.ts on rounding). */
  vruntime = 0;
  /** EEVDF virtual deadline vd = v + r * 1024 / w. */
  deadline = 0;
  /** EEVDF request size r (se->slice), wall-clock ns. */
  slice = 0;
  /** EEVDF saved virtual lag V - v, set on dequeue, used on the next placement. */
  vlag = 0;
  /** EEVDF RUN_TO_PARITY: the deadline it had when picked (6.6 stashes it in vlag). */
  pickDeadline = NaN;
  /** Queued on a fair runqueue, running included (se->on_rq). */
  onRq = false;
  /** task.sumExecRuntime when it was last picked (prev_sum_exec_runtime). */
  prevSumExecRuntime = 0;
  /** The fair runqueue it is queued on, or last left (CFS renormalises against it on migration). */
  home: FairRq | null = null;
  /** Flag bits (one field: a sleeping task's memory is counted), read through delayed / relDeadline / relVruntime. */
  private eevdfBits = 0;

  constructor(readonly task: Task) {
    super(null as unknown as SchedEntity); // the node's owner is the entity itself, set once it exists
    this.value = this;
    this.weight = weightOf(task);
  }

  /** Link in the runqueue's tree (rb_node); linked only while queued and not running. */
  get node(): RbNode<SchedEntity> {
    return this;
  }

  /** EEVDF DELAY_DEQUEUE: asleep but still queued, until picked or woken (se->sched_delayed). */
  get delayed(): boolean {
    return (this.eevdfBits & 1) !== 0;
  }
  set delayed(v: boolean) {
    this.eevdfBits = v ? this.eevdfBits | 1 : this.eevdfBits & ~1;
  }
  /** EEVDF PLACE_REL_DEADLINE: `deadline` holds deadline - vruntime until the next placement (se->rel_deadline). */
  get relDeadline(): boolean {
    return (this.eevdfBits & 2) !== 0;
  }
  set relDeadline(v: boolean) {
    this.eevdfBits = v ? this.eevdfBits | 2 : this.eevdfBits & ~2;
  }
  /** CFS: `vruntime` is relative to a queue's min_vruntime (dequeued without sleeping, or normalised on leaving the class). */
  get relVruntime(): boolean {
    return (this.eevdfBits & 4) !== 0;
  }
  set relVruntime(v: boolean) {
    this.eevdfBits = v ? this.eevdfBits | 4 : this.eevdfBits & ~4;
  }
}

/** struct cfs_rq: the per-CPU fair queue (rq.cfs). */
export interface FairRq {
  /** Queued entities other than curr. */
  readonly tree: RbTree<SchedEntity>;
  /** The running fair entity (cfs_rq->curr), or null. */
  curr: SchedEntity | null;
  /** Entities with onRq, curr included (cfs_rq->nr_running). */
  nrRunning: number;
  /** Sum of their weights (cfs_rq->load.weight). */
  load: number;
  /** Monotonic floor of vruntime on this queue (cfs_rq->min_vruntime). */
  minVruntime: number;
  /** The CPU this queue belongs to (set by initRq; -1 in a bare queue). */
  cpu?: number;
}

/** task.se, created by initTask. */
export function seOf(p: Task): SchedEntity {
  return p.se as SchedEntity;
}

/** rq.cfs, created by initRq. */
export function cfsRqOf<T extends FairRq>(rq: Rq): T {
  return rq.cfs as T;
}

/**
 * get_update_sysctl_factor(): how the fair tunables scale with the CPU count
 * (sysctl_sched_tunable_scaling): 0 none (x1), 1 log (1 + ilog2(min(cpus, 8))),
 * 2 linear (x min(cpus, 8)).
 */
export function tunableFactor(p: Params): number {
  if (p.tunableScaling === 0) return 1;
  if (p.tunableScaling === 2) return Math.min(p.cpus, 8);
  return 1 + Math.floor(Math.log2(Math.min(p.cpus, 8))); // = presets.cpuFactor, not imported to avoid an import cycle
}

/** Sub-nanosecond noise of double arithmetic: wall-time remainders below this count as zero. */
export const EPS_NS = 1e-3;

/**
 * Time-independent policy rules of check_preempt_wakeup (both CFS and EEVDF):
 * "preempt" when curr is SCHED_IDLE and the wakee is not; "never" when the
 * wakee is BATCH or IDLE ("their preemption is driven by the tick"); else
 * "compare": the algorithm's own test decides.
 */
export function wakeupPolicyRule(curr: Task, p: Task): "preempt" | "never" | "compare" {
  if (curr.policy === SCHED_IDLE && p.policy !== SCHED_IDLE) return "preempt";
  if (p.policy !== SCHED_NORMAL) return "never";
  return "compare";
}

/** Advances curr's vruntime by `delta` wall-clock ns (the heart of update_curr). */
export function chargeVruntime(se: SchedEntity, delta: number): void {
  se.vruntime += calcDeltaFair(delta, se.weight);
}

/**
 * The first tick boundary, at or after `start` and before `end`, that this
 * CPU has not taken yet (after `lastTick`), or -1; the next ones follow every
 * `tickNs` while before `end`. These are the ticks a ticking kernel took
 * while curr ran from `start` to `end` and TaskLab skipped (tickless): at each,
 * update_curr charged the run so far, and double arithmetic rounds every
 * addition, so charging 12 ms in one step and in three 4 ms steps can differ
 * in the last bits. The fair classes therefore charge such a run piece by
 * piece and do at each skipped tick what the tick would have done. A tick at
 * `start` itself is skipped too if nothing took it: the run's accounting
 * point was a wakeup or another CPU's event, not this CPU's tick. With this,
 * waking at every tick and waking only when asked give bit-identical
 * vruntimes.
 */
export function firstTickIn(start: number, end: number, tickNs: number, lastTick: number): number {
  let t = Math.ceil(start / tickNs) * tickNs;
  if (t <= lastTick) t = lastTick + tickNs;
  return t < end ? t : -1;
}

/**
 * Picks up a weight change (nice, policy) made while the entity was off the
 * queue. Returns the old weight, or 0 if unchanged.
 */
export function syncWeight(se: SchedEntity): number {
  const w = weightOf(se.task);
  if (w === se.weight) return 0;
  const old = se.weight;
  se.weight = w;
  return old;
}

/**
 * Hands the class the kernel (attach) and a way to bring rq.curr's accounting
 * up to now, as Linux's fair hooks start with update_curr(). Before attach
 * (unit tests of a bare class) it does nothing.
 */
export class KernelLink {
  k: Kernel | null = null;

  /** Charges rq.curr its run time up to now (core updateCurr -> class updateCurr). */
  sync(rq: Rq): void {
    if (this.k) coreUpdateCurr(this.k, rq);
  }

  /** Brings CPU `cpu`'s accounting up to its last tick, as a ticking kernel has it (core catchUpToTick). */
  catchUp(cpu: number): void {
    if (this.k) coreCatchUpToTick(this.k, this.k.rqs[cpu]!);
  }
}

/**
 * prio_changed_fair(): after a nice or policy change of a queued task. A
 * running task that lost priority gives up the CPU; a queued one gets a
 * wakeup-preemption check.
 */
export function prioChangedFair(rq: Rq, p: Task, oldPrio: number, nrRunning: number, checkWakeup: () => void): void {
  if (!seOf(p).onRq || nrRunning === 1) return;
  if (rq.curr === p) {
    if (p.prio > oldPrio) rq.resched();
  } else checkWakeup();
}

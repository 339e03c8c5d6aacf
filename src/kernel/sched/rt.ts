/**
 * The realtime class: SCHED_FIFO and SCHED_RR (kernel/sched/rt.c).
 *
 * Models: the rt.c of Linux 5.x and 6.x up to 6.11, with classic rt_bandwidth
 * throttling. Linux 6.12 and later protect fair tasks with the per-CPU
 * "fair_server" deadline server instead (50 ms every 1000 ms, deferred), and
 * compile rt_rq throttling only with CONFIG_RT_GROUP_SCHED. TaskLab keeps the
 * classic mechanism for every preset: it is the one sched_rt_runtime_us and
 * sched_rt_period_us describe, and the one most documentation explains.
 *
 * Rules kept:
 *  - Priority array: one FIFO list per kernel prio 0..99 (prio = 99 - rtprio)
 *    and a bitmap of non-empty lists whose bit MAX_RT_PRIO is always set as a
 *    delimiter; pick = head of the list of the first set bit.
 *  - The running task stays on its list, as in Linux. So a preempted task keeps
 *    its place at the head, a woken or migrated task goes to the tail, and
 *    sched_yield moves curr to the tail (no fresh RR slice: mainline
 *    yield_task_rt only requeues).
 *  - SCHED_RR: the quantum is counted in ticks (jiffies), decremented by every
 *    tick that finds the task running; at zero it is refilled and the task
 *    goes to the tail if it is not alone on its list. RR_TIMESLICE = 100 ms.
 *  - A priority change through the syscalls: raised -> tail of the new list,
 *    lowered -> head, unchanged -> the syscall does not requeue at all.
 *  - Wakeup preemption iff the woken task's prio is numerically smaller.
 *  - Throttling (sched_rt_runtime_exceeded, do_sched_rt_period_timer): RT time
 *    on a CPU (rt_time) counts up while RT (and deadline) tasks run; once it
 *    exceeds rtRuntime the CPU's RT queue is throttled and has nothing to pick;
 *    at each period boundary rt_time -= rtRuntime (not below 0) and the queue
 *    unthrottles when rt_time < rtRuntime. Off when rtRuntime is -1 (or 0, or
 *    >= rtPeriod, as in the kernel's checks).
 *
 * Simplified:
 *  - Periods are aligned to multiples of rtPeriod from boot rather than to the
 *    first RT enqueue. Each CPU keeps its own budget (no RT_RUNTIME_SHARE
 *    borrowing), no cgroups (RT_GROUP_SCHED), no RLIMIT_RTTIME watchdog.
 *  - SMP: wakeup placement follows select_task_rq_rt and cpupri (lowest
 *    priority CPU when the previous one runs an RT task of higher or equal
 *    priority). After each pick of an RT task, and after a wakeup that cannot
 *    preempt (task_woken_rt), queued RT tasks are pushed to CPUs where they
 *    would run at once (push_rt_tasks). When
 *    a CPU's RT work gets worse (an RT task there blocks, lowers its
 *    priority, or was the last one and leaves the class), it pulls the most
 *    important queued RT task it may run from CPUs with two or more
 *    (balance_rt, prio_changed_rt, switched_from_rt -> pull_rt_task),
 *    scanning every CPU rather than the rto_mask.
 */
import { Prio, type Timer } from "../../sim/engine.ts";
import type { Kernel } from "../kernel.ts";
import type { Params } from "../param.ts";
import { KernelPanic } from "../errno.ts";
import { SCHED_FIFO, SCHED_RR, type Task } from "../task/task.ts";
import { DEQUEUE_MIGRATING, DEQUEUE_MOVE, DEQUEUE_SAVE, ENQUEUE_HEAD, ENQUEUE_MIGRATED, ENQUEUE_MOVE, ENQUEUE_RESTORE, type SchedClass } from "./class.ts";
import { activateTask, allowed, checkPreempt, deactivateTask, mayMigrate, setTaskCpu } from "./core.ts";
import type { Rq } from "./rq.ts";

/** Kernel prio 0..99 are realtime. */
export const MAX_RT_PRIO = 100;
/** sched_get_priority_min/max for SCHED_FIFO and SCHED_RR. */
export const MIN_USER_RT_PRIO = 1, MAX_USER_RT_PRIO = 99;

/** task.rt (struct sched_rt_entity). */
export interface RtEntity {
  /** RR quantum left, in ticks. */
  timeSlice: number;
  /** The kernel prio of the list the task is (or was last) on; a restore compares it with the new prio. */
  listPrio: number;
  /** Its place in that list when a parameter change took it off without DEQUEUE_MOVE, else -1. */
  savedPos: number;
}

/** RT bandwidth (struct rt_bandwidth), or null when throttling is off. */
interface RtBandwidth {
  period: number;
  runtime: number;
}

/** rq.rt (struct rt_rq): the priority array and the CPU's RT time. */
export class RtRq {
  readonly queue: Task[][] = Array.from({ length: MAX_RT_PRIO }, () => []);
  /** Bit i set iff queue[i] is non-empty; bit MAX_RT_PRIO is the delimiter, always set. */
  readonly bitmap = new Uint32Array(4);
  /** RT tasks on this CPU, curr included. */
  nr = 0;
  /** RT (and deadline) run time charged in the current period. */
  rtTime = 0;
  /** End of the current bandwidth period. */
  periodEnd: number;
  throttled = false;
  /** Fires at the period boundary while throttled (sched_rt_period_timer). */
  timer: Timer | null = null;
  constructor(readonly bw: RtBandwidth | null) {
    this.periodEnd = bw ? bw.period : Infinity;
    setBit(this.bitmap, MAX_RT_PRIO);
  }
  /** Kernel prio of the most important queued task, MAX_RT_PRIO if none (sched_find_first_bit). */
  highest(): number {
    return firstSet(this.bitmap);
  }
}

const rtRq = (rq: Rq): RtRq => rq.rt as RtRq;
const entity = (p: Task): RtEntity => p.rt as RtEntity;

function setBit(bm: Uint32Array, i: number): void {
  bm[i >> 5]! |= 1 << (i & 31);
}
function clearBit(bm: Uint32Array, i: number): void {
  bm[i >> 5]! &= ~(1 << (i & 31));
}
/** Index of the lowest set bit: one count-leading-zeros per word. */
function firstSet(bm: Uint32Array): number {
  for (let i = 0; i < bm.length; i++) {
    const w = bm[i]!;
    if (w !== 0) return i * 32 + (31 - Math.clz32(w & -w));
  }
  return bm.length * 32;
}

/** RR_TIMESLICE in ticks: msecs_to_jiffies(sched_rr_timeslice_ms) rounds up. */
export function rrTimesliceTicks(p: Params): number {
  return Math.max(1, Math.ceil((p.rrTimeslice * p.hz) / 1e9 - 1e-9));
}

/** The RR quantum sched_rr_get_interval reports, ns: whole ticks of TICK_NSEC (jiffies_to_timespec64). */
export function rrIntervalNs(p: Params): number {
  return rrTimesliceTicks(p) * Math.round(1e9 / p.hz);
}

function bandwidthOf(p: Params): RtBandwidth | null {
  if (p.rtRuntime <= 0 || p.rtRuntime >= p.rtPeriod) return null; // RUNTIME_INF, or nothing to enforce
  return { period: p.rtPeriod, runtime: p.rtRuntime };
}

/** Period boundaries passed by `now`: rt_time -= runtime per period (do_sched_rt_period_timer). */
/** The bandwidth state catchUp and charge update (an RtRq, or an observer's copy of one). */
interface RtBudget {
  rtTime: number;
  periodEnd: number;
  throttled: boolean;
}

function catchUp(rt: RtBudget, bw: RtBandwidth, now: number): void {
  if (now < rt.periodEnd) return;
  const n = Math.floor((now - rt.periodEnd) / bw.period) + 1;
  rt.periodEnd += n * bw.period;
  rt.rtTime -= Math.min(rt.rtTime, n * bw.runtime);
  if (rt.throttled && rt.rtTime < bw.runtime) rt.throttled = false;
}

/** Adds run time [start, end] to rt_time, splitting it at period boundaries. */
function charge(rt: RtBudget, bw: RtBandwidth, start: number, end: number): void {
  catchUp(rt, bw, start);
  while (end > rt.periodEnd) {
    rt.rtTime += rt.periodEnd - start;
    start = rt.periodEnd;
    catchUp(rt, bw, start);
  }
  rt.rtTime += end - start;
}

/**
 * Charges time a deadline task ran to this CPU's RT bandwidth, as update_curr_dl
 * does (RT and deadline share it). A no-op without an RT class or throttling.
 */
export function rtBandwidthCharge(rq: Rq, start: number, end: number): void {
  const rt = rq.rt;
  if (rt instanceof RtRq && rt.bw !== null && end > start) charge(rt, rt.bw, start, end);
}

/** Tick boundaries in (start, end]: the ticks that found curr running there. */
function ticksIn(tick: number, start: number, end: number): number {
  return Math.floor(end / tick) - Math.floor(start / tick);
}

function enqueueList(rt: RtRq, p: Task, head: boolean): void {
  const prio = p.prio;
  if (!(prio >= 0 && prio < MAX_RT_PRIO))
    throw new KernelPanic(`pid ${p.pid} (policy ${p.policy}, prio ${prio}) queued on the rt class: its prio is not realtime`);
  const list = rt.queue[prio]!;
  if (head) list.unshift(p);
  else list.push(p);
  setBit(rt.bitmap, prio);
  entity(p).listPrio = prio;
  rt.nr++;
}

function dequeueList(rt: RtRq, p: Task): number {
  const prio = entity(p).listPrio;
  const list = rt.queue[prio]!;
  const i = list.indexOf(p);
  if (i < 0) throw new KernelPanic(`pid ${p.pid} dequeued from rt list ${prio} it is not on`);
  list.splice(i, 1);
  if (list.length === 0) clearBit(rt.bitmap, prio);
  rt.nr--;
  return i;
}

/** requeue_task_rt(p, tail): moves p to the tail of its list. */
function requeueTail(rt: RtRq, p: Task): void {
  const list = rt.queue[entity(p).listPrio]!;
  const i = list.indexOf(p);
  if (i >= 0 && i !== list.length - 1) {
    list.splice(i, 1);
    list.push(p);
  }
}

/**
 * The realtime class. One instance per kernel (it keeps the kernel from attach).
 *
 * @example
 * const classes = [stopClass, dlClass(params), rtClass(params), fair, idleClass];
 */
export function rtClass(params: Params): SchedClass {
  let k: Kernel | null = null;
  const bw = bandwidthOf(params);
  const rrTicks = rrTimesliceTicks(params);
  const kern = (): Kernel => k ?? (k = panicUnattached());
  const rqs = (): Rq[] => kern().rqs;

  /** sched_rt_runtime_exceeded: throttle once rt_time passes the budget. */
  function checkBudget(rq: Rq, rt: RtRq): void {
    if (bw === null || rt.throttled || rt.rtTime <= bw.runtime) return;
    rt.throttled = true;
    kern().engine.arm(rt.timer!, rt.periodEnd);
    rq.resched();
  }

  /** sched_rt_period_timer: the period rolled over while throttled. */
  function periodTimer(rq: Rq): void {
    const rt = rtRq(rq);
    catchUp(rt, bw!, kern().now);
    if (rt.throttled) kern().engine.arm(rt.timer!, rt.periodEnd);
    else if (rt.nr > 0) rq.resched();
  }

  /** cpupri level of a CPU: the most important RT/DL prio there, MAX_RT_PRIO if none (fair or idle). */
  function cpuLevel(rq: Rq): number {
    const rt = rtRq(rq);
    // cpupri is set from rt_rq->highest_prio at enqueue/dequeue; throttling (dequeue_top_rt_rq) leaves it alone:
    // a throttled CPU still counts at its most important queued RT prio, so nothing is pushed there to starve.
    let lvl = Math.min(rt.highest(), MAX_RT_PRIO);
    if (rq.curr !== rq.idle && rq.curr.prio < lvl) lvl = rq.curr.prio;
    return lvl;
  }

  /** The most important queued RT task other than `next` that may run elsewhere (pick_next_pushable_task). */
  function pushable(rt: RtRq, next: Task): Task | null {
    for (let prio = rt.highest(); prio < MAX_RT_PRIO; prio++) {
      for (const p of rt.queue[prio]!) if (p !== next && mayMigrate(p)) return p;
    }
    return null;
  }

  /** find_lowest_rq: an allowed CPU other than `from` where p would run at once, preferring the least important. */
  function lowestRq(p: Task, from: number): Rq | null {
    const rqs = kern().rqs;
    let best: Rq | null = null;
    let bestLvl = p.prio;
    for (let i = 1; i < rqs.length; i++) {
      const c = (from + i) % rqs.length;
      if (!allowed(p, c)) continue;
      const lvl = cpuLevel(rqs[c]!);
      if (lvl > bestLvl) [best, bestLvl] = [rqs[c]!, lvl];
    }
    return best;
  }

  /** push_rt_tasks: rq is about to run `next`; move queued RT tasks that could run elsewhere now. */
  function pushTasks(rq: Rq, next: Task): void {
    const kk = kern();
    for (let n = 1; n < kk.rqs.length; n++) {
      const p = pushable(rtRq(rq), next);
      const dst = p && lowestRq(p, rq.cpu);
      if (!p || !dst) return;
      deactivateTask(kk, rq, p, DEQUEUE_MIGRATING);
      setTaskCpu(kk, p, dst.cpu);
      activateTask(kk, dst, p, ENQUEUE_MIGRATED);
      checkPreempt(kk, dst, p, ENQUEUE_MIGRATED);
    }
  }

  /**
   * pull_rt_task: rq's best RT work just got worse (an RT task blocked, left
   * the class or lowered its priority). From every other CPU with two or more
   * RT tasks (rto_mask), take the most important queued task that may run
   * here, if it beats what rq would run and does not outrank its own CPU's
   * curr (then it is about to run there anyway); later CPUs must beat what
   * was already pulled. CPUs are visited in order from rq's neighbour.
   */
  function pull(rq: Rq): boolean {
    const kk = kern();
    const rqs = kk.rqs;
    const mine = rtRq(rq);
    if (rqs.length === 1 || mine.throttled) return false;
    let pulled = false;
    for (let i = 1; i < rqs.length; i++) {
      const src = rqs[(rq.cpu + i) % rqs.length]!;
      const rt = rtRq(src);
      if (rt.nr < 2) continue; // not overloaded
      const p = highestPullable(src, rq.cpu);
      if (p === null || p.prio >= mine.highest()) continue;
      if (p.prio < src.curr.prio) continue; // it preempts there at once (idle or fair there included)
      deactivateTask(kk, src, p, DEQUEUE_MIGRATING);
      setTaskCpu(kk, p, rq.cpu);
      activateTask(kk, rq, p, ENQUEUE_MIGRATED);
      pulled = true;
    }
    return pulled;
  }

  /** pick_highest_pushable_task: the most important queued RT task of src (not its curr) allowed on cpu. */
  function highestPullable(src: Rq, cpu: number): Task | null {
    const rt = rtRq(src);
    for (let prio = rt.highest(); prio < MAX_RT_PRIO; prio++) {
      for (const p of rt.queue[prio]!) {
        if (p !== src.curr && mayMigrate(p) && allowed(p, cpu)) return p;
      }
    }
    return null;
  }

  const cls: SchedClass = {
    name: "rt",
    policies: [SCHED_FIFO, SCHED_RR],
    attach(kernel) {
      if (k !== null && k !== kernel) throw new KernelPanic("rtClass instance attached to two kernels: build one per kernel");
      k = kernel;
    },
    initRq(rq) {
      const rt = new RtRq(bw);
      rt.timer = kern().newTimer(Prio.TIMER, () => periodTimer(rq));
      rq.rt = rt;
    },
    initTask(rq, p) {
      p.rt = { timeSlice: rrTicks, listPrio: p.prio, savedPos: -1 } satisfies RtEntity;
    },
    switchedTo(rq, p) {
      // task_struct keeps its rt entity: back in the class, an RR task has the quantum it left with.
      if (p.rt === null || p.rt === undefined) cls.initTask(rq, p);
    },
    enqueueTask(rq, p, flags) {
      const e = entity(p);
      const rt = rtRq(rq);
      if ((flags & (ENQUEUE_RESTORE | ENQUEUE_MOVE)) === ENQUEUE_RESTORE && e.savedPos >= 0 && e.listPrio === p.prio) {
        // A parameter change that kept the priority (no ENQUEUE_MOVE): back at its place in its list.
        const list = rt.queue[p.prio]!;
        list.splice(Math.min(e.savedPos, list.length), 0, p);
        setBit(rt.bitmap, p.prio);
        rt.nr++;
        e.savedPos = -1;
        return;
      }
      e.savedPos = -1;
      // A restore after a priority change: lowered -> head of the new list (ENQUEUE_HEAD), else tail.
      enqueueList(rt, p, (flags & ENQUEUE_HEAD) !== 0);
    },
    dequeueTask(rq, p, flags) {
      const i = dequeueList(rtRq(rq), p);
      entity(p).savedPos = (flags & (DEQUEUE_SAVE | DEQUEUE_MOVE)) === DEQUEUE_SAVE ? i : -1;
    },
    pickTask(rq) {
      const rt = rtRq(rq);
      if (rt.throttled) return null; // sched_rt_rq_dequeue: a throttled rt_rq offers nothing
      const b = rt.highest();
      return b < MAX_RT_PRIO ? rt.queue[b]![0]! : null;
    },
    putPrevTask() {}, // curr stays on its list: a preempted task keeps its place at the head
    setNextTask(rq, p) {
      pushTasks(rq, p); // the picked task is already on its list; others may run elsewhere
    },
    updateCurr(rq, curr, delta) {
      const end = curr.execStart; // the core has moved execStart to now
      const start = end - delta;
      if (curr.policy === SCHED_RR) entity(curr).timeSlice -= ticksIn(kern().tickNs, start, end);
      const rt = rtRq(rq);
      if (bw === null) return;
      charge(rt, bw, start, end);
      checkBudget(rq, rt);
    },
    taskTick(rq, curr) {
      // task_tick_rt: the tick count was taken in updateCurr; act on an exhausted RR slice.
      const ent = entity(curr);
      if (curr.policy !== SCHED_RR || ent.timeSlice > 0) return;
      while (ent.timeSlice <= 0) ent.timeSlice += rrTicks;
      const rt = rtRq(rq);
      if (rt.queue[ent.listPrio]!.length > 1) {
        requeueTail(rt, curr);
        rq.resched();
      }
    },
    nextCheck(rq, curr) {
      const tick = kern().tickNs;
      let at = Infinity;
      if (curr.policy === SCHED_RR) at = (Math.floor(curr.execStart / tick) + Math.max(0, entity(curr).timeSlice)) * tick;
      const rt = rtRq(rq);
      if (bw !== null && !rt.throttled) at = Math.min(at, curr.execStart + Math.max(0, bw.runtime - rt.rtTime) + 1);
      return at;
    },
    wakeupPreempt(rq, p, flags) {
      const curr = rq.curr;
      if (p.prio < curr.prio) {
        rq.resched(); // strictly higher priority
        return;
      }
      // switched_to_rt and prio_changed_rt (a parameter change, ENQUEUE_RESTORE) only compare priorities.
      if (flags & ENQUEUE_RESTORE) return;
      // check_preempt_equal_prio: p cannot go elsewhere but curr can: put p at the head and let curr be pushed.
      if (p.prio === curr.prio && !rq.needResched && rqs().length > 1) {
        if (!mayMigrate(curr) || lowestRq(curr, rq.cpu) === null) return;
        if (mayMigrate(p) && lowestRq(p, rq.cpu) !== null) return;
        const rt = rtRq(rq);
        const list = rt.queue[entity(p).listPrio]!;
        const i = list.indexOf(p);
        if (i > 0) {
          list.splice(i, 1);
          list.unshift(p); // requeue_task_rt(rq, p, 1): head of its list, ahead of curr
        }
        rq.resched();
      }
    },
    yieldTask(rq) {
      requeueTail(rtRq(rq), rq.curr);
    },
    taskFork() {}, // the child's entity is fresh from initTask: a full RR slice
    prioChanged(rq, p, oldPrio) {
      // prio_changed_rt for the running task: if it got less important, pull; give way if a more important task is queued.
      if (rq.curr !== p) return;
      if (p.prio > oldPrio) pull(rq);
      if (rtRq(rq).highest() < p.prio) rq.resched();
    },
    taskWoken(rq, p) {
      // task_woken_rt: p waits here behind an RT or deadline task: push what can run elsewhere now.
      const curr = rq.curr;
      if (curr === p || rq.needResched || !mayMigrate(p) || curr.sclass > p.sclass) return;
      if (mayMigrate(curr) && curr.prio > p.prio) return;
      pushTasks(rq, curr);
    },
    switchedFrom(rq, p) {
      // switched_from_rt: the CPU may have lost its last RT task; pull one if so, and run it.
      if (!p.onRq || rtRq(rq).nr !== 0) return;
      if (pull(rq)) rq.resched();
    },
    balance(rq, prev) {
      // balance_rt: prev left the RT lists (blocked, exited, or changed class) and this CPU's best RT prio is now worse.
      // Still on this CPU's lists (preempted): on_rt_rq. A prev that moved off this CPU (affinity) left them.
      if (prev.onRq && prev.cpu === rq.cpu && (prev.policy === SCHED_FIFO || prev.policy === SCHED_RR)) return;
      if (rtRq(rq).highest() > prev.prio) pull(rq);
    },
    nrRunning: (rq) => rtRq(rq).nr,
    // The generic balancer (load_balance) moves fair tasks only (it walks cfs_tasks); RT tasks move by push and pull above.
    canMigrate: () => false,
    selectTaskRq(p, prevCpu) {
      const rqs = kern().rqs;
      const curr = rqs[prevCpu]!.curr;
      // select_task_rq_rt: rt_task(curr) && (curr->nr_cpus_allowed < 2 || curr->prio <= p->prio)
      const contended = curr !== rqs[prevCpu]!.idle && curr.prio < MAX_RT_PRIO && (!mayMigrate(curr) || curr.prio <= p.prio);
      if (!contended || rqs.length === 1) return prevCpu;
      let best = prevCpu;
      let bestLvl = cpuLevel(rqs[prevCpu]!);
      for (let i = 1; i < rqs.length; i++) {
        const c = (prevCpu + i) % rqs.length;
        if (!allowed(p, c)) continue;
        const lvl = cpuLevel(rqs[c]!);
        if (lvl > bestLvl) [best, bestLvl] = [c, lvl];
      }
      return p.prio < bestLvl ? best : prevCpu;
    },
  };
  return cls;
}

function panicUnattached(): never {
  throw new KernelPanic("rt class used before attach(k)");
}

/**
 * For tests and observers: this CPU's RT bandwidth state. With `now`, as of
 * now, read without changing anything: periods that ended since it was last
 * updated are decayed, as do_sched_rt_period_timer decays rt_time at each
 * one even while no RT task runs, after charging the run of an RT or deadline
 * curr since `runningSince`, if given.
 */
export function rtThrottleState(rq: Rq, now?: number, runningSince?: number): { rtTime: number; throttled: boolean; periodEnd: number } | null {
  const rt = rq.rt;
  if (!(rt instanceof RtRq)) return null;
  const state = { rtTime: rt.rtTime, throttled: rt.throttled, periodEnd: rt.periodEnd };
  if (now === undefined || rt.bw === null) return state;
  if (runningSince !== undefined && runningSince < now) charge(state, rt.bw, runningSince, now);
  catchUp(state, rt.bw, now);
  return state;
}

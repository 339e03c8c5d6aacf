/**
 * The per-CPU runqueue (struct rq). Class-specific queues hang off it
 * (rq.cfs, rq.rt, rq.dl), created by each class's initRq.
 */
import type { Task } from "../task/task.ts";
import type { Timer } from "../../sim/engine.ts";

export class Rq {
  /** Runnable tasks on this CPU, curr included. */
  nrRunning = 0;
  /**
   * Their weights summed (rq->load.weight, what the balancer compares): the
   * weight of each task's nice level, as the fair class weighs it.
   */
  load = 0;
  /** When curr's last CPU burst ended (core burstEndFirst); -1 before any. */
  burstEndAt = -1;
  /** Periodic balance passes in a row that found an imbalance here and moved nothing (sd->nr_balance_failed). */
  balanceFailed = 0;
  /**
   * sd->balance_interval in ms: the span weight (the CPU count) after a pass
   * that found an imbalance, doubled (to twice that) by a pass that found none.
   * 0 until the balancer first looks at this CPU.
   */
  balanceInterval = 0;
  /** sd->last_balance: the tick of this CPU's last periodic balance pass (ns). */
  lastBalance = 0;
  /**
   * rq->active_balance and rq->push_cpu: the CPU an active balance asked this
   * one to push a task to at its next schedule(), or -1.
   */
  pushCpu = -1;
  curr!: Task;
  idle!: Task;
  /** Set when curr must be switched out at the next opportunity (TIF_NEED_RESCHED). */
  needResched = false;
  /**
   * curr called sched_yield: the coming schedule() is its own call, not a preemption
   * (__schedule(SM_NONE)), so sched_switch shows it as R, not R+.
   */
  yielded = false;
  /** Time of the last scheduler tick handled here. */
  lastTick = -1;
  /** Time from which the next tick check is due (curr's slice end rounded to a tick). */
  tickDue = Infinity;
  /** Tasks on this runqueue per scheduling class (index = class), curr included: pick_next_task skips empty classes. */
  classNr: Int32Array = new Int32Array(0);
  /**
   * Asleep tasks a class still holds on its queue here, per class (EEVDF's
   * delayed dequeue): not counted in nrRunning or classNr, but pick_next_task
   * must still ask the class, which finishes their dequeue when it picks them.
   * Kept by the class.
   */
  classDelayed: Int32Array = new Int32Array(0);
  /**
   * Every task on this runqueue, curr included, in the order they were put on
   * it (activate_task), for load balancing. A context switch does not touch
   * it: only tasks joining or leaving the runqueue do (Linux's rq->cfs_tasks
   * is likewise updated on enqueue and dequeue).
   */
  readonly tasks = new TaskList();
  /** The tasks waiting to run here: `tasks` without curr. */
  readonly queued: QueuedView = new QueuedView(this);
  /** The CPU's single event: accounting, bursts ending, tick checks, schedule(). */
  timer!: Timer;
  /** Per-class queue state. */
  cfs: unknown = null;
  rt: unknown = null;
  dl: unknown = null;
  stop: unknown = null;
  /** Class queues that the textbook and historical classes keep. */
  ext: unknown = null;
  // statistics
  nrSwitches = 0;
  busyTime = 0;
  idleSince = 0;
  /** Callback installed by the core: arm this CPU's event now so it reschedules. */
  kick: () => void = () => {};

  constructor(readonly cpu: number) {}

  /** resched_curr(): ask this CPU to run schedule() at the next opportunity. */
  resched(): void {
    if (!this.needResched) {
      this.needResched = true;
      this.kick();
    }
  }
}

/** sd->imbalance_pct of the one flat domain: how much busier (in %) a CPU must be to give work away. */
export const IMBALANCE_PCT = 117;

/** Group types of a single-CPU group, in the order Linux ranks them (group_type). */
export const HAS_SPARE = 0, FULLY_BUSY = 1, OVERLOADED = 2;

/** A CPU as a single-CPU group: has_spare (no task), fully_busy (one) or overloaded (more). */
export function groupType(rq: Rq): number {
  return rq.nrRunning === 0 ? HAS_SPARE : rq.nrRunning === 1 ? FULLY_BUSY : OVERLOADED;
}

/** A read-only view of a runqueue's waiting tasks (on it, not running). */
export class QueuedView implements Iterable<Task> {
  constructor(private readonly rq: Rq) {}
  get size(): number {
    const { tasks, curr } = this.rq;
    return tasks.size - (tasks.has(curr) ? 1 : 0);
  }
  has(p: Task): boolean {
    return p !== this.rq.curr && this.rq.tasks.has(p);
  }
  *[Symbol.iterator](): Iterator<Task> {
    const curr = this.rq.curr;
    for (const p of this.rq.tasks) if (p !== curr) yield p;
  }
}

/**
 * An intrusive list of tasks (a list_head through task.rqNext/rqPrev): O(1)
 * add and delete without hashing, iteration in insertion order. A task is on
 * at most one such list, which `rqList` names.
 */
export class TaskList implements Iterable<Task> {
  private head: Task | null = null;
  private tail: Task | null = null;
  size = 0;

  has(p: Task): boolean {
    return p.rqList === this;
  }
  add(p: Task): void {
    if (p.rqList === this) return;
    if (p.rqList !== null) p.rqList.delete(p);
    p.rqList = this;
    p.rqPrev = this.tail;
    p.rqNext = null;
    if (this.tail) this.tail.rqNext = p;
    else this.head = p;
    this.tail = p;
    this.size++;
  }
  delete(p: Task): boolean {
    if (p.rqList !== this) return false;
    if (p.rqPrev) p.rqPrev.rqNext = p.rqNext;
    else this.head = p.rqNext;
    if (p.rqNext) p.rqNext.rqPrev = p.rqPrev;
    else this.tail = p.rqPrev;
    p.rqList = null;
    p.rqPrev = p.rqNext = null;
    this.size--;
    return true;
  }
  *[Symbol.iterator](): Iterator<Task> {
    for (let p = this.head; p !== null; ) {
      const next = p.rqNext; // the yielded task may be deleted meanwhile
      yield p;
      p = next;
    }
  }
}

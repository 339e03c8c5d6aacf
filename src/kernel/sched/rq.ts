/**
 * The per-CPU runqueue (struct rq). Class-specific queues hang off it
 * (rq.cfs, rq.rt, rq.dl), created by each class's initRq.
 */
import type { Task } from "../task/task.ts";
import type { Timer } from "../../sim/engine.ts";

export class Rq {
  /** Runnable tasks on this CPU, curr included. */
  nrRunning = 0;
  curr!: Task;
  idle!: Task;
  /** Set when curr must be switched out at the next opportunity (TIF_NEED_RESCHED). */
  needResched = false;
  /** Time of the last scheduler tick handled here. */
  lastTick = -1;
  /** Time from which the next tick check is due (curr's slice end rounded to a tick). */
  tickDue = Infinity;
  /** Queued (not running) tasks in enqueue order, for load balancing. */
  readonly queued = new Set<Task>();
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

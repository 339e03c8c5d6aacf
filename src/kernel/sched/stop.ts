/**
 * The stop class (kernel/sched/stop_task.c): the highest class, one stopper
 * task per CPU (migration/N in Linux, used by stop_machine and task migration)
 * that preempts everything and is preempted by nothing.
 *
 * Models: stop_task.c of Linux 3.x .. 6.x; every hook is trivial. It serves
 * no user policy: a task is made the stopper by setting rq.stop's `task`, as
 * sched_set_stop_task() does, never through sched_setscheduler.
 *
 * Simplified: TaskLab starts no stopper threads yet, so rq.stop.task is null
 * and pickTask always returns null; the class holds its place in the chain.
 */
import { KernelPanic } from "../errno.ts";
import type { Task } from "../task/task.ts";
import type { SchedClass } from "./class.ts";
import type { Rq } from "./rq.ts";

/** rq.stop: this CPU's stopper task, if any. */
export interface StopRq {
  task: Task | null;
}

const stopRq = (rq: Rq): StopRq => rq.stop as StopRq;

export const stopClass: SchedClass = {
  name: "stop",
  policies: [], // no policy maps here
  initRq(rq) {
    rq.stop = { task: null } satisfies StopRq;
  },
  initTask() {}, // no per-task state
  enqueueTask() {}, // the stopper is rq.stop itself, not on a list
  dequeueTask() {},
  pickTask(rq) {
    const t = stopRq(rq).task; // sched_stop_runnable: set and queued
    return t !== null && t.onRq ? t : null;
  },
  putPrevTask() {}, // nothing to requeue
  setNextTask() {}, // nothing to prepare
  updateCurr() {}, // no virtual time or budget
  taskTick() {}, // runs until its work is done
  nextCheck: () => Infinity, // never looked at by the tick
  wakeupPreempt() {}, // one stopper per CPU: never preempted by a peer
  yieldTask() {
    throw new KernelPanic("stop task yields"); // BUG() in yield_task_stop
  },
  taskFork() {}, // stoppers are kernel threads created on purpose, not forked into this class
  prioChanged() {
    throw new KernelPanic("priority change of a stop task"); // BUG() in prio_changed_stop
  },
  nrRunning: (rq) => (stopRq(rq).task?.onRq ? 1 : 0),
  selectTaskRq: (p) => p.cpu, // a stopper never migrates
};

/**
 * The idle class (kernel/sched/idle.c): one idle task per CPU, swapper/N with
 * pid 0, run only when no other class has work. It is never on a queue; the
 * core falls back to rq.idle when every other class's pickTask returns null.
 */
import type { SchedClass } from "./class.ts";

export const idleClass: SchedClass = {
  name: "idle",
  policies: [],
  initRq() {}, // nothing queued: rq.idle is the only task
  initTask() {}, // no per-task state
  enqueueTask() {}, // the idle task is never enqueued
  dequeueTask() {},
  pickTask: (rq) => rq.idle,
  putPrevTask() {},
  setNextTask() {},
  updateCurr() {}, // idle time is not charged to a task
  taskTick() {},
  nextCheck: () => Infinity, // idle is preempted by any wakeup, never by the tick
  wakeupPreempt: (rq) => rq.resched(), // anything beats idle
  yieldTask() {},
  taskFork() {},
  prioChanged() {},
  nrRunning: () => 0,
};

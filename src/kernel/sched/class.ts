/**
 * The scheduling-class interface, shaped like Linux's `struct sched_class`
 * (kernel/sched/sched.h). The core calls these hooks; it never asks which class
 * it is talking to. Classes are chained by priority in one ordered array
 * (stop > deadline > realtime > fair > idle), and a task's class is its index there.
 *
 * A hook decides; the core applies the decision and traces it. Hooks that want
 * a reschedule call `rq.resched()`.
 */
import type { Task } from "../task/task.ts";
import type { Rq } from "./rq.ts";
import type { Kernel } from "../kernel.ts";

/** enqueue_task flags (kernel/sched/sched.h). */
export const ENQUEUE_WAKEUP = 0x01;
export const ENQUEUE_RESTORE = 0x02;
/** With RESTORE: the task may change its place in its queue (a priority change); without, it keeps it. */
export const ENQUEUE_MOVE = 0x04;
/** Queue at the head of its list (a lowered RT priority). */
export const ENQUEUE_HEAD = 0x10;
export const ENQUEUE_MIGRATED = 0x40;
export const ENQUEUE_INITIAL = 0x80;
/** Wakeup of a task its class still holds on the runqueue (EEVDF delayed dequeue, ttwu_runnable). */
export const ENQUEUE_DELAYED = 0x200;
/** dequeue_task flags. */
export const DEQUEUE_SLEEP = 0x01;
export const DEQUEUE_SAVE = 0x02;
export const DEQUEUE_MOVE = 0x04;
/** The task blocks in a state set from outside (stopped, traced, dead): never delay its dequeue. */
export const DEQUEUE_SPECIAL = 0x10;
export const DEQUEUE_MIGRATING = 0x100;
/** Finishing a delayed dequeue (the task was picked, or leaves the class). */
export const DEQUEUE_DELAYED = 0x200;

/** select_task_rq reasons. */
export const WF_EXEC = 0x02;
export const WF_FORK = 0x04;
export const WF_TTWU = 0x08;

export interface SchedClass {
  /** Short name used in options, traces and docs. */
  readonly name: string;
  /** Policies (SCHED_*) this class serves. */
  readonly policies: readonly number[];
  /**
   * Called once when the kernel is built, before initRq: a class that needs
   * timers (RT throttling, deadline replenishment) or the clock keeps `k`.
   */
  attach?(k: Kernel): void;
  /** Creates this class's per-CPU queue state (rq.cfs, rq.rt, ...). */
  initRq(rq: Rq): void;
  /** Sets up the task's entity record when it joins this class (fork, setscheduler). */
  initTask(rq: Rq, p: Task): void;
  /** Puts p on the queue. p is not rq.curr unless it is being re-queued (restore). */
  enqueueTask(rq: Rq, p: Task, flags: number): void;
  /**
   * Takes p off the queue. A class may instead keep a task that is going to
   * sleep (DEQUEUE_SLEEP) on its own queue and return false (EEVDF's delayed
   * dequeue): the core then counts p as off the runqueue, and the class keeps
   * rq.classDelayed[p.sclass] so that pick_next_task still asks it.
   */
  dequeueTask(rq: Rq, p: Task, flags: number): boolean | void;
  /** The task this class would run next, without taking it; null if none. */
  pickTask(rq: Rq): Task | null;
  /** prev stops being rq.curr (it may still be runnable and queued). */
  putPrevTask(rq: Rq, prev: Task): void;
  /** p becomes rq.curr. */
  setNextTask(rq: Rq, p: Task): void;
  /**
   * Charges `delta` ns of run time to rq.curr (update_curr). The core calls it at
   * every CPU event, including the end of each compute burst (a syscall
   * boundary), which Linux does not: make no preemption decision here; do that
   * in taskTick.
   */
  updateCurr(rq: Rq, curr: Task, delta: number): void;
  /** Scheduler tick with curr running; calls rq.resched() if curr must yield. */
  taskTick(rq: Rq, curr: Task): void;
  /**
   * When curr must next be looked at: the absolute time from which a tick would
   * see its slice expired, or Infinity. The core rounds it up to a tick boundary.
   */
  nextCheck(rq: Rq, curr: Task): number;
  /** p (of this class) was just queued; calls rq.resched() if it should preempt rq.curr (also of this class). */
  wakeupPreempt(rq: Rq, p: Task, flags: number): void;
  /** sched_yield by rq.curr. */
  yieldTask(rq: Rq): void;
  /** Fork hook: p is the new child, not yet queued. */
  taskFork(rq: Rq, p: Task, parent: Task): void;
  /** The task's priority or weight changed (nice, setscheduler); it may be queued or running. */
  prioChanged(rq: Rq, p: Task, oldPrio: number): void;
  /** Tasks of this class queued on rq, curr included. */
  nrRunning(rq: Rq): number;
  /**
   * May the generic load balancer move this queued task to CPU `dst`? Linux's
   * load_balance moves only fair tasks (RT and deadline push and pull their
   * own); a class without this hook is never balanced by the core.
   */
  canMigrate?(rq: Rq, p: Task, dst: number): boolean;
  /** Optional CPU choice; the core's generic placement is used when absent. */
  selectTaskRq?(p: Task, prevCpu: number, flags: number): number;
  /**
   * Called by schedule() after prev was put back and before the next task is
   * picked, for prev's class and then each lower class until one of them or
   * a higher class has a task to run (put_prev_task_balance -> class->balance):
   * a class may pull work from other CPUs here (balance_rt -> pull_rt_task).
   */
  balance?(rq: Rq, prev: Task): void;
  /** p was just woken (or created) onto rq and preemption was checked (task_woken): a class may push queued work elsewhere. */
  taskWoken?(rq: Rq, p: Task): void;
  /**
   * p, queued and not running, just joined this class (switched_to_rt / switched_to_dl's
   * rt/deadline_queue_push_tasks): push from an overloaded queue. Unlike taskWoken this does not
   * look at need_resched: push_*_task makes its own preempt-or-push choice. Without it, taskWoken.
   */
  switchedToQueued?(rq: Rq, p: Task): void;
  /** p (on rq's CPU, queued or running or asleep) just left this class for another (switched_from). */
  switchedFrom?(rq: Rq, p: Task): void;
  /**
   * p joins this class by a policy change, before it is queued there (switched_to). The entity it had
   * when it was last in this class is kept, as Linux keeps task_struct's se, rt and dl: a fair task back
   * from a stint as realtime has the lag it left with. Without this hook, initTask sets up a fresh one.
   */
  switchedTo?(rq: Rq, p: Task): void;
  /** get_rr_interval, in ns before the syscall truncates it to whole ticks; without it, the core's EEVDF form. */
  getRrInterval?(rq: Rq, p: Task): number;
  /** p is asleep but this class still holds it on p.cpu's queue (se.sched_delayed). */
  delayed?(p: Task): boolean;
  /** Completes the delayed dequeue of p from rq (dequeue with DEQUEUE_SLEEP | DEQUEUE_DELAYED). */
  finishDelayed?(rq: Rq, p: Task): void;
}

/**
 * The class as the kernel keeps it: every hook at the same place in one
 * object shape, optional ones undefined. The core's calls through
 * `k.classes[i].hook` then read one field of one known shape instead of
 * looking the hook up among five differently built objects.
 */
export function uniformClass(c: SchedClass): SchedClass {
  return {
    name: c.name,
    policies: c.policies,
    attach: c.attach,
    initRq: c.initRq,
    initTask: c.initTask,
    enqueueTask: c.enqueueTask,
    dequeueTask: c.dequeueTask,
    pickTask: c.pickTask,
    putPrevTask: c.putPrevTask,
    setNextTask: c.setNextTask,
    updateCurr: c.updateCurr,
    taskTick: c.taskTick,
    nextCheck: c.nextCheck,
    wakeupPreempt: c.wakeupPreempt,
    yieldTask: c.yieldTask,
    taskFork: c.taskFork,
    prioChanged: c.prioChanged,
    nrRunning: c.nrRunning,
    canMigrate: c.canMigrate,
    selectTaskRq: c.selectTaskRq,
    balance: c.balance,
    switchedFrom: c.switchedFrom,
    switchedTo: c.switchedTo,
    getRrInterval: c.getRrInterval,
    taskWoken: c.taskWoken,
    switchedToQueued: c.switchedToQueued,
    delayed: c.delayed,
    finishDelayed: c.finishDelayed,
  };
}

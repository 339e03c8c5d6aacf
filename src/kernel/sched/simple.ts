/**
 * A placeholder class that serves every policy with one round-robin queue per
 * CPU: FIFO order, a fixed slice (the base slice scaled by CPU count, as the
 * fair class scales it) noticed at the scheduler tick, no wakeup preemption.
 * It exists so the core, the syscalls and the observers can be exercised
 * before the real classes (EEVDF, CFS, RT, deadline) arrive; it is also a
 * reference "smallest complete class" in the spirit of stop_task.c.
 */
import type { SchedClass } from "./class.ts";
import type { Rq } from "./rq.ts";
import type { Task } from "../task/task.ts";

interface SimpleRq {
  /** Queued tasks waiting to run, in order. */
  queue: Set<Task>;
  /** Every task of this class on the rq, curr included. */
  members: Set<Task>;
  /** sum_exec_runtime of curr when it was picked. */
  pickedAt: number;
}

const q = (rq: Rq): SimpleRq => rq.ext as SimpleRq;

export function simpleClass(slice: number): SchedClass {
  return {
    name: "simple",
    policies: [0, 1, 2, 3, 5, 6],
    initRq(rq) {
      rq.ext = { queue: new Set<Task>(), members: new Set<Task>(), pickedAt: 0 } satisfies SimpleRq;
    },
    initTask() {}, // no per-task state
    enqueueTask(rq, p) {
      q(rq).members.add(p);
      if (rq.curr !== p) q(rq).queue.add(p);
    },
    dequeueTask(rq, p) {
      q(rq).members.delete(p);
      q(rq).queue.delete(p);
    },
    pickTask(rq) {
      for (const p of q(rq).queue) return p;
      return null;
    },
    putPrevTask(rq, prev) {
      if (q(rq).members.has(prev)) q(rq).queue.add(prev); // to the tail
    },
    setNextTask(rq, p) {
      q(rq).queue.delete(p);
      q(rq).pickedAt = p.sumExecRuntime;
    },
    updateCurr() {}, // no virtual time
    taskTick(rq, curr) {
      if (q(rq).queue.size > 0 && curr.sumExecRuntime - q(rq).pickedAt >= slice) rq.resched();
    },
    nextCheck(rq, curr) {
      if (q(rq).queue.size === 0) return Infinity;
      return curr.execStart + Math.max(0, slice - (curr.sumExecRuntime - q(rq).pickedAt));
    },
    wakeupPreempt() {}, // never preempts on wakeup
    yieldTask(rq) {
      rq.resched();
    },
    taskFork() {},
    prioChanged() {},
    nrRunning: (rq) => q(rq).queue.size + (rq.curr.sclass === rq.idle.sclass ? 0 : 1),
    canMigrate: () => true, // the generic balancer moves fair tasks, as load_balance does
  };
}

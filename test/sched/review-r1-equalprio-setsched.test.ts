/**
 * R1: sched_setscheduler / sched_setparam of a queued, pinned task to curr's RT priority
 * goes through checkPreempt -> rt.wakeupPreempt -> check_preempt_equal_prio. Linux's
 * switched_to_rt and prio_changed_rt only resched when p->prio < curr->prio: no equal-prio
 * rule, so P waits behind A (FIFO) and A is not pushed.
 */
import { describe, expect, it } from "vitest";
import { program } from "../../src/user/program.ts";
import { eevdfClass } from "../../src/kernel/sched/eevdf.ts";
import { SCHED_FIFO } from "../../src/kernel/task/task.ts";
import { bootChain, MS, SEC } from "./chain.ts";

const hog = program("hog", function* (sys) { for (;;) yield* sys.compute(100 * SEC); });

function scenario(fromFair: boolean) {
  const m = bootChain((p) => eevdfClass(p), { cpus: 3, rtRuntime: -1 });
  const a = m.spawn(hog, { uid: 0, policy: SCHED_FIFO, rtPriority: 50, affinity: [0], name: "A" });
  m.spawn(hog, { affinity: [1], name: "G" });
  const p = fromFair
    ? m.spawn(hog, { affinity: [0], name: "P" })
    : m.spawn(hog, { uid: 0, policy: SCHED_FIFO, rtPriority: 40, affinity: [0], name: "P" });
  m.run(MS);
  const out: unknown[] = [];
  m.spawn(program("ctl", function* (sys) {
    out.push(yield* sys.sched_setaffinity(a, [0, 1]));
    out.push(yield* sys.syscall("sched_setscheduler", p, SCHED_FIFO, { sched_priority: 50 }));
  }), { uid: 0, policy: SCHED_FIFO, rtPriority: 99, affinity: [2] });
  m.run(m.now + 100 * MS);
  return { m, a, p, out };
}

describe("R1 equal-prio rule on a class/priority change", () => {
  for (const fromFair of [true, false]) {
    it(`${fromFair ? "fair -> FIFO 50 (switched_to_rt)" : "FIFO 40 -> FIFO 50 (prio_changed_rt)"}: A stays on CPU 0, P waits`, () => {
      const { m, a, p, out } = scenario(fromFair);
      expect(out).toEqual([0, 0]);
      console.log("A cpu", m.task(a)!.cpu, "P ran ns", m.task(p)!.sumExecRuntime, "rq0 curr", m.kernel.rqs[0]!.curr.comm);
      expect(m.task(a)!.cpu).toBe(0);          // Linux: no push of A
      expect(m.kernel.rqs[0]!.curr.pid).toBe(a); // Linux: A keeps CPU 0 (P is behind it, equal prio)
    });
  }
});

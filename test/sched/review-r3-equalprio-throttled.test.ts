/**
 * R3: check_preempt_equal_prio (new in 0da808e) asks lowestRq(curr), whose cpuLevel counts a
 * throttled CPU as free (MAX_RT_PRIO). Linux's cpupri keeps a throttled CPU at its highest
 * queued RT prio (sched_rt_rq_dequeue -> dequeue_top_rt_rq does not touch cpupri), so
 * cpupri_find(curr) finds no CPU and nothing happens. Here the running FIFO 50 task A is
 * pushed onto CPU 1, throttled with a FIFO 90 hog queued, where it never runs again.
 */
import { describe, expect, it } from "vitest";
import { program } from "../../src/user/program.ts";
import { eevdfClass } from "../../src/kernel/sched/eevdf.ts";
import { SCHED_FIFO } from "../../src/kernel/task/task.ts";
import { bootChain, MS, SEC } from "./chain.ts";

const hog = program("hog", function* (sys) { for (;;) yield* sys.compute(100 * SEC); });

describe("R3 equal-prio push onto a throttled CPU", () => {
  it("A (FIFO 50, movable, running on CPU 0) is not moved to throttled CPU 1 (FIFO 90 hog there)", () => {
    const m = bootChain((p) => eevdfClass(p), { cpus: 2 }); // default 950 ms / 1 s RT bandwidth
    m.spawn(hog, { uid: 0, policy: SCHED_FIFO, rtPriority: 90, affinity: [1], name: "H" });
    m.spawn(hog, { affinity: [1], name: "G" });
    m.run(500 * MS);
    const late = program("P", function* (sys) {
      yield* sys.sleep(460 * MS);
      for (;;) yield* sys.compute(100 * SEC);
    });
    const p = m.spawn(late, { uid: 0, policy: SCHED_FIFO, rtPriority: 50, affinity: [0], name: "P" });
    const a = m.spawn(hog, { uid: 0, policy: SCHED_FIFO, rtPriority: 50, affinity: [0, 1], name: "A" });
    m.run(955 * MS);
    expect(m.task(a)!.cpu).toBe(0);
    expect(m.kernel.rqs[0]!.curr.pid).toBe(a);
    m.run(961 * MS); // P woke at 960 ms; CPU 1 is throttled since 950 ms
    const a0 = m.task(a)!.sumExecRuntime;
    m.run(3 * SEC);
    console.log("A cpu", m.task(a)!.cpu, "A ran after 961ms:", (m.task(a)!.sumExecRuntime - a0) / MS, "ms; P on", m.task(p)!.cpu);
    expect(m.task(a)!.cpu).toBe(0); // Linux: cpupri says CPU 1 is at FIFO 90, A stays
  });
});

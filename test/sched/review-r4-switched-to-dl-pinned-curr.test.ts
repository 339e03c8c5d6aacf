/**
 * R4: a queued task switched to SCHED_DEADLINE with an earlier deadline than the PINNED deadline
 * curr. changeSched runs checkPreempt (resched) and then taskWoken (task_woken_dl), which returns
 * at once because need_resched is set, so nothing is pushed: F preempts the pinned A, which waits,
 * while CPU 1 runs only fair work. Linux's switched_to_dl queues push_dl_tasks whenever
 * p->nr_cpus_allowed > 1 && dl.overloaded; push_dl_task only declines (resched) when curr can move
 * (rq->curr->nr_cpus_allowed > 1); with a pinned curr it pushes F to the free CPU 1, and A keeps CPU 0.
 */
import { describe, expect, it } from "vitest";
import { program } from "../../src/user/program.ts";
import { eevdfClass } from "../../src/kernel/sched/eevdf.ts";
import { SCHED_DEADLINE, SCHED_FIFO } from "../../src/kernel/task/task.ts";
import { bootChain, MS, SEC } from "./chain.ts";

const hog = program("hog", function* (sys) { for (;;) yield* sys.compute(100 * SEC); });
const dlAttr = (r: number, d: number, p: number) => ({ sched_policy: SCHED_DEADLINE, sched_flags: 0, sched_runtime: r, sched_deadline: d, sched_period: p });

describe("R4 switched_to_dl behind a pinned deadline curr", () => {
  it("F (made DL, earlier deadline, movable) is pushed to CPU 1; pinned A keeps CPU 0", () => {
    const m = bootChain((p) => eevdfClass(p), { cpus: 3, rtRuntime: -1 }); // no admission control: pinned DL allowed
    const a = m.spawn(hog, { uid: 0, policy: SCHED_DEADLINE, dl: { runtime: 90 * MS, deadline: 100 * MS, period: 100 * MS }, affinity: [0], name: "A" });
    const g = m.spawn(hog, { affinity: [1], name: "G" });
    m.spawn(hog, { affinity: [2], name: "G2" });
    const f = m.spawn(hog, { affinity: [0], name: "F" });
    m.run(2 * MS);
    const out: unknown[] = [];
    m.spawn(program("ctl", function* (sys) {
      out.push(yield* sys.sched_setaffinity(f, [0, 1]));
      out.push(yield* sys.syscall("sched_setattr", f, dlAttr(10 * MS, 20 * MS, 20 * MS), 0));
    }), { uid: 0, policy: SCHED_FIFO, rtPriority: 99, affinity: [2] });
    m.run(m.now + 100_000);
    expect(out).toEqual([0, 0]);
    console.log("F cpu", m.task(f)!.cpu, "rq0 curr", m.kernel.rqs[0]!.curr.comm, "rq1 curr", m.kernel.rqs[1]!.curr.comm, "G", g);
    expect(m.task(f)!.cpu).toBe(1);
    expect(m.kernel.rqs[0]!.curr.pid).toBe(a);
  });
});

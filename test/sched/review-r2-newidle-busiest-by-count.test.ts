/**
 * R2: newIdleBalance picks "busiest" by task count (busiestFirst), and since 84a2a36 it stops
 * there when that CPU's running task could move. Linux's sched_balance_rq picks the busiest
 * group by group type, then avg_load (update_sd_pick_busiest), as TaskLab's periodic pass does
 * (busierThan). CPU 0: three nice-19 hogs (load 45), only the running one movable; CPU 2: two
 * nice-0 hogs (load 2048), both movable. Linux's new-idle pass on CPU 1 pulls from CPU 2.
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import { SCHED_FIFO } from "../../src/kernel/task/task.ts";

const MS = 1_000_000;
const hog = program("hog", function* (sys) { for (;;) yield* sys.compute(1e12); });

describe.each(["linux-6", "linux-5"])("R2 %s", (sched) => {
  it("CPU 1 going idle pulls from the loaded CPU 2, not stop at the 3-task low-load CPU 0", () => {
    const m = new Machine({ cpus: 3, sched });
    for (let i = 0; i < 3; i++) m.spawn(hog, { affinity: [0], nice: 19 });
    m.spawn(hog, { affinity: [2] });
    m.spawn(hog, { affinity: [2] });
    m.run(5 * MS);
    const free = [...m.kernel.rqs[2]!.tasks].map((t) => t.pid);
    const run0 = m.kernel.rqs[0]!.curr.pid;
    const moves: string[] = [];
    const idle: number[] = [];
    m.kernel.trace.subscribe((e) => {
      if (e.name === "sched_migrate_task" && e.pid !== 1) moves.push(`${e.ts / MS}:${e.pid}:${e.orig_cpu}->${e.dest_cpu}`);
      if (e.name === "sched_switch" && e.cpu === 1 && e.next_pid === 0) idle.push(e.ts / MS);
    });
    m.spawn(program("ctl", function* (sys) {
      for (const pid of free) yield* sys.sched_setaffinity(pid, [0, 1, 2]);
      yield* sys.sched_setaffinity(run0, [0, 1, 2]);
      return 0;
    }), { affinity: [1], uid: 0, policy: SCHED_FIFO, rtPriority: 50 });
    m.run(m.now + 0.5 * MS);
    console.log(sched, "loads", m.kernel.rqs.map((r) => r.nrRunning), "rq0 curr", m.kernel.rqs[0]!.curr.pid, "run0", run0, "idle", idle, "moves", moves);
    expect(moves.some((s) => s.endsWith("2->1"))).toBe(true);
  });
});

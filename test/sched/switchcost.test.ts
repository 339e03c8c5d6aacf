/**
 * Context-switch cost (a simulation parameter): switching between processes
 * costs contextSwitchCost (the mm switch), between threads of one process
 * threadSwitchCost; the time is charged as system time to the incoming task
 * and delays its work, so a burst ends that much later.
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import { CLONE_THREAD_FLAGS } from "../../src/user/libc.ts";
import { procStatus } from "../../src/observe/proc.ts";

const MS = 1e6;
const US = 1e3;

function twoHogs(threads: boolean, opts: { contextSwitchCost: number; threadSwitchCost: number }) {
  const m = new Machine({ cpus: 1, sched: "linux-6", ...opts });
  const ends: number[] = [];
  const work = function* (sys: import("../../src/user/sys.ts").SysApi) {
    yield* sys.compute(20 * MS);
    ends.push(yield* sys.now());
    return 0;
  };
  if (threads) {
    m.spawn(
      program("pair", function* (sys) {
        yield* sys.clone(CLONE_THREAD_FLAGS, work);
        yield* work(sys);
        yield* sys.sleep(100 * MS);
        return 0;
      }),
    );
  } else {
    m.spawn(program("a", work));
    m.spawn(program("b", work));
  }
  // The cost of each task-to-task switch, by whether the two share an address space.
  const switches: { ts: number; cost: number }[] = [];
  m.kernel.trace.subscribe((e) => {
    if (e.name !== "sched_switch" || e.prev_pid === 0 || e.next_pid === 0) return;
    const prev = m.kernel.task(e.prev_pid);
    const next = m.kernel.task(e.next_pid);
    const same = prev?.mm != null && prev.mm === next?.mm;
    switches.push({ ts: e.ts, cost: same ? opts.threadSwitchCost : opts.contextSwitchCost });
  });
  m.run(80 * MS);
  ends.sort((x, y) => x - y);
  const last = ends.at(-1)!;
  // Switches before the last burst ended are the ones that delayed the work.
  const delay = switches.filter((x) => x.ts < last).reduce((a, x) => a + x.cost, 0);
  return { m, ends, switches: switches.length, delay };
}

describe("context-switch cost", () => {
  it("switchcost: between processes each switch adds contextSwitchCost; the last burst ends that much later", () => {
    const free = twoHogs(false, { contextSwitchCost: 0, threadSwitchCost: 0 });
    const paid = twoHogs(false, { contextSwitchCost: 100 * US, threadSwitchCost: 10 * US });
    expect(free.ends.at(-1)).toBe(40 * MS); // 2 x 20 ms of work, nothing else
    expect(paid.switches).toBeGreaterThan(2);
    // Every switch before the end delays the work behind it by its cost.
    expect(paid.delay).toBeGreaterThan(0);
    expect(paid.ends.at(-1)! - 40 * MS).toBe(paid.delay);
  });

  it("switchcost: threads of one process switch at threadSwitchCost (no mm switch)", () => {
    const paid = twoHogs(true, { contextSwitchCost: 100 * US, threadSwitchCost: 10 * US });
    const procs = twoHogs(false, { contextSwitchCost: 100 * US, threadSwitchCost: 10 * US });
    expect(paid.ends).toHaveLength(2);
    expect(paid.ends.at(-1)! - 40 * MS).toBe(paid.delay);
    expect(paid.delay).toBeLessThan(procs.delay); // the same dance costs less between threads
  });

  it("switchcost: the cost is system time of the incoming task (utime stays the work done)", () => {
    const { m } = twoHogs(false, { contextSwitchCost: 100 * US, threadSwitchCost: 0 });
    m.run(30 * MS);
    for (const pid of [2, 3]) {
      const t = m.task(pid);
      if (t) expect(t.utime).toBeLessThanOrEqual(20 * MS);
    }
    expect(procStatus(m.kernel, 1)).toMatch(/voluntary_ctxt_switches:\t\d+/);
  });
});

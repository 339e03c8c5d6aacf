/**
 * sched_setattr / sched_setscheduler on a queued task that is not running
 * (__sched_setscheduler -> check_class_changed): a change of class runs
 * switched_to, a change of priority prio_changed, and either may preempt the
 * caller; a change that leaves both alone (a custom slice, SCHED_NORMAL <->
 * SCHED_BATCH or SCHED_IDLE at the same nice) checks no preemption: the
 * caller keeps the CPU.
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import { SCHED_BATCH, SCHED_NORMAL } from "../../src/kernel/task/task.ts";

const MS = 1_000_000;

/** boss computes, then sched_setattr(child, attr), then computes 1 ms more and exits: when was it first switched out after the call? */
function run(sched: string, variant: "shortslice" | "batch2normal"): { setattrAt: number; bossOffAt: number } {
  const m = new Machine({ cpus: 1, sched });
  let childPid = -1;
  let setattrAt = -1;
  const child =
    variant === "batch2normal"
      ? program("batchworker", function* (sys) {
          for (;;) {
            yield* sys.sleep(3 * MS);
            yield* sys.compute(1e12);
          }
        })
      : program("hog", function* (sys) {
          for (;;) yield* sys.compute(1e12);
        });
  const boss = program("boss", function* (sys) {
    if (variant === "shortslice") yield* sys.syscall("sched_setattr", 0, { sched_policy: SCHED_NORMAL, sched_runtime: 50 * MS }, 0);
    yield* sys.compute(variant === "batch2normal" ? 5.5 * MS : 10 * MS);
    setattrAt = yield* sys.now();
    const attr = variant === "shortslice" ? { sched_policy: SCHED_NORMAL, sched_runtime: 100_000 } : { sched_policy: SCHED_NORMAL };
    expect(yield* sys.syscall("sched_setattr", childPid, attr, 0)).toBe(0);
    yield* sys.compute(1 * MS);
    return 0;
  });
  const b = m.spawn(boss);
  childPid = m.spawn(child, { policy: variant === "batch2normal" ? SCHED_BATCH : SCHED_NORMAL });
  let bossOffAt = -1;
  m.kernel.trace.subscribe((e) => {
    if (e.name === "sched_switch" && setattrAt >= 0 && bossOffAt < 0 && e.prev_pid === b) bossOffAt = e.ts;
  });
  m.run(200 * MS);
  expect(m.kernel.warnings).toEqual([]);
  return { setattrAt, bossOffAt };
}

describe("sched_setattr on a queued task whose class and priority stay", () => {
  it("setattrnopreempt: EEVDF: a 0.1 ms slice given to a queued hog does not take the CPU from a caller inside its 50 ms request (no prio_changed, so no PREEMPT_SHORT)", () => {
    const r = run("linux-6", "shortslice");
    expect(r.setattrAt).toBeGreaterThan(0);
    expect(r.bossOffAt).toBe(r.setattrAt + 1 * MS); // it finishes its last 1 ms and exits
  });

  it("setattrnopreempt: CFS: SCHED_BATCH -> SCHED_NORMAL of a queued task with sleeper credit does not preempt the caller (same prio: no wakeup check)", () => {
    const r = run("linux-5", "batch2normal");
    expect(r.setattrAt).toBeGreaterThan(0);
    expect(r.bossOffAt).toBe(r.setattrAt + 1 * MS);
  });
});

describe("sched_yield in the trace", () => {
  it("yieldstate: a task that yields is switched out with prev_state R, not R+ (it called schedule() itself: __trace_sched_switch_state without preempt), counted in nivcsw as Linux counts it, and the metrics see it runnable", async () => {
    const { MetricsRecorder } = await import("../../src/observe/metrics.ts");
    const m = new Machine({ cpus: 1 });
    const rec = MetricsRecorder.attach(m);
    const y = m.spawn(program("yielder", function* (sys) {
      for (let i = 0; i < 3; i++) {
        yield* sys.compute(1 * MS);
        yield* sys.sched_yield();
      }
      return 0;
    }));
    m.spawn(program("hog", function* (sys) {
      yield* sys.compute(20 * MS);
      return 0;
    }));
    const states: string[] = [];
    m.kernel.trace.subscribe((e) => {
      if (e.name === "sched_switch" && e.prev_pid === y) states.push(e.prev_state);
    });
    const before = () => m.task(y)?.nivcsw ?? 0;
    m.run(2 * MS);
    expect(states[0]).toBe("R"); // its first yield, at 1 ms
    expect(before()).toBe(1);
    m.run();
    expect(states.filter((s) => s === "R").length).toBeGreaterThanOrEqual(2); // (a yield with nobody eligible to run instead switches nothing)
    const r = rec.finish(m.now);
    const t = r.tasks.find((x) => x.pid === y)!;
    expect(t.involuntarySwitches).toBe(states.filter((s) => s === "R" || s === "R+").length); // yields count as involuntary, as nivcsw
    expect(t.waiting).toBeGreaterThan(0); // waiting while the hog ran: not taken for asleep
  });
});

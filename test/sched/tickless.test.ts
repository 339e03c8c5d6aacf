/**
 * Tickless in the implementation, tick-exact in behaviour (DESIGN.md section 2):
 * a CPU wakes only at the ticks its classes ask for. The same machine made to
 * wake at every tick (each class's nextCheck capped at "now", so every tick
 * runs taskTick as a ticking kernel would) must schedule exactly the same:
 * the same switches and migrations, at the same times, on the same CPUs.
 * The mix has fair hogs and sleepers, FIFO, RR and deadline tasks on 2 CPUs.
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import { Rng } from "../../src/sim/engine.ts";
import { SCHED_DEADLINE, SCHED_FIFO, SCHED_RR } from "../../src/kernel/task/task.ts";

const hog = program("hog", function* (sys) {
  for (;;) yield* sys.compute(1e9);
});
const periodic = (run: number, nap: number) =>
  program("per", function* (sys) {
    for (;;) {
      yield* sys.compute(run);
      yield* sys.sleep(nap);
    }
  });

/** Switches and migrations, per instant and per CPU in the order they happened there (CPUs of one instant are independent). */
function trace(sched: string, seed: number, everyTick: boolean): string[] {
  const m = new Machine({ cpus: 2, sched });
  if (everyTick) {
    for (let i = 0; i < m.kernel.classes.length - 1; i++) {
      const c = m.kernel.classes[i]!;
      const orig = c.nextCheck;
      c.nextCheck = (rq, curr) => Math.min(orig(rq, curr), curr.execStart);
    }
  }
  const out: { ts: number; cpu: number; line: string }[] = [];
  m.kernel.trace.subscribe((e) => {
    if (e.name === "sched_switch") out.push({ ts: e.ts, cpu: e.cpu, line: `${e.ts} cpu${e.cpu} switch ${e.prev_pid}->${e.next_pid}` });
    if (e.name === "sched_migrate_task") out.push({ ts: e.ts, cpu: e.cpu, line: `${e.ts} migrate ${e.pid} ${e.orig_cpu}->${e.dest_cpu}` });
  });
  const r = new Rng(seed);
  const us = (lo: number, hi: number): number => r.int(lo, hi) * 1000;
  for (let i = 0; i < 3; i++) m.spawn(hog, { nice: r.int(-5, 5) });
  for (let i = 0; i < 3; i++) {
    const slice = sched === "linux-6" && r.int(0, 1) === 1 ? us(100, 3000) : undefined;
    m.spawn(periodic(us(50, 2000), us(200, 8000)), { nice: r.int(-5, 5), slice });
  }
  m.spawn(periodic(us(100, 1000), us(1000, 20_000)), { policy: SCHED_FIFO, rtPriority: r.int(1, 99) });
  m.spawn(periodic(us(100, 30_000), us(1000, 50_000)), { policy: SCHED_RR, rtPriority: 50 });
  m.spawn(periodic(us(100, 30_000), us(1000, 50_000)), { policy: SCHED_RR, rtPriority: 50 });
  m.spawn(periodic(us(500, 2000), us(5000, 20_000)), { policy: SCHED_DEADLINE, dl: { runtime: 3_000_000, deadline: 20_000_000, period: 20_000_000 } });
  m.run(2e9);
  out.sort((a, b) => a.ts - b.ts || a.cpu - b.cpu); // stable: keeps each CPU's own order within an instant
  return out.map((x) => x.line);
}

// Seeds 1-8 by default; others on request: TASKLAB_TICKEXACT_SEEDS=1,2,...,30 npx vitest run test/sched/tickless.test.ts
// (seeds 1-30 pass under both presets). Exactness depends on the fair classes charging a run that spans
// skipped ticks piece by piece (fair_common.ts firstTickIn): charged in one step, vruntimes differ in the
// last bits, and some seeds then part ways at a pick between nearly equal vruntimes.
const SEEDS = (process.env.TASKLAB_TICKEXACT_SEEDS ?? "1,2,3,4,5,6,7,8").split(",").filter((x) => x !== "").map(Number);

describe.each(["linux-6", "linux-5"])("preset %s", (sched) => {
  it.each(SEEDS)("tickexact: waking at every tick schedules exactly as waking only when asked (seed %i)", (seed) => {
    const lazy = trace(sched, seed, false);
    const ticking = trace(sched, seed, true);
    expect(lazy.length).toBeGreaterThan(500);
    const at = lazy.findIndex((l, i) => l !== ticking[i]);
    expect(at === -1 ? null : `event ${at}: ${lazy[at]} | every tick: ${ticking[at]}`).toBeNull();
    expect(ticking.length).toBe(lazy.length);
  });
});

/**
 * Randomized property test: random programs built from a small op alphabet
 * (fork, exit, wait, kill with SIGKILL/SIGSTOP/SIGCONT/SIGTERM, compute, sleep,
 * io, setsid, setpgid, nice, sched_yield, threads, exec) run on 1-4 CPUs while
 * every kernel invariant is checked after every event (see invariants.ts).
 * At the end everything is killed and init must leave a clean machine: no task,
 * no pid, no group, no session left over.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { scenario, runScenario } from "./randomprog.ts";

describe("kernel invariants under random programs", () => {
  it("randomprograms: every invariant holds after every event, and kill -9 -1 leaves a clean machine", () => {
    let events = 0;
    let tasks = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const r = runScenario(s);
        events += r.events;
        tasks += r.tasks;
      }),
      { numRuns: Number(process.env.TASKLAB_PROPERTY_RUNS ?? 3000), seed: Number(process.env.TASKLAB_PROPERTY_SEED ?? 20240601) },
    );
    expect(events).toBeGreaterThan(10_000);
    expect(tasks).toBeGreaterThan(5_000);
  });
});

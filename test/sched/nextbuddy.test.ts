/**
 * EEVDF's NEXT_BUDDY (kernel/sched/features.h, off by default; fair.c 6.12):
 * check_preempt_wakeup_fair() marks a waking task (not a new one, not a
 * delayed one) as the queue's next buddy, and pick_next_entity() takes the
 * buddy while it is eligible, before pick_eevdf()'s earliest deadline. The
 * buddy is cleared when it is picked, dequeued or yields.
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import { SCHED_BATCH } from "../../src/kernel/task/task.ts";
import type { EevdfRq } from "../../src/kernel/sched/eevdf.ts";
import { checkInvariants } from "../kernel/invariants.ts";

const MS = 1_000_000;

const hog = program("hog", function* (sys) {
  for (;;) yield* sys.compute(1e12);
});

/**
 * One CPU: a hog with 20 ms requests, and two BATCH tasks (they never preempt
 * on wakeup, but a waking BATCH task is still marked as the buddy) that wake
 * at 21 and 21.5 ms, A first. The order in which they next run tells who the
 * pick chose when the hog's request ran out.
 */
function firstRuns(features: string): string[] {
  const m = new Machine({ cpus: 1, sched: "linux-6", schedFeatures: features });
  const order: string[] = [];
  m.kernel.trace.subscribe((e) => {
    if (e.name === "sched_switch" && e.ts > 20 * MS && (e.next_comm === "A" || e.next_comm === "B") && !order.includes(e.next_comm)) order.push(e.next_comm);
  });
  const sleeper = (name: string, wakeAt: number) =>
    program(name, function* (sys) {
      yield* sys.sleep(wakeAt - (yield* sys.now())); // wake at wakeAt, whenever it first ran
      yield* sys.compute(1 * MS);
    });
  // The hog asks for 20 ms requests (a custom slice; its first is half that): the second ends at 30 ms,
  // and the tick at 32 ms picks between A and B, with the hog (far ahead in vruntime) still queued.
  m.spawn(hog, { slice: 20 * MS });
  // A is heavier (nice -5: a shorter virtual request, an earlier deadline), so pick_eevdf() prefers it.
  m.spawn(sleeper("A", 21 * MS), { policy: SCHED_BATCH, name: "A", nice: -5, uid: 0 });
  m.spawn(sleeper("B", 21.5 * MS), { policy: SCHED_BATCH, name: "B", nice: 5 });
  m.run(60 * MS);
  return order;
}

describe("EEVDF NEXT_BUDDY", () => {
  it("nextbuddy: off (the default), the earliest eligible deadline runs first: the heavier task, which also woke first", () => {
    expect(firstRuns("NO_DELAY_DEQUEUE")).toEqual(["A", "B"]);
  });

  it("nextbuddy: on, the last task to wake is the buddy and runs first while it is eligible (latency, not fairness)", () => {
    expect(firstRuns("NO_DELAY_DEQUEUE NEXT_BUDDY")).toEqual(["B", "A"]);
  });

  it("nextbuddy: the buddy is always a runnable entity of its queue, and cleared when picked (invariants under churn)", () => {
    const m = new Machine({ cpus: 2, sched: "linux-6", schedFeatures: "NEXT_BUDDY" });
    const errors: string[] = [];
    const napper = (i: number) =>
      program(`n${i}`, function* (sys) {
        for (let r = 0; r < 40; r++) {
          yield* sys.compute(((i * 7 + r * 3) % 5) * 300_000 + 100_000);
          yield* sys.sleep(((i * 5 + r) % 4) * 700_000 + 200_000);
          if (r % 9 === 4) yield* sys.sched_yield();
        }
      });
    for (let i = 0; i < 8; i++) m.spawn(napper(i));
    m.spawn(hog);
    // One event at a time, the invariants after each (as the property test does).
    while (m.now < 400 * MS && m.run(400 * MS, 1) > 0) {
      try {
        checkInvariants(m.kernel);
      } catch (e) {
        if (errors.length < 3) errors.push((e as Error).message);
      }
    }
    expect(errors).toEqual([]);
    for (const rq of m.kernel.rqs) {
      const next = (rq.cfs as EevdfRq).next;
      if (next !== null) expect(next.onRq).toBe(true);
    }
  });
});

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Engine, EventQueue, Prio, Timer } from "../src/sim/engine.ts";

/** Reference model: the armed timers with the key each got when last armed. */
interface Ref {
  t: Timer;
  time: number;
  prio: number;
  seq: number;
}

const before = (a: Ref, b: Ref): boolean => a.time !== b.time ? a.time < b.time : a.prio !== b.prio ? a.prio < b.prio : a.seq < b.seq;

describe("EventQueue", () => {
  it("pops in (time, priority, sequence) order through any mix of arm, re-arm, cancel and pop (property)", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("arm" as const), timer: fc.nat(39), time: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ kind: fc.constant("cancel" as const), timer: fc.nat(39) }),
      fc.record({ kind: fc.constant("pop" as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const q = new EventQueue();
        const timers = Array.from({ length: 40 }, (_, i) => new Timer(i % 4, () => {}));
        const model = new Map<Timer, Ref>();
        let seq = 0;
        for (const o of ops) {
          if (o.kind === "arm") {
            const t = timers[o.timer]!;
            q.arm(t, o.time);
            model.set(t, { t, time: o.time, prio: t.prio, seq: seq++ });
          } else if (o.kind === "cancel") {
            const t = timers[o.timer]!;
            q.cancel(t);
            model.delete(t);
          } else if (model.size > 0) {
            const want = [...model.values()].reduce((a, b) => (before(b, a) ? b : a));
            expect(q.pop()).toBe(want.t);
            model.delete(want.t);
          }
          expect(q.size).toBe(model.size);
          for (const t of timers) expect(t.armed).toBe(model.has(t));
        }
        // Draining gives the model's order exactly.
        const rest = [...model.values()].sort((a, b) => (before(a, b) ? -1 : 1)).map((r) => r.t);
        const got: Timer[] = [];
        while (q.size > 0) got.push(q.pop());
        expect(got).toEqual(rest);
      }),
      { numRuns: 300 },
    );
  });

  it("equal time and priority fire first-in-first-out; a re-armed timer counts as newest", () => {
    const e = new Engine();
    const order: string[] = [];
    const mk = (name: string, prio: number): Timer => new Timer(prio, () => order.push(name));
    const a = mk("a", Prio.CPU);
    const b = mk("b", Prio.CPU);
    const c = mk("c", Prio.TIMER);
    e.arm(a, 10);
    e.arm(b, 10);
    e.arm(c, 10);
    e.arm(a, 10); // re-armed: now after b
    e.run();
    expect(order).toEqual(["c", "b", "a"]);
  });

  it("grows past its initial capacity and keeps order", () => {
    const q = new EventQueue();
    const ts = Array.from({ length: 1000 }, () => new Timer(0, () => {}));
    ts.forEach((t, i) => q.arm(t, (i * 7919) % 1000));
    const times: number[] = [];
    while (q.size > 0) times.push(q.pop().time);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(times.length).toBe(1000);
  });
});

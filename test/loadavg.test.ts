/**
 * /proc/loadavg (kernel/sched/loadavg.c): every 5 s + 1 tick the number of
 * runnable plus uninterruptible tasks is folded into three decaying averages
 * with EXP_1 = 1884, EXP_5 = 2014, EXP_15 = 2037 out of 2048.
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../src/user/machine.ts";
import { program } from "../src/user/program.ts";
import { procLoadavg } from "../src/observe/proc.ts";

const S = 1e9;
const hog = program("hog", function* (sys) {
  for (;;) yield* sys.compute(S);
});

/** The closed form of n samples of a constant load a from 0: a * (1 - (e/2048)^n). */
const expect1 = (a: number, n: number, e: number): number => a * (1 - (e / 2048) ** n);

function averages(m: Machine): number[] {
  return procLoadavg(m.kernel).split(" ").slice(0, 3).map(Number);
}

describe("load average", () => {
  it("loadavg: two hogs for 60 s on one CPU give 1-, 5- and 15-minute averages of the decay law", () => {
    const m = new Machine({ cpus: 1 });
    m.spawn(hog);
    m.spawn(hog);
    m.run(60 * S);
    const n = Math.floor((60 * S) / (5 * S + 4e6)); // samples at 5.004 s, 10.008 s, ...
    const [l1, l5, l15] = averages(m);
    expect(l1).toBeCloseTo(expect1(2, n, 1884), 1);
    expect(l5).toBeCloseTo(expect1(2, n, 2014), 1);
    expect(l15).toBeCloseTo(expect1(2, n, 2037), 1);
    expect(procLoadavg(m.kernel)).toMatch(/ 2\/3 \d+\n$/); // running/total: two hogs + init's thread count
  });

  it("loadavgfirst: the first sample is at boot + LOAD_FREQ, 5 s and one tick (5.004 s at HZ 250)", () => {
    const m = new Machine({ cpus: 1 });
    m.spawn(hog);
    m.run(5 * S);
    expect(averages(m)).toEqual([0, 0, 0]);
    m.run(5 * S + 3_999_999);
    expect(averages(m)).toEqual([0, 0, 0]);
    m.run(5 * S + 4e6);
    expect(averages(m)[0]).toBeCloseTo(expect1(1, 1, 1884), 2); // 0.08
  });

  it("loadavg: uninterruptible sleepers (D) count, interruptible ones (S) do not, and the average decays when all sleep", () => {
    const io = program("io", function* (sys) {
      yield* sys.io(30 * S);
    });
    const nap = program("nap", function* (sys) {
      yield* sys.sleep(30 * S);
    });
    const m = new Machine({ cpus: 2 });
    for (let i = 0; i < 3; i++) m.spawn(io);
    for (let i = 0; i < 3; i++) m.spawn(nap);
    m.run(30 * S);
    const [l1] = averages(m);
    const n = Math.floor((30 * S) / (5 * S + 4e6));
    expect(l1).toBeCloseTo(expect1(3, n, 1884), 1);
    m.run(90 * S);
    expect(averages(m)[0]!).toBeLessThan(l1 / 2);
  });

  it("reading /proc/loadavg changes nothing: the same run with and without reads ends the same", () => {
    const run = (read: boolean): string => {
      const m = new Machine({ cpus: 1 });
      m.spawn(hog);
      for (let t = 1; t <= 20; t++) {
        m.run(t * S);
        if (read) procLoadavg(m.kernel);
      }
      return procLoadavg(m.kernel);
    };
    expect(run(true)).toBe(run(false));
  });
});

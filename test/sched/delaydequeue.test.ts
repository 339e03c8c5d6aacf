/**
 * EEVDF's delayed dequeue (Linux 6.12, kernel/sched/fair.c):
 * - dequeue_entity(): a task going to sleep while not eligible (negative lag)
 *   is not dequeued; it stays in the tree, counted in V (DELAY_DEQUEUE);
 * - pick_next_entity(): when pick_eevdf() picks it, it leaves instead of
 *   running, and finish_delayed_dequeue_entity() cuts a positive lag to 0
 *   (DELAY_ZERO);
 * - ttwu_runnable() -> requeue_delayed_entity(): woken before that, it keeps
 *   its place (placed again at V only if its lag became positive);
 * - DEQUEUE_SPECIAL: stopped, traced and dead tasks are never delayed.
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import { ENQUEUE_DELAYED, ENQUEUE_WAKEUP } from "../../src/kernel/sched/class.ts";
import { seOf } from "../../src/kernel/sched/fair_common.ts";
import { avgVruntime, type EevdfRq } from "../../src/kernel/sched/eevdf.ts";
import { SIGCONT, SIGSTOP } from "../../src/kernel/signal/signals.ts";
import { SCHED_FIFO, TASK_RUNNING, type Task } from "../../src/kernel/task/task.ts";
import { psRows } from "../../src/observe/ps.ts";
import { ParamError } from "../../src/kernel/param.ts";
import { setUserNice } from "../../src/kernel/sched/prio.ts";
import { schedSetattr } from "../../src/kernel/sched/sched_syscalls.ts";

const hog = program("hog", function* (sys) {
  for (;;) yield* sys.compute(1e12);
});

/** Runs a burst (5 ms, or 1 to 8 ms in turn if `varied`), sleeps `sleepNs`, forever. */
const napper = (sleepNs: number, varied = false) =>
  program("napper", function* (sys) {
    for (let i = 0; ; i++) {
      yield* sys.compute(varied ? 1_000_000 + ((i * 3) % 8) * 1_000_000 : 5_000_000);
      yield* sys.sleep(sleepNs);
    }
  });

/** Calls `after` after each dequeue and enqueue of the fair class (classes[0] in the eevdf preset). */
function spyFair(m: Machine, on: { deq?: (p: Task, flags: number, ret: boolean | void) => void; enq?: (p: Task, flags: number, before: { v: number; d: number }) => void }): void {
  const cls = m.kernel.classes[0]!;
  const deq = cls.dequeueTask.bind(cls);
  const enq = cls.enqueueTask.bind(cls);
  cls.dequeueTask = (rq, p, flags) => {
    const ret = deq(rq, p, flags);
    on.deq?.(p, flags, ret);
    return ret;
  };
  cls.enqueueTask = (rq, p, flags) => {
    const se = seOf(p);
    const before = { v: se.vruntime, d: se.deadline };
    enq(rq, p, flags);
    on.enq?.(p, flags, before);
  };
}

describe("EEVDF DELAY_DEQUEUE (Linux 6.12)", () => {
  it("a task that blocks while not eligible stays queued (counted in V, not in nr_running) until picked, then leaves with lag 0 (DELAY_ZERO)", () => {
    const m = new Machine({ cpus: 1, sched: "eevdf" });
    m.spawn(hog);
    m.spawn(hog, { nice: 3 });
    const n = m.spawn(napper(20_000_000, true)); // blocks sometimes eligible (then it leaves at once), sometimes not
    const rq = m.kernel.rqs[0]!;
    const cfs = rq.cfs as EevdfRq;
    let delayed = 0;
    let plain = 0;
    let finished = 0;
    let wasDelayed = false;
    spyFair(m, {
      deq: (p, _flags, ret) => {
        if (p.pid !== n) return;
        const se = seOf(p);
        if (ret === false) {
          delayed++;
          wasDelayed = true;
          expect(se.delayed).toBe(true);
          expect(se.onRq).toBe(true); // still in the fair queue ...
          expect(cfs.nrDelayed).toBe(1);
        } else plain++;
      },
      enq: (p, flags) => {
        if (p.pid !== n || !(flags & ENQUEUE_WAKEUP)) return;
        if (wasDelayed && !(flags & ENQUEUE_DELAYED)) {
          // Its delayed dequeue was finished by a pick while it slept: it left with lag 0 and joins at V.
          expect(seOf(p).vlag).toBe(0);
          expect(avgVruntime(cfs) - seOf(p).vruntime).toBeCloseTo(0, 3);
          finished++;
        }
        wasDelayed = false;
      },
    });
    let sawQueuedAsleep = 0;
    m.kernel.trace.subscribe((e) => {
      if (e.name !== "sched_switch" || e.prev_pid !== n || e.prev_state !== "S") return;
      const p = m.task(n)!;
      if (!seOf(p).delayed) return;
      // ... but asleep to everyone else: not on the runqueue, not in nr_running, S in ps.
      expect(p.onRq).toBe(false);
      expect(p.state).not.toBe(TASK_RUNNING);
      expect(rq.nrRunning).toBe(2);
      expect(cfs.nrRunning).toBe(3);
      expect(psRows(m.kernel).find((r) => r.pid === n)?.stat).toMatch(/^S/);
      sawQueuedAsleep++;
    });
    m.run(5e9);
    expect(delayed).toBeGreaterThan(3);
    expect(plain).toBeGreaterThan(3); // an eligible sleeper is not delayed
    expect(sawQueuedAsleep).toBe(delayed);
    expect(finished).toBeGreaterThan(3);
  });

  it("woken before it is picked, a delayed task keeps its vruntime and deadline (requeue_delayed_entity), or is placed at V if its lag turned positive", () => {
    const m = new Machine({ cpus: 1, sched: "eevdf" });
    m.spawn(hog);
    m.spawn(hog, { nice: -2 });
    const n = m.spawn(napper(100_000)); // wakes 0.1 ms later: before the next pick, which waits for a tick
    const cfs = m.kernel.rqs[0]!.cfs as EevdfRq;
    let kept = 0;
    let replaced = 0;
    spyFair(m, {
      enq: (p, flags, before) => {
        if (p.pid !== n || !(flags & ENQUEUE_DELAYED)) return;
        const se = seOf(p);
        expect(se.delayed).toBe(false);
        expect(cfs.nrDelayed).toBe(0);
        if (se.vruntime === before.v && se.deadline === before.d) kept++;
        else {
          expect(avgVruntime(cfs) - se.vruntime).toBeCloseTo(0, 3); // DELAY_ZERO: lag > 0 dropped, placed at V
          replaced++;
        }
      },
    });
    m.run(2e9);
    expect(kept).toBeGreaterThan(5);
    expect(kept + replaced).toBeGreaterThan(5);
  });

  /** Steps the machine until the napper `n` is asleep with its dequeue delayed. */
  function untilDelayed(m: Machine, n: number): Task {
    for (let i = 0; i < 1_000_000; i++) {
      const p = m.task(n)!;
      if (p.state !== TASK_RUNNING && seOf(p).delayed) return p;
      if (m.run(Infinity, 1) === 0) break;
    }
    throw new Error("the napper never went to sleep delayed");
  }

  it("6.12 keeps a delayed task delayed across a nice change: it is taken off the queue and put back, re-weighted, and still asleep (set_user_nice: DEQUEUE_SAVE / ENQUEUE_RESTORE)", () => {
    const m = new Machine({ cpus: 1, sched: "eevdf" });
    m.spawn(hog);
    m.spawn(hog, { nice: 3 });
    const n = m.spawn(napper(20_000_000, true));
    const p = untilDelayed(m, n);
    const rq = m.kernel.rqs[0]!;
    const cfs = rq.cfs as EevdfRq;
    const load = cfs.load;
    const queued = cfs.nrRunning;
    setUserNice(m.kernel, p, 10);
    const se = seOf(p);
    expect(se.delayed).toBe(true);
    expect(se.onRq).toBe(true);
    expect(p.onRq).toBe(false); // still asleep to the core
    expect(cfs.nrDelayed).toBe(1);
    expect(cfs.nrRunning).toBe(queued);
    expect(cfs.load).toBe(load - 1024 + 110); // its weight is nice 10's now
    expect(rq.nrRunning).toBe(2);
    // The run goes on: the delayed task is picked (and leaves) or woken (and stays), as before.
    m.run(m.now + 2e9);
    expect(m.task(n)!.nice).toBe(10);
    expect(seOf(m.task(n)!).weight).toBe(110);
  });

  it("a delayed task moved out of the fair class completes its dequeue first (__sched_setscheduler), and wakes as a FIFO task", () => {
    const m = new Machine({ cpus: 1, sched: "linux-6" });
    m.spawn(hog);
    m.spawn(hog, { nice: 3 });
    const n = m.spawn(napper(20_000_000, true));
    const p = untilDelayed(m, n);
    const cfs = m.kernel.rqs[0]!.cfs as EevdfRq;
    const root = m.task(1)!;
    const attr = { size: 56, sched_policy: SCHED_FIFO, sched_flags: 0, sched_nice: 0, sched_priority: 5, sched_runtime: 0, sched_deadline: 0, sched_period: 0, sched_util_min: 0, sched_util_max: 0 };
    expect(schedSetattr(m.kernel, root, p, attr)).toBe(0);
    expect(seOf(p).delayed).toBe(false);
    expect(cfs.nrDelayed).toBe(0);
    expect(cfs.nrRunning).toBe(2); // only the hogs
    expect(p.sclass).toBe(m.kernel.classOfPolicy[SCHED_FIFO]);
    // Its next wakeup preempts the hogs at once.
    let wokeAt = -1;
    let ranAt = -1;
    m.kernel.trace.subscribe((e) => {
      if (e.name === "sched_wakeup" && e.pid === n && wokeAt < 0) wokeAt = e.ts;
      if (e.name === "sched_switch" && e.next_pid === n && ranAt < 0) ranAt = e.ts;
    });
    m.run(m.now + 100_000_000);
    expect(wokeAt).toBeGreaterThan(0);
    expect(ranAt).toBe(wokeAt);
  });

  it("NO_DELAY_DEQUEUE (sched features): a blocking task always leaves the queue at once", () => {
    const m = new Machine({ cpus: 1, sched: "eevdf", schedFeatures: "NO_DELAY_DEQUEUE" });
    m.spawn(hog);
    m.spawn(hog, { nice: 3 });
    const n = m.spawn(napper(50_000_000));
    let sleeps = 0;
    spyFair(m, {
      deq: (p, _flags, ret) => {
        if (p.pid !== n) return;
        expect(ret).toBe(true);
        expect(seOf(p).delayed).toBe(false);
        sleeps++;
      },
    });
    m.run(2e9);
    expect(sleeps).toBeGreaterThan(5);
  });

  it("DEQUEUE_SPECIAL: a task stopped by SIGSTOP is never delayed, even when not eligible", () => {
    const m = new Machine({ cpus: 1, sched: "eevdf" });
    m.spawn(hog);
    m.spawn(hog);
    const victim = m.spawn(hog);
    m.spawn(
      program("stopper", function* (sys) {
        for (let i = 0; i < 20; i++) {
          yield* sys.sleep(7_000_000);
          yield* sys.kill(victim, SIGSTOP);
          yield* sys.sleep(3_000_000);
          yield* sys.kill(victim, SIGCONT);
        }
        return 0;
      }),
    );
    let stops = 0;
    spyFair(m, {
      deq: (p, _flags, ret) => {
        if (p.pid !== victim || p.state === TASK_RUNNING) return;
        expect(ret).toBe(true);
        stops++;
      },
    });
    m.run(300e6);
    expect(stops).toBeGreaterThan(5);
  });

  for (const relOn of [true, false]) {
    it(`PLACE_REL_DEADLINE ${relOn ? "on" : "off"}: a queued task moved to another CPU by an affinity change ${relOn ? "keeps its deadline relative to its vruntime" : "starts a new request"}`, () => {
      const m = new Machine({ cpus: 2, sched: "eevdf", schedFeatures: relOn ? "" : "NO_PLACE_REL_DEADLINE" });
      const pids = [0, 1, 2].map(() => m.spawn(hog, { affinity: [0] }));
      let moved = 0;
      let rel = NaN;
      spyFair(m, {
        deq: (p, flags) => {
          if (p.pid !== pids[2] || flags & 1) return; // a move, not a sleep
          rel = seOf(p).relDeadline ? seOf(p).deadline : NaN;
        },
        enq: (p, flags) => {
          if (p.pid !== pids[2] || !(flags & 0x40)) return; // ENQUEUE_MIGRATED
          const se = seOf(p);
          const fresh = (se.slice * 1024) / se.weight;
          if (relOn) {
            expect(Number.isNaN(rel)).toBe(false);
            expect(se.deadline - se.vruntime).toBeCloseTo(rel, 3);
            expect(Math.abs(rel - fresh)).toBeGreaterThan(1); // not what a new request would give
          } else {
            expect(Number.isNaN(rel)).toBe(true);
            expect(se.deadline - se.vruntime).toBeCloseTo(fresh, 3);
          }
          moved++;
        },
      });
      m.spawn(
        program("mover", function* (sys) {
          yield* sys.sleep(1_000_000); // hog 3 has not run yet: queued on CPU 0 with its first request (half a slice)
          return (yield* sys.sched_setaffinity(pids[2]!, [1])) as number;
        }),
        { affinity: [1] },
      );
      m.run(20e6);
      expect(m.task(pids[2]!)!.cpu).toBe(1);
      expect(moved).toBe(1);
    });
  }

  it("sched_yield counts a delayed task as 6.12's rq->nr_running does: a task alone with a delayed one still moves its deadline back", () => {
    const m = new Machine({ cpus: 1, sched: "eevdf" });
    const y = m.spawn(
      program("yielder", function* (sys) {
        for (;;) {
          yield* sys.compute(300_000);
          yield* sys.sched_yield();
        }
      }),
    );
    m.spawn(napper(20_000_000, true));
    const cls = m.kernel.classes[0]!;
    const cfs = m.kernel.rqs[0]!.cfs as EevdfRq;
    const orig = cls.yieldTask.bind(cls);
    let withDelayed = 0;
    cls.yieldTask = (rq) => {
      const se = seOf(m.task(y)!);
      const before = se.deadline;
      const alone = rq.nrRunning === 1 && cfs.nrDelayed === 1;
      orig(rq);
      if (!alone) return;
      expect(se.deadline).toBeGreaterThan(before);
      withDelayed++;
    };
    m.run(3e9);
    expect(withDelayed).toBeGreaterThan(0);
  });

  it("schedFeatures rejects an unknown feature with the option, the word and the allowed names", () => {
    expect(() => new Machine({ cpus: 1, schedFeatures: "NO_DELAY_DEQUEUED" })).toThrow(ParamError);
    expect(() => new Machine({ cpus: 1, schedFeatures: "NO_DELAY_DEQUEUED" })).toThrow(/schedFeatures.*NO_DELAY_DEQUEUED.*DELAY_DEQUEUE/);
  });
});

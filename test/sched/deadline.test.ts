/**
 * The deadline class: EDF + CBS, throttling and replenishment, admission
 * control, and sched_setattr/sched_getattr for SCHED_DEADLINE (linux-facts 1.7).
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import type { SysApi } from "../../src/user/sys.ts";
import { Kernel } from "../../src/kernel/kernel.ts";
import { boot } from "../../src/kernel/boot.ts";
import { defaultParams, type Params } from "../../src/kernel/param.ts";
import { initProgram } from "../../src/user/init.ts";
import { stopClass } from "../../src/kernel/sched/stop.ts";
import { dlClass, dlState, dlBandwidth } from "../../src/kernel/sched/deadline.ts";
import { rtClass } from "../../src/kernel/sched/rt.ts";
import { simpleClass } from "../../src/kernel/sched/simple.ts";
import { eevdfClass } from "../../src/kernel/sched/eevdf.ts";
import { idleClass } from "../../src/kernel/sched/idle.ts";
import type { SchedClass } from "../../src/kernel/sched/class.ts";
import { EAGAIN, EBUSY, EINVAL, EPERM } from "../../src/kernel/errno.ts";
import { SCHED_FIFO, SCHED_NORMAL, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE, type Task } from "../../src/kernel/task/task.ts";

import { MS, SEC, TICK, FAIRS, bootChain, type MachineOpts } from "./chain.ts";

const dl = (runtime: number, deadline: number, period: number, flags = 0) => ({
  sched_policy: SCHED_DEADLINE, sched_flags: flags, sched_runtime: runtime, sched_deadline: deadline, sched_period: period,
});

const sleeper = program("sleeper", function* (sys) {
  for (;;) yield* sys.sleep(SEC);
});

const hog = program("hog", function* (sys) {
  for (;;) yield* sys.compute(100 * SEC);
});

/** A task that makes itself a deadline task (as root) and then computes forever. */
function dlHog(attr: object) {
  return program("dlhog", function* (sys) {
    const r = yield* sys.syscall("sched_setattr", 0, attr, 0);
    if (r !== 0) throw new Error(`sched_setattr: ${r}`);
    for (;;) yield* sys.compute(100 * SEC);
  });
}

interface Job {
  finish: number;
  deadline: number;
}

/**
 * A periodic deadline job: sleeps 1 ms (a root controller makes it a deadline
 * task meanwhile), then each period computes `work` and yields the rest of
 * the job. Logs each job's finish time and absolute deadline.
 */
function periodic(m: Machine, work: number, log: Job[]) {
  return program("job", function* (sys) {
    yield* sys.sleep(MS);
    const pid = yield* sys.getpid();
    for (;;) {
      yield* sys.compute(work);
      log.push({ finish: yield* sys.now(), deadline: dlState(m.task(pid)!)!.deadline });
      yield* sys.sched_yield();
    }
  });
}

/** Spawns a root task that runs `body` at once and collects what it pushes. */
function asRoot<T>(m: Machine, body: (sys: SysApi, out: T[]) => Generator<any, void, unknown>, uid = 0, opts = {}): T[] {
  const out: T[] = [];
  const pid = m.spawn(program("ctl", (sys) => body(sys, out)), opts);
  m.task(pid)!.uid = uid;
  return out;
}

/** Spawns periodic jobs with the given (runtime, deadline, period, work) and makes them deadline tasks. */
function jobs(m: Machine, specs: [number, number, number, number][]): Job[][] {
  const logs = specs.map(() => [] as Job[]);
  const pids = specs.map(([, , , work], i) => m.spawn(periodic(m, work, logs[i]!)));
  const res = asRoot<number>(m, function* (sys, out) {
    for (let i = 0; i < specs.length; i++) {
      const [r, d, p] = specs[i]!;
      out.push((yield* sys.syscall("sched_setattr", pids[i], dl(r, d, p), 0)) as number);
    }
  });
  m.run(0);
  expect(res).toEqual(specs.map(() => 0));
  return logs;
}

describe.each(FAIRS)("with $name as the fair class", ({ make }) => {
  const machine = (opts: MachineOpts = {}): Machine => bootChain(make, opts);

  describe("deadline scheduling", () => {
    it("dlbudget: a deadline hog gets exactly its runtime of every period, a fair hog the rest", () => {
      const m = machine();
      const d = m.spawn(dlHog(dl(20 * MS, 100 * MS, 100 * MS)));
      m.task(d)!.uid = 0;
      const fair = m.spawn(hog);
      m.run(10 * SEC);
      expect(m.task(d)!.sumExecRuntime).toBe(2 * SEC);
      expect(m.task(fair)!.sumExecRuntime).toBe(8 * SEC);
    });

    it("dlexactfit: a job whose burst uses exactly its runtime still goes to sleep at the end of it, not a period later (the burst ends before the throttle)", () => {
      const m = machine();
      const starts: number[] = [];
      const d = m.spawn(
        program("audio", function* (sys) {
          yield* sys.syscall("sched_setattr", 0, dl(5 * MS, 20 * MS, 20 * MS), 0);
          for (let i = 0; i < 10; i++) {
            starts.push(m.now);
            yield* sys.compute(5 * MS);
            yield* sys.sleep(15 * MS);
          }
        }),
        { uid: 0 },
      );
      const fair = m.spawn(hog);
      m.run(200 * MS);
      expect(m.task(d)?.policy ?? SCHED_DEADLINE).toBe(SCHED_DEADLINE);
      // One job per 20 ms period: 5 ms of compute, then the 15 ms sleep starts at once.
      expect(starts).toEqual(Array.from({ length: 10 }, (_, i) => i * 20 * MS));
      expect(m.task(fair)!.sumExecRuntime).toBe(150 * MS);
    });

    it("dlexactfit: the same with a fair task waking at the instant the burst ends (its enqueue accounts the running task first)", () => {
      const m = machine();
      const sleeps: number[] = [];
      m.spawn(
        program("dl", function* (sys) {
          yield* sys.sleep(1 * MS);
          for (let i = 0; i < 4; i++) {
            yield* sys.compute(2 * MS);
            sleeps.push(m.now);
            yield* sys.sleep(8 * MS);
          }
        }),
        { policy: SCHED_DEADLINE, dl: { runtime: 2 * MS, deadline: 10 * MS, period: 10 * MS }, uid: 0 },
      );
      m.spawn(
        program("b", function* (sys) {
          yield* sys.sleep(3 * MS); // wakes exactly when the first job's 2 ms burst ends
          yield* sys.compute(100 * MS);
        }),
      );
      m.run(60 * MS);
      expect(sleeps).toEqual([3 * MS, 13 * MS, 23 * MS, 33 * MS]);
    });

    it("dlbudgetrt: the budget holds against an RT hog too; RT throttling counts deadline time", () => {
      const m = machine();
      const d = m.spawn(dlHog(dl(20 * MS, 100 * MS, 100 * MS)));
      m.task(d)!.uid = 0;
      m.run(0); // it becomes a deadline task before the RT hog exists
      const rt = m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 99 });
      const fair = m.spawn(hog);
      m.run(10 * SEC);
      expect(m.task(d)!.sumExecRuntime).toBe(2 * SEC);
      // rt_time = deadline + RT time is held to 950 ms a period: the fair task keeps about 5%.
      expect(Math.abs(m.task(rt)!.sumExecRuntime - 7.5 * SEC)).toBeLessThanOrEqual(10 * TICK);
      expect(Math.abs(m.task(fair)!.sumExecRuntime - 0.5 * SEC)).toBeLessThanOrEqual(10 * TICK);
    });

    it("dledf: the earliest absolute deadline runs first", () => {
      const m = machine();
      const order: string[] = [];
      m.kernel.trace.subscribe((e) => {
        if (e.name === "sched_switch" && e.ts === MS) order.push(e.next_comm);
      });
      const [a, b] = jobs(m, [
        [30 * MS, 100 * MS, 100 * MS, 25 * MS],
        [30 * MS, 50 * MS, 50 * MS, 25 * MS],
      ]);
      m.run(60 * MS);
      expect(b![0]!.finish).toBe(26 * MS); // deadline 51 ms: first
      expect(a![0]!.finish).toBe(51 * MS); // deadline 101 ms: after b's first job
    });

    it("dlmeet: admitted periodic tasks meet every deadline while a fair and an RT hog compete", () => {
      const m = machine();
      const logs = jobs(m, [
        [30 * MS, 100 * MS, 100 * MS, 28 * MS],
        [20 * MS, 50 * MS, 50 * MS, 18 * MS], // constrained below
        [30 * MS, 150 * MS, 200 * MS, 25 * MS],
      ]); // U = 0.3 + 0.4 + 0.15 = 0.85
      m.spawn(hog);
      m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 50 });
      m.run(10 * SEC);
      const [a, b, c] = logs as [Job[], Job[], Job[]];
      expect([a.length, b.length, c.length]).toEqual([100, 200, 50]);
      for (const log of logs) for (const j of log) expect(j.finish).toBeLessThanOrEqual(j.deadline);
    });

    it("dlmeetfull: EDF meets deadlines up to the admission limit (U = 0.95)", () => {
      const m = machine();
      const logs = jobs(m, [
        [40 * MS, 100 * MS, 100 * MS, 38 * MS],
        [44 * MS, 80 * MS, 80 * MS, 42 * MS],
      ]); // U = 0.4 + 0.55 = 0.95
      m.spawn(hog);
      m.run(4 * SEC);
      for (const log of logs) {
        expect(log.length).toBeGreaterThan(35);
        for (const j of log) expect(j.finish).toBeLessThanOrEqual(j.deadline);
      }
    });

    it("dlwakeup: a deadline task that wakes with its old deadline passed starts a fresh job (CBS)", () => {
      const m = machine();
      const seen: { now: number; runtime: number; deadline: number }[] = [];
      const p = m.spawn(
        program("sleeper", function* (sys) {
          yield* sys.syscall("sched_setattr", 0, dl(10 * MS, 30 * MS, 100 * MS), 0);
          yield* sys.compute(4 * MS);
          yield* sys.sleep(200 * MS);
          const now = yield* sys.now();
          seen.push({ now, ...dlState(m.task(p)!)! });
        }),
      );
      m.task(p)!.uid = 0;
      m.run(SEC);
      expect(seen).toEqual([{ now: 204 * MS, runtime: 10 * MS, deadline: 234 * MS, throttled: false }]);
    });
  });

  describe("deadline admission", () => {
    it("dladmit: a set over 0.95 of one CPU is refused with EBUSY; released bandwidth is reusable", () => {
      const m = machine();
      const [a, b] = [m.spawn(sleeper), m.spawn(sleeper)];
      const out = asRoot<unknown>(m, function* (sys, out) {
        out.push(yield* sys.syscall("sched_setattr", a, dl(50 * MS, 100 * MS, 100 * MS), 0));
        out.push(yield* sys.syscall("sched_setattr", b, dl(50 * MS, 100 * MS, 100 * MS), 0));
        out.push(yield* sys.syscall("sched_setattr", b, dl(45 * MS, 100 * MS, 100 * MS), 0)); // 0.95 exactly
        out.push(yield* sys.syscall("sched_setattr", a, dl(51 * MS, 100 * MS, 100 * MS), 0)); // change over the limit
        out.push(yield* sys.syscall("sched_setscheduler", b, SCHED_NORMAL, { sched_priority: 0 }));
        out.push(yield* sys.syscall("sched_setattr", a, dl(90 * MS, 100 * MS, 100 * MS), 0));
        yield* sys.kill(a, 9);
        yield* sys.sleep(MS); // a dies; init reaps it
        out.push(dlBandwidth(m.kernel).total);
      });
      m.run(SEC);
      expect(out).toEqual([0, -EBUSY, 0, -EBUSY, 0, 0, 0]);
    });

    it("dlpull: a CPU whose deadline task blocks pulls an earlier-deadline task waiting on another CPU (pull_dl_task)", () => {
      const m = machine({ cpus: 2 });
      const nap = program("nap", function* (sys) {
        yield* sys.compute(20 * MS);
        yield* sys.sleep(100 * SEC);
      });
      const b = m.spawn(hog, { policy: SCHED_DEADLINE, dl: { runtime: 50 * MS, deadline: 100 * MS, period: 100 * MS } });
      const a = m.spawn(nap, { policy: SCHED_DEADLINE, dl: { runtime: 30 * MS, deadline: 100 * MS, period: 100 * MS } });
      const c = m.spawn(hog, { policy: SCHED_DEADLINE, dl: { runtime: 40 * MS, deadline: 200 * MS, period: 200 * MS } });
      m.run(5 * MS);
      const cpuA = m.task(a)!.cpu;
      expect(m.task(b)!.cpu).not.toBe(cpuA);
      expect(m.task(c)!.cpu).toBe(m.task(b)!.cpu); // waits behind b's earlier deadline
      m.run(60 * MS);
      // a blocks at 20 ms; its CPU takes c, which then runs its whole 40 ms budget by 60 ms.
      expect(m.task(c)!.cpu).toBe(cpuA);
      expect(m.task(c)!.sumExecRuntime).toBe(40 * MS);
    });

    it("dlpush: a task preempted by an earlier deadline moves at once to a CPU running no deadline task (push_dl_tasks)", () => {
      const m = machine({ cpus: 2 });
      const brief = program("brief", function* (sys) {
        yield* sys.compute(5 * MS);
        yield* sys.sleep(100 * SEC);
      });
      const b = m.spawn(hog, { policy: SCHED_DEADLINE, dl: { runtime: 50 * MS, deadline: 100 * MS, period: 100 * MS } });
      const f = m.spawn(hog);
      m.run(MS);
      const cpuB = m.task(b)!.cpu;
      const other = m.task(f)!.cpu;
      expect(other).not.toBe(cpuB);
      // x arrives on b's CPU with the earlier deadline (1 + 50 ms < 100 ms) and preempts b (a constrained task, deadline < period).
      const x = m.spawn(brief, { policy: SCHED_DEADLINE, dl: { runtime: 10 * MS, deadline: 50 * MS, period: 100 * MS } });
      m.run(2 * MS);
      expect(m.task(x)!.cpu).toBe(cpuB);
      expect(m.kernel.rqs[cpuB]!.curr.pid).toBe(x);
      expect(m.task(b)!.cpu).toBe(other);
      expect(m.kernel.rqs[other]!.curr.pid).toBe(b);
      expect(m.task(b)!.sumExecRuntime + (m.now - m.task(b)!.execStart)).toBe(2 * MS);
    });

    it("dlswitchedfrom: a CPU left with only throttled deadline tasks when one leaves the class pulls a waiting one (switched_from_dl counts ready tasks)", () => {
      const m = machine({ cpus: 2, rtRuntime: -1 });
      const demote = program("demote", function* (sys) {
        yield* sys.compute(5 * MS);
        yield* sys.syscall("sched_setscheduler", 0, SCHED_NORMAL, { sched_priority: 0 });
        for (;;) yield* sys.compute(100 * SEC);
      });
      const t = m.spawn(hog, { policy: SCHED_DEADLINE, dl: { runtime: MS, deadline: 10 * MS, period: 100 * MS }, affinity: [0] });
      const a = m.spawn(demote, { policy: SCHED_DEADLINE, dl: { runtime: 50 * MS, deadline: 100 * MS, period: 100 * MS }, affinity: [0] });
      m.spawn(hog, { policy: SCHED_DEADLINE, dl: { runtime: 90 * MS, deadline: 100 * MS, period: 100 * MS }, affinity: [1] });
      const c = m.spawn(hog, { policy: SCHED_DEADLINE, dl: { runtime: 40 * MS, deadline: 200 * MS, period: 200 * MS }, affinity: [1] });
      m.run(5 * MS);
      expect(dlState(m.task(t)!)!.throttled).toBe(true); // its 1 ms, noticed at the 4 ms tick
      m.task(c)!.cpusAllowed = null; // allowed everywhere now, waiting on cpu 1
      m.run(20 * MS);
      expect(m.task(a)!.policy).toBe(SCHED_NORMAL);
      expect(m.task(c)!.cpu).toBe(0);
    });

    it("dlconstrainednew: a new constrained task (deadline < period) runs at once, not after period - deadline", () => {
      const m = machine();
      const d = m.spawn(hog, { policy: SCHED_DEADLINE, dl: { runtime: 10 * MS, deadline: 20 * MS, period: 100 * MS } });
      m.run(5 * MS);
      expect(m.kernel.rqs[0]!.curr.pid).toBe(d);
      expect(dlState(m.task(d)!)!.deadline).toBe(20 * MS);
    });

    it("dladmitsmp: the limit is CPUs x 0.95", () => {
      const m = machine({ cpus: 2 });
      const pids = [0, 1, 2, 3].map(() => m.spawn(sleeper));
      const out = asRoot<unknown>(m, function* (sys, out) {
        for (const pid of pids) out.push(yield* sys.syscall("sched_setattr", pid, dl(60 * MS, 100 * MS, 100 * MS), 0));
      });
      m.run(SEC);
      expect(out).toEqual([0, 0, 0, -EBUSY]); // 1.8 fits in 1.9; 2.4 does not
    });

    it("dlnolimit: with rtRuntime -1 admission admits anything", () => {
      const m = machine({ rtRuntime: -1 });
      const out = asRoot<unknown>(m, function* (sys, out) {
        for (let i = 0; i < 3; i++) out.push(yield* sys.syscall("sched_setattr", 0, dl(90 * MS, 100 * MS, 100 * MS), 0));
        out.push(yield* sys.syscall("sched_setattr", 0, dl(100 * MS, 100 * MS, 100 * MS), 0));
      });
      m.run(SEC);
      expect(out).toEqual([0, 0, 0, 0]);
    });
  });

  describe("sched_setattr for SCHED_DEADLINE", () => {
    it("dlinval: EINVAL unless 1024 ns <= runtime <= deadline <= period within the period bounds", () => {
      const m = machine();
      const out = asRoot<unknown>(m, function* (sys, out) {
        const bad = [
          dl(20 * MS, 10 * MS, 100 * MS), // runtime > deadline
          dl(10 * MS, 100 * MS, 50 * MS), // deadline > period
          dl(1000, 10 * MS, 10 * MS), // runtime < 1024 ns
          dl(10 * MS, 0, 0), // no deadline
          dl(10_000, 50_000, 50_000), // period < 100 us
          dl(10 * MS, 5 * SEC, 5 * SEC), // period > 2^22 us
          { ...dl(10 * MS, 100 * MS, 100 * MS), sched_priority: 1 },
          { ...dl(10 * MS, 100 * MS, 100 * MS), sched_runtime: 1.5 },
        ];
        for (const a of bad) out.push(yield* sys.syscall("sched_setattr", 0, a, 0));
        out.push(yield* sys.syscall("sched_setattr", 0, dl(1024, 100_000, 0), 0)); // smallest legal; period = deadline
      });
      m.run(SEC);
      expect(out).toEqual([...Array(8).fill(-EINVAL), 0]);
    });

    it("dlperm: EPERM for an unprivileged caller and for a task bound to fewer CPUs than the domain", () => {
      const m = machine({ cpus: 2 });
      const user = asRoot<unknown>(m, function* (sys, out) {
        out.push(yield* sys.syscall("sched_setattr", 0, dl(10 * MS, 100 * MS, 100 * MS), 0));
      }, 1000);
      const bound = asRoot<unknown>(m, function* (sys, out) {
        out.push(yield* sys.syscall("sched_setattr", 0, dl(10 * MS, 100 * MS, 100 * MS), 0));
      }, 0, { affinity: [0] });
      m.run(SEC);
      expect([user, bound]).toEqual([[-EPERM], [-EPERM]]);
    });

    it("dlaffinity: a deadline task's sched_setaffinity to fewer CPUs, an empty mask or only offline CPUs included, is EBUSY (dl_task_check_affinity first)", () => {
      const m = machine({ cpus: 2 });
      const out = asRoot<unknown>(m, function* (sys, out) {
        expect(yield* sys.syscall("sched_setattr", 0, dl(1 * MS, 10 * MS, 10 * MS), 0)).toBe(0);
        out.push(yield* sys.sched_setaffinity(0, [0]));
        out.push(yield* sys.sched_setaffinity(0, []));
        out.push(yield* sys.sched_setaffinity(0, [5]));
        out.push(yield* sys.sched_setaffinity(0, [0, 1]));
      });
      m.run(SEC);
      expect(m.kernel.warnings).toEqual([]);
      expect(out).toEqual([-EBUSY, -EBUSY, -EBUSY, 0]);
    });

    it("dlgetattr: sched_getattr reports the reservation; getscheduler and getparam agree", () => {
      const m = machine();
      const out = asRoot<unknown>(m, function* (sys, out) {
        yield* sys.syscall("sched_setattr", 0, dl(10 * MS, 30 * MS, 0, 0x04 /* DL_OVERRUN */), 0);
        out.push(yield* sys.syscall("sched_getattr", 0));
        out.push(yield* sys.syscall("sched_getscheduler", 0));
        out.push(yield* sys.syscall("sched_getparam", 0));
        out.push(m.task(yield* sys.getpid())!.prio);
        out.push(yield* sys.syscall("sched_rr_get_interval", 0));
      });
      m.run(SEC);
      expect(out[0]).toMatchObject({ sched_policy: SCHED_DEADLINE, sched_flags: 4, sched_runtime: 10 * MS, sched_deadline: 30 * MS, sched_period: 30 * MS });
      expect(out.slice(1)).toEqual([SCHED_DEADLINE, { sched_priority: 0 }, -1, 0]);
    });

    it("dlfork: a deadline task cannot fork unless reset-on-fork is set", () => {
      const m = machine();
      const out = asRoot<unknown>(m, function* (sys, out) {
        yield* sys.syscall("sched_setattr", 0, dl(10 * MS, 100 * MS, 100 * MS), 0);
        out.push(yield* sys.fork());
      });
      m.run(SEC);
      expect(out).toEqual([-EAGAIN]);
    });

    it("dlnoclass: EINVAL when the preset has no deadline class", () => {
      const m = machine({ without: ["dl"] });
      const out = asRoot<unknown>(m, function* (sys, out) {
        out.push(yield* sys.syscall("sched_setattr", 0, dl(10 * MS, 100 * MS, 100 * MS), 0));
      });
      m.run(SEC);
      expect(out).toEqual([-EINVAL]);
    });
  });
});

/**
 * The realtime class (SCHED_FIFO, SCHED_RR), RT throttling, the stop class and
 * the scheduling-policy syscalls (linux-facts 1.1, 1.2, 1.6).
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
import { dlClass } from "../../src/kernel/sched/deadline.ts";
import { rtClass, rtThrottleState } from "../../src/kernel/sched/rt.ts";
import { simpleClass } from "../../src/kernel/sched/simple.ts";
import { eevdfClass } from "../../src/kernel/sched/eevdf.ts";
import { idleClass } from "../../src/kernel/sched/idle.ts";
import type { SchedClass } from "../../src/kernel/sched/class.ts";
import { EINVAL, EPERM, ESRCH } from "../../src/kernel/errno.ts";
import { SCHED_FIFO, SCHED_RR, SCHED_NORMAL, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE, type Task } from "../../src/kernel/task/task.ts";

import { MS, SEC, TICK, FAIRS, bootChain, type MachineOpts } from "./chain.ts";

const hog = program("hog", function* (sys) {
  for (;;) yield* sys.compute(100 * SEC);
});

/** A program that computes `ns` once, then records when it finished. */
function worker(name: string, ns: number, done: Record<string, number>, delay = 0) {
  return program(name, function* (sys) {
    if (delay > 0) yield* sys.sleep(delay);
    yield* sys.compute(ns);
    done[name] = yield* sys.now();
  });
}

/** Runs `body` as a root task (uid 0 unless `uid` given) and returns what it recorded. */
function asUser<T>(m: Machine, uid: number, body: (sys: SysApi, out: T[]) => Generator<any, void, unknown>, spawnOpts = {}): T[] {
  const out: T[] = [];
  const pid = m.spawn(program("ctl", (sys) => body(sys, out)), spawnOpts);
  m.task(pid)!.uid = uid;
  m.run(m.now + SEC);
  return out;
}

/** CPU time of a task so far, including the stretch it is running now (not yet accounted by an event). */
function cpuTime(m: Machine, pid: number): number {
  const t = m.task(pid)!;
  return t.sumExecRuntime + (m.kernel.rqs[t.cpu]!.curr === t ? Math.max(0, m.now - t.execStart) : 0);
}

/** Widens pid's affinity to `cpus` from a root FIFO 99 task on cpu `from`, which runs at once; runs 1 ms. */
function widen(m: Machine, pid: number, cpus: number[], from = 0): number[] {
  const out: number[] = [];
  m.spawn(
    program("ctl", function* (sys) {
      out.push(yield* sys.sched_setaffinity(pid, cpus));
    }),
    { policy: SCHED_FIFO, rtPriority: 99, affinity: [from] },
  );
  m.run(m.now + MS);
  return out;
}

/** sched_switch events as [ts, next_pid]. */
function switches(m: Machine): [number, number][] {
  const out: [number, number][] = [];
  m.kernel.trace.subscribe((e) => {
    if (e.name === "sched_switch") out.push([e.ts, e.next_pid]);
  });
  return out;
}

describe.each(FAIRS)("with $name as the fair class", ({ make }) => {
  const machine = (opts: MachineOpts = {}): Machine => bootChain(make, opts);

  describe("rt throttling", () => {
    it("rtthrottle: a FIFO hog leaves a fair hog exactly the 5% throttling remainder", () => {
      const m = machine();
      const rt = m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 50 });
      const fair = m.spawn(hog);
      m.run(10 * SEC);
      const fairTime = m.task(fair)!.sumExecRuntime;
      const rtTime = m.task(rt)!.sumExecRuntime;
      expect(Math.abs(fairTime - 0.5 * SEC)).toBeLessThanOrEqual(2 * TICK);
      expect(fairTime + rtTime).toBe(10 * SEC);
    });

    it("rtthrottleperiod: the fair task runs at the end of every period, the RT task again from its start", () => {
      const m = machine();
      const sw = switches(m);
      const rt = m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 50 });
      const fair = m.spawn(hog);
      m.run(3 * SEC - 1);
      const at = (pid: number) => sw.filter(([, p]) => p === pid).map(([ts]) => ts);
      expect(at(rt)).toEqual([0, 1 * SEC, 2 * SEC]); // unthrottled at each period boundary
      // Throttled at the first tick that sees rt_time > 950 ms; each overrun is paid back next period.
      expect(at(fair)).toEqual([952 * MS, 1952 * MS, 2948 * MS]);
      const rq = rtThrottleState(m.kernel.rqs[0]!)!;
      expect(rq.rtTime).toBeLessThanOrEqual(950 * MS + TICK);
    });

    it("rtnothrottle: with rtRuntime -1 the fair hog never runs", () => {
      const m = machine({ rtRuntime: -1 });
      m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 50 });
      const fair = m.spawn(hog);
      m.run(10 * SEC);
      expect(m.task(fair)!.sumExecRuntime).toBe(0);
    });

    it("rtthrottlestays: a throttled RT task is not moved to a CPU with budget left (load_balance moves fair tasks only; no RT_RUNTIME_SHARE)", () => {
      const m = machine({ cpus: 2 });
      const a = m.spawn(hog, { uid: 0, policy: SCHED_FIFO, rtPriority: 50, name: "A" });
      m.spawn(hog, { affinity: [0], name: "F0" });
      const sleeper = program("sl", function* (sys) {
        for (;;) {
          yield* sys.compute(1 * MS);
          yield* sys.sleep(3 * MS); // CPU 1 goes idle again and again: each time, new-idle balancing looks for work
        }
      });
      m.spawn(sleeper, { affinity: [1], name: "S" });
      m.run(1); // A started on CPU 0
      const moves: number[] = [];
      m.kernel.trace.subscribe((e) => {
        if (e.name === "sched_migrate_task" && e.pid === a) moves.push(e.ts);
      });
      m.run(3 * SEC);
      expect(moves).toEqual([]);
      expect(Math.abs(m.task(a)!.sumExecRuntime - 2.85 * SEC)).toBeLessThanOrEqual(2 * TICK); // 950 ms of each second
    });

    it("rtthrottleidle: a throttled RT task alone leaves the CPU idle (no runtime sharing on one CPU)", () => {
      const m = machine();
      const rt = m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 50 });
      m.run(2 * SEC);
      expect(Math.abs(m.task(rt)!.sumExecRuntime - 1.9 * SEC)).toBeLessThanOrEqual(2 * TICK);
    });
  });

  describe("fifo and rr", () => {
    it("fifoprio: a higher FIFO priority always runs first and preempts on wakeup", () => {
      const m = machine({ rtRuntime: -1 });
      const done: Record<string, number> = {};
      m.spawn(worker("low", 100 * MS, done), { policy: SCHED_FIFO, rtPriority: 10 });
      m.spawn(worker("high", 20 * MS, done, 10 * MS), { policy: SCHED_FIFO, rtPriority: 20 });
      m.spawn(worker("fair", 5 * MS, done));
      m.run(SEC);
      expect(done).toEqual({ high: 30 * MS, low: 120 * MS, fair: 125 * MS });
    });

    it("fifonoslice: equal-priority FIFO tasks run to completion in arrival order", () => {
      const m = machine({ rtRuntime: -1 });
      const done: Record<string, number> = {};
      m.spawn(worker("a", 300 * MS, done), { policy: SCHED_FIFO, rtPriority: 10 });
      m.spawn(worker("b", 300 * MS, done), { policy: SCHED_FIFO, rtPriority: 10 });
      m.run(SEC);
      expect(done).toEqual({ a: 300 * MS, b: 600 * MS });
    });

    it("rralternate: equal-priority RR tasks alternate every 100 ms", () => {
      const m = machine({ rtRuntime: -1 });
      const sw = switches(m);
      const a = m.spawn(hog, { policy: SCHED_RR, rtPriority: 10 });
      const b = m.spawn(hog, { policy: SCHED_RR, rtPriority: 10 });
      m.run(SEC - 1);
      const expected = Array.from({ length: 10 }, (_, i) => [i * 100 * MS, i % 2 === 0 ? a : b]);
      expect(sw).toEqual(expected);
    });

    it("rrslicepreempt: a preempted RR task keeps its place at the head and the rest of its slice", () => {
      const m = machine({ rtRuntime: -1 });
      const sw = switches(m);
      const a = m.spawn(hog, { policy: SCHED_RR, rtPriority: 10 });
      const b = m.spawn(hog, { policy: SCHED_RR, rtPriority: 10 });
      const done: Record<string, number> = {};
      const h = m.spawn(worker("h", 20 * MS, done, 40 * MS), { policy: SCHED_FIFO, rtPriority: 30 });
      m.run(400 * MS);
      // h runs first and sleeps; a runs 0-40, h 40-60, a again 60-120 (its slice counts only its own ticks), then b.
      expect(sw.slice(0, 6)).toEqual([[0, h], [0, a], [40 * MS, h], [60 * MS, a], [120 * MS, b], [220 * MS, a]]);
    });

    it("rtsmp: two FIFO hogs on two CPUs each get a whole CPU; a third waits", () => {
      const m = machine({ cpus: 2, rtRuntime: -1 });
      const pids = [m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 50 }), m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 50 })];
      const low = m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 10 });
      m.run(SEC);
      for (const pid of pids) expect(cpuTime(m, pid)).toBe(SEC);
      expect(cpuTime(m, low)).toBe(0);
    });

    it("rtpull: a CPU whose RT task blocks pulls a waiting RT task from an overloaded CPU before running fair work (pull_rt_task)", () => {
      // cpu 0: a fair hog and FIFO 90 (which sleeps at 10 ms); cpu 1: FIFO 95 forever, and FIFO 80 queued behind it.
      const m = machine({ cpus: 2, rtRuntime: -1 });
      const nap = program("nap", function* (sys) {
        yield* sys.compute(10 * MS);
        yield* sys.sleep(100 * SEC);
      });
      const fair = m.spawn(hog, { affinity: [0] });
      m.spawn(nap, { policy: SCHED_FIFO, rtPriority: 90, affinity: [0] });
      m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 95, affinity: [1] });
      m.run(MS);
      // Queued on cpu 1, then allowed on both: neither CPU runs anything it could preempt.
      const waiting = m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 80, affinity: [1] });
      m.run(2 * MS);
      expect(widen(m, waiting, [0, 1])).toEqual([0]);
      expect(m.now).toBeLessThan(10 * MS);
      expect(m.task(waiting)!.cpu).toBe(1);
      expect(cpuTime(m, waiting)).toBe(0);
      m.run(SEC);
      // From 10 ms on, cpu 0 runs FIFO 80: the fair hog gets nothing after its first stretch.
      expect(m.task(waiting)!.cpu).toBe(0);
      expect(cpuTime(m, waiting)).toBe(SEC - 10 * MS);
      expect(cpuTime(m, fair)).toBe(0);
    });

    it("rtpull: lowering a running RT task's priority pulls a more important waiting task (prio_changed_rt)", () => {
      const m = machine({ cpus: 2, rtRuntime: -1 });
      const a = m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 90, affinity: [0] });
      m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 95, affinity: [1] });
      m.run(MS);
      const waiting = m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 80, affinity: [1] });
      m.run(2 * MS);
      expect(widen(m, waiting, [0, 1])).toEqual([0]);
      expect(m.task(waiting)!.cpu).toBe(1);
      const out: number[] = [];
      m.spawn(
        program("ctl", function* (sys) {
          out.push((yield* sys.syscall("sched_setparam", a, { sched_priority: 10 })) as number);
        }),
        { policy: SCHED_FIFO, rtPriority: 99, affinity: [0] },
      );
      m.run(m.now + MS);
      expect(out).toEqual([0]);
      expect(m.task(waiting)!.cpu).toBe(0);
      expect(m.kernel.rqs[0]!.curr.pid).toBe(waiting);
    });

    it("rtpull: the last RT task of a CPU leaving the class pulls a waiting RT task there (switched_from_rt)", () => {
      const m = machine({ cpus: 2, rtRuntime: -1 });
      // a runs FIFO 90 on cpu 0 for 5 ms, then makes itself SCHED_NORMAL and goes on computing.
      const demote = program("demote", function* (sys) {
        yield* sys.compute(5 * MS);
        yield* sys.syscall("sched_setscheduler", 0, SCHED_NORMAL, { sched_priority: 0 });
        for (;;) yield* sys.compute(100 * SEC);
      });
      const a = m.spawn(demote, { policy: SCHED_FIFO, rtPriority: 90, affinity: [0] });
      m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 95, affinity: [1] });
      m.run(MS);
      const waiting = m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 80, affinity: [1] });
      m.run(2 * MS);
      expect(widen(m, waiting, [0, 1])).toEqual([0]);
      expect(m.now).toBeLessThan(5 * MS);
      expect(m.task(waiting)!.cpu).toBe(1);
      m.run(20 * MS);
      expect(m.task(a)!.policy).toBe(SCHED_NORMAL);
      expect(m.task(waiting)!.cpu).toBe(0);
      expect(m.kernel.rqs[0]!.curr.pid).toBe(waiting);
    });

    it("rtpull: a deadline task blocking makes its CPU pull a waiting RT task (balance_dl, then balance_rt)", () => {
      const m = machine({ cpus: 2, rtRuntime: -1 });
      const nap = program("nap", function* (sys) {
        yield* sys.compute(10 * MS);
        yield* sys.sleep(100 * SEC);
      });
      const fair = m.spawn(hog, { affinity: [0] });
      const d = m.spawn(nap, { policy: SCHED_DEADLINE, dl: { runtime: 50 * MS, deadline: 100 * MS, period: 100 * MS }, affinity: [0] });
      m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 95, affinity: [1] });
      m.run(MS);
      expect(m.task(d)!.cpu).toBe(0);
      const waiting = m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 80, affinity: [1] });
      m.run(2 * MS);
      expect(widen(m, waiting, [0, 1], 1)).toEqual([0]); // from cpu 1: cpu 0 runs the deadline task
      expect(m.task(waiting)!.cpu).toBe(1);
      m.run(SEC);
      expect(m.task(waiting)!.cpu).toBe(0);
      expect(cpuTime(m, fair)).toBe(0);
    });

    it("rtpull: a CPU whose running RT task is moved away by an affinity change pulls a waiting RT task (migration, then balance_rt)", () => {
      const m = machine({ cpus: 2, rtRuntime: -1 });
      const fair = m.spawn(hog, { affinity: [0] });
      const a = m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 90, affinity: [0, 1] });
      m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 95, affinity: [1] });
      m.run(MS);
      expect(m.task(a)!.cpu).toBe(0);
      const waiting = m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 80, affinity: [1] });
      m.run(2 * MS);
      expect(widen(m, waiting, [0, 1], 1)).toEqual([0]);
      expect(m.task(waiting)!.cpu).toBe(1);
      // a may now run only on cpu 1, where it waits behind FIFO 95; cpu 0 should take FIFO 80 at once.
      expect(widen(m, a, [1], 1)).toEqual([0]);
      m.run(m.now + 10 * MS);
      expect(m.task(a)!.cpu).toBe(1);
      expect(m.task(waiting)!.cpu).toBe(0);
      const before = cpuTime(m, fair);
      m.run(m.now + 100 * MS);
      expect(cpuTime(m, fair)).toBe(before);
    });

    it("rryield: sched_yield moves an RT task to the tail of its list", () => {
      const m = machine({ rtRuntime: -1 });
      const order: string[] = [];
      const yielder = (name: string) =>
        program(name, function* (sys) {
          for (let i = 0; i < 3; i++) {
            yield* sys.compute(MS);
            order.push(name);
            yield* sys.sched_yield();
          }
        });
      m.spawn(yielder("a"), { policy: SCHED_FIFO, rtPriority: 10 });
      m.spawn(yielder("b"), { policy: SCHED_FIFO, rtPriority: 10 });
      m.run(SEC);
      expect(order).toEqual(["a", "b", "a", "b", "a", "b"]);
    });

    it("rrinterval: sched_rr_get_interval says 100 ms for RR, 0 for FIFO", () => {
      const m = machine();
      const out = asUser<number>(m, 0, function* (sys, out) {
        out.push((yield* sys.syscall("sched_rr_get_interval", 0)) as number);
        yield* sys.syscall("sched_setscheduler", 0, SCHED_FIFO, { sched_priority: 1 });
        out.push((yield* sys.syscall("sched_rr_get_interval", 0)) as number);
        yield* sys.syscall("sched_setscheduler", 0, SCHED_RR, { sched_priority: 1 });
        out.push((yield* sys.syscall("sched_rr_get_interval", 0)) as number);
        out.push((yield* sys.syscall("sched_rr_get_interval", 99999)) as number);
      });
      expect(out).toEqual([0, 0, 100 * MS, -ESRCH]); // fair: 0.7 ms is 0 whole ticks at HZ 250
    });
  });

  describe("priority changes", () => {
    /** Three FIFO hogs; a prio-90 controller changes one of them at 10 ms and records who runs after. */
    function reorder(newPrio: number): string[] {
      const m = machine({ rtRuntime: -1 });
      const order: string[] = [];
      const job = (name: string) =>
        program(name, function* (sys) {
          yield* sys.compute(50 * MS);
          order.push(name);
        });
      const a = m.spawn(job("a"), { policy: SCHED_FIFO, rtPriority: 10 });
      m.spawn(job("b"), { policy: SCHED_FIFO, rtPriority: 10 });
      const c = m.spawn(job("c"), { policy: SCHED_FIFO, rtPriority: 5 });
      const target = newPrio === 5 ? a : c;
      const ctl = m.spawn(
        program("ctl", function* (sys) {
          yield* sys.sleep(10 * MS);
          yield* sys.syscall("sched_setparam", target, { sched_priority: newPrio });
        }),
        { policy: SCHED_FIFO, rtPriority: 90 },
      );
      m.task(ctl)!.uid = 0;
      m.run(SEC);
      return order;
    }

    it("rtsameprio: FIFO <-> RR at the same priority keeps the task's place in its list (no DEQUEUE_MOVE)", () => {
      const m = machine({ rtRuntime: -1 });
      const sw: number[] = [];
      m.kernel.trace.subscribe((e) => {
        if (e.name === "sched_switch") sw.push(e.next_pid);
      });
      const a = m.spawn(hog, { uid: 0, policy: SCHED_FIFO, rtPriority: 10 });
      const b = m.spawn(hog, { uid: 0, policy: SCHED_FIFO, rtPriority: 10 });
      const ctl = m.spawn(program("ctl", function* (sys) {
        yield* sys.sleep(50 * MS); // preempts A, which stays at the head of its list
        expect(yield* sys.syscall("sched_setscheduler", a, SCHED_RR, { sched_priority: 10 })).toBe(0);
      }), { uid: 0, policy: SCHED_FIFO, rtPriority: 99 });
      m.run(60 * MS);
      expect(m.task(a)!.policy).toBe(SCHED_RR);
      expect(sw.slice(-2)).toEqual([ctl, a]); // A again after ctl, not B
      expect(m.kernel.warnings).toEqual([]); // an expect that fails inside a program kills it with a warning
      expect(m.task(b)!.sumExecRuntime).toBe(0);
    });

    it("rtsameprioself: a running FIFO task that makes itself RR at its priority keeps the head of its list", () => {
      const m = machine({ rtRuntime: -1 });
      const a = m.spawn(program("A", function* (sys) {
        yield* sys.compute(10 * MS);
        expect(yield* sys.syscall("sched_setscheduler", 0, SCHED_RR, { sched_priority: 10 })).toBe(0);
        for (;;) yield* sys.compute(100 * SEC);
      }), { uid: 0, policy: SCHED_FIFO, rtPriority: 10 });
      const b = m.spawn(hog, { uid: 0, policy: SCHED_FIFO, rtPriority: 10 });
      const sw: number[] = [];
      m.kernel.trace.subscribe((e) => {
        if (e.name === "sched_switch") sw.push(e.next_pid);
      });
      const hi = m.spawn(program("hi", function* (sys) {
        yield* sys.sleep(30 * MS);
        yield* sys.compute(1 * MS);
      }), { uid: 0, policy: SCHED_FIFO, rtPriority: 99 });
      m.run(60 * MS);
      // A (now RR, with a fresh 100 ms quantum) resumes after hi; B has not run by 60 ms.
      expect(m.kernel.warnings).toEqual([]);
      expect(sw.slice(-2)).toEqual([hi, a]);
      expect(m.task(b)!.sumExecRuntime).toBe(0);
    });

    it("rtraise: a raised priority goes to the tail of its new list", () => {
      expect(reorder(10)).toEqual(["a", "b", "c"]); // c 5 -> 10 queues behind b
    });

    it("rtlower: a lowered priority goes to the head of its new list", () => {
      // a (running, 10) lowered to 5 is at the head of list 5, ahead of c: b, then a, then c.
      expect(reorder(5)).toEqual(["b", "a", "c"]);
    });
  });

  describe("scheduling syscalls", () => {
    const call = (sys: SysApi, nr: string, a?: unknown, b?: unknown, c?: unknown) => sys.syscall(nr, a, b, c);

    it("setscheduler: root sets FIFO/RR and reads back policy, param and reset-on-fork", () => {
      const m = machine();
      const out = asUser<unknown>(m, 0, function* (sys, out) {
        out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_FIFO, { sched_priority: 50 }));
        out.push(yield* call(sys, "sched_getscheduler", 0));
        out.push(yield* call(sys, "sched_getparam", 0));
        out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_RR | 0x40000000, { sched_priority: 7 }));
        out.push(yield* call(sys, "sched_getscheduler", 0));
        out.push(yield* call(sys, "sched_setparam", 0, { sched_priority: 9 }));
        out.push(yield* call(sys, "sched_getscheduler", 0)); // setparam keeps reset-on-fork
        out.push(yield* call(sys, "sched_getattr", 0));
      });
      expect(out.slice(0, 7)).toEqual([0, SCHED_FIFO, { sched_priority: 50 }, 0, SCHED_RR | 0x40000000, 0, SCHED_RR | 0x40000000]);
      expect(out[7]).toMatchObject({ sched_policy: SCHED_RR, sched_flags: 1, sched_priority: 9, sched_nice: 0 });
    });

    it("setschedprio: the task's kernel prio follows (99 - rtprio) and back to 120 + nice", () => {
      const m = machine();
      const prios: number[] = [];
      const pid = m.spawn(
        program("p", function* (sys) {
          yield* sys.syscall("sched_setscheduler", 0, SCHED_FIFO, { sched_priority: 10 });
          prios.push(m.task(pid)!.prio);
          yield* sys.syscall("sched_setscheduler", 0, SCHED_NORMAL, { sched_priority: 0 });
          prios.push(m.task(pid)!.prio);
        }),
        { nice: 5 },
      );
      m.task(pid)!.uid = 0;
      m.run(SEC);
      expect(prios).toEqual([89, 125]);
    });

    it("setschedinval: EINVAL for out-of-range priorities, mismatches and unknown policies", () => {
      const m = machine();
      const out = asUser<unknown>(m, 0, function* (sys, out) {
        out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_FIFO, { sched_priority: 100 }));
        out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_RR, { sched_priority: 0 }));
        out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_NORMAL, { sched_priority: 5 }));
        out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_BATCH, { sched_priority: -1 }));
        out.push(yield* call(sys, "sched_setscheduler", 0, 4, { sched_priority: 0 })); // SCHED_ISO: never implemented
        out.push(yield* call(sys, "sched_setscheduler", 0, -1, { sched_priority: 0 }));
        out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_FIFO, null));
        out.push(yield* call(sys, "sched_setscheduler", -1, SCHED_FIFO, { sched_priority: 1 }));
        out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_DEADLINE, { sched_priority: 0 })); // needs sched_setattr
        out.push(yield* call(sys, "sched_setattr", 0, { sched_policy: SCHED_NORMAL }, 1)); // flags must be 0
        out.push(yield* call(sys, "sched_setattr", 0, { sched_policy: SCHED_NORMAL, sched_flags: 0x100 }));
      });
      expect(out).toEqual(Array(11).fill(-EINVAL));
    });

    it("setschedesrch: ESRCH for a pid that does not exist", () => {
      const m = machine();
      const out = asUser<unknown>(m, 0, function* (sys, out) {
        out.push(yield* call(sys, "sched_setscheduler", 4242, SCHED_FIFO, { sched_priority: 1 }));
        out.push(yield* call(sys, "sched_getscheduler", 4242));
        out.push(yield* call(sys, "sched_getparam", 4242));
        out.push(yield* call(sys, "sched_setattr", 4242, { sched_policy: SCHED_NORMAL }));
        out.push(yield* call(sys, "sched_getattr", 4242));
      });
      expect(out).toEqual(Array(5).fill(-ESRCH));
    });

    it("setscheduperm: an unprivileged user cannot raise to RT or DL, lower nice, or touch others", () => {
      const m = machine();
      const out = asUser<unknown>(m, 1000, function* (sys, out) {
        out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_FIFO, { sched_priority: 1 }));
        out.push(yield* call(sys, "sched_setattr", 0, { sched_policy: SCHED_DEADLINE, sched_runtime: 10 * MS, sched_deadline: 100 * MS, sched_period: 100 * MS }));
        out.push(yield* call(sys, "sched_setattr", 0, { sched_policy: SCHED_NORMAL, sched_nice: -1 }));
        out.push(yield* call(sys, "sched_setscheduler", 1, SCHED_BATCH, { sched_priority: 0 })); // init is root's
        out.push(yield* call(sys, "sched_setattr", 0, { sched_policy: SCHED_NORMAL, sched_nice: 3 })); // raising nice is fine
        out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_IDLE, { sched_priority: 0 }));
        out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_NORMAL, { sched_priority: 0 })); // no way back from SCHED_IDLE
        out.push(yield* call(sys, "sched_getscheduler", 0));
      });
      expect(out).toEqual([-EPERM, -EPERM, -EPERM, -EPERM, 0, 0, -EPERM, SCHED_IDLE]);
    });

    it("rtlimit: an unprivileged RT task may lower its priority and leave RT, but not raise it back", () => {
      const m = machine();
      const out = asUser<unknown>(
        m,
        1000,
        function* (sys, out) {
          out.push(yield* call(sys, "sched_setparam", 0, { sched_priority: 20 }));
          out.push(yield* call(sys, "sched_setparam", 0, { sched_priority: 30 }));
          out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_RR, { sched_priority: 20 })); // another RT policy
          out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_FIFO | 0x40000000, { sched_priority: 20 }));
          out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_FIFO, { sched_priority: 20 })); // clearing reset-on-fork
          out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_NORMAL | 0x40000000, { sched_priority: 0 }));
          out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_FIFO | 0x40000000, { sched_priority: 1 }));
        },
        { policy: SCHED_FIFO, rtPriority: 30 },
      );
      expect(out).toEqual([0, -EPERM, -EPERM, 0, -EPERM, 0, -EPERM]);
    });

    it("priorityrange: sched_get_priority_min/max give 1..99 for FIFO/RR, 0 otherwise, EINVAL for unknown", () => {
      const m = machine();
      const out = asUser<unknown>(m, 1000, function* (sys, out) {
        for (const pol of [SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, 4, SCHED_IDLE, SCHED_DEADLINE, 99]) {
          out.push([yield* call(sys, "sched_get_priority_min", pol), yield* call(sys, "sched_get_priority_max", pol)]);
        }
      });
      expect(out).toEqual([[0, 0], [1, 99], [1, 99], [0, 0], [-EINVAL, -EINVAL], [0, 0], [0, 0], [-EINVAL, -EINVAL]]);
    });

    it("noclass: EINVAL when the preset has no class for the policy", () => {
      const m = machine({ without: ["rt"] });
      const out = asUser<unknown>(m, 0, function* (sys, out) {
        out.push(yield* call(sys, "sched_setscheduler", 0, SCHED_FIFO, { sched_priority: 1 }));
      });
      expect(out).toEqual([-EINVAL]);
    });

    it("setattrsize: sched_setattr checks the struct size (E2BIG, size written back) and refuses utilization clamps (EOPNOTSUPP, no CONFIG_UCLAMP_TASK); sched_getattr reports min(size, 56)", () => {
      const m = machine();
      const small = { size: 20, sched_policy: SCHED_NORMAL, sched_nice: 5 };
      const out = asUser<unknown>(m, 0, function* (sys, out) {
        out.push(yield* call(sys, "sched_setattr", 0, small));
        out.push(yield* call(sys, "sched_setattr", 0, { size: 8192, sched_policy: SCHED_NORMAL, sched_nice: 5 }));
        out.push(yield* call(sys, "sched_setattr", 0, { size: 48, sched_policy: SCHED_NORMAL, sched_flags: 0x20, sched_util_min: 100 }));
        out.push(yield* call(sys, "sched_setattr", 0, { size: 56, sched_policy: SCHED_NORMAL, sched_flags: 0x20, sched_util_min: 100 }));
        out.push(yield* call(sys, "sched_setattr", 0, { size: 0, sched_policy: SCHED_NORMAL, sched_nice: 3 })); // 0 means VER0
        out.push(yield* call(sys, "sched_setattr", 0, { size: 4096, sched_policy: SCHED_NORMAL, sched_nice: 4 }));
        out.push(((yield* call(sys, "sched_getattr", 0, 48)) as { size: number }).size);
        out.push(((yield* call(sys, "sched_getattr", 0, 4096)) as { size: number; sched_nice: number }).sched_nice);
      });
      expect(out).toEqual([-7, -7, -22, -95, 0, 0, 48, 4]); // E2BIG, E2BIG, EINVAL, EOPNOTSUPP
      expect(small.size).toBe(56);
    });

    it("setattrnice: sched_setattr sets nice for normal tasks (clamped to 19), KEEP_PARAMS keeps them", () => {
      const m = machine();
      const out = asUser<unknown>(m, 0, function* (sys, out) {
        out.push(yield* call(sys, "sched_setattr", 0, { sched_policy: SCHED_BATCH, sched_nice: 40 }));
        out.push(((yield* call(sys, "sched_getattr", 0)) as { sched_nice: number }).sched_nice);
        out.push(yield* call(sys, "sched_setattr", 0, { sched_policy: SCHED_NORMAL, sched_flags: 0x10 }));
        out.push(yield* call(sys, "sched_getattr", 0));
      });
      expect(out.slice(0, 3)).toEqual([0, 19, 0]);
      expect(out[3]).toMatchObject({ sched_policy: SCHED_NORMAL, sched_nice: 19, size: 56 });
    });
  });

  describe("stop class", () => {
    it("stopclass: serves no policy and offers no task while no stopper exists", () => {
      const m = machine();
      expect(stopClass.policies).toEqual([]);
      expect(m.kernel.classOfPolicy[SCHED_FIFO]).toBe(2);
      expect(stopClass.pickTask(m.kernel.rqs[0]!)).toBeNull();
    });
  });
});

describe("reset-on-fork (sched_fork)", () => {
  const forkAndLook = (policy: number, nice: number): { nice: number; policy: number; cls: string; prio: number } => {
    const m = bootChain(FAIRS[1]!.make, {}); // EEVDF
    let child: Task | undefined;
    m.spawn(program("parent", function* (sys) {
      yield* sys.nice(nice);
      const param = { sched_priority: policy === SCHED_FIFO || policy === SCHED_RR ? 10 : 0 };
      expect(yield* sys.syscall("sched_setscheduler", 0, policy | 0x40000000, param)).toBe(0);
      const pid = (yield* sys.fork()) as number;
      if (pid === 0) return 0;
      child = m.task(pid);
      yield* sys.wait();
      return 0;
    }), { uid: 0 });
    m.run(10 * MS);
    expect(m.kernel.warnings).toEqual([]); // the parent's own expect, checked
    const c = child!;
    return { nice: c.staticPrio - 120, policy: c.policy, cls: m.kernel.classes[c.sclass]!.name, prio: c.prio };
  };
  it("resetonforkrt: the child of an RT parent is SCHED_NORMAL at nice 0 in the fair class, whatever the parent's nice", () => {
    expect(forkAndLook(SCHED_FIFO, 10)).toEqual({ nice: 0, policy: SCHED_NORMAL, cls: "eevdf", prio: 120 });
    expect(forkAndLook(SCHED_RR, -5)).toEqual({ nice: 0, policy: SCHED_NORMAL, cls: "eevdf", prio: 120 });
  });
  it("resetonforkfair: a fair parent's child loses a negative nice and keeps a positive one and its policy", () => {
    expect(forkAndLook(SCHED_BATCH, -5)).toMatchObject({ nice: 0, policy: SCHED_BATCH });
    expect(forkAndLook(SCHED_BATCH, 7)).toMatchObject({ nice: 7, policy: SCHED_BATCH });
  });
});

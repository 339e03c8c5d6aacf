/**
 * Where realtime and deadline tasks run on SMP (review of rt.c and deadline.c
 * placement, Linux 6.6-6.12), each case against the rule it follows:
 *
 *  - switched_to_rt / switched_to_dl: a queued task that joins the class on a
 *    CPU whose class queue is overloaded is pushed to a CPU where it runs now;
 *  - select_task_rq_rt: a waking RT task looks for another CPU when the
 *    previous CPU's curr is RT and pinned, not only when it is of equal or
 *    higher priority;
 *  - check_preempt_equal_prio: a woken RT task of curr's priority that may
 *    only run here goes to the head of its list, and curr, which may run
 *    elsewhere, is pushed away;
 *  - push_dl_task takes from pushable_dl_tasks, which holds only tasks that
 *    may run on more than one CPU: a pinned task does not stop the push of a
 *    movable one behind it;
 *  - sched_getattr fills no utilisation clamps without CONFIG_UCLAMP_TASK;
 *    the debug file's rt_time is decayed at each period even while no RT task runs.
 */
import { describe, expect, it } from "vitest";
import type { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import type { SysApi } from "../../src/user/sys.ts";
import { eevdfClass } from "../../src/kernel/sched/eevdf.ts";
import { schedDebug } from "../../src/kernel/fs/proc.ts";
import { SCHED_DEADLINE, SCHED_FIFO } from "../../src/kernel/task/task.ts";
import { bootChain, MS, SEC, type MachineOpts } from "./chain.ts";

const machine = (opts: MachineOpts): Machine => bootChain((p) => eevdfClass(p), opts);
const hog = program("hog", function* (sys) {
  for (;;) yield* sys.compute(100 * SEC);
});

/** CPU time of pid, its current stretch included. */
function cpuTime(m: Machine, pid: number): number {
  const t = m.task(pid)!;
  return t.sumExecRuntime + (m.kernel.rqs[t.cpu]!.curr === t ? Math.max(0, m.now - t.execStart) : 0);
}

/** Runs `body` as root on `cpu` (FIFO 99 if rt, so it runs at once; else a fair task) for `dur`, returning what it recorded. */
function ctl(m: Machine, cpu: number, body: (sys: SysApi, out: unknown[]) => Generator<any, void, unknown>, rt: boolean, dur: number): unknown[] {
  const out: unknown[] = [];
  m.spawn(program("ctl", (sys) => body(sys, out)), rt ? { uid: 0, policy: SCHED_FIFO, rtPriority: 99, affinity: [cpu] } : { uid: 0, affinity: [cpu] });
  m.run(m.now + dur);
  return out;
}

const dlAttr = (r: number, d: number, p: number) => ({ sched_policy: SCHED_DEADLINE, sched_flags: 0, sched_runtime: r, sched_deadline: d, sched_period: p });

describe("realtime and deadline placement on 2 CPUs", () => {
  it("switchedtort: a waiting fair task made SCHED_FIFO behind a higher FIFO hog is pushed to the CPU running fair work, and runs there (switched_to_rt)", () => {
    const m = machine({ cpus: 2, rtRuntime: -1 });
    m.spawn(hog, { uid: 0, policy: SCHED_FIFO, rtPriority: 90, affinity: [0], name: "H" });
    const g = m.spawn(hog, { affinity: [1], name: "G" });
    const f = m.spawn(hog, { affinity: [0], name: "F" });
    m.run(5 * MS);
    // (The controller is a fair task: F, pushed to its CPU, preempts it before it sees its last result.)
    const r = ctl(m, 1, function* (sys, out) {
      out.push(yield* sys.sched_setaffinity(f, [0, 1]));
      out.push(yield* sys.syscall("sched_setscheduler", f, SCHED_FIFO, { sched_priority: 50 }));
    }, false, 10 * MS);
    expect(r[0]).toBe(0);
    expect(m.task(f)!.policy).toBe(SCHED_FIFO);
    const f0 = cpuTime(m, f);
    const g0 = cpuTime(m, g);
    m.run(m.now + SEC);
    expect(m.task(f)!.cpu).toBe(1);
    expect(cpuTime(m, f) - f0).toBe(SEC); // it owns CPU 1
    expect(cpuTime(m, g) - g0).toBe(0);
  });

  it("switchedtodl: a waiting fair task made SCHED_DEADLINE behind a running deadline task is pushed to the other CPU and runs within a millisecond (switched_to_dl)", () => {
    const m = machine({ cpus: 2 });
    const a = m.spawn(hog, { uid: 0, affinity: [0], name: "A" });
    m.spawn(hog, { affinity: [1], name: "G" });
    const f = m.spawn(hog, { affinity: [0], name: "F" });
    m.run(2 * MS);
    ctl(m, 1, function* (sys, out) {
      out.push(yield* sys.sched_setaffinity(a, [0, 1]));
      out.push(yield* sys.sched_setaffinity(f, [0, 1]));
      out.push(yield* sys.syscall("sched_setattr", a, dlAttr(90 * MS, 100 * MS, 100 * MS), 0));
    }, false, 0);
    m.run(m.now + 3 * MS);
    expect(m.kernel.rqs[0]!.curr.pid).toBe(a);
    expect(m.task(f)!.cpu).toBe(0);
    const before = cpuTime(m, f);
    ctl(m, 1, function* (sys, out) {
      out.push(yield* sys.syscall("sched_setattr", f, dlAttr(10 * MS, 100 * MS, 100 * MS), 0));
    }, true, 1 * MS);
    expect(m.task(f)!.policy).toBe(SCHED_DEADLINE);
    expect(m.task(f)!.cpu).toBe(1);
    m.run(m.now + 10 * MS);
    // Its whole 10 ms runtime (and the overrun to the tick that notices it spent) within 11 ms of becoming a deadline
    // task: it ran from the start. Before, it waited on CPU 0 until the other task's budget ran out, at about 93 ms.
    expect(cpuTime(m, f) - before).toBe(11 * MS);
  });

  it("selectpinnedcurr: a waking FIFO 50 task goes to the idle CPU rather than preempt a pinned FIFO 10 hog (select_task_rq_rt: curr->nr_cpus_allowed < 2)", () => {
    const m = machine({ cpus: 2, rtRuntime: -1 });
    const periodic = program("W", function* (sys) {
      for (;;) {
        yield* sys.compute(5 * MS);
        yield* sys.sleep(5 * MS);
      }
    });
    const l = m.spawn(hog, { uid: 0, policy: SCHED_FIFO, rtPriority: 10, affinity: [0], name: "L" });
    const w = m.spawn(periodic, { uid: 0, policy: SCHED_FIFO, rtPriority: 50, affinity: [0], name: "W" });
    m.run(2 * MS);
    ctl(m, 1, function* (sys, out) {
      out.push(yield* sys.sched_setaffinity(w, [0, 1]));
    }, false, 0);
    const l0 = cpuTime(m, l);
    const w0 = cpuTime(m, w);
    m.run(m.now + SEC);
    expect(cpuTime(m, w) - w0).toBeGreaterThanOrEqual(495 * MS); // half of its time it runs
    expect(cpuTime(m, l) - l0).toBeGreaterThanOrEqual(990 * MS); // the pinned hog is left alone (it was 500 ms)
  });

  it("equalprio: a pinned FIFO 50 task waking beside a movable FIFO 50 hog runs, and the hog is pushed to the other CPU (check_preempt_equal_prio)", () => {
    const m = machine({ cpus: 2, rtRuntime: -1 });
    const late = program("P", function* (sys) {
      yield* sys.sleep(10 * MS);
      for (;;) yield* sys.compute(100 * SEC);
    });
    const a = m.spawn(hog, { uid: 0, policy: SCHED_FIFO, rtPriority: 50, affinity: [0], name: "A" });
    const g = m.spawn(hog, { affinity: [1], name: "G" });
    m.run(MS);
    ctl(m, 1, function* (sys, out) {
      out.push(yield* sys.sched_setaffinity(a, [0, 1]));
    }, false, 0);
    const p = m.spawn(late, { uid: 0, policy: SCHED_FIFO, rtPriority: 50, affinity: [0], name: "P" });
    m.run(m.now + SEC);
    expect(m.task(a)!.cpu).toBe(1);
    expect(cpuTime(m, p)).toBeGreaterThanOrEqual(985 * MS); // was 0: it waited behind A for ever
    expect(cpuTime(m, g)).toBeLessThan(20 * MS);
  });

  it("dlpushpinned: a movable deadline task queued behind a pinned one is pushed to the CPU running fair work at once (pushable_dl_tasks holds only movable tasks)", () => {
    const m = machine({ cpus: 2, rtRuntime: -1 }); // no admission control: deadline tasks may be pinned
    m.spawn(hog, { affinity: [1], name: "G" });
    m.spawn(hog, { uid: 0, policy: SCHED_DEADLINE, dl: { runtime: 9 * MS, deadline: 10 * MS, period: 10 * MS }, affinity: [0], name: "A" });
    m.spawn(hog, { uid: 0, policy: SCHED_DEADLINE, dl: { runtime: 5 * MS, deadline: 20 * MS, period: 20 * MS }, affinity: [0], name: "P" });
    const q = m.spawn(hog, { uid: 0, policy: SCHED_DEADLINE, dl: { runtime: 10 * MS, deadline: 30 * MS, period: 30 * MS }, name: "Q" });
    m.run(30 * MS);
    expect(m.task(q)!.firstRun).toBe(0); // was 20 ms
    expect(m.task(q)!.cpu).toBe(1);
    expect(cpuTime(m, q)).toBe(12 * MS); // its 10 ms, and the overrun to the tick that notices the budget is spent (no HRTICK_DL)
  });

  it("getattrnoclamp: sched_getattr gives sched_util_max 0, as a kernel without CONFIG_UCLAMP_TASK (whose setattr refuses clamps) leaves the zeroed struct", () => {
    const m = machine({ cpus: 1 });
    const b = m.spawn(hog, { uid: 0, policy: SCHED_FIFO, rtPriority: 10, name: "B" });
    const [attr] = ctl(m, 0, function* (sys, out) {
      out.push(yield* sys.syscall("sched_getattr", b, 56, 0));
    }, true, MS) as [{ sched_util_min: number; sched_util_max: number }];
    expect(attr.sched_util_min).toBe(0);
    expect(attr.sched_util_max).toBe(0);
  });

  it("rttimedecay: the debug file's rt_time after RT work stopped is decayed at each period (do_sched_rt_period_timer), and counts the running RT task's time so far", () => {
    const m = machine({ cpus: 1 });
    const burst = program("B", function* (sys) {
      yield* sys.compute(600 * MS);
      yield* sys.sleep(1000 * SEC);
    });
    m.spawn(burst, { uid: 0, policy: SCHED_FIFO, rtPriority: 10, name: "B" });
    const rtTime = (): string => /\.rt_time\s*:\s*(\S+)/.exec(schedDebug(m.kernel).split("rt_rq[0]:")[1]!)![1]!;
    m.run(300 * MS);
    expect(rtTime()).toBe("300.000000"); // the running task's 300 ms, not yet accounted by the kernel
    m.run(3 * SEC);
    expect(rtTime()).toBe("0.000000"); // was 600.000000: the periods at 1 s and 2 s each took 950 ms off
  });
});

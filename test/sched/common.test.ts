/**
 * The shared scheduler suite (STYLE.md point 5, hono's common.case pattern):
 * every preset in PRESETS, and within it every class of its chain with tasks
 * of that class's own policies, must pass the same cases:
 *
 *  - nolost: no task lost or duplicated while many tasks fork, sleep, compute
 *    and exit on 1, 2 and 4 CPUs (checked after every trace event); all finish,
 *    and the CPU time given equals the compute asked for;
 *  - idleonlyifnothing: a CPU switches to its idle task only when its own
 *    runqueue has nothing it could run, and only after new-idle balancing found
 *    nothing to pull (with no task cache-hot);
 *  - replay: the same seed gives the same trace, event for event;
 *  - workconserve: on one CPU, CPU time handed out equals busy time, and
 *    always-runnable work finishes exactly when the work is done.
 *
 * Then the class order of each preset: a higher class always wins
 * (deadline > realtime > fair), and SCHED_IDLE loses to normal tasks by
 * weight within the fair class, not by class.
 *
 * A case is skipped only with a reason written into its title.
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import type { SysApi } from "../../src/user/sys.ts";
import { PRESETS, presetClasses } from "../../src/kernel/sched/presets.ts";
import { defaultParams, type Params } from "../../src/kernel/param.ts";
import { toJsonLine, type TraceEvent } from "../../src/sim/trace.ts";
import { rtThrottleState } from "../../src/kernel/sched/rt.ts";
import { DlEntity } from "../../src/kernel/sched/deadline.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";
import type { Rq } from "../../src/kernel/sched/rq.ts";
import {
  PF_IDLE, SCHED_BATCH, SCHED_DEADLINE, SCHED_FIFO, SCHED_IDLE, SCHED_NORMAL, SCHED_RR, TASK_NEW, TASK_RUNNING, type Task,
} from "../../src/kernel/task/task.ts";

const US = 1_000;
const MS = 1_000_000;
const SEC = 1_000_000_000;

const PRESET_NAMES = Object.keys(PRESETS);

// ---------------------------------------------------------------------------
// Workload: a deterministic mix of compute, sleep, fork and exit
// ---------------------------------------------------------------------------

/** A small deterministic hash of (worker, round) into 0..999. */
const h = (id: number, r: number, salt: number): number => (id * 7919 + r * 104_729 + salt * 15_485_863) % 1000;
const rounds = (id: number): number => 3 + (id % 3);
const burst = (id: number, r: number): number => 300 * US + h(id, r, 1) * 2_700;
const nap = (id: number, r: number): number => 500 * US + h(id, r, 2) * 4_500;
const forksAt = (id: number, r: number): boolean => (id + r) % 2 === 0;
/** The child's work: compute, sleep, compute. */
const childA = (id: number, r: number): number => 200 * US + h(id, r, 3) * 1_300;
const childNap = (id: number, r: number): number => 100 * US + h(id, r, 4) * 2_000;
const childB = (id: number, r: number): number => 100 * US + h(id, r, 5) * 900;

function* childWork(sys: SysApi, id: number, r: number): Generator<any, void, unknown> {
  yield* sys.compute(childA(id, r));
  yield* sys.sleep(childNap(id, r));
  yield* sys.compute(childB(id, r));
}

/**
 * Worker `argv[1]`: rounds of compute, sometimes a fork (the child computes,
 * sleeps, computes and exits), then a sleep; finally it reaps its children.
 * A task that may not fork (SCHED_DEADLINE without reset-on-fork: EAGAIN)
 * does the child's work itself, so the total asked for never changes.
 */
const worker = program("worker", function* (sys, argv) {
  const id = Number(argv[1]);
  for (let r = 0; r < rounds(id); r++) {
    yield* sys.compute(burst(id, r));
    if (forksAt(id, r)) {
      const pid = yield* sys.fork();
      if (pid === 0) {
        yield* childWork(sys, id, r);
        return 0;
      }
      if (pid < 0) yield* childWork(sys, id, r);
    }
    yield* sys.sleep(nap(id, r));
  }
  for (;;) {
    const w = yield* sys.wait();
    if (w.pid < 0) break;
  }
  return 0;
});

/** The CPU time worker `id` and its children ask for, ns. */
function workerDemand(id: number): number {
  let total = 0;
  for (let r = 0; r < rounds(id); r++) {
    total += burst(id, r);
    if (forksAt(id, r)) total += childA(id, r) + childB(id, r);
  }
  return total;
}

/** Computes `ns` in one go and exits. */
const cruncher = program("cruncher", function* (sys, argv) {
  yield* sys.compute(Number(argv[1]));
  return 0;
});

/** Computes forever. */
const hog = program("hog", function* (sys) {
  for (;;) yield* sys.compute(100 * SEC);
});

/** Sleeps `argv[1]` ns then computes `argv[2]` ns, forever. */
const sleeper = program("sleeper", function* (sys, argv) {
  const sleep = Number(argv[1]);
  const work = Number(argv[2]);
  for (;;) {
    yield* sys.sleep(sleep);
    yield* sys.compute(work);
  }
});

// ---------------------------------------------------------------------------
// Classes and their policies
// ---------------------------------------------------------------------------

/** A deadline reservation small enough that a dozen fit on one CPU (5 %). */
const DL_SMALL = { runtime: 500 * US, deadline: 10 * MS, period: 10 * MS };

/** Spawn options for a task of `policy`; `i` varies the RT priority. */
function policyOpts(policy: number, i: number): { policy: number; rtPriority?: number; dl?: typeof DL_SMALL } {
  if (policy === SCHED_FIFO || policy === SCHED_RR) return { policy, rtPriority: 10 + (i % 7) * 10 };
  if (policy === SCHED_DEADLINE) return { policy, dl: DL_SMALL };
  return { policy };
}

const USER_POLICIES = [SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE];

interface ClassInfo {
  name: string;
  index: number;
  /** User policies this class serves in this preset (the first class listing a policy serves it). */
  policies: number[];
}

/** The chain of a preset as [name, policies served]; built from a throwaway instance. */
function chainOf(preset: string): ClassInfo[] {
  const classes = presetClasses(preset, defaultParams());
  const served = (i: number): number[] =>
    USER_POLICIES.filter((pol) => classes.findIndex((c) => c.policies.includes(pol)) === i);
  return classes.map((c, i) => ({ name: c.name, index: i, policies: served(i) }));
}

/** Why a class of the chain takes no part in the per-class cases, or null if it does. */
function skipReason(c: ClassInfo, last: boolean): string | null {
  if (last) return "the idle class holds only the per-CPU idle task (swapper/N); its rule is case idleonlyifnothing of the other classes";
  if (c.name === "stop") return "no user policy maps to the stop class and TaskLab starts no stopper threads (stop.ts)";
  if (c.policies.length === 0) return `class ${c.name} serves no user policy in this chain (an earlier class takes them all)`;
  return null;
}

// ---------------------------------------------------------------------------
// Watching the trace
// ---------------------------------------------------------------------------

const allowedOn = (p: Task, cpu: number): boolean => p.cpusAllowed === null || p.cpusAllowed[cpu] === 1;

/**
 * Whether p, queued on `rq`, is held back by bandwidth control rather than
 * lost: a throttled deadline job (CBS) or a task of a throttled RT runqueue.
 */
function throttled(k: Kernel, rq: Rq, p: Task): boolean {
  const name = k.classes[p.sclass]!.name;
  if (name === "dl") return p.dl instanceof DlEntity && p.dl.throttled;
  if (name === "rt") return rtThrottleState(rq)?.throttled === true;
  return false;
}

/** Whether queued p could run on `cpu` right now if it were there (affinity, its budget, that CPU's RT budget). */
function couldRunOn(k: Kernel, p: Task, cpu: number): boolean {
  if (!allowedOn(p, cpu)) return false;
  const name = k.classes[p.sclass]!.name;
  if (name === "dl") return !(p.dl instanceof DlEntity && p.dl.throttled);
  if (name === "rt") return rtThrottleState(k.rqs[cpu]!)?.throttled !== true;
  return true;
}

/**
 * The global order of a class that pushes and pulls (rt, dl), for the state
 * at the end of an instant: a task of the class waiting on one CPU (not held
 * by bandwidth control) does not beat the current task of another CPU it may
 * run on (rt: a numerically lower prio; dl: an earlier deadline; either:
 * any task of a lower class, idle included).
 */
function globalOrderViolation(k: Kernel, name: string): string | null {
  const beats = (p: Task, curr: Task): boolean => {
    if (curr.sclass !== p.sclass) return curr.sclass > p.sclass;
    if (name === "rt") return p.prio < curr.prio;
    return (p.dl as DlEntity).deadline < (curr.dl as DlEntity).deadline;
  };
  for (const src of k.rqs) {
    for (const p of src.queued) {
      if (k.classes[p.sclass]!.name !== name || !couldRunOn(k, p, src.cpu)) continue;
      for (const dst of k.rqs) {
        if (dst === src || !couldRunOn(k, p, dst.cpu) || !beats(p, dst.curr)) continue;
        return `at ${k.now}: pid ${p.pid} (prio ${p.prio}) waits on cpu ${src.cpu} (running pid ${src.curr.pid}) while cpu ${dst.cpu} runs pid ${dst.curr.pid} (prio ${dst.curr.prio})`;
      }
    }
  }
  return null;
}

/**
 * Queue bookkeeping after a trace event: every task on a runqueue is there
 * exactly once (as curr or queued, on the CPU it names), nrRunning counts them,
 * a runnable task is on some runqueue, and an idle CPU with a runnable task
 * queued has a reschedule pending. A sched_migrate_task is checked by
 * checkMoving instead (set_task_cpu runs while the task is off both queues).
 */
function checkQueues(k: Kernel, e: TraceEvent): string | null {
  if (e.name === "sched_migrate_task") return checkMoving(k, e.pid, e.dest_cpu);
  const placed = new Map<Task, number>();
  for (const rq of k.rqs) {
    let n = 0;
    for (const p of rq.tasks) if (!p.onRq) return `cpu ${rq.cpu}: pid ${p.pid} is listed on the runqueue with onRq false`;
    if (rq.curr !== rq.idle && rq.curr.onRq && !rq.tasks.has(rq.curr)) return `cpu ${rq.cpu}: curr pid ${rq.curr.pid} is not listed on its runqueue`;
    for (const p of rq.queued) {
      if (p === rq.curr) return `cpu ${rq.cpu}: pid ${p.pid} is curr and also queued`;
      if (!p.onRq) return `cpu ${rq.cpu}: queued pid ${p.pid} has onRq false`;
      if (p.cpu !== rq.cpu) return `cpu ${rq.cpu}: queued pid ${p.pid} says it is on cpu ${p.cpu}`;
      if (p.state !== TASK_RUNNING || p.exitState !== 0) return `cpu ${rq.cpu}: queued pid ${p.pid} is not runnable (state ${p.state})`;
      placed.set(p, (placed.get(p) ?? 0) + 1);
      n++;
    }
    const c = rq.curr;
    if (c !== rq.idle && c.onRq) {
      if (c.cpu !== rq.cpu) return `cpu ${rq.cpu}: curr pid ${c.pid} says it is on cpu ${c.cpu}`;
      placed.set(c, (placed.get(c) ?? 0) + 1);
      n++;
    }
    if (rq.nrRunning !== n) return `cpu ${rq.cpu}: nrRunning ${rq.nrRunning} but ${n} tasks are on it`;
  }
  for (const [p, n] of placed) if (n > 1) return `pid ${p.pid} is on ${n} runqueues`;
  const running = new Set<Task>();
  for (const rq of k.rqs) {
    if (rq.curr !== rq.idle && running.has(rq.curr)) return `pid ${rq.curr.pid} is curr of two CPUs`;
    running.add(rq.curr);
  }
  // wake_up_new_task traces before its preemption check, as Linux does: that task may not be noticed yet.
  const waking = e.name === "sched_wakeup_new" ? e.pid : -1;
  for (const rq of k.rqs) {
    if (rq.curr !== rq.idle || rq.needResched || rq === k.activeRq) continue;
    for (const p of rq.queued)
      if (p.pid !== waking && !throttled(k, rq, p)) return `cpu ${rq.cpu} is idle with runnable pid ${p.pid} queued and no reschedule pending`;
  }
  for (const t of k.tasks.values()) {
    if (t.flags & PF_IDLE || t.exitState !== 0) continue;
    const on = placed.has(t);
    if (t.onRq && !on) return `pid ${t.pid} has onRq but is on no runqueue`;
    if (t.state === TASK_RUNNING && !on) return `runnable pid ${t.pid} is on no runqueue`;
    if (t.state === TASK_NEW && t.onRq) return `new pid ${t.pid} is queued before wake_up_new_task`;
  }
  if (e.name === "sched_switch") {
    const rq = k.rqs[e.cpu]!;
    if (rq.curr.pid !== e.next_pid) return `cpu ${e.cpu}: switched to ${e.next_pid} but curr is ${rq.curr.pid}`;
    if (rq.curr !== rq.idle && !rq.curr.onRq) return `cpu ${e.cpu}: switched to pid ${e.next_pid}, which is not on the runqueue`;
    // The classes count what the core counts.
    let sum = 0;
    for (let c = 0; c < k.classes.length; c++) {
      const n = k.classes[c]!.nrRunning(rq);
      sum += n;
      // pick_next_task skips a class the core counts as empty: the counts must agree.
      if (c < k.classes.length - 1 && n !== rq.classNr[c]) return `cpu ${e.cpu}: class ${k.classes[c]!.name} holds ${n} tasks, the core counts ${rq.classNr[c]}`;
    }
    if (sum !== rq.nrRunning) return `cpu ${e.cpu}: the classes count ${sum} tasks, the core ${rq.nrRunning}`;
  }
  return null;
}

/**
 * At a sched_migrate_task the moving task is off every runqueue, and its new
 * CPU is one it may run on. The rest of the bookkeeping is not checked here:
 * the RT class pushes from inside schedule() (see case rtpush below).
 */
function checkMoving(k: Kernel, pid: number, dest: number): string | null {
  const p = k.task(pid);
  if (!p) return `pid ${pid} migrates but does not exist`;
  if (p.onRq) return `pid ${pid} migrates while still queued`;
  for (const rq of k.rqs) if (rq.tasks.has(p)) return `pid ${pid} migrates while still listed on cpu ${rq.cpu}`;
  if (!allowedOn(p, dest)) return `pid ${pid} migrates to cpu ${dest}, outside its affinity`;
  return null;
}

/**
 * The idle rule: a CPU that switches to its idle task holds only throttled
 * tasks, and no other runqueue holds a queued task that could run on it now
 * (new-idle balancing, or the realtime and deadline pulls, would have taken
 * it). Its own queue is checked at the switch; other CPUs' queues once the
 * instant is over, as Linux's push and pull settle within it: a CPU may go
 * idle while a task that is about to preempt elsewhere waits there, and the
 * task it displaces is pushed here a moment later (push_rt_tasks,
 * push_dl_tasks). A task that was waiting when the CPU went idle must be
 * gone by the next instant. One that starts waiting while the CPU idles (a
 * fair task preempted by a realtime one that its CPU's throttling let go)
 * is for the idle CPU's periodic pass, as in Linux (nothing pushes fair
 * tasks): it must be gone within the longest idle interval, 2 ms per CPU.
 */
/** The CPU with the most tasks, other than `cpu`, holding two or more, runs a fair task that may run on `cpu`. */
function newIdleStopped(k: Kernel, cpu: number): boolean {
  const busiest = k.rqs.filter((o) => o.cpu !== cpu && o.nrRunning >= 2).sort((a, b) => b.load - a.load || a.cpu - b.cpu)[0];
  if (busiest === undefined || busiest.curr === busiest.idle) return false;
  return busiest.curr.sclass === k.classOfPolicy[SCHED_NORMAL] && allowedOn(busiest.curr, cpu);
}

function checkIdle(): (k: Kernel, e: TraceEvent) => string | null {
  const idle = new Map<number, { ts: number; atIdle: Set<Task>; since: Map<Task, number> }>();
  const waiters = (k: Kernel, cpu: number): Task[] => {
    const out: Task[] = [];
    for (const o of k.rqs) {
      // A queued task on an idle CPU, or on one whose reschedule is pending, is being picked up at this instant.
      if (o.cpu === cpu || o.curr === o.idle || o.needResched) continue;
      for (const p of o.queued)
        // Held by bandwidth control where it is, a task stays: a throttled RT runqueue's tasks are not pulled
        // (no RT_RUNTIME_SHARE; pull_rt_task skips a task that outranks its CPU's curr), a throttled DL job waits.
        if (!throttled(k, o, p) && couldRunOn(k, p, cpu)) out.push(p);
    }
    return out;
  };
  const where = (k: Kernel, p: Task): string => `pid ${p.pid} (${k.classes[p.sclass]!.name}) waited on cpu ${p.cpu} (queued there: ${describeQueued(k, k.rqs[p.cpu]!)})`;
  return (k, e) => {
    for (const [cpu, st] of idle) {
      const rq = k.rqs[cpu]!;
      if (rq.curr !== rq.idle) {
        idle.delete(cpu);
        continue;
      }
      if (e.ts === st.ts || rq.needResched) continue;
      const first = st.atIdle;
      st.atIdle = new Set(); // checked once, at the first event after the instant the CPU went idle
      const now = waiters(k, cpu);
      for (const p of st.since.keys()) if (!now.includes(p)) st.since.delete(p); // it ran, or went to sleep
      for (const p of now) {
        if (first.has(p)) return `cpu ${cpu} went idle at ${st.ts} and was still idle at ${e.ts} while ${where(k, p)}`;
        const since = st.since.get(p) ?? e.ts;
        st.since.set(p, since);
        if (e.ts > since + 2 * MS * k.rqs.length + k.tickNs) return `cpu ${cpu} was idle from ${since} to ${e.ts} while ${where(k, p)}`;
      }
    }
    if (e.name !== "sched_switch" || e.next_pid !== 0) return null;
    const rq = k.rqs[e.cpu]!;
    for (const p of rq.queued)
      if (!throttled(k, rq, p)) return `cpu ${e.cpu} went idle at ${e.ts} with runnable pid ${p.pid} (${k.classes[p.sclass]!.name}) queued on it`;
    // sched_balance_rq(CPU_NEWLY_IDLE) stops at the busiest CPU (the most tasks) when its running fair task could come
    // here (it clears LBF_ALL_PINNED, so no redo): waiters elsewhere then wait for a periodic pass, like later ones.
    idle.set(e.cpu, { ts: e.ts, atIdle: newIdleStopped(k, e.cpu) ? new Set() : new Set(waiters(k, e.cpu)), since: new Map() });
    return null;
  };
}

/** "pid:class" for each queued task of rq, with "(throttled)" where bandwidth control holds it. */
function describeQueued(k: Kernel, rq: Rq): string {
  return [...rq.queued].map((q) => `${q.pid}:${k.classes[q.sclass]!.name}${throttled(k, rq, q) ? "(throttled)" : ""}`).join(" ");
}

interface Watch {
  errors: string[];
  /** Every task ever created (the objects survive reaping), spawned or forked. */
  tasks: Map<number, Task>;
  events: number;
}

/** Subscribes `checks` to every trace event; keeps the first few failures (a listener must not throw into the kernel). */
function watch(m: Machine, checks: ((k: Kernel, e: TraceEvent) => string | null)[]): Watch {
  const w: Watch = { errors: [], tasks: new Map(), events: 0 };
  const k = m.kernel;
  k.trace.subscribe((e) => {
    w.events++;
    if (e.name === "sched_process_fork") {
      const t = k.task(e.child_pid);
      if (t) w.tasks.set(t.pid, t);
    }
    if (w.errors.length >= 5) return;
    for (const check of checks) {
      const err = check(k, e);
      if (err) w.errors.push(`${e.name}@${e.ts}: ${err}`);
    }
  });
  return w;
}

/** Sum of CPU time of `tasks`, including a stretch in progress not yet accounted. */
function cpuTime(m: Machine, tasks: Iterable<Task>): number {
  let s = 0;
  for (const t of tasks) {
    s += t.sumExecRuntime;
    const rq = m.kernel.rqs[t.cpu]!;
    if (rq.curr === t) s += Math.max(0, m.now - t.execStart);
  }
  return s;
}

/** Time each CPU spent running a task other than its idle task, from sched_switch events alone. */
function busyFromTrace(m: Machine, until: () => number): () => number[] {
  const n = m.kernel.rqs.length;
  const busy = new Array<number>(n).fill(0);
  const since = new Array<number>(n).fill(0);
  const running = new Array<boolean>(n).fill(false);
  m.kernel.trace.subscribe((e) => {
    if (e.name !== "sched_switch") return;
    if (running[e.cpu]) busy[e.cpu]! += e.ts - since[e.cpu]!;
    running[e.cpu] = e.next_pid !== 0;
    since[e.cpu] = e.ts;
  });
  return () => busy.map((b, c) => b + (running[c] ? until() - since[c]! : 0));
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

interface Mix {
  m: Machine;
  w: Watch;
  demand: number;
  roots: number[];
}

/**
 * Boots `preset` on `cpus` CPUs and spawns `n` workers of the class's
 * policies (in turn); for a non-fair class, two normal workers run alongside.
 */
function startMix(preset: string, cls: ClassInfo, cpus: number, n: number, seed = 1, checks = [checkQueues], params: Partial<Params> = {}): Mix {
  const m = new Machine({ cpus, seed, sched: preset, ...params });
  const w = watch(m, checks);
  let demand = 0;
  const roots: number[] = [];
  const add = (policy: number, id: number): void => {
    roots.push(m.spawn(worker, { argv: ["worker", String(id)], ...policyOpts(policy, id) }));
    demand += workerDemand(id);
  };
  for (let i = 0; i < n; i++) add(cls.policies[i % cls.policies.length]!, i);
  const fair = m.kernel.classOfPolicy[SCHED_NORMAL];
  if (fair !== undefined && fair !== cls.index) for (let i = n; i < n + 2; i++) add(SCHED_NORMAL, i);
  return { m, w, demand, roots };
}

/** Runs a mix to completion (bounded) and returns its whole trace. */
function traceOf(preset: string, cls: ClassInfo, cpus: number, seed: number): string[] {
  const m = new Machine({ cpus, seed, sched: preset });
  const log: string[] = [];
  m.kernel.trace.subscribe((e) => log.push(toJsonLine(e)));
  for (let i = 0; i < 8; i++) m.spawn(worker, { argv: ["worker", String(i)], ...policyOpts(cls.policies[i % cls.policies.length]!, i) });
  m.run(5 * SEC);
  return log;
}

// ---------------------------------------------------------------------------
// Per-class cases
// ---------------------------------------------------------------------------

function commonCases(preset: string, cls: ClassInfo): void {
  const isDl = cls.policies.includes(SCHED_DEADLINE) && cls.name === "dl";

  it.each([1, 2, 4])("nolost: forking, sleeping, exiting tasks stay on exactly one runqueue on %i CPU(s); all finish", (cpus) => {
    const { m, w, demand } = startMix(preset, cls, cpus, 12);
    m.run(20 * SEC);
    expect(w.errors).toEqual([]);
    expect(w.events).toBeGreaterThan(500);
    // Every task finished and was reaped: only init is left.
    expect([...m.kernel.tasks.keys()]).toEqual([1]);
    for (const t of w.tasks.values()) expect(t.exitState, `pid ${t.pid}`).not.toBe(0);
    // CPU time given = compute asked for (switch and syscall costs are 0 by default).
    expect(cpuTime(m, w.tasks.values())).toBe(demand);
    expect(m.kernel.rqs.reduce((s, rq) => s + rq.busyTime, 0)).toBe(demand);
    for (const rq of m.kernel.rqs) {
      expect(rq.nrRunning).toBe(0);
      expect(rq.tasks.size).toBe(0);
      expect(rq.curr).toBe(rq.idle);
    }
  });

  it.each([2, 4])("idleonlyifnothing: a CPU goes idle only when it and new-idle balancing find nothing runnable, on %i CPUs", (cpus) => {
    // With no task cache-hot (sysctl_sched_migration_cost 0): Linux's balancer leaves a fair task that ran
    // within the last 0.5 ms where it is, so with the default a CPU may idle a little while one waits
    // (balance.test.ts, cachehot).
    const { m, w } = startMix(preset, cls, cpus, 12, 3, [checkQueues, checkIdle()], { migrationCost: 0 });
    let idles = 0;
    m.kernel.trace.subscribe((e) => {
      if (e.name === "sched_switch" && e.next_pid === 0) idles++;
    });
    m.run(20 * SEC);
    expect(w.errors).toEqual([]);
    expect(idles).toBeGreaterThan(5); // the mix does make CPUs go idle, so the check above was exercised
  });

  // The realtime and deadline classes move queued tasks between CPUs (push after a pick, pull when a
  // CPU's work gets worse): once an instant settles, no waiting task of the class could preempt the
  // current task of another CPU it may run on. (Linux aims at the same; its push and pull race with
  // other CPUs, TaskLab's do not.)
  if (cls.name === "rt" || cls.name === "dl") {
    it.each([2, 4])(`globalorder: at the end of every instant, no waiting ${cls.name} task could preempt another CPU's current task, on %i CPUs`, (cpus) => {
      const { m, w } = startMix(preset, cls, cpus, 12, 3, [checkQueues]);
      const errors: string[] = [];
      const q = m.kernel.engine.queue;
      let instants = 0;
      while (m.now < 20 * SEC && errors.length < 3) {
        if (m.run(20 * SEC, 1) === 0) break;
        const next = q.peek();
        if (next !== undefined && next.time === m.now) continue; // the instant is not over
        instants++;
        const bad = globalOrderViolation(m.kernel, cls.name);
        if (bad !== null) errors.push(bad);
      }
      expect(w.errors).toEqual([]);
      expect(errors).toEqual([]);
      expect(instants).toBeGreaterThan(100);
    });
  }

  it("idleonlyifnothing: one CPU never idles while a task of the class is runnable", () => {
    const { m, w } = startMix(preset, cls, 1, 6, 5, [checkQueues, checkIdle()]);
    m.run(20 * SEC);
    expect(w.errors).toEqual([]);
  });

  it("replay: the same seed gives an identical trace, event for event", () => {
    const a = traceOf(preset, cls, 4, 42);
    const b = traceOf(preset, cls, 4, 42);
    expect(a.length).toBeGreaterThan(500);
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) expect(`event ${i}: ${b[i]}`).toBe(`event ${i}: ${a[i]}`);
  });

  it("workconserve: on one CPU, CPU time given equals the busy time seen in the trace", () => {
    const m = new Machine({ cpus: 1, seed: 1, sched: preset });
    const w = watch(m, [checkQueues]);
    const busy = busyFromTrace(m, () => m.now);
    for (let i = 0; i < 6; i++) m.spawn(worker, { argv: ["worker", String(i)], ...policyOpts(cls.policies[i % cls.policies.length]!, i) });
    m.run(20 * SEC);
    expect(w.errors).toEqual([]);
    const given = cpuTime(m, w.tasks.values());
    expect(given).toBeGreaterThan(0);
    expect(busy()[0]).toBe(given);
    expect(m.kernel.rqs[0]!.busyTime).toBe(given);
  });

  if (isDl) {
    // CBS throttles a job that used its runtime until its next period even when
    // nothing else wants the CPU (deadline.c without GRUB reclaiming): by
    // design not work-conserving, and a reservation cannot exceed 95 % anyway.
    it.skip("workconserve: always-runnable work finishes exactly when the work is done (skipped: CBS throttling idles the CPU by design)", () => {});
  } else {
    it("workconserve: on one CPU, always-runnable work finishes exactly when the work is done", () => {
      const m = new Machine({ cpus: 1, seed: 1, sched: preset });
      const w = watch(m, [checkQueues, checkIdle()]);
      const sizes = [10, 23, 37, 41, 52].map((x) => x * MS + 123 * US); // 164.6 ms: under the RT budget of 950 ms/s
      const pids = sizes.map((ns, i) => m.spawn(cruncher, { argv: ["cruncher", String(ns)], ...policyOpts(cls.policies[i % cls.policies.length]!, i) }));
      let lastExit = -1;
      m.kernel.trace.subscribe((e) => {
        if (e.name === "sched_process_exit" && pids.includes(e.pid)) lastExit = Math.max(lastExit, e.ts);
      });
      m.run(10 * SEC);
      expect(w.errors).toEqual([]);
      const total = sizes.reduce((a, b) => a + b, 0);
      expect(lastExit).toBe(total);
      expect(cpuTime(m, w.tasks.values())).toBe(total);
      expect(m.kernel.rqs[0]!.busyTime).toBe(total);
    });
  }
}

describe.each(PRESET_NAMES)("preset %s", (preset) => {
  const chain = chainOf(preset);
  for (const cls of chain) {
    const reason = skipReason(cls, cls.index === chain.length - 1);
    describe(`class ${cls.name} (policies ${cls.policies.join(",") || "none"})`, () => {
      if (reason !== null) it.skip(`common cases (skipped: ${reason})`, () => {});
      else commonCases(preset, cls);
    });
  }
});

// ---------------------------------------------------------------------------
// Class order: a higher class always wins
// ---------------------------------------------------------------------------

/** Delays from each sched_wakeup of `pid` to the sched_switch that runs it. */
function wakeDelays(m: Machine, pid: number): number[] {
  const out: number[] = [];
  let woke = -1;
  m.kernel.trace.subscribe((e) => {
    if (e.name === "sched_wakeup" && e.pid === pid) woke = e.ts;
    if (e.name === "sched_switch" && e.next_pid === pid && woke >= 0) {
      out.push(e.ts - woke);
      woke = -1;
    }
  });
  return out;
}

/** Why class order between `hi` and `lo` policies cannot be tested in `preset`, or null. */
function orderSkip(preset: string, hi: number, lo: number): string | null {
  const k = new Machine({ cpus: 1, sched: preset }).kernel;
  const a = k.classOfPolicy[hi];
  const b = k.classOfPolicy[lo];
  if (a === undefined) return `preset ${preset} has no class for policy ${hi}`;
  if (b === undefined) return `preset ${preset} has no class for policy ${lo}`;
  if (a === b) return `preset ${preset} serves policies ${hi} and ${lo} with one class (${k.classes[a]!.name}): there is no class order between them`;
  return null;
}

/** Classes that do not weight their tasks, with why SCHED_IDLE gets an equal share there. */
const UNWEIGHTED: Record<string, string> = {
  simple: "the placeholder simple class is one round-robin queue without weights: SCHED_IDLE gets an equal turn",
};

describe.each(PRESET_NAMES)("preset %s: class order", (preset) => {
  const fifoSkip = orderSkip(preset, SCHED_FIFO, SCHED_NORMAL);
  if (fifoSkip) it.skip(`higherwins: a woken FIFO task preempts a running fair task at once (skipped: ${fifoSkip})`, () => {});
  else
    it("higherwins: a woken FIFO task preempts a running fair task at once, every time", () => {
      const m = new Machine({ cpus: 1, sched: preset });
      const w = watch(m, [checkQueues]);
      const fair = m.spawn(hog);
      const rt = m.spawn(sleeper, { argv: ["sleeper", String(3_300 * US), String(200 * US)], policy: SCHED_FIFO, rtPriority: 1 });
      const d = wakeDelays(m, rt);
      m.run(300 * MS);
      expect(w.errors).toEqual([]);
      expect(d.length).toBeGreaterThan(80);
      expect(d.every((x) => x === 0)).toBe(true);
      expect(cpuTime(m, [m.task(fair)!])).toBeGreaterThan(200 * MS); // the fair hog ran in between
    });

  const dlSkip = orderSkip(preset, SCHED_DEADLINE, SCHED_FIFO);
  if (dlSkip) it.skip(`higherwins: a woken deadline task preempts a running FIFO task at once (skipped: ${dlSkip})`, () => {});
  else
    it("higherwins: a woken deadline task preempts a running FIFO task (priority 99) at once, every time", () => {
      const m = new Machine({ cpus: 1, sched: preset });
      const w = watch(m, [checkQueues]);
      m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 99 });
      const dl = m.spawn(sleeper, { argv: ["sleeper", String(5 * MS), String(300 * US)], policy: SCHED_DEADLINE, dl: { runtime: 1 * MS, deadline: 10 * MS, period: 10 * MS } });
      const d = wakeDelays(m, dl);
      m.run(300 * MS);
      expect(w.errors).toEqual([]);
      expect(d.length).toBeGreaterThan(40);
      expect(d.every((x) => x === 0)).toBe(true);
    });

  it("idleclass: SCHED_IDLE and SCHED_BATCH are served by the class that serves SCHED_NORMAL, as in Linux's fair class", () => {
    const k = new Machine({ cpus: 1, sched: preset }).kernel;
    expect(k.classOfPolicy[SCHED_IDLE]).toBe(k.classOfPolicy[SCHED_NORMAL]);
    expect(k.classOfPolicy[SCHED_BATCH]).toBe(k.classOfPolicy[SCHED_NORMAL]);
  });
  const k0 = new Machine({ cpus: 1, sched: preset }).kernel;
  const fairName = k0.classes[k0.classOfPolicy[SCHED_NORMAL]!]!.name;
  it("idleweight: a SCHED_IDLE hog is not starved by a normal hog: it loses by weight, not by class", () => {
    const m = new Machine({ cpus: 1, sched: preset });
    const normal = m.spawn(hog);
    const idle = m.spawn(hog, { policy: SCHED_IDLE });
    m.run(2 * SEC);
    const ti = cpuTime(m, [m.task(idle)!]);
    const tn = cpuTime(m, [m.task(normal)!]);
    expect(ti + tn).toBe(2 * SEC);
    expect(ti).toBeGreaterThan(0);
  });
  if (UNWEIGHTED[fairName]) it.skip(`idleweight: SCHED_IDLE gets about 3/1027 of the CPU (skipped: ${UNWEIGHTED[fairName]})`, () => {});
  else
    it("idleweight: SCHED_IDLE (weight 3) gets about 3/1027 of one CPU next to a nice-0 hog (weight 1024)", () => {
      const m = new Machine({ cpus: 1, sched: preset });
      const normal = m.spawn(hog);
      const idle = m.spawn(hog, { policy: SCHED_IDLE });
      m.run(10 * SEC);
      const share = cpuTime(m, [m.task(idle)!]) / (cpuTime(m, [m.task(idle)!]) + cpuTime(m, [m.task(normal)!]));
      expect(share).toBeGreaterThan(0.5 * (3 / 1027));
      expect(share).toBeLessThan(2 * (3 / 1027));
    });
});

// ---------------------------------------------------------------------------
// Core bugs this suite found, each reduced to its smallest form
// ---------------------------------------------------------------------------

describe("core: bugs found by the shared suite", () => {
  /**
   * Task A computes 2 ms; task C slept since time 0 and wakes at exactly 2 ms on
   * A's CPU, without preempting A (C is of a lower class, or SCHED_BATCH).
   * Returns when A's program got past its compute.
   */
  function burstEnd(preset: string, aOpts: { policy: number; rtPriority?: number }, cPolicy: number): number {
    const m = new Machine({ cpus: 1, sched: preset });
    const c = program("C", function* (sys) {
      yield* sys.sleep(2 * MS);
      yield* sys.compute(1 * MS);
    });
    const a = program("A", function* (sys) {
      yield* sys.compute(2 * MS);
      return 0;
    });
    m.spawn(c, { policy: cPolicy });
    m.run(0); // C runs first and goes to sleep until 2 ms
    const pid = m.spawn(a, aOpts);
    let exited = -1;
    m.kernel.trace.subscribe((e) => {
      if (e.name === "sched_process_exit" && e.pid === pid) exited = e.ts;
    });
    m.run(2 * SEC);
    return exited;
  }

  it("burstend: on the simple preset a task goes on at once when its burst ends as a sleeper wakes beside it", () => {
    expect(burstEnd("simple", { policy: SCHED_NORMAL }, SCHED_NORMAL)).toBe(2 * MS);
  });

  // FIXED BUG (this test guards it; the text tells what the code once did) (core.ts rearm): the wakeup of C (a timer, which fires before the CPU's own
  // event at the same instant) enqueues C; the fair class's enqueue calls the core's
  // updateCurr on that CPU, which uses up the rest of A's burst (computeLeft = 0). The
  // wakeup does not preempt, so checkPreempt calls rearm(), which only arms for
  // `computeLeft > 0` and moves the CPU's pending event from now to the next tick check
  // (or the RT budget check, ~950 ms away for a FIFO task). A sits on the CPU doing nothing,
  // charged as system time, until then. Linux: the task returns to user space when its
  // work is done; rearm should arm for now when curr (not idle) has computeLeft 0.
  it.each([
    ["linux-6", "FIFO", "normal"],
    ["linux-5", "FIFO", "normal"],
    ["linux-6", "normal", "batch"],
    ["linux-5", "normal", "batch"],
    ["eevdf", "normal", "batch"],
    ["cfs", "normal", "batch"],
  ])("burstend: %s: a %s task goes on at once when its burst ends as a %s sleeper wakes beside it without preempting", (preset, a, c) => {
    const aOpts = a === "FIFO" ? { policy: SCHED_FIFO, rtPriority: 10 } : { policy: SCHED_NORMAL };
    expect(burstEnd(preset, aOpts, c === "batch" ? SCHED_BATCH : SCHED_NORMAL)).toBe(2 * MS);
  });

  // FIXED BUG (this test guards it; the text tells what the code once did) (core.ts schedule + rt.ts setNextTask): schedule() calls the class's
  // setNextTask before it sets rq.curr = next, and rt.setNextTask pushes queued RT tasks
  // to other CPUs right there. At the sched_migrate_task of a push, `next` is on neither
  // rq.queued nor rq.curr of its CPU, and that CPU's nrRunning counts one task more than
  // it holds. Linux: set_next_task_rt only queues push_rt_tasks as a balance callback,
  // which runs after the switch (rq->curr == next).
  it.each(PRESET_NAMES.filter((p) => orderSkip(p, SCHED_FIFO, SCHED_NORMAL) === null))(
    "rtpush: %s: runqueues are consistent at every sched_migrate_task of an RT push",
    (preset) => {
      const m = new Machine({ cpus: 2, sched: preset });
      const bad: string[] = [];
      let pushes = 0;
      m.kernel.trace.subscribe((e) => {
        if (e.name !== "sched_migrate_task") return;
        pushes++;
        const rq = m.kernel.rqs[e.orig_cpu]!;
        const n = rq.queued.size + (rq.curr !== rq.idle && rq.curr.onRq ? 1 : 0);
        if (n !== rq.nrRunning) bad.push(`${e.ts}: cpu ${rq.cpu} nrRunning ${rq.nrRunning}, holds ${n}`);
      });
      // Both start on init's CPU; the first pick there pushes the other to CPU 1.
      m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 10 });
      m.spawn(hog, { policy: SCHED_FIFO, rtPriority: 20 });
      m.run(10 * MS);
      expect(pushes).toBeGreaterThan(0);
      expect(bad).toEqual([]);
    },
  );
});

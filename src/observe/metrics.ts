/**
 * Scheduling metrics from the trace stream (DESIGN.md section 5): turnaround,
 * waiting, response, CPU time and share, run-delay percentiles, context switches,
 * migrations, per-CPU utilisation, throughput and Jain's fairness index.
 *
 * The recorder is a trace listener: it reads events, and never changes the kernel.
 * Two optional read-only looks at the kernel help it: `lookup` reports nice/policy
 * when a task is created, and a snapshot tells what was alive when recording began.
 * Each event costs O(1); `finish` sorts the run delays once.
 *
 * How a task's life is read from the events (as `perf sched latency` does):
 *
 *   fork/wakeup_new ──► runnable ──sched_switch in──► running ──switch out, prev_state R+──► runnable
 *         ▲                ▲                              │
 *         │           sched_wakeup ◄── sleeping ◄── switch out, prev_state S/D/T/Z...
 *
 * - turnaround = exit - creation (sched_process_fork of the child; wakeup_new if no fork seen)
 * - response   = first switch-in - creation
 * - waiting    = sum of runnable->running intervals; each interval is one run-delay sample, and a
 *                wait still open at the end is one too, counted up to the end (a lower bound: a task
 *                starved for the whole run shows that, not an empty record)
 * - CPU time   = sum of switch-in -> switch-out intervals (context-switch cost is not split out)
 * - a switch is voluntary when the task left the CPU not runnable (blocked or exited), involuntary when
 *   prev_state is "R+" (preempted) or "R" (it yielded), as Linux counts nvcsw and nivcsw
 *
 * Fed events alone (no snapshot), tasks alive before the first event have no creation
 * time, hence null turnaround and response. The summary's task aggregates (means, pooled run delay, throughput,
 * Jain) count "workload" tasks, by default every pid > 1 (not init); switches,
 * migrations and utilisation are system-wide.
 *
 * @example
 * const rec = MetricsRecorder.attach(machine);
 * machine.run(ms(100));
 * const m = rec.finish(machine.now);
 * console.log(m.summary.meanTurnaround, m.summary.jain);
 */
import type { TraceEvent } from "../sim/trace.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { niceToWeight, WEIGHT_IDLEPRIO } from "../kernel/sched/weights.ts";
import { SCHED_BATCH, SCHED_IDLE, SCHED_NORMAL } from "../kernel/task/task.ts";

/** Nearest-rank percentiles of one set of samples (ns). */
export interface Percentiles { count: number; mean: number; max: number; p50: number; p95: number; p99: number }

/** One task lifetime. Times in ns; null when the trace did not show it. */
export interface TaskMetrics {
  pid: number;
  comm: string;
  /**
   * Where the task sits in the fork tree, by names, from init's children down: "shell/worker#2" is
   * the second child named worker of the first task named shell. It stays the same from one
   * scheduler to another when pids do not (compare --tasks lines tasks up by it).
   */
  lineage: string;
  /** From `lookup` or the snapshot, else from the traced prio of a normal task; null for RT/unknown. */
  nice: number | null;
  policy: number | null;
  /** Counted in the summary's task aggregates. */
  workload: boolean;
  created: number | null; firstRun: number | null; exited: number | null;
  turnaround: number | null; response: number | null;
  /** Runnable but not running (an interval still open at the end included). */
  waiting: number;
  cpuTime: number;
  /** cpuTime / elapsed, and cpuTime / CPU time of all tasks. */
  shareOfElapsed: number; shareOfCpu: number;
  runDelay: Percentiles;
  voluntarySwitches: number; involuntarySwitches: number; migrations: number;
  /**
   * A deadline task's jobs (from the dl_job events: a job ends when the task blocks, yields or
   * exits), how many ended after their absolute deadline, and the largest lateness (ns, end -
   * deadline; negative when every job was early). Null for a task that ended no deadline job.
   */
  deadlineJobs: { jobs: number; missed: number; maxLateness: number } | null;
}

export interface CpuMetrics { cpu: number; busy: number; utilisation: number; switches: number }

export interface RunSummary {
  /** Workload tasks seen, and how many exited. */
  tasks: number; exited: number;
  meanTurnaround: number | null; meanWaiting: number | null; meanResponse: number | null;
  /**
   * Means over every workload task, a task that had not exited (or not run) counting up to the end of
   * the window: lower bounds, as survival analysis treats censored samples. Equal to the plain means
   * when every task exited (ran). Without them a scheduler that starves a task looks better.
   */
  meanTurnaroundAll: number | null; meanResponseAll: number | null;
  /** Workload tasks that never ran in the window. */
  neverRan: number;
  totalCpuTime: number;
  /** All runnable->running intervals of the workload tasks, pooled. */
  runDelay: Percentiles;
  switches: number; voluntarySwitches: number; involuntarySwitches: number; migrations: number;
  /** Busy time of all CPUs / (elapsed x CPUs). */
  utilisation: number;
  /** Workload exits per simulated second; null for an empty window. */
  throughput: number | null;
  /**
   * Jain's index (Jain, Chiu & Hawe 1984) over x_i = measured / fair allocation: CPU time per unit of
   * load weight per unit of time the task wanted the CPU (running + runnable). 1 when every task got
   * its weighted share of the time it was runnable. Normal/batch/idle tasks only.
   */
  jain: number | null;
  /** The raw index over CPU shares (the old figure): mixes demand and nice into "unfairness". */
  jainRaw: number | null; fairnessPids: number[];
  /** Deadline jobs of the workload tasks, and how many missed their deadline (see TaskMetrics.deadlineJobs). */
  deadlineJobs: number; deadlineMissed: number;
}

/** Everything `finish` reports: plain JSON. Times in ns. */
export interface RunMetrics {
  start: number; end: number; elapsed: number;
  cpus: number;
  summary: RunSummary;
  perCpu: CpuMetrics[];
  /** By pid; a reused pid has one entry per lifetime. */
  tasks: TaskMetrics[];
}

export interface RecorderOptions {
  /** CPUs to report even if they never switch (default 1; grows with events). */
  cpus?: number;
  /** Start of the measured window, ns (default 0). */
  start?: number;
  /** Read-only nice/policy of a task, read when it is created, when it exits, and for a live task at finish (what the task ended with). */
  lookup?: (pid: number) => { nice?: number; policy?: number } | undefined;
  /** Which tasks the summary counts (default: pid > 1). */
  workload?: (pid: number, comm: string) => boolean;
  /** Keep every run interval (for `ganttSvg`): 32 bytes per interval. */
  keepRuns?: boolean;
  /** What was alive when recording began (`attach` reads it from the kernel). */
  snapshot?: Snapshot;
}

export interface FinishOptions {
  /** Pids for Jain's index (default: workload tasks that wanted the CPU: those that ran or waited). */
  fairness?: readonly number[];
}

/** A task alive when recording began; `since`: runnable since then (state "runnable"). */
export interface TaskSnapshot {
  pid: number; comm: string; nice: number; policy: number; created: number; firstRun: number | null;
  state: "runnable" | "running" | "sleeping"; since: number;
}

/** Tasks alive when recording began, and the pid on each CPU (0: idle). */
export interface Snapshot { tasks: TaskSnapshot[]; running: number[] }

/** A read-only snapshot of the kernel's tasks and CPUs (nothing is changed). */
export function snapshotKernel(k: Kernel): Snapshot {
  const tasks: TaskSnapshot[] = [];
  for (const t of k.tasks.values()) {
    if (t.pid <= 0 || t.exitState !== 0) continue;
    const state = k.rqs[t.cpu]?.curr === t ? "running" : t.onRq ? "runnable" : "sleeping";
    const since = t.firstRun < 0 ? t.startTime : t.lastQueued;
    const firstRun = t.firstRun < 0 ? null : t.firstRun;
    tasks.push({ pid: t.pid, comm: t.comm, nice: t.staticPrio - 120, policy: t.policy, created: t.startTime, firstRun, state, since });
  }
  return { tasks, running: k.rqs.map((rq) => rq.curr.pid) };
}

/** A growable array of doubles. */
class Samples {
  data = new Float64Array(16);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = x;
  }
  push4(a: number, b: number, c: number, d: number): void {
    if (this.length + 4 > this.data.length) this.grow();
    const x = this.data;
    const n = this.length;
    x[n] = a;
    x[n + 1] = b;
    x[n + 2] = c;
    x[n + 3] = d;
    this.length = n + 4;
  }
  private grow(): void {
    const d = new Float64Array(this.data.length * 2);
    d.set(this.data);
    this.data = d;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

const SLEEPING = 0;
const WAITING = 1;
const RUNNING = 2;

/** What the recorder keeps per task lifetime (a reused pid gets a new one). */
class TaskAcc {
  nice: number | null = null; policy: number | null = null;
  created: number | null = null; firstRun: number | null = null; exited: number | null = null;
  state = SLEEPING;
  since = 0; // start of the current wait
  waiting = 0; cpuTime = 0;
  vol = 0; invol = 0; migrations = 0;
  dlJobs = 0; dlMissed = 0; dlMaxLateness = -Infinity;
  readonly delays = new Samples();
  /** The task that forked it, if the trace showed the fork. */
  parent: TaskAcc | null = null;
  /** Its weight in the fair-share reference while it wants the CPU (0: not counted, or not a fair task). */
  gpsWeight = 0;
  /** The recorder's fair-share integral when it began to want the CPU, and what it gathered over earlier stretches. */
  gpsFrom = 0;
  gpsSum = 0;
  constructor(readonly pid: number, public comm: string) {}
}

/** Sorts `xs` in place and returns its nearest-rank percentiles. */
export function percentiles(xs: Float64Array): Percentiles {
  const n = xs.length;
  if (n === 0) return { count: 0, mean: 0, max: 0, p50: 0, p95: 0, p99: 0 };
  xs.sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += xs[i]!;
  const rank = (p: number) => xs[Math.max(0, Math.ceil((p / 100) * n) - 1)]!;
  return { count: n, mean: sum / n, max: xs[n - 1]!, p50: rank(50), p95: rank(95), p99: rank(99) };
}

/** Jain's fairness index (sum x)^2 / (n sum x^2): 1 when all equal, 1/n when one has all. */
export function jainIndex(xs: readonly number[]): number | null {
  let s = 0;
  let s2 = 0;
  for (const x of xs) {
    s += x;
    s2 += x * x;
  }
  return xs.length === 0 || s2 === 0 ? null : (s * s) / (xs.length * s2);
}

function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** One weight level of the fair-share reference: tasks of that weight wanting the CPU, what one of them is owed since the start (ns), and the CPU each gets now. */
interface GpsLevel {
  n: number;
  owed: number;
  rate: number;
}

/** A task's weight in the fair-share reference: its nice level's for SCHED_NORMAL and SCHED_BATCH, 3 for SCHED_IDLE, 0 otherwise. */
function fairWeight(nice: number | null, policy: number | null): number {
  if (policy === SCHED_IDLE) return WEIGHT_IDLEPRIO;
  if (nice === null || (policy !== null && policy !== SCHED_NORMAL && policy !== SCHED_BATCH)) return 0;
  return niceToWeight(nice);
}

/** nice of a normal task from its kernel prio (100..139); null for RT prios. */
function niceOfPrio(prio: number): number | null {
  return prio >= 100 && prio < 140 ? prio - 120 : null;
}

/** Records scheduling metrics from trace events. Feed it with `on` (or `attach`), read with `finish`. */
export class MetricsRecorder {
  readonly start: number;
  /** Kept run intervals as (cpu, pid, start, end) quadruples, with `keepRuns`. */
  private readonly runs: Samples | null;
  private readonly lookup: RecorderOptions["lookup"];
  private readonly isWorkload: (pid: number, comm: string) => boolean;
  private readonly live = new Map<number, TaskAcc>();
  private readonly all: TaskAcc[] = [];
  /** Per CPU: pid on it (-1 unknown), since when, busy ns, switches. */
  private readonly cur: number[] = [];
  private readonly curSince: number[] = [];
  private readonly busy: number[] = [];
  private readonly switches: number[] = [];
  private nrMigrations = 0;
  private unsubscribe: (() => void) | null = null;
  /**
   * The fair-share reference (generalised processor sharing, the ideal weighted-fair machine): while
   * fair tasks of total weight W want the CPU, each of weight w is owed cpus x w / W of a CPU per ns,
   * but never more than one CPU; what a task cannot use goes to the others by weight (water-filling).
   * Tasks of equal weight are owed alike, so this keeps, per weight level (at most 41: the nice levels
   * and SCHED_IDLE), how many tasks want the CPU and what one of them has been owed since the start.
   */
  private gpsLevels = new Map<number, GpsLevel>();
  /** The levels' rates are out of date: a level's count changed since they were computed. */
  private gpsStale = false;
  private gpsAt: number;

  constructor(opts: RecorderOptions = {}) {
    this.start = opts.start ?? 0;
    this.gpsAt = this.start;
    this.lookup = opts.lookup;
    this.isWorkload = opts.workload ?? ((pid) => pid > 1);
    this.runs = opts.keepRuns ? new Samples() : null;
    this.ensureCpu((opts.cpus ?? 1) - 1);
    if (opts.snapshot) this.restore(opts.snapshot);
  }

  private restore(snap: Snapshot): void {
    this.ensureCpu(snap.running.length - 1);
    snap.running.forEach((pid, cpu) => (this.cur[cpu] = pid));
    for (const x of snap.tasks) {
      const t = this.newTask(x.pid, x.comm);
      Object.assign(t, { nice: x.nice, policy: x.policy, created: x.created, firstRun: x.firstRun, since: x.since });
      this.setState(this.start, t, x.state === "runnable" ? WAITING : x.state === "running" ? RUNNING : SLEEPING);
    }
  }

  /**
   * Subscribes a recorder to a machine's (or kernel's) trace from now on. Tasks already
   * alive come from a read-only snapshot; nice/policy of new tasks are read at their fork.
   */
  static attach(target: { kernel: Kernel } | Kernel, opts: RecorderOptions = {}): MetricsRecorder {
    const k = "kernel" in target ? target.kernel : target;
    const lookup = (pid: number) => {
      const t = k.tasks.get(pid);
      return t && { nice: t.staticPrio - 120, policy: t.policy };
    };
    const rec = new MetricsRecorder({ cpus: k.rqs.length, start: k.now, lookup, snapshot: snapshotKernel(k), ...opts });
    rec.unsubscribe = k.trace.subscribe(rec.on);
    return rec;
  }

  /** Stops listening (a no-op for a recorder fed by hand). */
  detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** The trace listener. */
  readonly on = (e: TraceEvent): void => {
    switch (e.name) {
      case "sched_switch": return this.onSwitch(e);
      case "sched_wakeup": return this.onWakeup(e.ts, e.pid, e.comm);
      case "sched_wakeup_new": return this.onWakeupNew(e.ts, e.pid, e.comm, e.prio);
      case "sched_process_fork": return void (this.created(e.ts, e.child_pid, e.child_comm).parent = this.live.get(e.parent_pid) ?? null);
      case "sched_migrate_task": return void (this.nrMigrations++, this.task(e.pid, e.comm).migrations++);
      case "sched_process_exit": {
        const t = this.task(e.pid, e.comm);
        t.exited = e.ts;
        // The attributes it ended with (a fork step or the task itself may have changed its policy since its creation).
        const info = this.lookup?.(e.pid);
        if (info?.nice !== undefined) t.nice = info.nice;
        if (info?.policy !== undefined) t.policy = info.policy;
        return;
      }
      case "dl_job": {
        const t = this.task(e.pid, e.comm);
        t.dlJobs++;
        if (e.lateness > 0) t.dlMissed++;
        if (e.lateness > t.dlMaxLateness) t.dlMaxLateness = e.lateness;
        return;
      }
      case "task_rename": return void (this.task(e.pid, e.newcomm).comm = e.newcomm);
      default: return;
    }
  };

  private ensureCpu(cpu: number): void {
    while (this.cur.length <= cpu) {
      this.cur.push(-1);
      this.curSince.push(this.start);
      this.busy.push(0);
      this.switches.push(0);
    }
  }

  private task(pid: number, comm: string): TaskAcc {
    return this.live.get(pid) ?? this.newTask(pid, comm);
  }

  private newTask(pid: number, comm: string): TaskAcc {
    const t = new TaskAcc(pid, comm);
    this.live.set(pid, t);
    this.all.push(t);
    return t;
  }

  /** A task is born: a fresh record (a pid reused after exit starts over). */
  private created(ts: number, pid: number, comm: string): TaskAcc {
    const old = this.live.get(pid);
    const t = old && old.exited === null && old.created === null ? old : this.newTask(pid, comm);
    t.created = ts;
    const info = this.lookup?.(pid);
    if (info?.nice !== undefined) t.nice = info.nice;
    if (info?.policy !== undefined) t.policy = info.policy;
    return t;
  }

  private onWakeupNew(ts: number, pid: number, comm: string, prio: number): void {
    const t = this.live.get(pid) ?? this.created(ts, pid, comm);
    if (t.nice === null && t.policy === null) t.nice = niceOfPrio(prio);
    this.setState(ts, t, WAITING);
    t.since = ts;
  }

  private onWakeup(ts: number, pid: number, comm: string): void {
    const t = this.task(pid, comm);
    if (t.state !== SLEEPING) return; // still on its CPU, or queued (ttwu_runnable)
    this.setState(ts, t, WAITING);
    t.since = ts;
  }

  /** Brings each level's owed time up to ts (see gpsLevels). */
  private gpsAdvance(ts: number): void {
    if (ts > this.gpsAt) {
      if (this.gpsStale) this.gpsRates();
      for (const l of this.gpsLevels.values()) if (l.n > 0) l.owed += l.rate * (ts - this.gpsAt);
    }
    if (ts > this.gpsAt) this.gpsAt = ts;
  }

  /**
   * Each level's rate in the ideal machine: no task uses more than one CPU, and what a capped task
   * cannot use goes to the others by weight (water-filling). At most 41 levels (nice, SCHED_IDLE).
   */
  private gpsRates(): void {
    this.gpsStale = false;
    const lv = [...this.gpsLevels].filter(([, l]) => l.n > 0).sort((a, b) => b[0] - a[0]);
    let c = this.cur.length;
    let w = 0;
    for (const [wt, l] of lv) w += wt * l.n;
    for (const [wt, l] of lv) {
      const r = w > 0 ? (wt * c) / w : 0;
      if (r >= 1) {
        l.rate = 1;
        c -= l.n;
        w -= wt * l.n;
      } else l.rate = r;
    }
  }

  /** Moves t to `state`, entering or leaving the fair-share reference when it starts or stops wanting the CPU. */
  private setState(ts: number, t: TaskAcc, state: number): void {
    const was = t.state !== SLEEPING;
    const is = state !== SLEEPING;
    t.state = state;
    if (was === is) return;
    this.gpsAdvance(ts);
    if (is) {
      t.gpsWeight = fairWeight(t.nice, t.policy);
      if (t.gpsWeight === 0) return;
      let l = this.gpsLevels.get(t.gpsWeight);
      if (!l) this.gpsLevels.set(t.gpsWeight, (l = { n: 0, owed: 0, rate: 0 }));
      l.n++;
      this.gpsStale = true;
      t.gpsFrom = l.owed;
    } else if (t.gpsWeight > 0) {
      const l = this.gpsLevels.get(t.gpsWeight)!;
      t.gpsSum += l.owed - t.gpsFrom;
      l.n--;
      this.gpsStale = true;
      t.gpsWeight = 0;
    }
  }

  /** What the fair-share reference owes t up to `now`, capped by the time it wanted the CPU (ns); null if not a fair task. */
  private fairShareOf(t: TaskAcc, now: number, wanted: number): number | null {
    const w = fairWeight(t.nice, t.policy);
    if (w === 0) return null;
    let a = t.gpsSum;
    if (t.gpsWeight > 0 && this.live.get(t.pid) === t) {
      const l = this.gpsLevels.get(t.gpsWeight)!;
      if (this.gpsStale) this.gpsRates(); // a cache of what the counts give: computing it changes no result
      const r = now > this.gpsAt ? l.rate : 0;
      a += l.owed + r * (now - this.gpsAt) - t.gpsFrom;
    }
    return Math.min(wanted, a);
  }

  private onSwitch(e: Extract<TraceEvent, { name: "sched_switch" }>): void {
    const { ts, cpu, prev_pid: prevPid, next_pid: nextPid } = e;
    this.ensureCpu(cpu);
    // The first switch seen on a CPU tells who ran there since the start.
    const ran = this.cur[cpu] === -1 ? prevPid : this.cur[cpu]!;
    const since = this.curSince[cpu]!;
    if (ran > 0) {
      this.busy[cpu]! += ts - since;
      this.task(ran, e.prev_comm).cpuTime += ts - since;
      if (this.runs && ts > since) this.runs.push4(cpu, ran, since, ts);
    }
    if (prevPid > 0) this.switchOut(ts, this.task(prevPid, e.prev_comm), e.prev_state);
    if (nextPid > 0) this.switchIn(ts, this.task(nextPid, e.next_comm), e.next_comm);
    this.cur[cpu] = nextPid;
    this.curSince[cpu] = ts;
    this.switches[cpu]!++;
  }

  /**
   * Re-reads a live task's nice/policy (a fork step, a nice or sched step may have changed them since its
   * creation): a task that wants the CPU moves to its new weight level from ts on.
   */
  private refresh(ts: number, t: TaskAcc): void {
    const info = this.live.get(t.pid) === t && t.exited === null ? this.lookup?.(t.pid) : undefined;
    if (info === undefined) return;
    if (info.nice !== undefined) t.nice = info.nice;
    if (info.policy !== undefined) t.policy = info.policy;
    if (t.state === SLEEPING || fairWeight(t.nice, t.policy) === t.gpsWeight) return;
    const state = t.state;
    this.setState(ts, t, SLEEPING); // leave the old level with what it was owed so far
    this.setState(ts, t, state); // and join the new one
  }

  private switchOut(ts: number, t: TaskAcc, prevState: string): void {
    this.refresh(ts, t);
    if (prevState === "R+" || prevState === "R") {
      t.invol++;
      this.setState(ts, t, WAITING);
      t.since = ts; // preempted: runnable from now
    } else {
      t.vol++;
      this.setState(ts, t, SLEEPING);
    }
  }

  private switchIn(ts: number, t: TaskAcc, comm: string): void {
    this.refresh(ts, t);
    if (t.state === WAITING) {
      t.waiting += ts - t.since;
      t.delays.push(ts - t.since);
    }
    t.firstRun ??= ts;
    this.setState(ts, t, RUNNING);
    t.comm = comm;
  }

  /**
   * Calls `fn` for every kept run interval (needs `keepRuns`), then for the runs still
   * on a CPU, cut at `now`. Intervals come per CPU in time order.
   */
  forEachRun(now: number, fn: (cpu: number, pid: number, start: number, end: number) => void): void {
    const r = this.runs;
    if (!r) throw new Error("MetricsRecorder: made without keepRuns, so it kept no run intervals");
    const d = r.data;
    for (let i = 0; i < r.length; i += 4) fn(d[i]!, d[i + 1]!, d[i + 2]!, d[i + 3]!);
    this.cur.forEach((pid, cpu) => {
      if (pid > 0 && now > this.curSince[cpu]!) fn(cpu, pid, this.curSince[cpu]!, now);
    });
  }

  /**
   * When the work was done: the last workload exit if every workload task seen has
   * exited, else `now`. A run stopped long after its last task (a default --until)
   * measures utilisation and throughput over this instead of the idle tail.
   */
  workEnd(now: number): number {
    let last = -Infinity;
    for (const t of this.all) {
      if (!this.isWorkload(t.pid, t.comm)) continue;
      if (t.exited === null) return now;
      last = Math.max(last, t.exited);
    }
    return last === -Infinity ? now : Math.min(now, last);
  }

  /** CPUs seen so far (at least the `cpus` option). */
  get cpus(): number {
    return this.cur.length;
  }

  /** The latest comm seen for `pid`, or undefined. */
  commOf(pid: number): string | undefined {
    return this.live.get(pid)?.comm;
  }

  /** Metrics up to `now` (ns). Does not change the recorder: it can go on and finish again later. */
  finish(now: number, opts: FinishOptions = {}): RunMetrics {
    const elapsed = Math.max(0, now - this.start);
    const openRun = this.openRuns(now);
    const cpuOf = (t: TaskAcc) => t.cpuTime + (this.live.get(t.pid) === t ? (openRun.get(t.pid) ?? 0) : 0);
    let total = 0;
    for (const t of this.all) total += cpuOf(t);
    const lineages = this.lineages();
    const tasks = this.all.map((t) => this.taskMetrics(t, now, cpuOf(t), elapsed, total, lineages.get(t)!));
    const perCpu = this.cur.map((pid, cpu) => {
      const busy = Math.min(elapsed, this.busy[cpu]! + (pid > 0 ? Math.max(0, now - this.curSince[cpu]!) : 0));
      return { cpu, busy, utilisation: elapsed > 0 ? busy / elapsed : 0, switches: this.switches[cpu]! };
    });
    const summary = this.summary(tasks, perCpu, elapsed, opts, now);
    tasks.sort((a, b) => a.pid - b.pid); // stable: a reused pid keeps its lifetimes in order
    return { start: this.start, end: now, elapsed, cpus: perCpu.length, summary, perCpu, tasks };
  }

  /** CPU time of the intervals still running at `now`, by pid. */
  private openRuns(now: number): Map<number, number> {
    const m = new Map<number, number>();
    this.cur.forEach((pid, cpu) => {
      if (pid > 0) m.set(pid, (m.get(pid) ?? 0) + Math.max(0, now - this.curSince[cpu]!));
    });
    return m;
  }

  /** The wait t is in at `now`, if it is runnable and not running (0 if not). */
  private openWait(t: TaskAcc, now: number): number {
    return t.state === WAITING && this.live.get(t.pid) === t ? Math.max(0, now - t.since) : 0;
  }

  /** t's run delays, with the wait still open at `now` as the last sample. */
  private delaysOf(t: TaskAcc, now: number): Float64Array {
    const open = this.openWait(t, now);
    const done = t.delays.view();
    if (open === 0) return done.slice();
    const out = new Float64Array(done.length + 1);
    out.set(done);
    out[done.length] = open;
    return out;
  }

  /** Each task's place in the fork tree by names (TaskMetrics.lineage), in the order tasks were seen. */
  private lineages(): Map<TaskAcc, string> {
    const out = new Map<TaskAcc, string>();
    const seen = new Map<string, number>();
    for (const t of this.all) {
      const up = t.parent !== null && t.parent.pid !== 1 ? out.get(t.parent) : undefined; // init's children are roots
      const base = up === undefined ? t.comm : `${up}/${t.comm}`;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      out.set(t, n === 1 ? base : `${base}#${n}`);
    }
    return out;
  }

  private taskMetrics(t: TaskAcc, now: number, cpuTime: number, elapsed: number, total: number, lineage: string): TaskMetrics {
    const open = this.openWait(t, now);
    const { pid, comm, created, firstRun, exited } = t;
    // A live task's attributes as they are now; an exited one's as it exited.
    const info = exited === null && this.live.get(pid) === t ? this.lookup?.(pid) : undefined;
    const nice = info?.nice ?? t.nice;
    const policy = info?.policy ?? t.policy;
    return {
      pid, comm, lineage, nice, policy, workload: this.isWorkload(pid, comm), created, firstRun, exited,
      turnaround: created !== null && exited !== null ? exited - created : null,
      response: created !== null && firstRun !== null ? firstRun - created : null,
      waiting: t.waiting + open,
      cpuTime,
      shareOfElapsed: elapsed > 0 ? cpuTime / elapsed : 0,
      shareOfCpu: total > 0 ? cpuTime / total : 0,
      runDelay: percentiles(this.delaysOf(t, now)),
      voluntarySwitches: t.vol, involuntarySwitches: t.invol, migrations: t.migrations,
      deadlineJobs: t.dlJobs > 0 ? { jobs: t.dlJobs, missed: t.dlMissed, maxLateness: t.dlMaxLateness } : null,
    };
  }

  private summary(tasks: TaskMetrics[], perCpu: CpuMetrics[], elapsed: number, opts: FinishOptions, now: number): RunSummary {
    const work = tasks.filter((t) => t.workload);
    const exited = work.filter((t) => t.exited !== null);
    const fair = opts.fairness ? new Set(opts.fairness) : null;
    // By default the tasks that wanted the CPU: those that ran, and those that waited for it and never got it.
    const fairSet = fair ? tasks.filter((t) => fair.has(t.pid)) : work.filter((t) => t.firstRun !== null || t.waiting > 0);
    const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
    const known = work.filter((t) => t.created !== null);
    // Each fair task's CPU time over what the fair-share reference owed it (Jain's x_i = measured / fair allocation).
    const normalised: number[] = [];
    tasks.forEach((t, i) => {
      if (!fairSet.includes(t)) return;
      const owed = this.fairShareOf(this.all[i]!, now, t.cpuTime + t.waiting);
      if (owed !== null && owed > 0) normalised.push(t.cpuTime / owed);
    });
    return {
      tasks: work.length, exited: exited.length,
      meanTurnaroundAll: mean(known.map((t) => (t.exited ?? now) - t.created!)),
      meanResponseAll: mean(known.map((t) => (t.firstRun ?? now) - t.created!)),
      neverRan: work.filter((t) => t.firstRun === null).length,
      meanTurnaround: mean(exited.flatMap((t) => (t.turnaround === null ? [] : [t.turnaround]))),
      meanWaiting: mean(work.map((t) => t.waiting)),
      meanResponse: mean(work.flatMap((t) => (t.response === null ? [] : [t.response]))),
      totalCpuTime: sum(tasks.map((t) => t.cpuTime)),
      runDelay: percentiles(this.pooledDelays(this.all.filter((_, i) => tasks[i]!.workload), now)),
      switches: sum(perCpu.map((c) => c.switches)), migrations: this.nrMigrations,
      voluntarySwitches: sum(tasks.map((t) => t.voluntarySwitches)),
      involuntarySwitches: sum(tasks.map((t) => t.involuntarySwitches)),
      utilisation: elapsed > 0 && perCpu.length > 0 ? sum(perCpu.map((c) => c.busy)) / (elapsed * perCpu.length) : 0,
      throughput: elapsed > 0 ? exited.length / (elapsed / 1e9) : null,
      jain: jainIndex(normalised),
      jainRaw: jainIndex(fairSet.map((t) => t.shareOfCpu)), fairnessPids: fairSet.map((t) => t.pid),
      deadlineJobs: sum(work.map((t) => t.deadlineJobs?.jobs ?? 0)),
      deadlineMissed: sum(work.map((t) => t.deadlineJobs?.missed ?? 0)),
    };
  }

  /** The run delays of `accs` in one array, open waits included. */
  private pooledDelays(accs: TaskAcc[], now: number): Float64Array {
    const each = accs.map((t) => this.delaysOf(t, now));
    const out = new Float64Array(each.reduce((n, d) => n + d.length, 0));
    let at = 0;
    for (const d of each) {
      out.set(d, at);
      at += d.length;
    }
    return out;
  }
}

/**
 * The machine: the kernel's global state and boot. Subsystems live in their own
 * files as functions over this state, as Linux keeps them in their own files
 * over globals: sched/core, task/fork, task/exit, task/wait, signal/signal ...
 */
import { Engine, Prio, Timer } from "../sim/engine.ts";
import { TraceBus } from "../sim/trace.ts";
import { checkParams, defaultParams, type Params } from "./param.ts";
import { PidAllocator } from "./pid.ts";
import type { Task, SignalStruct } from "./task/task.ts";
import type { Image } from "./task/program.ts";
import { uniformClass, type SchedClass } from "./sched/class.ts";
import { Rq } from "./sched/rq.ts";
import { KernelPanic } from "./errno.ts";

export interface BootOptions extends Partial<Params> {
  seed?: number;
  /** The class chain, highest priority first; must end with the idle class. */
  classes: SchedClass[];
  /** Maps a policy to the index of the class serving it; built from `classes` when absent. */
}

/**
 * A watchdog's view of the running program (set by a front end that runs the
 * simulator in a worker thread): [0] the pid whose JavaScript is running now,
 * 0 between programs; [1] a count of program resumes. A program that loops
 * without ever yielding cannot be interrupted from inside the thread; the
 * thread that owns the worker sees [0] stuck on one pid and [1] not moving.
 */
let programHeartbeat: Int32Array | null = null;

/** Every kernel booted from now on reports its program resumes to `hb` (null: none). */
export function setProgramHeartbeat(hb: Int32Array | null): void {
  programHeartbeat = hb;
}

/**
 * Marks the user's own code outside any simulated process (a program file's
 * top level while it is imported, its setup function) as running ([0] = -1)
 * or done, so the watchdog also stops an endless loop there.
 */
export function userCodeRunning(on: boolean): void {
  if (programHeartbeat === null) return;
  programHeartbeat[0] = on ? -1 : 0;
  if (on) programHeartbeat[1]!++; // a new stretch: the watchdog counts from here, not across stretches
}

export class Kernel {
  /** See setProgramHeartbeat. */
  readonly heartbeat: Int32Array | null = programHeartbeat;
  readonly engine: Engine;
  readonly params: Params;
  readonly trace = new TraceBus();
  readonly pids: PidAllocator;
  /** Every task by pid (= tid), zombies included, until released. */
  readonly tasks = new Map<number, Task>();
  readonly rqs: Rq[] = [];
  readonly classes: SchedClass[];
  /** Index into `classes` per policy number. */
  readonly classOfPolicy: number[] = [];
  /** Executables by path, for execve. */
  readonly binaries = new Map<string, Image>();
  /** Processes (thread groups) per process group id. */
  readonly pgrps = new Map<number, Set<SignalStruct>>();
  /** Processes per session id. */
  readonly sessions = new Map<number, Set<SignalStruct>>();
  /** Foreground process group of each terminal. */
  readonly ttyPgrp = new Map<string, number>();
  /** Live threads, for threads-max. */
  nrThreads = 0;
  /** Tasks made by fork or clone and not yet released. */
  nrProcesses = 0;
  /** Tasks (threads included) per real uid, for RLIMIT_NPROC (the kernel's per-user ucounts). */
  readonly tasksOfUid = new Map<number, number>();
  /** When a task last exited (0 if none has). */
  lastExitAt = 0;
  /** Task count ever created, for /proc/stat "processes". */
  totalForks = 0;
  /** The child reaper of the (single) pid namespace. */
  init!: Task;
  /** ns per scheduler tick (1e9 / HZ). */
  readonly tickNs: number;
  /** The runqueue whose CPU is executing right now, or null between events. */
  activeRq: Rq | null = null;

  /**
   * The CPU that is doing the current work, for the [CPU] column of an event
   * as ftrace records it (where the tracepoint fired, not the task it is
   * about): the CPU whose event is running, else `fallback` (a timer fires on
   * the CPU that armed it, which is the sleeper's own).
   */
  cpuNow(fallback: number): number {
    return this.activeRq !== null ? this.activeRq.cpu : fallback;
  }
  /** Human-readable warnings (runaway programs, crashes), also traced. */
  readonly warnings: string[] = [];
  /** What programs wrote to stdout/stderr (fds 1 and 2 of the console). */
  readonly output: { ts: number; pid: number; fd: number; text: string }[] = [];
  /** Called after each write to `output` (a front end printing as the simulation goes). */
  onOutput: (() => void) | null = null;
  /** Tasks in uninterruptible sleep (D, not TASK_NOLOAD): they count in the load average. */
  nrUninterruptible = 0;
  /** Load averages (1, 5, 15 min) in 11-bit fixed point, and when the next sample is due. */
  avenrun: number[] = [0, 0, 0];
  nextLoadSample: number; // boot + LOAD_FREQ (5 s + 1 tick), as sched_init sets calc_load_update
  /** Syscalls made at simulated time `instantAt`, machine-wide (step budget). */
  instantSteps = 0;
  instantAt = -1;
  /** The fire function shared by every task's sleep timer (the task is the timer's owner). */
  sleepTimerFire: ((t: Timer) => void) | null = null;
  /** Periodic load-balance event. */
  balanceTimer: Timer | null = null;
  /** A periodic balance pass is running (rebalance_domains): pulls made by it do not re-arm the pass. */
  balancing = false;

  constructor(opts: BootOptions) {
    const params = { ...defaultParams(), ...stripUndefined(opts) } as Params;
    checkParams(params);
    this.params = params;
    this.engine = new Engine(opts.seed ?? 1);
    this.pids = new PidAllocator(params.pidMax);
    this.tickNs = Math.round(1e9 / params.hz);
    this.nextLoadSample = 5_000_000_000 + this.tickNs;
    this.classes = opts.classes.map(uniformClass);
    if (this.classes.length === 0 || this.classes[this.classes.length - 1]!.name !== "idle")
      throw new KernelPanic("class chain must end with the idle class");
    this.classes.forEach((c, i) => {
      for (const pol of c.policies) if (this.classOfPolicy[pol] === undefined) this.classOfPolicy[pol] = i;
    });
    for (let c = 0; c < params.cpus; c++) this.rqs.push(new Rq(c));
    for (const c of this.classes) c.attach?.(this);
  }

  get now(): number {
    return this.engine.now;
  }

  /** A task by pid, or undefined (zombies included, released tasks not). */
  task(pid: number): Task | undefined {
    return this.tasks.get(pid);
  }

  classOf(p: Task): SchedClass {
    return this.classes[p.sclass]!;
  }

  warn(p: Task, text: string): void {
    const line = `[${(this.now / 1e6).toFixed(3)} ms] pid ${p.pid} (${p.comm}): ${text}`;
    this.warnings.push(line);
    if (this.trace.on) this.trace.emit({ name: "kernel_warning", ts: this.now, cpu: p.cpu, pid: p.pid, comm: p.comm, text });
  }

  newTimer(prio: number, fire: (t: Timer) => void, owner: unknown = null, order = -1): Timer {
    return new Timer(prio, fire, owner, order);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== "classes" && k !== "seed") (r as Record<string, unknown>)[k] = v;
  return r;
}

export { Prio };

/**
 * A booted machine: the public entry point for front ends, tests and benchmarks.
 *
 * @example
 * const m = new Machine({ cpus: 2, seed: 1 });
 * m.spawn(program("hello", function* (sys) { yield* sys.print("hi\n"); }));
 * m.run();
 */
import { Kernel } from "../kernel/kernel.ts";
import { defaultParams, type Params } from "../kernel/param.ts";
import { boot, spawn } from "../kernel/boot.ts";
import { presetClasses, DEFAULT_PRESET } from "../kernel/sched/presets.ts";
import { checkDlParams, dlAdmit, setDlParams, dlBandwidth, toRatio } from "../kernel/sched/deadline.ts";
import { KernelPanic } from "../kernel/errno.ts";
import { initProgram } from "./init.ts";
import type { Image } from "../kernel/task/program.ts";
import type { Task } from "../kernel/task/task.ts";
import { Prio } from "../sim/engine.ts";
import { errnoName } from "../kernel/errno.ts";
import { changeSched } from "../kernel/sched/core.ts";
import { formatDuration } from "../sim/units.ts";

const POLICY_NAMES: Record<number, string> = { 0: "normal", 1: "fifo", 2: "rr", 3: "batch", 5: "idle", 6: "deadline" };

export interface MachineOptions extends Partial<Params> {
  seed?: number;
  /** Scheduler preset name (see PRESETS). */
  sched?: string;
}

export interface SpawnOptions {
  argv?: string[];
  nice?: number;
  /** SCHED_* policy number. */
  policy?: number;
  rtPriority?: number;
  affinity?: number[];
  /** Parent pid (default 1, init). */
  parent?: number;
  /** comm override (e.g. a workload task's name). */
  name?: string;
  /** Run as this user id (0 = root: may raise priority, set RT and deadline policies). Default 1000. */
  uid?: number;
  /** SCHED_DEADLINE parameters (ns), with policy 6: admission control applies (throws when refused). */
  dl?: { runtime: number; deadline: number; period: number };
  /** A normal or batch task's own slice in ns, 100 us to 100 ms (sched_attr.sched_runtime; used by EEVDF). */
  slice?: number;
}

export class Machine {
  readonly kernel: Kernel;
  readonly sched: string;

  constructor(opts: MachineOptions = {}) {
    const params = { ...defaultParams(), ...definedOnly(opts) } as Params;
    this.sched = opts.sched ?? DEFAULT_PRESET;
    this.kernel = new Kernel({ ...params, seed: opts.seed ?? 1, classes: presetClasses(this.sched, params) });
    boot(this.kernel, initProgram);
  }

  get now(): number {
    return this.kernel.now;
  }

  /** Makes `prog` executable at `path` (for execve). */
  install(path: string, prog: Image): this {
    this.kernel.binaries.set(path, prog);
    return this;
  }

  /** Starts `prog` now as a child of init (or of `opts.parent`). Returns its pid; throws if it cannot be created. */
  spawn(prog: Image, opts: SpawnOptions = {}): number {
    const k = this.kernel;
    const parent = k.task(opts.parent ?? 1);
    if (!parent || parent.exitState !== 0) throw new Error(`spawn ${prog.name}: no live parent pid ${opts.parent ?? 1}`);
    try {
      validate(k, opts, this.sched);
    } catch (e) {
      const msg = `spawn ${opts.name ?? prog.name}: ${(e as Error).message}`;
      throw e instanceof NoSchedClassError ? new NoSchedClassError(msg) : new Error(msg);
    }
    const r = spawn(k, parent, prog, opts.argv ?? defaultArgv(prog), (p) => {
      applySched(k, p, opts);
      if (opts.uid !== undefined) p.uid = opts.uid;
    });
    if (typeof r === "number") throw new Error(`spawn ${prog.name}: ${errnoName(r)}`);
    if (opts.name) r.comm = opts.name.length > 15 ? opts.name.slice(0, 15) : opts.name;
    return r.pid;
  }

  /** Starts `prog` at simulated time `at` (ns). The pid is reported through `onSpawn`. */
  spawnAt(at: number, prog: Image, opts: SpawnOptions = {}, onSpawn?: (pid: number) => void, origin?: string): void {
    const t = this.kernel.newTimer(Prio.SPAWN, () => {
      // A process that cannot be created at its time (no free pid, admission refused) is a
      // warning, as a failed fork is: the rest of the run goes on.
      let pid: number;
      try {
        pid = this.spawn(prog, opts);
      } catch (e) {
        this.kernel.warnings.push(`[${(this.kernel.now / 1e6).toFixed(3)} ms] ${(e as Error).message}${origin ? ` (${origin})` : ""}`);
        return;
      }
      onSpawn?.(pid);
    });
    this.kernel.engine.arm(t, at);
  }

  /** Runs until `until` ns (default: until nothing is left to do). Returns events fired. */
  run(until = Infinity, maxEvents = Infinity): number {
    return this.kernel.engine.run(until, maxEvents);
  }

  task(pid: number): Task | undefined {
    return this.kernel.task(pid);
  }

  /** Everything programs wrote to stdout/stderr, in order. */
  get output(): string {
    return this.kernel.output.map((o) => o.text).join("");
  }
}

const argvCache = new WeakMap<Image, readonly string[]>();

/** [name], shared and frozen: a thousand copies of a program need not hold a thousand argv arrays. */
function defaultArgv(img: Image): readonly string[] {
  let a = argvCache.get(img);
  if (!a) argvCache.set(img, (a = Object.freeze([img.name])));
  return a;
}

/** Checks a spawn's scheduling attributes before anything is created; throws naming the option and range. */
function validate(k: Kernel, o: SpawnOptions, sched: string): void {
  if (o.nice !== undefined && (!Number.isInteger(o.nice) || o.nice < -20 || o.nice > 19))
    throw new Error(`nice ${o.nice}: expected an integer from -20 to 19`);
  if (o.policy !== undefined) {
    if (![0, 1, 2, 3, 5, 6].includes(o.policy))
      throw new Error(`policy ${o.policy}: expected 0 (normal), 1 (fifo), 2 (rr), 3 (batch), 5 (idle) or 6 (deadline)`);
    if (k.classOfPolicy[o.policy] === undefined) throw new NoSchedClassError(`policy ${o.policy} (${POLICY_NAMES[o.policy]}) has no scheduling class in scheduler "${sched}"`);
  }
  const rt = o.policy === 1 || o.policy === 2;
  if (rt && o.rtPriority === undefined) throw new Error(`policy ${o.policy} (${POLICY_NAMES[o.policy!]}) needs rtPriority, an integer from 1 to 99`);
  if (o.rtPriority !== undefined && !rt) throw new Error(`rtPriority ${o.rtPriority}: only for policy 1 (fifo) or 2 (rr) (sched_setscheduler: EINVAL)`);
  if (o.rtPriority !== undefined && (!Number.isInteger(o.rtPriority) || o.rtPriority < 1 || o.rtPriority > 99))
    throw new Error(`rtPriority ${o.rtPriority}: expected an integer from 1 to 99`);
  if (o.affinity) {
    if (o.affinity.length === 0) throw new Error("affinity: the CPU list is empty");
    for (const c of o.affinity)
      if (!Number.isInteger(c) || c < 0 || c >= k.rqs.length) throw new Error(`affinity: CPU ${c} does not exist (CPUs are 0..${k.rqs.length - 1})`);
  }
  if (o.slice !== undefined) {
    if (o.policy !== undefined && o.policy !== 0 && o.policy !== 3) throw new Error(`slice: only for normal (0) or batch (3) tasks, not policy ${o.policy}`);
    if (!Number.isInteger(o.slice) || o.slice < 100_000 || o.slice > 100_000_000) throw new Error(`slice ${o.slice}: expected an integer number of ns from 100000 (100us) to 100000000 (100ms)`);
  }
  if (o.policy === 6) {
    const dl = o.dl;
    if (!dl || !checkDlParams(dl.runtime, dl.deadline, dl.period))
      throw new Error("deadline policy needs runtime <= deadline <= period, each at least 1024 ns (period 100us..4.19s)");
    // __sched_setscheduler: a deadline task's affinity must span the root domain (every CPU here).
    if (k.params.rtRuntime >= 0 && o.affinity && new Set(o.affinity).size < k.rqs.length)
      throw new Error(
        `refused (EPERM): a deadline task's affinity must include every CPU (0..${k.rqs.length - 1}); ` +
          `Linux allows SCHED_DEADLINE only on a task whose CPUs span its root domain`,
      );
    const { total, limit } = dlBandwidth(k);
    if (limit !== -1 && total + toRatio(dl.period || dl.deadline, dl.runtime) > limit)
      throw new Error(
        `refused by deadline admission control (EBUSY): runtime ${formatDuration(dl.runtime)} every ${formatDuration(dl.period || dl.deadline)} ` +
          `exceeds the bandwidth left (${(total / 2 ** 20).toFixed(3)} of ${(limit / 2 ** 20).toFixed(3)} CPUs already admitted)`,
      );
  }
}

/** A spawn asked for a policy the machine's scheduler has no class for (a realtime task under the fair class alone). */
export class NoSchedClassError extends Error {}

/** Applies validated attributes to the new task before its first enqueue. */
function applySched(k: Kernel, p: Task, o: SpawnOptions): void {
  if (o.nice !== undefined) p.staticPrio = p.normalPrio = p.prio = 120 + o.nice;
  if (o.policy !== undefined) {
    p.policy = o.policy;
    p.sclass = k.classOfPolicy[o.policy]!;
  }
  if (o.rtPriority !== undefined) {
    p.rtPriority = o.rtPriority;
    p.normalPrio = p.prio = 99 - o.rtPriority;
  }
  if (o.affinity) {
    const mask = new Uint8Array(k.rqs.length);
    let n = 0;
    for (const c of o.affinity) if (!mask[c]) (mask[c] = 1), n++;
    p.cpusAllowed = n === k.rqs.length ? null : mask;
  }
  if (o.slice !== undefined) p.fairSlice = o.slice;
  if (o.policy === 6) {
    const params = { ...o.dl!, flags: 0 };
    if (!dlAdmit(k, p, 6, params)) throw new KernelPanic("deadline admission changed between check and spawn");
    setDlParams(p, params);
    p.normalPrio = p.prio = -1;
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const [key, v] of Object.entries(o)) if (v !== undefined && key !== "seed" && key !== "sched") (r as Record<string, unknown>)[key] = v;
  return r;
}

export { changeSched };

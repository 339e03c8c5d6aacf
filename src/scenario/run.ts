/**
 * Boot a machine from a parsed {@link Workload}: install its programs at
 * /workload/<name>, and start each task as a child of init at its start time,
 * with its name as comm and its scheduling attributes set before it first runs.
 *
 * @example
 * const w = parseWorkload(readFileSync("zombie.yaml", "utf8"), "zombie.yaml");
 * const machine = runWorkload(w, { cpus: 4 });
 */
import { defaultParams, type Params } from "../kernel/param.ts";
import { DEFAULT_PRESET, PRESETS } from "../kernel/sched/presets.ts";
import { Machine, type SpawnOptions } from "../user/machine.ts";
import { policyNumber, workloadImage, workloadPath } from "./interp.ts";
import type { SchedAttrs, TaskSpec, Workload } from "./workload.ts";

export interface WorkloadOverrides {
  cpus?: number;
  seed?: number;
  /** Scheduler preset name. */
  sched?: string;
  /** Stop time, ns; Infinity runs until nothing is left to do. */
  until?: number;
  /** Kernel tunables (HZ, RR quantum, RT throttling, pid_max, ...). */
  params?: Partial<Params>;
}

/** SCHED_DEADLINE parameters of a task, ns. */
export interface DeadlineParams {
  runtime: number;
  deadline: number;
  period: number;
}

export interface WorkloadBoot {
  machine: Machine;
  /** When to stop (ns): the override, else the workload's `until`; undefined when neither gives one. */
  until: number | undefined;
  /** Pids of each task's copies, by task name, filled in as they are spawned. */
  pids: Map<string, number[]>;
  /**
   * SCHED_DEADLINE parameters of deadline tasks by pid. Machine.spawn has no option for
   * them yet, so they are kept here for a deadline class (or a later boot step) to read.
   */
  deadline: Map<number, DeadlineParams>;
}

/**
 * The one mapping from workload scheduling attributes to spawn options:
 * nice as is; policy normal=0 fifo=1 rr=2 batch=3 idle=5 deadline=6 (SCHED_*);
 * priority -> rtPriority; affinity as is; deadline runtime/deadline/period -> dl;
 * the runtime of a normal or batch task -> slice.
 */
export function schedSpawnOptions(attrs: SchedAttrs): SpawnOptions {
  const o: SpawnOptions = {};
  if (attrs.nice !== undefined) o.nice = attrs.nice;
  if (attrs.policy !== undefined) o.policy = policyNumber(attrs.policy);
  if (attrs.priority !== undefined) o.rtPriority = attrs.priority;
  if (attrs.affinity !== undefined) o.affinity = [...attrs.affinity];
  const dl = deadlineParams(attrs);
  if (dl) o.dl = dl;
  else if (attrs.runtime !== undefined) o.slice = attrs.runtime; // a normal or batch task's own slice
  return o;
}

/** The deadline parameters of a SCHED_DEADLINE spec, or null. */
export function deadlineParams(attrs: SchedAttrs): DeadlineParams | null {
  if (attrs.policy !== "deadline") return null;
  const { runtime, deadline, period } = attrs;
  if (runtime === undefined || deadline === undefined || period === undefined) return null;
  return { runtime, deadline, period };
}

/** Builds the machine and schedules every task's creation; runs nothing yet. */
export function bootWorkload(w: Workload, overrides: WorkloadOverrides = {}): WorkloadBoot {
  // The file's tunables; the command line's win key by key, and its feature switches come after the file's.
  // The file's feature switches are EEVDF's: a run under a preset without EEVDF (compare's linux-5, cfs) leaves them
  // out, as it leaves out the file's baseSlice; the command line's are still checked (an error there).
  const sched = overrides.sched ?? w.sched ?? DEFAULT_PRESET;
  const eevdf = PRESETS[sched]?.classes({ ...defaultParams(), ...w.params, schedFeatures: "" }).some((c) => c.name === "eevdf") ?? true;
  const features = [eevdf ? w.params?.schedFeatures : undefined, overrides.params?.schedFeatures].filter((f) => f !== undefined && f !== "").join(" ");
  const machine = new Machine({
    ...w.params,
    ...overrides.params,
    schedFeatures: features,
    cpus: overrides.cpus ?? w.cpus,
    seed: overrides.seed ?? w.seed,
    sched: overrides.sched ?? w.sched,
  });
  for (const [name, steps] of Object.entries(w.programs)) {
    machine.install(workloadPath(name), workloadImage(name, steps, w.programs));
  }
  const boot: WorkloadBoot = {
    machine,
    until: overrides.until ?? w.until,
    pids: new Map(),
    deadline: new Map(),
  };
  for (const t of w.tasks) scheduleTask(boot, t, w.programs);
  return boot;
}

/**
 * Boots the workload and runs it until its stop time, or until nothing is left to do
 * when it has none (a workload that never ends then never returns). Returns the machine.
 */
export function runWorkload(w: Workload, overrides: WorkloadOverrides = {}): Machine {
  const { machine, until } = bootWorkload(w, overrides);
  machine.run(until ?? Infinity);
  return machine;
}

function scheduleTask(boot: WorkloadBoot, t: TaskSpec, programs: Workload["programs"]): void {
  const img = workloadImage(t.name, t.body, programs);
  // Workload tasks run as root, so the scheduling attributes they declare for their forks and
  // nice steps take effect, as they would for a harness started by root.
  const opts: SpawnOptions = { ...schedSpawnOptions(t), name: t.name, argv: [t.name], uid: 0 };
  if (opts.affinity) opts.affinity = usableCpus(boot.machine, t);
  const pidMax = boot.machine.kernel.params.pidMax;
  if (t.count > pidMax - 2) // pids 1 .. pid_max - 1, and init holds 1
    throw new RangeError(`task "${t.name}" (line ${t.loc.line}): count ${t.count} is more processes than can ever exist at once (pid_max ${pidMax} leaves ${pidMax - 2} pids after init; --param pidMax raises it, to 4194304)`);
  if (opts.policy !== undefined && boot.machine.kernel.classOfPolicy[opts.policy] === undefined) throw new NoClassError(boot.machine.sched, t, opts.policy);
  const dl = deadlineParams(t);
  const pids: number[] = [];
  boot.pids.set(t.name, pids);
  for (let i = 0; i < t.count; i++) {
    boot.machine.spawnAt(
      t.start,
      img,
      opts,
      (pid) => {
        pids.push(pid);
        if (dl) boot.deadline.set(pid, dl);
      },
      `task "${t.name}", line ${t.loc.line}`,
    );
  }
}

/** A task whose policy the machine's scheduler has no class for (a realtime task under the fair class alone). */
export class NoClassError extends RangeError {
  /** The presets that have a class for the policy. */
  readonly with: string[];
  constructor(readonly sched: string, readonly task: TaskSpec, policy: number) {
    const with_ = Object.keys(PRESETS).filter((n) => new Machine({ sched: n }).kernel.classOfPolicy[policy] !== undefined);
    super(`task "${task.name}" (line ${task.loc.line}): policy ${task.policy} has no scheduling class in scheduler "${sched}"; use ${with_.join(", ")}`);
    this.with = with_;
    this.name = "NoClassError";
  }
}

/** The task's affinity restricted to CPUs the machine has (as sched_setaffinity does); none left is an error. */
function usableCpus(m: Machine, t: TaskSpec): number[] {
  const n = m.kernel.rqs.length;
  const cpus = (t.affinity ?? []).filter((c) => c < n);
  if (cpus.length === 0) {
    throw new RangeError(
      `task "${t.name}" (line ${t.loc.line}): affinity [${(t.affinity ?? []).join(", ")}] names no CPU of this ${n}-CPU machine (CPUs 0..${n - 1})`,
    );
  }
  return cpus;
}


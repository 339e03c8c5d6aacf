/**
 * Tunables, one per line with its kernel default (xv6 param.h style).
 * A machine is booted with `Params`; every field can be overridden.
 */
import { formatDuration, parseDuration } from "../sim/units.ts";

export interface Params {
  /** CPUs in the machine. */
  cpus: number;
  /** Scheduler tick frequency (CONFIG_HZ); 250 on common distribution kernels. */
  hz: number;
  /** /proc/sys/kernel/pid_max; default 32768, at most PID_MAX_LIMIT 4194304. */
  pidMax: number;
  /** /proc/sys/kernel/threads-max; init's RLIMIT_NPROC is half of it. */
  threadsMax: number;
  /** RLIMIT_NPROC for init and so for everyone (inherited); Infinity = unlimited. */
  rlimitNproc: number;
  /** RLIMIT_CORE: 0 means no core file is written, so WCOREDUMP stays clear (distribution default). */
  rlimitCore: number;
  /** Cost of a switch between two tasks of different processes (mm switch), ns. */
  contextSwitchCost: number;
  /** Cost of a switch between two threads of one process (no mm switch), ns. */
  threadSwitchCost: number;
  /** Time charged (as system time) for each syscall, ns. */
  syscallCost: number;
  /** EEVDF base slice before CPU scaling (sysctl_sched_base_slice), ns. */
  baseSlice: number;
  /** CFS: sysctl_sched_latency before CPU scaling, ns. */
  schedLatency: number;
  /** CFS: sysctl_sched_min_granularity before CPU scaling, ns. */
  minGranularity: number;
  /** CFS: sysctl_sched_wakeup_granularity before CPU scaling, ns. */
  wakeupGranularity: number;
  /** sysctl_sched_tunable_scaling: 0 none, 1 log (default), 2 linear. */
  tunableScaling: number;
  /** SCHED_RR quantum (RR_TIMESLICE), ns; /proc/sys/kernel/sched_rr_timeslice_ms. */
  rrTimeslice: number;
  /** sched_rt_period_us in ns. */
  rtPeriod: number;
  /** sched_rt_runtime_us in ns; -1 disables RT throttling. */
  rtRuntime: number;
  /** Syscalls one task may make at one simulated instant before it is killed as a runaway. */
  stepBudget: number;
  /** sysctl_sched_child_runs_first. */
  childRunsFirst: boolean;
  /**
   * sysctl_sched_migration_cost, ns: a fair task that ran on its CPU less
   * than this long ago is cache-hot, and the balancer leaves it there while
   * its passes have not failed more than cache_nice_tries (1) times in a
   * row. -1: every task is hot; 0: none is.
   */
  migrationCost: number;
  /**
   * Fair-class feature switches as /sys/kernel/debug/sched/features takes
   * them: names separated by spaces or commas, NO_ in front to turn one off
   * (e.g. "NO_DELAY_DEQUEUE NO_RUN_TO_PARITY"). Empty: every default. EEVDF
   * only; see SCHED_FEATURES.
   */
  schedFeatures: string;
}

/** The feature names schedFeatures accepts (kernel/sched/features.h, EEVDF era); all on by default but NEXT_BUDDY, as in Linux. */
export const SCHED_FEATURES = [
  "PLACE_LAG", "PLACE_DEADLINE_INITIAL", "PLACE_REL_DEADLINE", "RUN_TO_PARITY", "PREEMPT_SHORT", "WAKEUP_PREEMPTION",
  "DELAY_DEQUEUE", "DELAY_ZERO", "NEXT_BUDDY",
] as const;

/** Parses schedFeatures into name -> on/off for the names it mentions. Throws ParamError on an unknown name. */
export function parseSchedFeatures(text: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const word of text.split(/[\s,]+/).filter((w) => w !== "")) {
    const off = word.startsWith("NO_");
    const name = off ? word.slice(3) : word;
    if (!(SCHED_FEATURES as readonly string[]).includes(name))
      throw new ParamError("schedFeatures", text, `unknown feature "${word}": expected NAME or NO_NAME with NAME one of ${SCHED_FEATURES.join(", ")}`);
    out.set(name, !off);
  }
  return out;
}

export const PID_MAX_DEFAULT = 32768;
export const PID_MAX_LIMIT = 4 * 1024 * 1024;
export const RESERVED_PIDS = 300;
/** USER_HZ: the unit of /proc times (clock ticks). */
export const USER_HZ = 100;
export const TASK_COMM_LEN = 16;

export function defaultParams(): Params {
  return {
    cpus: 2,
    hz: 250,
    pidMax: PID_MAX_DEFAULT,
    threadsMax: 193102,
    rlimitNproc: Infinity,
    rlimitCore: 0,
    contextSwitchCost: 0,
    threadSwitchCost: 0,
    syscallCost: 0,
    baseSlice: 700_000,
    schedLatency: 6_000_000,
    minGranularity: 750_000,
    wakeupGranularity: 1_000_000,
    tunableScaling: 1,
    rrTimeslice: 100_000_000,
    rtPeriod: 1_000_000_000,
    rtRuntime: 950_000_000,
    stepBudget: 100_000,
    childRunsFirst: false,
    migrationCost: 500_000,
    schedFeatures: "",
  };
}

/** A bad boot parameter: names the option and the allowed range. */
export class ParamError extends Error {
  constructor(
    readonly option: string,
    value: unknown,
    allowed: string,
  ) {
    // A duration reads best with units, as the command line takes it; Infinity and NaN as themselves.
    const shown =
      typeof value !== "number" ? JSON.stringify(value)
      : Number.isInteger(value) && value > 0 && (DURATION_PARAMS as readonly string[]).includes(option) ? formatDuration(value)
      : String(value);
    super(`invalid ${option} ${shown}: ${allowed}`);
    this.name = "ParamError";
  }
}

/** Tunables measured in ns: on the command line they take units (250us, 3ms, 2s). */
export const DURATION_PARAMS: readonly (keyof Params)[] = [
  "contextSwitchCost", "threadSwitchCost", "syscallCost", "baseSlice", "schedLatency", "minGranularity",
  "wakeupGranularity", "rrTimeslice", "rtPeriod", "rtRuntime", "migrationCost",
];

export function checkParams(p: Params): void {
  const int = (k: keyof Params, lo: number, hi: number): void => {
    const v = p[k] as number;
    if (Number.isInteger(v) && v >= lo && v <= hi) return;
    // Durations read best with units, as the command line takes them (a bare number there is ns).
    if (DURATION_PARAMS.includes(k)) throw new ParamError(k, v, `expected a whole number of ns from ${formatDuration(lo)} to ${formatDuration(hi)}`);
    throw new ParamError(k, v, `expected an integer from ${lo} to ${hi}`);
  };
  int("cpus", 1, 1024);
  int("hz", 100, 1000);
  int("pidMax", RESERVED_PIDS + 1, PID_MAX_LIMIT);
  int("threadsMax", 20, 0x3fffffff);
  int("contextSwitchCost", 0, 1e9);
  int("threadSwitchCost", 0, 1e9);
  int("syscallCost", 0, 1e9);
  int("baseSlice", 100_000, 100_000_000);
  int("stepBudget", 1, 1e9);
  int("schedLatency", 100_000, 1_000_000_000);
  int("minGranularity", 100_000, 1_000_000_000);
  int("wakeupGranularity", 0, 1_000_000_000);
  int("tunableScaling", 0, 2);
  int("rrTimeslice", 1_000_000, 10_000_000_000);
  int("rtPeriod", 1_000_000, 10_000_000_000);
  if (!(p.rtRuntime === -1 || (Number.isInteger(p.rtRuntime) && p.rtRuntime >= 0 && p.rtRuntime <= p.rtPeriod)))
    throw new ParamError("rtRuntime", p.rtRuntime, `expected -1 (no throttling) or a duration from 0 to rtPeriod (${formatDuration(p.rtPeriod)})`);
  if (!(p.migrationCost === -1 || (Number.isInteger(p.migrationCost) && p.migrationCost >= 0 && p.migrationCost <= 1e9)))
    throw new ParamError("migrationCost", p.migrationCost, "expected -1 (every task cache-hot) or a duration from 0 to 1s");
  if (typeof p.schedFeatures !== "string") throw new ParamError("schedFeatures", p.schedFeatures, "expected a string of feature names");
  parseSchedFeatures(p.schedFeatures);
  if (!(p.rlimitCore === Infinity || (Number.isInteger(p.rlimitCore) && p.rlimitCore >= 0)))
    throw new ParamError("rlimitCore", p.rlimitCore, "expected a non-negative integer (bytes; 0: no core dumps) or Infinity");
  if (!(p.rlimitNproc === Infinity || (Number.isInteger(p.rlimitNproc) && p.rlimitNproc >= 0)))
    throw new ParamError("rlimitNproc", p.rlimitNproc, "expected a non-negative integer or Infinity");
}

/** The tunables a user may set (--param, a workload's params): every one but cpus, which has its own option. */
export function settableParams(): string[] {
  return Object.keys(defaultParams()).filter((key) => key !== "cpus");
}

/**
 * One tunable's value as a user writes it (--param key=value, or a workload file's params): a
 * duration with units for the tunables in ns, -1 or Infinity where they mean off or unlimited,
 * true/false/1/0 for childRunsFirst, feature names for schedFeatures. Throws an Error whose message
 * says what is wrong; ranges are checkParams's.
 */
export function parseParam(key: string, raw: string | number | boolean, where: string): number | boolean | string {
  const known = settableParams();
  if (!known.includes(key)) throw new Error(`unknown tunable "${key}": expected one of ${known.join(", ")}`);
  const text = String(raw).trim();
  if (key === "schedFeatures") return text;
  if (key === "childRunsFirst") {
    if (!["0", "1", "true", "false"].includes(text)) throw new Error(`childRunsFirst must be true, false, 1 or 0 (got "${text}")`);
    return text === "1" || text === "true";
  }
  if (text === "-1" || text === "Infinity") return Number(text);
  if ((DURATION_PARAMS as readonly string[]).includes(key)) {
    try {
      return parseDuration(text, where);
    } catch (e) {
      throw new Error((e as Error).message + (key === "rtRuntime" ? " (rtRuntime=-1 turns RT throttling off)" : ""));
    }
  }
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`${key} must be a number (got "${text}")`);
  return value;
}

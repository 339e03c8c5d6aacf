/**
 * The declarative workload format: TypeScript types of the parsed result and
 * the zod schema that validates raw (YAML/JSON-decoded) data and converts it.
 *
 * This module has no node:* imports (it runs in browsers too). Turning text
 * into data, and zod issues into `file:line:col` errors, lives in load.ts.
 *
 * Example:
 *
 * ```yaml
 * name: demo
 * cpus: 2
 * until: 10s
 * programs:
 *   worker:
 *     - compute: 3ms
 *     - exit: 0
 * tasks:
 *   - name: parent
 *     run:
 *       - fork: { name: child, run: [ { exec: worker } ] }
 *       - wait: all
 * ```
 */
import { PRESETS } from "../kernel/sched/presets.ts";
import { DL_PERIOD_MAX, DL_PERIOD_MIN, DL_SCALE } from "../kernel/sched/deadline.ts";
import { z } from "zod";
import { formatDuration, parseDuration, TimeParseError } from "../sim/units.ts";
import { checkParams, defaultParams, parseParam, ParamError, settableParams, type Params } from "../kernel/param.ts";

// ---------------------------------------------------------------------------
// Types of the parsed result
// ---------------------------------------------------------------------------

export const POLICIES = ["normal", "batch", "idle", "fifo", "rr", "deadline"] as const;
export type Policy = (typeof POLICIES)[number];

/** Where a step (or task) came from: 1-based line in the source file; 0 when not parsed from text. */
export interface SourceLoc {
  line: number;
}

/**
 * Scheduling attributes of a task or forked child. Absent fields mean
 * "default" for a task started by init and "inherit from the parent" for a fork.
 * All durations are integer nanoseconds.
 */
export interface SchedAttrs {
  nice?: number;
  policy?: Policy;
  /** 1..99; present iff policy is fifo or rr. */
  priority?: number;
  /** present iff policy is deadline; runtime <= deadline <= period. */
  runtime?: number;
  deadline?: number;
  period?: number;
  /** Allowed CPUs (unique, non-negative). */
  affinity?: number[];
}

/** A process started by init. */
export interface TaskSpec extends SchedAttrs {
  name: string;
  /** Number of identical copies to start (>= 1). */
  count: number;
  /** Delay before the task is created, ns. */
  start: number;
  body: Step[];
  loc: SourceLoc;
}

/** A child created by a `fork` step. It exits 0 if its body falls off the end. */
export interface ForkSpec extends SchedAttrs {
  /** Child name (comm); absent: inherits the parent's. */
  name?: string;
  count: number;
  body: Step[];
}

export type WaitTarget = { kind: "any" } | { kind: "all" } | { kind: "child"; name: string };
export type KillTarget = { kind: "parent" } | { kind: "children" } | { kind: "child"; name: string };

/** A random duration: drawn per step from the machine's seeded generator (getrandom). */
export type Dist = { kind: "uniform"; lo: number; hi: number } | { kind: "exp"; mean: number };

/** compute/sleep/io: `ns` is the fixed duration, or the mean when `dist` is given. */
export type Step =
  | { op: "compute"; ns: number; dist?: Dist; loc: SourceLoc }
  | { op: "sleep"; ns: number; dist?: Dist; loc: SourceLoc }
  | { op: "io"; ns: number; dist?: Dist; loc: SourceLoc }
  | { op: "yield"; loc: SourceLoc }
  | { op: "nice"; nice: number; loc: SourceLoc }
  | { op: "fork"; child: ForkSpec; loc: SourceLoc }
  | { op: "wait"; target: WaitTarget; loc: SourceLoc }
  | { op: "exec"; program: string; loc: SourceLoc }
  | { op: "exit"; code: number; loc: SourceLoc }
  | { op: "setsid"; loc: SourceLoc }
  | { op: "kill"; target: KillTarget; signal: number; loc: SourceLoc }
  /** With `every`, iteration k is released at (start of the repeat) + k x every, as a clock_nanosleep(TIMER_ABSTIME) loop does. */
  | { op: "repeat"; times: number; body: Step[]; every?: number; loc: SourceLoc }
  /** The task changes its own scheduling attributes (sched_setaffinity, setpriority, sched_setscheduler / sched_setattr on itself). */
  | { op: "sched"; attrs: SchedAttrs; loc: SourceLoc };

export type StepOp = Step["op"];

export const STEP_OPS = [
  "compute",
  "sleep",
  "io",
  "yield",
  "nice",
  "fork",
  "wait",
  "exec",
  "exit",
  "setsid",
  "kill",
  "repeat",
  "sched",
] as const satisfies readonly StepOp[];

export interface Workload {
  name?: string;
  description?: string;
  /** Default machine size, 1..1024. */
  cpus?: number;
  seed?: number;
  /** Stop the simulation at this time, ns. */
  until?: number;
  /** Scheduler / preset name (not validated here). */
  sched?: string;
  /** Kernel tunables (kernel/param.ts), as --param takes them; --param wins key by key. */
  params?: Partial<Params>;
  /** Named bodies that `exec` can load. Always present (empty when not given). */
  programs: Record<string, Step[]>;
  tasks: TaskSpec[];
}

// ---------------------------------------------------------------------------
// Signals (x86_64 numbering)
// ---------------------------------------------------------------------------

export const SIGNALS: Readonly<Record<string, number>> = Object.freeze({
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
  SIGRTMIN: 34,
  SIGRTMAX: 64,
});

export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

/**
 * Normalise a signal given as a name (`SIGTERM`, `TERM`, case-insensitive,
 * `SIGRTMIN+3`, `SIGRTMAX-1`) or a number 1..64 (also as a decimal string).
 * Returns undefined when it is not a valid signal.
 */
export function parseSignal(sig: unknown): number | undefined {
  if (typeof sig === "number") return Number.isInteger(sig) && sig >= 1 && sig <= SIGRTMAX ? sig : undefined;
  if (typeof sig !== "string") return undefined;
  const s = sig.trim().toUpperCase();
  if (/^\d+$/.test(s)) return parseSignal(Number(s));
  const name = s.startsWith("SIG") ? s : "SIG" + s;
  const rt = /^SIGRT(MIN|MAX)([+-])(\d+)$/.exec(name);
  if (rt) {
    const base = rt[1] === "MIN" ? SIGRTMIN : SIGRTMAX;
    const n = base + (rt[2] === "+" ? 1 : -1) * Number(rt[3]);
    return n >= SIGRTMIN && n <= SIGRTMAX ? n : undefined;
  }
  return Object.hasOwn(SIGNALS, name) ? SIGNALS[name] : undefined;
}

/** Canonical name of a signal number (`SIGTERM`, `SIGRTMIN+2`), or `signal N`. */
export function signalName(n: number): string {
  for (const [name, num] of Object.entries(SIGNALS)) {
    if (num === n && name !== "SIGIOT" && name !== "SIGCLD" && name !== "SIGPOLL") return name;
  }
  if (n > SIGRTMIN && n < SIGRTMAX) return `SIGRTMIN+${n - SIGRTMIN}`;
  return `signal ${n}`;
}

// ---------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------

export interface SchemaOptions {
  /**
   * Source line of a raw mapping (the decoded object a step or task came
   * from); used to fill in `loc`. Defaults to "unknown" (line 0).
   */
  lineOf?: (raw: object) => number | undefined;
}

/**
 * Marker put in `params` of issues that are about a mapping key rather than
 * its value (unknown keys, unknown step names), so a locator can point at the
 * key. `unrecognized_keys` issues are about keys too.
 */
export const AT_KEY = "atKey";

type Path = PropertyKey[];
type Ctx = z.RefinementCtx;

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "an empty value";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return String(v);
}

/** Damerau-free edit distance (insert, delete, substitute), for suggestions. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** ` (did you mean "x"?)` for the closest name among `names` if it is close (a name it begins, or 1 edit, 2 for names of 6 letters or more), else "". */
export function didYouMean(word: string, names: readonly string[]): string {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const d = w.length >= 3 && n.startsWith(w) ? 0.5 : editDistance(w, n); // an abbreviation ("prio") first
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best !== undefined && bestD <= (best.length >= 6 ? 2 : 1) && best !== word ? ` (did you mean ${JSON.stringify(best)}?)` : "";
}

function expected(input: unknown, what: string): string {
  return input === undefined ? `missing; expected ${what}` : `expected ${what}, got ${show(input)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function addIssue(ctx: Ctx, path: Path, message: string, atKey = false): void {
  ctx.addIssue({ code: "custom", message, path: path as (string | number)[], params: atKey ? { [AT_KEY]: true } : undefined });
}

/** Path of an issue, extended with the offending key for unrecognized_keys issues. */
export function issuePath(iss: z.core.$ZodIssue): Path {
  if (iss.code === "unrecognized_keys" && iss.keys.length > 0) return [...iss.path, iss.keys[0]!];
  return [...iss.path];
}

/** Whether an issue is about a mapping key rather than a value. */
export function issueIsAboutKey(iss: z.core.$ZodIssue): boolean {
  if (iss.code === "unrecognized_keys") return true;
  return iss.code === "custom" && iss.params?.[AT_KEY] === true;
}

/** Re-raise issues from a nested parse, below `prefix`. */
function forward(ctx: Ctx, issues: readonly z.core.$ZodIssue[], prefix: Path): void {
  for (const iss of issues) addIssue(ctx, [...prefix, ...issuePath(iss)], iss.message, issueIsAboutKey(iss));
}

/** More copies than PID_MAX_LIMIT could never all exist at once. */
const MAX_COUNT = 4_194_304;

function int(min?: number, max?: number) {
  const what =
    min !== undefined && max !== undefined
      ? `an integer from ${min} to ${max}`
      : min !== undefined
        ? `an integer >= ${min}`
        : "an integer";
  const error = (iss: { input?: unknown }) => expected(iss.input, what);
  let s = z.number({ error }).int({ error });
  if (min !== undefined) s = s.min(min, { error });
  if (max !== undefined) s = s.max(max, { error });
  return s;
}

function text(what = "a non-empty string") {
  const error = (iss: { input?: unknown }) => expected(iss.input, what);
  return z.string({ error }).min(1, { error });
}

const DURATION_EXAMPLE = "a duration such as 250us, 3ms or 2s";

const duration = z.unknown().transform((v, ctx): number => {
  if (typeof v === "string" || typeof v === "number") {
    try {
      return parseDuration(v);
    } catch (e) {
      if (!(e instanceof TimeParseError)) throw e;
      addIssue(ctx, [], e.message);
      return z.NEVER;
    }
  }
  addIssue(ctx, [], expected(v, DURATION_EXAMPLE));
  return z.NEVER;
});

const VAR_DURATION_EXAMPLE = `${DURATION_EXAMPLE}, {uniform: [1ms, 3ms]} or {exp: 2ms}`;

/** A duration, or a random one: `{uniform: [min, max]}` or `{exp: mean}` (exponential). */
const varDuration = z.unknown().transform((v, ctx): { ns: number; dist?: Dist } => {
  const parse = (x: unknown): number | null => {
    if (typeof x !== "string" && typeof x !== "number") return null;
    try {
      return parseDuration(x);
    } catch {
      return null;
    }
  };
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "uniform" && Array.isArray(o.uniform) && o.uniform.length === 2) {
      const lo = parse(o.uniform[0]);
      const hi = parse(o.uniform[1]);
      if (lo !== null && hi !== null && lo <= hi) return { ns: Math.round((lo + hi) / 2), dist: { kind: "uniform", lo, hi } };
      addIssue(ctx, ["uniform"], `expected [min, max] with two durations and min <= max, got ${JSON.stringify(o.uniform)}`);
      return z.NEVER;
    }
    if (keys.length === 1 && keys[0] === "exp") {
      const mean = parse(o.exp);
      if (mean !== null && mean > 0) return { ns: mean, dist: { kind: "exp", mean } };
      addIssue(ctx, ["exp"], `expected a positive mean duration, got ${JSON.stringify(o.exp)}`);
      return z.NEVER;
    }
    addIssue(ctx, [], expected(v, VAR_DURATION_EXAMPLE));
    return z.NEVER;
  }
  if (typeof v === "string" || typeof v === "number") {
    try {
      return { ns: parseDuration(v) };
    } catch (e) {
      if (!(e instanceof TimeParseError)) throw e;
      addIssue(ctx, [], e.message);
      return z.NEVER;
    }
  }
  addIssue(ctx, [], expected(v, VAR_DURATION_EXAMPLE));
  return z.NEVER;
});

/** `yield: true` / `setsid: true` (an empty value is accepted as true). */
const flag = z.unknown().transform((v, ctx): true => {
  if (v === true || v === null) return true;
  addIssue(ctx, [], expected(v, "true"));
  return z.NEVER;
});

const policy = z.enum(POLICIES, { error: (iss) => expected(iss.input, `one of ${POLICIES.join(", ")}`) });

const signal = z.unknown().transform((v, ctx): number => {
  const n = parseSignal(v);
  if (n !== undefined) return n;
  const what = "a signal name like SIGTERM or TERM, or a number from 1 to 64";
  addIssue(ctx, [], typeof v === "string" ? `unknown signal ${show(v)}; expected ${what}` : expected(v, what));
  return z.NEVER;
});

/** A strict mapping whose error messages name the allowed keys. */
function mapping<T extends z.core.$ZodLooseShape>(shape: T, what: string) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === "unrecognized_keys") {
        const keys = iss.keys.map((k) => JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}...` : k)).join(", ");
        const hint = didYouMean(iss.keys[0]!, Object.keys(shape));
        return `unknown key${iss.keys.length > 1 ? "s" : ""} ${keys} in ${what}${hint}; allowed keys: ${allowed}`;
      }
      if (iss.code === "invalid_type") return expected(iss.input, `${what} (a mapping with keys ${allowed})`);
      return undefined;
    },
  });
}

const schedShape = {
  nice: int(-20, 19).optional(),
  policy: policy.optional(),
  priority: int(1, 99).optional(),
  runtime: duration.optional(),
  deadline: duration.optional(),
  period: duration.optional(),
  affinity: z
    .array(int(0, 1023), { error: (iss) => expected(iss.input, "a list of CPU numbers") })
    .min(1, { error: "expected a non-empty list of CPU numbers" })
    .optional(),
};

type SchedIn = { [K in keyof SchedAttrs]?: SchedAttrs[K] | undefined };

/** Cross-field rules for scheduling attributes; returns the defined ones. */
function checkSched(v: SchedIn, ctx: Ctx): SchedAttrs {
  const out: SchedAttrs = {};
  const p = v.policy;
  const isRt = p === "fifo" || p === "rr";
  if (isRt && v.priority === undefined) {
    addIssue(ctx, ["priority"], `required when policy is ${p}; expected an integer from 1 to 99`);
  }
  if (!isRt && v.priority !== undefined) {
    addIssue(
      ctx,
      ["priority"],
      `only allowed with policy fifo or rr (${p ? `policy is ${p}` : "no policy given"}); use nice for ${p ?? "normal"} tasks`,
    );
  }
  if (p === "deadline") {
    for (const k of ["runtime", "deadline", "period"] as const) {
      if (v[k] === undefined) addIssue(ctx, [k], `required when policy is deadline; expected ${DURATION_EXAMPLE}`);
    }
    const { runtime, deadline, period } = v;
    // __checkparam_dl: runtime at least 1 << DL_SCALE ns, period within sched_deadline_period_{min,max}_us.
    if (runtime !== undefined && runtime < 2 ** DL_SCALE)
      addIssue(ctx, ["runtime"], `runtime ${formatDuration(runtime)} is below the 1024ns minimum of policy deadline (sched_setattr: EINVAL)`);
    if (period !== undefined && (period < DL_PERIOD_MIN || period > DL_PERIOD_MAX))
      addIssue(ctx, ["period"], `period ${formatDuration(period)} out of range; expected 100us to 4.194304s (sched_deadline_period_min_us..max_us; sched_setattr: EINVAL)`);
    if (runtime !== undefined && deadline !== undefined && runtime > deadline) {
      addIssue(
        ctx,
        ["runtime"],
        `runtime ${formatDuration(runtime)} exceeds deadline ${formatDuration(deadline)}; need runtime <= deadline <= period`,
      );
    }
    if (deadline !== undefined && period !== undefined && deadline > period) {
      addIssue(
        ctx,
        ["deadline"],
        `deadline ${formatDuration(deadline)} exceeds period ${formatDuration(period)}; need runtime <= deadline <= period`,
      );
    }
  } else {
    // For normal and batch tasks, runtime is the task's own slice (sched_attr.sched_runtime, EEVDF 6.12).
    const fair = p === undefined || p === "normal" || p === "batch";
    for (const k of fair ? (["deadline", "period"] as const) : (["runtime", "deadline", "period"] as const)) {
      if (v[k] !== undefined) {
        addIssue(ctx, [k], `only allowed with policy deadline (${p ? `policy is ${p}` : "no policy given"})${k === "runtime" ? "; for normal and batch tasks it sets the slice" : ""}`);
      }
    }
    if (fair && v.runtime !== undefined && (v.runtime < 100_000 || v.runtime > 100_000_000)) {
      addIssue(ctx, ["runtime"], `slice ${formatDuration(v.runtime)} out of range; expected 100us to 100ms (the request size of a normal or batch task)`);
    }
  }
  if (v.affinity) {
    const seen = new Set<number>();
    v.affinity.forEach((cpu, i) => {
      if (seen.has(cpu)) addIssue(ctx, ["affinity", i], `CPU ${cpu} is listed more than once; CPUs must be unique`);
      seen.add(cpu);
    });
  }
  for (const k of ["nice", "policy", "priority", "runtime", "deadline", "period", "affinity"] as const) {
    if (v[k] !== undefined) (out as Record<string, unknown>)[k] = v[k];
  }
  return out;
}

function waitTarget(v: unknown, ctx: Ctx): WaitTarget {
  if (typeof v === "string" && v.length > 0) {
    return v === "any" || v === "all" ? { kind: v } : { kind: "child", name: v };
  }
  addIssue(ctx, [], expected(v, "any, all or the name of a child"));
  return z.NEVER;
}

function killTarget(v: unknown, ctx: Ctx): KillTarget {
  if (typeof v === "string" && v.length > 0) {
    return v === "parent" || v === "children" ? { kind: v } : { kind: "child", name: v };
  }
  addIssue(ctx, [], expected(v, "parent, children or the name of a child"));
  return z.NEVER;
}

/**
 * Build the workload schema. Input: decoded YAML/JSON data; output: {@link Workload}.
 * Every issue has a path into the input (e.g. `["tasks", 0, "run", 2, "compute"]`)
 * and a message saying what is wrong and what is allowed.
 */
export function workloadSchema(opts: SchemaOptions = {}): z.ZodType<Workload, unknown> {
  const locOf = (raw: object): SourceLoc => ({ line: opts.lineOf?.(raw) ?? 0 });

  /** Parse `raw` with `schema`, then `build` the result (cross-field checks go there). */
  function located<S extends z.ZodType, R>(schema: S, build: (v: z.output<S>, loc: SourceLoc, ctx: Ctx) => R) {
    return z.unknown().transform((raw, ctx): R => {
      const r = schema.safeParse(raw);
      if (!r.success) {
        forward(ctx, r.error.issues, []);
        return z.NEVER;
      }
      return build(r.data, locOf(raw as object), ctx);
    });
  }

  const allowedSteps = STEP_OPS.join(", ");

  // `step` and `body` are mutually recursive with fork/repeat; the step
  // transform only looks up `args` when it runs, after everything is defined.
  const step: z.ZodType<Step, unknown> = z.unknown().transform((raw, ctx): Step => {
    if (!isPlainObject(raw)) {
      addIssue(ctx, [], `${expected(raw, 'a step (a mapping with one key, e.g. "compute: 3ms")')}; allowed steps: ${allowedSteps}`);
      return z.NEVER;
    }
    const keys = Object.keys(raw);
    if (keys.length === 0) {
      addIssue(ctx, [], `empty step; expected a mapping with one of: ${allowedSteps}`);
      return z.NEVER;
    }
    const unknownKey = keys.find((k) => !(STEP_OPS as readonly string[]).includes(k));
    if (unknownKey !== undefined) {
      addIssue(ctx, [unknownKey], `unknown step ${JSON.stringify(unknownKey)}${didYouMean(unknownKey, STEP_OPS)}; allowed steps: ${allowedSteps}`, true);
      return z.NEVER;
    }
    if (keys.length > 1) {
      addIssue(
        ctx,
        [keys[1]!],
        `a step has exactly one key, but this ${JSON.stringify(keys[0])} step also has ${JSON.stringify(keys[1])}; put each step in its own list item`,
        true,
      );
      return z.NEVER;
    }
    const op = keys[0] as StepOp;
    const r = args[op].safeParse(raw[op]);
    if (!r.success) {
      forward(ctx, r.error.issues, [op]);
      return z.NEVER;
    }
    const loc = locOf(raw);
    const a: unknown = r.data;
    switch (op) {
      case "compute":
      case "sleep":
      case "io": {
        const d = a as { ns: number; dist?: Dist };
        return d.dist ? { op, ns: d.ns, dist: d.dist, loc } : { op, ns: d.ns, loc };
      }
      case "yield":
      case "setsid":
        return { op, loc };
      case "nice":
        return { op, nice: a as number, loc };
      case "fork":
        return { op, child: a as ForkSpec, loc };
      case "wait":
        return { op, target: a as WaitTarget, loc };
      case "exec":
        return { op, program: a as string, loc };
      case "exit":
        return { op, code: a as number, loc };
      case "kill": {
        const k = a as { target: KillTarget; signal: number };
        return { op, target: k.target, signal: k.signal, loc };
      }
      case "repeat": {
        const rep = a as { times: number; body: Step[]; every?: number };
        return { op, times: rep.times, body: rep.body, ...(rep.every !== undefined ? { every: rep.every } : {}), loc };
      }
      case "sched":
        return { op, attrs: a as SchedAttrs, loc };
    }
  });

  const body = z.array(step, { error: (iss) => expected(iss.input, "a list of steps") });

  const fork = located(
    mapping({ name: text().optional(), count: int(1, MAX_COUNT).optional(), ...schedShape, run: body }, "a fork"),
    (v, _loc, ctx): ForkSpec => {
      const sched = checkSched(v, ctx);
      if (v.runtime !== undefined && v.policy !== "deadline")
        addIssue(ctx, ["runtime"], "a forked child's own slice is not supported; set runtime on a task, or the child inherits its parent's");
      return { ...(v.name !== undefined ? { name: v.name } : {}), count: v.count ?? 1, ...sched, body: v.run };
    },
  );

  const kill = z.unknown().transform((v, ctx): { target: KillTarget; signal: number } => {
    // shorthand: `kill: children` sends SIGTERM
    if (typeof v === "string") return { target: killTarget(v, ctx), signal: SIGNALS.SIGTERM! };
    const r = mapping(
      { target: z.unknown().transform(killTarget), signal: signal.optional() },
      "a kill",
    ).safeParse(v);
    if (!r.success) {
      forward(ctx, r.error.issues, []);
      return z.NEVER;
    }
    return { target: r.data.target, signal: r.data.signal ?? SIGNALS.SIGTERM! };
  });

  const period = duration.refine((v) => v > 0, { error: "expected a duration above 0 (the release period)" });
  const repeat = mapping({ times: int(1), every: period.optional(), run: body }, "a repeat").transform((v) => ({
    times: v.times,
    body: v.run,
    ...(v.every !== undefined ? { every: v.every } : {}),
  }));

  const schedStep = mapping({ ...schedShape }, "a sched step").transform((v, ctx): SchedAttrs => {
    if (Object.values(v).every((x) => x === undefined))
      addIssue(ctx, [], "expected at least one of policy, priority, nice, runtime, deadline, period, affinity");
    if (v.runtime !== undefined && v.policy !== "deadline")
      addIssue(ctx, ["runtime"], "a sched step sets runtime only with policy deadline; set a normal task's own slice on the task");
    return checkSched(v, ctx);
  });

  const args: Record<StepOp, z.ZodType<unknown, unknown>> = {
    compute: varDuration,
    sleep: varDuration,
    io: varDuration,
    yield: flag,
    nice: int(-20, 19),
    fork,
    wait: z.unknown().transform(waitTarget),
    exec: text("the name of a program"),
    exit: int(0, 255),
    setsid: flag,
    kill,
    repeat,
    sched: schedStep,
  };

  const task = located(
    mapping({ name: text(), count: int(1, MAX_COUNT).optional(), start: duration.optional(), ...schedShape, run: body }, "a task"),
    (v, loc, ctx): TaskSpec => {
      const sched = checkSched(v, ctx);
      return { name: v.name, count: v.count ?? 1, start: v.start ?? 0, ...sched, body: v.run, loc };
    },
  );

  const top = mapping(
    {
      name: text().optional(),
      description: z.string({ error: (iss) => expected(iss.input, "a string") }).optional(),
      cpus: int(1, 1024).optional(),
      seed: int(0, 2 ** 31 - 1).optional(), // as --seed
      until: duration.optional(),
      sched: z
        .string({ error: (iss) => expected(iss.input, `a scheduler name, one of ${Object.keys(PRESETS).join(", ")}`) })
        .refine((v) => v in PRESETS, { error: (iss) => `unknown scheduler ${JSON.stringify(iss.input)}: expected one of ${Object.keys(PRESETS).join(", ")}` })
        .optional(),
      params: z
        .record(z.string(), z.union([z.number(), z.string(), z.boolean()]), {
          error: (iss) => expected(iss.input, "a mapping of tunable name to value (rtRuntime: -1, hz: 1000, baseSlice: 3ms, ...)"),
        })
        .transform((raw, ctx): Partial<Params> => {
          const out: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(raw)) {
            try {
              out[k] = parseParam(k, v, `params.${k}`);
            } catch (e) {
              const hint = settableParams().includes(k) ? "" : didYouMean(k, settableParams());
              addIssue(ctx, [k], (e as Error).message + hint);
            }
          }
          try {
            checkParams({ ...defaultParams(), ...out } as Params);
          } catch (e) {
            if (!(e instanceof ParamError)) throw e;
            addIssue(ctx, [e.option], e.message);
          }
          return out as Partial<Params>;
        })
        .optional(),
      programs: z
        .record(text("a program name"), body, {
          error: (iss) => expected(iss.input, "a mapping of program name to a list of steps"),
        })
        .optional(),
      tasks: z
        .array(task, { error: (iss) => expected(iss.input, "a list of tasks") })
        .min(1, { error: "expected at least one task" }),
    },
    "a workload",
  );

  return top.transform((v, ctx): Workload => {
    const programs: Record<string, Step[]> = {};
    for (const [k, b] of Object.entries(v.programs ?? {})) {
      Object.defineProperty(programs, k, { value: b, enumerable: true, writable: true, configurable: true });
    }
    const names = Object.keys(programs);
    const checkExec = (steps: Step[], path: Path): void => {
      steps.forEach((s, i) => {
        if (s.op === "exec" && !Object.hasOwn(programs, s.program)) {
          addIssue(
            ctx,
            [...path, i, "exec"],
            names.length
              ? `unknown program ${JSON.stringify(s.program)}; defined programs: ${names.join(", ")}`
              : `unknown program ${JSON.stringify(s.program)}; no programs are defined (add a top-level "programs" mapping)`,
          );
        } else if (s.op === "fork") checkExec(s.child.body, [...path, i, "fork", "run"]);
        else if (s.op === "repeat") checkExec(s.body, [...path, i, "repeat", "run"]);
      });
    };
    for (const k of names) checkExec(programs[k]!, ["programs", k]);
    v.tasks.forEach((t, i) => checkExec(t.body, ["tasks", i, "run"]));

    // `wait: NAME` and `kill: { target: NAME }` name children made by a fork step with that name: a
    // name no fork step gives is a typo (it would wait for, or signal, nobody).
    const childNames = new Set<string>();
    const collect = (steps: Step[]): void => {
      for (const s of steps) {
        if (s.op === "fork") {
          if (s.child.name !== undefined) childNames.add(s.child.name);
          collect(s.child.body);
        } else if (s.op === "repeat") collect(s.body);
      }
    };
    for (const k of names) collect(programs[k]!);
    for (const t of v.tasks) collect(t.body);
    const known = childNames.size ? `children are named ${[...childNames].map((n) => JSON.stringify(n)).join(", ")}` : "no fork step names its child (fork: { name: ... })";
    const checkTargets = (steps: Step[], path: Path): void => {
      steps.forEach((s, i) => {
        const target = s.op === "wait" || s.op === "kill" ? s.target : null;
        if (target !== null && target.kind === "child" && !childNames.has(target.name)) {
          const where = s.op === "wait" ? [...path, i, "wait"] : [...path, i, "kill", "target"];
          const allowed = s.op === "wait" ? "any, all" : "parent, children";
          addIssue(ctx, where, `no child is named ${JSON.stringify(target.name)}: expected ${allowed} or a child's name; ${known}`);
        } else if (s.op === "fork") checkTargets(s.child.body, [...path, i, "fork", "run"]);
        else if (s.op === "repeat") checkTargets(s.body, [...path, i, "repeat", "run"]);
      });
    };
    for (const k of names) checkTargets(programs[k]!, ["programs", k]);
    v.tasks.forEach((t, i) => checkTargets(t.body, ["tasks", i, "run"]));

    const out: Record<string, unknown> = {};
    for (const k of ["name", "description", "cpus", "seed", "until", "sched", "params"] as const) {
      if (v[k] !== undefined) out[k] = v[k];
    }
    return { ...out, programs, tasks: v.tasks } as Workload;
  });
}

/** Schema without source locations (every `loc.line` is 0), for data not parsed from text. */
export const WorkloadSchema = workloadSchema();

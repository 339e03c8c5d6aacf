/**
 * The workload interpreter: a second program kind behind the kernel's
 * `Coroutine` interface (DESIGN.md section 3), running a workload body
 * (`Step[]`, see workload.ts) instead of a generator.
 *
 * Its state is explicit data, so `fork()` copies it directly (no replay) and
 * `spawn(fn)` starts a fresh interpreter on a forked child's body:
 *
 *   contexts  stack of {frames, queue, last}: main, then one per running signal handler
 *   frames    stack of {steps, index, repeatLeft}: the body, then one per active `repeat`
 *   queue     syscalls still to issue for the current step (a fork of count 3, a wait all ...)
 *   last      the queued item whose request is in progress (its result is handled on resume)
 *   names     child name -> pids of unreaped children; kids: every unreaped child, fork order
 *
 * Step -> syscalls (Linux names and argument order; results are -errno or a value):
 *
 *   compute: T          compute(T)                     CPU burst of T ns
 *   compute: {uniform: [A, B]} / {exp: M}   getrandom, then compute(drawn)   (also sleep, io)
 *   io: T               io(T)                          uninterruptible sleep (D)
 *   sleep: T            nanosleep(T)                   interruptible sleep (S)
 *   yield               sched_yield()
 *   nice: N             setpriority(PRIO_PROCESS, 0, N)   N is absolute; lowering it needs root: -EACCES
 *   setsid              setsid()
 *   fork: {count, ...}  count x clone(SIGCHLD, child-body fn); for each child pid > 0, in order:
 *                         sched_setaffinity(pid, cpus)                         if affinity
 *                         setpriority(PRIO_PROCESS, pid, nice)                 if nice
 *                         sched_setscheduler(pid, policy, {sched_priority})   if policy is not deadline
 *                         sched_setattr(pid, {sched_policy: 6, sched_runtime, ...}, 0)  if deadline
 *                       The parent applies them after the clone (as a shell would), so a child
 *                       may already have run briefly with the inherited attributes. A call
 *                       the kernel refuses (a policy the scheduler has no class for: EINVAL;
 *                       admission control: EBUSY) is written to the parent's stderr as
 *                       "fork at line N: <call> for child <pid>: -E..." and skipped.
 *                       The child starts with prctl(PR_SET_NAME, name) when the fork names it.
 *   wait: any           wait4(-1, 0)
 *   wait: all           wait4(-1, 0) until it returns an error (-ECHILD)
 *   wait: NAME          wait4(pid, 0) for each unreaped child called NAME
 *   exec: PROG          execve("/workload/PROG", ["PROG"])   on error: continue with the next step
 *   exit: N             exit_group(N)
 *   kill: {parent, SIG} getppid(), then kill(ppid, SIG)
 *   kill: {children}    kill(pid, SIG) for each unreaped child; {NAME}: those called NAME
 *   repeat: {times, run} runs `run` `times` times (a body with no steps at all is skipped)
 *   end of the body     exit_group(0) (a signal handler body: rt_sigreturn)
 *
 * A reaped child (seen in a wait4 result) is forgotten, so `kill: children` never hits a
 * recycled pid. A step that has nothing to do (kill or wait on no children) issues nothing;
 * a loop of such steps that runs 100000 times without a syscall throws (the kernel then kills
 * the task with SIGSEGV and a warning naming the step's line).
 */
import type { Coroutine, Image, SyscallReq } from "../kernel/task/program.ts";
import { SIGCHLD } from "../kernel/signal/signals.ts";
import { PRIO_PROCESS } from "../kernel/sched/prio.ts";
import { errnoName } from "../kernel/errno.ts";
import type { Dist, ForkSpec, Policy, SchedAttrs, Step } from "./workload.ts";

/** Directory where the runner installs a workload's programs; `exec: PROG` runs `/workload/PROG`. */
export const WORKLOAD_DIR = "/workload";
export const workloadPath = (program: string): string => `${WORKLOAD_DIR}/${program}`;

/** SCHED_* numbers of the workload policy names (include/uapi/linux/sched.h). */
export const POLICY_NUMBERS: Readonly<Record<Policy, number>> = Object.freeze({
  normal: 0,
  fifo: 1,
  rr: 2,
  batch: 3,
  idle: 5,
  deadline: 6,
});

export function policyNumber(p: Policy): number {
  return POLICY_NUMBERS[p];
}

const PR_SET_NAME = 15;

/** A duration from a uniform 32-bit number (getrandom): uniform in [lo, hi], or exponential by inversion. */
export function draw(d: Dist, u32: number): number {
  const u = (u32 + 0.5) / 4294967296; // in (0, 1)
  return d.kind === "uniform" ? Math.round(d.lo + u * (d.hi - d.lo)) : Math.round(-d.mean * Math.log(u));
}
/** Interpreter steps allowed in one resume without issuing a syscall. */
const MAX_SILENT_STEPS = 100_000;
const SIGRETURN: SyscallReq = Object.freeze({ nr: "rt_sigreturn" });

interface Frame {
  readonly steps: readonly Step[];
  index: number;
  repeatLeft: number;
  /** A periodic repeat's period (0: none), and the release time of its current iteration (NaN until read). */
  every: number;
  release: number;
  /** The current iteration's end has waited for the next release already. */
  waited: boolean;
}

/** The end of a periodic repeat's iteration: sleep until the next release. */
const PERIOD_END = Object.freeze({ op: "periodEnd", loc: { line: 0 } }) as unknown as Step;

/** One queued unit of work: a syscall plus what to do with its result. */
type Item =
  | { kind: "call"; req: SyscallReq }
  | { kind: "clone"; spec: ForkSpec; line: number }
  | { kind: "attr"; req: SyscallReq; what: string; pid: number; line: number }
  | { kind: "wait"; pid: number; untilError: boolean }
  | { kind: "killParent"; sig: number }
  | { kind: "random"; nr: string; dist: Dist }
  /** clock_gettime for a periodic repeat: at its start (the first release), or at an iteration's end (sleep to the next). */
  | { kind: "period"; frame: Frame; start: boolean };

interface Context {
  frames: Frame[];
  queue: Item[];
  last: Item | null;
  /** A signal handler's context: its end is rt_sigreturn, not exit. */
  handler: boolean;
}

interface State {
  contexts: Context[];
  names: Map<string, number[]>;
  kids: number[];
}

// ---------------------------------------------------------------------------
// Child bodies passed through clone(): a function value (so traces show "<fn>")
// that spawn() maps back to its ForkSpec.
// ---------------------------------------------------------------------------

const specOfEntry = new WeakMap<object, ForkSpec>();
const entryOfSpec = new WeakMap<ForkSpec, () => void>();

/** The clone() child-function value standing for `spec`'s body (one per spec). */
export function childEntry(spec: ForkSpec): () => void {
  let fn = entryOfSpec.get(spec);
  if (!fn) {
    fn = function workloadChild(): void {};
    entryOfSpec.set(spec, fn);
    specOfEntry.set(fn, spec);
  }
  return fn;
}

// ---------------------------------------------------------------------------
// The coroutine
// ---------------------------------------------------------------------------

const call = (nr: string, a?: unknown, b?: unknown, c?: unknown): Item => ({ kind: "call", req: { nr, a, b, c } });

function freshContext(steps: readonly Step[], handler: boolean): Context {
  return { frames: [{ steps, index: 0, repeatLeft: 0, every: 0, release: NaN, waited: false }], queue: [], last: null, handler };
}

function copyState(s: State): State {
  return {
    contexts: s.contexts.map((c) => {
      const frames = c.frames.map((f) => ({ ...f }));
      // A queued period item points at its frame: the copy's points at the copied frame.
      const mapItem = (it: Item): Item => (it.kind === "period" ? { ...it, frame: frames[c.frames.indexOf(it.frame)] ?? it.frame } : it);
      return { ...c, frames, queue: c.queue.map(mapItem), last: c.last === null ? null : mapItem(c.last) };
    }),
    names: new Map([...s.names].map(([k, v]) => [k, v.slice()])),
    kids: s.kids.slice(),
  };
}

export class WorkloadCoroutine implements Coroutine {
  private s: State;

  /** Runs `steps` as a process body; with `comm`, first renames the task (prctl PR_SET_NAME). */
  constructor(steps: readonly Step[], comm?: string) {
    this.s = { contexts: [freshContext(steps, false)], names: new Map(), kids: [] };
    if (comm !== undefined) this.s.contexts[0]!.queue.push(call("prctl", PR_SET_NAME, comm));
  }

  next(result: unknown): SyscallReq {
    const ctx = this.top();
    const done = ctx.last;
    ctx.last = null;
    if (done) this.onResult(ctx, done, result);
    return this.advance();
  }

  /** A copy of the whole interpreter state; its first next(r) handles r as the result of the request in progress. */
  fork(): Coroutine {
    const c = new WorkloadCoroutine([]);
    c.s = copyState(this.s);
    return c;
  }

  /** `fn` is a {@link childEntry} (or a bare Step[]); anything else makes a child that crashes. */
  spawn(fn: unknown, _arg: unknown): Coroutine {
    if (Array.isArray(fn)) return new WorkloadCoroutine(fn as Step[]);
    const spec = typeof fn === "function" ? specOfEntry.get(fn) : undefined;
    return spec ? new WorkloadCoroutine(spec.body, spec.name) : new BadChild();
  }

  /** A handler given as a Step[] runs as a body; anything else is an empty handler. */
  pushHandler(handler: unknown, _sig: number): void {
    this.s.contexts.push(freshContext(Array.isArray(handler) ? (handler as Step[]) : [], true));
  }

  /** Pids of unreaped children, in fork order (for inspection and tests). */
  get children(): readonly number[] {
    return this.s.kids;
  }

  private top(): Context {
    return this.s.contexts[this.s.contexts.length - 1]!;
  }

  /** Issues the next queued syscall, expanding steps until one is due. */
  private advance(): SyscallReq {
    for (let silent = 0; ; silent++) {
      const ctx = this.top();
      const item = ctx.queue.shift();
      if (item) {
        ctx.last = item;
        return request(item);
      }
      const step = nextStep(ctx);
      if (step === null) return this.finish(ctx);
      if (silent >= MAX_SILENT_STEPS)
        throw new Error(`workload step at line ${step.loc.line} ran ${MAX_SILENT_STEPS} steps without a syscall`);
      this.expand(ctx, step);
    }
  }

  /** End of a body: main exits 0, a handler returns. */
  private finish(ctx: Context): SyscallReq {
    if (ctx.handler) {
      this.s.contexts.pop();
      return SIGRETURN;
    }
    return { nr: "exit_group", a: 0 };
  }

  private expand(ctx: Context, step: Step): void {
    const q = ctx.queue;
    switch (step.op) {
      case "compute":
      case "io":
      case "sleep": {
        const nr = step.op === "sleep" ? "nanosleep" : step.op;
        q.push(step.dist ? { kind: "random", nr, dist: step.dist } : call(nr, step.ns));
        return;
      }
      case "yield":
        q.push(call("sched_yield"));
        return;
      case "nice":
        q.push(call("setpriority", PRIO_PROCESS, 0, step.nice));
        return;
      case "setsid":
        q.push(call("setsid"));
        return;
      case "exec":
        q.push(call("execve", workloadPath(step.program), [step.program]));
        return;
      case "exit":
        q.push(call("exit_group", step.code));
        return;
      case "fork":
        for (let i = 0; i < step.child.count; i++) q.push({ kind: "clone", spec: step.child, line: step.loc.line });
        return;
      case "sched":
        q.push(...attrCalls(0, step.attrs, step.loc.line));
        return;
      case "wait":
        this.expandWait(q, step.target);
        return;
      case "kill":
        this.expandKill(q, step.target, step.signal);
        return;
      case "repeat":
        if (!isEmptyBody(step.body)) {
          const frame: Frame = { steps: step.body, index: 0, repeatLeft: step.times - 1, every: step.every ?? 0, release: NaN, waited: false };
          ctx.frames.push(frame);
          if (frame.every > 0) q.push({ kind: "period", frame, start: true }); // the first release is now
        }
        return;
      default:
        if (step === PERIOD_END) {
          const frame = ctx.frames[ctx.frames.length - 1]!;
          q.push({ kind: "period", frame, start: false });
        }
        return;
    }
  }

  private expandWait(q: Item[], target: Extract<Step, { op: "wait" }>["target"]): void {
    if (target.kind === "child") {
      for (const pid of this.s.names.get(target.name) ?? []) q.push({ kind: "wait", pid, untilError: false });
    } else q.push({ kind: "wait", pid: -1, untilError: target.kind === "all" });
  }

  private expandKill(q: Item[], target: Extract<Step, { op: "kill" }>["target"], sig: number): void {
    if (target.kind === "parent") q.push({ kind: "killParent", sig });
    else {
      const pids = target.kind === "children" ? this.s.kids : (this.s.names.get(target.name) ?? []);
      for (const pid of pids) q.push(call("kill", pid, sig));
    }
  }

  /** What a finished syscall means for the interpreter; follow-ups go to the front of the queue. */
  private onResult(ctx: Context, item: Item, r: unknown): void {
    switch (item.kind) {
      case "call":
        return;
      case "attr":
        // As a shell script would: say on stderr what the kernel refused, and go on.
        if (typeof r === "number" && r < 0)
          ctx.queue.unshift(call("write", 2, item.pid === 0 ? `sched at line ${item.line}: ${item.what}: ${errnoName(r)}\n` : `fork at line ${item.line}: ${item.what} for child ${item.pid}: ${errnoName(r)}\n`));
        return;
      case "clone":
        if (typeof r === "number" && r > 0) {
          this.remember(r, item.spec.name);
          ctx.queue.unshift(...attrCalls(r, item.spec, item.line));
        }
        return;
      case "wait":
        if (typeof r === "object" && r !== null && typeof (r as { pid?: unknown }).pid === "number") {
          this.forget((r as { pid: number }).pid);
          if (item.untilError) ctx.queue.unshift(item);
        }
        return;
      case "killParent":
        if (typeof r === "number" && r > 0) ctx.queue.unshift(call("kill", r, item.sig));
        return;
      case "random":
        ctx.queue.unshift(call(item.nr, draw(item.dist, typeof r === "number" ? r : 0)));
        return;
      case "period": {
        const now = typeof r === "number" ? r : 0;
        const f = item.frame;
        if (item.start) {
          f.release = now;
          return;
        }
        // clock_nanosleep(TIMER_ABSTIME) to the next release; one already past starts the next iteration at once.
        f.release += f.every;
        if (f.release > now) ctx.queue.unshift(call("nanosleep", f.release - now));
        return;
      }
    }
  }

  private remember(pid: number, name: string | undefined): void {
    this.s.kids.push(pid);
    if (name === undefined) return;
    const list = this.s.names.get(name);
    if (list) list.push(pid);
    else this.s.names.set(name, [pid]);
  }

  private forget(pid: number): void {
    const drop = (l: number[]): void => {
      const i = l.indexOf(pid);
      if (i >= 0) l.splice(i, 1);
    };
    drop(this.s.kids);
    for (const l of this.s.names.values()) drop(l);
  }
}

/** The request an item issues. */
function request(item: Item): SyscallReq {
  switch (item.kind) {
    case "call":
    case "attr":
      return item.req;
    case "period":
      return { nr: "clock_gettime" };
    case "clone":
      return { nr: "clone", a: SIGCHLD, b: childEntry(item.spec) };
    case "wait":
      return { nr: "wait4", a: item.pid, b: 0 };
    case "killParent":
      return { nr: "getppid" };
    case "random":
      return { nr: "getrandom" };
  }
}

/** The parent's syscalls that give a new child the fork step's scheduling attributes. */
/** The calls that give `pid` (0: the caller itself, for a sched step) the attributes of `spec`. */
function attrCalls(pid: number, spec: SchedAttrs, line: number): Item[] {
  const out: Item[] = [];
  const attr = (what: string, nr: string, a: unknown, b?: unknown, c?: unknown): Item => ({ kind: "attr", req: { nr, a, b, c }, what, pid, line });
  // Confine the child first: made RT or deadline while it may still run anywhere, it can be
  // pushed to (and run on) a CPU outside its declared affinity before the parent gets the CPU back.
  // A task changing itself (pid 0) away from deadline: a deadline task may not narrow its affinity (EBUSY),
  // so the policy goes first there; it runs where it is meanwhile, so nothing is placed outside the new mask.
  const affinityLast = pid === 0 && spec.policy !== undefined && spec.policy !== "deadline";
  const affinity = spec.affinity ? attr(`sched_setaffinity([${spec.affinity.join(", ")}])`, "sched_setaffinity", pid, [...spec.affinity]) : null;
  if (affinity && !affinityLast) out.push(affinity);
  if (spec.nice !== undefined) out.push(attr(`setpriority(${spec.nice})`, "setpriority", PRIO_PROCESS, pid, spec.nice));
  if (spec.policy === "deadline") {
    const params = {
      sched_policy: POLICY_NUMBERS.deadline,
      sched_flags: 0,
      sched_nice: 0,
      sched_priority: 0,
      sched_runtime: spec.runtime,
      sched_deadline: spec.deadline,
      sched_period: spec.period,
    };
    out.push(attr("sched_setattr(SCHED_DEADLINE)", "sched_setattr", pid, params, 0));
  } else if (spec.policy !== undefined) {
    out.push(attr(`sched_setscheduler(${spec.policy})`, "sched_setscheduler", pid, policyNumber(spec.policy), { sched_priority: spec.priority ?? 0 }));
  }
  if (affinity && affinityLast) out.push(affinity);
  return out;
}

/** The next step of the innermost frame, unwinding finished repeats; null at the end of the body. */
function nextStep(ctx: Context): Step | null {
  const frames = ctx.frames;
  for (;;) {
    const f = frames[frames.length - 1]!;
    if (f.index < f.steps.length) return f.steps[f.index++]!;
    if (f.repeatLeft > 0 && f.every > 0 && !f.waited) {
      f.waited = true; // a periodic iteration ends by sleeping until the next release
      return PERIOD_END;
    }
    if (f.repeatLeft > 0) {
      f.repeatLeft--;
      f.index = 0;
      f.waited = false;
    } else if (frames.length > 1) frames.pop();
    else return null;
  }
}

const emptyMemo = new WeakMap<readonly Step[], boolean>();

/** A body with no steps except (recursively) empty repeats: running it does nothing. */
function isEmptyBody(steps: readonly Step[]): boolean {
  let r = emptyMemo.get(steps);
  if (r === undefined) {
    r = steps.every((s) => s.op === "repeat" && isEmptyBody(s.body));
    emptyMemo.set(steps, r);
  }
  return r;
}

/** The child of a clone() whose function is not a workload body: it crashes (SIGSEGV) when it first runs. */
class BadChild implements Coroutine {
  next(): SyscallReq {
    throw new Error("clone() child function is not a workload body");
  }
  fork(): Coroutine {
    return new BadChild();
  }
  spawn(): Coroutine {
    return new BadChild();
  }
  pushHandler(): void {}
}

// ---------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------

export interface WorkloadImage extends Image {
  readonly steps: readonly Step[];
}

/**
 * An executable image whose `start()` runs `steps` in a new interpreter.
 * `programs` is what `exec` steps may name; an unknown name throws a TypeError here
 * (parseWorkload already rejects it; this catches hand-built workloads).
 *
 * @example
 * machine.kernel.binaries.set(workloadPath("worker"), workloadImage("worker", w.programs.worker!, w.programs));
 */
export function workloadImage(name: string, steps: readonly Step[], programs: Readonly<Record<string, readonly Step[]>> = {}): WorkloadImage {
  checkExecTargets(name, steps, programs);
  return {
    name,
    steps,
    start: () => new WorkloadCoroutine(steps),
  };
}

function checkExecTargets(name: string, steps: readonly Step[], programs: Readonly<Record<string, readonly Step[]>>): void {
  for (const s of steps) {
    if (s.op === "exec" && !Object.hasOwn(programs, s.program))
      throw new TypeError(`workload "${name}": exec of unknown program "${s.program}" (line ${s.loc.line})`);
    if (s.op === "fork") checkExecTargets(name, s.child.body, programs);
    if (s.op === "repeat") checkExecTargets(name, s.body, programs);
  }
}

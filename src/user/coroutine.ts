/**
 * Generator programs behind the kernel's Coroutine interface.
 *
 * fork() must return twice, but a JavaScript generator cannot be copied. The
 * child is therefore rebuilt by deterministic replay: a fresh generator is
 * driven with the parent's recorded syscall results (and signal-handler
 * entries) up to the fork, which puts it in the parent's state at that point;
 * it then receives 0. Programs must be deterministic functions of their
 * syscall results (no Math.random, no wall clock, no shared mutable globals).
 *
 * Keeping replay cheap:
 * - the history is a persistent log: a child refers to its parent's log and a
 *   length instead of copying it, so fork costs O(1) memory;
 * - replay is lazy: it happens when the child first runs, not at fork time, and
 *   never for a child made by clone() with a child function or by exec;
 * - replay only steps the generator (no kernel work, no events, no tracing);
 * - runs of equal primitive results are stored once with a count, so the log
 *   of a long-running program stays small while its results repeat.
 * A parent that has made h syscalls costs O(h) generator steps per replayed
 * child: a loop forking n children costs O(n^2) steps in all (see the README
 * for measured figures).
 *
 * A process's memory is its own, so what the program receives is its own
 * copy: each start or replay gets a fresh copy of argv (a program may shift
 * it), and each plain object or array result (a signal mask, a sched_attr,
 * an affinity list) is handed over as a copy while the log keeps the
 * original, so a parent that changes a result after a fork cannot change what
 * its child replays. Results are flat: one level is copied. Kernel records of
 * a class of their own (wait's WaitResult) are read-only and not copied.
 *
 * Signal handlers are closures too: a handler the parent installed captures
 * the parent's variables, and the child's copy of the dispositions (made by
 * the kernel at fork) still holds it. The replayed child installs its own
 * closures at the same points of the same history, so each program keeps the
 * functions it passed to sigaction in order, and the child runs, for a
 * handler installed before the fork, its own closure at the same index: a
 * handler then updates the memory of the process it runs in, as in Linux.
 */
import type { Coroutine, Image, SyscallReq } from "../kernel/task/program.ts";

export type ProgramGen = Generator<SyscallReq, unknown, unknown>;

/** A handler entry in the history: the next entries belong to a handler frame. */
class HandlerEntry {
  constructor(
    readonly fn: unknown,
    readonly sig: number,
    /** The siginfo handed to an SA_SIGINFO handler (a frozen kernel record), or undefined. */
    readonly info: unknown,
  ) {}
}

const NO_ENTRIES: unknown[] = [];

/** Results worth merging into a run: primitives compare by value, so a replay cannot tell. */
const mergeable = (e: unknown): boolean => typeof e === "number" || typeof e === "undefined" || typeof e === "boolean" || typeof e === "string";

/** `count` consecutive entries equal to `value`, stored as one entry. */
class Run {
  constructor(
    readonly value: unknown,
    public count: number,
  ) {}
}

/**
 * Persistent append-only history: a prefix shared with the parent plus our own
 * entries. Consecutive equal primitive results (0 from every compute and
 * sleep, the same pid from getpid) collapse into one Run entry, so a
 * long-running program's history grows with how often its results change,
 * not with how many syscalls it makes.
 */
class Log {
  /** Our own entries (a value, or a Run of equal values); allocated on the first one. */
  own: unknown[] = NO_ENTRIES;
  /** Entries in all, ancestors' prefix included. */
  length: number;
  /**
   * @param base    the parent's log, whose first baseLen entries come first
   * @param basePath the parent's path signature at the fork (see GenCoroutine.path): a replay must reproduce it
   */
  constructor(
    readonly base: Log | null,
    readonly baseLen: number,
    readonly basePath = 0,
  ) {
    this.length = baseLen;
  }
  /** Appends one entry that does not merge (an object result, a handler entry); runs come through pushRun. */
  push(e: unknown): void {
    this.length++;
    if (this.own === NO_ENTRIES) this.own = [e];
    else this.own.push(e);
  }
  /** Appends `count` entries equal to the primitive `value`, merged with a last entry of the same value. */
  pushRun(value: unknown, count: number): void {
    this.length += count;
    const own = this.own;
    if (own === NO_ENTRIES) {
      this.own = [count === 1 ? value : new Run(value, count)];
      return;
    }
    const i = own.length - 1;
    const last = own[i];
    if (last instanceof Run && last.value === value) last.count += count;
    else if (last === value) own[i] = new Run(value, count + 1);
    else own.push(count === 1 ? value : new Run(value, count));
  }
  /** Calls f on the first n entries in order. Iterative over the chain of ancestors. */
  forEach(n: number, f: (e: unknown) => void): void {
    const chain: { log: Log; n: number }[] = [];
    let log: Log | null = this;
    let m = n;
    while (log) {
      chain.push({ log, n: m });
      m = Math.min(m, log.baseLen);
      log = log.base;
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const { log: l, n: upto } = chain[i]!;
      let left = upto - l.baseLen; // entries of this log that the child saw (a run may have grown since)
      for (let r = 0; left > 0 && r < l.own.length; r++) {
        const e = l.own[r];
        if (e instanceof Run) {
          const k = Math.min(e.count, left);
          for (let c = 0; c < k; c++) f(e.value);
          left -= k;
        } else {
          f(e);
          left--;
        }
      }
    }
  }
}

/**
 * A clone() with a child function: from here on the history is that function's. A replay that
 * meets it starts the function its own replayed clone request carries (a closure over the
 * replaying process's own memory), with its own copy of the argument.
 */
class SpawnEntry {
  constructor(readonly share: boolean) {}
}

const SIGRETURN: SyscallReq = Object.freeze({ nr: "rt_sigreturn" });
const FORKS = new Set(["fork", "vfork", "clone"]);

/** A generator function as programs write them: main(sys, argv), a thread body(sys, arg), a handler(sys, sig). */
export type GenFn = (sys: unknown, arg: unknown) => ProgramGen;
/** A signal handler as the coroutine calls it: handler(sys, sig, info), info only for SA_SIGINFO. */
type HandlerFn = (sys: unknown, sig: number, info: unknown) => ProgramGen;

const NO_FRAMES: ProgramGen[] = [];
const NO_FNS: unknown[] = [];

/** An ancestor's handler functions: the first `len` of `fns` line up with ours (same history). */
interface FnChain {
  readonly fns: unknown[];
  readonly len: number;
  readonly up: FnChain | null;
}

/** A private copy of an array or plain-object result (one level); anything else as it is. */
function own<T>(v: T): T {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return v.slice() as T;
  return (v as { constructor?: unknown }).constructor === Object ? { ...v } : v; // not a class instance (a kernel record)
}

/** The handler function an rt_sigaction request installs, if it is one. */
function installedFn(req: SyscallReq): unknown {
  const act = req.b as { handler?: unknown } | null | undefined;
  return act !== null && typeof act === "object" && typeof act.handler === "function" ? act.handler : undefined;
}

export class GenCoroutine implements Coroutine {
  /** The running generator: main, or the innermost running signal handler; null before the first step. */
  private top: ProgramGen | null = null;
  /** The generators below top (main at the bottom) while signal handlers run. */
  private frames: ProgramGen[] = NO_FRAMES;
  /**
   * The trailing run of equal primitive results, not yet written to the log:
   * the common step (compute, sleep: 0 again) then touches only this object.
   * Written out before anything reads the log (fork, a handler entry).
   */
  private tailValue: unknown = undefined;
  private tailCount = 0;
  /** Every function this program passed to sigaction as a handler, in order (replayed ones included). */
  private fns: unknown[] = NO_FNS;
  /**
   * A signature of the syscalls requested so far (which ones, in order): a
   * replay that makes other calls than its parent did, even as many, ends with
   * another signature, and is caught at the fork.
   */
  private path = 0;
  private readonly replayLen: number;
  /** Where the program runs from when it starts for real (a thread or a CLONE_VM child): fn(arg) as given, sharing memory. */
  private live: { fn: GenFn; arg: unknown } | null = null;

  /**
   * @param fn     the main generator function, called as fn(sys, arg) at start and for each replay
   * @param arg    argv for a program, the argument for a clone() child function
   * @param sys    the syscall API handed to every generator function
   * @param thread main's return ends only this thread (exit), not the process (exit_group)
   */
  constructor(
    private readonly fn: GenFn,
    private readonly arg: unknown,
    private readonly sys: unknown,
    private thread: boolean,
    private readonly log: Log = new Log(null, 0),
    private readonly ancestors: FnChain | null = null,
    replayLen?: number,
  ) {
    this.replayLen = replayLen ?? log.baseLen;
  }

  next(result: unknown): SyscallReq {
    if (this.top === null) this.begin();
    if (this.tailCount > 0 && result === this.tailValue) this.tailCount++;
    else this.record(result);
    return this.step(own(result));
  }

  /** A result that does not extend the trailing run: it starts a new one, or goes to the log. */
  private record(result: unknown): void {
    this.flush();
    if (mergeable(result)) {
      this.tailValue = result;
      this.tailCount = 1;
    } else this.log.push(result);
  }

  /** Writes the trailing run to the log. */
  private flush(): void {
    if (this.tailCount === 0) return;
    this.log.pushRun(this.tailValue, this.tailCount);
    this.tailCount = 0;
    this.tailValue = undefined;
  }

  private begin(): void {
    if (this.live !== null) {
      // A thread (or CLONE_VM child) runs the very closure it was given: it shares the process's memory.
      this.top = this.live.fn(this.sys, this.live.arg);
      this.thread = true;
      if (typeof (this.top as { next?: unknown } | null)?.next !== "function")
        throw new TypeError(`the program's function returned ${describe(this.top)}, not a generator: write it as function* (sys) { ... }`);
      return;
    }
    // Not live: this is the main program (started, or replayed for a fork/non-CLONE_VM child, even one made
    // by a thread): it gets its own copy of argv, never the original that later replays start from.
    this.top = this.fn(this.sys, own(this.arg));
    if (typeof (this.top as { next?: unknown } | null)?.next !== "function")
      throw new TypeError(`the program's function returned ${describe(this.top)}, not a generator: write it as function* (sys) { ... }`);
    if (this.replayLen === 0) return;
    let last: SyscallReq | null = null;
    this.log.forEach(this.replayLen, (e) => {
      if (e instanceof HandlerEntry) this.enterHandler(this.ownHandler(e.fn) as GenFn, e.sig, e.info);
      else if (e instanceof SpawnEntry) {
        // The replayed clone request carries this replay's own child function and argument.
        const req = last as SyscallReq | null;
        if (req === null || req.nr !== "clone" || typeof req.b !== "function")
          throw new Error("fork replay diverged: the replayed program did not make the clone() its parent made");
        this.top = (req.b as GenFn)(this.sys, e.share ? req.c : own(req.c));
        this.frames = NO_FRAMES;
        this.thread = true;
      } else last = this.step(own(e));
    });
    const req = last as SyscallReq | null;
    if (req === null || !FORKS.has(req.nr))
      throw new Error(
        `fork replay diverged: the replayed program issued ${req ? `"${req.nr}"` : "nothing"} where its parent forked ` +
          "(programs must be deterministic functions of their syscall results)",
      );
    if (this.path !== this.log.basePath)
      throw new Error(
        "fork replay diverged: the replayed program made other syscalls than its parent on the way to the fork " +
          "(programs must be deterministic functions of their syscall results)",
      );
  }

  private enterHandler(fn: GenFn, sig: number, info: unknown): void {
    if (this.frames === NO_FRAMES) this.frames = [];
    this.frames.push(this.top!);
    this.top = (fn as HandlerFn)(this.sys, sig, info);
  }

  private step(result: unknown): SyscallReq {
    const r = this.top!.next(result);
    if (!r.done) {
      const req = r.value;
      if (typeof req !== "object" || req === null || typeof req.nr !== "string") throw new TypeError(badYield(req));
      const nr = req.nr;
      if (nr === "rt_sigaction") this.noteInstall(req);
      let h = this.path;
      for (let i = 0; i < nr.length; i++) h = (Math.imul(h, 31) + nr.charCodeAt(i)) | 0; // every character: get/set pairs differ in one
      this.path = Math.imul(h, 31) | 0;
      return req;
    }
    if (this.frames.length > 0) {
      this.top = this.frames.pop()!;
      return SIGRETURN;
    }
    return { nr: this.thread ? "exit" : "exit_group", a: exitCode(r.value) };
  }

  private noteInstall(req: SyscallReq): void {
    const f = installedFn(req);
    if (f === undefined) return;
    if (this.fns === NO_FNS) this.fns = [];
    this.fns.push(f);
  }

  /**
   * Our own closure for a handler function installed by this program or, before
   * a fork, by an ancestor (found at the same index of its list); any other
   * function (installed by another thread of the process) as it is.
   */
  private ownHandler(fn: unknown): unknown {
    if (this.fns.includes(fn)) return fn;
    for (let c = this.ancestors; c !== null; c = c.up) {
      const i = c.fns.indexOf(fn);
      if (i >= 0 && i < c.len && i < this.fns.length) return this.fns[i];
    }
    return fn;
  }

  fork(): Coroutine {
    this.flush();
    const chain: FnChain | null = this.fns.length > 0 ? { fns: this.fns, len: this.fns.length, up: this.ancestors } : this.ancestors;
    return new GenCoroutine(this.fn, this.arg, this.sys, this.thread, new Log(this.log, this.log.length, this.path), chain);
  }

  /**
   * A clone() child running fn(arg). Its history starts with this program's (so that a fork it makes
   * later, or the child itself when it does not share memory, is rebuilt by replaying up to this clone
   * and then running the replay's own fn). With `share` (CLONE_VM) it runs fn itself, in this memory;
   * without, it is a replay: its own copy of memory, as fork gives.
   */
  spawn(fn: unknown, arg: unknown, share = true): Coroutine {
    if (this.top === null) this.begin();
    this.flush();
    const chain: FnChain | null = this.fns.length > 0 ? { fns: this.fns, len: this.fns.length, up: this.ancestors } : this.ancestors;
    const log = new Log(this.log, this.log.length, this.path);
    log.push(new SpawnEntry(share));
    const co = new GenCoroutine(this.fn, this.arg, this.sys, this.thread, log, chain, share ? 0 : log.length);
    if (share) {
      co.path = this.path; // a replay of it (a fork it makes) hashes the same requests from 0 again
      co.live = { fn: fn as GenFn, arg };
      co.fns = this.fns.length > 0 ? this.fns.slice() : NO_FNS; // handler indices line up with a replay's
    }
    return co;
  }

  pushHandler(fn: unknown, sig: number, info?: unknown): void {
    if (this.top === null) this.begin();
    this.flush();
    const f = this.ownHandler(fn);
    this.log.push(new HandlerEntry(f, sig, info));
    this.enterHandler(f as GenFn, sig, info);
  }
}

/** main's return value as an exit status: numbers are masked to 8 bits by the kernel; anything else is 0. */
function exitCode(v: unknown): number {
  return typeof v === "number" && Number.isInteger(v) ? v : 0;
}

export type { Image };

/** A value a program yielded or returned, for an error message. */
function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}...` : v);
  if (v === null || v === undefined || typeof v !== "object") return String(v);
  return Array.isArray(v) ? "a list" : "an object";
}

/** What is wrong when a program yields something other than a syscall request. */
function badYield(v: unknown): string {
  return `yielded ${describe(v)}, which is not a syscall request: syscalls are made with yield* (the star), as in yield* sys.sleep(ms(5))`;
}

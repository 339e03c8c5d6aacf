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
 * - replay only steps the generator (no kernel work, no events, no tracing).
 * A parent that has made h syscalls costs O(h) generator steps per replayed
 * child: a loop forking n children costs O(n^2) steps in all (see the README
 * for measured figures).
 */
import type { Coroutine, Image, SyscallReq } from "../kernel/task/program.ts";

export type ProgramGen = Generator<SyscallReq, unknown, unknown>;

/** A handler entry in the history: the next entries belong to a handler frame. */
class HandlerEntry {
  constructor(
    readonly fn: unknown,
    readonly sig: number,
  ) {}
}

/** Persistent append-only history: a prefix shared with the parent plus our own entries. */
class Log {
  readonly own: unknown[] = [];
  constructor(
    readonly base: Log | null,
    readonly baseLen: number,
  ) {}
  get length(): number {
    return this.baseLen + this.own.length;
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
      const end = upto - l.baseLen;
      for (let j = 0; j < end; j++) f(l.own[j]);
    }
  }
}

const SIGRETURN: SyscallReq = Object.freeze({ nr: "rt_sigreturn" });
const FORKS = new Set(["fork", "vfork", "clone"]);

export type StartFn = () => ProgramGen;
export type HandlerFactory = (fn: unknown, sig: number) => ProgramGen;

export class GenCoroutine implements Coroutine {
  private frames: ProgramGen[] = [];
  private replayLen: number;

  /**
   * @param start   makes a fresh main generator (used at start and for replays)
   * @param handler makes a handler generator from a user handler function
   * @param spawnFn makes a generator for a clone() child function
   * @param thread  main's return ends only this thread (exit), not the process (exit_group)
   */
  constructor(
    private readonly start: StartFn,
    private readonly handler: HandlerFactory,
    private readonly spawnFn: (fn: unknown, arg: unknown) => StartFn,
    private readonly thread: boolean,
    private readonly log: Log = new Log(null, 0),
  ) {
    this.replayLen = log.baseLen;
  }

  next(result: unknown): SyscallReq {
    if (this.frames.length === 0) this.begin();
    this.log.own.push(result);
    return this.step(result);
  }

  private begin(): void {
    this.frames.push(this.start());
    if (this.replayLen === 0) return;
    let last: SyscallReq | null = null;
    this.log.forEach(this.replayLen, (e) => {
      if (e instanceof HandlerEntry) this.frames.push(this.handler(e.fn, e.sig));
      else last = this.step(e);
    });
    const req = last as SyscallReq | null;
    if (req === null || !FORKS.has(req.nr))
      throw new Error(
        `fork replay diverged: the replayed program issued ${req ? `"${req.nr}"` : "nothing"} where its parent forked ` +
          "(programs must be deterministic functions of their syscall results)",
      );
  }

  private step(result: unknown): SyscallReq {
    const frames = this.frames;
    const r = frames[frames.length - 1]!.next(result);
    if (!r.done) return r.value;
    if (frames.length > 1) {
      frames.pop();
      return SIGRETURN;
    }
    return { nr: this.thread ? "exit" : "exit_group", a: exitCode(r.value) };
  }

  fork(): Coroutine {
    return new GenCoroutine(this.start, this.handler, this.spawnFn, this.thread, new Log(this.log, this.log.length));
  }

  spawn(fn: unknown, arg: unknown): Coroutine {
    return new GenCoroutine(this.spawnFn(fn, arg), this.handler, this.spawnFn, true);
  }

  pushHandler(fn: unknown, sig: number): void {
    if (this.frames.length === 0) this.begin();
    this.log.own.push(new HandlerEntry(fn, sig));
    this.frames.push(this.handler(fn, sig));
  }
}

/** main's return value as an exit status: numbers are masked to 8 bits by the kernel; anything else is 0. */
function exitCode(v: unknown): number {
  return typeof v === "number" && Number.isInteger(v) ? v : 0;
}

export type { Image };

/**
 * The one small interface through which the kernel sees user programs
 * (DESIGN.md section 3). Generator programs, declarative workloads and any
 * later kind plug in behind it.
 */

/** A syscall request as a program issues it: the name and up to four arguments. */
export interface SyscallReq {
  nr: string;
  a?: unknown;
  b?: unknown;
  c?: unknown;
  d?: unknown;
}

/** A running program image's control flow, resumed by the kernel with each syscall result. */
export interface Coroutine {
  /**
   * Resumes the program with the result of its previous request (ignored on the
   * first call) and returns its next request. When main returns, the request is
   * `{nr: "exit", a: status}`; when a signal handler returns, `{nr: "rt_sigreturn"}`.
   * A program that throws makes this throw; the kernel kills the task with SIGSEGV.
   */
  next(result: unknown): SyscallReq;
  /**
   * Copy for fork: a coroutine positioned just after the request now in progress,
   * whose first `next(r)` delivers the child's result `r` (0 for fork).
   */
  fork(): Coroutine;
  /** A coroutine of the same kind running `fn(arg)`: a clone() child function or a thread. */
  spawn(fn: unknown, arg: unknown, share?: boolean): Coroutine;
  /**
   * Runs signal handler `handler(sig)` before the interrupted code continues;
   * `info` is the signal's siginfo when the handler was installed with SA_SIGINFO.
   */
  pushHandler(handler: unknown, sig: number, info?: unknown): void;
}

/** An executable the kernel can exec: what binfmt loading produces. */
export interface Image {
  /** Base name; becomes comm (truncated to 15 characters). */
  readonly name: string;
  start(argv: readonly string[]): Coroutine;
}

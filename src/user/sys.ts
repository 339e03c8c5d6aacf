/**
 * The syscall API for generator programs. Each call is a tiny generator, so
 * `yield* sys.fork()` gives a typed result (the effect pattern). Results follow
 * the Linux ABI: a negative number is -errno. A few calls return a small record
 * instead of writing through a pointer (waitpid's status, waitid's siginfo).
 *
 * @example
 * const pid = yield* sys.fork();
 * if (pid === 0) { yield* sys.compute(ms(3)); return 7; }
 * const { status } = yield* sys.waitpid(pid, 0);
 */
import type { SyscallReq } from "../kernel/task/program.ts";
import type { SigInfo } from "../kernel/signal/signal.ts";

export type Sys<T> = Generator<SyscallReq, T, unknown>;

/** A generator program: main(sys, argv). Its return value is the exit status. */
export type ProgramBody = (sys: SysApi, argv: string[]) => Generator<SyscallReq, number | void, unknown>;
/**
 * A signal handler: runs as a nested coroutine of the interrupted task.
 * Installed with SA_SIGINFO, it also receives the signal's siginfo (sa_sigaction):
 * who sent it and why, such as the child and its exit status for SIGCHLD.
 */
export type SignalHandler = (sys: SysApi, sig: number, info?: SigInfo) => Generator<SyscallReq, void, unknown>;
/** A clone() child function or thread body. */
export type ThreadBody<A = unknown> = (sys: SysApi, arg: A) => Generator<SyscallReq, number | void, unknown>;

export interface WaitStatus {
  /** Child pid, 0 (WNOHANG, nothing ready), or -errno. */
  pid: number;
  /** Wait status word (WIFEXITED and friends decode it). */
  status: number;
}

export interface WaitidInfo {
  /** 0, or -errno. */
  ret: number;
  /** si_pid: 0 when WNOHANG found nothing. */
  pid: number;
  /** si_code: CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED, CLD_CONTINUED. */
  code: number;
  /** si_status: exit code or signal. */
  status: number;
}

export interface SigactionSpec {
  handler: "dfl" | "ign" | SignalHandler;
  flags?: number;
  mask?: number[];
}

/**
 * One syscall as an effect object: it is the request the program yields and,
 * for `yield*`, its own iterator, so a call allocates one small object instead
 * of a generator, a request and two iterator results. The iterator result is a
 * shared record: `yield*` reads it before anything else can run.
 */
const STEP: { value: unknown; done: boolean } = { value: undefined, done: false };

class Effect<T> implements SyscallReq, Iterator<SyscallReq, T, unknown> {
  private started = false;
  constructor(
    readonly nr: string,
    readonly a?: unknown,
    readonly b?: unknown,
    readonly c?: unknown,
  ) {}
  [Symbol.iterator](): Iterator<SyscallReq, T, unknown> {
    return this;
  }
  next(result?: unknown): IteratorResult<SyscallReq, T> {
    if (!this.started) {
      this.started = true;
      STEP.value = this;
      STEP.done = false;
    } else {
      STEP.value = result;
      STEP.done = true;
    }
    return STEP as IteratorResult<SyscallReq, T>;
  }
}

/**
 * An effect whose result the libc wrapper turns into something else
 * (waitpid's record, getpriority's nice). A class of its own, so that the
 * common effect, which a sleeping task keeps as its pending request, carries
 * no extra field. These calls never complete with undefined (the kernel
 * returns a number or a record), so an undefined argument means the start.
 */
class MappedEffect<T> implements SyscallReq, Iterator<SyscallReq, T, unknown> {
  constructor(
    readonly nr: string,
    readonly a: unknown,
    readonly b: unknown,
    readonly c: unknown,
    private readonly map: (r: unknown) => T,
  ) {}
  [Symbol.iterator](): Iterator<SyscallReq, T, unknown> {
    return this;
  }
  next(result?: unknown): IteratorResult<SyscallReq, T> {
    if (result === undefined) {
      STEP.value = this;
      STEP.done = false;
    } else {
      STEP.value = this.map(result);
      STEP.done = true;
    }
    return STEP as IteratorResult<SyscallReq, T>;
  }
}

function call<T>(nr: string, a?: unknown, b?: unknown, c?: unknown): Sys<T> {
  return new Effect<T>(nr, a, b, c) as unknown as Sys<T>;
}

/** A request with a fourth argument (rare): a plain generator. */
function* call4<T>(nr: string, a?: unknown, b?: unknown, c?: unknown, d?: unknown): Sys<T> {
  return (yield { nr, a, b, c, d }) as T;
}

interface RawWait {
  pid: number;
  status: number;
  code: number;
  siStatus: number;
}

const waitStatus = (r: unknown): WaitStatus => {
  const w = r as number | RawWait;
  return typeof w === "number" ? { pid: w, status: 0 } : { pid: w.pid, status: w.status };
};
function waitpid(pid: number, options = 0): Sys<WaitStatus> {
  return new MappedEffect<WaitStatus>("wait4", pid, options, undefined, waitStatus) as unknown as Sys<WaitStatus>;
}

const waitidInfo = (r: unknown): WaitidInfo => {
  const w = r as number | RawWait;
  return typeof w === "number" ? { ret: Math.min(w, 0), pid: 0, code: 0, status: 0 } : { ret: 0, pid: w.pid, code: w.code, status: w.siStatus };
};
function waitid(idtype: number, id: number, options: number): Sys<WaitidInfo> {
  return new MappedEffect<WaitidInfo>("waitid", idtype, id, options, waitidInfo) as unknown as Sys<WaitidInfo>;
}

const niceFromKernel = (r: unknown): number => ((r as number) < 0 ? (r as number) : 20 - (r as number)); // glibc turns the kernel's 20 - nice back into nice
function getpriority(which: number, who: number): Sys<number> {
  return new MappedEffect<number>("getpriority", which, who, undefined, niceFromKernel) as unknown as Sys<number>;
}

export const sys = {
  /** Uses `ns` of CPU time. */
  compute: (ns: number) => call<number>("compute", ns),
  /** Waits `ns` for simulated I/O in uninterruptible sleep (state D). */
  io: (ns: number) => call<number>("io", ns),
  /** nanosleep: interruptible sleep (state S). 0, or -EINTR if a handler ran. */
  sleep: (ns: number) => call<number>("nanosleep", ns),
  nanosleep: (ns: number) => call<number>("nanosleep", ns),
  /** Sleeps until a signal handler runs; returns -EINTR. */
  pause: () => call<number>("pause"),
  sched_yield: () => call<number>("sched_yield"),
  fork: () => call<number>("fork"),
  /** The parent is suspended (state D) until the child execs or exits. */
  vfork: () => call<number>("vfork"),
  /** clone(flags, fn, arg) as glibc's: the child runs fn(sys, arg); without fn it continues from here like fork. */
  clone: <A>(flags: number, fn?: ThreadBody<A>, arg?: A) => call<number>("clone", flags, fn, arg),
  execve: (path: string, argv: string[] = [path]) => call<number>("execve", path, argv),
  /** exit(3): ends the process (exit_group). */
  exit: (code: number) => call<never>("exit_group", code),
  /** The raw SYS_exit: ends only the calling thread. */
  exitThread: (code: number) => call<never>("exit", code),
  waitpid,
  wait4: waitpid,
  /** wait(&status) = waitpid(-1, &status, 0). */
  wait: () => waitpid(-1, 0),
  waitid,
  getpid: () => call<number>("getpid"),
  getppid: () => call<number>("getppid"),
  gettid: () => call<number>("gettid"),
  getuid: () => call<number>("getuid"),
  getpgid: (pid = 0) => call<number>("getpgid", pid),
  getpgrp: () => call<number>("getpgid", 0),
  getsid: (pid = 0) => call<number>("getsid", pid),
  setsid: () => call<number>("setsid"),
  setpgid: (pid: number, pgid: number) => call<number>("setpgid", pid, pgid),
  kill: (pid: number, sig: number) => call<number>("kill", pid, sig),
  tgkill: (tgid: number, tid: number, sig: number) => call<number>("tgkill", tgid, tid, sig),
  sigaction: (sig: number, act: SigactionSpec) => call<number>("rt_sigaction", sig, act),
  /** signal(2) with BSD semantics as glibc gives them: SA_RESTART. */
  signal: (sig: number, handler: SigactionSpec["handler"]) => call<number>("rt_sigaction", sig, { handler, flags: 0x10000000 }),
  /** how: 0 SIG_BLOCK, 1 SIG_UNBLOCK, 2 SIG_SETMASK. Returns the old mask as a list of signals. */
  sigprocmask: (how: number, sigs?: number[]) => call<number[] | number>("rt_sigprocmask", how, sigs),
  /** nice(inc): 0 or -EPERM (raising priority needs privilege). */
  nice: (inc: number) => call<number>("nice", inc),
  /** Returns the nice value (glibc form), or -errno. */
  getpriority,
  setpriority: (which: number, who: number, nice: number) => call<number>("setpriority", which, who, nice),
  sched_setaffinity: (pid: number, cpus: number[]) => call<number>("sched_setaffinity", pid, cpus),
  sched_getaffinity: (pid = 0) => call<number[] | number>("sched_getaffinity", pid),
  prctl: (option: number, arg?: unknown) => call<number | string>("prctl", option, arg),
  write: (fd: number, text: string) => call<number>("write", fd, text),
  /** write(1, text). */
  print: (text: string) => call<number>("write", 1, text),
  /** open(path, flags): opening a terminal (/dev/pts/N) as a session leader without one makes it the controlling tty. */
  open: (path: string, flags = 0) => call<number>("open", path, flags),
  /** The foreground process group of the terminal on fd. */
  tcgetpgrp: (fd: number) => call<number>("tcgetpgrp", fd),
  /** Makes pgrp the foreground process group of the terminal on fd. */
  tcsetpgrp: (fd: number, pgrp: number) => call<number>("tcsetpgrp", fd, pgrp),
  close: (fd: number) => call<number>("close", fd),
  /**
   * read(fd, count): the next at most `count` characters as a string, "" at the end of the
   * file, or -errno. Files that read: /proc/<pid>/{stat,status,statm,sched,comm} (self too),
   * /proc/<pid>/task/<tid>/..., /proc/loadavg, /sys/kernel/debug/sched/debug, /dev/null.
   */
  read: (fd: number, count = 65536) => call<string | number>("read", fd, count),
  /** open + read to the end + close, as `cat` does: the whole text, or -errno. */
  *readFile(path: string): Sys<string | number> {
    const fd = yield* call<number>("open", path, 0);
    if (fd < 0) return fd;
    let text = "";
    for (;;) {
      const r = yield* call<string | number>("read", fd, 65536);
      if (typeof r === "number") {
        yield* call<number>("close", fd);
        return r;
      }
      if (r === "") break;
      text += r;
    }
    yield* call<number>("close", fd);
    return text;
  },
  dup2: (fd: number, fd2: number) => call<number>("dup2", fd, fd2),
  chdir: (path: string) => call<number>("chdir", path),
  getcwd: () => call<string>("getcwd"),
  umask: (mask: number) => call<number>("umask", mask),
  /** A random unsigned 32-bit number from the machine's seeded generator (getrandom). */
  getrandom: () => call<number>("getrandom"),
  /** Simulated time now, in ns. */
  now: () => call<number>("clock_gettime"),
  /** Any syscall by name, for experiments. */
  syscall: (nr: string, a?: unknown, b?: unknown, c?: unknown, d?: unknown) => call4<unknown>(nr, a, b, c, d),
};

export type SysApi = typeof sys;

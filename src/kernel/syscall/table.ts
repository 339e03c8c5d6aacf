/**
 * The syscall table (xv6 syscall.c + sysproc.c): each handler decodes its
 * arguments and delegates to the subsystem that owns the logic.
 * Arguments arrive positionally as req.a, req.b, req.c, req.d.
 */
import type { Kernel } from "../kernel.ts";
import type { Task } from "../task/task.ts";
import { TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_KILLABLE } from "../task/task.ts";
import type { SyscallReq } from "../task/program.ts";
import { EBADF, EINVAL, EFAULT, EINTR, ENOENT, ESRCH, EMFILE } from "../errno.ts";
import { BLOCK, BURST, GONE, RESTARTNOHAND, RESTARTNOINTR, RESTARTSYS, sigreturn, type SysRet } from "./entry.ts";
import { copyProcess, CLONE_VFORK, CLONE_VM, CLONE_THREAD } from "../task/fork.ts";
import { SIGCHLD, NSIG, SIGKILL, SIGSTOP } from "../signal/signals.ts";
import { doExit, doGroupExit, setChildSubreaper, W_EXITCODE } from "../task/exit.ts";
import { checkWaitOptions, doWaitOnce, WNOHANG, WEXITED, P_ALL, P_PGID, P_PID, type WaitReq } from "../task/wait.ts";
import { doExecve, setComm, resolvePath } from "../task/exec.ts";
import { getIdOf, setpgid, setsid } from "../task/group.ts";
import { kill, tgkill } from "../signal/kill.ts";
import { recalcSigpending, setAction, sigPendingFast, fatalSignalPending, userMask, setBlocked } from "../signal/signal.ts";
import { sysNice, getPriority, setPriority, sysYield, setAffinity, getAffinity } from "../sched/prio.ts";
import { Prio } from "../../sim/engine.ts";
import { wakeUp } from "../sched/core.ts";
import { schedSyscalls } from "../sched/sched_syscalls.ts";
import { maybeAcquireCtty, tcgetpgrp, tcsetpgrp, ttyName } from "../fs/tty.ts";
import { isProcPath, procPathTask, readProcPath, resolveProcSelf } from "../fs/proc.ts";

/** RLIMIT_NOFILE soft limit (1024 by default): the highest descriptor + 1. */
const RLIMIT_NOFILE = 1024;

const int = (v: unknown): number | null => (typeof v === "number" && Number.isInteger(v) ? v : null);
const nsArg = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.round(v) : null);

/**
 * EINVAL for a duration that is not a number of nanoseconds, with a warning: a program that passes "3ms" or
 * NaN would otherwise carry on as if it had computed or slept, and nothing would say why its timing is off.
 */
function badDuration(k: Kernel, t: Task, nr: string, v: unknown): number {
  if (typeof v === "number" && v < 0) return -EINVAL; // as nanosleep's negative tv_sec: no more to say
  const shown = typeof v === "string" ? JSON.stringify(v) : String(v);
  k.warn(t, `${nr}(${shown}): EINVAL, a duration is a non-negative number of nanoseconds (ms(3), us(250) and sec(1) make one)`);
  return -EINVAL;
}

/** Puts t to sleep in `state` until `at` (absolute ns) or a wakeup. */
function sleepUntil(k: Kernel, t: Task, state: number, at: number, wchan: string): typeof BLOCK {
  t.state = state;
  t.wchan = wchan;
  if (at !== Infinity) {
    t.timer ??= k.newTimer(Prio.TIMER, (k.sleepTimerFire ??= (tm) => wakeUp(k, tm.owner as Task, TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE)), t);
    k.engine.arm(t.timer, at);
  }
  return BLOCK;
}

/** A timed wait: first call arms it, retries finish it or sleep again. */
function timedWait(k: Kernel, t: Task, ns: number, state: number, wchan: string, interruptible: boolean): SysRet {
  if (t.sysState === 0) {
    t.sysState = 1;
    t.wakeAt = k.now + ns;
    if (ns === 0) return 0;
  }
  if (k.now >= t.wakeAt) {
    t.wchan = "";
    return 0;
  }
  if (interruptible && sigPendingFast(t)) return RESTARTNOHAND;
  return sleepUntil(k, t, state, t.wakeAt, wchan);
}

function doFork(k: Kernel, t: Task, flags: number, fn: unknown, arg: unknown): SysRet {
  if (t.sysState === 0) {
    // copy_process: recalc_sigpending(); a signal for the caller is handled first, then fork is made again
    recalcSigpending(t);
    if (sigPendingFast(t)) return RESTARTNOINTR;
    const co = fn === undefined || fn === null ? t.co!.fork() : t.co!.spawn(fn, arg, (flags & CLONE_VM) !== 0);
    const child = copyProcess(k, t, flags, co);
    if (typeof child === "number") return child;
    if (fn === undefined || fn === null) {
      child.result = 0;
      // A fork inside a signal handler: the child's copy of the stack holds the same signal frames.
      child.sigFrames = t.sigFrames?.map((f) => ({ ...f, blocked: f.blocked.clone() })) ?? null;
    }
    if (!(flags & CLONE_VFORK)) return child.pid;
    t.sysState = child.pid;
  }
  if (t.vforkChild === null) return t.sysState;
  if (fatalSignalPending(t)) return -EINTR;
  return sleepUntil(k, t, TASK_KILLABLE, Infinity, "wait_for_vfork_done");
}

function waitSys(k: Kernel, t: Task, w: WaitReq): SysRet {
  const r = doWaitOnce(k, t, w);
  if (r !== 0 || w.options & WNOHANG) return r;
  if (sigPendingFast(t)) return RESTARTSYS;
  t.state = TASK_INTERRUPTIBLE;
  t.wchan = "do_wait";
  t.waitingOn = t.signal.waitChldexit;
  t.waitingOn.add(t);
  return BLOCK;
}

function waitSelector(pid: number): Pick<WaitReq, "type" | "id"> | null {
  if (pid === -1) return { type: "all", id: 0 };
  if (pid > 0) return { type: "pid", id: pid };
  return null; // 0 and < -1 need the caller's group
}

function sigaction(k: Kernel, t: Task, req: SyscallReq): SysRet {
  const sig = int(req.a);
  if (sig === null || sig < 1 || sig > NSIG) return -EINVAL;
  const act = req.b as { handler?: unknown; flags?: number; mask?: number[] } | undefined;
  if (act === undefined || act === null) return 0; // a query: allowed for every signal, SIGKILL and SIGSTOP included
  if (sig === SIGKILL || sig === SIGSTOP) return -EINVAL; // do_sigaction: act && sig_kernel_only(sig)
  const h = act.handler;
  const handler = h === "dfl" || h === "ign" ? h : typeof h === "function" ? { fn: h } : null;
  if (handler === null) return -EFAULT;
  const mask = act.mask ? userMask(0) : null;
  if (mask && act.mask) for (const s of act.mask) if (s >= 1 && s <= NSIG) mask.add(s);
  if (mask) { mask.del(SIGKILL); mask.del(SIGSTOP); }
  setAction(t, sig, { handler, flags: act.flags ?? 0, mask });
  return 0;
}

function sigprocmask(k: Kernel, t: Task, req: SyscallReq): SysRet {
  const how = int(req.a);
  const sigs = (req.b ?? []) as number[];
  const old = [];
  for (let s = 1; s <= NSIG; s++) if (t.blocked.has(s)) old.push(s);
  if (req.b === undefined || req.b === null) return old;
  const set = userMask(0);
  for (const s of sigs) if (Number.isInteger(s) && s >= 1 && s <= NSIG) set.add(s);
  const next = t.blocked.clone();
  if (how === 0) next.or(set);
  else if (how === 1) next.andNot(set);
  else if (how === 2) next.set(set);
  else return -EINVAL;
  setBlocked(k, t, next); // newly blocked shared signals go to other threads; unblocked ones are now for it
  return old;
}

/**
 * read(fd, count): /dev/null gives end of file; a /proc or debugfs file its
 * text, generated at the first read and then served from the offset (as a
 * seq_file does), "" at the end; ESRCH once the process it was opened for is
 * gone (a new process that got its pid is not it).
 * Reading a terminal is not modelled (EINVAL).
 */
function read(k: Kernel, t: Task, fd: unknown, count: unknown): SysRet {
  const f = int(fd);
  const n = count === undefined ? 65536 : int(count);
  if (f === null || f < 0 || !t.files.fds[f]) return -EBADF;
  if (n === null || n < 0) return -EINVAL;
  const path = t.files.fds[f]!;
  if (path === "/dev/null") return "";
  if (!isProcPath(path)) return -EINVAL;
  const reads = (t.files.reads ??= new Map());
  let st = reads.get(f);
  if (st === undefined) {
    st = { target: null, text: null, pos: 0 };
    reads.set(f, st);
  }
  if (st.text === null) {
    // The process the file was opened for is gone, even if its pid has been handed out again.
    if (st.target !== null && k.task(st.target.pid) !== st.target) return -ESRCH;
    const text = readProcPath(k, t, path);
    if (text === null) return -ESRCH;
    st.text = text;
  }
  const chunk = st.text.slice(st.pos, st.pos + n);
  st.pos += chunk.length;
  return chunk;
}

function write(k: Kernel, t: Task, fd: unknown, text: unknown): SysRet {
  const f = int(fd);
  if (f === null || f < 0 || !t.files.fds[f]) return -EBADF;
  const s = String(text);
  const file = t.files.fds[f]!;
  if (isProcPath(file)) return -EBADF; // opened read-only (O_RDONLY)
  if (file !== "/dev/null") {
    k.output.push({ ts: k.now, pid: t.tgid, fd: f, text: s });
    k.onOutput?.();
  }
  if (k.trace.on && file !== "/dev/null") k.trace.emit({ name: "print", ts: k.now, cpu: t.cpu, pid: t.pid, text: s });
  return s.length;
}

function open(k: Kernel, t: Task, path: unknown, flags: unknown): SysRet {
  if (typeof path !== "string") return -EFAULT;
  let p = resolvePath(t, path);
  const pseudo = isProcPath(p);
  if (pseudo) {
    p = resolveProcSelf(t, p); // the fd keeps the pid the link pointed to at open
    if (readProcPath(k, t, p) === null) return -ENOENT;
  } else if (!p.startsWith("/dev/")) return -ENOENT;
  const fds = t.files.writable();
  let fd = 0;
  while (fd < fds.length && fds[fd]) fd++; // the lowest free descriptor (holes after dup2 are free too)
  if (fd >= RLIMIT_NOFILE) return -EMFILE;
  fds[fd] = p;
  t.files.reads?.delete(fd);
  if (pseudo) (t.files.reads ??= new Map()).set(fd, { target: procPathTask(k, p), text: null, pos: 0 });
  const tty = ttyName(p);
  if (tty !== null) maybeAcquireCtty(k, t, tty, int(flags) ?? 0);
  return fd;
}

const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_SET_NAME = 15, PR_GET_NAME = 16;
const PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37;

function prctl(k: Kernel, t: Task, req: SyscallReq): SysRet {
  const opt = int(req.a);
  switch (opt) {
    case PR_SET_CHILD_SUBREAPER:
      setChildSubreaper(t, !!req.b);
      return 0;
    case PR_GET_CHILD_SUBREAPER:
      return t.signal.isChildSubreaper ? 1 : 0;
    case PR_SET_PDEATHSIG: {
      const s = int(req.b);
      if (s === null || s < 0 || s > NSIG) return -EINVAL;
      t.pdeathSignal = s;
      return 0;
    }
    case PR_GET_PDEATHSIG:
      return t.pdeathSignal;
    case PR_SET_NAME:
      setComm(k, t, String(req.b));
      return 0;
    case PR_GET_NAME:
      return t.comm;
    default:
      return -EINVAL;
  }
}

export const syscalls = {
  compute: (k, t, r) => {
    const ns = nsArg(r.a);
    if (ns === null) return badDuration(k, t, "compute", r.a);
    t.computeLeft = ns;
    t.result = 0;
    t.req = null;
    return BURST;
  },
  io: (k, t, r) => {
    const ns = nsArg(r.a);
    return ns === null ? badDuration(k, t, "io", r.a) : timedWait(k, t, ns, TASK_UNINTERRUPTIBLE, "io_schedule", false);
  },
  nanosleep: (k, t, r) => {
    const ns = nsArg(r.a);
    return ns === null ? badDuration(k, t, "nanosleep", r.a) : timedWait(k, t, ns, TASK_INTERRUPTIBLE, "hrtimer_nanosleep", true);
  },
  pause: (k, t) => (sigPendingFast(t) ? RESTARTNOHAND : sleepUntil(k, t, TASK_INTERRUPTIBLE, Infinity, "sys_pause")),
  sched_yield: (k, t) => sysYield(k, t),
  fork: (k, t) => doFork(k, t, SIGCHLD, null, null),
  vfork: (k, t) => doFork(k, t, CLONE_VFORK | CLONE_VM | SIGCHLD, null, null),
  clone: (k, t, r) => {
    const flags = int(r.a);
    if (flags === null) return -EINVAL;
    if (flags & CLONE_VM && (r.b === undefined || r.b === null) && !(flags & CLONE_VFORK)) return -EINVAL; // a shared stack needs a child function
    return doFork(k, t, flags, r.b, r.c);
  },
  execve: (k, t, r) => {
    const ret = doExecve(k, t, r.a, r.b);
    if (ret < 0) return ret;
    t.req = null;
    t.result = undefined;
    return GONE;
  },
  exit: (k, t, r) => {
    doExit(k, t, W_EXITCODE(int(r.a) ?? 0, 0));
    return GONE;
  },
  exit_group: (k, t, r) => {
    doGroupExit(k, t, W_EXITCODE(int(r.a) ?? 0, 0));
    return GONE;
  },
  wait4: (k, t, r) => {
    const pid = int(r.a);
    const options = int(r.b) ?? 0;
    if (pid === null) return -EINVAL;
    if (pid === -0x80000000) return -ESRCH; // -INT_MIN is not defined (kernel_wait4)
    const bad = checkWaitOptions(options, false);
    if (bad) return bad;
    const sel = waitSelector(pid) ?? { type: "pgid" as const, id: pid === 0 ? t.signal.pgid : -pid };
    return waitSys(k, t, { ...sel, options: options | WEXITED });
  },
  waitid: (k, t, r) => {
    const idtype = int(r.a);
    const id = int(r.b) ?? 0;
    const options = int(r.c) ?? 0;
    const bad = checkWaitOptions(options, true);
    if (bad) return bad;
    if (idtype === P_ALL) return waitSys(k, t, { type: "all", id: 0, options });
    if (idtype === P_PID) return id > 0 ? waitSys(k, t, { type: "pid", id, options }) : -EINVAL;
    if (idtype === P_PGID) return id >= 0 ? waitSys(k, t, { type: "pgid", id: id === 0 ? t.signal.pgid : id, options }) : -EINVAL;
    return -EINVAL;
  },
  getpid: (k, t) => t.tgid,
  gettid: (k, t) => t.pid,
  getppid: (k, t) => t.leader.realParent?.tgid ?? 0,
  getuid: (k, t) => t.uid,
  getpgid: (k, t, r) => getIdOf(k, t, int(r.a) ?? 0, "pgid"),
  getsid: (k, t, r) => getIdOf(k, t, int(r.a) ?? 0, "sid"),
  setsid: (k, t) => setsid(k, t),
  setpgid: (k, t, r) => {
    const pid = int(r.a);
    const pgid = int(r.b);
    return pid === null || pgid === null || pid < 0 ? -EINVAL : setpgid(k, t, pid, pgid);
  },
  kill: (k, t, r) => kill(k, t, int(r.a) ?? NaN, int(r.b) ?? -1),
  tgkill: (k, t, r) => tgkill(k, t, int(r.a) ?? 0, int(r.b) ?? 0, int(r.c) ?? -1),
  rt_sigaction: (k, t, r) => sigaction(k, t, r),
  rt_sigprocmask: (k, t, r) => sigprocmask(k, t, r),
  rt_sigreturn: (k, t) => sigreturn(k, t),
  nice: (k, t, r) => sysNice(k, t, int(r.a) ?? NaN),
  getpriority: (k, t, r) => getPriority(k, t, int(r.a) ?? -1, int(r.b) ?? 0),
  setpriority: (k, t, r) => setPriority(k, t, int(r.a) ?? -1, int(r.b) ?? 0, int(r.c) ?? 0),
  sched_setaffinity: (k, t, r) => setAffinity(k, t, int(r.a) ?? 0, r.b),
  sched_getaffinity: (k, t, r) => getAffinity(k, t, int(r.a) ?? 0),
  prctl: (k, t, r) => prctl(k, t, r),
  read: (k, t, r) => read(k, t, r.a, r.b),
  write: (k, t, r) => write(k, t, r.a, r.b),
  open: (k, t, r) => open(k, t, r.a, r.b),
  tcgetpgrp: (k, t, r) => tcgetpgrp(k, t, int(r.a) ?? -1),
  tcsetpgrp: (k, t, r) => {
    const ret = tcsetpgrp(k, t, int(r.a) ?? -1, int(r.b) ?? 0);
    return ret === "stop" ? RESTARTSYS : ret; // stopped by SIGTTOU: made again once continued
  },
  close: (k, t, r) => {
    const fd = int(r.a);
    if (fd === null || fd < 0 || !t.files.fds[fd]) return -EBADF;
    t.files.writable()[fd] = null;
    t.files.reads?.delete(fd);
    return 0;
  },
  dup2: (k, t, r) => {
    const a = int(r.a);
    const b = int(r.b);
    if (a === null || b === null || b < 0 || b >= RLIMIT_NOFILE || !t.files.fds[a]) return -EBADF;
    if (a === b) return b; // dup2(fd, fd) does nothing
    t.files.writable()[b] = t.files.fds[a]!;
    t.files.reads?.delete(b); // simplified: the copy does not share a's read offset
    return b;
  },
  chdir: (k, t, r) => {
    if (typeof r.a !== "string" || r.a === "") return -ENOENT;
    t.fs.cwd = resolvePath(t, r.a);
    return 0;
  },
  getcwd: (k, t) => t.fs.cwd,
  umask: (k, t, r) => {
    const old = t.fs.umask;
    t.fs.umask = (int(r.a) ?? 0) & 0o777;
    return old;
  },
  clock_gettime: (k) => k.now,
  // getrandom(2) stands for the kernel's entropy: here the engine's seeded generator, so a run
  // with the same seed draws the same numbers. Returns one unsigned 32-bit number.
  getrandom: (k) => k.engine.rng.u32(),
  // Wrapped so that the table does not read sched_syscalls.ts's exports while modules are still loading.
  sched_setscheduler: (k, t, r) => schedCall("sched_setscheduler", k, t, r),
  sched_getscheduler: (k, t, r) => schedCall("sched_getscheduler", k, t, r),
  sched_setparam: (k, t, r) => schedCall("sched_setparam", k, t, r),
  sched_getparam: (k, t, r) => schedCall("sched_getparam", k, t, r),
  sched_setattr: (k, t, r) => schedCall("sched_setattr", k, t, r),
  sched_getattr: (k, t, r) => schedCall("sched_getattr", k, t, r),
  sched_get_priority_max: (k, t, r) => schedCall("sched_get_priority_max", k, t, r),
  sched_get_priority_min: (k, t, r) => schedCall("sched_get_priority_min", k, t, r),
  sched_rr_get_interval: (k, t, r) => schedCall("sched_rr_get_interval", k, t, r),
} satisfies Record<string, (k: Kernel, t: Task, r: SyscallReq) => SysRet>;

function schedCall(nr: string, k: Kernel, t: Task, r: SyscallReq): SysRet {
  return (schedSyscalls as unknown as Record<string, (k: Kernel, t: Task, r: SyscallReq) => SysRet>)[nr]!(k, t, r);
}

export type SyscallName = keyof typeof syscalls;
export { CLONE_THREAD };

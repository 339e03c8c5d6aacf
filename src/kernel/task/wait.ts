/**
 * wait4 / waitpid / waitid (kernel/exit.c do_wait).
 *
 * Selectors: pid > 0 that child; 0 any child in the caller's process group;
 * -1 any child; < -1 any child in group -pid. Children of every thread of the
 * caller's process count (unless __WNOTHREAD). A "clone" child (exit signal not
 * SIGCHLD) is seen only with __WCLONE or __WALL. ECHILD if nothing eligible
 * exists; with WNOHANG 0 if nothing is ready; else the caller sleeps (S) until
 * a child changes state, and a caught signal interrupts it.
 */
import type { Kernel } from "../kernel.ts";
import { ECHILD, EINVAL } from "../errno.ts";
import { type Task, EXIT_ZOMBIE, SIGNAL_STOP_CONTINUED, SIGNAL_GROUP_EXIT, EXIT_DEAD } from "./task.ts";
import { SIGCHLD, SIGCONT } from "../signal/signals.ts";
import { releaseTask, W_CONTINUED, W_STOPCODE } from "./exit.ts";
import { CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED } from "../signal/signal.ts";

export const WNOHANG = 0x1, WUNTRACED = 0x2, WSTOPPED = 0x2, WEXITED = 0x4, WCONTINUED = 0x8, WNOWAIT = 0x01000000;
export const __WNOTHREAD = 0x20000000, __WALL = 0x40000000, __WCLONE = 0x80000000;
export const P_ALL = 0, P_PID = 1, P_PGID = 2;

export type WaitType = "pid" | "pgid" | "all";

export interface WaitReq {
  type: WaitType;
  id: number;
  options: number;
}

/**
 * What a successful wait reports: wait4's (pid, status) and waitid's siginfo.
 * A record of its own class, read-only to programs: the libc wrappers map it
 * to fresh objects, so fork replay can hand the same record to a child
 * without copying it (user/coroutine.ts copies only plain objects and arrays).
 */
export class WaitResult {
  constructor(
    readonly pid: number,
    readonly status: number,
    /** siginfo for waitid: CLD_* code and si_status. */
    readonly code: number,
    readonly siStatus: number,
    /** Child's user and system CPU time (ns), as struct rusage reports. */
    readonly utime: number,
    readonly stime: number,
  ) {
    Object.freeze(this); // shared by fork replay: a program that writes to it gets a TypeError, not a silent difference
  }
}

/** Option checks: wait4 rejects unknown bits; waitid needs one of WEXITED|WSTOPPED|WCONTINUED. */
export function checkWaitOptions(options: number, waitid: boolean): number {
  const common = WNOHANG | __WNOTHREAD | __WCLONE | __WALL;
  if (waitid) {
    if ((options >>> 0) & ~((common | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT) >>> 0)) return -EINVAL;
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) return -EINVAL;
  } else if ((options >>> 0) & ~((common | WUNTRACED | WCONTINUED) >>> 0)) return -EINVAL;
  return 0;
}

function eligible(k: Kernel, w: Task, c: Task, r: WaitReq): boolean {
  if (r.type === "pid" && c.tgid !== r.id) return false;
  if (r.type === "pgid" && c.signal.pgid !== r.id) return false;
  if (r.options & __WALL) return true;
  const clone = c.exitSignal !== SIGCHLD;
  return clone === ((r.options & __WCLONE) !== 0);
}

/**
 * One pass of do_wait: a report, 0 for "eligible children exist but none is
 * ready", or -ECHILD.
 */
export function doWaitOnce(k: Kernel, t: Task, r: WaitReq): WaitResult | number {
  let any = false;
  // __do_wait: the caller's own children first, then each other thread's, in list order from it
  const all = t.signal.threads;
  const from = all.indexOf(t);
  const threads = r.options & __WNOTHREAD || all.length === 1 ? [t] : from < 0 ? all : [...all.slice(from), ...all.slice(0, from)];
  for (const th of threads) {
    for (const c of th.children) {
      if (!eligible(k, t, c, r)) continue;
      // wait_consider_task clears notask_error for a live child, or a zombie leader whose threads live
      // on; a zombie that wait_task_zombie passes over (no WEXITED) and a dead child leave it: ECHILD.
      if (c.exitState === 0 || (c.exitState === EXIT_ZOMBIE && c.signal.threads.length > 1)) any = true;
      const rep = consider(k, t, c, r.options);
      if (rep) return rep;
    }
  }
  return any ? 0 : -ECHILD;
}

function consider(k: Kernel, w: Task, c: Task, options: number): WaitResult | null {
  const sg = c.signal;
  if (c.exitState === EXIT_ZOMBIE) {
    // A zombie leader with live threads is not reaped yet (delay_group_leader), but its group's
    // stops and continues are still reported: wait_consider_task falls through to them.
    if (sg.threads.length <= 1) return options & WEXITED ? waitTaskZombie(k, w, c, options) : null;
  } else if (c.exitState === EXIT_DEAD) return null;
  if (options & WSTOPPED && sg.stopReport !== 0) {
    const sig = sg.stopReport;
    if (!(options & WNOWAIT)) sg.stopReport = 0;
    return report(c, W_STOPCODE(sig), CLD_STOPPED, sig);
  }
  if (options & WCONTINUED && sg.flags & SIGNAL_STOP_CONTINUED) {
    if (!(options & WNOWAIT)) sg.flags &= ~SIGNAL_STOP_CONTINUED;
    return report(c, W_CONTINUED, CLD_CONTINUED, SIGCONT);
  }
  return null;
}

function report(c: Task, status: number, code: number, siStatus: number): WaitResult {
  const sg = c.signal;
  return new WaitResult(c.tgid, status, code, siStatus, sg.groupUtime() + sg.cutime, sg.groupStime() + sg.cstime);
}

/** wait_task_zombie: report the exit and, unless WNOWAIT, reap (release the pid). */
function waitTaskZombie(k: Kernel, w: Task, c: Task, options: number): WaitResult {
  const st = c.signal.flags & SIGNAL_GROUP_EXIT ? c.signal.groupExitCode : c.exitCode;
  const code = st & 0x80 ? CLD_DUMPED : st & 0x7f ? CLD_KILLED : CLD_EXITED;
  const rep = report(c, st, code, code === CLD_EXITED ? (st >> 8) & 0xff : st & 0x7f);
  if (options & WNOWAIT) return rep;
  const psig = w.signal;
  psig.cutime += c.signal.groupUtime() + c.signal.cutime;
  psig.cstime += c.signal.groupStime() + c.signal.cstime;
  if (k.trace.on) k.trace.emit({ name: "sched_process_wait", ts: k.now, cpu: w.cpu, comm: w.comm, pid: w.pid, wait_pid: c.tgid });
  releaseTask(k, c);
  return rep;
}

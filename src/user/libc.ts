/**
 * libc-style constants and wait-status macros (glibc bits/waitstatus.h),
 * re-exported for programs so they read like C.
 */
export { WNOHANG, WUNTRACED, WSTOPPED, WEXITED, WCONTINUED, WNOWAIT, __WALL, __WCLONE, __WNOTHREAD, P_ALL, P_PID, P_PGID } from "../kernel/task/wait.ts";
export * from "../kernel/signal/signals.ts";
export { SA_NOCLDSTOP, SA_NOCLDWAIT, SA_SIGINFO, SA_RESTART, SA_NODEFER, SA_RESETHAND, SI_USER, SI_KERNEL, SI_TKILL, CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED, CLD_CONTINUED } from "../kernel/signal/signal.ts";
export type { SigInfo } from "../kernel/signal/signal.ts";
export * from "../kernel/task/fork.ts";
export { PRIO_PROCESS, PRIO_PGRP, PRIO_USER } from "../kernel/sched/prio.ts";
export { SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE } from "../kernel/task/task.ts";
export {
  SCHED_RESET_ON_FORK, SCHED_FLAG_RESET_ON_FORK, SCHED_FLAG_RECLAIM, SCHED_FLAG_DL_OVERRUN, SCHED_FLAG_KEEP_POLICY, SCHED_FLAG_KEEP_PARAMS,
} from "../kernel/sched/sched_syscalls.ts";
export * from "../kernel/errno.ts";

export const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_SET_NAME = 15, PR_GET_NAME = 16;
export const PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37;
export const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;

export const WIFEXITED = (s: number): boolean => (s & 0x7f) === 0;
export const WEXITSTATUS = (s: number): number => (s >> 8) & 0xff;
export const WIFSIGNALED = (s: number): boolean => ((((s & 0x7f) + 1) << 24) >> 25) > 0;
export const WTERMSIG = (s: number): number => s & 0x7f;
export const WCOREDUMP = (s: number): boolean => (s & 0x80) !== 0;
export const WIFSTOPPED = (s: number): boolean => (s & 0xff) === 0x7f;
export const WSTOPSIG = (s: number): number => (s >> 8) & 0xff;
export const WIFCONTINUED = (s: number): boolean => s === 0xffff;

/** Thread flags glibc's pthread_create passes to clone. */
export const CLONE_THREAD_FLAGS = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x80000 | 0x100000 | 0x200000;

/** "exited 3", "killed by SIGKILL", "stopped by SIGTSTP", "continued": a status word in words. */
export function describeStatus(s: number): string {
  if (WIFEXITED(s)) return `exited ${WEXITSTATUS(s)}`;
  if (WIFSIGNALED(s)) return `killed by ${signalNameOf(WTERMSIG(s))}${WCOREDUMP(s) ? " (core dumped)" : ""}`;
  if (WIFSTOPPED(s)) return `stopped by ${signalNameOf(WSTOPSIG(s))}`;
  if (WIFCONTINUED(s)) return "continued";
  return `status 0x${s.toString(16)}`;
}

import { signalName as signalNameOf } from "../kernel/signal/signals.ts";

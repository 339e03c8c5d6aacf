/**
 * Controlling terminals (drivers/tty/tty_jobctrl.c), names only: no line
 * discipline. A session leader without a controlling terminal that opens a
 * terminal device acquires it (unless O_NOCTTY, or another session has it);
 * its process group becomes the terminal's foreground group. tcsetpgrp moves
 * the foreground to another group of the same session. ps shows the terminal
 * (TTY) and marks members of the foreground group with "+".
 */
import type { Kernel } from "../kernel.ts";
import type { Task } from "../task/task.ts";
import { ENOTTY, EPERM, EINVAL, EBADF, ESRCH } from "../errno.ts";
import { getAction, isOrphanedPgrp, kernelInfo, recalcSigpending, sendSignal } from "../signal/signal.ts";
import { SIGTTOU } from "../signal/signals.ts";
import { pgrpMembers } from "../task/group.ts";

export const O_NOCTTY = 0o400;

/** "/dev/pts/3" -> "pts/3", "/dev/tty2" -> "tty2", else null. */
export function ttyName(path: string): string | null {
  const m = /^\/dev\/(pts\/\d+|tty\d+|console)$/.exec(path);
  return m ? m[1]! : null;
}

/** tty_open -> proc_set_tty: a session leader without a ctty acquires this terminal. */
export function maybeAcquireCtty(k: Kernel, t: Task, tty: string, flags: number): void {
  const sg = t.signal;
  if (flags & O_NOCTTY || sg.sid !== t.tgid || sg.tty !== null || tty === "console") return;
  for (const [other] of k.ttyPgrp) if (other === tty) return; // another session's terminal
  for (const s of k.sessions.get(sg.sid) ?? []) if (s === sg) s.tty = tty;
  k.ttyPgrp.set(tty, sg.pgid);
}

/** The controlling terminal behind fd, or an errno. */
function cttyOf(t: Task, fd: number): string | number {
  const path = t.files.fds[fd];
  if (!path) return -EBADF;
  const tty = ttyName(path);
  if (tty === null || tty !== t.signal.tty) return -ENOTTY;
  return tty;
}

/** tcgetpgrp(fd): the foreground process group of the caller's terminal. */
export function tcgetpgrp(k: Kernel, t: Task, fd: number): number {
  const tty = cttyOf(t, fd);
  if (typeof tty === "number") return tty;
  return k.ttyPgrp.get(tty) ?? -ENOTTY;
}

/**
 * tcsetpgrp(fd, pgrp) (tiocspgrp). From a background group of the terminal's session it is
 * tty_check_change's business first: SIGTTOU to the caller's group, and the call is made again once
 * the group is continued ("stop"); not if SIGTTOU is ignored or blocked (it goes ahead), nor from an
 * orphaned group (ENOTTY, from EIO). Then pgrp must exist (ESRCH; 0 is none, a negative one EINVAL)
 * and belong to the caller's session (EPERM).
 */
export function tcsetpgrp(k: Kernel, t: Task, fd: number, pgrp: number): number | "stop" {
  const tty = cttyOf(t, fd);
  if (typeof tty === "number") return tty;
  const fg = k.ttyPgrp.get(tty);
  const mine = t.signal.pgid;
  if (fg !== undefined && fg !== mine) {
    const a = getAction(t, SIGTTOU);
    const ignored = t.blocked.has(SIGTTOU) || a.handler === "ign";
    if (!ignored) {
      if (isOrphanedPgrp(k, mine)) return -ENOTTY;
      for (const p of pgrpMembers(k, mine)) sendSignal(k, p, SIGTTOU, true, kernelInfo(SIGTTOU));
      recalcSigpending(t); // set_thread_flag(TIF_SIGPENDING): the caller itself takes it, whichever thread was picked
      return "stop";
    }
  }
  if (pgrp < 0) return -EINVAL;
  // session_of_pgrp: the group's session, else that of the task with this pid (a pid that leads no group
  // is accepted if it is in the caller's session, as Linux does); ESRCH if the number is nobody's.
  const grp = k.pgrps.get(pgrp);
  const sid = grp !== undefined && grp.size > 0 ? [...grp][0]!.sid : k.task(pgrp)?.signal.sid;
  if (sid === undefined) return -ESRCH;
  if (sid !== t.signal.sid) return -EPERM;
  k.ttyPgrp.set(tty, pgrp);
  return 0;
}

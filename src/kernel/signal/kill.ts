/**
 * kill(2) and tgkill(2) targets and permissions (kernel/signal.c kill_something_info).
 * pid > 0: that process; 0: the caller's process group; -1: every process the
 * caller may signal except init and itself; < -1: process group -pid.
 * Signal 0 only checks existence and permission.
 */
import type { Kernel } from "../kernel.ts";
import { EINVAL, EPERM, ESRCH } from "../errno.ts";
import type { Task } from "../task/task.ts";
import { NSIG, SIGCONT } from "./signals.ts";
import { sendSignal, SigInfo, SI_TKILL, SI_USER } from "./signal.ts";
import { pgrpMembers } from "../task/group.ts";

/** check_kill_permission: root, the same user, or SIGCONT within the session. */
function mayKill(sender: Task, target: Task, sig: number): boolean {
  if (sender.uid === 0 || sender.uid === target.uid) return true;
  return sig === SIGCONT && sender.signal.sid === target.signal.sid;
}

function sendTo(sender: Task, target: Task, sig: number, k: Kernel): number {
  if (!mayKill(sender, target, sig)) return -EPERM;
  if (sig !== 0) sendSignal(k, target, sig, true, new SigInfo(sig, SI_USER, sender.tgid, sender.uid));
  return 0;
}

export function kill(k: Kernel, t: Task, pid: number, sig: number): number {
  if (!Number.isInteger(sig) || sig < 0 || sig > NSIG) return -EINVAL;
  if (!Number.isInteger(pid)) return -EINVAL;
  if (pid > 0) {
    // kill_pid_info: to the process, but offered first to the thread the pid names (complete_signal)
    const p = k.task(pid);
    return p ? sendTo(t, p, sig, k) : -ESRCH;
  }
  if (pid === -1) {
    // kill_something_info: EPERM from some (or all) targets is not an error; ESRCH only if there were none.
    let found = 0;
    let err = 0;
    for (const p of [...k.tasks.values()]) {
      if (!p.isLeader() || p === k.init || p.tgid === t.tgid) continue;
      found++;
      const r = sendTo(t, p, sig, k);
      if (r !== -EPERM) err = r;
    }
    return found ? err : -ESRCH;
  }
  const pgid = pid === 0 ? t.signal.pgid : -pid;
  const members = pgrpMembers(k, pgid);
  if (members.length === 0) return -ESRCH;
  let ret = -EPERM;
  for (const p of members) if (sendTo(t, p, sig, k) === 0) ret = 0;
  return ret;
}

/** tgkill(tgid, tid, sig): a signal to one thread. */
export function tgkill(k: Kernel, t: Task, tgid: number, tid: number, sig: number): number {
  if (!Number.isInteger(sig) || sig < 0 || sig > NSIG || tid <= 0 || tgid <= 0) return -EINVAL;
  const p = k.task(tid);
  if (!p || p.tgid !== tgid) return -ESRCH;
  if (!mayKill(t, p, sig)) return -EPERM;
  // do_send_specific: a zombie is still found until reaped; the signal to it is lost, and that is 0.
  if (sig !== 0 && p.exitState === 0) sendSignal(k, p, sig, false, new SigInfo(sig, SI_TKILL, t.tgid, t.uid));
  return 0;
}

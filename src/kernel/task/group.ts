/**
 * Process groups and sessions (kernel/sys.c setpgid, setsid; man setpgid(2), setsid(2)).
 * A process group id and a session id are pids: while a group or session lives
 * its number stays allocated (the struct pid is referenced), so it is not reused.
 */
import type { Kernel } from "../kernel.ts";
import { EACCES, EINVAL, EPERM, ESRCH } from "../errno.ts";
import { PF_FORKNOEXEC, type SignalStruct, type Task } from "./task.ts";

function join(k: Kernel, map: Map<number, Set<SignalStruct>>, id: number, sg: SignalStruct): void {
  let set = map.get(id);
  if (!set) {
    set = new Set();
    map.set(id, set);
    k.pids.get(id);
  }
  set.add(sg);
}

function leave(k: Kernel, map: Map<number, Set<SignalStruct>>, id: number, sg: SignalStruct): void {
  const set = map.get(id);
  if (!set || !set.delete(sg)) return;
  if (set.size === 0) {
    map.delete(id);
    k.pids.put(id);
  }
}

/** Adds a new process to its (inherited) process group and session. */
export function attachPgrp(k: Kernel, sg: SignalStruct): void {
  join(k, k.pgrps, sg.pgid, sg);
  join(k, k.sessions, sg.sid, sg);
}

/** Removes a released process from its group and session. */
export function detachPgrp(k: Kernel, sg: SignalStruct): void {
  leave(k, k.pgrps, sg.pgid, sg);
  leave(k, k.sessions, sg.sid, sg);
}

function changePgrp(k: Kernel, sg: SignalStruct, pgid: number): void {
  if (sg.pgid === pgid) return;
  join(k, k.pgrps, pgid, sg);
  leave(k, k.pgrps, sg.pgid, sg);
  sg.pgid = pgid;
}

/** setsid(): EPERM if a process group named after the caller exists. */
export function setsid(k: Kernel, t: Task): number {
  const sg = t.signal;
  const pid = t.tgid;
  if (k.pgrps.has(pid)) return -EPERM;
  join(k, k.sessions, pid, sg);
  leave(k, k.sessions, sg.sid, sg);
  sg.sid = pid;
  changePgrp(k, sg, pid);
  sg.tty = null;
  return pid;
}

/**
 * setpgid(pid, pgid): the target is the caller or a child of the caller (ESRCH);
 * a child that has exec'd gives EACCES; a session leader, a child in another
 * session, or a group in another session gives EPERM; pgid < 0 gives EINVAL.
 */
export function setpgid(k: Kernel, t: Task, pid: number, pgid: number): number {
  if (pgid < 0) return -EINVAL;
  const me = t.leader;
  const p = pid === 0 ? me : k.task(pid);
  if (!p) return -ESRCH;
  if (!p.isLeader()) return -EINVAL; // a thread id that is not a process
  const target = p;
  if (pgid === 0) pgid = target.tgid;
  if (target !== me) {
    if (target.realParent?.tgid !== me.tgid) return -ESRCH;
    if (target.signal.sid !== me.signal.sid) return -EPERM;
    if (!(target.flags & PF_FORKNOEXEC)) return -EACCES;
  }
  if (target.signal.sid === target.tgid) return -EPERM; // session leader
  if (pgid !== target.tgid) {
    const grp = k.pgrps.get(pgid);
    if (!grp) return -EPERM;
    const any = grp.values().next().value as SignalStruct;
    if (any.sid !== me.signal.sid) return -EPERM;
  }
  changePgrp(k, target.signal, pgid);
  return 0;
}

/**
 * getpgid(pid) / getsid(pid): pid 0 is the caller; any thread id names its process;
 * a zombie not yet reaped still has its group; ESRCH if no such task.
 */
export function getIdOf(k: Kernel, t: Task, pid: number, which: "pgid" | "sid"): number {
  const p = pid === 0 ? t : k.task(pid);
  if (!p) return -ESRCH;
  return which === "pgid" ? p.signal.pgid : p.signal.sid;
}

/** Processes in process group pgid, by leader. */
export function pgrpMembers(k: Kernel, pgid: number): Task[] {
  const set = k.pgrps.get(pgid);
  return set ? [...set].map((sg) => sg.leader) : [];
}

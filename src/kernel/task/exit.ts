/**
 * Process termination (kernel/exit.c): do_exit, exit_notify, reparenting, release.
 *
 * A task that exits becomes a zombie (Z) holding its pid until its parent
 * reaps it with wait(); its children go to the nearest live thread of its own
 * group, else the nearest ancestor that is a child subreaper, else init. If
 * the parent ignores SIGCHLD (SIG_IGN) or set SA_NOCLDWAIT, the child is
 * reaped at once. A thread-group leader stays a zombie until its last thread
 * is gone; non-leader threads are always reaped at once.
 */
import type { Kernel } from "../kernel.ts";
import { KernelPanic } from "../errno.ts";
import {
  type Task, EXIT_DEAD, EXIT_ZOMBIE, PF_EXITING, PF_POSTCOREDUMP, PF_NOFREEZE, TASK_DEAD, TASK_UNINTERRUPTIBLE, TASK_KILLABLE,
  SIGNAL_GROUP_EXIT, SIGNAL_STOP_STOPPED, SIGNAL_STOP_CONTINUED, SIGNAL_CLD_MASK,
} from "./task.ts";
import { SIGCHLD, SIGHUP, SIGCONT, SIGKILL } from "../signal/signals.ts";
import {
  getAction, sendSignal, SigInfo, kernelInfo, SI_USER, signalWakeUp, wakeParent, SA_NOCLDWAIT, isOrphanedPgrp, CLD_EXITED, CLD_KILLED, CLD_DUMPED, retargetSharedPending,
} from "../signal/signal.ts";
import { detachPgrp, pgrpMembers } from "./group.ts";
import { wakeUp, taskRq, deactivateTask, leaveLoadD } from "../sched/core.ts";

/** Wait-status encodings (glibc bits/waitstatus.h). */
export const W_EXITCODE = (ret: number, sig: number): number => ((ret & 0xff) << 8) | sig;
export const W_STOPCODE = (sig: number): number => (sig << 8) | 0x7f;
export const W_CONTINUED = 0xffff;
export const WCOREFLAG = 0x80;

/**
 * do_group_exit: ends every thread of t's process with `code` (a wait status).
 * Does not return to user code: t is dead when this returns.
 */
/** A released task no longer counts against its user's RLIMIT_NPROC. */
export function uncountUid(k: Kernel, uid: number): void {
  const n = (k.tasksOfUid.get(uid) ?? 0) - 1;
  if (n > 0) k.tasksOfUid.set(uid, n);
  else k.tasksOfUid.delete(uid);
}

export function doGroupExit(k: Kernel, t: Task, code: number): void {
  const sg = t.signal;
  if (sg.flags & SIGNAL_GROUP_EXIT) code = sg.groupExitCode;
  else if (sg.threads.length > 1) {
    sg.flags = (sg.flags & ~(SIGNAL_STOP_STOPPED | SIGNAL_STOP_CONTINUED | SIGNAL_CLD_MASK)) | SIGNAL_GROUP_EXIT; // sig->flags = SIGNAL_GROUP_EXIT
    sg.groupExitCode = code;
    sg.groupStopCount = 0;
    for (const x of sg.threads) {
      if (x === t || x.flags & PF_EXITING) continue;
      x.jobctl = 0;
      x.pending.add(SIGKILL);
      signalWakeUp(k, x, true);
    }
  }
  doExit(k, t, code);
}

/** do_exit: t stops running for good. Caller is t's own context (t is running or being killed). */
export function doExit(k: Kernel, t: Task, code: number): void {
  if (t.flags & PF_EXITING) throw new KernelPanic(`pid ${t.pid} exits twice`);
  if (t === k.init) throw new KernelPanic(`Attempted to kill init! exitcode=0x${code.toString(16).padStart(8, "0")}`);
  t.flags |= PF_POSTCOREDUMP | PF_EXITING; // coredump_task_exit, then exit_signals
  // exit_signals: the process's signals it would have taken go to threads that stay
  if (t.tifSigpending && !(t.signal.flags & SIGNAL_GROUP_EXIT)) retargetSharedPending(k, t, ~t.blocked.lo >>> 0, ~t.blocked.hi >>> 0);
  k.lastExitAt = k.now;
  leaveLoadD(k, t); // killed in D (exec's de_thread): no longer counted as uninterruptible
  if (t.timer?.armed) k.engine.cancel(t.timer);
  if (t.waitingOn) {
    t.waitingOn.delete(t);
    t.waitingOn = null;
  }
  const sg = t.signal;
  const groupDead = --sg.live === 0;
  t.exitCode = code;
  exitMm(k, t);
  if (--t.files.users === 0) t.files.fds = [];
  t.fs.users--;
  if (--t.sighand.refs < 0) throw new KernelPanic("sighand refcount");
  if (groupDead && sg.sid === t.tgid && sg.tty !== null) disassociateCtty(k, t);
  if (k.trace.on) k.trace.emit({ name: "sched_process_exit", ts: k.now, cpu: t.cpu, comm: t.comm, pid: t.pid, prio: t.prio, code });
  exitNotify(k, t, groupDead);
  t.state = TASK_DEAD;
  t.flags |= PF_NOFREEZE; // do_task_dead
  t.co = null;
  t.req = null;
  t.computeLeft = 0;
  t.sigFrames = null;
  const rq = taskRq(k, t);
  if (rq.curr === t) rq.resched();
  else if (t.onRq) deactivateTask(k, rq, t, 0); // killed while queued: never runs again
  else {
    const cls = k.classes[t.sclass]!;
    if (cls.delayed !== undefined && cls.delayed(t)) cls.finishDelayed!(rq, t); // killed asleep while its class still held it
  }
}

/** exit_mm: drop the address space; a vfork parent waiting on us wakes (vfork_done). */
function exitMm(k: Kernel, t: Task): void {
  completeVfork(k, t);
  if (t.mm) t.mm.users--;
  t.mm = null;
}

/** mm_release's complete_vfork_done: wake the parent blocked in vfork(). */
export function completeVfork(k: Kernel, child: Task): void {
  const parent = child.vforkParent;
  if (!parent) return;
  child.vforkParent = null;
  parent.vforkChild = null;
  wakeUp(k, parent, TASK_UNINTERRUPTIBLE | TASK_KILLABLE);
}

/** A session leader with a controlling tty exits: its foreground group gets SIGHUP (disassociate_ctty). */
function disassociateCtty(k: Kernel, t: Task): void {
  const tty = t.signal.tty!;
  const fg = k.ttyPgrp.get(tty);
  for (const sg of k.sessions.get(t.signal.sid) ?? []) sg.tty = null;
  k.ttyPgrp.delete(tty);
  if (fg === undefined) return;
  // disassociate_ctty(1): the foreground group gets SIGHUP (a pty's directly; another terminal's through
  // the session hangup, tty_signal_session_leader); SIGCONT only when the terminal is given up by choice.
  for (const p of pgrpMembers(k, fg)) sendSignal(k, p, SIGHUP, true, kernelInfo(SIGHUP));
}

/**
 * find_new_reaper: a live thread of the same group, else the nearest ancestor
 * that is a child subreaper with a live thread, else init.
 */
function findNewReaper(k: Kernel, t: Task): Task {
  const sg = t.signal;
  for (const x of sg.threads) if (!(x.flags & PF_EXITING)) return x;
  if (sg.hasChildSubreaper) {
    for (let a = t.leader.realParent; a && a !== k.init; a = a.leader.realParent) {
      if (!a.signal.isChildSubreaper) continue;
      const live = a.signal.threads.find((x) => !(x.flags & PF_EXITING));
      if (live) return live;
    }
  }
  return k.init;
}

/**
 * prctl(PR_SET_CHILD_SUBREAPER): mark t's process; on setting, every existing
 * descendant learns it has a subreaper above it (propagate_has_child_subreaper),
 * as later forks inherit it.
 */
export function setChildSubreaper(t: Task, on: boolean): void {
  t.signal.isChildSubreaper = on;
  if (!on) return;
  const stack = [t.signal];
  while (stack.length > 0) {
    for (const th of stack.pop()!.threads) {
      for (const c of th.children) {
        if (c.signal.hasChildSubreaper) continue; // its subtree already knows
        c.signal.hasChildSubreaper = true;
        stack.push(c.signal);
      }
    }
  }
}

/** exit_notify: reparent children, handle orphaned groups, tell the parent. */
function exitNotify(k: Kernel, t: Task, groupDead: boolean): void {
  forgetOriginalParent(k, t);
  if (groupDead) killOrphanedPgrp(k, t.leader, null);
  let autoreap: boolean;
  if (t.isLeader()) {
    autoreap = t.signal.threads.length === 1 ? doNotifyParent(k, t, t.exitSignal) : false;
  } else {
    autoreap = true; // threads never notify and are always reaped
  }
  if (autoreap) {
    t.exitState = EXIT_DEAD;
    releaseTask(k, t);
  } else {
    t.exitState = EXIT_ZOMBIE;
  }
}

/** Gives t's children to their new reaper. */
function forgetOriginalParent(k: Kernel, t: Task): void {
  if (t.children.size === 0) return;
  const reaper = findNewReaper(k, t);
  for (const c of [...t.children]) {
    t.removeChild(c);
    reaper.addChild(c); // children are per thread, as in Linux (list_splice to reaper->children)
    for (const th of c.signal.threads) th.realParent = th.parent = reaper;
    if (k.trace.on)
      k.trace.emit({ name: "sched_process_reparent", ts: k.now, cpu: k.cpuNow(t.cpu), comm: c.comm, pid: c.pid, old_ppid: t.tgid, new_ppid: reaper.tgid });
    // Each thread's own PR_SET_PDEATHSIG, to its process (SEND_SIG_NOINFO: SI_USER, from the exiting parent).
    for (const th of c.signal.threads)
      if (th.pdeathSignal) sendSignal(k, th, th.pdeathSignal, true, new SigInfo(th.pdeathSignal, SI_USER, t.tgid, t.uid));
    if (reaper.signal === t.signal) continue; // a threaded reparent: nobody needs to hear of it
    c.exitSignal = SIGCHLD;
    if (c.exitState === EXIT_ZOMBIE && c.signal.threads.length === 1) {
      // Already a zombie: its new parent hears of it now (and may reap it at once).
      if (doNotifyParent(k, c, c.exitSignal)) {
        c.exitState = EXIT_DEAD;
        releaseTask(k, c);
      }
    }
    killOrphanedPgrp(k, c, t);
  }
}

/**
 * kill_orphaned_pgrp: if a process group becomes orphaned by this exit and has
 * stopped members, send it SIGHUP then SIGCONT (POSIX 3.2.2.2).
 */
function killOrphanedPgrp(k: Kernel, tsk: Task, parent: Task | null): void {
  let ignored: Task | null = tsk;
  if (parent === null) parent = tsk.realParent;
  else ignored = null;
  if (!parent) return;
  const pgid = tsk.signal.pgid;
  if (parent.signal.pgid === pgid || parent.signal.sid !== tsk.signal.sid) return;
  if (!isOrphanedPgrp(k, pgid, ignored)) return;
  const members = pgrpMembers(k, pgid);
  if (!members.some((m) => m.signal.flags & SIGNAL_STOP_STOPPED)) return; // has_stopped_jobs: a stop still in progress is not one
  for (const m of members) {
    sendSignal(k, m, SIGHUP, true, kernelInfo(SIGHUP));
    sendSignal(k, m, SIGCONT, true, kernelInfo(SIGCONT));
  }
}

/**
 * do_notify_parent: signal the parent that t's process is gone. Returns true if
 * t should be reaped at once (parent ignores SIGCHLD or has SA_NOCLDWAIT).
 */
export function doNotifyParent(k: Kernel, t: Task, sig: number): boolean {
  const parent = t.realParent!;
  const code = t.exitCode;
  const why = code & 0x80 ? CLD_DUMPED : code & 0x7f ? CLD_KILLED : CLD_EXITED;
  let autoreap = false;
  // A custom exit signal only reaches the parent image that asked for it: after the parent execs, SIGCHLD.
  if (sig !== SIGCHLD && sig > 0 && t.parentExecId !== parent.selfExecId) sig = SIGCHLD;
  if (sig === SIGCHLD) {
    const a = getAction(parent, SIGCHLD);
    if (a.handler === "ign" || a.flags & SA_NOCLDWAIT) {
      autoreap = true;
      if (a.handler === "ign") sig = 0; // SIG_IGN: no signal; SA_NOCLDWAIT: signal still sent
    }
  }
  // si_pid and si_uid are the child's; si_status its exit code, or the signal that killed it.
  if (sig > 0 && sig <= 64) sendSignal(k, parent, sig, true, new SigInfo(sig, why, t.tgid, t.uid, why === CLD_EXITED ? (code >> 8) & 0xff : code & 0x7f));
  wakeParent(k, parent);
  return autoreap;
}

/** release_task: the pid is freed and the task is gone for good. */
/**
 * __exit_signal: t leaves its thread group for good. The group keeps its CPU time, signal->curr_target
 * moves on to the next thread, and t stops counting against threads-max and its user's RLIMIT_NPROC
 * (a zombie still counted). Its pid is the caller's business (de_thread hands it over).
 */
export function exitSignal(k: Kernel, t: Task): void {
  const sg = t.signal;
  const i = sg.threads.indexOf(t);
  if (sg.currTarget === t) sg.currTarget = sg.threads.length > 1 ? sg.threads[(i + 1) % sg.threads.length]! : null;
  if (i >= 0) sg.threads.splice(i, 1);
  sg.deadUtime += t.utime;
  sg.deadStime += t.stime;
  k.nrProcesses--;
  uncountUid(k, t.uid);
  k.nrThreads--;
}

export function releaseTask(k: Kernel, t: Task): void {
  const sg = t.signal;
  exitSignal(k, t);
  k.tasks.delete(t.pid);
  k.pids.put(t.pid);
  t.exitState = EXIT_DEAD;
  if (t.isLeader()) {
    t.realParent?.removeChild(t);
    detachPgrp(k, sg);
  }
  if (k.trace.on) k.trace.emit({ name: "sched_process_free", ts: k.now, cpu: k.cpuNow(t.cpu), comm: t.comm, pid: t.pid });
  // A zombie leader whose last thread just went is now reportable to its parent.
  const leader = sg.leader;
  if (leader !== t && leader.exitState === EXIT_ZOMBIE && sg.threads.length === 1) {
    if (doNotifyParent(k, leader, leader.exitSignal)) releaseTask(k, leader);
  }
}

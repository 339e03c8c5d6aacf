/**
 * execve (fs/exec.c): the pid stays, the image is replaced. Other threads are
 * killed (de_thread), caught signals go back to SIG_DFL while ignored ones stay
 * ignored, the mask and pending signals are kept, a vfork parent is released,
 * comm becomes the program's name.
 *
 * Simplified: if a non-leader thread execs, it takes the leader's place by
 * keeping its own task but the leader's pid (Linux exchanges the pids the same way).
 */
import type { Kernel } from "../kernel.ts";
import { ENOENT, EFAULT } from "../errno.ts";
import { type Task, Mm, SigHand, FilesStruct, PF_FORKNOEXEC, PF_EXITING, PF_RANDOMIZE, SIGNAL_GROUP_EXIT } from "./task.ts";
import { completeVfork, exitSignal, releaseTask } from "./exit.ts";
import { SIGCHLD } from "../signal/signals.ts";
import { recalcSigpending } from "../signal/signal.ts";
import { TASK_COMM_LEN } from "../param.ts";
import type { Image } from "./program.ts";
import { doExit } from "./exit.ts";

export function resolvePath(t: Task, path: string): string {
  if (path.startsWith("/")) return path;
  const cwd = t.fs.cwd.endsWith("/") ? t.fs.cwd : `${t.fs.cwd}/`;
  return cwd + path;
}

/** Looks up `path`, absolute or relative to the cwd (execve searches no PATH: execvp does). */
export function findImage(k: Kernel, t: Task, path: string): Image | undefined {
  return k.binaries.get(resolvePath(t, path));
}

/** Returns -errno, or 0 after replacing t's program (the caller must not resume the old one). */
export function doExecve(k: Kernel, t: Task, path: unknown, argv: unknown): number {
  if (typeof path !== "string") return -EFAULT;
  const img = findImage(k, t, path);
  if (!img) return -ENOENT;
  const args = Array.isArray(argv) ? argv.map(String) : [path];
  const oldPid = t.pid;
  deThread(k, t);
  flushSignalHandlers(t);
  if (t.mm) t.mm.users--;
  t.mm = new Mm();
  completeVfork(k, t);
  if (t.files.users > 1) {
    t.files.users--;
    t.files = t.files.copy(); // unshare_files: the other sharers keep the table, this image gets its own
  }
  setComm(k, t, img.name);
  t.selfExecId++; // begin_new_exec: a child's custom exit signal no longer applies to this image
  t.flags = (t.flags & ~PF_FORKNOEXEC) | PF_RANDOMIZE;
  t.exitSignal = SIGCHLD;
  t.sigFrames = null;
  t.co = img.start(args);
  if (k.trace.on) k.trace.emit({ name: "sched_process_exec", ts: k.now, cpu: t.cpu, filename: resolvePath(t, path), pid: t.pid, old_pid: oldPid });
  return 0;
}

/** Kills every other thread of t's process; t becomes the leader. */
function deThread(k: Kernel, t: Task): void {
  const sg = t.signal;
  if (sg.threads.length === 1) return;
  for (const x of [...sg.threads]) {
    if (x === t || x.flags & PF_EXITING) continue;
    sg.flags |= SIGNAL_GROUP_EXIT; // so the victim's exit does not notify anyone
    doExit(k, x, 0);
    sg.flags &= ~SIGNAL_GROUP_EXIT;
  }
  const leader = sg.leader;
  if (leader !== t) {
    // Take over the leader's identity: its pid, parent and children.
    const leaderPid = leader.pid;
    const parent = leader.realParent;
    for (const c of leader.takeChildren()) {
      c.realParent = t;
      c.parent = t;
      t.addChild(c);
    }
    k.tasks.delete(t.pid);
    k.pids.put(t.pid);
    k.tasks.delete(leaderPid);
    if (k.trace.on) k.trace.emit({ name: "sched_process_free", ts: k.now, cpu: k.cpuNow(leader.cpu), comm: leader.comm, pid: leaderPid });
    exitSignal(k, leader); // release_task of the old leader: its time stays with the process
    t.pid = leaderPid;
    k.tasks.set(leaderPid, t);
    sg.leader = t;
    t.realParent = parent;
    t.parent = parent;
    parent?.replaceChild(leader, t); // list_replace_init: in the leader's place among the parent's children
    t.startTime = leader.startTime;
  }
  for (const x of [...sg.threads]) if (x !== t && x.exitState !== 0) releaseTask(k, x);
  // The killed threads' exit_signals hand the process's pending signals on; the one thread left takes them.
  recalcSigpending(t);
}

/** flush_signal_handlers: caught signals go back to SIG_DFL; SIG_IGN stays. */
function flushSignalHandlers(t: Task): void {
  const old = t.sighand;
  const nh = old.refs > 1 ? new SigHand() : old;
  if (old.refs > 1) old.refs--;
  const acts = old.action;
  nh.action = acts.map((a) => (a && a.handler === "ign" ? { handler: "ign", flags: 0, mask: null } : undefined));
  t.sighand = nh;
}

export function setComm(k: Kernel, t: Task, name: string): void {
  const comm = name.length < TASK_COMM_LEN ? name : name.slice(0, TASK_COMM_LEN - 1);
  if (k.trace.on && comm !== t.comm) k.trace.emit({ name: "task_rename", ts: k.now, cpu: t.cpu, pid: t.pid, oldcomm: t.comm, newcomm: comm });
  t.comm = comm;
}

/**
 * Process creation (kernel/fork.c copy_process, kernel_clone).
 *
 * fork = clone(SIGCHLD); vfork = clone(CLONE_VM|CLONE_VFORK|SIGCHLD): the parent
 * sleeps (D, killable) until the child execs or exits. Threads are
 * clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|...): same tgid,
 * same parent, no exit signal, reaped automatically.
 */
import type { Kernel } from "../kernel.ts";
import { EAGAIN, EINVAL, EPERM } from "../errno.ts";
import {
  Task, SignalStruct, SigHand, Mm, FsStruct, FilesStruct, SIGNAL_UNKILLABLE,
  SCHED_NORMAL, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE, TASK_NEW, PF_RANDOMIZE,
} from "./task.ts";
import { SigSet } from "../signal/signals.ts";
import type { Coroutine } from "./program.ts";
import { wakeUpNew, taskRq } from "../sched/core.ts";
import { attachPgrp } from "./group.ts";

export const CSIGNAL = 0x000000ff;
export const CLONE_VM = 0x00000100;
export const CLONE_FS = 0x00000200;
export const CLONE_FILES = 0x00000400;
export const CLONE_SIGHAND = 0x00000800;
export const CLONE_PIDFD = 0x00001000;
export const CLONE_PTRACE = 0x00002000;
export const CLONE_VFORK = 0x00004000;
export const CLONE_PARENT = 0x00008000;
export const CLONE_THREAD = 0x00010000;
export const CLONE_NEWNS = 0x00020000;
export const CLONE_SYSVSEM = 0x00040000;
export const CLONE_SETTLS = 0x00080000;
export const CLONE_PARENT_SETTID = 0x00100000;
export const CLONE_CHILD_CLEARTID = 0x00200000;
export const CLONE_DETACHED = 0x00400000;
export const CLONE_UNTRACED = 0x00800000;
export const CLONE_CHILD_SETTID = 0x01000000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
export const CLONE_IO = 0x80000000;
/** The namespace flags: not modelled, but refused as Linux refuses them to an unprivileged caller. */
const CLONE_NEWANY = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
/** Flags TaskLab models; others are accepted where harmless (TLS, TID words) and ignored. */
const KNOWN = CSIGNAL | CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_VFORK | CLONE_PARENT | CLONE_THREAD |
  CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED | CLONE_PIDFD |
  CLONE_PTRACE | CLONE_UNTRACED | CLONE_IO | CLONE_NEWANY; // no tracer, no I/O contexts: these three change nothing here

/** The validity checks at the top of copy_process (all EINVAL). */
function checkCloneFlags(parent: Task, flags: number): number {
  if ((flags & ~KNOWN) !== 0) return -EINVAL;
  // kernel_clone: legacy clone() returns the pidfd through parent_tid, so the two cannot both be asked for
  if (flags & CLONE_PIDFD && flags & CLONE_PARENT_SETTID) return -EINVAL;
  if ((flags & (CLONE_NEWNS | CLONE_FS)) === (CLONE_NEWNS | CLONE_FS)) return -EINVAL;
  if ((flags & (CLONE_NEWUSER | CLONE_FS)) === (CLONE_NEWUSER | CLONE_FS)) return -EINVAL;
  if (flags & CLONE_THREAD && !(flags & CLONE_SIGHAND)) return -EINVAL;
  if (flags & CLONE_SIGHAND && !(flags & CLONE_VM)) return -EINVAL;
  if (flags & CLONE_PARENT && parent.signal.flags & SIGNAL_UNKILLABLE) return -EINVAL;
  if (flags & CLONE_THREAD && flags & (CLONE_NEWUSER | CLONE_NEWPID)) return -EINVAL;
  if (flags & CLONE_PIDFD && flags & CLONE_DETACHED) return -EINVAL; // CLONE_PIDFD | CLONE_THREAD is allowed since 6.9
  // Namespaces are not modelled. copy_namespaces refuses the others to an unprivileged caller with EPERM; a user
  // namespace needs no privilege (so it is simply not available here), and root would get the namespace.
  if (flags & CLONE_NEWUSER) return -EINVAL;
  if (flags & CLONE_NEWANY) return parent.uid === 0 ? -EINVAL : -EPERM;
  return 0;
}

/**
 * copy_process + wake_up_new_task. Returns the child, or -errno.
 * `co` is the child's program (a fork copy or a clone child function).
 */
export function copyProcess(k: Kernel, parent: Task, flags: number, co: Coroutine, setup?: (p: Task) => void): Task | number {
  const bad = checkCloneFlags(parent, flags);
  if (bad) return bad;
  if (parent.policy === SCHED_DEADLINE && !parent.resetOnFork) return -EAGAIN;
  // RLIMIT_NPROC counts the tasks (threads included) of the parent's user; root is exempt
  // (INIT_USER and CAP_SYS_RESOURCE in copy_process), and so is init starting programs.
  if (parent.uid !== 0 && (k.tasksOfUid.get(parent.uid) ?? 0) >= k.params.rlimitNproc) return -EAGAIN;
  if (k.nrThreads >= k.params.threadsMax) return -EAGAIN;
  const pid = k.pids.alloc();
  if (pid < 0) return -EAGAIN;

  const p = new Task(pid, parent.comm, parent.blocked.clone(), new SigSet());
  copySched(k, p, parent);
  copyShared(p, parent, flags);
  linkFamily(k, p, parent, flags);
  p.co = co;
  p.startTime = k.now;
  p.uid = parent.uid;
  p.selfExecId = parent.selfExecId; // dup_task_struct copies the whole task_struct, self_exec_id included
  p.flags |= parent.flags & PF_RANDOMIZE; // dup_task_struct copies the flags; of those modelled, only this one outlives the fork
  p.cpusAllowed = parent.cpusAllowed;
  k.tasks.set(pid, p);
  k.nrThreads++;
  k.nrProcesses++;
  k.totalForks++;
  const rq = taskRq(k, parent);
  p.cpu = parent.cpu;
  setup?.(p);
  k.tasksOfUid.set(p.uid, (k.tasksOfUid.get(p.uid) ?? 0) + 1);
  k.classes[p.sclass]!.initTask(rq, p);
  k.classes[p.sclass]!.taskFork(rq, p, parent);
  if (k.trace.on)
    k.trace.emit({ name: "sched_process_fork", ts: k.now, cpu: parent.cpu, parent_comm: parent.comm, parent_pid: parent.pid, child_comm: p.comm, child_pid: pid, clone_flags: flags });
  if (flags & CLONE_VFORK) {
    p.vforkParent = parent;
    parent.vforkChild = p;
  }
  wakeUpNew(k, p);
  return p;
}

/** sched_fork: inherit policy and priority; SCHED_RESET_ON_FORK drops RT/negative nice. */
function copySched(k: Kernel, p: Task, parent: Task): void {
  p.policy = parent.policy;
  p.staticPrio = parent.staticPrio;
  p.rtPriority = parent.rtPriority;
  p.normalPrio = parent.normalPrio;
  p.sclass = parent.sclass;
  p.fairSlice = parent.fairSlice;
  if (parent.resetOnFork) {
    p.fairSlice = 0; // sched_fork: custom_slice = 0, slice = base
    // sched_fork: an RT or deadline parent's child is SCHED_NORMAL at nice 0; a fair one only loses a negative nice.
    if (p.policy !== SCHED_NORMAL && p.policy !== SCHED_BATCH && p.policy !== SCHED_IDLE) {
      p.policy = SCHED_NORMAL;
      p.staticPrio = 120;
      p.rtPriority = 0;
    } else if (p.staticPrio < 120) p.staticPrio = 120;
    p.normalPrio = p.staticPrio;
    p.resetOnFork = false;
    p.sclass = k.classOfPolicy[p.policy]!;
  }
  p.prio = p.normalPrio;
  p.state = TASK_NEW;
}

/** What the child shares with or copies from the parent, by flag. */
function copyShared(p: Task, parent: Task, flags: number): void {
  if (flags & CLONE_SIGHAND) {
    p.sighand = parent.sighand;
    p.sighand.refs++;
  } else {
    p.sighand = new SigHand();
    p.sighand.action = parent.sighand.action.length === 0 ? p.sighand.action : parent.sighand.action.slice();
  }
  if (flags & CLONE_VM) {
    p.mm = parent.mm;
    if (p.mm) p.mm.users++;
  } else {
    p.mm = new Mm();
    if (parent.mm) p.mm.vsize = parent.mm.vsize;
  }
  if (flags & CLONE_FS) {
    p.fs = parent.fs;
    p.fs.users++;
  } else p.fs = new FsStruct(parent.fs.cwd, parent.fs.umask);
  if (flags & CLONE_FILES) {
    p.files = parent.files;
    p.files.users++;
  } else {
    p.files = parent.files.copy(); // copy-on-write: whichever writes first copies
  }
}

/** Parent, thread group, process group and session links. */
function linkFamily(k: Kernel, p: Task, parent: Task, flags: number): void {
  if (flags & CLONE_THREAD) {
    p.signal = parent.signal;
    p.tgid = parent.tgid;
    p.exitSignal = -1;
    p.realParent = parent.realParent;
    p.parentExecId = parent.parentExecId;
  } else {
    p.signal = new SignalStruct(p, new SigSet());
    p.signal.pgid = parent.signal.pgid;
    p.signal.sid = parent.signal.sid;
    p.signal.tty = parent.signal.tty;
    p.signal.hasChildSubreaper = parent.signal.hasChildSubreaper || parent.signal.isChildSubreaper;
    if (flags & CLONE_PARENT) {
      p.realParent = parent.realParent;
      p.exitSignal = parent.leader.exitSignal;
    } else {
      p.realParent = parent;
      p.exitSignal = flags & CSIGNAL;
    }
    p.parentExecId = flags & CLONE_PARENT ? parent.parentExecId : parent.selfExecId;
    attachPgrp(k, p.signal);
    p.realParent!.addChild(p);
  }
  p.parent = p.realParent;
  if (flags & CLONE_THREAD) p.signal.threads.push(p);
  p.signal.live++;
}

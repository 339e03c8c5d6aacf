/**
 * task_struct and the structures threads share (signal_struct, sighand_struct,
 * mm_struct, fs_struct, files_struct), grouped by the subsystem that owns each
 * field, as xv6's struct proc is.
 */
import { bumpSigEpoch, type SigSet } from "../signal/signals.ts";
import type { Coroutine, SyscallReq } from "./program.ts";
import type { Timer } from "../../sim/engine.ts";
import type { SigQueue } from "../signal/signal.ts";

/** __state bits (include/linux/sched.h). */
export const TASK_RUNNING = 0x0000;
export const TASK_INTERRUPTIBLE = 0x0001;
export const TASK_UNINTERRUPTIBLE = 0x0002;
export const __TASK_STOPPED = 0x0004;
export const __TASK_TRACED = 0x0008;
export const TASK_PARKED = 0x0040;
export const TASK_DEAD = 0x0080;
export const TASK_WAKEKILL = 0x0100;
export const TASK_NOLOAD = 0x0400;
export const TASK_NEW = 0x0800;
export const TASK_KILLABLE = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE;
export const TASK_STOPPED = TASK_WAKEKILL | __TASK_STOPPED;
export const TASK_IDLE = TASK_UNINTERRUPTIBLE | TASK_NOLOAD;
export const TASK_NORMAL = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;
/** exit_state values. */
export const EXIT_DEAD = 0x0010;
export const EXIT_ZOMBIE = 0x0020;

/** task->flags (PF_*). */
export const PF_IDLE = 0x00000002;
export const PF_EXITING = 0x00000004;
/** Set in do_exit by coredump_task_exit (5.16+), whether or not a core was dumped. */
export const PF_POSTCOREDUMP = 0x00000008;
export const PF_FORKNOEXEC = 0x00000040;
export const PF_SIGNALED = 0x00000400;
/** Set by do_task_dead as the task dies for good: a zombie shows it. */
export const PF_NOFREEZE = 0x00008000;
export const PF_KTHREAD = 0x00200000;
/** Address-space randomisation: set by exec (load_elf_binary, randomize_va_space 2), kept across fork. */
export const PF_RANDOMIZE = 0x00400000;

/** signal_struct->flags (SIGNAL_*). */
export const SIGNAL_STOP_STOPPED = 0x01;
export const SIGNAL_STOP_CONTINUED = 0x02;
export const SIGNAL_GROUP_EXIT = 0x04;
export const SIGNAL_CLD_STOPPED = 0x10;
export const SIGNAL_CLD_CONTINUED = 0x20;
/** The CLD_ code prepare_signal(SIGCONT) leaves for get_signal to report to the parent. */
export const SIGNAL_CLD_MASK = SIGNAL_CLD_STOPPED | SIGNAL_CLD_CONTINUED;
export const SIGNAL_UNKILLABLE = 0x40;

/** Scheduling policies (include/uapi/linux/sched.h). */
export const SCHED_NORMAL = 0, SCHED_FIFO = 1, SCHED_RR = 2, SCHED_BATCH = 3, SCHED_IDLE = 5, SCHED_DEADLINE = 6;

export type Handler = "dfl" | "ign" | { fn: unknown };
export interface SigAction {
  handler: Handler;
  flags: number;
  mask: SigSet | null;
}

/** A list of sleeping tasks (wait_queue_head_t). The set is allocated on first use: most are never slept on. */
export class WaitQueue {
  private set: Set<Task> | null = null;
  get size(): number {
    return this.set === null ? 0 : this.set.size;
  }
  add(t: Task): void {
    (this.set ??= new Set()).add(t);
  }
  delete(t: Task): void {
    this.set?.delete(t);
  }
  has(t: Task): boolean {
    return this.set !== null && this.set.has(t);
  }
  /** The sleepers now, in the order they went to sleep (a copy: waking changes the set). */
  sleepers(): Task[] {
    return this.set === null ? [] : [...this.set];
  }
}

const NO_CHILDREN: ReadonlySet<Task> = new Set<Task>();

/** Shared by all threads of a process (CLONE_THREAD): job control, group exit, child accounting. */
export class SignalStruct {
  // thread group
  readonly threads: Task[];
  /** Threads that have not yet started do_exit. */
  live = 0;
  // job control and sessions (owner: kernel/task/group)
  pgid = 0;
  sid = 0;
  /** Controlling terminal name, or null. */
  tty: string | null = null;
  /** Foreground process group of the controlling tty when this is the session leader's view. */
  flags = 0;
  /** Exit code of a group exit, or the stop signal of a group stop. */
  groupExitCode = 0;
  /** Threads still to stop in a group stop in progress. */
  groupStopCount = 0;
  /** Pending status for wait(): stop signal to report (0 = consumed). */
  stopReport = 0;
  // process-directed signals (owner: kernel/signal)
  sharedPending: SigSet;
  /** The siginfo of each signal in sharedPending (every queued instance of a real-time one); made on first use. */
  sharedSigq: SigQueue | null = null;
  // reaping (owner: kernel/exit)
  isChildSubreaper = false;
  /** The thread a process-directed signal was last given to (curr_target): the search for one starts there. */
  currTarget: Task | null = null;
  hasChildSubreaper = false;
  /** Where wait() sleeps for children of any thread of the group; made on first use. */
  private wq: WaitQueue | null = null;
  get waitChldexit(): WaitQueue {
    return (this.wq ??= new WaitQueue());
  }
  /** Threads sleeping in wait(), without creating the queue. */
  get waiting(): number {
    return this.wq === null ? 0 : this.wq.size;
  }
  // accounting of reaped children (cutime, cstime in ns)
  cutime = 0;
  cstime = 0;
  /** CPU time of threads of this process already released (__exit_signal adds them here). */
  deadUtime = 0;
  deadStime = 0;
  /** utime/stime of the whole process: live threads plus those gone (thread_group_cputime). */
  groupUtime(): number {
    let u = this.deadUtime;
    for (const t of this.threads) u += t.utime;
    return u;
  }
  groupStime(): number {
    let s = this.deadStime;
    for (const t of this.threads) s += t.stime;
    return s;
  }
  constructor(public leader: Task, pending: SigSet) {
    this.sharedPending = pending;
    this.threads = [leader]; // an exact-size array: most processes stay single-threaded
  }
}

/** Signal dispositions, shared with CLONE_SIGHAND. Entries are allocated on first change. */
export class SigHand {
  /** Dispositions by signal; a shared empty table until the first change (most processes never set one). */
  action: readonly (SigAction | undefined)[] = NO_ACTIONS;
  refs = 1;
  /** Sets one disposition (undefined = SIG_DFL), copying the table on first write. */
  set(sig: number, act: SigAction | undefined): void {
    const a = this.action === NO_ACTIONS ? [] : (this.action as (SigAction | undefined)[]);
    a[sig] = act;
    this.action = a;
  }
}

const NO_ACTIONS: readonly (SigAction | undefined)[] = Object.freeze([]);

/** Address space (mm_struct), shared with CLONE_VM. */
export class Mm {
  users = 1;
  /** Bytes of virtual memory mapped; a rough stand-in until the memory model issue. */
  vsize = 4 * 1024 * 1024;
}

/** cwd and umask (fs_struct), shared with CLONE_FS. */
export class FsStruct {
  users = 1;
  constructor(public cwd = "/", public umask = 0o022) {}
}

/** Open file descriptors (files_struct), shared with CLONE_FILES. */
export class FilesStruct {
  users = 1;
  /**
   * The fd table. After fork the child shares the parent's array until either
   * writes (`shared` is set on both): a fork that execs and never touches its
   * fds then costs no copy.
   */
  /**
   * Open /proc and debugfs files, by fd: the task a /proc/<pid> file was
   * opened for (its inode holds that pid), the text as it was at the first
   * read (a seq_file buffer) and the offset. Not carried across fork or exec
   * (the offset starts again).
   */
  reads: Map<number, { target: Task | null; text: string | null; pos: number }> | null = null;
  constructor(
    public fds: (string | null)[] = [],
    public shared = false,
  ) {}
  /**
   * A copy of the table for another task (fork without CLONE_FILES, or an exec that stops sharing it,
   * unshare_files): both copy the array on their next write. The open files themselves are shared, as
   * struct file is: a /proc file's read offset moves for both.
   */
  copy(): FilesStruct {
    this.shared = true;
    const f = new FilesStruct(this.fds, true);
    if (this.reads !== null) f.reads = new Map(this.reads);
    return f;
  }
  /** The fd array, made private first if it is still shared after a fork. */
  writable(): (string | null)[] {
    if (this.shared) {
      this.fds = this.fds.slice();
      this.shared = false;
    }
    return this.fds;
  }
}

/** A signal handler's saved context (rt_sigframe). */
export interface SigFrame {
  req: SyscallReq | null;
  result: unknown;
  computeLeft: number;
  blocked: SigSet;
}

/** The task_struct fields few tasks ever use, kept off the task until one does (memory per task). */
class TaskExtra {
  fairSlice = 0;
  sigFrames: SigFrame[] | null = null;
  vforkParent: Task | null = null;
  vforkChild: Task | null = null;
  sigq: SigQueue | null = null;
  pdeathSignal = 0;
}

/** Task.jobctlBits: the TIF_SIGPENDING flag, above the stop signal number. */
const TIF_SIGPENDING_BIT = 0x100;

export class Task {
  // identity (owner: kernel/pid)
  pid: number;
  tgid: number;
  /** Executable name, at most 15 characters (TASK_COMM_LEN 16). */
  comm: string;

  // process tree (owner: kernel/fork, kernel/exit)
  realParent: Task | null = null; // who created us, or our reaper after reparenting
  parent: Task | null = null; // who gets SIGCHLD and wait()s (same as realParent: no ptrace yet)
  /** Children in fork order (list_add_tail); reparented children go to the end. Allocated on the first child. */
  private kids: Set<Task> | null = null;
  signal!: SignalStruct; // thread group, pgid/sid, group stop/exit
  sighand!: SigHand;
  mm: Mm | null = null;
  fs!: FsStruct;
  files!: FilesStruct;

  // state (owner: kernel/sched/core, kernel/exit)
  state = TASK_NEW; // __state
  exitState = 0; // EXIT_ZOMBIE / EXIT_DEAD
  exitCode = 0; // wait status as do_exit stores it
  exitSignal = 17; // signal sent to the parent at exit (SIGCHLD); -1 for threads
  flags = PF_FORKNOEXEC;
  /** What a D-state or S-state sleep is for, shown as wchan. */
  wchan = "";

  // scheduling (owner: kernel/sched)
  policy = SCHED_NORMAL;
  staticPrio = 120; // 120 + nice
  normalPrio = 120;
  prio = 120; // effective priority (differs only under PI boosting)
  rtPriority = 0; // 1..99 for FIFO/RR
  resetOnFork = false;
  onRq = false; // queued on a runqueue (or running)
  cpu = 0; // CPU it runs or last ran on
  /** Allowed CPUs, or null for all. */
  cpusAllowed: Uint8Array | null = null;
  /** Per-class entity records (task.se, task.rt, task.dl in Linux). */
  se: unknown = null;
  rt: unknown = null;
  dl: unknown = null;
  /** Scheduling class index in the machine's class chain. */
  sclass = 0;
  nvcsw = 0; // voluntary context switches
  nivcsw = 0; // involuntary context switches
  nrMigrations = 0;
  /** The weight it adds to its runqueue's load while on it (rq.load), fixed when it joined or its parameters changed. */
  loadWeight = 0;
  /** Links of the runqueue's list of its tasks (Rq.tasks). */
  rqList: { delete(p: Task): boolean } | null = null;
  rqPrev: Task | null = null;
  rqNext: Task | null = null;
  /** Counted in nr_uninterruptible (asleep in D) for the load average. */
  inLoadD = false;
  /** Must move off its CPU at the next switch (affinity changed while running). */
  migratePending = false;

  // time accounting, ns (owner: kernel/sched/core)
  startTime = 0;
  sumExecRuntime = 0;
  execStart = 0; // when it last started running (or was last accounted)
  utime = 0;
  stime = 0;
  /** When the task last became runnable and was not yet running (for run-delay stats). */
  lastQueued = 0;
  runDelay = 0;
  /** When the task first ran, or -1. */
  firstRun = -1;

  // program (owner: kernel/syscall, kernel/exec)
  co: Coroutine | null = null;
  /** The request in progress: blocked in it, computing it, or about to be resumed past it. */
  req: SyscallReq | null = null;
  /** Result to resume the program with, once `req` completes. */
  result: unknown = undefined;
  /** ns of CPU still to use for the compute() in progress. */
  computeLeft = 0;
  /** The burst in progress is kernel work (syscall cost), charged as system time. */
  computeSys = false;
  /** Set when a signal interrupted the syscall in progress (RESTARTSYS / RESTARTNOHAND marker). */
  restart: symbol | null = null;
  /** Scratch state of a blocking syscall between its retries. */
  sysState = 0;
  /** Syscalls issued at the current instant (step budget). */
  steps = 0;
  stepsAt = -1;
  /** Timer for sleeps and timeouts. */
  timer: Timer | null = null;
  /** Wait queues the task sleeps on. */
  waitingOn: WaitQueue | null = null;

  // signals (owner: kernel/signal)
  blocked: SigSet;
  pending: SigSet; // thread-directed
  /** Rarely used state (vfork links, signal frames, queued RT signals, pdeath signal), made on first use. */
  private extra: TaskExtra | null = null;
  /** Execs made by this task (self_exec_id), and its parent's count when it was made (parent_exec_id). */
  selfExecId = 0;
  parentExecId = 0;
  /** Real and effective user id (credentials): 0 is root, which may raise priority and signal anyone. */
  uid = 1000;
  private jobctlBits = 0;
  /**
   * The sigEpoch at which signal_pending() was last found false for this task
   * (signal.ts sigPendingFast); -1 when not known to be false (an integer, so the field stays a small
   * integer held in the object, not a boxed double: this is read at every return to user mode).
   */
  sigPendingCache = -1;
  /** Absolute end of a sleep in progress. */
  wakeAt = 0;

  constructor(pid: number, comm: string, blocked: SigSet, pending: SigSet) {
    this.pid = pid;
    this.tgid = pid;
    this.comm = comm;
    this.blocked = blocked;
    this.pending = pending;
  }

  get children(): ReadonlySet<Task> {
    return this.kids ?? NO_CHILDREN;
  }
  addChild(c: Task): void {
    (this.kids ??= new Set()).add(c);
  }
  removeChild(c: Task): void {
    this.kids?.delete(c);
  }
  /** Puts `nu` where child `old` was in the list (list_replace_init), keeping the order wait() sees. */
  replaceChild(old: Task, nu: Task): void {
    if (this.kids === null || !this.kids.has(old)) return void this.addChild(nu);
    this.kids = new Set([...this.kids].map((c) => (c === old ? nu : c)));
  }
  /** Hands every child over (exec by a non-leader thread): the list is emptied. */
  takeChildren(): Task[] {
    const all = this.kids ? [...this.kids] : [];
    this.kids = null;
    return all;
  }

  /** Saved contexts of interrupted code while signal handlers run (rt_sigframe). */
  get sigFrames(): SigFrame[] | null {
    return this.extra === null ? null : this.extra.sigFrames;
  }
  set sigFrames(v: SigFrame[] | null) {
    if (v !== null || this.extra !== null) this.more().sigFrames = v;
  }
  /** vfork: the parent waiting for this child to exec or exit (vfork_done). */
  get vforkParent(): Task | null {
    return this.extra === null ? null : this.extra.vforkParent;
  }
  set vforkParent(v: Task | null) {
    if (v !== null || this.extra !== null) this.more().vforkParent = v;
  }
  /** vfork: the child this parent waits for. */
  get vforkChild(): Task | null {
    return this.extra === null ? null : this.extra.vforkChild;
  }
  set vforkChild(v: Task | null) {
    if (v !== null || this.extra !== null) this.more().vforkChild = v;
  }
  /** The siginfo of each signal in pending (every queued instance of a real-time one), by signal number. */
  get sigq(): SigQueue | null {
    return this.extra === null ? null : this.extra.sigq;
  }
  set sigq(v: SigQueue | null) {
    if (v !== null || this.extra !== null) this.more().sigq = v;
  }
  /** Signal sent to this task when its parent dies (PR_SET_PDEATHSIG), or 0. */
  get pdeathSignal(): number {
    return this.extra === null ? 0 : this.extra.pdeathSignal;
  }
  set pdeathSignal(v: number) {
    if (v !== 0 || this.extra !== null) this.more().pdeathSignal = v;
  }
  /**
   * A fair task's own request size in ns, set with sched_setattr's
   * sched_runtime (se->custom_slice, Linux 6.12); 0 for the default base slice.
   */
  get fairSlice(): number {
    return this.extra === null ? 0 : this.extra.fairSlice;
  }
  set fairSlice(v: number) {
    if (v !== 0 || this.extra !== null) this.more().fairSlice = v;
  }
  private more(): TaskExtra {
    return (this.extra ??= new TaskExtra());
  }

  /** Job-control work pending for this thread (JOBCTL_STOP_PENDING): the stop signal, or 0. */
  /** The stop signal of a group stop this thread still has to take part in (JOBCTL_STOP_PENDING), or 0. */
  get jobctl(): number {
    return this.jobctlBits & 0xff;
  }
  set jobctl(v: number) {
    this.jobctlBits = (this.jobctlBits & TIF_SIGPENDING_BIT) | v;
    bumpSigEpoch(); // it counts in signal_pending()
  }
  /**
   * TIF_SIGPENDING: a signal was handed to this thread to act on (signal_wake_up), and it has not yet
   * run and found nothing left. complete_signal passes over a thread that already has one
   * (wants_signal), so a second process signal goes to a thread that is free.
   */
  get tifSigpending(): boolean {
    return (this.jobctlBits & TIF_SIGPENDING_BIT) !== 0;
  }
  set tifSigpending(v: boolean) {
    this.jobctlBits = v ? this.jobctlBits | TIF_SIGPENDING_BIT : this.jobctlBits & ~TIF_SIGPENDING_BIT;
  }

  get nice(): number {
    return this.staticPrio - 120;
  }
  get leader(): Task {
    return this.signal.leader;
  }
  isLeader(): boolean {
    return this.signal.leader === this;
  }
}

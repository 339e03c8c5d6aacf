/**
 * Signal generation and delivery (kernel/signal.c).
 *
 * Generation (send_signal -> prepare_signal -> complete_signal):
 * - stop signals remove a pending SIGCONT; SIGCONT removes pending stop signals
 *   and resumes a stopped process, at generation time, whatever the mask;
 * - a signal that would be ignored on delivery (SIG_IGN, or SIG_DFL with an
 *   "ign" default) and is not blocked is dropped;
 * - standard signals do not queue; real-time ones do;
 * - a process-directed signal goes to the shared set and wakes one thread that
 *   does not block it; a fatal one kills the whole group at once.
 * Delivery happens when a task returns to user mode (getSignal): thread-private
 * set first, then shared; synchronous faults first, then the lowest number.
 */
import type { Kernel } from "../kernel.ts";
import {
  type Task, type SigAction, TASK_INTERRUPTIBLE, TASK_STOPPED, TASK_WAKEKILL, TASK_RUNNING, __TASK_STOPPED,
  SIGNAL_GROUP_EXIT, SIGNAL_STOP_STOPPED, SIGNAL_STOP_CONTINUED, SIGNAL_CLD_CONTINUED, SIGNAL_CLD_STOPPED, SIGNAL_CLD_MASK, SIGNAL_UNKILLABLE, PF_EXITING,
} from "../task/task.ts";
import {
  sigEpoch, bumpSigEpoch,
  SigSet, SIGKILL, SIGSTOP, SIGCONT, SIGCHLD, isStopSignal, defaultAction, KERNEL_STOP_LO, NSIG, SIGTSTP, SIGTTIN, SIGTTOU,
} from "./signals.ts";
import { wakeUp, taskRq } from "../sched/core.ts";
import { TRACE_SIGNAL } from "../../sim/trace.ts";

export const SA_NOCLDSTOP = 0x1, SA_NOCLDWAIT = 0x2, SA_SIGINFO = 0x4, SA_RESTART = 0x10000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;
/** si_code values. */
export const SI_USER = 0, SI_KERNEL = 0x80, SI_TKILL = -6;
export const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_TRAPPED = 4, CLD_STOPPED = 5, CLD_CONTINUED = 6;

/**
 * siginfo_t, the fields TaskLab fills: which signal, why (si_code) and from
 * whom. Each pending signal keeps the siginfo it was sent with (a sigqueue
 * entry); a standard signal already pending is not queued again, so its first
 * siginfo is the one delivered. A handler installed with SA_SIGINFO receives
 * it. Read-only: a replayed child is handed the very record its parent got.
 */
export class SigInfo {
  constructor(
    /** si_signo */
    readonly signo: number,
    /** si_code: SI_USER (kill), SI_TKILL (tgkill), SI_KERNEL, or CLD_* for SIGCHLD. */
    readonly code: number,
    /** si_pid: the sender (kill, tgkill), or the child a SIGCHLD is about; 0 from the kernel. */
    readonly pid: number,
    /** si_uid: the sender's (or the child's) real uid. */
    readonly uid: number,
    /** si_status for SIGCHLD: the exit code (CLD_EXITED) or the signal (CLD_KILLED, CLD_DUMPED, CLD_STOPPED, CLD_CONTINUED). */
    readonly status = 0,
  ) {
    Object.freeze(this);
  }
}

/** What a signal from the kernel itself carries (SIGHUP to an orphaned group, the parent-death signal). */
export function kernelInfo(sig: number): SigInfo {
  return new SigInfo(sig, SI_KERNEL, 0, 0);
}

/** Pending signals' siginfo, by signal number: one entry for a standard signal, one per queued instance for a real-time one. */
export type SigQueue = Map<number, SigInfo[]>;

const DFL: SigAction = Object.freeze({ handler: "dfl", flags: 0, mask: null }) as SigAction;

export function getAction(p: Task, sig: number): SigAction {
  return p.sighand.action[sig] ?? DFL;
}

/**
 * Would delivering sig to p do nothing? (sig_handler_ignored) SIGCONT's default
 * is in SIG_KERNEL_IGNORE_MASK: it does its work at generation, then is dropped.
 */
function handlerIgnored(a: SigAction, sig: number): boolean {
  return a.handler === "ign" || (a.handler === "dfl" && (defaultAction(sig) === "ign" || defaultAction(sig) === "cont"));
}

/**
 * signal_pending(p): something for p to act on. A signal in its own set, a group stop or a SIGCONT
 * report; one in its process's shared set only once it was handed one (TIF_SIGPENDING: complete_signal
 * picked it, or it recalculated, e.g. after unblocking): another thread may have been picked instead.
 */
export function signalPending(p: Task): boolean {
  if (unblocked(p.pending, p.blocked) || p.jobctl !== 0 || (p.signal.flags & SIGNAL_CLD_MASK) !== 0) return true;
  return p.tifSigpending && unblocked(p.signal.sharedPending, p.blocked);
}

/** Does `set` hold a signal that `blocked` lets through? */
function unblocked(set: SigSet, blocked: SigSet): boolean {
  return ((set.lo & ~blocked.lo) | (set.hi & ~blocked.hi)) !== 0;
}

/**
 * retarget_shared_pending: t will not take the process's pending signals in `which` (it blocks them
 * now, or exits): wake threads that can, each for what it does not block, until all are covered.
 */
export function retargetSharedPending(k: Kernel, t: Task, whichLo: number, whichHi: number): void {
  const s = t.signal.sharedPending;
  let lo = (s.lo & whichLo) >>> 0;
  let hi = (s.hi & whichHi) >>> 0;
  if (lo === 0 && hi === 0) return;
  const th = t.signal.threads;
  const i0 = th.indexOf(t);
  for (let j = 1; j <= th.length; j++) {
    const x = th[(i0 + j) % th.length]!;
    if (x === t || x.flags & PF_EXITING) continue;
    const b = x.blocked;
    if ((lo & ~b.lo) === 0 && (hi & ~b.hi) === 0) continue;
    lo = (lo & b.lo) >>> 0; // what is left for the others: what this one blocks
    hi = (hi & b.hi) >>> 0;
    if (!x.tifSigpending) signalWakeUp(k, x, false);
    if (lo === 0 && hi === 0) return;
  }
}

/** set_current_blocked: t's mask becomes `next`; shared signals it now blocks go to other threads. */
export function setBlocked(k: Kernel, t: Task, next: SigSet): void {
  const b = t.blocked;
  if (t.tifSigpending && t.signal.threads.length > 1) retargetSharedPending(k, t, (next.lo & ~b.lo) >>> 0, (next.hi & ~b.hi) >>> 0);
  b.set(next);
  b.del(SIGKILL);
  b.del(SIGSTOP);
  recalcSigpending(t);
}

/** recalc_sigpending: TIF_SIGPENDING set if p has an unblocked signal in either set, else cleared. */
export function recalcSigpending(p: Task): void {
  const any = unblocked(p.pending, p.blocked) || unblocked(p.signal.sharedPending, p.blocked) || p.jobctl !== 0;
  if (any !== p.tifSigpending) {
    p.tifSigpending = any;
    bumpSigEpoch();
  }
}

/**
 * signalPending(p), answered from p's cache while no signal set or job-control
 * state anywhere has changed since it was found false: the user-return path asks
 * at every syscall, and the full test reads four objects per task. Linux keeps
 * TIF_SIGPENDING for the same reason.
 */
export function sigPendingFast(p: Task): boolean {
  if (p.sigPendingCache === sigEpoch) return false;
  // Only "nothing pending" is cached: a true answer is always recomputed, so a
  // stale cache could never make the return-to-user loop chase a signal that is not there.
  const pending = signalPending(p);
  p.sigPendingCache = pending ? -1 : sigEpoch;
  return pending;
}

/** A fatal SIGKILL is on its way (fatal_signal_pending). */
export function fatalSignalPending(p: Task): boolean {
  return p.pending.has(SIGKILL) || (p.signal.flags & SIGNAL_GROUP_EXIT) !== 0;
}

/** Removes the signals matching pred, with every queued instance, from all pending sets of p's process. */
function flushFromGroup(p: Task, pred: (sig: number) => boolean): void {
  const clear = (s: SigSet, queued: SigQueue | null): void => {
    for (let sig = 1; sig <= NSIG; sig++) {
      if (!s.has(sig) || !pred(sig)) continue;
      s.del(sig);
      queued?.delete(sig);
    }
  };
  clear(p.signal.sharedPending, p.signal.sharedSigq);
  for (const t of p.signal.threads) clear(t.pending, t.sigq);
}

/**
 * prepare_signal: job-control side effects at generation; returns false if the
 * signal is to be dropped as ignored.
 */
function prepareSignal(k: Kernel, p: Task, sig: number): boolean {
  const sg = p.signal;
  if (sg.flags & SIGNAL_GROUP_EXIT) return sig === SIGKILL;
  if (isStopSignal(sig)) {
    flushFromGroup(p, (s) => s === SIGCONT);
  } else if (sig === SIGCONT) {
    flushFromGroup(p, (s) => isStopSignal(s));
    let wasStopped = false;
    for (const t of sg.threads) {
      t.jobctl = 0;
      if (t.state & __TASK_STOPPED) {
        wasStopped = true;
        // It stopped inside get_signal and goes on there: it dequeues what is pending, shared signals
        // too, as if handed one (TIF_SIGPENDING); bumpSigEpoch below, or the wakeup, makes that seen.
        t.tifSigpending = true;
        wakeUp(k, t, __TASK_STOPPED);
      }
    }
    if (sg.flags & SIGNAL_STOP_STOPPED || sg.groupStopCount > 0 || wasStopped) {
      // The parent will hear CLD_CONTINUED (or CLD_STOPPED if the stop never completed), from the first
      // thread of the group that runs (get_signal, SIGNAL_CLD_MASK); wait's WCONTINUED sees it at once.
      const why = sg.flags & SIGNAL_STOP_STOPPED ? SIGNAL_CLD_CONTINUED : SIGNAL_CLD_STOPPED;
      sg.flags = (sg.flags & ~(SIGNAL_STOP_STOPPED | SIGNAL_STOP_CONTINUED | SIGNAL_CLD_MASK)) | SIGNAL_STOP_CONTINUED | why;
      sg.groupStopCount = 0;
      sg.groupExitCode = 0; // prepare_signal: signal->group_exit_code = 0 (a CLD_STOPPED sent now carries si_status 0)
      sg.stopReport = 0;
      bumpSigEpoch(); // signalPending() now says yes for the group's threads
    }
  }
  return !sigIgnored(p, sig);
}

/** sig_ignored: unblocked and ignored by handler/default. Blocked signals stay pending. */
function sigIgnored(p: Task, sig: number): boolean {
  if (p.blocked.has(sig) && sig !== SIGKILL && sig !== SIGSTOP) return false;
  // Init only gets signals it has handlers for; SIGKILL/SIGSTOP from inside its namespace are dropped.
  if (p.signal.flags & SIGNAL_UNKILLABLE && getAction(p, sig).handler === "dfl") return true;
  return handlerIgnored(getAction(p, sig), sig);
}

/**
 * Sends sig to p: to the thread (group = false) or to its process (group = true),
 * with the siginfo the receiver will see. The caller has done permission checks.
 */
export function sendSignal(k: Kernel, p: Task, sig: number, group: boolean, info: SigInfo): void {
  const result = sendSignalInner(k, p, sig, group, info);
  if (k.trace.on) k.trace.emit({ name: "signal_generate", ts: k.now, cpu: k.cpuNow(p.cpu), sig, errno: 0, code: info.code, comm: p.comm, pid: p.pid, group, result });
}

function sendSignalInner(k: Kernel, p: Task, sig: number, group: boolean, info: SigInfo): number {
  if (p.exitState !== 0 && p.signal.live === 0) return TRACE_SIGNAL.IGNORED;
  if (!prepareSignal(k, p, sig)) return TRACE_SIGNAL.IGNORED;
  const set = group ? p.signal.sharedPending : p.pending;
  // The siginfo lives with the set it is pending in (thread or process).
  const q = group ? (p.signal.sharedSigq ??= new Map()) : (p.sigq ??= new Map());
  if (set.has(sig)) {
    if (sig < 32) return TRACE_SIGNAL.ALREADY_PENDING; // legacy_queue: the first siginfo stays
    // Real-time signals queue, each instance with its own siginfo.
    const infos = q.get(sig);
    if (infos) infos.push(info);
    else q.set(sig, [info]);
    return TRACE_SIGNAL.DELIVERED;
  }
  set.add(sig);
  q.set(sig, [info]);
  completeSignal(k, p, sig, group);
  return TRACE_SIGNAL.DELIVERED;
}

/**
 * complete_signal: pick a thread to handle it (p itself if it wants it; for a process signal, else the
 * next thread from the last one picked that does), and kill the group at once if it is fatal.
 */
function completeSignal(k: Kernel, p: Task, sig: number, group: boolean): void {
  const sg = p.signal;
  let t: Task | null = p;
  if (!wantsSignal(k, p, sig)) {
    // A thread signal, or a one-thread process: it sees the signal when it next runs; nobody to wake.
    if (!group || sg.threads.length <= 1) return;
    const th = sg.threads;
    const from = Math.max(0, sg.currTarget === null ? 0 : th.indexOf(sg.currTarget));
    t = null;
    for (let i = 0; i < th.length; i++) {
      const x = th[(from + i) % th.length]!;
      if (wantsSignal(k, x, sig)) {
        t = x;
        break;
      }
    }
    if (t === null) return; // no thread needs waking: an eligible one finds it in the queue soon
    sg.currTarget = t;
  }
  const a = getAction(t, sig);
  // Core-dumping signals take the slow path (get_signal) so the status gets WCOREFLAG.
  const fatal = sig === SIGKILL || (a.handler === "dfl" && !t.blocked.has(sig) && defaultAction(sig) === "term");
  if (fatal && !(sg.flags & SIGNAL_GROUP_EXIT) && !(sg.flags & SIGNAL_UNKILLABLE && sig !== SIGKILL)) {
    {
      // Fatal to the whole group, a thread signal too: start the group exit now, every thread gets
      // SIGKILL and is woken (zap_other_threads), before a slower thread lets the others run on.
      sg.flags = (sg.flags & ~(SIGNAL_STOP_STOPPED | SIGNAL_STOP_CONTINUED | SIGNAL_CLD_MASK)) | SIGNAL_GROUP_EXIT; // as signal->flags = SIGNAL_GROUP_EXIT
      sg.groupExitCode = sig;
      sg.groupStopCount = 0;
      sg.stopReport = 0;
      for (const x of sg.threads) {
        x.jobctl = 0; // a group stop in progress is cancelled
        x.pending.add(SIGKILL);
        signalWakeUp(k, x, true);
      }
      return;
    }
  }
  signalWakeUp(k, t, sig === SIGKILL);
}

/** wants_signal: not blocked, not exiting, not stopped, and running or not already handed a signal. */
function wantsSignal(k: Kernel, t: Task, sig: number): boolean {
  if (t.blocked.has(sig)) return false;
  if (t.flags & PF_EXITING) return false;
  if (sig === SIGKILL) return true;
  if (t.state & __TASK_STOPPED) return false;
  return k.rqs[t.cpu]?.curr === t || !t.tifSigpending; // task_curr(p) || !task_sigpending(p)
}

/** signal_wake_up: wake an interruptible sleeper (also stopped/killable ones for SIGKILL), or kick a running task. */
export function signalWakeUp(k: Kernel, t: Task, fatal: boolean): void {
  if (!t.tifSigpending) {
    t.tifSigpending = true;
    bumpSigEpoch(); // signal_pending() may now say yes for it
  }
  const mask = TASK_INTERRUPTIBLE | (fatal ? TASK_WAKEKILL : 0);
  if (!wakeUp(k, t, mask)) {
    const rq = taskRq(k, t);
    // kick_process: an IPI makes it look at signals on its way back to user mode; no reschedule.
    if (rq.curr === t && t.state === TASK_RUNNING) rq.kick();
  }
}

/** Ensures no blocked-mask hides SIGKILL/SIGSTOP. */
export function sanitizeBlocked(s: SigSet): void {
  s.del(SIGKILL);
  s.del(SIGSTOP);
}

/**
 * Changes a disposition (do_sigaction). Setting SIG_IGN, or SIG_DFL for a
 * default-ignored signal, discards that signal from every pending set.
 */
export function setAction(p: Task, sig: number, act: SigAction): void {
  p.sighand.set(sig, act);
  if (handlerIgnored(act, sig)) flushFromGroup(p, (s) => s === sig);
}

export interface Dequeued {
  sig: number;
  action: SigAction;
}

/**
 * Takes the next deliverable signal off p's sets with its siginfo
 * (dequeue_signal, collect_signal), or null. A real-time signal with more
 * instances queued stays pending.
 */
export function dequeueSignal(p: Task): SigInfo | null {
  let sig = p.pending.firstUnblocked(p.blocked);
  let set = p.pending;
  if (sig === 0) {
    sig = p.signal.sharedPending.firstUnblocked(p.blocked);
    set = p.signal.sharedPending;
  }
  if (sig === 0) return null;
  const q = set === p.pending ? p.sigq : p.signal.sharedSigq;
  const infos = q?.get(sig);
  const info = infos?.shift();
  if (infos === undefined || infos.length === 0) {
    set.del(sig);
    q?.delete(sig);
  }
  recalcSigpending(p); // dequeue_signal: TIF_SIGPENDING stays while more is there for it
  // Set without a queue entry (SIGKILL to every thread of a dying group): collect_signal's zeroed siginfo.
  return info ?? new SigInfo(sig, SI_USER, 0, 0);
}

/** Is p's process group orphaned (no member has a parent in another group of the same session)? */
export function isOrphanedPgrp(k: Kernel, pgid: number, ignored: Task | null = null): boolean {
  const members = k.pgrps.get(pgid);
  if (!members) return true;
  for (const sg of members) {
    const p = sg.leader;
    if (p === ignored || (p.exitState !== 0 && sg.live === 0)) continue;
    const parent = p.realParent;
    if (!parent || parent === k.init) continue;
    if (parent.signal.pgid !== pgid && parent.signal.sid === sg.sid) return false;
  }
  return true;
}

/** Default SIGTSTP/SIGTTIN/SIGTTOU are not acted on in an orphaned process group. */
export function stopIgnoredWhenOrphaned(sig: number): boolean {
  return sig === SIGTSTP || sig === SIGTTIN || sig === SIGTTOU;
}

/**
 * do_notify_parent_cldstop: tell the real parent of p's process that it stopped
 * or continued, unless the parent's SIGCHLD action has SA_NOCLDSTOP; always wake
 * the parent's waiters.
 */
export function notifyParentCldstop(k: Kernel, p: Task, why: number): void {
  const parent = p.signal.leader.realParent;
  if (!parent) return;
  const a = getAction(parent, SIGCHLD);
  // SA_NOCLDSTOP suppresses the stop/continue SIGCHLD whatever the handler (do_notify_parent_cldstop).
  if (!(a.flags & SA_NOCLDSTOP) && a.handler !== "ign") {
    const sg = p.signal;
    // si_status: the signal that stopped it, or SIGCONT (do_notify_parent_cldstop).
    sendSignal(k, parent, SIGCHLD, true, new SigInfo(SIGCHLD, why, p.tgid, p.uid, why === CLD_CONTINUED ? SIGCONT : sg.groupExitCode & 0x7f));
  }
  wakeParent(k, parent);
}

/** __wake_up_parent: wake threads of parent's process sleeping in wait(). */
export function wakeParent(k: Kernel, parent: Task): void {
  if (parent.signal.waiting === 0) return;
  const wq = parent.signal.waitChldexit;
  for (const w of wq.sleepers()) wakeUp(k, w, TASK_INTERRUPTIBLE);
}

/** A blocked set from a user-supplied one, with SIGKILL/SIGSTOP removed. */
export function userMask(lo: number, hi = 0): SigSet {
  const s = new SigSet(lo >>> 0, hi >>> 0);
  sanitizeBlocked(s);
  return s;
}

export const STOP_MASK_LO = KERNEL_STOP_LO;
export { NSIG, TASK_STOPPED };

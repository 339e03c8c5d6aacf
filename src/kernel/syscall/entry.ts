/**
 * The user/kernel boundary: running a task's program between syscalls,
 * dispatching its requests, and delivering signals on the way back to user
 * mode (arch/x86/entry + kernel/signal.c get_signal, handle_signal).
 *
 * A syscall handler returns a result, or one of the markers below. A handler
 * that sleeps sets the task's state and returns BLOCK; when the task is woken
 * and runs again, the same handler is called again with the same request (as
 * a Linux wait loop re-checks its condition after schedule() returns), using
 * `task.sysState` to remember where it was. That retry always comes before
 * signal delivery: a sleeper woken by a signal first finishes its syscall or
 * returns a restart marker, and only then is the signal acted on, so a handler
 * sees -EINTR or a restart exactly as Linux decides them (handle_signal).
 */
import type { Kernel } from "../kernel.ts";
import type { Rq } from "../sched/rq.ts";
import {
  type Task, TASK_RUNNING, TASK_STOPPED, __TASK_STOPPED, PF_EXITING, PF_SIGNALED, SIGNAL_STOP_STOPPED, SIGNAL_STOP_CONTINUED, SIGNAL_GROUP_EXIT, SIGNAL_CLD_CONTINUED, SIGNAL_CLD_MASK,
} from "../task/task.ts";
import { EINTR, ENOSYS } from "../errno.ts";
import { SIGKILL, SIGSEGV, SIGXCPU, defaultAction, SigSet, SIGSTOP, signalName, bumpSigEpoch } from "../signal/signals.ts";
import {
  dequeueSignal, SigInfo, SA_SIGINFO, getAction, signalPending, sigPendingFast, setBlocked, SA_RESTART, SA_NODEFER, SA_RESETHAND, isOrphanedPgrp,
  stopIgnoredWhenOrphaned, notifyParentCldstop, CLD_STOPPED, CLD_CONTINUED, signalWakeUp,
} from "../signal/signal.ts";
import { doGroupExit, WCOREFLAG } from "../task/exit.ts";
import { syscalls } from "./table.ts";
import type { SyscallReq } from "../task/program.ts";

/** Syscalls the whole machine may make at one instant, as a multiple of the per-task step budget. */
const MACHINE_BUDGET_FACTOR = 10;

/** The task sleeps; retry the same request when it runs again. */
export const BLOCK = Symbol("BLOCK");
/** The task has CPU work to do first (task.computeLeft); task.result is already set. */
export const BURST = Symbol("BURST");
/** The task no longer runs this program (it exited, or exec replaced it). */
export const GONE = Symbol("GONE");
/** Interrupted by a signal: restart after the handler if SA_RESTART, or if no handler runs (-ERESTARTSYS). */
export const RESTARTSYS = Symbol("RESTARTSYS");
/** Interrupted: restart only if no handler runs, else -EINTR (-ERESTARTNOHAND, nanosleep's restart block). */
export const RESTARTNOHAND = Symbol("RESTARTNOHAND");

/** Interrupted before it did anything: always made again, after a handler too (-ERESTARTNOINTR, fork's). */
export const RESTARTNOINTR = Symbol("RESTARTNOINTR");
export type Marker = typeof BLOCK | typeof BURST | typeof GONE | typeof RESTARTSYS | typeof RESTARTNOHAND | typeof RESTARTNOINTR;
export type SysRet = number | object | string | Marker;
export type SysHandler = (k: Kernel, t: Task, req: SyscallReq) => SysRet;

/**
 * Runs t (rq.curr) until it must stop running user code for now. Returns true
 * when the CPU should look again (reschedule or t changed state), false when
 * t is in a burst of CPU time.
 */
export function runUser(k: Kernel, rq: Rq, t: Task): boolean {
  for (;;) {
    if (rq.needResched) return true;
    if (t.state !== TASK_RUNNING || t.flags & PF_EXITING) {
      rq.needResched = true;
      return true;
    }
    if (sigPendingFast(t)) {
      if (t.req !== null && t.restart === null) {
        // Woken in a syscall: it finishes or says how it was interrupted before a signal is delivered.
        complete(k, t, dispatch(k, t, t.req));
        continue;
      }
      getSignal(k, t);
      continue;
    }
    if (t.tifSigpending) t.tifSigpending = false; // get_signal found nothing left for it: recalc_sigpending clears
    if (t.restart !== null) t.restart = null; // the interrupting signal went elsewhere: just retry
    if (t.computeLeft > 0) return false;
    let r: SysRet;
    if (t.req !== null) {
      r = dispatch(k, t, t.req); // retry after a wakeup or a restart
    } else {
      const req = resume(k, t);
      if (req === null) continue; // crashed or ran away: it is dead now
      t.req = req;
      t.sysState = 0;
      traceEnter(k, t, req);
      r = dispatch(k, t, req);
    }
    complete(k, t, r);
  }
}

/** Applies a handler's verdict to the task. */
function complete(k: Kernel, t: Task, r: SysRet): void {
  if (r === BLOCK || r === GONE || r === BURST) return;
  if (r === RESTARTSYS || r === RESTARTNOHAND || r === RESTARTNOINTR) {
    t.restart = r;
    return; // signal delivery decides between restart and -EINTR
  }
  t.req = null;
  t.result = r;
  const cost = k.params.syscallCost;
  if (cost > 0) {
    t.computeLeft = cost;
    t.computeSys = true;
  }
}

/** Resumes the program; null if it threw or exceeded the step budget (it is then dead). */
function resume(k: Kernel, t: Task): SyscallReq | null {
  const now = k.now;
  if (t.stepsAt !== now) {
    t.stepsAt = now;
    t.steps = 0;
  }
  // init is TaskLab's own reaping loop, never a runaway program: neither budget may kill it (that would
  // panic the machine), though its syscalls count towards the machine's.
  if (++t.steps > k.params.stepBudget && t !== k.init) {
    k.warn(t, `made ${k.params.stepBudget} syscalls without using CPU time (step budget): killed with SIGXCPU`);
    forceFatal(k, t, SIGXCPU);
    return null;
  }
  // The machine-wide budget catches zero-time loops spread over many tasks (fork or clone storms).
  if (k.instantAt !== now) {
    k.instantAt = now;
    k.instantSteps = 0;
  }
  if (++k.instantSteps > MACHINE_BUDGET_FACTOR * k.params.stepBudget && t !== k.init) {
    k.warn(t, `the machine made ${MACHINE_BUDGET_FACTOR * k.params.stepBudget} syscalls at one instant without time passing (step budget): killed with SIGXCPU`);
    k.instantSteps = 0;
    forceFatal(k, t, SIGXCPU);
    return null;
  }
  const result = t.result;
  t.result = undefined;
  t.computeSys = false;
  const hb = k.heartbeat;
  if (hb !== null) {
    hb[0] = t.pid;
    hb[1]!++;
  }
  try {
    return t.co!.next(result);
  } catch (e) {
    k.warn(t, `program crashed: ${e instanceof Error ? e.message : String(e)}${whereThrown(e)} (killed with SIGSEGV)`);
    forceFatal(k, t, SIGSEGV);
    return null;
  } finally {
    if (hb !== null) hb[0] = 0;
  }
}

/**
 * " at file:line:col" of the throw, when it was the program's own code that
 * threw (the first stack frame with a file, skipping the engine's builtins);
 * nothing when TaskLab itself threw (a replay check, say).
 */
function whereThrown(e: unknown): string {
  if (!(e instanceof Error) || typeof e.stack !== "string") return "";
  for (const line of e.stack.split("\n").slice(1)) {
    const m = /\(?((?:file:\/\/)?[^()\s]+:\d+:\d+)\)?\s*$/.exec(line);
    if (!m || /^node:/.test(m[1]!)) continue;
    if (/\/src\/(kernel|user|sim|scenario|observe|cli)\/|node_modules/.test(m[1]!)) return "";
    // The file's name, not its path: the trace and --json must not depend on where the file sits on disk.
    const at = m[1]!.replace(/^file:\/\//, "");
    return ` at ${at.slice(at.lastIndexOf("/") + 1)}`;
  }
  return "";
}

/**
 * force_sig_fatal for a fault the program cannot survive: its code is gone, so
 * no handler can run; the process dies now with sig's default action (core or term).
 */
function forceFatal(k: Kernel, t: Task, sig: number): void {
  t.co = null;
  t.req = null;
  if (k.trace.on) k.trace.emit({ name: "signal_generate", ts: k.now, cpu: t.cpu, sig, errno: 0, code: 0x80, comm: t.comm, pid: t.pid, group: false, result: 0 });
  const core = defaultAction(sig) === "core" && k.params.rlimitCore > 0 ? WCOREFLAG : 0;
  t.flags |= PF_SIGNALED;
  doGroupExit(k, t, sig | core);
}

/** sys_enter: once per syscall entry (a retry after a wakeup is the same call; a restart is a new entry). */
function traceEnter(k: Kernel, t: Task, req: SyscallReq): void {
  if (k.trace.on) k.trace.emit({ name: "sys_enter", ts: k.now, cpu: t.cpu, pid: t.pid, id: req.nr, args: argsOf(req) });
}

/**
 * The table as a Map: a keyed load from a plain object with ~90 entries is
 * megamorphic in V8 and cost about 3 % of a busy run; Map.get hashes the
 * (interned, hash-cached) name.
 */
let handlers: ReadonlyMap<string, SysHandler> | null = null; // built at the first call: the modules import each other

/** Runs the handler for req (a first call or a retry); sys_exit is traced when it has a result. */
export function dispatch(k: Kernel, t: Task, req: SyscallReq): SysRet {
  const h = (handlers ??= new Map(Object.entries(syscalls) as [string, SysHandler][])).get(req.nr);
  if (!h) {
    if (k.trace.on) k.trace.emit({ name: "sys_exit", ts: k.now, cpu: t.cpu, pid: t.pid, id: req.nr, ret: -ENOSYS });
    return -ENOSYS;
  }
  const r = h(k, t, req);
  if (k.trace.on && typeof r !== "symbol") k.trace.emit({ name: "sys_exit", ts: k.now, cpu: t.cpu, pid: t.pid, id: req.nr, ret: r });
  return r;
}

function argsOf(req: SyscallReq): unknown[] {
  const a: unknown[] = [];
  for (const v of [req.a, req.b, req.c, req.d]) {
    if (v === undefined) break;
    a.push(snapshot(v, 0));
  }
  return a;
}

/**
 * The argument as it was at the call: arrays and plain objects are the program's own memory, which it may
 * change after the call returns; a kept event (TraceRecorder.events) must not change with them.
 */
function snapshot(v: unknown, depth: number): unknown {
  if (typeof v === "function") return "<fn>";
  if (typeof v !== "object" || v === null || depth > 3) return v;
  if (Array.isArray(v)) return Object.freeze(v.map((x) => snapshot(x, depth + 1)));
  if ((v as { constructor?: unknown }).constructor !== Object) return v; // a kernel record or class instance
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = snapshot(x, depth + 1);
  return Object.freeze(o);
}

/**
 * get_signal + handle_signal: take the next pending signal and act on it:
 * ignore, stop the group, kill the group, or run the handler.
 */
function getSignal(k: Kernel, t: Task): void {
  const sg = t.signal;
  // The first thread to run after a SIGCONT tells the parent (prepare_signal left the CLD_ code).
  if (sg.flags & SIGNAL_CLD_MASK) {
    const why = sg.flags & SIGNAL_CLD_CONTINUED ? CLD_CONTINUED : CLD_STOPPED;
    sg.flags &= ~SIGNAL_CLD_MASK;
    bumpSigEpoch();
    notifyParentCldstop(k, sg.leader, why);
    return;
  }
  // A task marked for death dies before any pending group stop is acted on.
  if (sg.flags & SIGNAL_GROUP_EXIT || t.pending.has(SIGKILL)) {
    t.pending.del(SIGKILL);
    t.jobctl = 0;
    doGroupExit(k, t, sg.flags & SIGNAL_GROUP_EXIT ? sg.groupExitCode : SIGKILL);
    t.flags |= PF_SIGNALED;
    return;
  }
  if (t.jobctl !== 0) {
    doSignalStop(k, t, t.jobctl);
    return;
  }
  const info = dequeueSignal(t);
  if (info === null) return;
  const sig = info.signo;
  const a = getAction(t, sig);
  if (k.trace.on)
    k.trace.emit({ name: "signal_deliver", ts: k.now, cpu: t.cpu, sig, errno: 0, code: info.code, sa_handler: typeof a.handler === "string" ? a.handler : "handler", sa_flags: a.flags, pid: t.pid });
  if (a.handler === "ign") return restartIfInterrupted(k, t);
  if (a.handler !== "dfl") return handleSignal(k, t, info, a.handler.fn, a.flags, a.mask);
  const act = defaultAction(sig);
  if (act === "ign" || act === "cont") return restartIfInterrupted(k, t);
  if (act === "stop") {
    if (sig !== SIGSTOP && stopIgnoredWhenOrphaned(sig) && isOrphanedPgrp(k, sg.pgid)) return restartIfInterrupted(k, t);
    beginGroupStop(k, t, sig);
    return;
  }
  const core = act === "core" && k.params.rlimitCore > 0 ? WCOREFLAG : 0;
  t.flags |= PF_SIGNALED;
  doGroupExit(k, t, sig | core);
}

/** No handler runs: an interrupted syscall is simply re-executed. */
function restartIfInterrupted(k: Kernel, t: Task): void {
  if (t.restart === null) return;
  t.restart = null;
  if (t.req !== null) traceEnter(k, t, t.req);
}

/** A stop signal's default action: every thread of the process stops (do_signal_stop). */
function beginGroupStop(k: Kernel, t: Task, sig: number): void {
  const sg = t.signal;
  sg.groupExitCode = sig;
  sg.groupStopCount = 0;
  for (const x of sg.threads) {
    if (x.flags & PF_EXITING || (x !== t && x.state & __TASK_STOPPED)) continue; // already stopped: not counted
    sg.groupStopCount++;
    if (x !== t) {
      x.jobctl = sig;
      // signal_wake_up: a sleeper wakes to stop (its syscall restarts after SIGCONT), a running thread is kicked.
      signalWakeUp(k, x, false);
    }
  }
  doSignalStop(k, t, sig);
}

/** This thread stops; the last one to stop makes the stop visible to the parent. */
function doSignalStop(k: Kernel, t: Task, sig: number): void {
  const sg = t.signal;
  t.jobctl = 0;
  restartIfInterrupted(k, t); // the interrupted syscall restarts after SIGCONT
  t.state = TASK_STOPPED;
  t.wchan = "do_signal_stop";
  if (sg.groupStopCount > 0 && --sg.groupStopCount === 0) {
    sg.flags = (sg.flags & ~SIGNAL_STOP_CONTINUED) | SIGNAL_STOP_STOPPED;
    sg.stopReport = sig;
    notifyParentCldstop(k, sg.leader, CLD_STOPPED);
  }
}

/**
 * handle_signal: save the interrupted context (rt_sigframe), block the handled
 * signal (unless SA_NODEFER) and sa_mask, and start the handler.
 */
function handleSignal(k: Kernel, t: Task, info: SigInfo, fn: unknown, flags: number, mask: SigSet | null): void {
  const sig = info.signo;
  let req = t.req;
  let result = t.result;
  if (t.restart !== null) {
    const restart = t.restart === RESTARTNOINTR || (t.restart === RESTARTSYS && flags & SA_RESTART);
    if (!restart) {
      req = null;
      result = -EINTR;
    }
    t.restart = null;
  }
  (t.sigFrames ??= []).push({ req, result, computeLeft: t.computeLeft, blocked: t.blocked.clone() });
  t.req = null;
  t.result = undefined;
  t.computeLeft = 0;
  const next = t.blocked.clone();
  if (mask) next.or(mask);
  if (!(flags & SA_NODEFER)) next.add(sig);
  setBlocked(k, t, next); // signal_setup_done -> set_current_blocked
  if (flags & SA_RESETHAND) t.sighand.set(sig, { ...getAction(t, sig), handler: "dfl" }); // SA_ONESHOT: only the handler goes back to SIG_DFL
  t.co!.pushHandler(fn, sig, flags & SA_SIGINFO ? info : undefined); // sa_sigaction(sig, info, ucontext)
}

/** rt_sigreturn: restore what the handler interrupted. */
export function sigreturn(k: Kernel, t: Task): SysRet {
  const f = t.sigFrames?.pop();
  if (!f) {
    k.warn(t, "rt_sigreturn without a signal frame (killed with SIGSEGV)");
    forceFatal(k, t, SIGSEGV);
    return GONE;
  }
  setBlocked(k, t, f.blocked); // set_current_blocked
  t.req = f.req;
  t.result = f.result;
  t.computeLeft = f.computeLeft;
  t.sysState = 0;
  if (f.req !== null) traceEnter(k, t, f.req); // an interrupted syscall restarts (SA_RESTART)
  return GONE; // not a result: the restored context continues as it was
}

export { signalName };

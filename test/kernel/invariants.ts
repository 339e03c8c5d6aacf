/**
 * Kernel invariants that must hold between any two events, whatever programs do.
 * Shared by the randomized property test and the determinism test.
 */
import type { Kernel } from "../../src/kernel/kernel.ts";
import { fatalSignalPending, signalPending } from "../../src/kernel/signal/signal.ts";
import { sigEpoch } from "../../src/kernel/signal/signals.ts";
import { seOf, type FairRq } from "../../src/kernel/sched/fair_common.ts";
import { weightOf } from "../../src/kernel/sched/weights.ts";
import { doWaitOnce, WNOWAIT, WEXITED, P_ALL, P_PID, P_PGID, type WaitReq } from "../../src/kernel/task/wait.ts";
import {
  type Task, TASK_RUNNING, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_KILLABLE, TASK_STOPPED, TASK_DEAD, EXIT_ZOMBIE,
} from "../../src/kernel/task/task.ts";

const LIVE_STATES = new Set([TASK_RUNNING, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_KILLABLE, TASK_STOPPED]);

function fail(what: string, t?: Task): never {
  throw new Error(`invariant broken: ${what}${t ? ` (pid ${t.pid} ${t.comm} state ${t.state} exit ${t.exitState})` : ""}`);
}

/** Throws with a description of the first broken invariant. */
export function checkInvariants(k: Kernel): void {
  const onRqCount = new Map<Task, number>();
  for (const rq of k.rqs) {
    let n = 0;
    for (const p of rq.tasks) if (!p.onRq || p.cpu !== rq.cpu) fail(`cpu ${rq.cpu}: listed on the runqueue but not on it`, p);
    if (rq.curr !== rq.idle && rq.curr.onRq !== rq.tasks.has(rq.curr)) fail(`cpu ${rq.cpu}: curr listed on the runqueue ${rq.tasks.has(rq.curr)}, onRq ${rq.curr.onRq}`, rq.curr);
    for (const p of rq.queued) {
      if (p === rq.curr) fail(`cpu ${rq.cpu}: curr is also queued`, p);
      if (p.state !== TASK_RUNNING) fail(`cpu ${rq.cpu}: a queued task is not runnable`, p);
      if (p.cpu !== rq.cpu) fail(`cpu ${rq.cpu}: queued task says it is on cpu ${p.cpu}`, p);
      if (!p.onRq) fail(`cpu ${rq.cpu}: queued task has onRq false`, p);
      onRqCount.set(p, (onRqCount.get(p) ?? 0) + 1);
      n++;
    }
    const c = rq.curr;
    if (c !== rq.idle) {
      if (c.cpu !== rq.cpu) fail(`cpu ${rq.cpu}: curr says it is on cpu ${c.cpu}`, c);
      if (c.onRq) {
        onRqCount.set(c, (onRqCount.get(c) ?? 0) + 1);
        n++;
      }
      if (c.state !== TASK_RUNNING && !rq.needResched) fail(`cpu ${rq.cpu}: curr is not runnable and no reschedule is pending`, c);
    }
    if (rq.nrRunning !== n) fail(`cpu ${rq.cpu}: nrRunning ${rq.nrRunning} but ${n} tasks are on it`);
    // The per-class counts pick_next_task relies on.
    const byClass = new Array<number>(k.classes.length).fill(0);
    for (const p of rq.tasks) byClass[p.sclass]!++;
    for (let c = 0; c < k.classes.length - 1; c++)
      if (byClass[c] !== rq.classNr[c]) fail(`cpu ${rq.cpu}: ${byClass[c]} tasks of class ${k.classes[c]!.name} listed, classNr says ${rq.classNr[c]}`);
    // Tasks a class keeps queued while they sleep (EEVDF delayed dequeue): asleep, off the core's runqueue, counted per class.
    const delayedByClass = new Array<number>(k.classes.length).fill(0);
    for (const t of k.tasks.values()) {
      const cls = k.classes[t.sclass]!;
      if (t.cpu !== rq.cpu || cls.delayed === undefined || !cls.delayed(t)) continue;
      if (t.onRq || t.state === TASK_RUNNING || t.exitState !== 0) fail(`cpu ${rq.cpu}: a delayed task is runnable, queued or dead`, t);
      delayedByClass[t.sclass]!++;
    }
    for (let c = 0; c < k.classes.length; c++)
      if (delayedByClass[c] !== rq.classDelayed[c]) fail(`cpu ${rq.cpu}: ${delayedByClass[c]} delayed tasks of class ${k.classes[c]!.name}, classDelayed says ${rq.classDelayed[c]}`);
    const fairQ = rq.cfs as { nrRunning?: number; nrDelayed?: number } | null;
    if (fairQ?.nrDelayed !== undefined) {
      const fair = k.classes.findIndex((c) => c.delayed !== undefined);
      if (fairQ.nrDelayed !== rq.classDelayed[fair]) fail(`cpu ${rq.cpu}: the fair queue counts ${fairQ.nrDelayed} delayed, the core ${rq.classDelayed[fair]}`);
      if (fairQ.nrRunning !== rq.classNr[fair]! + fairQ.nrDelayed) fail(`cpu ${rq.cpu}: the fair queue holds ${fairQ.nrRunning}, runnable ${rq.classNr[fair]} + delayed ${fairQ.nrDelayed}`);
    }
    checkFairQueue(k, rq);
    let load = 0;
    for (const t of rq.tasks) {
      load += t.loadWeight;
      // Only a realtime or deadline task's nice may change without a requeue (set_user_nice only remembers it).
      if (t.loadWeight !== weightOf(t) && (t.policy === 0 || t.policy === 3 || t.policy === 5)) fail(`cpu ${rq.cpu}: a fair task queued with weight ${t.loadWeight}, its nice says ${weightOf(t)}`, t);
    }
    if (load !== rq.load) fail(`cpu ${rq.cpu}: load ${rq.load}, its tasks weigh ${load}`);
    // The class trees: balanced, ordered, and no key changed behind the tree's back.
    for (const q of [rq.cfs, rq.dl] as ({ tree?: { check(): void } } | null)[]) {
      try {
        q?.tree?.check();
      } catch (e) {
        fail(`cpu ${rq.cpu}: ${(e as Error).message}`);
      }
    }
  }
  for (const [p, n] of onRqCount) if (n > 1) fail(`task on ${n} runqueues`, p);

  const pidsInUse = new Set<number>();
  for (const [pid, t] of k.tasks) {
    if (t.pid !== pid) fail(`tasks map key ${pid} holds pid ${t.pid}`, t);
    if (k.pids.isFree(pid)) fail(`pid ${pid} is in use but free in the allocator`, t);
    pidsInUse.add(pid);
    // exactly one state
    if (t.exitState === 0) {
      if (!LIVE_STATES.has(t.state)) fail(`live task in state 0x${t.state.toString(16)}`, t);
      if (t.state === TASK_RUNNING && !t.onRq) fail("runnable task on no runqueue", t);
      if (t.state !== TASK_RUNNING && t.onRq && k.rqs[t.cpu]!.curr !== t) fail("sleeping task still queued", t);
    } else {
      // only zombies wait to be reaped
      if (t.exitState !== EXIT_ZOMBIE) fail("released task still in the task table", t);
      if (t.state !== TASK_DEAD) fail("zombie not TASK_DEAD", t);
      if (!t.isLeader()) fail("a non-leader thread is a zombie (threads are self-reaped)", t);
      if (t.onRq && k.rqs[t.cpu]!.curr !== t) fail("zombie still queued", t);
    }
    if (t.exitState === 0) checkNoLostWakeup(k, t);
    // A cached "no signal pending" that claims to be current must be right (every change moved sigEpoch).
    if (t.sigPendingCache === sigEpoch && signalPending(t)) fail(`stale pending-signal cache: says none pending at epoch ${sigEpoch}`, t);
    // thread group
    const sg = t.signal;
    if (!sg.threads.includes(t)) fail("task missing from its thread group", t);
    if (t.tgid !== sg.leader.pid) fail(`tgid ${t.tgid} is not the leader's pid ${sg.leader.pid}`, t);
    for (const th of sg.threads) if (k.tasks.get(th.pid) !== th) fail("thread group holds a released task", th);
    // family
    for (const c of t.children) {
      if (c.realParent !== t) fail(`child ${c.pid} has realParent ${c.realParent?.pid}`, t);
      if (k.tasks.get(c.pid) !== c) fail(`child ${c.pid} was released but is still in children`, t);
      if (!c.isLeader()) fail(`child ${c.pid} is a thread, not a process`, t);
    }
    if (t !== k.init && t.isLeader()) {
      const par = t.realParent;
      if (!par) fail("process without a parent", t);
      if (!par.children.has(t)) fail(`parent ${par.pid} does not list it as a child`, t);
      if (k.tasks.get(par.pid) !== par) fail(`parent ${par.pid} was released`, t);
      if (par.exitState !== 0 && t.exitState === 0 && par.children.size > 0 && par.signal.live === 0)
        fail(`live process still parented by dead ${par.pid}`, t);
    }
    if (!t.isLeader() && t.realParent !== sg.leader.realParent) fail("thread's parent differs from its leader's", t);
    // process groups and sessions
    if (t.isLeader()) {
      if (!k.pgrps.get(sg.pgid)?.has(sg)) fail(`process not in its group ${sg.pgid}`, t);
      if (!k.sessions.get(sg.sid)?.has(sg)) fail(`process not in its session ${sg.sid}`, t);
    }
  }
  for (const [id, set] of k.pgrps) {
    if (set.size === 0) fail(`empty group ${id} kept`);
    for (const sg of set) if (sg.pgid !== id || k.tasks.get(sg.leader.pid) !== sg.leader) fail(`group ${id} holds a stale process`);
    pidsInUse.add(id);
  }
  for (const [id, set] of k.sessions) {
    if (set.size === 0) fail(`empty session ${id} kept`);
    for (const sg of set) if (sg.sid !== id || k.tasks.get(sg.leader.pid) !== sg.leader) fail(`session ${id} holds a stale process`);
    pidsInUse.add(id);
  }
  if (k.pids.count !== pidsInUse.size) fail(`pid allocator counts ${k.pids.count} numbers in use, but ${pidsInUse.size} are referenced`);
}

/** What a fair queue holds, entity by entity, agrees with its counts and with the tasks (a review's stronger check). */
function checkFairQueue(k: Kernel, rq: Kernel["rqs"][number]): void {
  const fair = k.classes.findIndex((c) => c.name === "eevdf" || c.name === "cfs");
  if (fair < 0) return;
  const cfs = rq.cfs as FairRq & { nrDelayed?: number; avgLoad?: number; next?: { onRq: boolean; delayed: boolean; home: unknown; task: Task } | null };
  // EEVDF's next buddy (NEXT_BUDDY) is a queued, not delayed, entity of this queue, or nobody.
  const nb = cfs.next;
  if (nb !== undefined && nb !== null && (!nb.onRq || nb.delayed || nb.home !== cfs)) fail(`cpu ${rq.cpu}: the next buddy is not a runnable entity of this queue`, nb.task);
  let n = 0;
  let load = 0;
  let delayed = 0;
  for (let node = cfs.tree.first(); node !== null; node = cfs.tree.next(node)) {
    const se = node.value;
    const t = se.task;
    n++;
    load += se.weight;
    if (se.delayed) delayed++;
    if (!se.onRq) fail(`cpu ${rq.cpu}: an entity in the fair tree is not on the queue`, t);
    if (t.se !== se) fail(`cpu ${rq.cpu}: a stale entity in the fair tree`, t);
    if (t.sclass !== fair) fail(`cpu ${rq.cpu}: the entity of a task of class ${k.classes[t.sclass]!.name} in the fair tree`, t);
    if (t.cpu !== rq.cpu) fail(`cpu ${rq.cpu}: the entity of a task on cpu ${t.cpu} in the fair tree`, t);
    if (k.tasks.get(t.pid) !== t) fail(`cpu ${rq.cpu}: the entity of a released task in the fair tree`, t);
    if (se.relDeadline) fail(`cpu ${rq.cpu}: a queued entity still holds a relative deadline`, t);
    if (!se.delayed && !t.onRq) fail(`cpu ${rq.cpu}: a task off the runqueue, not delayed, in the fair tree`, t);
  }
  const c = cfs.curr;
  if (c !== null && c.onRq) {
    n++;
    load += c.weight;
    if (c.task !== rq.curr) fail(`cpu ${rq.cpu}: the fair queue's curr is not the CPU's curr`, c.task);
    if (c.delayed) fail(`cpu ${rq.cpu}: the fair queue's curr is delayed between events`, c.task);
  }
  if (n !== cfs.nrRunning) fail(`cpu ${rq.cpu}: the fair queue counts ${cfs.nrRunning} entities, holds ${n}`);
  if (Math.abs(load - cfs.load) > 1e-6) fail(`cpu ${rq.cpu}: the fair queue's load ${cfs.load}, its entities weigh ${load}`);
  if (cfs.avgLoad !== undefined && Math.abs(load - (c !== null && c.onRq ? c.weight : 0) - cfs.avgLoad) > 1e-6)
    fail(`cpu ${rq.cpu}: the tree's avg_load ${cfs.avgLoad} is not the weight of its entities`);
  if (cfs.nrDelayed !== undefined && delayed !== cfs.nrDelayed) fail(`cpu ${rq.cpu}: the fair queue counts ${cfs.nrDelayed} delayed, its tree holds ${delayed}`);
  for (const t of rq.tasks) if (t.sclass === fair && t !== rq.curr && !seOf(t).node.onTree) fail(`cpu ${rq.cpu}: a queued fair task is not in the tree`, t);
}

/** The request a task sleeping in wait4/waitid is waiting for, as a side-effect-free WNOWAIT query. */
function waitQuery(k: Kernel, t: Task): WaitReq | null {
  const r = t.req;
  if (!r) return null;
  if (r.nr === "wait4") {
    const pid = r.a as number;
    const options = ((r.b as number) | WEXITED | WNOWAIT) >>> 0;
    if (pid === -1) return { type: "all", id: 0, options };
    if (pid > 0) return { type: "pid", id: pid, options };
    return { type: "pgid", id: pid === 0 ? t.signal.pgid : -pid, options };
  }
  if (r.nr === "waitid") {
    const options = ((r.c as number) | WNOWAIT) >>> 0;
    const id = r.b as number;
    if (r.a === P_ALL) return { type: "all", id: 0, options };
    if (r.a === P_PID) return { type: "pid", id, options };
    if (r.a === P_PGID) return { type: "pgid", id: id === 0 ? t.signal.pgid : id, options };
  }
  return null;
}

/** A sleeper must not sleep through what should wake it. */
function checkNoLostWakeup(k: Kernel, t: Task): void {
  if (t.state === TASK_INTERRUPTIBLE && ownSignalPending(t)) fail("interruptible sleeper with a deliverable signal (lost wakeup)", t);
  if (t.isLeader() && sharedSignalStuck(t)) fail("a process-directed signal is pending but no thread that can take it runs (lost wakeup)", t);
  if ((t.state === TASK_KILLABLE || t.state === TASK_STOPPED) && fatalSignalPending(t)) fail("killable/stopped task with a fatal signal pending (lost wakeup)", t);
  if (t.state === TASK_KILLABLE && t.wchan === "wait_for_vfork_done") {
    const c = t.vforkChild;
    if (!c || c.vforkParent !== t || c.exitState !== 0 || k.tasks.get(c.pid) !== c) fail("vfork parent sleeps but its child is done (lost wakeup)", t);
  }
  if (t.state === TASK_INTERRUPTIBLE && t.wchan === "do_wait") {
    if (!t.signal.waitChldexit.has(t) || t.waitingOn !== t.signal.waitChldexit) fail("wait sleeper not on its wait queue", t);
    // Linux does not wake waiters when a child changes process group (or is reaped by a sibling
    // thread), so only a reportable child, or no child at all for an any/pid wait, is a lost wakeup.
    const q = waitQuery(k, t);
    if (q && q.type !== "pgid") {
      const r = doWaitOnce(k, t, q);
      if (r !== 0) fail(`sleeps in wait although wait would now return ${typeof r === "number" ? r : `pid ${r.pid} status 0x${r.status.toString(16)}`} (lost wakeup)`, t);
    }
  }
  if (t.state === TASK_INTERRUPTIBLE && t.wchan === "hrtimer_nanosleep" && !t.timer?.armed) fail("nanosleep without an armed timer", t);
  if (t.state === TASK_UNINTERRUPTIBLE && t.wchan === "io_schedule" && !t.timer?.armed) fail("io wait without an armed timer", t);
  if (t.co === null && t.state !== TASK_RUNNING) fail("live task without a program", t);
}

/** Thread-directed: TIF_SIGPENDING is set on this thread (pending set or job-control work). */
function ownSignalPending(t: Task): boolean {
  return t.pending.firstUnblocked(t.blocked) !== 0 || t.jobctl !== 0;
}

/**
 * Process-directed: complete_signal wakes one thread that does not block the
 * signal; the others may sleep on. Stuck means such threads exist but all sleep
 * interruptibly (a stopped process keeps signals pending until SIGCONT).
 */
function sharedSignalStuck(leader: Task): boolean {
  const sg = leader.signal;
  if (sg.sharedPending.empty()) return false;
  let sleepers = 0;
  for (const th of sg.threads) {
    if (th.exitState !== 0 || sg.sharedPending.firstUnblocked(th.blocked) === 0) continue;
    if (th.state !== TASK_INTERRUPTIBLE) return false; // running, stopped, or in an uninterruptible wait
    sleepers++;
  }
  return sleepers > 0;
}

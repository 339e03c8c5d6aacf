/**
 * The scheduler core (kernel/sched/core.c): per-CPU runqueues, schedule(),
 * wakeups, preemption and CPU selection. Policy lives in the classes; the core
 * calls their hooks and applies what they decide.
 *
 * Tickless in the implementation, tick-exact in behaviour (DESIGN.md section 2):
 * each CPU has one event. When it fires, the CPU accounts the time its current
 * task ran, ends a compute burst that is done, runs the scheduler tick if one
 * is due, and reschedules if asked. It then arms itself for the earliest of:
 * the end of the current burst, and the first tick at which the class says the
 * current task must be looked at. Ticks in which nothing can change are skipped.
 */
import { Prio } from "../../sim/engine.ts";
import type { Kernel } from "../kernel.ts";
import { KernelPanic } from "../errno.ts";
import { SCHED_DEADLINE, TASK_RUNNING, TASK_NEW, PF_IDLE, TASK_UNINTERRUPTIBLE, TASK_NOLOAD, TASK_DEAD, __TASK_STOPPED, __TASK_TRACED, type Task } from "../task/task.ts";
import { loadCatchUp } from "./loadavg.ts";
import { groupType, HAS_SPARE, IMBALANCE_PCT, type Rq } from "./rq.ts";
import {
  DEQUEUE_SAVE, DEQUEUE_MOVE, ENQUEUE_RESTORE, ENQUEUE_MOVE, ENQUEUE_HEAD, DEQUEUE_MIGRATING, DEQUEUE_SLEEP, DEQUEUE_SPECIAL, ENQUEUE_DELAYED, ENQUEUE_INITIAL, ENQUEUE_MIGRATED, ENQUEUE_WAKEUP,
  WF_FORK, WF_TTWU,
} from "./class.ts";
import { runUser } from "../syscall/entry.ts";
import { stateLetter } from "../task/state.ts";
import { newIdleBalance, armBalance, activeBalanceStop } from "./balance.ts";
import { weightOf } from "./weights.ts";

/** Sets up runqueues, idle tasks and CPU events. `makeIdle` builds swapper/N. */
export function schedInit(k: Kernel, makeIdle: (cpu: number) => Task): void {
  for (const rq of k.rqs) {
    for (const c of k.classes) c.initRq(rq);
    rq.classNr = new Int32Array(k.classes.length);
    rq.classDelayed = new Int32Array(k.classes.length);
    const idle = makeIdle(rq.cpu);
    idle.flags |= PF_IDLE;
    idle.state = TASK_RUNNING;
    idle.onRq = true;
    idle.cpu = rq.cpu;
    idle.sclass = k.classes.length - 1;
    rq.idle = idle;
    rq.curr = idle;
    // CPUs whose events fall at the same instant run in CPU order, however their events were armed: a CPU that
    // wakes at every tick and one that wakes only when asked then see the instant's events in the same order.
    rq.timer = k.newTimer(Prio.CPU, () => cpuEvent(k, rq), null, rq.cpu);
    rq.kick = () => {
      if (k.activeRq !== rq) k.engine.arm(rq.timer, k.now);
    };
  }
}

/**
 * Charges the time since curr.execStart to curr (update_curr). If now is a
 * tick boundary whose tick a ticking CPU would already have taken by this
 * point of the instant (see tickPassed), and this CPU has not, the tick is
 * taken here: the instant's later events then see what they would see on a
 * ticking kernel.
 */
export function updateCurr(k: Kernel, rq: Rq): void {
  const curr = rq.curr;
  const now = k.now;
  const delta = now - curr.execStart;
  if (delta > 0) charge(k, rq, curr, now, delta);
  if (rq.lastTick < now && Math.floor(now / k.tickNs) * k.tickNs === now && tickPassed(k, rq)) {
    rq.lastTick = now; // an idle CPU's tick passes too: a task switched in later in the instant is not ticked
    if (curr !== rq.idle) k.classes[curr.sclass]!.taskTick(rq, curr);
  }
}

/**
 * Brings rq's accounting up to the last tick a ticking CPU would have taken
 * by now, and takes that tick: what another CPU reads of this one's queue
 * (CFS's min_vruntime when a task wakes away from it) is then what it would
 * read on a ticking kernel, not a value left stale by skipped ticks.
 */
export function catchUpToTick(k: Kernel, rq: Rq): void {
  const curr = rq.curr;
  if (curr === rq.idle) return;
  const tick = k.tickNs;
  let b = Math.floor(k.now / tick) * tick;
  if (b === k.now && !tickPassed(k, rq)) b -= tick;
  if (b <= rq.lastTick || curr.execStart > b) return; // taken, or accounted past it (which replayed it)
  if (b > curr.execStart) charge(k, rq, curr, b, b - curr.execStart);
  rq.lastTick = b;
  k.classes[curr.sclass]!.taskTick(rq, curr);
}

/**
 * At a tick boundary, whether a CPU that wakes at every tick would already
 * have had its tick at this point of the instant: wakeups (timers) come
 * first, then the CPUs' events in CPU order, then housekeeping. What counts
 * is how far the instant has got, not the event being fired: a CPU event
 * armed again after housekeeping, or after a higher CPU's event, fires
 * later in the instant than its number says.
 */
function tickPassed(k: Kernel, rq: Rq): boolean {
  const e = k.engine;
  return e.instantPrio > Prio.CPU || (e.instantPrio === Prio.CPU && e.instantOrder >= rq.cpu);
}

function charge(k: Kernel, rq: Rq, curr: Task, now: number, delta: number): void {
  curr.execStart = now;
  if (curr === rq.idle) return;
  curr.sumExecRuntime += delta;
  rq.busyTime += delta;
  if (curr.computeLeft > 0) {
    const used = Math.min(delta, curr.computeLeft);
    curr.computeLeft -= used;
    if (curr.computeLeft === 0) rq.burstEndAt = now; // seen by burstEndFirst, whoever did the accounting
    if (curr.computeSys) curr.stime += used;
    else curr.utime += used;
    curr.stime += delta - used;
  } else {
    curr.stime += delta;
  }
  k.classes[curr.sclass]!.updateCurr(rq, curr, delta);
}

/**
 * The CPU's event. Does not return until the CPU has something that takes time
 * (a burst) or is idle; then re-arms itself.
 */
export function cpuEvent(k: Kernel, rq: Rq): void {
  const prevActive = k.activeRq;
  k.activeRq = rq;
  // Accounts curr and, at a tick boundary, takes the tick whether due or not, as a ticking CPU would: only
  // ticks at which the CPU has no event are skipped, and the fair classes replay those when they next charge
  // curr (firstTickIn).
  const curr = rq.curr;
  updateCurr(k, rq);
  // The burst may have been accounted earlier in this instant (a wakeup on this CPU syncs curr first).
  if (rq.burstEndAt === k.now && curr !== rq.idle && curr.computeLeft === 0 && rq.needResched && rq.curr === curr) burstEndFirst(k, rq, curr);
  cpuLoop(k, rq);
  k.activeRq = prevActive;
  rearm(k, rq);
}

/**
 * A burst that ends at the very instant a reschedule falls due (a slice or a
 * deadline budget used up exactly, a wakeup at that instant) is complete:
 * the task makes its next, zero-time, syscall before the switch, so a job
 * that fits its budget exactly can still go to sleep in it. (The order of
 * two things at one nanosecond is TaskLab's to choose; this is the one that
 * lets a deadline task with runtime equal to its burst meet its deadlines.)
 */
function burstEndFirst(k: Kernel, rq: Rq, curr: Task): void {
  rq.needResched = false;
  runUser(k, rq, curr);
  rq.needResched = true;
}

/** Runs user code and schedule() on this CPU until curr needs time to pass. */
function cpuLoop(k: Kernel, rq: Rq): void {
  for (let guard = 0; ; guard++) {
    if (guard > 10_000_000) throw new KernelPanic(`cpu ${rq.cpu} loops without time passing`);
    if (rq.needResched) schedule(k, rq);
    const curr = rq.curr;
    if (curr === rq.idle) return;
    if (!runUser(k, rq, curr)) return; // curr is in a burst
  }
}

/** Arms the CPU's event for the end of curr's burst or its next tick check. */
export function rearm(k: Kernel, rq: Rq): void {
  const curr = rq.curr;
  if (curr === rq.idle) {
    rq.tickDue = Infinity;
    if (rq.needResched) k.engine.arm(rq.timer, k.now);
    else k.engine.cancel(rq.timer);
    return;
  }
  const now = k.now;
  if (curr.computeLeft === 0) {
    // Its burst ended (accounted from outside the CPU's event): it must go back to user code now.
    k.engine.arm(rq.timer, now);
    return;
  }
  // computeLeft is as of execStart (the last accounting point, or the start of the run after a switch cost).
  let at = curr.computeLeft > 0 ? curr.execStart + curr.computeLeft : Infinity;
  const check = k.classes[curr.sclass]!.nextCheck(rq, curr);
  if (check !== Infinity) {
    const tick = k.tickNs;
    let t = Math.ceil(Math.max(check, now) / tick) * tick;
    // The tick at this instant is over if handled here already, or if the event being fired comes after
    // every CPU's event of the instant (housekeeping, such as the balancer): a ticking CPU had its tick first.
    if (t === rq.lastTick || (t === now && tickPassed(k, rq))) t += tick;
    rq.tickDue = t;
    if (t < at) at = t;
  } else {
    rq.tickDue = Infinity;
  }
  if (rq.needResched) at = now;
  if (at === Infinity) k.engine.cancel(rq.timer);
  else if (!(rq.timer.armed && rq.timer.time === at)) k.engine.arm(rq.timer, at); // unchanged: keep its place
}

/**
 * Picks the next task and switches to it (__schedule). A prev that is no longer
 * TASK_RUNNING leaves the runqueue here: that is a voluntary switch.
 */
export function schedule(k: Kernel, rq: Rq): void {
  const prev = rq.curr;
  rq.needResched = false;
  const yielded = rq.yielded;
  rq.yielded = false;
  updateCurr(k, rq);
  let voluntary = false;
  if (prev !== rq.idle && prev.state !== TASK_RUNNING && prev.onRq) {
    // Stopped, traced and dead tasks are put to sleep from outside: no delayed dequeue (DEQUEUE_SPECIAL).
    deactivateTask(k, rq, prev, prev.state & (__TASK_STOPPED | __TASK_TRACED | TASK_DEAD) ? DEQUEUE_SLEEP | DEQUEUE_SPECIAL : DEQUEUE_SLEEP);
    voluntary = true;
  }
  if (prev !== rq.idle) k.classes[prev.sclass]!.putPrevTask(rq, prev);
  if (prev.migratePending) moveOffDisallowed(k, rq, prev);
  if (rq.pushCpu >= 0) activeBalanceStop(k, rq, prev);
  if (prev !== rq.idle) balanceClasses(k, rq, prev);
  let next = pickNextTask(k, rq);
  if (next === rq.idle && newIdleBalance(k, rq)) next = pickNextTask(k, rq);
  rq.curr = next; // before setNextTask: a class that pushes work elsewhere there sees a consistent rq
  if (next !== rq.idle) k.classes[next.sclass]!.setNextTask(rq, next);
  if (prev !== next) contextSwitch(k, rq, prev, next, voluntary, yielded);
}

/**
 * put_prev_task_balance: the balance hooks of prev's class and of each lower
 * class in turn, until a class at or above the one just balanced has a task
 * to run (then nothing lower can matter).
 */
function balanceClasses(k: Kernel, rq: Rq, prev: Task): void {
  const cl = k.classes;
  for (let i = prev.sclass; i < cl.length - 1; i++) {
    const b = cl[i]!.balance;
    if (b === undefined) continue;
    b(rq, prev);
    for (let j = 0; j <= i; j++) if (rq.classNr[j] !== 0 && cl[j]!.pickTask(rq) !== null) return;
  }
}

/**
 * prev's mask stopped allowing this CPU while it ran: it moves to an allowed
 * CPU before anything else is picked here (migration_cpu_stop). Caller: schedule(), after putPrevTask.
 */
function moveOffDisallowed(k: Kernel, rq: Rq, prev: Task): void {
  prev.migratePending = false;
  if (!prev.onRq || allowed(prev, rq.cpu)) return;
  deactivateTask(k, rq, prev, DEQUEUE_MIGRATING);
  rq.curr = rq.idle; // prev no longer belongs to this CPU
  placeElsewhere(k, prev);
}

/** Queues a dequeued runnable task on a CPU its affinity allows. */
export function placeElsewhere(k: Kernel, p: Task): void {
  const cpu = selectTaskRq(k, p, WF_TTWU);
  setTaskCpu(k, p, cpu);
  const dst = k.rqs[cpu]!;
  activateTask(k, dst, p, ENQUEUE_MIGRATED);
  checkPreempt(k, dst, p, ENQUEUE_MIGRATED);
}

/**
 * The class chain, highest first; idle when none offers a task. A class with
 * no task on this runqueue is not asked (the kernel's fast path does the same
 * when every runnable task is fair), unless it still holds sleeping tasks
 * whose dequeue it delayed: its pick finishes that.
 */
function pickNextTask(k: Kernel, rq: Rq): Task {
  const cl = k.classes;
  const nr = rq.classNr;
  for (let i = 0; i < cl.length - 1; i++) {
    if (nr[i] === 0 && rq.classDelayed[i] === 0) continue;
    const p = cl[i]!.pickTask(rq);
    if (p) return p;
  }
  return rq.idle;
}

function contextSwitch(k: Kernel, rq: Rq, prev: Task, next: Task, voluntary: boolean, yielded: boolean): void {
  const now = k.now;
  rq.nrSwitches++;
  if (prev !== rq.idle) {
    if (voluntary) prev.nvcsw++;
    else prev.nivcsw++;
    if (prev.onRq) prev.lastQueued = now;
  }
  let cost = 0;
  if (next !== rq.idle) {
    next.runDelay += now - next.lastQueued;
    if (next.firstRun < 0) next.firstRun = now;
    if (prev !== rq.idle) cost = prev.mm !== null && prev.mm === next.mm ? k.params.threadSwitchCost : k.params.contextSwitchCost;
    next.stime += cost;
  }
  next.execStart = now + cost;
  if (k.trace.on) {
    k.trace.emit({
      name: "sched_switch", ts: now, cpu: rq.cpu,
      prev_comm: prev.comm, prev_pid: prev.pid, prev_prio: prev.prio, prev_state: prevState(prev, yielded),
      next_comm: next.comm, next_pid: next.pid, next_prio: next.prio,
    });
  }
}

/**
 * prev_state as the sched_switch tracepoint prints it (__trace_sched_switch_state): R+ for a
 * preempted runnable task, R for one that called schedule() itself while runnable (sched_yield).
 */
function prevState(p: Task, yielded: boolean): string {
  if (p.state === TASK_RUNNING && p.exitState === 0) return p.flags & PF_IDLE || yielded ? "R" : "R+";
  return stateLetter(p);
}

/** Puts p on rq (activate_task). */
export function activateTask(k: Kernel, rq: Rq, p: Task, flags: number): void {
  if (k.now >= k.nextLoadSample) loadCatchUp(k);
  k.classes[p.sclass]!.enqueueTask(rq, p, flags);
  p.onRq = true;
  rq.nrRunning++;
  p.loadWeight = weightOf(p);
  rq.load += p.loadWeight;
  rq.classNr[p.sclass]!++;
  rq.tasks.add(p);
  if (rq.curr !== p) p.lastQueued = k.now;
  if (rq.nrRunning >= 2) armBalance(k);
}

/** Takes p off rq (deactivate_task). A task going to sleep in D starts counting as uninterruptible. */
export function deactivateTask(k: Kernel, rq: Rq, p: Task, flags: number): void {
  if (k.now >= k.nextLoadSample) loadCatchUp(k);
  if (flags & DEQUEUE_SLEEP && p.state & TASK_UNINTERRUPTIBLE && !(p.state & TASK_NOLOAD)) {
    p.inLoadD = true;
    k.nrUninterruptible++;
  }
  k.classes[p.sclass]!.dequeueTask(rq, p, flags); // false: the class keeps it queued (delayed); to the core it is off
  p.onRq = false;
  rq.nrRunning--;
  rq.load -= p.loadWeight;
  rq.classNr[p.sclass]!--;
  rq.tasks.delete(p);
  // Taken off from outside this CPU's event (balancer, pull, kill): its current task's next check may move
  // (CFS's period shrinks with fewer tasks).
  if (k.activeRq !== rq) rearm(k, rq);
}

/** Asks rq to preempt its current task for p if p's class or the class's rule says so (wakeup_preempt). */
export function checkPreempt(k: Kernel, rq: Rq, p: Task, flags: number): void {
  const curr = rq.curr;
  if (curr === rq.idle || p.sclass < curr.sclass) rq.resched();
  else if (p.sclass === curr.sclass) k.classes[p.sclass]!.wakeupPreempt(rq, p, flags);
  if (!rq.needResched && k.activeRq !== rq) rearm(k, rq);
}

/** p's affinity allows `cpu`. */
export function allowed(p: Task, cpu: number): boolean {
  return p.cpusAllowed === null || p.cpusAllowed[cpu] === 1;
}

/** nr_cpus_allowed > 1: push and pull may move p. */
export function mayMigrate(p: Task): boolean {
  const m = p.cpusAllowed;
  if (m === null) return true;
  let n = 0;
  for (let c = 0; c < m.length && n < 2; c++) n += m[c]!;
  return n > 1;
}

/**
 * Chooses a CPU for p (select_task_rq). Classes may decide; otherwise: on fork,
 * an idle allowed CPU, else the least loaded if clearly less loaded than the
 * forking CPU (forkCpu); on wakeup, the previous CPU
 * if idle, else an idle allowed CPU, else the previous CPU (select_idle_sibling).
 */
export function selectTaskRq(k: Kernel, p: Task, flags: number): number {
  const cls = k.classes[p.sclass]!;
  const prev = allowed(p, p.cpu) ? p.cpu : firstAllowed(k, p);
  if (cls.selectTaskRq) return cls.selectTaskRq(p, prev, flags);
  const rqs = k.rqs;
  if (rqs.length === 1) return 0;
  if (flags & WF_FORK) return forkCpu(rqs, p, prev);
  if (idleCpu(rqs[prev]!)) return prev;
  for (let i = 1; i < rqs.length; i++) {
    const c = (prev + i) % rqs.length;
    if (allowed(p, c) && idleCpu(rqs[c]!)) return c;
  }
  return prev;
}

/** update_pick_idlest for single-CPU groups: the lower group type, then (busy) the lower load. */
function idlerForFork(a: Rq, b: Rq): boolean {
  const ta = groupType(a);
  const tb = groupType(b);
  if (ta !== tb) return ta < tb;
  return ta !== HAS_SPARE && a.load < b.load;
}

/** NICE_0_LOAD x (imbalance_pct - 100) / 100: how much less loaded another CPU must be to take a fork. */
const FORK_IMBALANCE = Math.floor((1024 * (IMBALANCE_PCT - 100)) / 100);

/**
 * sched_balance_find_dst_cpu for one flat domain of single CPUs: the idlest
 * other allowed CPU (find_idlest_group), then whether it beats the local one
 * (prev): by a lower group type, or, both busy, by being less loaded by more
 * than the imbalance margin and imbalance_pct; both idle, stay.
 */
function forkCpu(rqs: Rq[], p: Task, prev: number): number {
  let idlest = -1;
  for (let i = 1; i < rqs.length; i++) {
    const c = (prev + i) % rqs.length;
    if (allowed(p, c) && (idlest < 0 || idlerForFork(rqs[c]!, rqs[idlest]!))) idlest = c;
  }
  if (idlest < 0) return prev;
  const local = rqs[prev]!;
  const other = rqs[idlest]!;
  const tl = groupType(local);
  const to = groupType(other);
  if (tl !== to) return to < tl ? idlest : prev;
  if (tl === HAS_SPARE) return prev;
  if (other.load >= local.load + FORK_IMBALANCE) return prev; // the idlest other CPU is busier than this one
  if (100 * local.load <= IMBALANCE_PCT * other.load) return prev;
  return idlest;
}

/**
 * idle_cpu(): nothing to run. A CPU whose only tasks are held by bandwidth
 * control (CBS-throttled deadline tasks, which Linux dequeues but TaskLab keeps
 * counted, or a throttled RT queue) runs its idle task and counts as idle.
 */
function idleCpu(rq: Rq): boolean {
  return rq.nrRunning === 0 || (rq.curr === rq.idle && !rq.needResched);
}

function firstAllowed(k: Kernel, p: Task): number {
  for (let c = 0; c < k.rqs.length; c++) if (allowed(p, c)) return c;
  throw new KernelPanic(`pid ${p.pid} has no allowed CPU`);
}

/** Moves a not-running task's home CPU, tracing the migration (set_task_cpu). */
export function setTaskCpu(k: Kernel, p: Task, cpu: number): void {
  if (p.cpu === cpu) return;
  if (k.trace.on)
    k.trace.emit({ name: "sched_migrate_task", ts: k.now, cpu: p.cpu, comm: p.comm, pid: p.pid, prio: p.prio, orig_cpu: p.cpu, dest_cpu: cpu });
  p.cpu = cpu;
  p.nrMigrations++;
  p.execStart = 0; // enqueue_entity(ENQUEUE_MIGRATED) zeroes se->exec_start: no longer cache-hot
}

/**
 * try_to_wake_up: if p's state is in `mask`, make it runnable on a chosen CPU
 * and check preemption there. Returns whether p was woken.
 */
export function wakeUp(k: Kernel, p: Task, mask: number): boolean {
  if ((p.state & mask) === 0 || p.exitState !== 0) return false;
  p.state = TASK_RUNNING;
  leaveLoadD(k, p);
  if (p.waitingOn) {
    p.waitingOn.delete(p);
    p.waitingOn = null;
  }
  if (p.timer && p.timer.armed) k.engine.cancel(p.timer);
  if (p.onRq) {
    traceWakeup(k, p); // still curr on its CPU: it never left (ttwu_runnable)
    return true;
  }
  const cls = k.classes[p.sclass]!;
  if (cls.delayed !== undefined && cls.delayed(p)) {
    const home = k.rqs[p.cpu]!;
    if (allowed(p, p.cpu)) {
      // Its class never let it go (delayed dequeue): it wakes where it is, without choosing a CPU (ttwu_runnable).
      activateTask(k, home, p, ENQUEUE_WAKEUP | ENQUEUE_DELAYED);
      checkPreempt(k, home, p, ENQUEUE_WAKEUP);
      traceWakeup(k, p);
      cls.taskWoken?.(home, p);
      return true;
    }
    cls.finishDelayed!(home, p); // its affinity no longer allows that CPU: a full dequeue, then a normal wakeup
  }
  const cpu = selectTaskRq(k, p, WF_TTWU);
  let flags = ENQUEUE_WAKEUP;
  if (cpu !== p.cpu) {
    setTaskCpu(k, p, cpu);
    flags |= ENQUEUE_MIGRATED;
  }
  const rq = k.rqs[cpu]!;
  activateTask(k, rq, p, flags);
  checkPreempt(k, rq, p, flags);
  traceWakeup(k, p);
  k.classes[p.sclass]!.taskWoken?.(rq, p);
  return true;
}

/** sched_wakeup fires once the task is queued and preemption was checked (ttwu_do_wakeup). */
function traceWakeup(k: Kernel, p: Task): void {
  if (k.trace.on) k.trace.emit({ name: "sched_wakeup", ts: k.now, cpu: k.cpuNow(p.cpu), comm: p.comm, pid: p.pid, prio: p.prio, target_cpu: p.cpu });
}

/** A task counted as uninterruptible (for the load average) no longer is. */
export function leaveLoadD(k: Kernel, p: Task): void {
  if (!p.inLoadD) return;
  if (k.now >= k.nextLoadSample) loadCatchUp(k);
  p.inLoadD = false;
  k.nrUninterruptible--;
}

/** wake_up_new_task: first enqueue of a forked child. */
export function wakeUpNew(k: Kernel, p: Task): void {
  if (p.state !== TASK_NEW) throw new KernelPanic(`wake_up_new_task on pid ${p.pid} not TASK_NEW`);
  p.state = TASK_RUNNING;
  const from = k.cpuNow(p.cpu); // the parent's CPU: wake_up_new_task runs in the forking task
  const cpu = selectTaskRq(k, p, WF_FORK);
  p.cpu = cpu;
  const rq = k.rqs[cpu]!;
  activateTask(k, rq, p, ENQUEUE_INITIAL);
  if (k.trace.on) k.trace.emit({ name: "sched_wakeup_new", ts: k.now, cpu: from, comm: p.comm, pid: p.pid, prio: p.prio, target_cpu: cpu });
  checkPreempt(k, rq, p, ENQUEUE_INITIAL);
  k.classes[p.sclass]!.taskWoken?.(rq, p);
}

/** The runqueue p is on (or last ran on). */
export function taskRq(k: Kernel, p: Task): Rq {
  return k.rqs[p.cpu]!;
}

/**
 * Re-queues p around a change of its scheduling parameters (the DEQUEUE_SAVE /
 * ENQUEUE_RESTORE dance). `newClass` is the class p will be in after the
 * change. A task asleep with its dequeue delayed (EEVDF) goes through the
 * dance too and stays delayed, re-weighted and placed by its lag (6.12); one
 * leaving its class first completes the dequeue (__sched_setscheduler).
 * `move` (DEQUEUE_MOVE) is for a change of priority: without it the task
 * keeps its place in its queue, as __sched_setscheduler leaves one whose
 * effective priority stays the same and set_user_nice leaves any.
 */
export function changeSched(k: Kernel, p: Task, newClass: number, change: () => void, move = false): void {
  const rq = taskRq(k, p);
  const cls = k.classes[p.sclass]!;
  let delayed = !p.onRq && cls.delayed !== undefined && cls.delayed(p);
  if (delayed && newClass !== p.sclass) {
    cls.finishDelayed!(rq, p);
    delayed = false;
  }
  const running = rq.curr === p;
  const queued = p.onRq;
  const oldPrio = p.prio;
  if (running) updateCurr(k, rq);
  if (queued || delayed) k.classes[p.sclass]!.dequeueTask(rq, p, DEQUEUE_SAVE | (move ? DEQUEUE_MOVE : 0));
  if (running) k.classes[p.sclass]!.putPrevTask(rq, p);
  const oldClass = p.sclass;
  change();
  const restore = ENQUEUE_RESTORE | (move ? ENQUEUE_MOVE : 0) | (oldPrio < p.prio ? ENQUEUE_HEAD : 0);
  if (delayed) {
    // Not runnable: the core's counts do not change; only the class's queue and its load.
    k.classes[p.sclass]!.enqueueTask(rq, p, restore);
    if (k.activeRq !== rq) rearm(k, rq);
    return;
  }
  if (queued) {
    const w = weightOf(p);
    rq.load += w - p.loadWeight;
    p.loadWeight = w;
  }
  if (p.sclass !== oldClass) {
    const to = k.classes[p.sclass]!;
    if (to.switchedTo !== undefined) to.switchedTo(rq, p);
    else to.initTask(rq, p);
    if (queued) {
      rq.classNr[oldClass]!--;
      rq.classNr[p.sclass]!++;
    }
  }
  if (queued) k.classes[p.sclass]!.enqueueTask(rq, p, restore);
  if (running) k.classes[p.sclass]!.setNextTask(rq, p);
  if (p.sclass !== oldClass) k.classes[oldClass]!.switchedFrom?.(rq, p); // check_class_changed
  if (queued) {
    if (running) {
      if (p.sclass > oldClass) rq.resched();
      else k.classes[p.sclass]!.prioChanged(rq, p, oldPrio);
    } else if (p.sclass !== oldClass || p.prio !== oldPrio || p.policy === SCHED_DEADLINE) {
      // check_class_changed(): switched_to, or prio_changed when the priority changed (or for a deadline task);
      // a change that leaves both (a custom slice, NORMAL <-> BATCH or IDLE) checks no preemption.
      checkPreempt(k, rq, p, ENQUEUE_RESTORE); // switched_to / prio_changed: not a wakeup (no check_preempt_equal_prio)
      // switched_to_rt / switched_to_dl: a queued task that joins a class whose queue here is
      // overloaded may run elsewhere at once (rt_queue_push_tasks / deadline_queue_push_tasks).
      if (p.sclass !== oldClass) {
        const to = k.classes[p.sclass]!;
        if (to.switchedToQueued !== undefined) to.switchedToQueued(rq, p);
        else to.taskWoken?.(rq, p);
      }
    }
  }
  if (k.activeRq !== rq) rearm(k, rq);
}

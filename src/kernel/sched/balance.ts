/**
 * Load balancing, after kernel/sched/fair.c (sched_balance_rq,
 * sched_balance_find_src_group, calculate_imbalance, detach_tasks) for one
 * flat domain whose groups are single CPUs, as an SMP machine without SMT
 * or NUMA has.
 *
 * - newly idle: a CPU about to run its idle task pulls one queued task from
 *   the CPU with the most runnable tasks (migrate_task; CPU_NEWLY_IDLE stops
 *   after one), passing over a CPU whose tasks are all pinned but stopping at
 *   one whose only movable task is running or cache-hot;
 * - periodic (rebalance_domains): each CPU balances towards itself when its
 *   interval has passed since its last pass, at a tick, while some CPU holds
 *   two or more tasks. The interval is get_sd_balance_interval's: the
 *   domain's balance_interval, which starts at min_interval (the span weight:
 *   1 ms per CPU), goes back there after a pass that found an imbalance and
 *   doubles up to max_interval (twice that) after one that found none; a busy
 *   CPU multiplies it by busy_factor 16 and takes one jiffy off (so busy and
 *   idle periods are not multiples of each other); it is counted in whole
 *   jiffies, at least 1, at most max_load_balance_interval (HZ x CPUs / 10).
 *   On 2 CPUs at HZ 250 an idle CPU balances at every tick and a busy one
 *   every 7 or 15 ticks (28 or 60 ms); on 8 CPUs every 2 or 4 ticks, and 31
 *   or 63. A pass that found every task pinned doubles the interval up to
 *   512 ms (MAX_PINNED_INTERVAL). In each pass:
 *   - each CPU is classified as Linux classifies a group: has_spare (no
 *     task), fully_busy (one) or overloaded (more than one), and its load is
 *     the sum of its runnable tasks' weights (rq.load);
 *   - the busiest is the CPU of the highest class, then the highest load
 *     (for has_spare: the most tasks); nothing happens if the local CPU is
 *     of a higher class, or, when both are overloaded, if the local load is
 *     not below the busiest's and the average, or the busiest is within
 *     imbalance_pct (117 %) of it; a busy CPU does not pull from one that is
 *     not overloaded;
 *   - an idle local CPU asks for half the difference in task counts
 *     (migrate_task); a busy one asks for load: the smaller of how far the
 *     busiest is above the average and how far itself is below it
 *     (migrate_load);
 *   - tasks are taken from the cold end (see candidates()), at most
 *     sched_nr_migrate looked at; for load, a task whose weight exceeds what
 *     is still wanted is skipped, but each pass in a row that moved nothing
 *     halves the weight it is judged by (shr_bound(load, nr_balance_failed)),
 *     so a heavy task moves in the end;
 *   - a busiest CPU whose queued tasks are all pinned elsewhere is passed
 *     over for the next (LBF_ALL_PINNED, redo).
 * - a running task is never pulled; a pass that fails because the running
 *   task is the only one that could move counts towards active balance: an
 *   idle CPU whose passes failed more than cache_nice_tries + 2 times in a
 *   row asks the busy CPU to push it (need_active_balance,
 *   active_load_balance_cpu_stop, done by that CPU's next schedule());
 * - a task only moves to a CPU its affinity allows.
 *
 * Simplified (docs/simplifications.md): load is the instantaneous weight of
 * the runnable tasks, not PELT's decaying average (for a task that never
 * sleeps the average converges to the weight); realtime and deadline tasks
 * count with their nice weight instead of taking capacity away; no domain
 * hierarchy; a CPU counts as busy when it runs any task (Linux
 * counts a CPU running only SCHED_IDLE tasks as idle); active balance only for
 * a pass that failed (no capacity, asymmetric or misfit case), and no
 * migrate_util. Placement on fork and wakeup (core.selectTaskRq)
 * does most of the spreading.
 */
import { Prio } from "../../sim/engine.ts";
import type { Kernel } from "../kernel.ts";
import { SCHED_IDLE, SCHED_NORMAL, type Task } from "../task/task.ts";
import { groupType, HAS_SPARE, IMBALANCE_PCT, OVERLOADED, type Rq } from "./rq.ts";
import { activateTask, allowed, deactivateTask, setTaskCpu, checkPreempt } from "./core.ts";
import { ENQUEUE_MIGRATED } from "./class.ts";

/** sd->busy_factor: a busy CPU's balance interval is this many times longer (16 since Linux 5.10). */
const BUSY_FACTOR = 16;
/** MAX_PINNED_INTERVAL (ms): how far passes that found every task pinned may stretch the interval. */
const MAX_PINNED_INTERVAL = 512;

/** Moves a queued task from src to dst. */
function migrate(k: Kernel, src: Rq, dst: Rq, p: Task): void {
  deactivateTask(k, src, p, 0x100);
  setTaskCpu(k, p, dst.cpu);
  activateTask(k, dst, p, ENQUEUE_MIGRATED);
}

/** Tasks looked at per pull (sysctl_sched_nr_migrate, the loop_max of detach_tasks). */
const NR_MIGRATE = 32;

/** can_migrate_task without the running-task test: dst is allowed and p's class lets the balancer move it. */
function movable(k: Kernel, src: Rq, p: Task, dst: Rq): boolean {
  return allowed(p, dst.cpu) && k.classes[p.sclass]!.canMigrate?.(src, p, dst.cpu) === true;
}

/** sd->cache_nice_tries: failed passes in a row after which cache-hot tasks move too (1 at the LLC level). */
const CACHE_NICE_TRIES = 1;

/**
 * task_hot: a fair task (not SCHED_IDLE) that ran on src less than
 * sysctl_sched_migration_cost ago still has its cache there. One that has
 * never run, or was moved to another CPU since it last ran, is cold.
 */
function taskHot(k: Kernel, p: Task): boolean {
  if (p.sclass !== k.classOfPolicy[SCHED_NORMAL] || p.policy === SCHED_IDLE) return false;
  const cost = k.params.migrationCost;
  if (cost === -1) return true;
  if (cost === 0 || p.execStart === 0) return false; // never ran, or moved since (exec_start = 0): cold
  return k.now - p.execStart < cost;
}

/** Runqueues other than `dst` with two or more tasks, busiest first (ties by CPU number). */
function busiestFirst(k: Kernel, dst: Rq): Rq[] {
  // update_sd_pick_busiest, as the periodic pass (busierThan): group type, then load -- not the task count.
  return k.rqs.filter((o) => o !== dst && o.nrRunning >= 2).sort((a, b) => (busierThan(a, b) ? -1 : busierThan(b, a) ? 1 : a.cpu - b.cpu));
}

/**
 * sched_balance_newidle: called by schedule() on a CPU about to go idle. True
 * if it pulled. A busiest CPU whose tasks are all pinned elsewhere, the
 * running one included, is passed over for the next (LBF_ALL_PINNED, redo);
 * one where some task could come but none may be taken now (only the running
 * one could move, or the queued ones are cache-hot) ends the pass: Linux does
 * not redo then. New-idle failures do not count in nr_balance_failed, but a
 * CPU whose periodic passes have already failed often enough asks for a push
 * here too (need_active_balance).
 */
export function newIdleBalance(k: Kernel, rq: Rq): boolean {
  for (const src of busiestFirst(k, rq)) {
    const cands = candidates(k, src, rq);
    // can_migrate_task tests the CPU mask before task_on_cpu: a running task that may come clears LBF_ALL_PINNED.
    const currMovable = src.curr !== src.idle && movable(k, src, src.curr, rq);
    if (!currMovable && !cands.some((q) => movable(k, src, q, rq))) continue; // all pinned: the next busiest
    rq.balanceInterval = minInterval(k); // an imbalance was found: sched_balance_rq resets the interval, new-idle too
    // The coldest movable one that is not cache-hot (or any, once passes keep failing).
    const p = cands.find((q) => movable(k, src, q, rq) && (rq.balanceFailed > CACHE_NICE_TRIES || !taskHot(k, q)));
    if (p !== undefined) {
      migrate(k, src, rq, p);
      return true;
    }
    if (needActiveBalance(rq, { kind: "task", amount: 1 })) kickActiveBalance(src, rq);
    break;
  }
  balanceOnIdle(k, rq);
  return false;
}

/** sd->min_interval in ms: the span weight, here every CPU. max_interval is twice it. */
function minInterval(k: Kernel): number {
  return k.rqs.length;
}

/** get_sd_balance_interval, in ns: whole jiffies, a busy CPU's times busy_factor less one. */
export function balanceIntervalNs(k: Kernel, rq: Rq, busy: boolean): number {
  const hz = k.params.hz;
  let j = Math.ceil((rq.balanceInterval * (busy ? BUSY_FACTOR : 1) * hz) / 1000); // msecs_to_jiffies rounds up
  if (busy) j -= 1;
  const maxJ = Math.max(1, Math.floor((hz * k.rqs.length) / 10)); // max_load_balance_interval
  return Math.min(Math.max(j, 1), maxJ) * k.tickNs;
}

/** The first tick after now. */
function nextTick(k: Kernel): number {
  return (Math.floor(k.now / k.tickNs) + 1) * k.tickNs;
}

/** The tick at which rq's next periodic pass is due, as it is now (busy or idle). */
function nextBalance(k: Kernel, rq: Rq): number {
  return rq.lastBalance + balanceIntervalNs(k, rq, rq.curr !== rq.idle);
}

/**
 * Arms the periodic balance pass if it is not armed: at the first CPU's next
 * due tick. The passes that fell due while no CPU had two tasks found nothing
 * to do: they are accounted here as balanced ones (the interval doubled, the
 * last pass at the latest due tick).
 */
export function armBalance(k: Kernel): void {
  if (k.rqs.length < 2) return;
  if (!k.balanceTimer) k.balanceTimer = k.newTimer(Prio.HOUSEKEEPING, () => periodicBalance(k));
  // During a pass (a pull queues a task and lands here) the pass re-arms when it ends: the other CPUs'
  // passes of this tick are still to run, and must not be taken for balanced ones.
  if (k.balanceTimer.armed || k.balancing) return;
  let at = Infinity;
  // At a tick whose housekeeping has not run yet (a wakeup at the tick), a pass due now is still to come.
  const first = k.now % k.tickNs === 0 && k.engine.instantPrio < Prio.HOUSEKEEPING ? k.now : nextTick(k);
  for (const rq of k.rqs) {
    if (rq.balanceInterval === 0) rq.balanceInterval = minInterval(k); // sd_init: balance_interval = min_interval
    if (nextBalance(k, rq) < first) {
      rq.lastBalance = nextBalance(k, rq);
      if (rq.balanceInterval < 2 * minInterval(k)) rq.balanceInterval *= 2;
      rq.balanceFailed = 0;
      const iv = balanceIntervalNs(k, rq, rq.curr !== rq.idle);
      rq.lastBalance += Math.floor((first - 1 - rq.lastBalance) / iv) * iv;
    }
    at = Math.min(at, nextBalance(k, rq));
  }
  k.engine.arm(k.balanceTimer, Math.max(at, first));
}

/**
 * A CPU about to idle whose new-idle pull found nothing: its next periodic
 * pass comes at its idle interval, which may be sooner than the pass armed
 * (sched_balance_newidle pulls rq->next_balance in).
 */
export function balanceOnIdle(k: Kernel, rq: Rq): void {
  const timer = k.balanceTimer;
  if (timer === null || !timer.armed || rq.balanceInterval === 0) return;
  const at = Math.max(rq.lastBalance + balanceIntervalNs(k, rq, false), nextTick(k)); // curr is still prev here
  if (at < timer.time) k.engine.arm(timer, at);
}

/** rebalance_domains at this tick: each CPU whose interval has passed balances, in CPU order. */
function periodicBalance(k: Kernel): void {
  const now = k.now;
  k.balancing = true;
  try {
    for (const rq of k.rqs) {
      if (nextBalance(k, rq) > now) continue;
      balanceCpu(k, rq);
      rq.lastBalance = now;
    }
  } finally {
    k.balancing = false;
  }
  if (k.rqs.some((o) => o.nrRunning >= 2)) armBalance(k);
}

/** update_sd_pick_busiest: is `rq` busier than the busiest so far? */
function busierThan(rq: Rq, best: Rq | null): boolean {
  if (best === null) return true;
  const a = groupType(rq);
  const b = groupType(best);
  if (a !== b) return a > b;
  return a === HAS_SPARE ? rq.nrRunning > best.nrRunning : rq.load > best.load;
}

/** What calculate_imbalance asks for: a number of tasks, or an amount of load. */
interface Imbalance {
  kind: "task" | "load";
  amount: number;
}

/**
 * sched_balance_find_src_group + calculate_imbalance for `dst`, against the
 * CPUs not in `skip`: the CPU to pull from and how much, or null if balanced.
 */
function findImbalance(k: Kernel, dst: Rq, skip: Set<number>): { src: Rq; imb: Imbalance } | null {
  let busiest: Rq | null = null;
  let totalLoad = 0;
  for (const o of k.rqs) {
    // A CPU passed over for LBF_ALL_PINNED is out of env->cpus: update_sg_lb_stats leaves its load out
    // of the sums, while its group's capacity still counts in total_capacity.
    if (skip.has(o.cpu)) continue;
    totalLoad += o.load;
    if (o !== dst && busierThan(o, busiest)) busiest = o;
  }
  if (busiest === null) return null;
  const local = groupType(dst);
  const busy = groupType(busiest);
  const avg = totalLoad / k.rqs.length; // sds->avg_load: the load of env->cpus over every CPU's capacity (1024 each)
  if (local > busy) return null;
  if (local === OVERLOADED) {
    if (dst.load >= busiest.load || dst.load >= avg) return null;
    if (100 * busiest.load <= IMBALANCE_PCT * dst.load) return null;
  }
  if (busy !== OVERLOADED) return null; // a busy CPU does not pull from one that is not overloaded, nor anyone from a lone task
  if (local === HAS_SPARE) {
    const n = (busiest.nrRunning - dst.nrRunning) >> 1; // sibling_imbalance, halved: tasks to move
    return n > 0 ? { src: busiest, imb: { kind: "task", amount: n } } : null;
  }
  if (dst.load >= busiest.load || dst.load >= avg) return null;
  const amount = Math.min(busiest.load - avg, avg - dst.load);
  return amount > 0 ? { src: busiest, imb: { kind: "load", amount } } : null;
}

/**
 * sched_balance_rq for `dst` at its periodic balance: find the busiest CPU,
 * take what calculate_imbalance asks for, pass over a busiest CPU whose queued
 * tasks are all pinned elsewhere. Counts passes that moved nothing
 * (dst.balanceFailed) as nr_balance_failed does, and tunes dst's interval:
 * back to min_interval after an imbalance, doubled after none.
 */
function balanceCpu(k: Kernel, dst: Rq): void {
  const skip = new Set<number>();
  for (;;) {
    const found = findImbalance(k, dst, skip);
    if (found === null) {
      // out_balanced, or out_all_pinned when every busiest CPU seen had only pinned tasks.
      dst.balanceFailed = 0;
      const cap = skip.size > 0 ? MAX_PINNED_INTERVAL : 2 * minInterval(k);
      if (dst.balanceInterval < cap) dst.balanceInterval *= 2;
      return;
    }
    const { src, imb } = found;
    const { moved, allPinned } = detachTasks(k, src, dst, imb, dst.balanceFailed);
    if (allPinned && moved === 0) {
      skip.add(src.cpu); // redo without it
      continue;
    }
    dst.balanceFailed = moved > 0 ? 0 : dst.balanceFailed + 1;
    if (moved === 0 && needActiveBalance(dst, imb) && !kickActiveBalance(src, dst)) {
      // out_one_pinned: the running task may not come here either; tune the interval up.
      if (dst.balanceInterval < 2 * minInterval(k)) dst.balanceInterval *= 2;
      return;
    }
    dst.balanceInterval = minInterval(k); // we were unbalanced: reset the interval
    return;
  }
}

/**
 * need_active_balance, the case a flat SMP domain can meet
 * (imbalanced_active_balance, 5.10+): an idle CPU that asked for tasks
 * (migrate_task) and failed more than cache_nice_tries + 2 passes in a row.
 * Only the running task was left to move: queued ones would have gone, cache-hot
 * or not, once failures passed cache_nice_tries.
 */
function needActiveBalance(dst: Rq, imb: Imbalance): boolean {
  return imb.kind === "task" && dst.balanceFailed > CACHE_NICE_TRIES + 2;
}

/**
 * Asks src's stopper to push a task to dst (sched_balance_rq's
 * stop_one_cpu_nowait(active_load_balance_cpu_stop)): src reschedules at
 * once, and its schedule() pushes (activeBalanceStop). False if src's
 * running task may not run on dst (out_one_pinned). One request at a time per
 * CPU (rq->active_balance).
 */
function kickActiveBalance(src: Rq, dst: Rq): boolean {
  if (src.curr === src.idle || !allowed(src.curr, dst.cpu)) return false;
  if (src.pushCpu < 0) {
    src.pushCpu = dst.cpu;
    src.resched();
  }
  return true;
}

/**
 * active_load_balance_cpu_stop, run by schedule() on the CPU asked to push,
 * once prev is put back (the stopper preempted it, so it is no longer
 * running): detach_one_task moves the coldest task that may run on the
 * push CPU, cache-hot or not (LBF_ACTIVE_LB); prev, the most recently run,
 * comes last. A success resets the push CPU's failure count. Returns true
 * if prev itself moved (schedule() then no longer has it on this CPU).
 */
export function activeBalanceStop(k: Kernel, rq: Rq, prev: Task): boolean {
  const dst = k.rqs[rq.pushCpu]!;
  rq.pushCpu = -1;
  const cands = candidates(k, rq, dst);
  // cfs_tasks puts the task picked last at the head. Not if it has left this CPU already (an affinity
  // change moved it off in this same schedule(): migration_cpu_stop ran first).
  if (prev !== rq.idle && prev.onRq && prev.cpu === rq.cpu && rq.tasks.has(prev)) cands.push(prev);
  const p = cands.find((q) => movable(k, rq, q, dst));
  if (p === undefined) return false; // alb_failed
  deactivateTask(k, rq, p, 0x100);
  if (p === prev) rq.curr = rq.idle; // prev no longer belongs to this CPU
  setTaskCpu(k, p, dst.cpu);
  activateTask(k, dst, p, ENQUEUE_MIGRATED);
  checkPreempt(k, dst, p, ENQUEUE_MIGRATED);
  dst.balanceFailed = 0; // "Active balancing done, reset the failure counter"
  return p === prev;
}

/**
 * detach_tasks + attach_tasks: moves tasks from src to dst until the imbalance
 * is met, looking at no more than sched_nr_migrate candidates (more while all
 * seen are pinned). migrate_load skips a task heavier than what is still
 * wanted, judged at weight >> failed (shr_bound).
 */
function detachTasks(k: Kernel, src: Rq, dst: Rq, imb: Imbalance, failed: number): { moved: number; allPinned: boolean } {
  let want = imb.amount;
  let moved = 0;
  // LBF_ALL_PINNED: rq->cfs_tasks holds the running task too, and one that could move to dst clears the
  // flag even though it is never taken (can_migrate_task: task_on_cpu) -- the pass then counts as failed.
  let allPinned = !(src.curr !== src.idle && movable(k, src, src.curr, dst));
  for (const p of candidates(k, src, dst)) {
    if (src.nrRunning <= 1) break; // never take the last one
    if (!movable(k, src, p, dst)) continue;
    allPinned = false;
    if (failed <= CACHE_NICE_TRIES && taskHot(k, p)) continue; // can_migrate_task: cache-hot, and passes have not kept failing
    if (imb.kind === "load") {
      const w = p.loadWeight; // what it adds to src's load
      if (w >> Math.min(failed, 31) > want) continue;
      want -= w;
    } else want--;
    migrate(k, src, dst, p);
    checkPreempt(k, dst, p, ENQUEUE_MIGRATED);
    moved++;
    if (want <= 0) break;
  }
  return { moved, allPinned };
}

/**
 * The queued tasks of src that detach_tasks looks at, coldest first: the first
 * sched_nr_migrate in list order, and more while none of those seen may move
 * to dst (standing in for Linux's rotation of skipped tasks to the other end of
 * the list, which lets later passes reach the rest), sorted by when they last
 * ran or were queued (lastQueued), ties in list order. Linux walks
 * rq->cfs_tasks from its least recently run end; TaskLab's list is in the order
 * tasks joined the runqueue, so the window may hold warmer tasks.
 */
function candidates(k: Kernel, src: Rq, dst: Rq): Task[] {
  const out: Task[] = [];
  let anyMovable = false;
  for (const p of src.tasks) {
    if (p === src.curr) continue;
    if (out.length >= NR_MIGRATE && anyMovable) break;
    out.push(p);
    if (!anyMovable && movable(k, src, p, dst)) anyMovable = true;
  }
  return out.sort((a, b) => a.lastQueued - b.lastQueued); // stable: ties keep list order
}

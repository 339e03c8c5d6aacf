/**
 * Load balancing, after kernel/sched/fair.c (sched_balance_rq,
 * sched_balance_find_src_group, calculate_imbalance, detach_tasks) for one
 * flat domain whose groups are single CPUs, as an SMP machine without SMT
 * or NUMA has.
 *
 * - newly idle: a CPU about to run its idle task pulls one queued task from
 *   the CPU with the most runnable tasks (migrate_task; CPU_NEWLY_IDLE stops
 *   after one);
 * - periodic: every BALANCE_TICKS ticks (16 ms at HZ 250), while some CPU
 *   holds two or more tasks, each idle CPU in turn balances towards itself,
 *   and a busy one at every BUSY_FACTOR-th pass (64 ms; sd->busy_factor):
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
 * - a running task is never pulled, and a task only moves to a CPU its
 *   affinity allows.
 *
 * Simplified (docs/simplifications.md): load is the instantaneous weight of
 * the runnable tasks, not PELT's decaying average (for a task that never
 * sleeps the average converges to the weight); realtime and deadline tasks
 * count with their nice weight instead of taking capacity away; no domain
 * hierarchy; fixed intervals (16 ms idle, 64 ms busy) where Linux's adapt
 * (2..4 ms times busy_factor 16 for a small domain); no active balance of a
 * running task, no cache-hot test, no migrate_util or misfit. Placement on fork and wakeup (core.selectTaskRq)
 * does most of the spreading.
 */
import { Prio } from "../../sim/engine.ts";
import type { Kernel } from "../kernel.ts";
import type { Task } from "../task/task.ts";
import { groupType, HAS_SPARE, IMBALANCE_PCT, OVERLOADED, type Rq } from "./rq.ts";
import { activateTask, allowed, deactivateTask, setTaskCpu, checkPreempt } from "./core.ts";
import { ENQUEUE_MIGRATED } from "./class.ts";

/** Ticks between periodic balance passes (sd min_interval is span weight ms; we keep it a few ticks). */
const BALANCE_TICKS = 4;
/** sd->busy_factor: a busy CPU balances this many times less often (Linux: 16 times its 2..4 ms interval). */
const BUSY_FACTOR = 4;

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

/** Runqueues other than `dst` with two or more tasks, busiest first (ties by CPU number). */
function busiestFirst(k: Kernel, dst: Rq): Rq[] {
  return k.rqs.filter((o) => o !== dst && o.nrRunning >= 2).sort((a, b) => b.nrRunning - a.nrRunning || a.cpu - b.cpu);
}

/** sched_balance_newidle: called by schedule() on a CPU about to go idle. True if it pulled. */
export function newIdleBalance(k: Kernel, rq: Rq): boolean {
  // When every movable task of the busiest CPU is pinned, try the next busiest (LBF_ALL_PINNED).
  for (const src of busiestFirst(k, rq)) {
    const p = candidates(k, src, rq).find((q) => movable(k, src, q, rq)); // the coldest movable one
    if (p === undefined) continue;
    migrate(k, src, rq, p);
    return true;
  }
  return false;
}

/** Arms the periodic balance pass if it is not armed. */
export function armBalance(k: Kernel): void {
  if (k.rqs.length < 2) return;
  if (!k.balanceTimer) k.balanceTimer = k.newTimer(Prio.HOUSEKEEPING, () => periodicBalance(k));
  if (k.balanceTimer.armed) return;
  const t = k.tickNs * BALANCE_TICKS;
  k.engine.arm(k.balanceTimer, (Math.floor(k.now / t) + 1) * t);
}

function periodicBalance(k: Kernel): void {
  const any = k.rqs.some((o) => o.nrRunning >= 2);
  const pass = Math.round(k.now / (k.tickNs * BALANCE_TICKS));
  // Each CPU's rebalance at this tick, in CPU order: an idle CPU at every pass, a busy one at every
  // BUSY_FACTOR-th (get_sd_balance_interval multiplies a busy CPU's interval by sd->busy_factor).
  for (const rq of k.rqs) if (rq.curr === rq.idle || pass % BUSY_FACTOR === 0) balanceCpu(k, rq);
  if (any) armBalance(k);
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
    totalLoad += o.load;
    if (o !== dst && !skip.has(o.cpu) && busierThan(o, busiest)) busiest = o;
  }
  if (busiest === null) return null;
  const local = groupType(dst);
  const busy = groupType(busiest);
  const avg = totalLoad / k.rqs.length; // sds->avg_load, every CPU of capacity 1024
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
 * (dst.balanceFailed) as nr_balance_failed does.
 */
function balanceCpu(k: Kernel, dst: Rq): void {
  const skip = new Set<number>();
  for (;;) {
    const found = findImbalance(k, dst, skip);
    if (found === null) {
      dst.balanceFailed = 0; // out_balanced
      return;
    }
    const { src, imb } = found;
    const { moved, allPinned } = detachTasks(k, src, dst, imb, dst.balanceFailed);
    if (moved > 0) {
      dst.balanceFailed = 0;
      return;
    }
    if (allPinned) {
      skip.add(src.cpu); // redo without it
      continue;
    }
    dst.balanceFailed++;
    return;
  }
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

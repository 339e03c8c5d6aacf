/**
 * Load balancing, simplified from kernel/sched/fair.c (sched_balance_rq and
 * friends): one flat domain spanning all CPUs, balanced on task counts.
 *
 * - newly idle: a CPU about to run its idle task pulls one queued task from the
 *   busiest CPU that has more than one runnable task and a task it may take;
 * - periodic: while any runqueue holds two or more tasks, every `balanceInterval`
 *   ticks the busiest CPU gives queued tasks to the idlest one while the busiest
 *   is above the idlest by imbalance_pct (117 %) and by at least two tasks;
 * - a running task is never pulled, and a task only moves to a CPU its affinity allows;
 *   a busiest CPU whose queued tasks are all pinned is passed over (LBF_ALL_PINNED, redo).
 *
 * Simplified: no domain hierarchy, no PELT load (counts, not weighted load), no
 * cache-hot test. Placement on fork and wakeup (core.selectTaskRq) does most of
 * the spreading.
 */
import { Prio } from "../../sim/engine.ts";
import type { Kernel } from "../kernel.ts";
import type { Task } from "../task/task.ts";
import type { Rq } from "./rq.ts";
import { activateTask, allowed, deactivateTask, setTaskCpu, checkPreempt } from "./core.ts";
import { ENQUEUE_MIGRATED } from "./class.ts";

const IMBALANCE_PCT = 117;
/** Ticks between periodic balance passes (sd min_interval is span weight ms; we keep it a few ticks). */
const BALANCE_TICKS = 4;

/** Moves a queued task from src to dst. */
function migrate(k: Kernel, src: Rq, dst: Rq, p: Task): void {
  deactivateTask(k, src, p, 0x100);
  setTaskCpu(k, p, dst.cpu);
  activateTask(k, dst, p, ENQUEUE_MIGRATED);
}

/** Tasks looked at per pull (sysctl_sched_nr_migrate, the loop_max of detach_tasks). */
const NR_MIGRATE = 32;

/**
 * Among src's queued tasks, looked at in the order they were put on it, the
 * movable one that has waited longest since it last ran or was queued (least
 * recently run, as detach_tasks takes from the cold end of rq->cfs_tasks).
 * Like detach_tasks, it looks at no more than sched_nr_migrate tasks; when all
 * of those are pinned elsewhere it looks further (a stand-in for Linux, which
 * rotates skipped tasks to the other end of the list so that later passes
 * reach the rest, and tries another busiest CPU with LBF_ALL_PINNED). Ties go
 * to the one earlier in the list. (Linux's list is in most-recently-run order; TaskLab's
 * is in activation order, so the window of 32 may hold warmer tasks.)
 */
function pickQueued(k: Kernel, src: Rq, dst: Rq): Task | null {
  let best: Task | null = null;
  let seen = 0;
  for (const p of src.tasks) {
    if (p === src.curr) continue;
    if (++seen > NR_MIGRATE && best !== null) break;
    if (!allowed(p, dst.cpu) || (best !== null && p.lastQueued >= best.lastQueued)) continue;
    if (k.classes[p.sclass]!.canMigrate?.(src, p, dst.cpu)) best = p;
  }
  return best;
}

/** Runqueues other than `dst` with two or more tasks, busiest first (ties by CPU number). */
function busiestFirst(k: Kernel, dst: Rq): Rq[] {
  return k.rqs.filter((o) => o !== dst && o.nrRunning >= 2).sort((a, b) => b.nrRunning - a.nrRunning || a.cpu - b.cpu);
}

/** sched_balance_newidle: called by schedule() on a CPU about to go idle. True if it pulled. */
export function newIdleBalance(k: Kernel, rq: Rq): boolean {
  // When every movable task of the busiest CPU is pinned, try the next busiest (LBF_ALL_PINNED).
  for (const src of busiestFirst(k, rq)) {
    const p = pickQueued(k, src, rq);
    if (p === null) continue;
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
  for (let moved = 0; moved < k.rqs.length * 4; moved++) if (!balanceOnce(k)) break;
  if (any) armBalance(k);
}

/**
 * One move: for each CPU from the idlest, pull a movable task from the busiest
 * CPU that exceeds it by imbalance_pct and by two tasks; busiest CPUs whose
 * tasks are all pinned elsewhere are passed over. False when nothing moved.
 */
function balanceOnce(k: Kernel): boolean {
  let max = 0;
  let min = Infinity;
  for (const o of k.rqs) {
    if (o.nrRunning > max) max = o.nrRunning;
    if (o.nrRunning < min) min = o.nrRunning;
  }
  if (max - min < 2) return false; // balanced: nothing can pass the two-task rule
  const idlestFirst = [...k.rqs].sort((a, b) => a.nrRunning - b.nrRunning || a.cpu - b.cpu);
  for (const dst of idlestFirst) {
    for (const src of busiestFirst(k, dst)) {
      if (src.nrRunning - dst.nrRunning < 2 || src.nrRunning * 100 <= dst.nrRunning * IMBALANCE_PCT) break;
      const p = pickQueued(k, src, dst);
      if (p === null) continue;
      migrate(k, src, dst, p);
      checkPreempt(k, dst, p, ENQUEUE_MIGRATED);
      return true;
    }
  }
  return false;
}

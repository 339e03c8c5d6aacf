/**
 * Load balancing, simplified from kernel/sched/fair.c (sched_balance_rq and
 * friends): one flat domain spanning all CPUs, balanced on task counts.
 *
 * - newly idle: a CPU about to run its idle task pulls one queued task from the
 *   busiest CPU that has more than one runnable task;
 * - periodic: while any runqueue holds two or more tasks, every `balanceInterval`
 *   ticks the busiest CPU gives queued tasks to the idlest one while the busiest
 *   is above the idlest by imbalance_pct (117 %) and by at least two tasks;
 * - a running task is never pulled, and a task only moves to a CPU its affinity allows.
 *
 * Simplified: no domain hierarchy, no PELT load (counts, not weighted load), no
 * cache-hot test. Placement on fork and wakeup (core.selectTaskRq) does most of
 * the spreading.
 */
import { Prio } from "../../sim/engine.ts";
import type { Kernel } from "../kernel.ts";
import type { Task } from "../task/task.ts";
import type { Rq } from "./rq.ts";
import { activateTask, deactivateTask, setTaskCpu, checkPreempt } from "./core.ts";
import { ENQUEUE_MIGRATED } from "./class.ts";

const IMBALANCE_PCT = 117;
/** Ticks between periodic balance passes (sd min_interval is span weight ms; we keep it a few ticks). */
const BALANCE_TICKS = 4;

function canRun(p: Task, cpu: number): boolean {
  return p.cpusAllowed === null || p.cpusAllowed[cpu] === 1;
}

/** Moves a queued task from src to dst. */
function migrate(k: Kernel, src: Rq, dst: Rq, p: Task): void {
  deactivateTask(k, src, p, 0x100);
  setTaskCpu(k, p, dst.cpu);
  activateTask(k, dst, p, ENQUEUE_MIGRATED);
}

function pickQueued(src: Rq, dst: Rq): Task | null {
  for (const p of src.queued) if (p !== src.curr && canRun(p, dst.cpu)) return p;
  return null;
}

/** sched_balance_newidle: called by schedule() on a CPU about to go idle. True if it pulled. */
export function newIdleBalance(k: Kernel, rq: Rq): boolean {
  let busiest: Rq | null = null;
  for (const o of k.rqs) {
    if (o === rq || o.nrRunning < 2) continue;
    if (busiest === null || o.nrRunning > busiest.nrRunning) busiest = o;
  }
  if (busiest === null) return false;
  const p = pickQueued(busiest, rq);
  if (p === null) return false;
  migrate(k, busiest, rq, p);
  return true;
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
  let any = false;
  for (let moved = 0; moved < k.rqs.length * 4; moved++) {
    let busiest = k.rqs[0]!;
    let idlest = k.rqs[0]!;
    for (const o of k.rqs) {
      if (o.nrRunning > busiest.nrRunning) busiest = o;
      if (o.nrRunning < idlest.nrRunning) idlest = o;
    }
    if (busiest.nrRunning >= 2) any = true;
    if (busiest.nrRunning - idlest.nrRunning < 2 || busiest.nrRunning * 100 <= idlest.nrRunning * IMBALANCE_PCT) break;
    const p = pickQueued(busiest, idlest);
    if (p === null) break;
    migrate(k, busiest, idlest, p);
    checkPreempt(k, idlest, p, ENQUEUE_MIGRATED);
  }
  if (any) armBalance(k);
}

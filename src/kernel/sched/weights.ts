/**
 * Load weights of fair-class tasks (kernel/sched/core.c sched_prio_to_weight,
 * sched_prio_to_wmult; kernel/sched/fair.c calc_delta_fair).
 *
 * Each nice level is worth about 10% of CPU against a neighbour level: the
 * weights step by ~1.25, so two tasks one nice level apart share a CPU about
 * 55% : 45%. Nice 0 weighs NICE_0_LOAD = 1024; SCHED_IDLE tasks weigh 3
 * whatever their nice value.
 *
 * Rounding. The kernel never divides by a weight on the hot path: it keeps
 * wmult ~ 2^32 / weight (within 1) and computes delta * 1024 / weight as
 * (delta * 1024 * wmult) >> 32, with shifts to stay within 64 bits. The
 * result is off by a relative error below weight / 2^32 plus under 1 ns per
 * step (2e-5 at nice -20, 4e-9 at nice 19); the 64-bit kernel also scales
 * weights by 2^10 internally (scale_load). TaskLab computes the exact
 * quotient in a double instead: results differ from the kernel's by that
 * rounding only, and vruntime becomes a non-integer number of virtual ns.
 * The wmult table is kept for reference and for `calcDeltaFixed`, the
 * kernel's fixed-point form, which tests compare against the exact one.
 */
import { SCHED_IDLE, type Task } from "../task/task.ts";

/** Weight of a nice-0 task (scale_load_down(NICE_0_LOAD)). */
export const NICE_0_LOAD = 1024;
/** Weight of a SCHED_IDLE task. */
export const WEIGHT_IDLEPRIO = 3;
/** 2^32 / WEIGHT_IDLEPRIO. */
export const WMULT_IDLEPRIO = 1431655765;

/** Index = nice + 20 (static_prio - MAX_RT_PRIO). */
export const SCHED_PRIO_TO_WEIGHT: readonly number[] = Object.freeze([
  /* -20 */ 88761, 71755, 56483, 46273, 36291,
  /* -15 */ 29154, 23254, 18705, 14949, 11916,
  /* -10 */ 9548, 7620, 6100, 4904, 3906,
  /*  -5 */ 3121, 2501, 1991, 1586, 1277,
  /*   0 */ 1024, 820, 655, 526, 423,
  /*   5 */ 335, 272, 215, 172, 137,
  /*  10 */ 110, 87, 70, 56, 45,
  /*  15 */ 36, 29, 23, 18, 15,
]);

/** Index = nice + 20; each entry is 2^32 / weight to within 1 (mostly rounded to nearest; the kernel's table as is). */
export const SCHED_PRIO_TO_WMULT: readonly number[] = Object.freeze([
  /* -20 */ 48388, 59856, 76040, 92818, 118348,
  /* -15 */ 147320, 184698, 229616, 287308, 360437,
  /* -10 */ 449829, 563644, 704093, 875809, 1099582,
  /*  -5 */ 1376151, 1717300, 2157191, 2708050, 3363326,
  /*   0 */ 4194304, 5237765, 6557202, 8165337, 10153587,
  /*   5 */ 12820798, 15790321, 19976592, 24970740, 31350126,
  /*  10 */ 39045157, 49367440, 61356676, 76695844, 95443717,
  /*  15 */ 119304647, 148102320, 186737708, 238609294, 286331153,
]);

/** Weight of a nice value (-20..19; clamped). */
export function niceToWeight(nice: number): number {
  const i = Math.max(0, Math.min(39, Math.trunc(nice) + 20));
  return SCHED_PRIO_TO_WEIGHT[i]!;
}

/** set_load_weight(): the task's load weight from its policy and static priority. */
export function weightOf(p: Task): number {
  if (p.policy === SCHED_IDLE) return WEIGHT_IDLEPRIO;
  return niceToWeight(p.staticPrio - 120);
}

/** delta * weight / load, exactly (the kernel's __calc_delta up to rounding). */
export function calcDelta(delta: number, weight: number, load: number): number {
  return weight === load ? delta : (delta * weight) / load;
}

/**
 * calc_delta_fair(): wall-clock ns -> virtual ns of an entity of `weight`:
 * delta * NICE_0_LOAD / weight. Identity for nice 0.
 */
export function calcDeltaFair(delta: number, weight: number): number {
  return weight === NICE_0_LOAD ? delta : (delta * NICE_0_LOAD) / weight;
}

/** Inverse of calcDeltaFair: virtual ns of an entity of `weight` -> wall-clock ns. */
export function vdeltaToWall(vdelta: number, weight: number): number {
  return weight === NICE_0_LOAD ? vdelta : (vdelta * weight) / NICE_0_LOAD;
}

/**
 * The kernel's fixed-point calc_delta_fair for a task entity (__calc_delta
 * with lw->inv_weight from the wmult table, as set_load_weight installs it),
 * in BigInt: the quotient rounded as the kernel rounds it. For comparison
 * only; the scheduler uses the exact form.
 */
export function calcDeltaFixed(delta: number, weight: number): number {
  if (weight === NICE_0_LOAD) return delta;
  const i = SCHED_PRIO_TO_WEIGHT.indexOf(weight);
  const wmult = weight === WEIGHT_IDLEPRIO ? WMULT_IDLEPRIO : i >= 0 ? SCHED_PRIO_TO_WMULT[i]! : Math.floor((2 ** 32 - 1) / weight);
  let fact = BigInt(NICE_0_LOAD) * BigInt(wmult);
  let shift = 32n;
  while (fact >> 32n !== 0n) {
    fact >>= 1n; // __calc_delta shifts by fls(fact_hi) at once; bit by bit ends at the same place
    shift--;
  }
  return Number((BigInt(Math.trunc(delta)) * fact) >> shift);
}

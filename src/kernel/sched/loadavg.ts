/**
 * The load average (kernel/sched/loadavg.c, include/linux/sched/loadavg.h).
 *
 * Every LOAD_FREQ (5 s + 1 tick) the kernel samples nr_active = runnable tasks
 * + tasks in uninterruptible sleep (TASK_NOLOAD excluded) and folds it into
 * three exponentially decaying averages in 11-bit fixed point:
 *
 *     load = (load * EXP + active * (FIXED_1 - EXP)) / FIXED_1   (rounded up while rising)
 *
 * with EXP_1 = 1884, EXP_5 = 2014, EXP_15 = 2037 (1/exp(5s/1min) etc.).
 *
 * Tickless here: samples are taken lazily. Before nr_active changes, the
 * samples due so far are applied with the count that held until now; a
 * reader applies the pending ones to a copy without changing anything.
 */
import type { Kernel } from "../kernel.ts";

export const FSHIFT = 11;
export const FIXED_1 = 1 << FSHIFT;
export const EXP = [1884, 2014, 2037] as const;

/** LOAD_FREQ in ns: 5 s plus one tick. */
export function loadFreq(k: Kernel): number {
  return 5_000_000_000 + k.tickNs;
}

function calcLoad(load: number, exp: number, active: number): number {
  let n = load * exp + active * (FIXED_1 - exp);
  if (active >= load) n += FIXED_1 - 1;
  return Math.floor(n / FIXED_1);
}

/** nr_running of every CPU plus uninterruptible sleepers. */
export function nrActive(k: Kernel): number {
  let n = k.nrUninterruptible;
  for (const rq of k.rqs) n += rq.nrRunning;
  return n;
}

/** The averages after applying every sample due up to `now` with `active` tasks: pure. */
function advance(avenrun: readonly number[], next: number, now: number, freq: number, active: number): { avenrun: number[]; next: number } {
  const a = avenrun.slice();
  const fixed = active * FIXED_1;
  while (next <= now) {
    for (let i = 0; i < 3; i++) a[i] = calcLoad(a[i]!, EXP[i]!, fixed);
    next += freq;
  }
  return { avenrun: a, next };
}

/** Applies the samples due so far; call before nr_active changes. */
export function loadCatchUp(k: Kernel): void {
  if (k.now < k.nextLoadSample) return;
  const r = advance(k.avenrun, k.nextLoadSample, k.now, loadFreq(k), nrActive(k));
  k.avenrun = r.avenrun;
  k.nextLoadSample = r.next;
}

/** The 1, 5 and 15 minute averages as fixed-point numbers, as of now (read-only). */
export function loadAverages(k: Kernel): number[] {
  return advance(k.avenrun, k.nextLoadSample, k.now, loadFreq(k), nrActive(k)).avenrun;
}

/** "%lu.%02lu" of a fixed-point average, rounded as /proc/loadavg does (+ FIXED_1/200). */
export function formatLoad(x: number): string {
  const v = x + FIXED_1 / 200;
  const int = Math.floor(v / FIXED_1);
  const frac = Math.floor(((v % FIXED_1) * 100) / FIXED_1);
  return `${int}.${String(frac).padStart(2, "0")}`;
}

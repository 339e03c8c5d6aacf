/**
 * Scheduler presets: each names a class chain and its defaults (hono-style presets).
 * The chain always ends with the idle class.
 */
import type { SchedClass } from "./class.ts";
import { ParamError, type Params } from "../param.ts";
import { idleClass } from "./idle.ts";
import { simpleClass } from "./simple.ts";
import { eevdfClass } from "./eevdf.ts";
import { cfsClass } from "./cfs.ts";
import { stopClass } from "./stop.ts";
import { dlClass } from "./deadline.ts";
import { rtClass } from "./rt.ts";

export interface Preset {
  name: string;
  description: string;
  classes: (p: Params) => SchedClass[];
}

/** CPU scaling of the fair-class tunables (sysctl_sched_tunable_scaling = LOG): 1 + ilog2(min(cpus, 8)). */
export function cpuFactor(cpus: number): number {
  return 1 + Math.floor(Math.log2(Math.min(cpus, 8)));
}

export const PRESETS: Record<string, Preset> = {
  "linux-6": {
    name: "linux-6",
    description: "Linux 6.6+: stop > deadline > realtime (FIFO/RR, RT throttling) > fair (EEVDF) > idle",
    classes: (p) => [stopClass, dlClass(p), rtClass(p), eevdfClass(p), idleClass],
  },
  "linux-5": {
    name: "linux-5",
    description: "Linux 5.x: stop > deadline > realtime (FIFO/RR, RT throttling) > fair (CFS) > idle",
    classes: (p) => [stopClass, dlClass(p), rtClass(p), cfsClass(p), idleClass],
  },
  simple: {
    name: "simple",
    description: "placeholder: one round-robin queue per CPU for every policy, slice = base slice x CPU factor, noticed at the tick",
    classes: (p) => [simpleClass(p.baseSlice * cpuFactor(p.cpus)), idleClass],
  },
  eevdf: {
    name: "eevdf",
    description: "fair class only, EEVDF as in Linux 6.6+ (base slice 0.7 ms x CPU factor), then idle",
    classes: (p) => [eevdfClass(p), idleClass],
  },
  cfs: {
    name: "cfs",
    description: "fair class only, CFS as in Linux 2.6.23-6.5 (latency 6 ms, min granularity 0.75 ms, x CPU factor), then idle",
    classes: (p) => [cfsClass(p), idleClass],
  },
};

/** The preset a machine gets when none is named. */
export const DEFAULT_PRESET = "linux-6";

/** Short names for the fair algorithm alone within the full chain, as `--sched eevdf,cfs` users expect. */
export class UnknownSchedulerError extends Error {
  constructor(name: string) {
    super(`unknown scheduler "${name}": expected one of ${Object.keys(PRESETS).join(", ")}`);
    this.name = "UnknownSchedulerError";
  }
}

export function presetClasses(name: string, p: Params): SchedClass[] {
  const preset = PRESETS[name];
  if (!preset) throw new UnknownSchedulerError(name);
  const classes = preset.classes(p);
  // The feature switches are EEVDF's: under another fair class they would silently change nothing.
  if ((p.schedFeatures ?? "").trim() !== "" && !classes.some((c) => c.name === "eevdf"))
    throw new ParamError("schedFeatures", p.schedFeatures, `the feature switches are the EEVDF class's; scheduler "${name}" has none (use ${Object.keys(PRESETS).filter((n) => PRESETS[n]!.classes(p).some((c) => c.name === "eevdf")).join(" or ")})`);
  return classes;
}

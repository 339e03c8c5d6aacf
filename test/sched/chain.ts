/**
 * TEST-ONLY: machines booted with a hand-made class chain
 * stop > deadline > realtime > fair > idle, for the RT and deadline suites.
 */
import { Machine } from "../../src/user/machine.ts";
import { Kernel } from "../../src/kernel/kernel.ts";
import { boot } from "../../src/kernel/boot.ts";
import { defaultParams, type Params } from "../../src/kernel/param.ts";
import { initProgram } from "../../src/user/init.ts";
import { stopClass } from "../../src/kernel/sched/stop.ts";
import { dlClass } from "../../src/kernel/sched/deadline.ts";
import { rtClass } from "../../src/kernel/sched/rt.ts";
import { simpleClass } from "../../src/kernel/sched/simple.ts";
import { eevdfClass } from "../../src/kernel/sched/eevdf.ts";
import { idleClass } from "../../src/kernel/sched/idle.ts";
import type { SchedClass } from "../../src/kernel/sched/class.ts";
import { SCHED_NORMAL, SCHED_BATCH, SCHED_IDLE } from "../../src/kernel/task/task.ts";

export const MS = 1_000_000;
export const SEC = 1_000_000_000;
export const TICK = 4 * MS; // HZ = 250

/** The placeholder simple class restricted to the fair policies (0, 3, 5). */
function fairStandIn(slice: number): SchedClass {
  return { ...simpleClass(slice), policies: [SCHED_NORMAL, SCHED_BATCH, SCHED_IDLE] };
}

export type MachineOpts = Partial<Params> & { without?: string[] };

/** The fair classes every case runs with: the simple stand-in and EEVDF (what linux-6 chains). */
export const FAIRS = [
  { name: "simple stand-in", make: (p: Params) => fairStandIn(p.baseSlice) },
  { name: "eevdf", make: (p: Params) => eevdfClass(p) },
];

/** A Machine booted with the chain stop > dl > rt > fair > idle; `without` drops classes by name. */
export function bootChain(fair: (p: Params) => SchedClass, opts: MachineOpts = {}): Machine {
  const { without = [], ...over } = opts;
  const params: Params = { ...defaultParams(), cpus: 1, ...over };
  const chain: SchedClass[] = [stopClass, dlClass(params), rtClass(params), fair(params), idleClass];
  const classes = chain.filter((c) => !without.includes(c.name));
  const m = Object.create(Machine.prototype) as Machine;
  Object.assign(m, { kernel: new Kernel({ ...params, seed: 1, classes }), sched: "test" });
  boot(m.kernel, initProgram);
  return m;
}

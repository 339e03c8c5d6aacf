/**
 * The EEVDF queue as a data structure: the deadline-keyed tree augmented with
 * subtree minimum vruntime, the incremental sums behind V, and pick_eevdf's
 * fast path and heap search, checked against brute force on random queues.
 * Plus the weight tables and the fixed-point calc_delta_fair.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/sim/engine.ts";
import type { Task } from "../../src/kernel/task/task.ts";
import { SchedEntity } from "../../src/kernel/sched/fair_common.ts";
import {
  avgVruntime, dequeueTree, enqueueTree, entityEligible, heapSearch, newEevdfRq, pickEevdf, updateMinVruntime,
  type EevdfRq,
} from "../../src/kernel/sched/eevdf.ts";
import {
  calcDeltaFair, calcDeltaFixed, niceToWeight, NICE_0_LOAD, SCHED_PRIO_TO_WEIGHT, SCHED_PRIO_TO_WMULT, WEIGHT_IDLEPRIO,
  WMULT_IDLEPRIO,
} from "../../src/kernel/sched/weights.ts";

const fakeTask = (nice: number): Task => ({ policy: 0, staticPrio: 120 + nice }) as Task;

/** Integer vruntimes and weights keep every sum exact, so brute force and the tree must agree exactly. */
function entity(rng: Rng, base: number): SchedEntity {
  const se = new SchedEntity(fakeTask(rng.int(-20, 19)));
  se.vruntime = base + rng.int(-2_000_000, 2_000_000);
  se.deadline = se.vruntime + rng.int(1, 3_000_000);
  return se;
}

function add(cfs: EevdfRq, se: SchedEntity): void {
  enqueueTree(cfs, se);
  se.onRq = true;
  cfs.nrRunning++;
  cfs.load += se.weight;
}

function remove(cfs: EevdfRq, se: SchedEntity): void {
  dequeueTree(cfs, se);
  se.onRq = false;
  cfs.nrRunning--;
  cfs.load -= se.weight;
}

/** All queued entities: the tree in order, then curr. */
function queued(cfs: EevdfRq): SchedEntity[] {
  const all = [...cfs.tree].map((n) => n.value);
  if (cfs.curr !== null && cfs.curr.onRq) all.push(cfs.curr);
  return all;
}

/** Eligibility from scratch: sum w (v - V) <= 0 ... as sum w_j v_j >= v_i sum w_j. */
function bruteEligible(cfs: EevdfRq, se: SchedEntity): boolean {
  const all = queued(cfs);
  const sw = all.reduce((a, e) => a + e.weight, 0);
  const swv = all.reduce((a, e) => a + e.weight * (e.vruntime - cfs.minVruntime), 0);
  return swv >= (se.vruntime - cfs.minVruntime) * sw;
}

describe("EEVDF rbtree (deadline-keyed, min-vruntime augmented)", () => {
  it("pick_eevdf and the heap search agree with brute force on random queues", () => {
    const rng = new Rng(42);
    for (let round = 0; round < 100; round++) {
      const cfs = newEevdfRq();
      const live: SchedEntity[] = [];
      let base = 0;
      for (let step = 0; step < 60; step++) {
        if (live.length > 0 && rng.float() < 0.35) {
          const se = live.splice(rng.int(0, live.length - 1), 1)[0]!;
          remove(cfs, se);
        } else {
          const se = entity(rng, base);
          live.push(se);
          add(cfs, se);
        }
        if (rng.float() < 0.2) {
          base += rng.int(0, 500_000);
          updateMinVruntime(cfs);
        }
        cfs.tree.check();
        const ordered = [...cfs.tree].map((n) => n.value);
        const want = ordered.find((se) => bruteEligible(cfs, se)) ?? null;
        expect(heapSearch(cfs)).toBe(want);
        if (ordered.length > 0) {
          const best = pickEevdf(cfs, false)!;
          expect(bruteEligible(cfs, best) || want === null).toBe(true);
          if (want !== null) expect(best.deadline).toBe(want.deadline);
        }
        for (const se of ordered) expect(entityEligible(cfs, se)).toBe(bruteEligible(cfs, se));
        const swv = ordered.reduce((a, e) => a + e.weight * (e.vruntime - cfs.minVruntime), 0);
        expect(cfs.avgVruntime).toBe(swv);
      }
    }
  });

  it("at least one queued entity is always eligible (lags sum to zero)", () => {
    const rng = new Rng(3);
    for (let round = 0; round < 500; round++) {
      const cfs = newEevdfRq();
      const n = rng.int(1, 30);
      for (let i = 0; i < n; i++) add(cfs, entity(rng, 1_000_000));
      expect(queued(cfs).some((se) => entityEligible(cfs, se))).toBe(true);
      const V = avgVruntime(cfs);
      const lagSum = queued(cfs).reduce((a, se) => a + se.weight * (V - se.vruntime), 0);
      expect(Math.abs(lagSum)).toBeLessThan(1e-3 * cfs.load);
    }
  });

  it("curr counts in V and competes with the tree; RUN_TO_PARITY keeps an eligible curr on its request", () => {
    const cfs = newEevdfRq();
    const a = new SchedEntity(fakeTask(0));
    const b = new SchedEntity(fakeTask(0));
    a.vruntime = 0;
    a.deadline = 700_000;
    b.vruntime = 100;
    b.deadline = 500_000;
    add(cfs, a);
    add(cfs, b);
    // b is not eligible (v above V = 50); a is.
    expect(pickEevdf(cfs)).toBe(a);
    // a runs: out of the tree, still counted.
    dequeueTree(cfs, a);
    cfs.curr = a;
    a.pickDeadline = a.deadline;
    a.vruntime = 100; // V = 100: both eligible (b exactly at V), b's deadline is earlier
    expect(avgVruntime(cfs)).toBe(100);
    expect(pickEevdf(cfs, false)).toBe(b);
    expect(pickEevdf(cfs, true)).toBe(a); // protected until its deadline
    a.vruntime = 200; // V = 150: a is no longer eligible, protection or not
    expect(pickEevdf(cfs, true)).toBe(b);
  });
});

describe("weights (sched_prio_to_weight, sched_prio_to_wmult)", () => {
  it("nice 0 is 1024, each level about 1.25x, SCHED_IDLE 3", () => {
    expect(SCHED_PRIO_TO_WEIGHT.length).toBe(40);
    expect(niceToWeight(0)).toBe(NICE_0_LOAD);
    expect(niceToWeight(-20)).toBe(88761);
    expect(niceToWeight(19)).toBe(15);
    expect(WEIGHT_IDLEPRIO).toBe(3);
    for (let i = 1; i < 40; i++) {
      const r = SCHED_PRIO_TO_WEIGHT[i - 1]! / SCHED_PRIO_TO_WEIGHT[i]!;
      expect(r).toBeGreaterThanOrEqual(1.2);
      expect(r).toBeLessThan(1.3);
    }
  });

  it("wmult is 2^32 / weight to within 1", () => {
    for (let i = 0; i < 40; i++) expect(Math.abs(SCHED_PRIO_TO_WMULT[i]! - 2 ** 32 / SCHED_PRIO_TO_WEIGHT[i]!)).toBeLessThan(1);
    expect(WMULT_IDLEPRIO).toBe(Math.floor(2 ** 32 / 3));
  });

  it("the kernel's fixed-point calc_delta_fair is within weight / 2^32 (+1 ns) of the exact quotient", () => {
    const rng = new Rng(9);
    for (const w of [...SCHED_PRIO_TO_WEIGHT, WEIGHT_IDLEPRIO]) {
      for (let i = 0; i < 50; i++) {
        const delta = rng.int(1, 1e9);
        const exact = calcDeltaFair(delta, w);
        const fixed = calcDeltaFixed(delta, w);
        expect(Math.abs(exact - fixed)).toBeLessThanOrEqual((exact * w) / 2 ** 32 + 1);
      }
    }
  });
});

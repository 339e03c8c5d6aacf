/**
 * CFS buddies (kernel/sched/fair.c up to 6.5):
 * - check_preempt_wakeup(): a wakee that preempts curr becomes the next
 *   buddy; with at least sched_nr_latency (8) tasks on the queue, the
 *   preempted curr becomes the last buddy (LAST_BUDDY, on by default);
 * - pick_next_entity(): the leftmost runs unless the next buddy, else the
 *   last buddy, is at most one wakeup granularity (scaled to the leftmost's
 *   weight) ahead of it: wakeup_preempt_entity(buddy, left) < 1;
 * - clear_buddies(): a task loses its roles when picked, dequeued, yielding,
 *   or when check_preempt_tick finds it used its slice.
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import { cfsClass, type CfsRq } from "../../src/kernel/sched/cfs.ts";
import { seOf, type SchedEntity } from "../../src/kernel/sched/fair_common.ts";
import { calcDeltaFair } from "../../src/kernel/sched/weights.ts";
import { bootChain } from "./chain.ts";
import { setAffinity, setUserNice } from "../../src/kernel/sched/prio.ts";
import type { Task } from "../../src/kernel/task/task.ts";

const hog = program("hog", function* (sys) {
  for (;;) yield* sys.compute(1e12);
});
const sleeper = (run: number, nap: number) =>
  program("sleeper", function* (sys) {
    for (;;) {
      yield* sys.compute(run);
      yield* sys.sleep(nap);
    }
  });

/** 8 hogs of mixed nice and 2 short sleepers on one CPU. Returns the machine and the sleepers' pids. */
function load(m: Machine): number[] {
  for (let i = 0; i < 8; i++) m.spawn(hog, { nice: (i % 4) - 2 });
  return [m.spawn(sleeper(200_000, 7_300_000)), m.spawn(sleeper(300_000, 11_100_000))];
}

/** How often a hog preempted by a waking sleeper gets the CPU back as soon as that sleeper blocks. */
function returns(m: Machine, sleepers: number[]): { preempted: number; returned: number } {
  let preempted = 0;
  let returned = 0;
  let victim = -1;
  m.kernel.trace.subscribe((e) => {
    if (e.name !== "sched_switch") return;
    if (sleepers.includes(e.next_pid) && e.prev_state === "R+" && !sleepers.includes(e.prev_pid)) {
      victim = e.prev_pid;
      preempted++;
    } else if (sleepers.includes(e.prev_pid) && e.prev_state === "S" && victim !== -1) {
      if (e.next_pid === victim) returned++;
      victim = -1;
    } else victim = -1;
  });
  m.run(3e9);
  return { preempted, returned };
}

describe("CFS buddies (Linux 6.5 pick_next_entity, check_preempt_wakeup)", () => {
  it("every pick of something other than the leftmost is a buddy within one wakeup granularity of it", () => {
    const m = new Machine({ cpus: 1, sched: "cfs" });
    load(m);
    const cls = m.kernel.classes[0]!;
    const cfs = m.kernel.rqs[0]!.cfs as CfsRq;
    const gran = m.kernel.params.wakeupGranularity; // x1 on one CPU
    const pick = cls.pickTask.bind(cls);
    let byNext = 0;
    let byLast = 0;
    cls.pickTask = (rq) => {
      const left = cfs.tree.first()?.value ?? null;
      const { next, last } = cfs;
      const p = pick(rq);
      if (p === null || left === null || cfs.curr !== null) return p;
      const se = seOf(p);
      if (se !== left && cfs.skip === null) {
        expect([next, last]).toContain(se);
        expect(se.vruntime - left.vruntime).toBeLessThanOrEqual(calcDeltaFair(gran, left.weight));
        if (se === next) byNext++;
        else byLast++;
      }
      return p;
    };
    m.run(3e9);
    expect(byNext + byLast).toBeGreaterThan(0);
    expect(byLast).toBeGreaterThan(5);
  });

  it("LAST_BUDDY: a hog preempted by a wakeup gets the CPU back when the wakee blocks more often than without it", () => {
    const on = bootChain((p) => cfsClass(p), { cpus: 1 });
    const off = bootChain((p) => cfsClass(p, { lastBuddy: false }), { cpus: 1 });
    const a = returns(on, load(on));
    const b = returns(off, load(off));
    expect(a.preempted).toBeGreaterThan(50);
    expect(b.preempted).toBeGreaterThan(50);
    // Without the buddy the victim comes back only when it happens to be the leftmost.
    expect(a.returned / a.preempted).toBeGreaterThan(2 * (b.returned / b.preempted));
  });

  it("buddy roles are given up when the task is picked, sleeps or yields: no buddy is ever curr or off the queue", () => {
    const m = new Machine({ cpus: 1, sched: "cfs" });
    load(m);
    m.spawn(
      program("yielder", function* (sys) {
        for (;;) {
          yield* sys.compute(500_000);
          yield* sys.sched_yield();
        }
      }),
    );
    const cfs = m.kernel.rqs[0]!.cfs as CfsRq;
    let checked = 0;
    m.kernel.trace.subscribe((e) => {
      if (e.name !== "sched_switch") return;
      for (const b of [cfs.next, cfs.last, cfs.skip] as (SchedEntity | null)[]) {
        if (b === null) continue;
        expect(b.onRq).toBe(true);
        expect(b).not.toBe(cfs.curr);
        checked++;
      }
    });
    m.run(2e9);
    expect(checked).toBeGreaterThan(50);
  });

  it("pick_next_entity: a next or last buddy runs instead of the leftmost exactly when it is at most one wakeup granularity ahead (next before last)", () => {
    const m = new Machine({ cpus: 1, sched: "cfs" });
    for (let i = 0; i < 12; i++) m.spawn(hog, { nice: (i % 6) - 3 });
    m.run(301_000_000);
    const rq = m.kernel.rqs[0]!;
    const cls = m.kernel.classes[0]!;
    const cfs = rq.cfs as CfsRq;
    const gran = m.kernel.params.wakeupGranularity;
    const queued = [...cfs.tree].map((n) => n.value);
    const c = cfs.curr!;
    const left = c.onRq && c.vruntime < queued[0]!.vruntime ? c : queued[0]!;
    const within = (e: SchedEntity): boolean => e.vruntime - left.vruntime <= calcDeltaFair(gran, left.weight);
    const pickWith = (next: SchedEntity | null, last: SchedEntity | null): SchedEntity => {
      cfs.next = next;
      cfs.last = last;
      cfs.skip = null;
      return seOf(cls.pickTask(rq) as Task);
    };
    let near = 0;
    let far = 0;
    for (const e of queued) {
      if (e === left) continue;
      if (within(e)) near++;
      else far++;
      expect(pickWith(e, null)).toBe(within(e) ? e : left);
      expect(pickWith(null, e)).toBe(within(e) ? e : left);
    }
    expect(near).toBeGreaterThan(0);
    expect(far).toBeGreaterThan(0);
    const nearOnes = queued.filter((e) => e !== left && within(e));
    const farOne = queued.find((e) => !within(e))!;
    if (nearOnes.length >= 2) expect(pickWith(nearOnes[0]!, nearOnes[1]!)).toBe(nearOnes[0]); // next wins over last
    expect(pickWith(farOne, nearOnes[0]!)).toBe(nearOnes[0]); // an unfair next gives way to a fair last
    cfs.next = cfs.last = null;
  });

  for (const n of [7, 8]) {
    it(`LAST_BUDDY needs sched_nr_latency (8) tasks on the queue: with ${n}, the preempted task ${n >= 8 ? "becomes" : "does not become"} the last buddy; the wakee is always the next buddy`, () => {
      const m = new Machine({ cpus: 1, sched: "cfs" });
      for (let i = 0; i < n - 1; i++) m.spawn(hog);
      const s = m.spawn(sleeper(100_000, 30_000_000));
      const cls = m.kernel.classes[0]!;
      const rq = m.kernel.rqs[0]!;
      const cfs = rq.cfs as CfsRq;
      const orig = cls.wakeupPreempt.bind(cls);
      let preemptions = 0;
      cls.wakeupPreempt = (r, p, flags) => {
        const curr = seOf(r.curr);
        const was = r.needResched;
        orig(r, p, flags);
        if (p.pid !== s || was || !r.needResched) return;
        preemptions++;
        expect(cfs.nrRunning).toBe(n);
        expect(cfs.next).toBe(seOf(p));
        expect(cfs.last).toBe(n >= 8 ? curr : null);
      };
      m.run(1e9);
      expect(preemptions).toBeGreaterThan(5);
    });
  }

  it("a buddy that leaves the queue (moved to another CPU) or is re-queued (nice) is no buddy any more; SCHED_IDLE wakees are never buddies", () => {
    const m = new Machine({ cpus: 2, sched: "cfs" });
    const pids = Array.from({ length: 6 }, () => m.spawn(hog, { affinity: [0] }));
    m.run(50_000_000);
    const k = m.kernel;
    const rq = k.rqs[0]!;
    const cfs = rq.cfs as CfsRq;
    const queued = pids.map((p) => m.task(p)!).filter((t) => t !== rq.curr);
    cfs.next = seOf(queued[0]!);
    cfs.last = seOf(queued[1]!);
    setAffinity(k, k.init, queued[0]!.pid, [1]);
    expect(queued[0]!.cpu).toBe(1);
    expect(cfs.next).toBeNull();
    expect(cfs.last).toBe(seOf(queued[1]!));
    setUserNice(k, queued[1]!, 3);
    expect(cfs.last).toBeNull();
    // A NORMAL sleeper preempting SCHED_IDLE hogs (9 of them: enough for a last buddy) marks no buddy:
    // set_last_buddy ignores SCHED_IDLE entities, and this path never sets the next buddy.
    const m2 = new Machine({ cpus: 1, sched: "cfs" });
    for (let i = 0; i < 9; i++) m2.spawn(hog, { policy: 5 });
    const normal = m2.spawn(sleeper(100_000, 20_000_000));
    const cfs2 = m2.kernel.rqs[0]!.cfs as CfsRq;
    let preempted = 0;
    m2.kernel.trace.subscribe((e) => {
      if (e.name !== "sched_switch") return;
      if (e.next_pid === normal && e.prev_state === "R+") preempted++;
      expect(cfs2.last).toBeNull();
      expect(cfs2.next).toBeNull();
    });
    m2.run(500_000_000);
    expect(preempted).toBeGreaterThan(5);
  });
});

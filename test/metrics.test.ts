import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Machine } from "../src/user/machine.ts";
import { program } from "../src/user/program.ts";
import { ms } from "../src/sim/units.ts";
import type { TraceEvent } from "../src/sim/trace.ts";
import { MetricsRecorder, jainIndex, percentiles, type TaskMetrics } from "../src/observe/metrics.ts";
import { chartColours, ganttData, ganttSpec, ganttSvg, laneHeight, pidColour } from "../src/observe/gantt.ts";
import { compareSchedulers, formatCompareTable } from "../src/observe/compare.ts";
import { PRESETS } from "../src/kernel/sched/presets.ts";

const MS = 1_000_000;

const hog = (name: string, t: number) =>
  program(name, function* (sys) {
    yield* sys.compute(t);
    return 0;
  });

const sleeper = program("sleeper", function* (sys) {
  for (let i = 0; i < 5; i++) {
    yield* sys.sleep(ms(10));
    yield* sys.compute(ms(1));
  }
  return 0;
});

/** A and B, 10 ms of CPU each, both started at t=0 on one CPU. */
function twoHogs(sched = "simple"): Machine {
  const m = new Machine({ cpus: 1, seed: 1, sched });
  m.spawn(hog("A", ms(10)), { name: "A" });
  m.spawn(hog("B", ms(10)), { name: "B" });
  return m;
}

function byComm(tasks: TaskMetrics[], comm: string): TaskMetrics {
  const t = tasks.find((x) => x.comm === comm);
  if (!t) throw new Error(`no task ${comm}`);
  return t;
}

function traceHash(m: Machine): () => string {
  const h = createHash("sha256");
  m.kernel.trace.subscribe((e) => h.update(JSON.stringify(e) + "\n"));
  return () => h.digest("hex");
}

/** Start and end tags balance, and nothing is left open (a regex sanity check of XML well-formedness). */
function balancedXml(svg: string): boolean {
  const stack: string[] = [];
  const body = svg.replace(/<\?xml[^>]*\?>/, "").replace(/<!--[\s\S]*?-->/g, "");
  if (/<(?![/a-zA-Z])/.test(body)) return false; // a stray "<" in text
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w:.-]*)(?:\s+[\w:.-]+="[^"]*")*\s*(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (!close) stack.push(name!);
    else if (stack.pop() !== name) return false;
  }
  const tags = (body.match(/<[^>]*>/g) ?? []).length;
  const parsed = [...body.matchAll(/<(\/?)([a-zA-Z][\w:.-]*)(?:\s+[\w:.-]+="[^"]*")*\s*(\/?)>/g)].length;
  return stack.length === 0 && tags === parsed;
}

/** Paths inside the Vega mark group named `name`. */
function marksIn(svg: string, name: string): number {
  const at = svg.indexOf(`role-mark ${name}"`);
  if (at < 0) return 0;
  const end = svg.indexOf("</g>", at);
  return (svg.slice(at, end).match(/<path /g) ?? []).length;
}

/** Synthetic sched_switch events: `n` switches spread over `cpus` CPUs among `pids` tasks. */
function syntheticSwitches(n: number, cpus: number, pids: number): TraceEvent[] {
  const ev: TraceEvent[] = [];
  const cur = new Array<number>(cpus).fill(0);
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let ts = 0;
  for (let i = 0; i < n; i++) {
    const cpu = i % cpus;
    ts += Math.floor(rnd() * 20_000);
    const next = rnd() < 0.1 ? 0 : 2 + Math.floor(rnd() * pids);
    const prev = cur[cpu]!;
    ev.push({ name: "sched_switch", ts, cpu, prev_comm: `t${prev}`, prev_pid: prev, prev_prio: 120, prev_state: rnd() < 0.5 ? "R+" : "S", next_comm: `t${next}`, next_pid: next, next_prio: 120 });
    cur[cpu] = next;
  }
  return ev;
}

describe("metrics: two 10 ms hogs on one CPU (simple: round robin at the 4 ms tick)", () => {
  const m = twoHogs();
  const rec = MetricsRecorder.attach(m);
  m.run();
  const r = rec.finish(m.now);
  const a = byComm(r.tasks, "A");
  const b = byComm(r.tasks, "B");

  it("turnaround = waiting + CPU time for tasks that never sleep", () => {
    // A runs 0-4, 8-12, 16-18 ms; B runs 4-8, 12-16, 18-20 ms.
    expect(a.turnaround).toBe(18 * MS);
    expect(b.turnaround).toBe(20 * MS);
    expect(a.cpuTime).toBe(10 * MS);
    expect(b.cpuTime).toBe(10 * MS);
    expect(a.waiting).toBe(8 * MS);
    expect(b.waiting).toBe(10 * MS);
    for (const t of [a, b]) expect(t.turnaround).toBe(t.waiting + t.cpuTime);
    expect(r.summary.meanTurnaround).toBe(19 * MS);
    expect(r.summary.meanWaiting).toBe(9 * MS);
  });

  it("response is creation to first run", () => {
    expect(a.response).toBe(0);
    expect(b.response).toBe(4 * MS);
    expect(r.summary.meanResponse).toBe(2 * MS);
  });

  it("CPU shares sum to 1 and equal shares give Jain index 1", () => {
    const sum = r.tasks.reduce((s, t) => s + t.shareOfCpu, 0);
    expect(sum).toBeCloseTo(1, 12);
    expect(a.shareOfCpu).toBe(0.5);
    expect(a.shareOfElapsed).toBe(0.5);
    expect(r.summary.jainRaw).toBe(1); // equal CPU time
    // Against the fair-share reference (each owed half the CPU while both want it): A, done first at 18 ms, got 10
    // of the 9 ms owed to it (the tick's granularity); B got 10 of 10, as init, woken at 18 ms to reap A, is owed
    // half of the last 2 ms.
    expect(r.summary.jain).toBeCloseTo((10 / 9 + 1) ** 2 / (2 * ((10 / 9) ** 2 + 1)), 12);
    expect(r.summary.fairnessPids).toEqual([a.pid, b.pid]);
  });

  it("the CPU is 100% busy while there is work; throughput counts exits", () => {
    expect(r.elapsed).toBe(20 * MS);
    expect(r.perCpu[0]!.utilisation).toBe(1);
    expect(r.summary.utilisation).toBe(1);
    expect(r.summary.exited).toBe(2);
    expect(r.summary.throughput).toBeCloseTo(100, 9); // 2 exits in 20 ms
  });

  it("counts switches: preemptions are involuntary, exits voluntary", () => {
    expect(a.involuntarySwitches).toBe(2);
    expect(a.voluntarySwitches).toBe(1);
    expect(b.voluntarySwitches).toBe(1);
    expect(r.summary.switches).toBe(r.perCpu[0]!.switches);
    expect(r.summary.migrations).toBe(0);
  });

  it("reports nice and policy read at creation, and plain JSON", () => {
    expect(a.nice).toBe(0);
    expect(a.policy).toBe(0);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe("metrics: run delay of a sleeper", () => {
  function run(withHog: boolean) {
    const m = new Machine({ cpus: 1, seed: 1, sched: "simple" });
    const rec = MetricsRecorder.attach(m);
    m.spawn(sleeper, { name: "sleeper" });
    if (withHog) m.spawn(hog("hog", ms(100)), { name: "hog" });
    m.run();
    return rec.finish(m.now);
  }

  it("alone, every wakeup runs at once", () => {
    const s = byComm(run(false).tasks, "sleeper");
    expect(s.runDelay).toMatchObject({ count: 6, p50: 0, p99: 0, max: 0 });
    expect(s.turnaround).toBe(55 * MS);
    expect(s.voluntarySwitches).toBe(6);
  });

  it("next to a hog, each wakeup waits for the next tick", () => {
    // Wakes at 10 ms, runs at the 12 ms tick (2 ms); then wakes at 23, 35, 47, 59: 1 ms each.
    const r = run(true);
    const s = byComm(r.tasks, "sleeper");
    expect(s.runDelay).toEqual({ count: 6, mean: 1 * MS, max: 2 * MS, p50: 1 * MS, p95: 2 * MS, p99: 2 * MS });
    expect(s.waiting).toBe(6 * MS);
    expect(s.turnaround).toBe(61 * MS);
    const pooled = byComm(r.tasks, "hog").runDelay.count + s.runDelay.count;
    expect(r.summary.runDelay.count).toBe(pooled);
  });
});

describe("metrics: utilisation", () => {
  it("one hog on two CPUs: one CPU full, the other idle, 50% overall", () => {
    const m = new Machine({ cpus: 2, seed: 1, sched: "simple" });
    const rec = MetricsRecorder.attach(m);
    m.spawn(hog("hog", ms(50)), { name: "hog" });
    m.run();
    const r = rec.finish(m.now);
    const busy = r.perCpu.map((c) => c.utilisation).sort();
    expect(busy[0]).toBeCloseTo(0, 6);
    expect(busy[1]).toBeCloseTo(1, 6);
    expect(r.summary.utilisation).toBeCloseTo(0.5, 6);
  });

  it("a window cut mid-run counts the runs still on a CPU", () => {
    const m = twoHogs();
    const rec = MetricsRecorder.attach(m);
    m.run(ms(6));
    const r = rec.finish(ms(6));
    expect(byComm(r.tasks, "A").cpuTime + byComm(r.tasks, "B").cpuTime).toBe(6 * MS);
    expect(byComm(r.tasks, "B").waiting).toBe(4 * MS);
    expect(r.perCpu[0]!.utilisation).toBe(1);
    expect(r.summary.meanTurnaround).toBeNull();
  });
});

describe("metrics: observing changes nothing", () => {
  it("the trace is identical with and without a recorder", () => {
    const plain = twoHogs();
    plain.spawn(sleeper, { name: "sleeper" });
    const h1 = traceHash(plain);
    plain.run();
    const watched = twoHogs();
    watched.spawn(sleeper, { name: "sleeper" });
    const h2 = traceHash(watched);
    const rec = MetricsRecorder.attach(watched, { keepRuns: true });
    watched.run();
    rec.finish(watched.now);
    expect(h2()).toBe(h1());
    expect(watched.now).toBe(plain.now);
  });

  it("finish does not consume anything: a second finish gives the same answer", () => {
    const m = twoHogs();
    const rec = MetricsRecorder.attach(m);
    m.run(ms(10));
    expect(rec.finish(ms(10))).toEqual(rec.finish(ms(10)));
  });
});

describe("metrics: helpers", () => {
  it("percentiles by nearest rank", () => {
    const p = percentiles(Float64Array.from([5, 1, 4, 2, 3, 6, 7, 8, 9, 10]));
    expect(p).toEqual({ count: 10, mean: 5.5, max: 10, p50: 5, p95: 10, p99: 10 });
    expect(percentiles(new Float64Array(0)).count).toBe(0);
  });

  it("Jain's index: 1 for equal shares, 1/n when one task has everything", () => {
    expect(jainIndex([0.25, 0.25, 0.25, 0.25])).toBe(1);
    expect(jainIndex([1, 0, 0, 0])).toBe(0.25);
    expect(jainIndex([])).toBeNull();
  });

  it("a reused pid starts a new task record", () => {
    const rec = new MetricsRecorder();
    const fork = (ts: number): TraceEvent => ({ name: "sched_process_fork", ts, cpu: 0, parent_comm: "init", parent_pid: 1, child_comm: "x", child_pid: 7, clone_flags: 17 });
    rec.on(fork(0));
    rec.on({ name: "sched_process_exit", ts: 5, cpu: 0, comm: "x", pid: 7, prio: 120, code: 0 });
    rec.on(fork(10));
    const t = rec.finish(20).tasks.filter((x) => x.pid === 7);
    expect(t.map((x) => x.created)).toEqual([0, 10]);
  });

  it("handles a million events in one pass", () => {
    const ev = syntheticSwitches(1_000_000, 16, 500);
    const rec = new MetricsRecorder({ cpus: 16 });
    const t0 = performance.now();
    for (const e of ev) rec.on(e);
    const r = rec.finish(ev.at(-1)!.ts);
    expect(r.summary.switches).toBe(1_000_000);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

describe("gantt", () => {
  it("draws one lane per CPU as well-formed SVG", async () => {
    const m = twoHogs();
    const rec = MetricsRecorder.attach(m, { keepRuns: true });
    m.run();
    const svg = await ganttSvg(rec, { end: m.now, title: "two hogs" });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(balancedXml(svg)).toBe(true);
    expect(marksIn(svg, "lane-bands")).toBe(1);
    expect(marksIn(svg, "run-bars")).toBe(6); // A and B alternate 3 times each
    expect(svg).toContain("two hogs");
    expect(svg).toContain(pidColour(byComm(rec.finish(m.now).tasks, "A").pid));
  });

  it("merges back-to-back runs of the same pid", () => {
    const ev: TraceEvent[] = [
      { name: "sched_switch", ts: 0, cpu: 0, prev_comm: "swapper/0", prev_pid: 0, prev_prio: 120, prev_state: "R", next_comm: "a", next_pid: 5, next_prio: 120 },
      { name: "sched_switch", ts: 10, cpu: 0, prev_comm: "a", prev_pid: 5, prev_prio: 120, prev_state: "R+", next_comm: "a", next_pid: 5, next_prio: 120 },
      { name: "sched_switch", ts: 20, cpu: 0, prev_comm: "a", prev_pid: 5, prev_prio: 120, prev_state: "S", next_comm: "swapper/0", next_pid: 0, next_prio: 120 },
    ];
    const d = ganttData(ev, { cpus: 2, end: 40 });
    expect(d.bars).toEqual([{ cpu: 0, pid: 5, start: 0, end: 20 }]);
    expect(d.top).toEqual([{ pid: 5, comm: "a", cpuTime: 20 }]);
  });

  it("binsdominant: runs narrower than a pixel are drawn in the colour of the task that ran most in each pixel, and an idle stretch stays empty", () => {
    // 100 ns per pixel (96,000 ns over 960 px). CPU 0: A (pid 5) 30 ns, B (pid 6) 10 ns, over and
    // over until 48,000 ns, then idle. Every pixel is 3/4 A: one A bar to 48,000 and nothing after.
    const ev: TraceEvent[] = [];
    const sw = (ts: number, prev: number, next: number): TraceEvent => ({
      name: "sched_switch", ts, cpu: 0, prev_comm: `t${prev}`, prev_pid: prev, prev_prio: 120, prev_state: "R+", next_comm: `t${next}`, next_pid: next, next_prio: 120,
    });
    let prev = 0;
    for (let t = 0; t < 48_000; t += 40) {
      ev.push(sw(t, prev, 5), sw(t + 30, 5, 6));
      prev = 6;
    }
    ev.push(sw(48_000, 6, 0));
    const d = ganttData(ev, { cpus: 1, end: 96_000 });
    expect(d.bars).toEqual([{ cpu: 0, pid: 5, start: 0, end: 48_000, busy: 1 }]); // busy throughout: drawn opaque
    expect(d.bins).toBe(1);
    expect(d.top.map((t) => t.pid)).toEqual([5, 6]);
  });

  it("partlyidle: a lane busy 10 % in runs far shorter than a pixel is drawn pale over its busy bins, not as a solid bar, and a lane busy 20 % is not left empty", () => {
    // 2 s over 960 px: about 2.08 ms per pixel. CPU 0: pid 5 runs 100 us of every 1 ms; CPU 1: pids 6 and 7 each
    // run 100 us of every 1 ms. The bars' area, weighted by their opacity, must track the busy time.
    const ev: TraceEvent[] = [];
    const sw = (ts: number, cpu: number, prev: number, next: number): TraceEvent => ({
      name: "sched_switch", ts, cpu, prev_comm: `t${prev}`, prev_pid: prev, prev_prio: 120, prev_state: prev === 0 ? "R" : "S", next_comm: `t${next}`, next_pid: next, next_prio: 120,
    });
    for (let t = 0; t < 2e9; t += 1e6) {
      ev.push(sw(t, 0, 0, 5), sw(t + 100_000, 0, 5, 0));
      ev.push(sw(t, 1, 0, 6), sw(t + 100_000, 1, 6, 7), sw(t + 200_000, 1, 7, 0));
    }
    const d = ganttData(ev, { cpus: 2, end: 2e9 });
    const covered = (cpu: number): number => d.bars.filter((b) => b.cpu === cpu).reduce((s, b) => s + (b.end - b.start) * (b.busy ?? 1), 0) / 2e9;
    expect(covered(0)).toBeGreaterThan(0.08);
    expect(covered(0)).toBeLessThan(0.15);
    expect(covered(1)).toBeGreaterThan(0.15);
    expect(covered(1)).toBeLessThan(0.25);
    // No two bars of one lane overlap.
    for (const cpu of [0, 1]) {
      const lane = d.bars.filter((b) => b.cpu === cpu).sort((a, b) => a.start - b.start);
      for (let i = 1; i < lane.length; i++) expect(lane[i]!.start).toBeGreaterThanOrEqual(lane[i - 1]!.end);
    }
  });

  it("stays bounded for 10,000 switches on 64 CPUs", async () => {
    const ev = syntheticSwitches(10_000, 64, 300);
    const svg = await ganttSvg(ev, { cpus: 64, title: "synthetic" });
    expect(balancedXml(svg)).toBe(true);
    expect(marksIn(svg, "lane-bands")).toBe(64);
    expect(marksIn(svg, "run-bars")).toBeLessThanOrEqual(12_000);
    expect(svg.length).toBeLessThan(1_500_000);
  });

  it("caps the marks for far more switches than pixels", () => {
    const d = ganttData(syntheticSwitches(200_000, 64, 300), { cpus: 64, maxBars: 5000 });
    expect(d.bars.length).toBeLessThanOrEqual(5000);
    expect(d.runs).toBeGreaterThan(150_000);
  });

  it("lane height shrinks with CPUs and keeps the plot bounded; up to 93 CPUs every lane is tall enough for its label", () => {
    expect(laneHeight(2)).toBe(36);
    expect(laneHeight(16) * 16).toBeLessThanOrEqual(512);
    expect(laneHeight(64)).toBe(11);
    expect(laneHeight(93) * 93).toBeLessThanOrEqual(1024);
    expect(laneHeight(1024) * 1024).toBeLessThanOrEqual(1024);
  });

  it("labels every CPU at 64 CPUs, and the legend says how many of the tasks it lists", async () => {
    const svg = await ganttSvg(syntheticSwitches(2_000, 64, 300), { cpus: 64, title: "synthetic" });
    for (const cpu of [0, 1, 62, 63]) expect(svg).toContain(`>CPU ${cpu}</text>`);
    expect(svg).toMatch(/most CPU time \(12 of \d+ tasks\)/);
  });
});

describe("compare", () => {
  const scheds = Object.keys(PRESETS);

  it("runs the same workload under each preset", () => {
    const rows = compareSchedulers((sched) => ({ machine: twoHogs(sched) }), scheds);
    expect(rows.map((r) => r.sched)).toEqual(scheds);
    for (const r of rows) {
      expect(r.exited).toBe(2);
      expect(r.end).toBe(20 * MS); // two 10 ms jobs on one always-busy CPU
      expect(r.utilisation).toBe(1);
      expect(r.jain).toBeGreaterThan(0.99); // 1 but for who finishes first (see the two-hogs case)
      expect(r.jainRaw).toBe(1);
    }
    const simple = rows.find((r) => r.sched === "simple")!;
    expect(simple.meanTurnaround).toBe(19 * MS);
  });

  it("formats an aligned table", () => {
    const rows = compareSchedulers((sched) => ({ machine: twoHogs(sched) }), scheds);
    const lines = formatCompareTable(rows).trimEnd().split("\n");
    expect(lines).toHaveLength(scheds.length + 1);
    expect(lines[0]).toMatch(/^sched\s+exited\s+turnaround\s+waiting\s+response\s+delays\s+delay p50\s+p95\s+p99\s+switches\s+migr\s+util\s+exits\/s\s+jain\s+dl missed$/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[1]).toContain("19ms");
  });
});

describe("a task that waits to the end", () => {
  it("openwait: a task starved for the whole run has a run delay of the whole run (its open wait counts, as a lower bound) and takes part in Jain's index over CPU shares", () => {
    const m = new Machine({ cpus: 1, rtRuntime: -1 });
    const rec = MetricsRecorder.attach(m);
    const forever = program("hog", function* (sys) {
      for (;;) yield* sys.compute(1e12);
    });
    m.spawn(forever, { uid: 0, policy: 1, rtPriority: 10, name: "fifo" });
    const starved = m.spawn(forever, { name: "fair" });
    m.run(100 * MS);
    const r = rec.finish(m.now);
    const t = r.tasks.find((x) => x.pid === starved)!;
    expect(t.cpuTime).toBe(0);
    expect(t.waiting).toBe(100 * MS);
    expect(t.runDelay).toMatchObject({ count: 1, p50: 100 * MS, max: 100 * MS });
    expect(r.summary.runDelay.max).toBe(100 * MS);
    expect(r.summary.fairnessPids).toContain(starved);
    expect(r.summary.jainRaw).toBeCloseTo(0.5, 6); // one task has everything, the other nothing: 1/n
    expect(r.summary.jain).toBeNull(); // the weighted index counts fair tasks only: one, which got nothing of its share
  });
});

describe("Jain's index against the fair share", () => {
  it("jainonecpu: on 2 CPUs a nice 0 and a nice 19 hog, each with a CPU of its own, are treated fairly: nobody is owed more than one CPU (water-filling)", () => {
    for (const niceB of [19, 0]) {
      const m = new Machine({ cpus: 2, seed: 1 });
      const rec = MetricsRecorder.attach(m);
      m.spawn(hog("a", 500 * MS), { name: "a" });
      m.spawn(hog("b", 500 * MS), { name: "b", nice: niceB });
      m.run(300 * MS);
      const r = rec.finish(m.now);
      expect(r.tasks.filter((t) => t.workload).map((t) => t.cpuTime)).toEqual([300 * MS, 300 * MS]);
      expect(r.summary.jain).toBeCloseTo(1, 9); // was 0.529 with nice 19: the light one "owed" 1.5 % of 2 CPUs
    }
  });

  it("jainwaterfill: on 2 CPUs a nice -10 hog alone on one CPU and two nice 0 hogs sharing the other are fair: the heavy one's share is cut to one CPU and the rest goes to the light ones", () => {
    const m = new Machine({ cpus: 2, seed: 1 });
    const rec = MetricsRecorder.attach(m);
    m.spawn(hog("heavy", 1e12), { name: "heavy", nice: -10 });
    m.spawn(hog("a", 1e12), { name: "a" });
    m.spawn(hog("b", 1e12), { name: "b" });
    m.run(1000 * MS);
    const r = rec.finish(m.now);
    const cpu = Object.fromEntries(r.tasks.filter((t) => t.workload).map((t) => [t.comm, t.cpuTime / MS]));
    expect(cpu.heavy).toBeGreaterThan(990); // the balancer gives it a CPU of its own
    expect(cpu.a! + cpu.b!).toBeGreaterThan(990); // and the other CPU is theirs (split by when each arrived there)
    // Unfilled, the nice 0 ones would be owed 2 x 1024 / 11596 of a CPU each (177 ms) and look 2.8 times over-served.
    expect(r.summary.jain).toBeGreaterThan(0.99);
  });
});

describe("Gantt legend colours", () => {
  it("legendcolours: the legend's tasks never share a colour, even when their pids are 40 apart (review: hog [2010] and worker [1650] were one colour)", () => {
    const legend = [2010, 1650, 2012, 1532, 5, 45, 85, 7, 8, 9, 10, 11];
    const colour = chartColours(legend);
    expect(new Set(legend.map(colour)).size).toBe(legend.length);
    expect(colour(5)).toBe(pidColour(5)); // the first to claim a slot keeps its pid's colour
    expect(colour(123_456)).toBe(pidColour(123_456)); // others as ever
  });
});

describe("Gantt chart colours", () => {
  it("chartdistinct: with 40 tasks or fewer no two tasks of a chart share a colour, legend or not (review: legend pid 42, moved off pid 2's colour, took pid 3's)", () => {
    const ev: TraceEvent[] = [];
    const sw = (ts: number, prev: number, next: number): TraceEvent => ({
      name: "sched_switch", ts, cpu: 0, prev_comm: `t${prev}`, prev_pid: prev, prev_prio: 120, prev_state: "R+", next_comm: `t${next}`, next_pid: next, next_prio: 120,
    });
    // pids 2 and 42 run most (the legend of 2); pid 3 runs a little.
    ev.push(sw(0, 0, 2), sw(40 * MS, 2, 42), sw(80 * MS, 42, 3), sw(85 * MS, 3, 0));
    const d = ganttData(ev, { cpus: 1, end: 100 * MS, legend: 2 });
    expect(d.top.map((t) => t.pid)).toEqual([2, 42]);
    const spec = ganttSpec(d) as unknown as { data: { name: string; values: { fill: string }[] }[] };
    const fills = spec.data.find((x) => x.name === "bars")!.values.map((v) => v.fill);
    expect(new Set(fills).size).toBe(3);
  });
});

describe("Gantt colours", () => {
  /** CIE76 delta-E between two "#rrggbb" colours (sRGB, D65). */
  const deltaE = (a: string, b: string): number => {
    const lab = (h: string): number[] => {
      const lin = (c: number): number => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
      const [r, g, bl] = [1, 3, 5].map((i) => lin(parseInt(h.slice(i, i + 2), 16) / 255)) as [number, number, number];
      const f = (t: number): number => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
      const x = f((0.4124 * r + 0.3576 * g + 0.1805 * bl) / 0.95047);
      const y = f(0.2126 * r + 0.7152 * g + 0.0722 * bl);
      const z = f((0.0193 * r + 0.1192 * g + 0.9505 * bl) / 1.08883);
      return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
    };
    const [p, q] = [lab(a), lab(b)];
    return Math.hypot(p[0]! - q[0]!, p[1]! - q[1]!, p[2]! - q[2]!);
  };

  it("ganttcolours: any two pids fewer than 8 apart get clearly different colours (CIE76 delta-E at least 19)", () => {
    let worst = Infinity;
    for (let pid = 0; pid < 80; pid++) for (let d = 1; d < 8; d++) worst = Math.min(worst, deltaE(pidColour(pid), pidColour(pid + d)));
    expect(worst).toBeGreaterThanOrEqual(19);
  });
});

describe("deadline jobs", () => {
  const boot = async (text: string) => {
    const { parseWorkload } = await import("../src/scenario/load.ts");
    const { bootWorkload } = await import("../src/scenario/run.ts");
    return bootWorkload(parseWorkload(text, "w.yaml"), {}).machine;
  };

  it("dljobs: a job ends when its task yields, blocks or exits; one that ends after its absolute deadline is a miss, the deadline being the one it was released with even when the CBS postpones it for an overrun", async () => {
    // Budget 2 ms every 10 ms for jobs of 5 ms: each job spans periods and ends late.
    const m = await boot("cpus: 1\nuntil: 100ms\ntasks:\n  - name: over\n    policy: deadline\n    runtime: 2ms\n    deadline: 10ms\n    period: 10ms\n    run:\n      - repeat: { times: 5, run: [ { compute: 5ms }, { yield: true } ] }\n");
    const rec = MetricsRecorder.attach(m);
    const jobs: [number, number, number][] = [];
    m.kernel.trace.subscribe((e) => {
      if (e.name === "dl_job") jobs.push([e.ts / MS, e.deadline / MS, e.lateness / MS]);
    });
    m.run(100 * MS);
    // Released at 0 (deadline 10): 4 ms to the tick that sees the budget spent, 1 ms more at 10 ms: ends at 11.
    // Then released at 30 (deadline 40) and 50 (deadline 60): 2 ms, a throttle, 3 ms more.
    expect(jobs).toEqual([[11, 10, 1], [43, 40, 3], [63, 60, 3]]);
    const r = rec.finish(m.now);
    expect(r.tasks.find((t) => t.comm === "over")!.deadlineJobs).toEqual({ jobs: 3, missed: 3, maxLateness: 3 * MS });
    expect([r.summary.deadlineJobs, r.summary.deadlineMissed]).toEqual([3, 3]);
  });

  it("dljobcount: a periodic job written as repeat { compute, yield } N times counts N jobs: the job released after the last yield never runs before the exit and is not one", async () => {
    const m = await boot("cpus: 1\ntasks:\n  - name: t\n    policy: deadline\n    runtime: 2ms\n    deadline: 10ms\n    period: 10ms\n    run:\n      - repeat: { times: 5, run: [ { compute: 1ms }, { yield: true } ] }\n");
    const rec = MetricsRecorder.attach(m);
    m.run();
    expect(rec.finish(m.now).tasks.find((t) => t.comm === "t")!.deadlineJobs).toEqual({ jobs: 5, missed: 0, maxLateness: -9 * MS });
  });

  it("dljobsmet: the example's admitted deadline tasks meet every deadline (each job early), and fair tasks have no deadline jobs", async () => {
    const { readFileSync } = await import("node:fs");
    const m = await boot(readFileSync(new URL("../examples/workloads/deadline.yaml", import.meta.url), "utf8"));
    const rec = MetricsRecorder.attach(m);
    m.run(2000 * MS);
    const r = rec.finish(m.now);
    const dl = r.tasks.filter((t) => t.policy === 6);
    expect(dl.length).toBeGreaterThan(0);
    for (const t of dl) {
      expect(t.deadlineJobs!.jobs).toBeGreaterThan(10);
      expect(t.deadlineJobs!.missed).toBe(0);
      expect(t.deadlineJobs!.maxLateness).toBeLessThan(0);
    }
    for (const t of r.tasks.filter((x) => x.policy !== 6)) expect(t.deadlineJobs).toBeNull();
    expect(r.summary.deadlineMissed).toBe(0);
  });
});

describe("attributes the metrics show", () => {
  it("endpolicy: a task's policy and nice are those it ended with (a fork step made the child FIFO after its creation), for exited and live tasks", async () => {
    const { parseWorkload } = await import("../src/scenario/load.ts");
    const { bootWorkload } = await import("../src/scenario/run.ts");
    const text = "cpus: 1\ntasks:\n  - name: parent\n    run:\n      - fork: { name: kid, policy: fifo, priority: 10, run: [ { compute: 5ms } ] }\n      - fork: { name: slow, nice: 7, run: [ { compute: 1s } ] }\n      - wait: kid\n";
    const { machine } = bootWorkload(parseWorkload(text, "w.yaml"), {});
    const rec = MetricsRecorder.attach(machine);
    machine.run(100 * MS);
    const r = rec.finish(machine.now);
    const by = Object.fromEntries(r.tasks.map((t) => [t.comm, t]));
    expect([by.kid!.policy, by.kid!.exited !== null]).toEqual([1, true]); // was 0: read at its creation only
    expect([by.slow!.nice, by.slow!.exited]).toEqual([7, null]);
  });
});

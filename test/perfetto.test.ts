/** The Perfetto (Chrome trace JSON) export: CPU tracks and task state tracks agree with the kernel's accounting. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Machine } from "../src/user/machine.ts";
import { program } from "../src/user/program.ts";
import { PerfettoRecorder } from "../src/observe/perfetto.ts";
import { main } from "../src/cli/main.ts";
import { CLONE_THREAD_FLAGS } from "../src/user/libc.ts";

const MS = 1_000_000;
interface Ev { ph: string; name: string; pid: number; tid: number; ts?: number; dur?: number; args?: Record<string, unknown> }

function scenario(): { m: Machine; rec: PerfettoRecorder; pids: number[] } {
  const m = new Machine({ cpus: 2, seed: 3 });
  const rec = PerfettoRecorder.attach(m.kernel);
  const pids: number[] = [];
  for (let i = 0; i < 4; i++)
    pids.push(m.spawn(program(`w${i}`, function* (sys) {
      for (let j = 0; j < 10; j++) {
        yield* sys.compute((1 + ((i + j) % 3)) * MS);
        if (i === 3) yield* sys.io(2 * MS);
        else yield* sys.sleep((1 + (j % 2)) * MS);
      }
      if (i === 0) {
        const c = yield* sys.fork();
        if (c === 0) { yield* sys.compute(MS); return 0; }
        yield* sys.waitpid(c, 0);
      }
    }), { nice: i - 1 }));
  m.run(200 * MS);
  return { m, rec, pids };
}

describe("perfetto export", () => {
  it("perfettocpu: the CPU tracks give each task exactly the CPU time the kernel accounted, and each task's Running slices are the same stretches", () => {
    const { m, rec, pids } = scenario();
    const evs = (JSON.parse(rec.finish(m.now)) as { traceEvents: Ev[] }).traceEvents;
    const cpuSlices = evs.filter((e) => e.ph === "X" && e.pid === 0);
    const byPid = new Map<number, number>();
    for (const e of cpuSlices) byPid.set(e.args!.pid as number, (byPid.get(e.args!.pid as number) ?? 0) + e.dur! * 1000);
    for (const pid of pids) {
      const running = evs.filter((e) => e.ph === "X" && e.tid === pid && e.name.startsWith("Running on CPU")).map((e) => [e.ts, e.dur, Number(e.name.slice(-1))]);
      const onCpu = cpuSlices.filter((e) => e.args!.pid === pid).map((e) => [e.ts, e.dur, e.tid - 1]);
      expect(running).toEqual(onCpu);
    }
    // Each task's CPU time is known from the workload: the compute it asked for (switch costs are 0).
    expect(pids.every((pid) => m.kernel.task(pid) === undefined)).toBe(true); // all done and reaped
    const asked = [0, 1, 2, 3].map((i) => [...Array(10).keys()].reduce((s, j) => s + (1 + ((i + j) % 3)) * MS, 0));
    pids.forEach((pid, i) => expect(byPid.get(pid)! ).toBeCloseTo(asked[i]!, 3));
  });

  it("perfettostates: sleeps show as Sleeping (S), I/O as Disk sleep (D), for as long as they lasted; fork, exit and the names are there", () => {
    const { m, rec, pids } = scenario();
    const evs = (JSON.parse(rec.finish(m.now)) as { traceEvents: Ev[] }).traceEvents;
    const total = (pid: number, name: string): number => evs.filter((e) => e.ph === "X" && e.tid === pid && e.name === name).reduce((s, e) => s + e.dur! * 1000, 0);
    expect(total(pids[0]!, "Sleeping (S)")).toBeGreaterThanOrEqual(15 * MS); // ten sleeps of 1 or 2 ms, and a wait
    expect(total(pids[1]!, "Sleeping (S)")).toBeCloseTo(15 * MS, 3);
    expect(total(pids[3]!, "Disk sleep (D)")).toBeCloseTo(20 * MS, 3);
    expect(total(pids[3]!, "Sleeping (S)")).toBe(0);
    expect(evs.some((e) => e.ph === "i" && e.name === "fork" && e.tid === pids[0])).toBe(true);
    expect(evs.filter((e) => e.ph === "i" && e.name === "exit").length).toBe(5);
    const names = evs.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => e.args!.name);
    for (let i = 0; i < 4; i++) expect(names).toContain(`w${i} ${pids[i]}`);
    expect(names).toContain("CPU 1");
  });

  it("perfettodeterministic: the same run gives the same file", () => {
    const a = scenario();
    const b = scenario();
    expect(a.rec.finish(a.m.now)).toBe(b.rec.finish(b.m.now));
  });
});

describe("perfetto tracks", () => {
  const parse = (text: string): Ev[] => (JSON.parse(text) as { traceEvents: Ev[] }).traceEvents;

  it("perfettozombie: an exited task shows as Zombie (Z) until its parent reaps it; exit carries the exit code", () => {
    const m = new Machine({ cpus: 1 });
    const rec = PerfettoRecorder.attach(m.kernel);
    let kid = 0;
    m.spawn(program("parent", function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.compute(MS); return 3; }
      yield* sys.sleep(10 * MS);
      yield* sys.waitpid(c, 0);
    }));
    m.kernel.trace.subscribe((e) => { if (e.name === "sched_process_fork") kid = e.child_pid; });
    m.run();
    const evs = parse(rec.finish(m.now));
    const z = evs.filter((e) => e.ph === "X" && e.tid === kid && e.name === "Zombie (Z)");
    expect(z).toHaveLength(1);
    expect(z[0]!.dur).toBeCloseTo(9000, 6); // from its exit at 1 ms to the reap at 10 ms, in us
    expect(evs.find((e) => e.name === "exit" && e.tid === kid)?.args).toEqual({ exit_code: 3, status: 0x300 });
  });

  it("perfettopidreuse: a pid used again by a later process gets tracks of its own, named with the real pid", () => {
    const m = new Machine({ cpus: 1, pidMax: 305 });
    const rec = PerfettoRecorder.attach(m.kernel);
    let owners300 = 0;
    m.kernel.trace.subscribe((e) => { if (e.name === "sched_process_fork" && e.child_pid === 300) owners300++; });
    m.spawn(program("p", function* (sys) {
      for (let i = 0; i < 320; i++) {
        const c = yield* sys.fork();
        if (c === 0) { yield* sys.compute(1000); return 0; }
        yield* sys.waitpid(c, 0);
      }
    }));
    m.run();
    const evs = parse(rec.finish(m.now));
    const names = evs.filter((e) => e.ph === "M" && e.name === "thread_name" && e.pid !== 0);
    const of300 = names.filter((e) => e.args!.name === "p 300");
    expect(owners300).toBeGreaterThan(1); // pids wrap from 305 to 300: pid 300 is handed out again and again
    expect(new Set(of300.map((e) => e.tid)).size).toBe(owners300); // one track per owner (named when first seen and at the end)
    // Every task track with a slice has a name.
    const named = new Set(names.map((e) => `${e.pid}/${e.tid}`));
    for (const e of evs.filter((x) => x.ph === "X" && x.pid !== 0)) expect(named.has(`${e.pid}/${e.tid}`)).toBe(true);
  });

  it("perfettorename: exec while running starts a new stretch on the CPU track under the new name", () => {
    const m = new Machine({ cpus: 1 });
    m.install("/bin/after", program("after", function* (sys) { yield* sys.compute(2 * MS); }));
    const rec = PerfettoRecorder.attach(m.kernel);
    const pid = m.spawn(program("before", function* (sys) {
      yield* sys.compute(2 * MS);
      yield* sys.execve("/bin/after", ["after"]);
    }));
    m.run();
    const cpu = parse(rec.finish(m.now)).filter((e) => e.ph === "X" && e.pid === 0 && e.args!.pid === pid).map((e) => [e.name, e.ts, e.dur]);
    expect(cpu).toEqual([[`before ${pid}`, 0, 2000], [`after ${pid}`, 2000, 2000]]);
  });

  it("perfettosink: given a sink, the text comes in pieces as the run goes, and the pieces are the same file", () => {
    const run = (sink: ((t: string) => void) | null): string => {
      const m = new Machine({ cpus: 2, seed: 5 });
      const rec = PerfettoRecorder.attach(m.kernel, sink);
      for (let i = 0; i < 50; i++) m.spawn(program("w", function* (sys) { for (;;) { yield* sys.compute(MS); yield* sys.sleep(MS); } }));
      m.run(2_000 * MS);
      return rec.finish(m.now);
    };
    const pieces: string[] = [];
    expect(run((t) => pieces.push(t))).toBe("");
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe(run(null));
  });
});

/** Problems a strict reader would see: on each (pid, tid) track, an X slice that starts before the previous one ended, or one past `endUs`. */
function overlaps(evs: Ev[], endUs: number): string[] {
  const tracks = new Map<string, Ev[]>();
  for (const e of evs) if (e.ph === "X") (tracks.get(`${e.pid}/${e.tid}`) ?? tracks.set(`${e.pid}/${e.tid}`, []).get(`${e.pid}/${e.tid}`)!).push(e);
  const out: string[] = [];
  for (const [key, xs] of tracks) {
    xs.sort((a, b) => a.ts! - b.ts!);
    for (let i = 0; i < xs.length; i++) {
      if (xs[i]!.ts! + xs[i]!.dur! > endUs) out.push(`${key}: ${xs[i]!.name} ends past the end`);
      if (i > 0 && xs[i - 1]!.ts! + xs[i - 1]!.dur! > xs[i]!.ts!) out.push(`${key}: ${xs[i - 1]!.name} overlaps ${xs[i]!.name}`);
    }
  }
  return out;
}

describe("perfetto edge cases (review)", () => {
  const parse = (text: string): Ev[] => (JSON.parse(text) as { traceEvents: Ev[] }).traceEvents;

  it("perfettothreadexec: a thread that execs takes its leader's pid (de_thread) and keeps its track: its states end, the CPU stretch is split at the exec", () => {
    const m = new Machine({ cpus: 1 });
    m.install("/bin/after", program("after", function* (sys) { yield* sys.compute(2 * MS); }));
    const rec = PerfettoRecorder.attach(m.kernel);
    const lead = m.spawn(program("lead", function* (sys) {
      yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) { yield* s.compute(MS); yield* s.execve("/bin/after", ["after"]); return 0; }, null);
      yield* sys.sleep(100 * MS);
    }));
    m.run(50 * MS);
    const evs = parse(rec.finish(m.now));
    expect(overlaps(evs, 50_000)).toEqual([]);
    const cpu = evs.filter((e) => e.ph === "X" && e.pid === 0).map((e) => [e.name, e.ts, e.dur]);
    expect(cpu).toEqual([[`lead ${lead + 1}`, 0, 1000], [`after ${lead}`, 1000, 2000]]);
    // Every Running slice on a task track is a stretch of the CPU track: nothing left running after the exit at 3 ms.
    const running = evs.filter((e) => e.ph === "X" && e.pid !== 0 && e.name.startsWith("Running")).reduce((t, e) => t + e.dur!, 0);
    expect(running).toBeCloseTo(3000, 6);
  });

  it("perfettotrackspace: later users of a pid get track numbers counted up from 4194304, so they stay within 32 bits however often a pid comes back", () => {
    const m = new Machine({ cpus: 1, pidMax: 305 });
    const rec = PerfettoRecorder.attach(m.kernel);
    m.spawn(program("p", function* (sys) {
      for (let i = 0; i < 1500; i++) {
        const c = yield* sys.fork();
        if (c === 0) return 0;
        yield* sys.waitpid(c, 0);
      }
    }));
    m.run();
    const tids = parse(rec.finish(m.now)).map((e) => e.tid);
    expect(Math.max(...tids)).toBeLessThanOrEqual(4_194_304 + 1500);
  });

  it("perfettofloat: slices that touch never overlap, even where microsecond doubles round up (1.051055 ms + 2.05146 ms)", () => {
    const m = new Machine({ cpus: 1 });
    const rec = PerfettoRecorder.attach(m.kernel);
    for (const name of ["a", "b"]) m.spawn(program(name, function* (sys) { yield* sys.sleep(1_051_055); yield* sys.compute(2_051_460); }));
    m.run();
    expect(1051.055 + (3102.515 - 1051.055)).toBeGreaterThan(3102.515); // the rounding this guards against
    expect(overlaps(parse(rec.finish(m.now)), m.now / 1000)).toEqual([]);
  });
});

describe("tasklab run --perfetto", () => {
  afterEach(() => vi.restoreAllMocks());
  it("perfettoflag: writes a JSON trace; a name that is not .json is refused before the run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tasklab-perfetto-"));
    let out = "";
    vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    const f = join(dir, "t.json");
    expect(await main(["run", "examples/workloads/mixed-nice.yaml", "--until", "50ms", "--perfetto", f])).toBe(0);
    const t = JSON.parse(readFileSync(f, "utf8")) as { traceEvents: Ev[] };
    expect(t.traceEvents.filter((e) => e.ph === "X" && e.pid === 0).length).toBeGreaterThan(3);
    expect(out).toContain(`wrote ${f}`);
    // The trace ends where the run ended (the summary's time), not at a stop time far past it.
    const ends = t.traceEvents.filter((e) => e.ph === "X").map((e) => e.ts! + e.dur!);
    expect(Math.max(...ends)).toBeLessThanOrEqual(50_000 + 1e-6);
    expect(await main(["run", "examples/workloads/mixed-nice.yaml", "--perfetto", join(dir, "t.svg")])).not.toBe(0);
    expect(out).toMatch(/--perfetto .*t\.svg: the trace is written as JSON/);
  });
});

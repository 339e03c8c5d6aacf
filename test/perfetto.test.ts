/** The Perfetto (Chrome trace JSON) export: CPU tracks and task state tracks agree with the kernel's accounting. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Machine } from "../src/user/machine.ts";
import { program } from "../src/user/program.ts";
import { PerfettoRecorder } from "../src/observe/perfetto.ts";
import { main } from "../src/cli/main.ts";

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
    expect(await main(["run", "examples/workloads/mixed-nice.yaml", "--perfetto", join(dir, "t.svg")])).not.toBe(0);
    expect(out).toMatch(/--perfetto .*t\.svg: the trace is written as JSON/);
  });
});

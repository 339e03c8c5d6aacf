/** The tasklab command: exit codes and one-line errors for bad input. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, symlinkSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { main } from "../src/cli/main.ts";
import { collapseWarnings } from "../src/observe/report.ts";

function capture(): { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  return { out: () => out, err: () => err };
}

const dir = mkdtempSync(join(tmpdir(), "tasklab-cli-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

afterEach(() => vi.restoreAllMocks());

describe("tasklab CLI", () => {
  it("a malformed workload: exit 2 and one line naming file, line and field", async () => {
    const f = file("bad.yaml", "tasks:\n  - name: a\n    run:\n      - compute: 3 parsecs\n");
    const c = capture();
    expect(await main(["run", f])).toBe(2);
    const lines = c.err().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${f}:4:`);
    expect(lines[0]).toContain("tasks[0].run[0].compute");
  });

  it("an unknown scheduler, a bad tunable, a bad time: exit 2 naming the option and what is allowed", async () => {
    const f = file("ok.yaml", "tasks:\n  - name: a\n    run:\n      - compute: 1ms\n");
    let c = capture();
    expect(await main(["run", f, "--sched", "nope"])).toBe(2);
    expect(c.err()).toMatch(/unknown scheduler "nope": expected one of linux-6/);
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["run", f, "--param", "rrTimeslice=0"])).toBe(2);
    expect(c.err()).toMatch(/--param rrTimeslice: invalid rrTimeslice 0: expected a whole number of ns from 1ms to 10s/);
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["run", f, "--until", "3zz"])).toBe(2);
    expect(c.err()).toMatch(/invalid duration "3zz" for --until/);
  });

  it("run prints ps at the asked times and program output; --json gives JSON lines", async () => {
    const f = file("z.yaml", "tasks:\n  - name: parent\n    run:\n      - fork: { name: kid, run: [ { compute: 1ms }, { exit: 3 } ] }\n      - sleep: 10ms\n      - wait: any\n");
    let c = capture();
    expect(await main(["run", f, "--ps-at", "5ms"])).toBe(0);
    expect(c.out()).toMatch(/Z\s+0\s+19 00:00:00 kid <defunct>/);
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["run", f, "--json", "--log", "--ps-at", "5ms"])).toBe(0);
    const objs = c.out().trim().split("\n").map((l) => JSON.parse(l) as { name?: string; type?: string });
    expect(objs.some((o) => o.name === "sched_process_exit" && o.type === "event")).toBe(true);
    expect(objs.every((o) => typeof o.type === "string")).toBe(true); // one key tells every record apart
    expect(objs.some((o) => o.type === "ps")).toBe(true);
    expect(objs.at(-1)!.type).toBe("summary");
    expect(objs.at(-2)!.type).toBe("ps"); // the final table, as the text output ends with it
    vi.restoreAllMocks();
    // A program's own output is kept in JSON mode, as lines of its own.
    const prog = file("hello.mts", `import { program } from ${JSON.stringify(join(process.cwd(), "src", "index.ts"))};\nexport default program("hello", function* (sys) { yield* sys.print("hi there\\n"); });\n`);
    c = capture();
    expect(await main(["run", prog, "--json"])).toBe(0);
    const lines = c.out().trim().split("\n").map((l) => JSON.parse(l) as { type?: string; text?: string; pid?: number });
    expect(lines.find((o) => o.type === "output")).toMatchObject({ type: "output", text: "hi there\n", pid: 2 });
  });

  it("run --gantt writes an SVG; compare prints one row per scheduler", async () => {
    const f = file("two.yaml", "cpus: 2\ntasks:\n  - name: hog\n    count: 3\n    run:\n      - compute: 20ms\n");
    const svg = join(dir, "out.svg");
    let c = capture();
    expect(await main(["run", f, "--gantt", svg])).toBe(0);
    expect(readFileSync(svg, "utf8")).toMatch(/^<svg/);
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["compare", f, "--sched", "linux-6,linux-5"])).toBe(0);
    const rows = c.out().trim().split("\n");
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(/^linux-6\s+3\/3/);
  });

  it("compare takes sched features per preset (linux-6:NO_DELAY_DEQUEUE+NO_PLACE_LAG); an unknown feature fails naming the allowed ones", async () => {
    const f = join(process.cwd(), "examples", "workloads", "bursty.yaml");
    let c = capture();
    expect(await main(["compare", f, "--sched", "linux-6,linux-6:NO_DELAY_DEQUEUE+NO_PLACE_LAG", "--json"])).toBe(0);
    const rows = JSON.parse(c.out().trim()).rows as { sched: string }[];
    expect(rows.map((r) => r.sched)).toEqual(["linux-6", "linux-6:NO_DELAY_DEQUEUE+NO_PLACE_LAG"]);
    const figures = rows.map(({ sched: _, ...rest }) => JSON.stringify(rest));
    expect(figures[0]).not.toBe(figures[1]); // the switches change the schedule
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["compare", f, "--sched", "linux-6:NO_FOO"])).toBe(2);
    expect(c.err()).toMatch(/schedFeatures.*NO_FOO.*DELAY_DEQUEUE/);
  });

  it("comparetasks: compare --tasks lists each task under each scheduler; the normal editor preempts its hog, the batch one and the editor without WAKEUP_PREEMPTION wait for the tick", async () => {
    const f = join(process.cwd(), "examples", "workloads", "interactive.yaml");
    let c = capture();
    expect(await main(["compare", f, "--sched", "linux-6,linux-6:NO_WAKEUP_PREEMPTION", "--tasks"])).toBe(0);
    const lines = c.out().split("\n");
    const at = lines.findIndex((l) => l.startsWith("task "));
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^editor\s+linux-6\s+2\s+2s\s+0\s+0\s+100ms\s+0\s+0\s+0\s+201\s+0$/);
    expect(lines[at + 2]).toMatch(/^\s+linux-6:NO_WAKEUP_PREEMPTION\s+2\s+2\.4s\s+400ms\s+0\s+100ms\s+2ms\s+2ms\s+2ms/);
    expect(lines[at + 3]).toMatch(/^batch-editor\s+linux-6\s+3\s+2\.4s\s+400ms/);
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["compare", f, "--sched", "linux-6", "--tasks", "--json"])).toBe(0);
    const row = JSON.parse(c.out()).rows[0] as { perTask: { comm: string; p95RunDelay: number }[] };
    expect(row.perTask.map((t) => t.comm)).toEqual(["editor", "batch-editor", "hog", "hog"]);
    expect(row.perTask[1]!.p95RunDelay).toBe(2_000_000);
  });

  it("comparetaskslineage: compare --tasks lines up forked children by their place in the fork tree, not by pid (fork order, and so pids, differ between schedulers)", async () => {
    const f = file("kids.yaml", "cpus: 1\ntasks:\n  - name: a\n    run:\n      - compute: 3ms\n      - fork: { name: kid, run: [ { compute: 1ms } ] }\n      - wait: any\n  - name: b\n    nice: 5\n    run:\n      - compute: 3ms\n      - fork: { name: kid, run: [ { compute: 20ms } ] }\n      - wait: any\n");
    const c = capture();
    expect(await main(["compare", f, "--sched", "linux-6,linux-5", "--tasks", "--json"])).toBe(0);
    const rows = JSON.parse(c.out()).rows as { sched: string; perTask: { lineage: string; pid: number; cpuTime: number }[] }[];
    const kidPids = rows.map((r) => r.perTask.filter((t) => t.lineage.endsWith("/kid")).map((t) => `${t.lineage}:${t.pid}`).sort());
    expect(kidPids[0]).not.toEqual(kidPids[1]); // the children's pids swap between the two runs...
    for (const r of rows) {
      const cpu = new Map(r.perTask.map((t) => [t.lineage, t.cpuTime]));
      expect([cpu.get("a/kid"), cpu.get("b/kid")]).toEqual([1e6, 20e6]); // ...and each line is still the same task
    }
  });

  it("tunablesofclass: a --param only another fair class reads is refused, naming the schedulers that have it; run takes preset:FEATURES as compare does, and blames --sched for a bad feature", async () => {
    const f = join(process.cwd(), "examples", "workloads", "interactive.yaml");
    let c = capture();
    expect(await main(["run", f, "--param", "schedLatency=20ms"])).toBe(2);
    expect(c.err().trim()).toBe('tasklab: --param schedLatency: a tunable of the CFS class, which scheduler "linux-6" does not have, so it would change nothing (use --sched linux-5 or cfs)');
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["run", f, "--sched", "linux-5", "--param", "baseSlice=3ms"])).toBe(2);
    expect(c.err()).toMatch(/--param baseSlice: a tunable of the EEVDF class.*use --sched linux-6 or eevdf/);
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["run", f, "--sched", "linux-5", "--param", "schedLatency=20ms", "--until", "10ms"])).toBe(0);
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["compare", f, "--sched", "linux-6,cfs:NO_DELAY_DEQUEUE"])).toBe(2);
    expect(c.err()).toMatch(/^tasklab: --sched cfs:NO_DELAY_DEQUEUE: .*feature switches are the EEVDF class's/);
    vi.restoreAllMocks();
    c = capture();
    const one = async (sched: string): Promise<string> => {
      vi.restoreAllMocks();
      c = capture();
      expect(await main(["run", f, "--sched", sched, "--until", "200ms", "--metrics", "--json"])).toBe(0);
      return c.out();
    };
    expect(await one("linux-6:NO_RUN_TO_PARITY+NO_PLACE_LAG")).toBe(await one("linux-6:NO_RUN_TO_PARITY+NO_PLACE_LAG"));
    expect(await one("linux-6:NO_WAKEUP_PREEMPTION")).not.toBe(await one("linux-6"));
  });

  /** The rows of `compare --json`. */
  async function compareRows(args: string[]): Promise<Record<string, any>[]> {
    const c = capture();
    expect(await main(["compare", ...args, "--json"])).toBe(0);
    return JSON.parse(c.out().trim().split("\n")[0]!).rows;
  }

  it("censoredmeans: a task starved for the whole run counts in turnaround and response as a lower bound (>=), so starving it does not make a scheduler look best", async () => {
    const f = file("starve.yaml", "cpus: 1\nuntil: 1s\ntasks:\n  - name: quick\n    run: [ { compute: 1ms } ]\n  - name: fifo\n    policy: fifo\n    priority: 50\n    start: 1ms\n    run: [ { compute: 5s } ]\n  - name: victim\n    start: 2ms\n    run: [ { compute: 10ms } ]\n");
    const [row] = await compareRows([f, "--sched", "linux-6", "--param", "rtRuntime=-1"]);
    expect(row!.exited).toBe(1);
    expect(row!.neverRan).toBe(1);
    expect(row!.meanTurnaround).toBe(1_000_000); // quick alone: what the table showed before
    expect(row!.meanTurnaroundAll).toBe((1e6 + (1e9 - 1e6) + (1e9 - 2e6)) / 3); // fifo and victim counted to the end
    expect(row!.meanResponseAll).toBe((0 + 0 + (1e9 - 2e6)) / 3);
    const c = capture();
    expect(await main(["compare", f, "--sched", "linux-6", "--param", "rtRuntime=-1"])).toBe(0);
    const line = c.out().split("\n").find((l) => l.startsWith("linux-6"))!;
    expect(line).toMatch(/^linux-6\s+1\/3\s+>=666ms\s+\S+\s+>=332\.667ms\s/);
  });

  it("jainweighted: Jain's index is over CPU time divided by the weighted fair share while runnable, so CFS and EEVDF dividing by nice score 1 and round robin ignoring nice does not", async () => {
    const rows = await compareRows(["examples/workloads/mixed-nice.yaml", "--sched", "linux-6,linux-5,simple", "--until", "3s"]);
    const by = Object.fromEntries(rows.map((r) => [r.sched, r]));
    expect(by["linux-6"]!.jain).toBeGreaterThan(0.999);
    expect(by["linux-5"]!.jain).toBeGreaterThan(0.999);
    expect(by["simple"]!.jain).toBeLessThan(0.7); // equal time for weights 3121, 1024 and 335
    expect(by["simple"]!.jainRaw).toBeGreaterThan(0.999); // the raw CPU shares call round robin the fair one
    expect(by["linux-6"]!.jainRaw).toBeLessThan(0.7);
  });

  it("metricswindow: run --metrics measures over the window compare uses (to the last exit when every task exited), and prints throughput and Jain", async () => {
    const c = capture();
    expect(await main(["run", "examples/workloads/mixed-nice.yaml", "--metrics", "--until", "10s", "--json"])).toBe(0);
    const m = c.out().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).find((o) => o.type === "metrics");
    expect(m.end).toBe(6e9); // the last hog exits at 6 s; before, the window ran to 10 s: utilisation 60 %
    expect(m.summary.utilisation).toBe(1);
    expect(m.summary.throughput).toBe(0.5);
    const [row] = await compareRows(["examples/workloads/mixed-nice.yaml", "--sched", "linux-6", "--until", "10s"]);
    expect(row!.utilisation).toBe(m.summary.utilisation);
    expect(row!.throughput).toBe(m.summary.throughput);
    const t = capture();
    expect(await main(["run", "examples/workloads/mixed-nice.yaml", "--metrics", "--until", "10s"])).toBe(0);
    expect(t.out()).toMatch(/utilisation 100\.0%; throughput 0\.500 exits\/s; Jain 1\.000/);
  });

  it("fewsamples: compare shows how many run delays are behind the percentiles, and no p95 below 20 of them nor p99 below 100 (nearest rank would just be the maximum)", async () => {
    const f = file("few.yaml", "cpus: 1\ntasks:\n  - name: a\n    run: [ { compute: 10ms } ]\n  - name: b\n    run: [ { compute: 10ms } ]\n");
    const [row] = await compareRows([f, "--sched", "linux-6"]);
    expect(row!.runDelayCount).toBeGreaterThan(0);
    expect(row!.runDelayCount).toBeLessThan(20);
    const c = capture();
    expect(await main(["compare", f, "--sched", "linux-6"])).toBe(0);
    const [head, line] = c.out().trim().split("\n").slice(-2) as [string, string];
    const cells = line.split(/\s{2,}/);
    const cols = head.split(/\s{2,}/);
    expect(cells[cols.indexOf("delays")]).toBe(String(row!.runDelayCount));
    expect(cells[cols.indexOf("p95")]).toBe("-");
    expect(cells[cols.indexOf("p99")]).toBe("-");
  });

  it("zerowindow: throughput of a run that ends at time 0 is undefined (null, shown as -), not 0 exits per second", async () => {
    const f = file("instant.yaml", "cpus: 2\ntasks:\n  - name: t\n    count: 3\n    run: [ { exit: 0 } ]\n");
    const [row] = await compareRows([f, "--sched", "linux-6"]);
    expect(row!.exited).toBe(3);
    expect(row!.throughput).toBeNull();
  });

  it("examples lists the built-in examples and runs one by name; an unknown name fails", async () => {
    let c = capture();
    expect(await main(["examples"])).toBe(0);
    expect(c.out()).toContain("zombie-flood");
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["examples", "zombie"])).toBe(0);
    expect(c.out()).toContain("<defunct>");
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["examples", "nope"])).toBe(2);
    expect(c.err()).toContain('unknown example "nope"');
  });
});

describe("Machine.spawn rejects bad scheduling attributes with the allowed range", () => {
  it("nice 25, RT priority 100, deadline shorter than runtime, policy 4", async () => {
    const { Machine } = await import("../src/user/machine.ts");
    const { program } = await import("../src/user/program.ts");
    const p = program("p", function* () {});
    const m = new Machine({ cpus: 1 });
    expect(() => m.spawn(p, { nice: 25 })).toThrow(/nice 25: expected an integer from -20 to 19/);
    expect(() => m.spawn(p, { policy: 1, rtPriority: 100 })).toThrow(/rtPriority 100: expected an integer from 1 to 99/);
    expect(() => m.spawn(p, { policy: 6, dl: { runtime: 10e6, deadline: 5e6, period: 20e6 } })).toThrow(/runtime <= deadline <= period/);
    expect(() => m.spawn(p, { policy: 4 })).toThrow(/policy 4: expected/);
    // A realtime policy without a priority used to reach the kernel and panic it.
    expect(() => m.spawn(p, { policy: 1 })).toThrow(/spawn p: policy 1 \(fifo\) needs rtPriority, an integer from 1 to 99/);
    expect(() => m.spawn(p, { rtPriority: 5 })).toThrow(/rtPriority 5: only for policy 1 \(fifo\) or 2 \(rr\)/);
    m.run();
    expect([...m.kernel.tasks.keys()]).toEqual([1]); // nothing half-made was left behind
  });
});

describe("run --metrics", () => {
  it("prints one row per task and the overall line; with --json a metrics object", async () => {
    const f = file("m.yaml", "cpus: 1\ntasks:\n  - name: a\n    run: [ { compute: 10ms } ]\n  - name: b\n    run: [ { compute: 10ms } ]\n");
    let c = capture();
    expect(await main(["run", f, "--metrics"])).toBe(0);
    expect(c.out()).toMatch(/PID\s+COMMAND\s+NI\s+TURNAROUND/);
    expect(c.out()).toMatch(/2\/2 exited; mean turnaround/);
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["run", f, "--metrics", "--json"])).toBe(0);
    const m = c.out().trim().split("\n").map((l) => JSON.parse(l) as { type?: string; summary?: { exited: number } }).find((o) => o.type === "metrics")!;
    expect(m.summary!.exited).toBe(2);
    vi.restoreAllMocks();
    // NI as ps shows it: "-" for realtime (and deadline, idle) tasks, the nice value for normal and batch.
    const g = file("ni.yaml", "cpus: 1\ntasks:\n  - name: rt\n    policy: fifo\n    priority: 5\n    run: [ { compute: 1ms } ]\n  - name: nb\n    policy: batch\n    nice: 5\n    run: [ { compute: 1ms } ]\n");
    c = capture();
    expect(await main(["run", g, "--metrics"])).toBe(0);
    expect(c.out()).toMatch(/\n +\d+ +rt +- /);
    expect(c.out()).toMatch(/\n +\d+ +nb +5 /);
  });
});

describe("tasklab CLI, after a user review", () => {
  it("runend: a run cut by the workload's stop time ends there, with the CPU time in the metrics (a lone hog makes no events)", async () => {
    const f = file("lonehog.yaml", "until: 2s\ntasks:\n  - name: hog\n    run:\n      - compute: 10s\n");
    const c = capture();
    expect(await main(["run", f, "--metrics"])).toBe(0);
    expect(c.out()).toContain("-- end at t=2s");
    expect(c.out()).toMatch(/\n +2 +hog +0 +- +0 +0 +2s +100\.0%/); // 2 s of CPU in the 2 s run
    expect(c.out()).toMatch(/utilisation 50\.0%/); // one of two CPUs
  });

  it("runend: a run whose tasks all exit ends at the last exit, not at a later housekeeping event", async () => {
    const f = file("short.yaml", "tasks:\n  - name: a\n    policy: fifo\n    priority: 10\n    run:\n      - compute: 1ms\n");
    const c = capture();
    expect(await main(["run", f])).toBe(0);
    expect(c.out()).toContain("-- end at t=1ms");
  });

  it("runend: a program that never ends is stopped at the default limit, and the output says so", async () => {
    const f = file("forever.yaml", "tasks:\n  - name: hog\n    run:\n      - compute: 100000s\n");
    const c = capture();
    expect(await main(["run", f])).toBe(0);
    expect(c.out()).toMatch(/stopped at the default limit of 60s with tasks still running/);
    expect(c.out()).toContain("-- end at t=60s");
  });

  it("warnrun: a run of warnings that differ only in their time prints as the first and a count", async () => {
    const f = file("many.yaml", "tasks:\n  - name: a\n    count: 250\n    run:\n      - sleep: 1ms\n  - name: b\n    count: 100\n    run:\n      - sleep: 1ms\n");
    const c = capture();
    expect(await main(["run", f, "--param", "pidMax=310"])).toBe(0);
    const lines = c.out().split("\n").filter((l) => l.startsWith("warning:"));
    expect(lines).toEqual(['warning: [0.000 ms] spawn b: -EAGAIN (task "b", line 6) (and 41 more like it, the last at 0.000 ms)']);
  });

  it("warnrun2: warnings that differ only in time collapse per text even when interleaved, in run and in compare", async () => {
    const f = file("two.yaml", "tasks:\n  - name: a\n    count: 290\n    run:\n      - sleep: 1ms\n  - name: b\n    count: 30\n    start: 1ms\n    run:\n      - sleep: 1ms\n  - name: c\n    count: 30\n    start: 1ms\n    run:\n      - sleep: 1ms\n");
    const c = capture();
    expect(await main(["run", f, "--param", "pidMax=310"])).toBe(0); // 308 pids after init: 290 + 18 of b, then none
    const lines = c.out().split("\n").filter((l) => l.startsWith("warning:"));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/spawn b: -EAGAIN .*\(and 11 more like it, the last at 1\.000 ms\)$/);
    expect(lines[1]).toMatch(/spawn c: -EAGAIN .*\(and 29 more like it, the last at 1\.000 ms\)$/);
    // Interleaved, as two processes' warnings come:
    expect(collapseWarnings(["[1.000 ms] pid 2 (p): x", "[1.000 ms] pid 3 (p): x", "[4.000 ms] pid 2 (p): x", "[4.000 ms] pid 3 (p): x", "[5.000 ms] pid 2 (p): y"])).toEqual([
      "[1.000 ms] pid 2 (p): x (and 1 more like it, the last at 4.000 ms)",
      "[1.000 ms] pid 3 (p): x (and 1 more like it, the last at 4.000 ms)",
      "[5.000 ms] pid 2 (p): y",
    ]);
  });

  it("schedfromfile: a policy the file's own sched: has no class for blames the file's sched, not --sched; count is checked against the pids left after init", async () => {
    const f = file("sf.yaml", "sched: eevdf\ntasks:\n  - name: rt\n    policy: fifo\n    priority: 5\n    run:\n      - compute: 1ms\n");
    let c = capture();
    expect(await main(["run", f])).toBe(2);
    expect(c.err()).toMatch(/policy fifo has no scheduling class in scheduler "eevdf" \(the file's sched\)/);
    vi.restoreAllMocks();
    const g = file("c309.yaml", "tasks:\n  - name: a\n    count: 309\n    run:\n      - compute: 1ms\n");
    c = capture();
    expect(await main(["run", g, "--param", "pidMax=310"])).toBe(2);
    expect(c.err()).toMatch(/count 309 is more processes than can ever exist at once \(pid_max 310 leaves 308 pids after init/);
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["run", g, "--param", "pidMax=311", "--until", "1ms"])).toBe(0);
    expect(c.out()).not.toMatch(/warning/);
  });

  it("compareclass: a scheduler named with --sched that has no class for a task's policy is an error naming --sched; the default list leaves such presets out and says so", async () => {
    const f = file("dl.yaml", "tasks:\n  - name: audio\n    policy: deadline\n    runtime: 5ms\n    deadline: 20ms\n    period: 20ms\n    run:\n      - compute: 5ms\n");
    let c = capture();
    expect(await main(["compare", f, "--sched", "linux-6,eevdf"])).toBe(2);
    expect(c.err().trim()).toMatch(/^tasklab: .*dl\.yaml: task "audio" \(line 2\): policy deadline has no scheduling class in scheduler "eevdf" \(--sched\); use linux-6, linux-5, simple$/);
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["run", f, "--sched", "cfs"])).toBe(2);
    expect(c.err()).toMatch(/in scheduler "cfs" \(--sched\)/);
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["compare", f])).toBe(0);
    expect(c.out()).toMatch(/^linux-6 /m);
    expect(c.out()).not.toMatch(/^eevdf /m);
    expect(c.out()).toMatch(/\(not run: eevdf, cfs, which have no class for a policy the workload uses\)/);
  });

  it("smallinput: a missing file and a chart not named .svg are exit 2 with one line; --version prints the version", async () => {
    const f = file("ok.yaml", "tasks:\n  - name: a\n    run:\n      - compute: 1ms\n");
    mkdirSync(join(dir, "isdir.svg"), { recursive: true });
    for (const [args, msg] of [
      [["run", join(dir, "missing.yaml")], /missing\.yaml: no such file/],
      [["run", f, "--gantt", join(dir, "chart.png")], /--gantt .*chart\.png: the chart is written as SVG; name the file \.svg/],
      [["run", f, "--gantt", join(dir, "isdir.svg")], /--gantt .*isdir\.svg: that is a folder; name a file/],
      [["run", f, "--gantt", ""], /--gantt: a file name is needed/],
      [["run", f, "--perfetto", "/proc/nosuch/x.json"], /--perfetto \/proc\/nosuch\/x\.json: the folder \/proc\/nosuch does not exist/],
      [["run", f, "--param", "hz=Infinity"], /--param hz: invalid hz Infinity: expected an integer from 100 to 1000/],
      [["run", f, "--param", "rtRuntime=2s"], /--param rtRuntime: invalid rtRuntime 2s: expected -1/],
      [["examples", "zombi"], /unknown example "zombi" \(did you mean "zombie"\?\)/],
    ] as const) {
      const c = capture();
      expect(await main([...args])).toBe(2);
      expect(c.err()).toMatch(msg);
      expect(c.err().trim().split("\n")).toHaveLength(1);
      vi.restoreAllMocks();
    }
    const c = capture();
    expect(await main(["--version"])).toBe(0);
    expect(c.out().trim()).toBe(JSON.parse(readFileSync(join(process.cwd(), "package.json"), "utf8")).version);
  });

  it("comparesched: a scheduler listed twice, an empty list, or EEVDF features on CFS: exit 2 with one line", async () => {
    const f = file("one.yaml", "tasks:\n  - name: a\n    run:\n      - compute: 1ms\n");
    for (const [sched, msg] of [
      ["linux-6,linux-6", /--sched: "linux-6" is listed twice/],
      [",", /--sched: no scheduler named/],
      ["cfs:NO_DELAY_DEQUEUE", /the feature switches are the EEVDF class's; scheduler "cfs" has none/],
    ] as const) {
      const c = capture();
      expect(await main(["compare", f, "--sched", sched])).toBe(2);
      expect(c.err()).toMatch(msg);
      expect(c.err().trim().split("\n")).toHaveLength(1);
      vi.restoreAllMocks();
    }
  });
});

describe("programs that misbehave, through the tasklab command", () => {
  const bin = join(process.cwd(), "bin", "tasklab.js");
  const index = JSON.stringify(join(process.cwd(), "src", "index.ts"));

  it("spinwatchdog: a program that loops without ever yielding is stopped by the watchdog, named, and what it printed before stays", () => {
    // Twenty lines over 20 ms and a ps snapshot, then a child that loops: all of it must reach stdout
    // (written synchronously from the worker, not queued behind a thread the watchdog then stops).
    const f = file("spin.mts", `import { program, ms } from ${index};\nexport default program("spinner", function* (sys) {\n  for (let i = 0; i < 20; i++) { yield* sys.print("tick " + i + "\\n"); yield* sys.sleep(ms(1)); }\n  if ((yield* sys.fork()) === 0) { for (;;) {} }\n  yield* sys.wait();\n});\n`);
    const r = spawnSync(process.execPath, [bin, "run", f, "--ps-at", "5ms"], { encoding: "utf8", env: { ...process.env, TASKLAB_WATCHDOG: "1" }, timeout: 60_000 });
    expect(r.status).toBe(3);
    for (let i = 0; i < 20; i++) expect(r.stdout).toContain(`tick ${i}\n`);
    expect(r.stdout).toContain("-- t=5ms");
    expect(r.stderr).toMatch(/pid 3 has run its own JavaScript for 1 s without reaching a syscall/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }, 60_000);

  it("spinperfetto: a run the watchdog stops leaves a valid Perfetto trace up to its last write, tracks named", () => {
    const f = file("spin2.mts", `import { program, ms } from ${index};\nexport default program("spinner", function* (sys) {\n  for (let i = 0; i < 3000; i++) { const c = yield* sys.fork(); if (c === 0) { yield* sys.compute(ms(1)); return 0; } yield* sys.wait(); }\n  if ((yield* sys.fork()) === 0) { for (;;) {} }\n  yield* sys.wait();\n});\n`);
    const trace = join(dirname(f), "spin2.json");
    const r = spawnSync(process.execPath, [bin, "run", f, "--perfetto", trace], { encoding: "utf8", env: { ...process.env, TASKLAB_WATCHDOG: "1" }, timeout: 60_000 });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`${trace} holds the trace as written before the program began to spin`);
    const j = JSON.parse(readFileSync(trace, "utf8")) as { traceEvents: { ph: string; name: string; args?: { name?: string } }[]; otherData: { stopped: string } };
    expect(j.otherData.stopped).toBe("watchdog");
    expect(j.traceEvents.filter((e) => e.ph === "X").length).toBeGreaterThan(100);
    expect(j.traceEvents.some((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === "spinner 2")).toBe(true);
  }, 60_000);

  it("loadspin: an endless loop at a program file's top level or in its setup is stopped by the watchdog with one line (exit 3)", () => {
    for (const [name, text] of [["top.mts", "for (;;) {}\nexport default 1;\n"], ["setup.mts", "export function setup(m: unknown) {\n  for (;;) {}\n}\n"]]) {
      const r = spawnSync(process.execPath, [bin, "run", file(name, text)], { encoding: "utf8", env: { ...process.env, TASKLAB_WATCHDOG: "1" }, timeout: 60_000 });
      expect(r.status).toBe(3);
      expect(r.stderr.trim()).toMatch(/^tasklab: the program file's own code \(its top level, or setup\) has run for 1 s without finishing/);
    }
    const r = spawnSync(process.execPath, [bin, "run", file("ok1.mts", "export default 1;\n")], { encoding: "utf8", env: { ...process.env, TASKLAB_WATCHDOG: "soon" }, timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("tasklab: TASKLAB_WATCHDOG=soon: expected a number of seconds, at least 1");
  }, 60_000);

  it("setupstretches: the watchdog counts each stretch of setup or loading on its own, not their sum (compare sets up once per scheduler)", () => {
    const f = file("slowsetup.mts", "export function setup(m: unknown) {\n  const t = Date.now();\n  while (Date.now() - t < 300) {}\n}\n");
    const r = spawnSync(process.execPath, [bin, "compare", f], { encoding: "utf8", env: { ...process.env, TASKLAB_WATCHDOG: "1" }, timeout: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  }, 60_000);

  it("loadthrow: a throw at import or in setup is one line with the file, line and column (exit 2); a bare generator export is told to use program()", async () => {
    const cases: [string, string, RegExp][] = [
      ["thr.mts", "const x = 1;\nthrow new Error(\"boom\");\nexport default x;\n", /thr\.mts:2:7: while loading: boom$/],
      ["st.mts", "export function setup(m: any) {\n  m.nope.foo();\n}\n", /st\.mts:2:\d+: in setup: TypeError: Cannot read properties of undefined \(reading 'foo'\)$/],
      ["gen.mts", "export default function* (sys: unknown) {\n  yield 1;\n}\n", /gen\.mts: the default export is a bare generator function; make it a program: export default program\("name", function\* \(sys\) \{ \.\.\. \}\)$/],
    ];
    for (const [name, text, msg] of cases) {
      const c = capture();
      expect(await main(["run", file(name, text)])).toBe(2);
      expect(c.err().trim()).toMatch(msg);
      expect(c.err().trim().split("\n")).toHaveLength(1);
      vi.restoreAllMocks();
    }
  });

  it("comparestderr: compare shows what each run's programs wrote to stderr, such as a fork step's refused policy", async () => {
    const f = file("rrfork.yaml", "tasks:\n  - name: parent\n    run:\n      - fork:\n          count: 2\n          policy: rr\n          priority: 3\n          run:\n            - compute: 5ms\n      - wait: all\n");
    const c = capture();
    expect(await main(["compare", f, "--sched", "linux-6,cfs"])).toBe(0);
    expect(c.out()).toContain("stderr (cfs): fork at line 4: sched_setscheduler(rr) for child 3: -EINVAL\n");
    expect(c.out()).not.toContain("stderr (linux-6)");
  });

  it("compareprogramclass: compare of a program file whose setup starts a FIFO task leaves out the presets without a realtime class by default, and names the spawn with --sched", async () => {
    const f = file("rtsetup.mts", `import { program } from ${index};\nconst hog = program("hog", function* (sys) { yield* sys.compute(5e6); });\nexport function setup(m: any) {\n  m.spawn(hog, { policy: 1, rtPriority: 5, uid: 0 });\n  m.spawn(hog);\n}\n`);
    let c = capture();
    expect(await main(["compare", f])).toBe(0);
    expect(c.out()).toMatch(/\(not run: eevdf, cfs, which have no class for a policy the workload uses\)/);
    vi.restoreAllMocks();
    c = capture();
    expect(await main(["compare", f, "--sched", "linux-6,cfs"])).toBe(2);
    expect(c.err().trim()).toMatch(/rtsetup\.mts:4:\d+: in setup: spawn hog: policy 1 \(fifo\) has no scheduling class in scheduler "cfs"$/);
  });

  it("badyield: a program that yields something other than a syscall request dies with SIGSEGV and a warning that says to use yield*", async () => {
    const f = file("y5.mts", `import { program } from ${index};\nexport default program("g", function* (sys) {\n  yield 5 as never;\n});\n`);
    const c = capture();
    expect(await main(["run", f])).toBe(0);
    expect(c.out()).toMatch(/pid 2 \(g\): program crashed: yielded 5, which is not a syscall request: syscalls are made with yield\* \(the star\)/);
  });

  it("syntaxerror: a program file that does not parse is one line with its file, line and column (exit 2)", () => {
    const f = file("syn.mts", `import { program } from ${index};\nexport default program("x", function* (sys) {\n  yield* sys.compute(1;\n});\n`);
    const r = spawnSync(process.execPath, [bin, "run", f], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`tasklab: ${f}:3:23: Expected ")" but found ";"`); // columns from 1, as editors and stack traces count
  }, 60_000);

  it("esmanywhere: a .ts or .js program in a folder whose package.json says nothing of modules runs (loaded as an ES module, not CommonJS)", () => {
    for (const name of ["anywhere.ts", "anywhere.js"]) {
      const f = file(name, `import { program } from ${index};\nexport default program("anywhere", function* (sys) {\n  yield* sys.compute(1000);\n  return 0;\n});\n`);
      const r = spawnSync(process.execPath, [bin, "run", f], { encoding: "utf8", timeout: 60_000 });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/2 processes created|1 process created/);
    }
  }, 120_000);

  it("cjsimports: a program may still import a CommonJS file of its folder, a JSON file, and a CommonJS package linked from outside node_modules (the ES-module hook leaves them alone)", () => {
    const d = join(dir, "cjs-imports");
    mkdirSync(join(d, "node_modules"), { recursive: true });
    writeFileSync(join(d, "helper.js"), "module.exports = { n: 41 };\n");
    writeFileSync(join(d, "data.json"), '{ "ms": 3 }\n');
    const lib = join(dir, "linked-lib");
    mkdirSync(lib, { recursive: true });
    writeFileSync(join(lib, "package.json"), '{ "name": "mylib", "main": "index.js" }\n');
    writeFileSync(join(lib, "index.js"), "exports.twice = (x) => 2 * x;\n");
    symlinkSync(lib, join(d, "node_modules", "mylib"));
    const f = join(d, "prog.mts");
    writeFileSync(f, `import h from "./helper.js";\nimport data from "./data.json" with { type: "json" };\nimport { twice } from "mylib";\nimport { program } from ${index};\nexport default program("p", function* (sys) {\n  yield* sys.print(\`n=\${h.n + 1} ms=\${data.ms} t=\${twice(21)}\\n\`);\n  return 0;\n});\n`);
    const r = spawnSync(process.execPath, [bin, "run", f], { encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("n=42 ms=3 t=42");
  }, 60_000);

  it("cjsprogram: a program written as CommonJS is told to use export default, wherever it is", () => {
    const f = file("cjs.js", `const { program } = require(${index});\nmodule.exports = program("c", function* (sys) { return 0; });\n`);
    const r = spawnSync(process.execPath, [bin, "run", f], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^tasklab: .*cjs\.js: written as CommonJS \(.*\); use export default \/ export function setup$/);
  }, 60_000);

  it("mjssyntax: a .mjs or .js program that does not parse is one line with its file, line and column (Node's own message has none)", () => {
    for (const name of ["nosemi.mjs", "nosemi.js"]) {
      const f = file(name, `import { program } from ${index};\nexport default program("x", function* (sys) { yield* sys.compute(1e6) return 0; });\n`);
      const r = spawnSync(process.execPath, [bin, "run", f], { encoding: "utf8", timeout: 60_000 });
      expect(r.status).toBe(2);
      expect(r.stderr.trim(), name).toBe(`tasklab: ${f}:2:71: Expected ";" but found "return"`);
    }
  }, 120_000);

  it("importthrow: a throw at the top level of a module the program imports names that module's file, line and column", () => {
    const helper = file("helper-throws.mjs", `export const x = 1;\nthrow new Error("boom in helper");\n`);
    const f = file("imports-helper.mjs", `import { x } from "./helper-throws.mjs";\nimport { program } from ${index};\nexport default program("p", function* (sys) { return x; });\n`);
    const r = spawnSync(process.execPath, [bin, "run", f], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`tasklab: ${f}: while loading: boom in helper (thrown at ${helper}:2:7)`);
  }, 60_000);

  it("missingexport: importing a name tasklab does not export is one line naming the file (exit 2)", () => {
    const f = file("nosuch.mts", `import { nosuch } from ${index};\nexport default nosuch;\n`);
    const r = spawnSync(process.execPath, [bin, "run", f], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(new RegExp(`^tasklab: ${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*does not provide an export named 'nosuch'$`));
  }, 60_000);

  it("crashwhere: a program that throws dies with SIGSEGV and the warning gives the file, line and column of the throw", async () => {
    const f = file("throws.mts", `import { program } from ${index};\nexport default program("thrower", function* (sys) {\n  yield* sys.compute(1000);\n  const o: any = null;\n  return o.field;\n});\n`);
    const c = capture();
    expect(await main(["run", f])).toBe(0);
    // The file's name, not its path: the trace must not depend on where the file sits.
    expect(c.out()).toMatch(/program crashed: Cannot read properties of null \(reading 'field'\) at throws\.mts:5:\d+ \(killed with SIGSEGV\)/);
  });
});

describe("a program outside this repository", () => {
  it("outsideimport: importing \"tasklab\" where it is not installed gives one line saying how to fix it (exit 2)", () => {
    // Through the real command: the test runner itself would resolve "tasklab" to this checkout.
    const f = file("outside.mts", 'import { program } from "tasklab";\nexport default program("x", function* (sys) { yield* sys.compute(1); });\n');
    const r = spawnSync(process.execPath, [join(process.cwd(), "bin", "tasklab.js"), "run", f], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`imports "tasklab", which is not installed for it: run \`npm install ${process.cwd()}\``);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }, 60_000);
});

describe("late docs walk-through", () => {
  it("jssyntaxcjs: a .js program with a syntax error in a folder without \"type\": \"module\" is located too (tsx's plain \"Parse error file:1:1\" is not the place)", () => {
    const d = mkdtempSync(join(tmpdir(), "tasklab-js-"));
    const f = join(d, "syn.js");
    writeFileSync(f, `import { program } from ${JSON.stringify(join(process.cwd(), "src/index.ts"))};\nexport default program("x", function* (sys) {\n  yield* sys.print("hi"\n});\n`);
    const r = spawnSync(process.execPath, [join(process.cwd(), "bin/tasklab.js"), "run", f], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`tasklab: ${f}:4:1: Expected ")" but found "}"`);
  }, 60_000);

  it("runmetricscensored: run --metrics shows the same >= lower bounds as compare when tasks had not finished", async () => {
    const c = capture();
    expect(await main(["run", "examples/workloads/interactive.yaml", "--metrics"])).toBe(0);
    expect(c.out()).toMatch(/2\/4 exited; mean turnaround >=2\.6s, /);
  });

  it("libcsched: libc has the scheduling policy numbers and flags programs pass to sched_setscheduler and sched_setattr", async () => {
    const { libc } = await import("../src/index.ts");
    expect([libc.SCHED_NORMAL, libc.SCHED_FIFO, libc.SCHED_RR, libc.SCHED_BATCH, libc.SCHED_IDLE, libc.SCHED_DEADLINE]).toEqual([0, 1, 2, 3, 5, 6]);
    expect(libc.SCHED_RESET_ON_FORK).toBe(0x40000000);
    expect(libc.SCHED_FLAG_RESET_ON_FORK).toBe(1);
  });
});

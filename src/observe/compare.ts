/**
 * The same workload under several schedulers, side by side: one row of summary
 * metrics per scheduler preset (`tasklab compare <workload> --sched eevdf,cfs`).
 *
 * Each run boots a fresh machine through `makeMachine`, attaches a MetricsRecorder
 * before anything runs, runs to the given stop time and reads the metrics up to
 * the last exit when every task has exited (else up to the stop time). Runs
 * are deterministic, so a row depends only on the workload, the seed and the preset.
 *
 * @example
 * const w = parseWorkload(text, "mixed-nice.yaml");
 * const rows = compareSchedulers((sched) => bootWorkload(w, { sched }), ["simple", "eevdf"]);
 * console.log(formatCompareTable(rows));
 */
import type { Machine } from "../user/machine.ts";
import { formatDuration } from "../sim/units.ts";
import { MetricsRecorder, type RunMetrics } from "./metrics.ts";
import { censoredMeans, collapseWarnings } from "./report.ts";

/** One scheduler's results. Times in ns; null when no task gave a value. */
export interface CompareRow {
  sched: string;
  tasks: number;
  exited: number;
  /** End of the measured window: the last exit, or the stop time if tasks were left. */
  end: number;
  meanTurnaround: number | null;
  meanWaiting: number | null;
  meanResponse: number | null;
  /** Lower-bound means over every task (unfinished / never-run tasks counted to the end). */
  meanTurnaroundAll: number | null;
  meanResponseAll: number | null;
  neverRan: number;
  /** Run-delay samples behind the percentiles (p99 of fewer than 100 is the maximum). */
  runDelayCount: number;
  p50RunDelay: number;
  p95RunDelay: number;
  p99RunDelay: number;
  switches: number;
  migrations: number;
  /** 0..1 over all CPUs. */
  utilisation: number;
  /** Exits per simulated second. */
  throughput: number | null;
  jain: number | null;
  jainRaw: number | null;
  /** Deadline jobs ended, and how many after their deadline (0 and 0 without deadline tasks). */
  deadlineJobs: number;
  deadlineMissed: number;
  /** What the kernel warned about in this run (tasks it refused or killed): a row is only as good as these. */
  warnings: string[];
  /** What the run's programs wrote to stderr (a workload says there which fork attributes were refused), line by line. */
  stderr: string[];
  /** With CompareOptions.perTask: each workload task's figures in this run. */
  perTask?: CompareTaskRow[];
}

/** One task of one run (compare --tasks). Times in ns; null where the task gave no value. */
export interface CompareTaskRow {
  pid: number;
  comm: string;
  /** Its place in the fork tree by names (TaskMetrics.lineage): how runs under different schedulers line up. */
  lineage: string;
  turnaround: number | null;
  waiting: number;
  response: number | null;
  cpuTime: number;
  p50RunDelay: number;
  p95RunDelay: number;
  p99RunDelay: number;
  switches: number;
  migrations: number;
}

/** A booted, not yet run, machine and when to stop it (undefined: when nothing is left to do). */
export interface CompareTarget {
  machine: Machine;
  until?: number;
}

export interface CompareOptions {
  /** Keep run intervals in each recorder (for a Gantt chart per scheduler). */
  keepRuns?: boolean;
  /** Also give each row its workload tasks' own figures (`perTask`). */
  perTask?: boolean;
  /** Called after each run, e.g. to draw its chart. */
  onRun?: (sched: string, run: { machine: Machine; recorder: MetricsRecorder; metrics: RunMetrics }) => void;
}

/** Runs the workload `makeMachine` boots under each preset in `scheds`, in order. */
export function compareSchedulers(makeMachine: (sched: string) => CompareTarget, scheds: readonly string[], opts: CompareOptions = {}): CompareRow[] {
  return scheds.map((sched) => {
    const { machine, until } = makeMachine(sched);
    const recorder = MetricsRecorder.attach(machine, { keepRuns: opts.keepRuns });
    machine.run(until ?? Infinity);
    recorder.detach();
    const metrics = recorder.finish(recorder.workEnd(machine.now));
    opts.onRun?.(sched, { machine, recorder, metrics });
    const stderr = machine.kernel.output.filter((o) => o.fd === 2).map((o) => o.text).join("").split("\n").filter((l) => l !== "");
    const row: CompareRow = { ...compareRow(sched, metrics), warnings: [...machine.kernel.warnings], stderr };
    if (opts.perTask) row.perTask = taskRows(metrics);
    return row;
  });
}

/** The compare row of one run's metrics (no warnings: compareSchedulers adds the machine's). */
export function compareRow(sched: string, m: RunMetrics): CompareRow {
  const s = m.summary;
  return {
    sched,
    tasks: s.tasks,
    exited: s.exited,
    end: m.end,
    meanTurnaround: s.meanTurnaround,
    meanWaiting: s.meanWaiting,
    meanResponse: s.meanResponse,
    meanTurnaroundAll: s.meanTurnaroundAll,
    meanResponseAll: s.meanResponseAll,
    neverRan: s.neverRan,
    runDelayCount: s.runDelay.count,
    p50RunDelay: s.runDelay.p50,
    p95RunDelay: s.runDelay.p95,
    p99RunDelay: s.runDelay.p99,
    switches: s.switches,
    migrations: s.migrations,
    utilisation: s.utilisation,
    throughput: s.throughput,
    jain: s.jain,
    jainRaw: s.jainRaw,
    deadlineJobs: s.deadlineJobs,
    deadlineMissed: s.deadlineMissed,
    warnings: [],
    stderr: [],
  };
}

/** The workload tasks of one run, as compare --tasks lists them. */
function taskRows(m: RunMetrics): CompareTaskRow[] {
  return m.tasks
    .filter((t) => t.workload)
    .map((t) => ({
      pid: t.pid, comm: t.comm, lineage: t.lineage, turnaround: t.turnaround, waiting: t.waiting, response: t.response, cpuTime: t.cpuTime,
      p50RunDelay: t.runDelay.p50, p95RunDelay: t.runDelay.p95, p99RunDelay: t.runDelay.p99,
      switches: t.voluntarySwitches + t.involuntarySwitches, migrations: t.migrations,
    }));
}

const dur = (x: number | null) => (x === null ? "-" : formatDuration(Math.round(x)));

/** An aligned table: the first column left-aligned, the others right-aligned. */
function aligned(cells: string[][]): string {
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((line) => line[c]!.length)));
  const pad = (s: string, c: number) => (c === 0 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!));
  return cells.map((line) => line.map(pad).join("  ").trimEnd()).join("\n") + "\n";
}

const TASK_COLUMNS: [string, (t: CompareTaskRow) => string][] = [
  ["turnaround", (t) => dur(t.turnaround)],
  ["waiting", (t) => dur(t.waiting)],
  ["response", (t) => dur(t.response)],
  ["cpu", (t) => dur(t.cpuTime)],
  ["delay p50", (t) => dur(t.p50RunDelay)],
  ["p95", (t) => dur(t.p95RunDelay)],
  ["p99", (t) => dur(t.p99RunDelay)],
  ["switches", (t) => String(t.switches)],
  ["migr", (t) => String(t.migrations)],
];

/**
 * compare --tasks: for each workload task, one line per scheduler, so a task's figures under each sit
 * together. Tasks are matched by their place in the fork tree (lineage: a forked child's pid may
 * differ from one scheduler to another), in order of first appearance; each line gives its pid.
 */
export function formatCompareTasks(rows: readonly CompareRow[]): string {
  const keys: string[] = [];
  const at = new Map<string, { sched: string; t: CompareTaskRow }[]>();
  for (const r of rows) {
    for (const t of r.perTask ?? []) {
      const key = t.lineage;
      if (!at.has(key)) {
        keys.push(key);
        at.set(key, []);
      }
      at.get(key)!.push({ sched: r.sched, t });
    }
  }
  const cells = [["task", "sched", "pid", ...TASK_COLUMNS.map(([h]) => h)]];
  for (const key of keys) at.get(key)!.forEach(({ sched, t }, i) => cells.push([i === 0 ? key : "", sched, String(t.pid), ...TASK_COLUMNS.map(([, f]) => f(t))]));
  // "sched" reads better left-aligned too: pad it by hand before the generic alignment
  const w = Math.max(...cells.map((c) => c[1]!.length));
  for (const c of cells) c[1] = c[1]!.padEnd(w);
  return aligned(cells);
}

/** Table columns: header and how a row prints in it. */
const COLUMNS: [string, (r: CompareRow) => string][] = [
  ["sched", (r) => r.sched],
  ["exited", (r) => `${r.exited}/${r.tasks}`],
  ["turnaround", (r) => censoredMeans(r, dur).turnaround],
  ["waiting", (r) => dur(r.meanWaiting)],
  ["response", (r) => censoredMeans(r, dur).response],
  ["delays", (r) => String(r.runDelayCount)],
  ["delay p50", (r) => dur(r.p50RunDelay)],
  ["p95", (r) => (r.runDelayCount < 20 ? "-" : dur(r.p95RunDelay))],
  ["p99", (r) => (r.runDelayCount < 100 ? "-" : dur(r.p99RunDelay))],
  ["switches", (r) => String(r.switches)],
  ["migr", (r) => String(r.migrations)],
  ["util", (r) => `${(r.utilisation * 100).toFixed(1)}%`],
  ["exits/s", (r) => (r.throughput === null ? "-" : r.throughput === 0 ? "0" : r.throughput.toPrecision(3))],
  ["jain", (r) => (r.jain === null ? "-" : r.jain.toFixed(3))],
  ["dl missed", (r) => (r.deadlineJobs === 0 ? "-" : `${r.deadlineMissed}/${r.deadlineJobs}`)],
];

/**
 * An aligned text table, one line per scheduler: text left-aligned, numbers
 * right-aligned; turnaround, waiting and response are means over the workload's tasks.
 */
export function formatCompareTable(rows: readonly CompareRow[]): string {
  const table = aligned([COLUMNS.map(([h]) => h), ...rows.map((r) => COLUMNS.map(([, f]) => f(r)))]);
  const notes = rows.flatMap((r) => [
    ...collapseWarnings(r.warnings).map((w) => `warning (${r.sched}): ${w}\n`),
    ...countLines(r.stderr).map((l) => `stderr (${r.sched}): ${l}\n`),
  ]);
  return notes.length === 0 ? table : `${table}\n${notes.join("")}`;
}

/** Lines in first-seen order, a repeated one once with how many times it came. */
function countLines(lines: readonly string[]): string[] {
  const n = new Map<string, number>();
  for (const l of lines) n.set(l, (n.get(l) ?? 0) + 1);
  return [...n].map(([l, c]) => (c > 1 ? `${l} (${c} times)` : l));
}

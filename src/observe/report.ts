/**
 * A run's metrics as text tables: one row per task (turnaround, waiting,
 * response, CPU time and share, run delay percentiles, switches, migrations),
 * then one line per CPU and the overall summary.
 */
import type { RunMetrics, TaskMetrics } from "./metrics.ts";
import { formatDuration } from "../sim/units.ts";

const t = (ns: number | null): string => (ns === null ? "-" : formatDuration(Math.round(ns)));
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

const TASK_COLUMNS: [string, (r: TaskMetrics) => string][] = [
  ["PID", (r) => String(r.pid)],
  ["COMMAND", (r) => r.comm],
  // As ps prints it: a number for SCHED_NORMAL and SCHED_BATCH only (procps shows "-" for the others).
  ["NI", (r) => (r.nice === null || (r.policy !== null && r.policy !== 0 && r.policy !== 3) ? "-" : String(r.nice))],
  ["TURNAROUND", (r) => t(r.turnaround)],
  ["WAITING", (r) => t(r.waiting)],
  ["RESPONSE", (r) => t(r.response)],
  ["CPU", (r) => t(r.cpuTime)],
  ["SHARE", (r) => pct(r.shareOfCpu)],
  ["DELAY50", (r) => t(r.runDelay.p50)],
  ["DELAY95", (r) => t(r.runDelay.p95)],
  ["DELAY99", (r) => t(r.runDelay.p99)],
  ["VCSW", (r) => String(r.voluntarySwitches)],
  ["IVCSW", (r) => String(r.involuntarySwitches)],
  ["MIGR", (r) => String(r.migrations)],
];

function table(header: string[], rows: string[][]): string {
  const cells = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...cells.map((l) => l[c]!.length)));
  return cells.map((l) => l.map((s, c) => (c === 1 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join("  ").trimEnd()).join("\n") + "\n";
}

export function formatMetrics(m: RunMetrics): string {
  const tasks = m.tasks.filter((r) => r.workload);
  const s = m.summary;
  let out = table(
    TASK_COLUMNS.map(([h]) => h),
    tasks.map((r) => TASK_COLUMNS.map(([, f]) => f(r))),
  );
  out += `\n${m.perCpu.map((c) => `cpu${c.cpu} ${pct(c.utilisation)}`).join("  ")}\n`;
  out +=
    `${s.exited}/${s.tasks} exited; mean turnaround ${censoredMeans(s, t).turnaround}, ` +
    `waiting ${t(s.meanWaiting)}, response ${censoredMeans(s, t).response}; ` +
    `run delay p50/p95/p99 ${t(s.runDelay.p50)}/${t(s.runDelay.p95)}/${t(s.runDelay.p99)}; ` +
    `${plural(s.switches, "switch", "switches")}, ${plural(s.migrations, "migration")}; utilisation ${pct(s.utilisation)}; ` +
    `throughput ${s.throughput === null ? "-" : s.throughput === 0 ? "0" : s.throughput.toPrecision(3)} exits/s; Jain ${s.jain === null ? "-" : s.jain.toFixed(3)} (CPU time over weighted fair share)\n`;
  const dl = tasks.filter((r) => r.deadlineJobs !== null);
  if (dl.length > 0) {
    // A deadline job ends when its task blocks, yields or exits; it missed if that came after its absolute deadline.
    out += `\ndeadline jobs: ${dl
      .map((r) => {
        const j = r.deadlineJobs!;
        return `${r.comm} [${r.pid}] ${j.jobs} ${j.jobs === 1 ? "job" : "jobs"}, ${j.missed} missed, max lateness ${j.maxLateness < 0 ? "-" : ""}${t(Math.abs(j.maxLateness))}`;
      })
      .join("; ")}\n`;
  }
  return out;
}

/** The fields of a run's summary (or a compare row) that mean turnaround and response are shown from. */
interface MeanFields {
  tasks: number; exited: number; neverRan: number;
  meanTurnaround: number | null; meanTurnaroundAll: number | null;
  meanResponse: number | null; meanResponseAll: number | null;
}

/**
 * Mean turnaround and response as shown: with tasks unfinished (or never run), the means over every
 * task counted up to the end, marked ">=" as lower bounds; else the plain means.
 */
export function censoredMeans(s: MeanFields, fmt: (ns: number | null) => string): { turnaround: string; response: string } {
  return {
    turnaround: s.exited < s.tasks ? `>=${fmt(s.meanTurnaroundAll)}` : fmt(s.meanTurnaround),
    response: s.neverRan > 0 ? `>=${fmt(s.meanResponseAll)}` : fmt(s.meanResponse),
  };
}

/** "1 switch", "2 switches". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * A run's warnings for printing: those that differ only in their "[t ms]" time
 * are one line, the first, with how many more came and the time of the last.
 */
export function collapseWarnings(warnings: readonly string[]): string[] {
  const bare = (w: string): string => w.replace(/^\[[\d.]+ ms\] /, "");
  const groups = new Map<string, { first: string; more: number; last: string }>();
  for (const w of warnings) {
    const g = groups.get(bare(w));
    if (g === undefined) groups.set(bare(w), { first: w, more: 0, last: w });
    else {
      g.more++;
      g.last = w;
    }
  }
  return [...groups.values()].map((g) => (g.more > 0 ? `${g.first} (and ${g.more} more like it, the last at ${/^\[([\d.]+ ms)\]/.exec(g.last)?.[1] ?? "the end"})` : g.first));
}

/**
 * A Gantt chart of who ran on which CPU when, as SVG: one lane per CPU, one bar
 * per run interval, a stable colour per pid, a time axis in ns/us/ms/s, and a
 * legend of the tasks with the most CPU time.
 *
 * Built from sched_switch events only (through a MetricsRecorder with keepRuns).
 * Rendering is by Vega (`vega` View.toSVG, headless, no DOM), so the function is async.
 *
 * Staying readable from 2 to 1024 CPUs and from ten to millions of switches:
 * - lane height shrinks with the CPU count, total height is capped;
 * - back-to-back runs of the same pid on a lane merge into one bar;
 * - runs narrower than `minPx` pixels are binned per `minPx` pixels, each bin
 *   drawn in the colour of the task that ran longest in it (see mergeLane); if
 *   more than `maxBars` marks remain, `minPx` doubles until they fit, so the
 *   SVG size is bounded whatever the trace.
 *
 * @example
 * const rec = MetricsRecorder.attach(machine, { keepRuns: true });
 * machine.run(ms(50));
 * writeFileSync("out.svg", await ganttSvg(rec, { end: machine.now, title: "2 hogs" }));
 */
import { View, parse, type Spec } from "vega";
import type { TraceEvent } from "../sim/trace.ts";
import { formatDuration } from "../sim/units.ts";
import { MetricsRecorder } from "./metrics.ts";

export interface GanttOptions {
  /** CPUs (lanes) to draw; default: every CPU seen. */
  cpus?: number;
  /** Window start, ns (default: the recorder's start, or 0). */
  start?: number;
  /** Window end, ns (default: the last event's time; required for a recorder). */
  end?: number;
  title?: string;
  /** Plot width in pixels (default 960). */
  width?: number;
  /** Tasks in the legend (default 12). */
  legend?: number;
  /** Runs narrower than this many pixels are binned and drawn by their dominant task (default 1). */
  minPx?: number;
  /** Upper bound on drawn marks (default 12000). */
  maxBars?: number;
}

/** One drawn bar. */
export interface GanttBar {
  cpu: number;
  pid: number;
  start: number;
  end: number;
  /** For a bar drawn from bins: the fraction of it that was busy (drawn as opacity); absent = 1. */
  busy?: number;
}

/** What the chart shows, before any drawing. Times in ns. */
export interface GanttData {
  cpus: number;
  start: number;
  end: number;
  bars: GanttBar[];
  /** Top tasks by CPU time in the window. */
  top: { pid: number; comm: string; cpuTime: number }[];
  tasks: number;
  runs: number;
  /** Bars drawn from bins of runs narrower than binPx pixels (0: every run drawn as it is). */
  bins: number;
  binPx: number;
}

/**
 * 20 base colours, then the same 20 darkened: 40 in all. Ordered (by a search) so that any two pids
 * fewer than 8 apart, which often share a CPU, get colours at least 19 apart in CIE76 delta-E
 * (look-alike pairs such as a red and a light pink, or two blues, sit further apart).
 */
const BASE = [
  "#393b79", "#d62728", "#e377c2", "#8c564b", "#17becf", "#bcbd22", "#1f77b4", "#59a14f", "#ffbe7d", "#f28e2b",
  "#9467bd", "#9c755f", "#e15759", "#76b7b2", "#4e79a7", "#2ca02c", "#637939", "#edc948", "#b07aa1", "#ff7f0e",
];
export const PALETTE: readonly string[] = [...BASE, ...BASE.map((c) => shade(c, 0.6))];

/** `hex` with each channel scaled by `f`. */
function shade(hex: string, f: number): string {
  const n = parseInt(hex.slice(1), 16);
  const ch = (shift: number) => Math.round(((n >> shift) & 255) * f);
  return "#" + ((ch(16) << 16) | (ch(8) << 8) | ch(0)).toString(16).padStart(6, "0");
}

/** The colour of a pid: the same in every chart; 40 consecutive pids never share one. */
export function pidColour(pid: number): string {
  const n = PALETTE.length;
  return PALETTE[((pid % n) + n) % n]!;
}

/**
 * Colours for a chart: pidColour, except that the legend's tasks never share
 * a colour with each other (a legend task whose pid's slot another legend task
 * took gets the next free slot). With more tasks than colours, tasks outside
 * the legend may still look like one in it.
 */
export function chartColours(legendPids: readonly number[]): (pid: number) => string {
  const n = PALETTE.length;
  const taken = new Set<number>();
  const own = new Map<number, string>();
  for (const pid of legendPids) {
    if (own.has(pid)) continue;
    let slot = ((pid % n) + n) % n;
    while (taken.has(slot) && taken.size < n) slot = (slot + 1) % n;
    taken.add(slot);
    own.set(pid, PALETTE[slot]!);
  }
  return (pid) => own.get(pid) ?? pidColour(pid);
}

type Source = MetricsRecorder | Iterable<TraceEvent>;

/** Lanes of clipped run intervals, the window and per-pid CPU time, from a recorder or events. */
function collect(src: Source, o: GanttOptions) {
  let rec: MetricsRecorder;
  let last = 0;
  if (src instanceof MetricsRecorder) rec = src;
  else {
    rec = new MetricsRecorder({ cpus: o.cpus, start: o.start ?? 0, keepRuns: true });
    for (const e of src) {
      rec.on(e);
      last = e.ts;
    }
  }
  const start = o.start ?? rec.start;
  const end = o.end ?? last;
  const lanes: number[][] = []; // per CPU: pid, start, end triples
  const cpuTime = new Map<number, number>();
  let runs = 0;
  rec.forEachRun(end, (cpu, pid, s, e) => {
    const a = Math.max(s, start);
    const b = Math.min(e, end);
    if (b <= a) return;
    (lanes[cpu] ??= []).push(pid, a, b);
    cpuTime.set(pid, (cpuTime.get(pid) ?? 0) + b - a);
    runs++;
  });
  const cpus = o.cpus ?? Math.max(lanes.length, rec.cpus);
  return { rec, start, end, lanes, cpuTime, runs, cpus };
}

/**
 * Merges one lane's runs into bars at a given resolution (minNs: ns per
 * pixel x minPx). Runs at least that wide are drawn as they are (back-to-back
 * runs of one pid merged). Narrower runs are binned on a grid of that width
 * starting at `origin`, and each bin that was busy for at least a quarter of
 * its width is drawn in the colour of the pid that ran longest in it; equal
 * neighbours merge. So a lane where tasks swap faster than the eye can follow
 * still shows who held the CPU, and an idle gap stays a gap.
 */
function mergeLane(cpu: number, lane: number[], minNs: number, origin: number, out: GanttBar[]): number {
  let binBars = 0;
  let cur: GanttBar | null = null; // the last exact bar, still growing
  let bin = -1; // the bin short runs are being added to
  const acc = new Map<number, number>(); // pid -> ns in that bin
  let binBar: GanttBar | null = null; // the last bar drawn from bins, still growing
  let limit = Infinity; // where the next exact bar starts: a bin bar stops there
  let floor = -Infinity; // where the last exact bar ended: a bin bar starts no earlier
  const pushBinBar = (): void => {
    if (binBar === null) return;
    out.push(binBar);
    binBars++;
    binBar = null;
  };
  const closeBin = (): void => {
    if (bin < 0) return;
    let best = -1;
    let bestNs = 0;
    let busy = 0;
    for (const [pid, ns] of acc) {
      busy += ns;
      if (ns > bestNs || (ns === bestNs && pid < best)) {
        best = pid;
        bestNs = ns;
      }
    }
    acc.clear();
    const b0 = Math.max(origin + bin * minNs, floor);
    const b1 = Math.min(origin + (bin + 1) * minNs, limit);
    bin = -1;
    if (busy === 0 || b1 <= b0) return;
    const frac = Math.min(1, busy / (b1 - b0));
    // Neighbouring bins merge only when the same task dominates and they are about as busy.
    if (binBar !== null && binBar.pid === best && binBar.end >= b0 && Math.abs((binBar.busy ?? 1) - frac) < 0.125) binBar.end = b1;
    else {
      pushBinBar();
      binBar = { cpu, pid: best, start: b0, end: b1, busy: frac };
    }
  };
  const flushBins = (): void => {
    closeBin();
    pushBinBar();
  };
  const addShort = (pid: number, s: number, e: number): void => {
    for (let b = Math.floor((s - origin) / minNs); origin + b * minNs < e; b++) {
      if (b !== bin) {
        closeBin();
        bin = b;
      }
      const ns = Math.min(e, origin + (b + 1) * minNs) - Math.max(s, origin + b * minNs);
      acc.set(pid, (acc.get(pid) ?? 0) + ns);
    }
  };
  const flush = (b: GanttBar): void => {
    if (b.end - b.start < minNs) return addShort(b.pid, b.start, b.end);
    limit = b.start;
    flushBins();
    limit = Infinity;
    floor = b.end;
    out.push(b);
  };
  for (let i = 0; i < lane.length; i += 3) {
    const [pid, s, e] = [lane[i]!, lane[i + 1]!, lane[i + 2]!];
    // A gap narrower than half a pixel merges only two runs that are each wide enough to be drawn:
    // merging short runs across their gaps would paint a mostly idle lane as solid.
    if (cur && cur.pid === pid && (s === cur.end || (s - cur.end < minNs / 2 && cur.end - cur.start >= minNs && e - s >= minNs))) cur.end = e;
    else {
      if (cur) flush(cur);
      cur = { cpu, pid, start: s, end: e };
    }
  }
  if (cur) flush(cur);
  flushBins();
  return binBars;
}

/** What to draw: merged bars within the mark budget, and the legend's tasks. */
export function ganttData(src: Source, o: GanttOptions = {}): GanttData {
  const c = collect(src, o);
  const width = o.width ?? 960;
  const nsPerPx = Math.max(1e-9, (c.end - c.start) / width);
  const maxBars = o.maxBars ?? 12000;
  let minPx = o.minPx ?? 1;
  let bars: GanttBar[] = [];
  let bins = 0;
  for (let pass = 0; pass < 40; pass++, minPx *= 2) {
    bars = [];
    bins = 0;
    for (let cpu = 0; cpu < c.cpus; cpu++) bins += mergeLane(cpu, c.lanes[cpu] ?? [], minPx * nsPerPx, c.start, bars);
    if (bars.length <= maxBars) break;
  }
  const top = [...c.cpuTime.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, o.legend ?? 12)
    .map(([pid, cpuTime]) => ({ pid, comm: c.rec.commOf(pid) ?? "?", cpuTime }));
  return { cpus: c.cpus, start: c.start, end: c.end, bars, top, tasks: c.cpuTime.size, runs: c.runs, bins, binPx: minPx };
}

/** The display unit of the time axis for a window span. */
function timeUnit(span: number): { unit: string; scale: number } {
  if (span >= 2e9) return { unit: "s", scale: 1e9 };
  if (span >= 2e6) return { unit: "ms", scale: 1e6 };
  if (span >= 2e3) return { unit: "us", scale: 1e3 };
  return { unit: "ns", scale: 1 };
}

/** Height at which every lane can carry its own label. */
const LABELLED_LANE = 11;

/**
 * Lane height in pixels: 36 for few CPUs, shrinking so the plot stays near 512 px; no thinner than a
 * label (11 px, every CPU named) while that fits in 1024 px (up to 93 CPUs); past that, down to 4 px
 * (1 px past 128 CPUs), labelled every few lanes.
 */
export function laneHeight(cpus: number): number {
  const n = Math.max(1, cpus);
  const h = Math.min(36, Math.floor(512 / n));
  if (h < LABELLED_LANE && n * LABELLED_LANE <= 1024) return LABELLED_LANE;
  return Math.max(cpus <= 128 ? 4 : 1, h);
}

const lane = (cpu: number) => `CPU ${cpu}`;

/** Label every k-th lane (k a power of two) so labels of thin lanes do not overlap. */
function labelStep(laneHeightPx: number): number {
  let k = 1;
  while (k * laneHeightPx < LABELLED_LANE) k *= 2;
  return k;
}

/** Vega writes coordinates at full precision: keep two decimals (a hundredth of a pixel). */
function trimPaths(svg: string): string {
  return svg.replace(/ d="([^"]*)"/g, (_, d: string) => ` d="${d.replace(/(\.\d\d)\d+/g, "$1")}"`);
}

/** The Vega spec of a chart. */
export function ganttSpec(d: GanttData, o: GanttOptions = {}): Spec {
  const width = o.width ?? 960;
  const { unit, scale } = timeUnit(d.end - d.start);
  const lh = laneHeight(d.cpus);
  // Legend tasks first, then every other task drawn: no two share a colour while there are 40 or fewer.
  const colour = chartColours([...d.top.map((t) => t.pid), ...[...new Set(d.bars.map((b) => b.pid))].sort((a, b) => a - b)]);
  const rows = d.bars.map((b) => ({
    lane: lane(b.cpu),
    t0: (b.start - d.start) / scale,
    t1: (b.end - d.start) / scale,
    fill: colour(b.pid),
    opacity: b.busy ?? 1,
  }));
  const names = d.top.map((t) => `${t.comm} [${t.pid}]  ${formatDuration(t.cpuTime)}`);
  const binned = d.bins > 0 ? `; where runs are shorter than ${d.binPx === 1 ? "a pixel" : `${d.binPx} pixels`}, each shows the task that ran most there, paler where the CPU was partly idle` : "";
  const repeat = d.tasks > PALETTE.length ? `; ${PALETTE.length} colours, so tasks outside the legend may share one` : "";
  const subtitle = `${d.cpus} CPUs, ${d.tasks} tasks, ${d.runs} runs, ${formatDuration(d.start)} to ${formatDuration(d.end)}${binned}${repeat}`;
  const laneNames = Array.from({ length: d.cpus }, (_, i) => lane(i));
  const every = labelStep(lh);
  return {
    $schema: "https://vega.github.io/schema/vega/v6.json",
    width,
    height: lh * d.cpus,
    padding: 8,
    background: "white",
    title: { text: o.title ?? "CPU timeline", subtitle, anchor: "start", fontSize: 14, subtitleFontSize: 11 },
    data: [
      { name: "lanes", values: laneNames.map((l, i) => ({ lane: l, odd: i % 2 })) },
      { name: "bars", values: rows },
    ],
    scales: [
      { name: "x", type: "linear", domain: [0, (d.end - d.start) / scale], range: "width", zero: false, nice: false },
      { name: "y", type: "band", domain: laneNames, range: "height", paddingInner: lh >= 8 ? 0.15 : 0, paddingOuter: 0, round: lh >= 4 },
      { name: "legend", type: "ordinal", domain: names, range: d.top.map((t) => colour(t.pid)) },
    ],
    axes: [
      { orient: "bottom", scale: "x", title: `time (${unit})${d.start ? ` from ${formatDuration(d.start)}` : ""}`, grid: true, gridOpacity: 0.35, tickCount: Math.max(4, Math.round(width / 90)), labelFlush: true, format: "~r" },
      { orient: "left", scale: "y", values: laneNames.filter((_, i) => i % every === 0), labelFontSize: lh >= 12 ? 11 : 9, ticks: every > 1, tickSize: 3, domain: false },
    ],
    legends: [{ fill: "legend", orient: "bottom", direction: "horizontal", columns: Math.min(4, names.length + 1), symbolType: "square", title: d.tasks > d.top.length ? `most CPU time (${d.top.length} of ${d.tasks} tasks)` : "CPU time", titleLimit: 600, labelLimit: 220, columnPadding: 14 }],
    marks: [
      { type: "rect", name: "lane-bands", from: { data: "lanes" }, aria: false, encode: { enter: { x: { value: 0 }, x2: { signal: "width" }, y: { scale: "y", field: "lane" }, height: { scale: "y", band: 1 }, fill: { value: "#f3f3f3" }, fillOpacity: { signal: "datum.odd ? 1 : 0.5" } } } },
      { type: "rect", name: "run-bars", from: { data: "bars" }, aria: false, encode: { enter: { x: { scale: "x", field: "t0" }, x2: { scale: "x", field: "t1" }, y: { scale: "y", field: "lane" }, height: { scale: "y", band: 1 }, fill: { field: "fill" }, fillOpacity: { field: "opacity" } } } },
    ],
  };
}

/**
 * The chart as an SVG document. `src` is a recorder made with `keepRuns` (give `end`,
 * usually machine.now) or the trace events themselves.
 */
export async function ganttSvg(src: Source, o: GanttOptions = {}): Promise<string> {
  const view = new View(parse(ganttSpec(ganttData(src, o), o)), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return trimPaths(svg);
}

/**
 * Running a machine to chosen moments and printing what is there: program
 * output in time order, ps and pstree snapshots, the event log.
 */
import type { Machine } from "../user/machine.ts";
import { formatPs, psRows, pstree, formatEvent } from "../observe/index.ts";
import { formatDuration } from "../sim/units.ts";
import type { TraceEvent } from "../sim/trace.ts";

export type Out = (text: string) => void;

export function indent(text: string, pad = "    "): string {
  return text
    .split("\n")
    .map((l) => (l.length ? pad + l : l))
    .join("\n");
}

/** Prints program output written up to time `upTo`, from where the last call stopped. */
export class OutputCursor {
  private next = 0;
  /**
   * @param json each write as a JSON line {"type":"output","ts","pid","fd","text"} instead of the bare text
   * @param live print each write as the program makes it (nothing is held back if the run is stopped)
   */
  constructor(
    private readonly m: Machine,
    private readonly out: Out,
    private readonly json = false,
    live = false,
  ) {
    if (live) m.kernel.onOutput = () => this.flush();
  }
  flush(upTo = Infinity): void {
    const o = this.m.kernel.output;
    while (this.next < o.length && o[this.next]!.ts <= upTo) {
      const w = o[this.next++]!;
      this.out(this.json ? JSON.stringify({ type: "output", ts: w.ts, pid: w.pid, fd: w.fd, text: w.text }) + "\n" : w.text);
    }
  }
}

export function showView(m: Machine, view: "ps" | "pstree" | "states", out: Out): void {
  const text = view === "ps" ? formatPs(psRows(m.kernel)) : view === "pstree" ? pstree(m.kernel, 1, { pids: true }) : stateCounts(m);
  out(indent(text));
}

/** "399 processes: 396 Z, 2 S, 1 R" from ps rows. */
export function stateCounts(m: Machine): string {
  const rows = psRows(m.kernel);
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${n} ${s}`);
  return `${rows.length} processes: ${parts.join(", ")}\n`;
}

export function timeLabel(ns: number): string {
  return `t=${formatDuration(ns)}`;
}

/** Collects trace events for printing as a log (text or JSON lines). */
export function logPrinter(m: Machine, out: Out, json: boolean): () => void {
  return m.kernel.trace.subscribe((e: TraceEvent) => {
    if (e.name === "sys_enter" || e.name === "sys_exit") return;
    out((json ? JSON.stringify({ type: "event", ...e }) : formatEvent(e)) + "\n"); // "type", as every other record of the stream has
  });
}

/** Runs a built-in example with its narration (the tour runs them all). */
import { plural } from "../observe/report.ts";
import { Machine } from "../user/machine.ts";
import type { Example } from "../../examples/example.ts";
import { OutputCursor, showView, timeLabel, type Out } from "./render.ts";

/** Simulated-time cap for examples without an explicit end: they all finish well before. */
const EXAMPLE_CAP = 60e9;

export function runExample(e: Example, out: Out, opts: { cpus?: number; seed?: number } = {}): Machine {
  const m = new Machine({ cpus: 2, ...e.options, ...definedOnly(opts) });
  e.setup(m);
  const cursor = new OutputCursor(m, out);
  out(`\n== ${e.title} (${e.name}) ==\n`);
  out(wrap(e.description, 78) + "\n\n");
  const written = e.options?.cpus ?? 2;
  if (m.kernel.rqs.length !== written)
    out(`  (the notes below were written for ${cpusLabel(written)}; on ${cpusLabel(m.kernel.rqs.length)} what the snapshots show may differ)\n\n`);
  for (const s of e.snapshots) {
    m.run(s.at);
    cursor.flush(s.at);
    out(`\n  -- ${timeLabel(s.at)}: ${s.note}\n`);
    for (const v of s.show ?? []) showView(m, v, out);
    out("\n");
  }
  m.run(e.until ?? EXAMPLE_CAP);
  cursor.flush();
  for (const w of m.kernel.warnings) out(`  warning: ${w}\n`);
  out(`  (finished at ${timeLabel(m.kernel.engine.lastEventTime)} on ${cpusLabel(m.kernel.rqs.length)}, ${plural(m.kernel.totalForks, "process", "processes")} created)\n`);
  return m;
}

const cpusLabel = (n: number): string => (n === 1 ? "1 CPU" : `${n} CPUs`);

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function wrap(text: string, width: number): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = "";
  for (const w of words) {
    if (line.length + w.length + 1 > width && line) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}

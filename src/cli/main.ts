/**
 * The `tasklab` command: a thin front end that turns argv into calls of the
 * public API and prints tables or JSON (isomorphic-git's CLI style).
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { readFileSync, writeFileSync, existsSync, openSync, writeSync, closeSync, statSync, accessSync, constants } from "node:fs";
import { resolve, extname, basename, dirname } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";
import { register as registerHooks } from "node:module";
import { transformSync } from "esbuild";
import { EXAMPLES, TOUR, findExample } from "../../examples/index.ts";
import { runExample } from "./examples.ts";
import { formatDuration, parseDuration, TimeParseError } from "../sim/units.ts";
import { Machine, NoSchedClassError } from "../user/machine.ts";
import { userCodeRunning } from "../kernel/kernel.ts";
import { isProgram } from "../user/program.ts";
import { OutputCursor, showView, logPrinter, timeLabel, type Out } from "./render.ts";
import { psRows, readProcPath } from "../observe/index.ts";
import { parseWorkload, WorkloadError } from "../scenario/load.ts";
import { didYouMean } from "../scenario/workload.ts";
import { bootWorkload, NoClassError } from "../scenario/run.ts";
import { PRESETS, UnknownSchedulerError } from "../kernel/sched/presets.ts";
import { ParamError, defaultParams, DURATION_PARAMS, parseParam, settableParams, type Params } from "../kernel/param.ts";
import { MetricsRecorder } from "../observe/metrics.ts";
import { ganttSvg } from "../observe/gantt.ts";
import { PerfettoRecorder } from "../observe/perfetto.ts";
import { compareSchedulers, formatCompareTable, formatCompareTasks } from "../observe/compare.ts";
import { formatMetrics, plural, collapseWarnings } from "../observe/report.ts";

/**
 * Writes to stdout (fd 1) or stderr (fd 2). In the worker thread that runs a user's program under the
 * watchdog (bin/tasklab.js), straight to the descriptor: a worker's process.stdout hands its text to the
 * main thread later, and a program stuck in a loop that the watchdog then stops would take with it
 * everything printed before.
 */
function write(fd: 1 | 2, s: string): void {
  if (isMainThread) {
    (fd === 1 ? process.stdout : process.stderr).write(s);
    return;
  }
  const buf = Buffer.from(s);
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") Atomics.wait(PAUSE, 0, 0, 1); // a full pipe: wait for the reader
      else if (code === "EPIPE") process.exit(0); // the reader stopped early (| head): the output ends there
      else outputFailed(fd, e);
    }
  }
}
const PAUSE = new Int32Array(new SharedArrayBuffer(4));
// A program crash names the line that threw: take the stack deep enough whatever NODE_OPTIONS says
// (--stack-trace-limit=0 would drop the place from the trace and --json).
Error.stackTraceLimit = Math.max(10, Number.isFinite(Error.stackTraceLimit) ? Error.stackTraceLimit : 0);
const out: Out = (s) => write(1, s);

/** Bad input found after parsing (a task that cannot fit the machine): exit 2 with one line. */
class InputError extends Error {}

/** A workload task whose policy the chosen scheduler has no class for. */
class NoClassInput extends InputError {
  constructor(message: string, readonly sched: string) {
    super(message);
  }
}

// A reader that stops early (| head) closes the pipe: that ends the output, not in an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  outputFailed(1, e);
});

/** The output cannot be written (a full disk: ENOSPC): say so in one line on stderr and stop. */
function outputFailed(fd: 1 | 2, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code ?? String(e);
  if (fd === 1) {
    try {
      writeSync(2, `tasklab: cannot write the output (${code}): stopped\n`);
    } catch {
      // stderr is gone too: nothing more to say
    }
  }
  process.exit(1);
}

function intOpt(name: string, lo: number, hi: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || n < lo || n > hi) throw new InvalidArgumentError(`${name} must be an integer from ${lo} to ${hi}`);
    return n;
  };
}

function durationOpt(name: string) {
  return (v: string, prev?: number[]): number[] => {
    try {
      return [...(prev ?? []), parseDuration(v, name)];
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

/** A --proc snapshot: the file at `path` as it reads at simulated time `at`. */
interface ProcAt {
  at: number;
  path: string;
}

/** --proc TIME:PATH, e.g. 5ms:/proc/2/status (repeatable). */
function procOpt(v: string, prev?: ProcAt[]): ProcAt[] {
  const i = v.indexOf(":");
  const path = i < 0 ? "" : v.slice(i + 1);
  if (i <= 0 || !path.startsWith("/"))
    throw new InvalidArgumentError(`expected TIME:PATH, e.g. 5ms:/proc/2/status or 1s:/sys/kernel/debug/sched/debug (got "${v}")`);
  if (/^\/proc\/(self|thread-self)(\/|$)/.test(path)) throw new InvalidArgumentError(`${path}: /proc/self is the reader's own; from the command line name a pid`);
  try {
    return [...(prev ?? []), { at: parseDuration(v.slice(0, i), "--proc"), path }];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** --param key=value: one tunable of src/kernel/param.ts; durations take units. */
function paramOpt(v: string, prev?: Partial<Params>): Partial<Params> {
  const m = /^([A-Za-z]+)=(.+)$/.exec(v.trim());
  const known = settableParams();
  if (!m || !known.includes(m[1]!))
    throw new InvalidArgumentError(`expected key=value with key one of ${known.join(", ")} (got "${v}")`);
  try {
    return { ...prev, [m[1]!]: parseParam(m[1]!, m[2]!, `--param ${m[1]}`) };
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

interface RunOpts {
  /** --param key=value tunables. */
  param?: Partial<Params>;
  cpus?: number;
  seed?: number;
  until?: number[];
  json?: boolean;
  psAt?: number[];
  /** --proc TIME:PATH snapshots. */
  proc?: ProcAt[];
  log?: boolean;
  sched?: string;
  /** Write an SVG CPU timeline here (compare: one file per scheduler, <name>-<sched>.svg). */
  gantt?: string;
  /** Print per-task and overall scheduling metrics at the end. */
  metrics?: boolean;
  /** Write the run as a Perfetto / Chrome trace JSON file here. */
  perfetto?: string;
  /** compare: per-task rows too. */
  tasks?: boolean;
}

/** The version in package.json. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
  return pkg.version ?? "unknown";
}

/** Default stop for runs without --until: programs that never end are cut here. */
const DEFAULT_UNTIL = 60e9;

/** Tunables only one fair class reads: under a scheduler without it, --param would silently change nothing. */
const TUNABLE_OF_CLASS: Record<string, "cfs" | "eevdf"> = {
  schedLatency: "cfs", minGranularity: "cfs", wakeupGranularity: "cfs", childRunsFirst: "cfs", baseSlice: "eevdf",
};
/** Classes that read a tunable besides its own (the simple stand-in takes the base slice as its quantum). */
const ALSO_READ_BY: Record<string, string[]> = { baseSlice: ["simple"] };

function checkTunables(m: Machine, param: Partial<Params> | undefined, sched: string): void {
  const names = new Set(m.kernel.classes.map((c) => c.name));
  for (const key of Object.keys(param ?? {})) {
    const cls = TUNABLE_OF_CLASS[key];
    if (cls === undefined || names.has(cls) || (ALSO_READ_BY[key] ?? []).some((n) => names.has(n))) continue;
    const with_ = Object.keys(PRESETS).filter((n) => n !== "simple" && new Machine({ sched: n }).kernel.classes.some((c) => c.name === cls));
    throw new InputError(`--param ${key}: a tunable of the ${cls.toUpperCase()} class, which scheduler "${sched}" does not have, so it would change nothing (use --sched ${with_.join(" or ")})`);
  }
}

/**
 * An error thrown by the user's own code outside any process (at import, in
 * setup): one line naming the file and, when the stack shows it, the line.
 */
function userFault(file: string, e: unknown, phase: string): Error {
  if (e instanceof InputError || e instanceof WorkloadError || e instanceof ParamError) return e;
  const msg = e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e);
  const make = (text: string): Error => (e instanceof NoSchedClassError ? new NoClassInput(text, "") : new InputError(text));
  const abs = resolve(file);
  let where = "";
  if (e instanceof Error && typeof e.stack === "string") {
    for (const line of e.stack.split("\n").slice(1)) {
      const at = /\(?(?:file:\/\/)?([^()\s]+):(\d+):(\d+)\)?\s*$/.exec(line);
      if (at && resolve(at[1]!) === abs) {
        where = `:${at[2]}:${at[3]}`;
        break;
      }
    }
  }
  // Thrown in a module the file imports: say where, after the message.
  let elsewhere = "";
  if (where === "" && e instanceof Error && typeof e.stack === "string") {
    for (const line of e.stack.split("\n").slice(1)) {
      const at = /\(?((?:file:\/\/)?[^()\s]+):(\d+):(\d+)\)?\s*$/.exec(line);
      if (!at || /^node:/.test(at[1]!) || /node_modules|\/src\/(kernel|user|sim|scenario|observe|cli)\//.test(at[1]!)) continue;
      elsewhere = ` (thrown at ${at[1]!.replace(/^file:\/\//, "")}:${at[2]}:${at[3]})`;
      break;
    }
  }
  return make(`${file}${where}: ${phase}: ${msg.split("\n")[0]}${elsewhere}`);
}

let hooksRegistered = false;

/** Registers bin/esm-user.js (once): program files load as ES modules in any folder (see there). */
function esmEverywhere(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  registerHooks(new URL("../../bin/esm-user.js", import.meta.url));
}

/** "line:col: message" of the first syntax error in a JavaScript module file, found by esbuild; null if it parses. */
function syntaxErrorAt(path: string): string | null {
  try {
    transformSync(readFileSync(path, "utf8"), { loader: "js", format: "esm", sourcefile: path, logLevel: "silent" });
    return null;
  } catch (err) {
    const first = (err as { errors?: { text: string; location: { line: number; column: number } | null }[] }).errors?.[0];
    if (first?.location == null) return null;
    return `${first.location.line}:${first.location.column + 1}: ${first.text}`;
  }
}

async function loadTarget(file: string, o: RunOpts): Promise<{ m: Machine; until: number }> {
  const ext = extname(file).toLowerCase();
  if (!existsSync(file)) throw new InputError(`${file}: no such file`);
  const until = o.until?.at(-1);
  // "linux-6:NO_DELAY_DEQUEUE+NO_RUN_TO_PARITY": a preset with feature switches (as --param schedFeatures gives them)
  const spec = o.sched;
  const [sched, features] = spec === undefined ? [undefined, undefined] : (spec.split(":", 2) as [string, string | undefined]);
  const param = features === undefined ? o.param : { ...o.param, schedFeatures: [o.param?.schedFeatures, features.replace(/\+/g, " ")].filter(Boolean).join(" ") };
  /** A bad tunable is the command line's fault (--param, or the features of --sched), else the file's. */
  const blame = (e: unknown): never => {
    if (e instanceof NoClassError) {
      const chosen = sched !== undefined ? "--sched" : "the file's sched";
      const t = e.task;
      throw new NoClassInput(`${file}: task "${t.name}" (line ${t.loc.line}): policy ${t.policy} has no scheduling class in scheduler "${e.sched}" (${chosen}); use ${e.with.join(", ")}`, e.sched);
    }
    if (e instanceof ParamError && e.option === "schedFeatures" && features !== undefined) throw new InputError(`--sched ${spec}: ${e.message}`);
    if (e instanceof ParamError && o.param !== undefined && e.option in o.param) throw new InputError(`--param ${e.option}: ${e.message}`);
    if (e instanceof RangeError || e instanceof ParamError) throw new InputError(`${file}: ${e.message}`);
    throw e;
  };
  if (ext === ".yaml" || ext === ".yml" || ext === ".json") {
    const w = parseWorkload(readFileSync(file, "utf8"), file);
    let r: ReturnType<typeof bootWorkload>;
    try {
      r = bootWorkload(w, { cpus: o.cpus, seed: o.seed, sched, until, params: param });
    } catch (e) {
      return blame(e);
    }
    checkTunables(r.machine, o.param, r.machine.sched);
    return { m: r.machine, until: until ?? r.until ?? DEFAULT_UNTIL };
  }
  if (ext !== ".ts" && ext !== ".js" && ext !== ".mjs" && ext !== ".mts")
    throw new InputError(`${file}: unknown file type "${ext}": expected .ts, .mts, .js, .mjs, .yaml, .yml or .json`);
  esmEverywhere();
  userCodeRunning(true);
  const mod = (await import(pathToFileURL(resolve(file)).href).finally(() => userCodeRunning(false)).catch((e: Error) => {
    if (/require\(\) ES Module|ERR_REQUIRE/.test(e.message))
      throw new Error(`${file}: loaded as CommonJS; name it .mts, or put it in a folder whose package.json says "type": "module"`);
    // esbuild (through tsx): "Transform failed with 1 error:\n/path/file.ts:3:22: ERROR: Expected ..." -> one line
    const syntax = /^Transform failed with \d+ errors?:\n(.+?):(\d+):(\d+): ERROR: (.*)$/m.exec(e.message);
    if (syntax) throw new InputError(`${file}:${syntax[2]}:${Number(syntax[3]) + 1}: ${syntax[4]}`); // esbuild counts columns from 0
    if (/Cannot find package 'tasklab'/.test(e.message)) {
      const index = fileURLToPath(new URL("../index.ts", import.meta.url));
      throw new InputError(`${file}: imports "tasklab", which is not installed for it: run \`npm install ${dirname(dirname(index))}\` in its folder, or import from "${index}"`);
    }
    // A missing export is found when the module is linked, with no line to point at: name the file at least.
    if (/does not provide an export named/.test(e.message)) throw new InputError(`${file}: ${e.message}`);
    if ((e instanceof SyntaxError || e instanceof ReferenceError) && /module\.exports|(exports|module|require) is not defined/.test(e.message + e.stack))
      throw new InputError(`${file}: written as CommonJS (${e.message}); use export default / export function setup`);
    // Node's SyntaxError for an ES module names neither the file nor the line: parse it again to find them.
    // (A .js file tsx looks at first fails with a plain "Parse error file:1:1" instead.)
    if ((e instanceof SyntaxError || /^Parse error /.test(e.message)) && (ext === ".js" || ext === ".mjs")) {
      const at = syntaxErrorAt(resolve(file));
      if (at !== null) throw new InputError(`${file}:${at}`);
    }
    throw userFault(file, e, "while loading");
  })) as { default?: unknown; setup?: unknown };
  let m: Machine;
  try {
    m = new Machine({ ...param, cpus: o.cpus ?? 2, seed: o.seed, sched });
  } catch (e) {
    return blame(e);
  }
  checkTunables(m, o.param, m.sched);
  const target = mod.default ?? mod.setup;
  const setup = (f: () => void): void => {
    userCodeRunning(true);
    try {
      f();
    } catch (e) {
      throw userFault(file, e, "in setup");
    } finally {
      userCodeRunning(false);
    }
  };
  if (isProgram(target)) m.spawn(target);
  else if (typeof target === "function" && target.constructor?.name === "GeneratorFunction")
    throw new InputError(`${file}: the default export is a bare generator function; make it a program: export default program("name", function* (sys) { ... })`);
  else if (target && typeof (target as { setup?: unknown }).setup === "function") setup(() => (target as { setup(m: Machine): void }).setup(m));
  else if (typeof target === "function") setup(() => (target as (m: Machine) => void)(m));
  else throw new InputError(`${file}: expected a default export made with program(...), or a setup(machine) function`);
  return { m, until: until ?? DEFAULT_UNTIL };
}

/** The run's warnings; ones that differ only in their time show as the first and a count. */
function printWarnings(warnings: readonly string[]): void {
  for (const w of collapseWarnings(warnings)) out(`warning: ${w}\n`);
}

async function runCommand(file: string, o: RunOpts): Promise<void> {
  const { m, until } = await loadTarget(file, o);
  const cursor = new OutputCursor(m, out, !!o.json, true);
  if (o.gantt !== undefined) checkWritable(o.gantt);
  if (o.perfetto !== undefined) checkWritable(o.perfetto, ".json", "--perfetto", "the trace is written as JSON (Chrome trace format)");
  // The trace goes to the file as the run goes (a long run makes more text than one string can hold).
  let perfettoFd: number | null = null;
  if (o.perfetto !== undefined) {
    try {
      perfettoFd = openSync(o.perfetto, "w");
    } catch (e) {
      throw new InputError(`--perfetto ${o.perfetto}: cannot write it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  // At least every tenth of a second of wall time (looked at at every event: a program may spend long
  // in its own code between events), so a run the watchdog stops loses little of its trace.
  let flushedAt = performance.now();
  const perfetto =
    perfettoFd !== null
      ? PerfettoRecorder.attach(
          m.kernel,
          (text) => {
            writeSync(perfettoFd, text);
            flushedAt = performance.now();
          },
          () => performance.now() - flushedAt > 100,
        )
      : null;
  const rec = o.gantt || o.metrics ? MetricsRecorder.attach(m, { keepRuns: !!o.gantt }) : null;
  if (o.log) logPrinter(m, out, !!o.json);
  let lastShown = 0;
  // ps and /proc snapshots in time order (a stable sort: at one time, ps first, then the files as given).
  const snaps: (ProcAt | { at: number; path: null })[] = [...(o.psAt ?? []).map((at) => ({ at, path: null })), ...(o.proc ?? [])];
  for (const snap of snaps.sort((a, b) => a.at - b.at)) {
    const at = snap.at;
    if (at > until) {
      if (!o.json) out(`\n-- ${timeLabel(at)}: ${snap.path ?? "ps"} not shown, the run stops at ${timeLabel(until)}\n`);
      continue;
    }
    lastShown = at;
    m.run(at);
    cursor.flush(at);
    if (snap.path !== null) {
      const text = readProcPath(m.kernel, null, snap.path);
      if (o.json) out(JSON.stringify({ type: "proc", ts: at, path: snap.path, text }) + "\n");
      else out(`\n-- ${timeLabel(at)}: ${snap.path}\n${text ?? `${snap.path}: no such file (no such process, or not a file TaskLab serves)\n`}`);
    } else if (o.json) out(JSON.stringify({ type: "ps", ts: at, rows: psRows(m.kernel) }) + "\n");
    else {
      out(`\n-- ${timeLabel(at)}\n`);
      showView(m, "ps", out);
    }
  }
  m.run(until);
  cursor.flush();
  const k = m.kernel;
  // With work left (a task other than init), the run ended at its stop time; with none, when the last task
  // exited (or at the last --ps-at), unless --until asked for a time.
  const workLeft = [...k.tasks.values()].some((t) => t !== k.init);
  const end = o.until?.length || workLeft ? m.now : Math.max(k.lastExitAt, lastShown);
  const capped = workLeft && !o.until?.length && until === DEFAULT_UNTIL;
  if (rec && o.metrics) {
    const metrics = rec.finish(rec.workEnd(end)); // the window compare uses: to the last exit when every task exited
    out(o.json ? JSON.stringify({ type: "metrics", ...metrics }) + "\n" : `\n-- metrics\n${formatMetrics(metrics)}`);
  }
  if (rec && o.gantt) {
    const title = `${basename(file)}: ${m.sched}, ${k.rqs.length} CPUs`;
    writeOutput(o.gantt, await ganttSvg(rec, { end: rec.workEnd(end), title }), "--gantt");
    if (!o.json) out(`wrote ${o.gantt}\n`);
  }
  if (perfetto !== null && perfettoFd !== null) {
    perfetto.finish(end); // to where the run ended, as the summary says, not to the stop time asked for
    closeSync(perfettoFd);
    if (!o.json) out(`wrote ${o.perfetto} (open it in ui.perfetto.dev or chrome://tracing)\n`);
  }
  const summary = { type: "summary", ts: end, cpus: k.rqs.length, sched: m.sched, events: k.engine.fired, processesCreated: k.totalForks, warnings: k.warnings };
  if (o.json) out(JSON.stringify({ type: "ps", ts: end, rows: psRows(k) }) + "\n" + JSON.stringify(summary) + "\n");
  else {
    printWarnings(k.warnings);
    if (capped) out(`\nnote: stopped at the default limit of ${formatDuration(DEFAULT_UNTIL)} with tasks still running; --until sets another\n`);
    // total_forks, as /proc/stat's "processes" counts it (threads too); the engine's events, not trace lines
    out(`\n-- end at ${timeLabel(end)}: ${plural(k.totalForks, "process", "processes")} created (threads included), ${plural(k.engine.fired, "engine event")}\n`);
    showView(m, "ps", out);
  }
}

/** Fails before a long run if the chart (or trace) could not be written afterwards. */
function checkWritable(path: string, ext = ".svg", option = "--gantt", what = "the chart is written as SVG"): void {
  if (path === "") throw new InputError(`${option}: a file name is needed`);
  if (!path.toLowerCase().endsWith(ext)) throw new InputError(`${option} ${path}: ${what}; name the file ${ext}`);
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new InputError(`${option} ${path}: the folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new InputError(`${option} ${path}: ${dir} is a file, not a folder`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new InputError(`${option} ${path}: that is a folder; name a file`);
  try {
    accessSync(existsSync(path) ? path : dir, constants.W_OK);
  } catch (e) {
    throw new InputError(`${option} ${path}: cannot write there (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** Writes a file the command line named, blaming the option if it cannot. */
function writeOutput(path: string, text: string, option: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new InputError(`${option} ${path}: cannot write it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** Runs one workload under each scheduler of --sched (default: every preset) and prints a table. */
async function compareCommand(file: string, o: RunOpts): Promise<void> {
  let scheds = (o.sched ?? Object.keys(PRESETS).join(",")).split(",").map((s) => s.trim()).filter(Boolean);
  if (scheds.length === 0) throw new InputError(`--sched: no scheduler named; expected a comma-separated list of ${Object.keys(PRESETS).join(", ")}`);
  const twice = scheds.find((s, i) => scheds.indexOf(s) !== i);
  if (twice !== undefined) throw new InputError(`--sched: "${twice}" is listed twice`);
  if (o.gantt !== undefined) checkWritable(o.gantt);
  const boots = new Map<string, { m: Machine; until: number }>();
  const skipped: string[] = [];
  for (const s of scheds) {
    try {
      boots.set(s, await loadTarget(file, { ...o, sched: s }));
    } catch (e) {
      // The default list is every preset: one that cannot run a task of the workload is left out, and said so.
      if (o.sched !== undefined || !(e instanceof NoClassInput)) throw e;
      skipped.push(s);
    }
  }
  scheds = scheds.filter((s) => boots.has(s));
  if (scheds.length === 0) throw new InputError(`${file}: no scheduler can run every task of it`);
  const charts: { sched: string; rec: MetricsRecorder; end: number }[] = [];
  const rows = compareSchedulers((s) => ({ machine: boots.get(s)!.m, until: boots.get(s)!.until }), scheds, {
    keepRuns: !!o.gantt,
    perTask: !!o.tasks,
    onRun: (sched, r) => charts.push({ sched, rec: r.recorder, end: r.metrics.end }),
  });
  out(o.json ? JSON.stringify({ type: "compare", file, rows, ...(skipped.length > 0 ? { skipped } : {}) }) + "\n" : formatCompareTable(rows));
  if (skipped.length > 0 && !o.json) out(`(not run: ${skipped.join(", ")}, which ${skipped.length === 1 ? "has" : "have"} no class for a policy the workload uses)\n`);
  if (o.tasks && !o.json) out(`\n${formatCompareTasks(rows)}`);
  if (!o.gantt) return;
  for (const c of charts) {
    const path = o.gantt.replace(/(\.svg)?$/i, `-${c.sched.replace(/[^A-Za-z0-9_.-]+/g, "-")}.svg`);
    writeOutput(path, await ganttSvg(c.rec, { end: c.end, title: `${basename(file)}: ${c.sched}` }), "--gantt");
    if (!o.json) out(`wrote ${path}\n`);
  }
}

function examplesCommand(name: string | undefined, o: { cpus?: number; seed?: number }): void {
  if (!name) {
    out("Built-in examples (run one with: tasklab examples <name>):\n\n");
    for (const e of EXAMPLES) out(`  ${e.name.padEnd(14)} ${e.title}\n`);
    return;
  }
  const e = findExample(name);
  if (!e) throw new InputError(`unknown example "${name}"${didYouMean(name, EXAMPLES.map((x) => x.name))}: expected one of ${EXAMPLES.map((x) => x.name).join(", ")}`);
  runExample(e, out, o);
}

function tourCommand(o: { cpus?: number; seed?: number }): void {
  out("TaskLab tour: a simulated Linux machine with 2 CPUs, booted fresh for each stop.\n");
  for (const e of TOUR) runExample(e, out, o);
  out("\nThat was the tour. Try: tasklab examples <name>, or tasklab run <file> --log\n");
}

export function buildProgram(): Command {
  const cmd = new Command("tasklab")
    .description("A deterministic simulator of the Linux process subsystem")
    .version(packageVersion(), "--version", "print the version")
    .exitOverride()
    // Commander's own errors ("error: option ...") in the form of the rest: "tasklab: ..."
    .configureOutput({ writeOut: out, writeErr: (s) => write(2, s), outputError: (s, w) => w(s.replace(/^error: /, "tasklab: ")) });
  cmd
    .command("run <file>")
    .description("run a program (.ts/.js with a default program export) or a workload (.yaml/.json)")
    .option("--cpus <n>", "number of CPUs (1..1024)", intOpt("--cpus", 1, 1024))
    .option("--seed <n>", "random seed", intOpt("--seed", 0, 2 ** 31 - 1))
    .option("--until <time>", "stop at this simulated time (e.g. 250us, 3ms, 2s)", durationOpt("--until"))
    .option("--sched <name>", `scheduler preset (${Object.keys(PRESETS).join(", ")})`)
    .option("--json", "print JSON lines instead of tables")
    .option("--ps-at <time...>", "print ps at these simulated times", (v: string, p?: number[]) => durationOpt("--ps-at")(v, p))
    .option(
      "--proc <time:path...>",
      "print a /proc file at a simulated time, e.g. 5ms:/proc/2/status, 1s:/proc/3/sched, 1s:/sys/kernel/debug/sched/debug (repeatable)",
      procOpt,
    )
    .option("--log", "print the event log (tracepoint names)")
    .option("--gantt <file.svg>", "write an SVG timeline of who ran on which CPU")
    .option("--perfetto <file.json>", "write the run as a Chrome trace (JSON) for ui.perfetto.dev: CPU tracks and each task's states")
    .option("--metrics", "print per-task and overall metrics (turnaround, waiting, run delay, switches...)")
    .option("--param <key=value>", "set a kernel tunable, e.g. hz=1000, rrTimeslice=50ms, rtRuntime=-1 (repeatable)", paramOpt)
    .action(runCommand);
  cmd
    .command("compare <file>")
    .description("run one workload under several schedulers and compare turnaround, waiting, run delay, fairness")
    .option(
      "--sched <list>",
      `comma-separated presets (default: all of ${Object.keys(PRESETS).join(", ")}); a preset may take sched features after a colon, ` +
        "e.g. linux-6,linux-6:NO_DELAY_DEQUEUE+NO_RUN_TO_PARITY",
    )
    .option("--cpus <n>", "number of CPUs (1..1024)", intOpt("--cpus", 1, 1024))
    .option("--seed <n>", "random seed", intOpt("--seed", 0, 2 ** 31 - 1))
    .option("--until <time>", "stop at this simulated time (e.g. 250us, 3ms, 2s)", durationOpt("--until"))
    .option("--json", "print the rows as JSON")
    .option("--gantt <file.svg>", "also write a CPU timeline per scheduler (<file>-<sched>.svg)")
    .option("--tasks", "also each task's figures under each scheduler (turnaround, waiting, CPU time, run delay...)")
    .option("--param <key=value>", "set a kernel tunable (repeatable)", paramOpt)
    .action(compareCommand);
  cmd
    .command("examples [name]")
    .description("list the built-in examples, or run one by name")
    .option("--cpus <n>", "number of CPUs", intOpt("--cpus", 1, 1024))
    .option("--seed <n>", "random seed", intOpt("--seed", 0, 2 ** 31 - 1))
    .action(examplesCommand);
  cmd
    .command("tour")
    .description("a guided tour: fork tree, exec, zombie, orphan, daemon, vfork, wait statuses, zombie flood")
    .option("--seed <n>", "random seed", intOpt("--seed", 0, 2 ** 31 - 1))
    .action(tourCommand);
  return cmd;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof WorkloadError || e instanceof TimeParseError || e instanceof UnknownSchedulerError || e instanceof ParamError || e instanceof InputError) {
      write(2, `tasklab: ${e.message}\n`);
      return 2;
    }
    write(2, `tasklab: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

// Run directly (npx tsx src/cli/main.ts ...) rather than through bin/tasklab.js: the same CLI, without the
// watchdog's worker thread.
if (isMainThread && process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

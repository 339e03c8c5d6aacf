/**
 * The event log: trace events as JSON lines with a stable key order, as one-line
 * text in the style of ftrace's trace file, and a recorder that subscribes to a
 * kernel's trace bus, keeps (optionally filtered) events and hashes them for
 * determinism checks. Subscribing only reads events; it changes no kernel state.
 *
 * @example
 * const rec = new TraceRecorder(m.kernel, { names: ["sched_switch"] });
 * m.run();
 * rec.stop();
 * console.log(rec.events.map(formatEvent).join("\n"));
 * rec.hash(); // "9c1f0e4b2a7d3c11": equal for equal runs
 */
import type { TraceBus, TraceEvent, TraceName } from "../sim/trace.ts";

type FieldsOf<N extends TraceName> = Exclude<keyof Extract<TraceEvent, { name: N }>, "name" | "ts" | "cpu">;

/** Each event's fields in tracepoint order, after name, ts, cpu. Unknown fields follow in their own order. */
const FIELDS: { [N in TraceName]?: readonly FieldsOf<N>[] } = {
  sched_switch: ["prev_comm", "prev_pid", "prev_prio", "prev_state", "next_comm", "next_pid", "next_prio"],
  sched_wakeup: ["comm", "pid", "prio", "target_cpu"],
  sched_wakeup_new: ["comm", "pid", "prio", "target_cpu"],
  sched_migrate_task: ["comm", "pid", "prio", "orig_cpu", "dest_cpu"],
  sched_process_fork: ["parent_comm", "parent_pid", "child_comm", "child_pid", "clone_flags"],
  sched_process_exec: ["filename", "pid", "old_pid"],
  sched_process_exit: ["comm", "pid", "prio", "code"],
  sched_process_free: ["comm", "pid"],
  sched_process_wait: ["comm", "pid", "wait_pid"],
  sched_process_reparent: ["comm", "pid", "old_ppid", "new_ppid"],
  sched_stat_runtime: ["comm", "pid", "runtime"],
  task_rename: ["pid", "oldcomm", "newcomm"],
  signal_generate: ["sig", "errno", "code", "comm", "pid", "group", "result"],
  signal_deliver: ["sig", "errno", "code", "sa_handler", "sa_flags", "pid"],
  sys_enter: ["pid", "id", "args"],
  sys_exit: ["pid", "id", "ret"],
  task_state: ["comm", "pid", "state"],
  print: ["pid", "text"],
  kernel_warning: ["pid", "comm", "text"],
  dl_job: ["comm", "pid", "deadline", "lateness"],
};

/** Keys of e in canonical order: name, ts, cpu, the tracepoint's fields, then any others. */
function orderedKeys(e: TraceEvent): string[] {
  const known = (FIELDS[e.name] ?? []) as readonly string[];
  const keys = ["name", "ts", "cpu", ...known.filter((k) => k in e)];
  for (const k of Object.keys(e)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

/** JSON.stringify that never throws: functions, symbols, bigints and repeated objects become strings. */
function toJson(v: unknown): string {
  const seen = new WeakSet<object>();
  const text = JSON.stringify(v, (_key, x: unknown) => {
    if (typeof x === "function") return "<fn>";
    if (typeof x === "symbol") return x.toString();
    if (typeof x === "bigint") return x.toString();
    if (typeof x === "object" && x !== null) {
      if (seen.has(x)) return "<ref>";
      seen.add(x);
    }
    return x;
  });
  return text ?? "null";
}

/** One event as a JSON object with the canonical key order. */
export function eventJson(e: TraceEvent): string {
  const rec = e as unknown as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of orderedKeys(e)) if (rec[k] !== undefined) parts.push(`${JSON.stringify(k)}:${toJson(rec[k])}`);
  return `{${parts.join(",")}}`;
}

/** Events as JSON lines, one per event, keys in a stable order. */
export function eventLogLines(events: Iterable<TraceEvent>): string[] {
  const out: string[] = [];
  for (const e of events) out.push(eventJson(e));
  return out;
}

/** The JSON-lines log as one text, each line ending in "\n". */
export function eventLogText(events: Iterable<TraceEvent>): string {
  return eventLogLines(events).map((l) => l + "\n").join("");
}

/** Seconds with microseconds, as the trace file's timestamp column ("   0.003000"). */
export function formatTimestamp(ns: number): string {
  const sec = Math.floor(ns / 1e9);
  const usec = Math.floor((ns - sec * 1e9) / 1e3);
  return `${String(sec).padStart(4)}.${String(usec).padStart(6, "0")}`;
}

const cpu3 = (c: number): string => (c < 0 ? "---" : String(c).padStart(3, "0"));
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
/** A value as key=value prints it: strings raw (newlines escaped), everything else as JSON. */
const val = (v: unknown): string => (typeof v === "string" ? v.replace(/\n/g, "\\n") : toJson(v));

/** Bodies that follow the kernel's TP_printk format; other events print key=value pairs in field order. */
const BODIES: { [N in TraceName]?: (e: Extract<TraceEvent, { name: N }>) => string } = {
  sched_switch: (e) =>
    `prev_comm=${e.prev_comm} prev_pid=${e.prev_pid} prev_prio=${e.prev_prio} prev_state=${e.prev_state}` +
    ` ==> next_comm=${e.next_comm} next_pid=${e.next_pid} next_prio=${e.next_prio}`,
  sched_wakeup: (e) => `comm=${e.comm} pid=${e.pid} prio=${e.prio} target_cpu=${cpu3(e.target_cpu)}`,
  sched_wakeup_new: (e) => `comm=${e.comm} pid=${e.pid} prio=${e.prio} target_cpu=${cpu3(e.target_cpu)}`,
  sched_process_fork: (e) =>
    `comm=${e.parent_comm} pid=${e.parent_pid} child_comm=${e.child_comm} child_pid=${e.child_pid} clone_flags=${hex(e.clone_flags)}`,
  sched_stat_runtime: (e) => `comm=${e.comm} pid=${e.pid} runtime=${e.runtime} [ns]`,
  signal_generate: (e) =>
    `sig=${e.sig} errno=${e.errno} code=${e.code} comm=${e.comm} pid=${e.pid} grp=${e.group ? 1 : 0} res=${e.result}`,
  signal_deliver: (e) => `sig=${e.sig} errno=${e.errno} code=${e.code} sa_handler=${e.sa_handler} sa_flags=${hex(e.sa_flags)}`,
  sys_enter: (e) => `pid=${e.pid} ${e.id}(${e.args.map(toJson).join(", ")})`,
  sys_exit: (e) => `pid=${e.pid} ${e.id} -> ${toJson(e.ret)}`,
};

function genericBody(e: TraceEvent): string {
  const rec = e as unknown as Record<string, unknown>;
  return orderedKeys(e)
    .slice(3)
    .filter((k) => rec[k] !== undefined)
    .map((k) => `${k}=${val(rec[k])}`)
    .join(" ");
}

/**
 * One event as a line of text in the style of ftrace:
 * `   0.003000 [001] sched_switch: prev_comm=forker prev_pid=3 ... ==> next_comm=swapper/0 ...`.
 */
export function formatEvent(e: TraceEvent): string {
  const body = BODIES[e.name] as ((x: TraceEvent) => string) | undefined;
  return `${formatTimestamp(e.ts)} [${cpu3(e.cpu)}] ${e.name}: ${body ? body(e) : genericBody(e)}`;
}

/**
 * 64-bit FNV-1a over the UTF-8 bytes of the text fed to it, in pure JS (two 32-bit
 * halves; the prime is 2^40 + 0x1b3).
 */
export class Fnv1a64 {
  private hi = 0xcbf29ce4;
  private lo = 0x84222325;

  update(text: string): this {
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c < 0x80) this.byte(c);
      else if (c < 0x800) this.bytes(0xc0 | (c >> 6), 0x80 | (c & 63));
      else {
        const d = text.charCodeAt(i + 1);
        if (c >= 0xd800 && c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          this.bytes(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        } else this.bytes(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
    }
    return this;
  }

  /** 16 hex digits. */
  hex(): string {
    return this.hi.toString(16).padStart(8, "0") + this.lo.toString(16).padStart(8, "0");
  }

  private bytes(...bs: number[]): void {
    for (const b of bs) this.byte(b);
  }

  private byte(b: number): void {
    const lo = (this.lo ^ b) >>> 0;
    const prod = lo * 0x1b3; // < 2^41: exact
    this.lo = prod >>> 0;
    this.hi = (this.hi * 0x1b3 + Math.floor(prod / 0x100000000) + ((lo << 8) >>> 0)) >>> 0;
  }
}

/** FNV-1a 64 of a text, as 16 hex digits. */
export function fnv1a64(text: string): string {
  return new Fnv1a64().update(text).hex();
}

/** Hash of the JSON-lines log of `events` (equal to a TraceRecorder's hash of the same events). */
export function hashEvents(events: Iterable<TraceEvent>): string {
  const h = new Fnv1a64();
  for (const e of events) h.update(eventJson(e) + "\n");
  return h.hex();
}

export interface TraceRecorderOptions {
  /** Only events with these names (default: all). */
  names?: Iterable<TraceName>;
  /** Keep the events in `events` (default true); false only hashes and counts them. */
  keep?: boolean;
}

/**
 * Collects the events a kernel emits from now on, until stop().
 *
 * @example
 * const rec = new TraceRecorder(m.kernel);
 * m.run();
 * expect(rec.hash()).toBe(otherRun.hash());
 */
export class TraceRecorder {
  readonly events: TraceEvent[] = [];
  /** Events recorded (kept or not). */
  count = 0;
  private readonly names: Set<TraceName> | null;
  private readonly keep: boolean;
  private readonly h = new Fnv1a64();
  private unsubscribe: (() => void) | null;

  constructor(source: TraceBus | { trace: TraceBus }, opts: TraceRecorderOptions = {}) {
    const bus = "subscribe" in source ? source : source.trace;
    this.names = opts.names ? new Set(opts.names) : null;
    this.keep = opts.keep ?? true;
    this.unsubscribe = bus.subscribe((e) => this.record(e));
  }

  /** Still subscribed. */
  get active(): boolean {
    return this.unsubscribe !== null;
  }

  /** Unsubscribes; the events and hash stay. */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** The kept events as JSON lines. */
  lines(): string[] {
    return eventLogLines(this.events);
  }

  /** The kept events as JSON-lines text. */
  text(): string {
    return eventLogText(this.events);
  }

  /** FNV-1a 64 of every recorded event's JSON line (kept or not), 16 hex digits. */
  hash(): string {
    return this.h.hex();
  }

  private record(e: TraceEvent): void {
    if (this.names && !this.names.has(e.name)) return;
    this.count++;
    this.h.update(eventJson(e) + "\n");
    if (this.keep) this.events.push(e);
  }
}

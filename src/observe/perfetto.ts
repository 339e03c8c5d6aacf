/**
 * Perfetto export: the run as a Chrome Trace Event Format JSON file, which
 * ui.perfetto.dev and chrome://tracing open. Built from the trace bus alone.
 *
 * Tracks:
 * - a "CPUs" process (pid 0) with one thread per CPU: what ran there, each
 *   stretch a slice named "comm pid" (a rename, as by exec, starts a new one);
 * - each process (pid = tgid) with one thread per task (tid = pid): the
 *   task's states as slices ("Running on CPU n", "Runnable", "Sleeping (S)",
 *   "Disk sleep (D)", "Stopped (T)", "Zombie (Z)" until it is reaped), and
 *   instants for fork, exec, exit, signals delivered and program output.
 * A pid used again by a later task gets tracks of its own: the format knows
 * tracks only by number, so each later user of a pid gets the next number
 * from 4194304 (PID_MAX_LIMIT) up; its names still say the real pid.
 * Times are microseconds, as the format has them (ns / 1000, fractions kept;
 * a slice's duration is end minus start in microseconds, so that slices that
 * touch do not overlap after rounding).
 *
 * Nothing here does I/O: the text goes to a sink the front end gives, in
 * pieces as the run goes, so a long run needs neither one huge string nor
 * every event in memory.
 */
import type { Kernel } from "../kernel/kernel.ts";
import type { TraceEvent } from "../sim/trace.ts";

type ChromeEvent = Record<string, unknown>;

/** The pid of the synthetic process holding the CPU tracks (no task has pid 0 but swapper/N). */
const CPU_PROCESS = 0;
/** Track numbers for later users of a pid start here (PID_MAX_LIMIT): above every real pid. */
const PID_SPACE = 4_194_304;
/** Bytes of JSON gathered before they go to the sink. */
const CHUNK = 1 << 20;

const us = (ns: number): number => ns / 1000;

/** A task state letter of sched_switch's prev_state as a slice name, or null when the task is gone for good. */
function stateSlice(prevState: string): string | null {
  const c = prevState[0];
  if (c === "R") return "Runnable";
  if (c === "S") return "Sleeping (S)";
  if (c === "D") return "Disk sleep (D)";
  if (c === "T" || c === "t") return "Stopped (T)";
  if (c === "I") return "Idle (I)";
  if (c === "Z") return "Zombie (Z)";
  return null; // X: a thread that is gone
}

/** One task as the trace knows it: its track numbers and its latest name. */
interface Ident {
  pid: number;
  track: number;
  group: number;
  comm: string;
}

export class PerfettoRecorder {
  private buf: string[] = [];
  private bufLen = 0;
  private first = true;
  /** What each CPU is running since when (null: its idle task). */
  private readonly onCpu: ({ who: Ident; since: number } | null)[];
  /** Each task's current state slice, by pid. */
  private readonly state = new Map<number, { name: string; since: number }>();
  /** The task that has each pid now. */
  private readonly current = new Map<number, Ident>();
  /** Every task seen, for the track names. */
  private readonly all: Ident[] = [];
  /** How many tasks have had each pid so far. */
  private readonly uses = new Map<number, number>();
  /** The next track number for a pid's later user (unsigned 32-bit, as the format's readers take them). */
  private nextTrack = PID_SPACE;
  private unsubscribe: () => void = () => {};

  private constructor(
    private readonly k: Kernel,
    private readonly sink: ((text: string) => void) | null,
    private readonly flushNow: (() => boolean) | null,
  ) {
    this.onCpu = k.rqs.map(() => null);
    this.emit({ ph: "M", name: "process_name", pid: CPU_PROCESS, tid: 0, args: { name: "CPUs" } });
    this.emit({ ph: "M", name: "process_sort_index", pid: CPU_PROCESS, tid: 0, args: { sort_index: -1 } });
    for (const rq of k.rqs) this.emit({ ph: "M", name: "thread_name", pid: CPU_PROCESS, tid: rq.cpu + 1, args: { name: `CPU ${rq.cpu}` } });
    const tasks = [...k.tasks.values()].sort((a, b) => (a.pid === a.tgid ? 0 : 1) - (b.pid === b.tgid ? 0 : 1) || a.pid - b.pid);
    for (const t of tasks) this.born(t.pid, t.comm);
    for (const rq of k.rqs) if (rq.curr !== rq.idle) this.onCpu[rq.cpu] = { who: this.ident(rq.curr.pid), since: k.now };
    for (const t of k.tasks.values()) {
      const running = k.rqs[t.cpu]?.curr === t;
      const name = running ? `Running on CPU ${t.cpu}` : t.onRq ? "Runnable" : null;
      if (name !== null) this.state.set(t.pid, { name, since: k.now });
    }
  }

  /**
   * Starts recording k's trace from now on. With a sink, the JSON text goes
   * there in pieces as the run goes (every megabyte, or whenever `flushNow`
   * says so: a front end can bound how much a run stopped from outside
   * loses), and finish() sends the rest; without one, finish() returns the
   * whole text. Cut short, the text ends after a whole event: closing it
   * with "]}" makes it a valid trace.
   */
  static attach(k: Kernel, sink: ((text: string) => void) | null = null, flushNow: (() => boolean) | null = null): PerfettoRecorder {
    const r = new PerfettoRecorder(k, sink, flushNow);
    r.unsubscribe = k.trace.subscribe((e) => r.onEvent(e));
    return r;
  }

  private emit(e: ChromeEvent): void {
    const text = (this.first ? '{"traceEvents":[\n' : ",\n") + JSON.stringify(e);
    this.first = false;
    this.buf.push(text);
    this.bufLen += text.length;
    if (this.sink !== null && (this.bufLen >= CHUNK || (this.flushNow !== null && this.flushNow()))) this.flush();
  }

  private flush(): void {
    if (this.sink === null || this.buf.length === 0) return;
    this.sink(this.buf.join(""));
    this.buf = [];
    this.bufLen = 0;
  }

  /** A new task has pid: it gets its own tracks if the pid was used before. */
  private born(pid: number, comm: string): Ident {
    const n = this.uses.get(pid) ?? 0;
    this.uses.set(pid, n + 1);
    const t = this.k.task(pid);
    const leader = t !== undefined && t.tgid !== pid ? this.current.get(t.tgid) : undefined;
    const track = n === 0 ? pid : this.nextTrack++;
    const who: Ident = { pid, track, group: leader?.track ?? track, comm };
    this.current.set(pid, who);
    this.all.push(who);
    this.name(who); // now, so a file cut short (a run stopped by the watchdog) still names its tracks
    return who;
  }

  /** Names who's tracks (finish() names them again by their last names: the last name given wins). */
  private name(who: Ident): void {
    if (who.group === who.track) this.emit({ ph: "M", name: "process_name", pid: who.group, tid: 0, args: { name: `${who.comm} ${who.pid}` } });
    this.emit({ ph: "M", name: "thread_name", pid: who.group, tid: who.track, args: { name: `${who.comm} ${who.pid}` } });
  }

  /** The task that has pid now (one not seen before is taken as new). */
  private ident(pid: number, comm?: string): Ident {
    const who = this.current.get(pid) ?? this.born(pid, comm ?? this.k.task(pid)?.comm ?? "?");
    if (comm !== undefined) who.comm = comm;
    return who;
  }

  private slice(who: Ident | null, cpu: number, name: string, from: number, to: number, args?: Record<string, unknown>): void {
    if (to <= from) return; // nothing to see in a stretch of no time
    const ts = us(from);
    const end = us(to);
    let dur = end - ts;
    // In doubles ts + dur can land a hair past end; step dur down so that slices that touch never overlap.
    while (ts + dur > end) dur -= Math.max(Number.MIN_VALUE, dur * Number.EPSILON);
    const e: ChromeEvent = who === null
      ? { ph: "X", name, pid: CPU_PROCESS, tid: cpu + 1, ts, dur }
      : { ph: "X", name, pid: who.group, tid: who.track, ts, dur };
    if (args !== undefined) e.args = args;
    this.emit(e);
  }

  private instant(pid: number, name: string, ts: number, args?: Record<string, unknown>): void {
    const who = this.ident(pid);
    const e: ChromeEvent = { ph: "i", s: "t", name, pid: who.group, tid: who.track, ts: us(ts) };
    if (args !== undefined) e.args = args;
    this.emit(e);
  }

  /** Ends pid's current state slice at ts and starts `next` (null: none, the task is gone). */
  private setState(pid: number, next: string | null, ts: number): void {
    const cur = this.state.get(pid);
    if (cur !== undefined) {
      if (cur.name === next) return;
      this.slice(this.ident(pid), -1, cur.name, cur.since, ts);
    }
    if (next === null) this.state.delete(pid);
    else this.state.set(pid, { name: next, since: ts });
  }

  /** Ends what CPU cpu ran at ts. */
  private endRun(cpu: number, ts: number): void {
    const run = this.onCpu[cpu];
    if (run != null) this.slice(null, cpu, `${run.who.comm} ${run.who.pid}`, run.since, ts, { pid: run.who.pid });
  }

  private onEvent(e: TraceEvent): void {
    switch (e.name) {
      case "sched_switch": {
        this.endRun(e.cpu, e.ts);
        if (e.prev_pid !== 0) this.setState(e.prev_pid, stateSlice(e.prev_state), e.ts);
        this.onCpu[e.cpu] = e.next_pid === 0 ? null : { who: this.ident(e.next_pid, e.next_comm), since: e.ts };
        if (e.next_pid !== 0) this.setState(e.next_pid, `Running on CPU ${e.cpu}`, e.ts);
        break;
      }
      case "sched_wakeup":
      case "sched_wakeup_new":
        this.ident(e.pid, e.comm);
        if (!this.state.get(e.pid)?.name.startsWith("Running")) this.setState(e.pid, "Runnable", e.ts);
        break;
      case "sched_process_fork":
        this.born(e.child_pid, e.child_comm);
        this.instant(e.parent_pid, "fork", e.ts, { child_pid: e.child_pid });
        break;
      case "sched_process_exec":
        if (e.old_pid !== e.pid) this.tookLeaderPid(e.old_pid, e.pid, e.ts);
        this.instant(e.pid, "exec", e.ts, { filename: e.filename });
        break;
      case "task_rename": {
        // A task renamed while it runs (exec) starts a new stretch on its CPU under the new name.
        const cpu = this.onCpu.findIndex((r) => r !== null && r.who.pid === e.pid);
        if (cpu >= 0) {
          this.endRun(cpu, e.ts);
          this.onCpu[cpu]!.since = e.ts;
        }
        this.ident(e.pid, e.newcomm);
        break;
      }
      case "sched_process_exit": {
        const st = e.code;
        const args = st & 0x7f ? { signal: st & 0x7f, status: st } : { exit_code: (st >> 8) & 0xff, status: st };
        this.instant(e.pid, "exit", e.ts, args);
        break;
      }
      case "sched_process_free":
        this.setState(e.pid, null, e.ts);
        this.current.delete(e.pid);
        break;
      case "signal_deliver":
        this.instant(e.pid, `signal ${e.sig}`, e.ts, { sig: e.sig, code: e.code, handler: e.sa_handler });
        break;
      case "print":
        this.instant(e.pid, "output", e.ts, { text: e.text });
        break;
      default:
        break;
    }
  }

  /**
   * de_thread: a thread that execs takes its leader's pid (the leader was
   * freed just before). It keeps its own track, its state and its CPU
   * stretch, now under the leader's pid; a track opened for the pid by the
   * rename in between is dropped.
   */
  private tookLeaderPid(oldPid: number, pid: number, ts: number): void {
    const old = this.current.get(oldPid);
    if (old === undefined) return;
    // The stretch so far ran under the old name and tid.
    const cpu = this.onCpu.findIndex((r) => r !== null && r.who === old);
    if (cpu >= 0) {
      this.endRun(cpu, ts);
      this.onCpu[cpu]!.since = ts;
    }
    const fresh = this.current.get(pid);
    if (fresh !== undefined && fresh !== old) {
      this.all.splice(this.all.indexOf(fresh), 1);
      this.uses.set(pid, (this.uses.get(pid) ?? 1) - 1);
      old.comm = fresh.comm;
    }
    this.current.delete(oldPid);
    old.pid = pid;
    this.current.set(pid, old);
    const st = this.state.get(oldPid);
    this.state.delete(oldPid);
    if (st !== undefined) this.state.set(pid, st);
  }

  /**
   * Closes the stretches still open at `end` (ns), names every track, and
   * ends the JSON: sends the rest to the sink, or returns the whole text
   * when there is none.
   */
  finish(end: number): string {
    this.unsubscribe(); // the file ends here: later events are not recorded
    this.onCpu.forEach((run, cpu) => {
      if (run !== null) this.endRun(cpu, end);
      this.onCpu[cpu] = null;
    });
    for (const [pid, s] of this.state) this.slice(this.ident(pid), -1, s.name, s.since, end);
    this.state.clear();
    // Track names: each task by its last name; a process by its leader's.
    for (const who of this.all) this.name(who);
    this.buf.push(`\n],"displayTimeUnit":"ms","otherData":${JSON.stringify({ generator: "TaskLab", cpus: this.k.rqs.length })}}\n`);
    if (this.sink !== null) {
      this.flush();
      return "";
    }
    const text = this.buf.join("");
    this.buf = [];
    return text;
  }
}

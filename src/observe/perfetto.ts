/**
 * Perfetto export: the run as a Chrome Trace Event Format JSON file, which
 * ui.perfetto.dev and chrome://tracing open. Built from the trace bus alone.
 *
 * Tracks:
 * - a "CPUs" process (pid 0) with one thread per CPU: what ran there, each
 *   stretch a slice named "comm pid";
 * - each process (pid = tgid) with one thread per task (tid = pid): the
 *   task's states as slices ("Running on CPU n", "Runnable", "Sleeping (S)",
 *   "Disk sleep (D)", "Stopped (T)"), and instants for fork, exec, exit,
 *   signals delivered and program output.
 * Times are microseconds, as the format has them (ns / 1000, fractions kept).
 */
import type { Kernel } from "../kernel/kernel.ts";
import type { TraceEvent } from "../sim/trace.ts";

type ChromeEvent = Record<string, unknown>;

/** The pid of the synthetic process holding the CPU tracks (no task has pid 0 but swapper/N). */
const CPU_PROCESS = 0;

const us = (ns: number): number => ns / 1000;

/** A task state letter of sched_switch's prev_state as a slice name, or null when the task is gone. */
function stateSlice(prevState: string): string | null {
  const c = prevState[0];
  if (c === "R") return "Runnable";
  if (c === "S") return "Sleeping (S)";
  if (c === "D") return "Disk sleep (D)";
  if (c === "T" || c === "t") return "Stopped (T)";
  if (c === "I") return "Idle (I)";
  return null; // Z, X: exited
}

export class PerfettoRecorder {
  private readonly events: ChromeEvent[] = [];
  /** What each CPU is running since when (null: its idle task). */
  private readonly onCpu: ({ pid: number; label: string; since: number } | null)[];
  /** Each task's current state slice. */
  private readonly state = new Map<number, { name: string; since: number }>();
  /** Thread group and latest name of every task seen (kept after release, for late events); named in finish(). */
  private readonly who = new Map<number, { tgid: number; comm: string }>();

  private constructor(private readonly k: Kernel) {
    this.onCpu = k.rqs.map(() => null);
    this.meta("process_name", CPU_PROCESS, 0, { name: "CPUs" });
    this.meta("process_sort_index", CPU_PROCESS, 0, { sort_index: -1 });
    for (const rq of k.rqs) this.meta("thread_name", CPU_PROCESS, rq.cpu + 1, { name: `CPU ${rq.cpu}` });
    for (const t of k.tasks.values()) this.learn(t.pid);
    for (const rq of k.rqs) if (rq.curr !== rq.idle) this.onCpu[rq.cpu] = { pid: rq.curr.pid, label: `${rq.curr.comm} ${rq.curr.pid}`, since: k.now };
    for (const t of k.tasks.values()) {
      const running = k.rqs[t.cpu]?.curr === t;
      const name = running ? `Running on CPU ${t.cpu}` : t.onRq ? "Runnable" : null;
      if (name !== null) this.state.set(t.pid, { name, since: k.now });
    }
  }

  /** Starts recording k's trace from now on. */
  static attach(k: Kernel): PerfettoRecorder {
    const r = new PerfettoRecorder(k);
    k.trace.subscribe((e) => r.onEvent(e));
    return r;
  }

  private meta(name: string, pid: number, tid: number, args: Record<string, unknown>): void {
    this.events.push({ ph: "M", name, pid, tid, args });
  }

  /** Records who pid is: its thread group and its name (the last one given wins). */
  private learn(pid: number, comm?: string): { tgid: number; comm: string } {
    const t = this.k.task(pid);
    const prev = this.who.get(pid);
    const info = { tgid: t?.tgid ?? prev?.tgid ?? pid, comm: comm ?? t?.comm ?? prev?.comm ?? "?" };
    if (prev !== undefined && prev.tgid === info.tgid && prev.comm === info.comm) return prev;
    this.who.set(pid, info);
    return info;
  }

  private slice(pid: number, tid: number, name: string, from: number, to: number, args?: Record<string, unknown>): void {
    if (to <= from) return; // nothing to see in a stretch of no time
    const e: ChromeEvent = { ph: "X", name, pid, tid, ts: us(from), dur: us(to - from) };
    if (args !== undefined) e.args = args;
    this.events.push(e);
  }

  private instant(pid: number, name: string, ts: number, args?: Record<string, unknown>): void {
    const info = this.learn(pid);
    const e: ChromeEvent = { ph: "i", s: "t", name, pid: info.tgid, tid: pid, ts: us(ts) };
    if (args !== undefined) e.args = args;
    this.events.push(e);
  }

  /** Ends pid's current state slice at ts and starts `next` (null: none, the task is gone). */
  private setState(pid: number, next: string | null, ts: number): void {
    const cur = this.state.get(pid);
    if (cur !== undefined) {
      if (cur.name === next) return;
      const info = this.learn(pid);
      this.slice(info.tgid, pid, cur.name, cur.since, ts);
    }
    if (next === null) this.state.delete(pid);
    else this.state.set(pid, { name: next, since: ts });
  }

  private onEvent(e: TraceEvent): void {
    switch (e.name) {
      case "sched_switch": {
        const run = this.onCpu[e.cpu];
        if (run != null) this.slice(CPU_PROCESS, e.cpu + 1, run.label, run.since, e.ts, { pid: run.pid });
        this.onCpu[e.cpu] = e.next_pid === 0 ? null : { pid: e.next_pid, label: `${e.next_comm} ${e.next_pid}`, since: e.ts };
        if (e.prev_pid !== 0) this.setState(e.prev_pid, stateSlice(e.prev_state), e.ts);
        if (e.next_pid !== 0) {
          this.learn(e.next_pid, e.next_comm);
          this.setState(e.next_pid, `Running on CPU ${e.cpu}`, e.ts);
        }
        break;
      }
      case "sched_wakeup":
      case "sched_wakeup_new":
        this.learn(e.pid, e.comm);
        if (!this.state.get(e.pid)?.name.startsWith("Running")) this.setState(e.pid, "Runnable", e.ts);
        break;
      case "sched_process_fork":
        this.learn(e.child_pid, e.child_comm);
        this.instant(e.parent_pid, "fork", e.ts, { child_pid: e.child_pid });
        break;
      case "sched_process_exec":
        this.instant(e.pid, "exec", e.ts, { filename: e.filename });
        break;
      case "task_rename":
        this.learn(e.pid, e.newcomm);
        break;
      case "sched_process_exit":
        this.instant(e.pid, "exit", e.ts, { code: e.code });
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

  /** The trace as JSON text, with the stretches still open closed at `end` (ns). */
  finish(end: number): string {
    const events = this.events.slice();
    // Track names: each task by its last name; a process by its leader's.
    for (const [pid, info] of [...this.who].sort((a, b) => a[0] - b[0])) {
      if (info.tgid === pid) events.push({ ph: "M", name: "process_name", pid, tid: 0, args: { name: `${info.comm} ${pid}` } });
      events.push({ ph: "M", name: "thread_name", pid: info.tgid, tid: pid, args: { name: `${info.comm} ${pid}` } });
    }
    this.onCpu.forEach((run, cpu) => {
      if (run !== null && end > run.since) events.push({ ph: "X", name: run.label, pid: CPU_PROCESS, tid: cpu + 1, ts: us(run.since), dur: us(end - run.since), args: { pid: run.pid } });
    });
    for (const [pid, s] of this.state) {
      const info = this.who.get(pid);
      if (info !== undefined && end > s.since) events.push({ ph: "X", name: s.name, pid: info.tgid, tid: pid, ts: us(s.since), dur: us(end - s.since) });
    }
    return JSON.stringify({ traceEvents: events, displayTimeUnit: "ms", otherData: { generator: "TaskLab", cpus: this.k.rqs.length } }) + "\n";
  }
}

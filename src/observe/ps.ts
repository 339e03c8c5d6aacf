/**
 * ps: one row per process (or per thread with `threads`, as `ps -L`), with the
 * values procps-ng reads from /proc/<pid>/stat and prints (src/ps/output.c).
 *
 * - STAT is the state letter then, in this order: `<` nice < 0, `N` nice > 0,
 *   `L` locked pages (never here), `s` session leader (sid == tgid),
 *   `l` multi-threaded, `+` in the terminal's foreground process group.
 * - NI is the nice value for SCHED_OTHER and SCHED_BATCH, "-" for every other policy
 *   (procps pr_nice; SCHED_IDLE prints "-" too).
 * - PRI is procps's `pri` keyword: 39 - P, P being stat field 18 (prio - 100).
 * - TIME is utime + stime, [DD-]HH:MM:SS; zombies' COMMAND ends in ` <defunct>`.
 *
 * @example
 * console.log(ps(m.kernel));
 * //   PID  PPID  PGID   SID TTY      STAT  NI PRI     TIME COMMAND
 * //     1     0     1     1 ?        Ss     0  19 00:00:00 init
 */
import type { Kernel } from "../kernel/kernel.ts";
import type { Task } from "../kernel/task/task.ts";
import { stateLetter } from "../kernel/task/state.ts";
import { USER_HZ } from "../kernel/param.ts";
import { groupTimes, memOf, nrThreads, nsToTicks, ppidOf, taskTimes, tpgidOf } from "./proc.ts";

export interface PsRow {
  /** Process id (tgid). */
  pid: number;
  /** Thread id: equals pid in process rows. */
  lwp: number;
  /** Threads in the process. */
  nlwp: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** Controlling terminal ("pts/0"), or "?". */
  tty: string;
  /** Foreground process group of the terminal, -1 without one. */
  tpgid: number;
  /** State letter (R S D T t X Z P I). */
  state: string;
  /** State letter plus procps flags, e.g. "Ss", "SN", "Sl+", "Z". */
  stat: string;
  nice: number;
  /** NI column: the nice value, or "-" for RT and deadline (and SCHED_IDLE) policies. */
  ni: string;
  /** /proc stat field 18: prio - 100 (nice 0 -> 20, RT r -> -1-r, deadline -101). */
  priority: number;
  /** PRI column (procps `pri`): 39 - priority. */
  pri: number;
  policy: number;
  /** CLS column: TS, FF, RR, B, ISO, IDL, DLN. */
  cls: string;
  /** RTPRIO column: rt_priority, "-" for SCHED_OTHER. */
  rtprio: string;
  /** CPU it runs or last ran on (PSR). */
  psr: number;
  uid: number;
  /** CPU time in whole seconds (utime + stime ticks / USER_HZ). */
  cputime: number;
  /** TIME column. */
  time: string;
  comm: string;
  /** COMMAND column: comm, with " <defunct>" for zombies. */
  command: string;
  /** Virtual and resident size in KiB. */
  vsz: number;
  rss: number;
  /** What the task sleeps in, or "-". */
  wchan: string;
}

export interface PsOptions {
  /** One row per thread (ps -L). */
  threads?: boolean;
  /** Only these processes. */
  pids?: readonly number[];
}

const CLASS_NAMES = ["TS", "FF", "RR", "B", "ISO", "IDL", "DLN", "EXT"];

/** [DD-]HH:MM:SS of a number of seconds (procps pr_time). */
export function formatCpuTime(seconds: number): string {
  const s = Math.floor(seconds);
  const dd = Math.floor(s / 86400);
  const hh = Math.floor(s / 3600) % 24;
  const mm = Math.floor(s / 60) % 60;
  const p2 = (n: number): string => String(n).padStart(2, "0");
  return `${dd ? `${dd}-` : ""}${p2(hh)}:${p2(mm)}:${p2(s % 60)}`;
}

/** STAT: the state letter and procps's flags, in procps order. */
function statOf(k: Kernel, t: Task): string {
  const sg = t.signal;
  let s = stateLetter(t);
  if (t.nice < 0) s += "<";
  if (t.nice > 0) s += "N";
  if (sg.sid === t.tgid) s += "s";
  if (nrThreads(t) > 1) s += "l";
  if (sg.pgid === tpgidOf(k, t)) s += "+";
  return s;
}

/** procps escape_str: a control character shows as "?". */
const printable = (comm: string): string => comm.replace(/[\x00-\x1f\x7f]/g, "?");

/** One row: the whole process (`whole`) as /proc/<pid>/stat shows it, or one thread. */
function rowOf(k: Kernel, t: Task, whole: boolean): PsRow {
  const sg = t.signal;
  const times = whole ? groupTimes(k, t) : taskTimes(k, t);
  const priority = t.prio - 100;
  const cputime = Math.floor((nsToTicks(times.utime) + nsToTicks(times.stime)) / USER_HZ);
  const state = stateLetter(t);
  const mem = memOf(t.mm);
  return {
    pid: t.tgid, lwp: t.pid, nlwp: nrThreads(t), ppid: ppidOf(t), pgid: sg.pgid, sid: sg.sid,
    tty: sg.tty ?? "?", tpgid: tpgidOf(k, t), state, stat: statOf(k, t),
    nice: t.nice, ni: t.policy === 0 || t.policy === 3 ? String(t.nice) : "-",
    priority, pri: 39 - priority, policy: t.policy, cls: CLASS_NAMES[t.policy] ?? "?",
    rtprio: t.policy === 0 ? "-" : String(t.rtPriority), psr: t.cpu, uid: t.uid,
    cputime, time: formatCpuTime(cputime), comm: t.comm, command: state === "Z" ? `${printable(t.comm)} <defunct>` : printable(t.comm),
    vsz: mem.size * 4, rss: (mem.file + mem.anon) * 4, wchan: t.state !== 0 && t.exitState === 0 && t.wchan ? t.wchan : "-",
  };
}

/**
 * Rows for every process (thread-group leader, zombies included) sorted by pid;
 * with `threads`, one row per thread sorted by pid then thread id.
 *
 * @example
 * psRows(k).find((r) => r.pid === 5)?.stat // "Z"
 */
export function psRows(k: Kernel, opts: PsOptions = {}): PsRow[] {
  const only = opts.pids ? new Set(opts.pids) : null;
  const rows: PsRow[] = [];
  for (const t of k.tasks.values()) {
    if (only && !only.has(t.tgid)) continue;
    if (opts.threads) rows.push(rowOf(k, t, false));
    else if (t.pid === t.tgid) rows.push(rowOf(k, t, true));
  }
  return rows.sort((a, b) => a.pid - b.pid || a.lwp - b.lwp);
}

export type PsColumn =
  | "pid" | "lwp" | "nlwp" | "ppid" | "pgid" | "sid" | "tty" | "tpgid" | "state" | "stat" | "ni" | "pri"
  | "priority" | "cls" | "rtprio" | "psr" | "uid" | "vsz" | "rss" | "wchan" | "time" | "comm";

interface ColumnSpec {
  header: string;
  /** procps's minimum width. */
  width: number;
  right: boolean;
  get: (r: PsRow) => string | number;
}

/** procps headers, widths and alignment per keyword. */
const SPECS: Record<PsColumn, ColumnSpec> = {
  pid: { header: "PID", width: 5, right: true, get: (r) => r.pid },
  lwp: { header: "LWP", width: 5, right: true, get: (r) => r.lwp },
  nlwp: { header: "NLWP", width: 4, right: true, get: (r) => r.nlwp },
  ppid: { header: "PPID", width: 5, right: true, get: (r) => r.ppid },
  pgid: { header: "PGID", width: 5, right: true, get: (r) => r.pgid },
  sid: { header: "SID", width: 5, right: true, get: (r) => r.sid },
  tty: { header: "TTY", width: 8, right: false, get: (r) => r.tty },
  tpgid: { header: "TPGID", width: 5, right: true, get: (r) => r.tpgid },
  state: { header: "S", width: 1, right: false, get: (r) => r.state },
  stat: { header: "STAT", width: 4, right: false, get: (r) => r.stat },
  ni: { header: "NI", width: 3, right: true, get: (r) => r.ni },
  pri: { header: "PRI", width: 3, right: true, get: (r) => r.pri },
  priority: { header: "PRI", width: 3, right: true, get: (r) => r.priority },
  cls: { header: "CLS", width: 3, right: false, get: (r) => r.cls },
  rtprio: { header: "RTPRIO", width: 6, right: true, get: (r) => r.rtprio },
  psr: { header: "PSR", width: 3, right: true, get: (r) => r.psr },
  uid: { header: "UID", width: 5, right: true, get: (r) => r.uid },
  vsz: { header: "VSZ", width: 6, right: true, get: (r) => r.vsz },
  rss: { header: "RSS", width: 5, right: true, get: (r) => r.rss },
  wchan: { header: "WCHAN", width: 6, right: false, get: (r) => r.wchan },
  time: { header: "TIME", width: 8, right: true, get: (r) => r.time },
  comm: { header: "COMMAND", width: 7, right: false, get: (r) => r.command },
};

/** PID PPID PGID SID TTY STAT NI PRI TIME COMMAND. */
export const PS_DEFAULT_COLUMNS: readonly PsColumn[] = ["pid", "ppid", "pgid", "sid", "tty", "stat", "ni", "pri", "time", "comm"];
/** The default with LWP and NLWP, for per-thread rows. */
export const PS_THREAD_COLUMNS: readonly PsColumn[] = ["pid", "lwp", "ppid", "pgid", "sid", "tty", "stat", "nlwp", "ni", "pri", "time", "comm"];

/**
 * A table laid out as procps's show_one_proc does: each column has a fixed
 * width (its header's at least), numbers right-aligned, text left-aligned, one
 * space between columns. A cell longer than its column does not widen the
 * column: it pushes the rest of its own line right, and the next columns' spare
 * room takes the push back (so `S<sl+` under `STAT` costs the NI column one of
 * its spaces, and the rows below are unaffected). Ends with "\n".
 */
export function formatPs(rows: readonly PsRow[], columns: readonly PsColumn[] = PS_DEFAULT_COLUMNS): string {
  const specs = columns.map((c) => {
    const s = SPECS[c];
    if (!s) throw new Error(`unknown ps column "${c}": expected one of ${Object.keys(SPECS).join(", ")}`);
    return s;
  });
  const widths = specs.map((s) => Math.max(s.width, s.header.length));
  const fmt = (line: string[]): string => {
    let out = "";
    let correct = 0; // where the line should have got to, by the column widths
    let actual = 0; // where it has got to
    line.forEach((v, i) => {
      const leftpad = specs[i]!.right ? Math.max(0, widths[i]! - v.length) : 0;
      let space = correct - actual + leftpad;
      if (space < 1) space = i === 0 ? 0 : 1;
      out += " ".repeat(space) + v;
      actual += space + v.length;
      correct += widths[i]! + 1;
    });
    return out;
  };
  return [specs.map((s) => s.header), ...rows.map((r) => specs.map((s) => String(s.get(r))))].map(fmt).join("\n") + "\n";
}

/** psRows + formatPs: `ps -j`-like output (`ps -L`-like with `threads`). */
export function ps(k: Kernel, opts: PsOptions = {}): string {
  return formatPs(psRows(k, opts), opts.threads ? PS_THREAD_COLUMNS : PS_DEFAULT_COLUMNS);
}

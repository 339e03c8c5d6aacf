/**
 * /proc text in the real formats (fs/proc/array.c, fs/proc/loadavg.c, 6.x):
 * /proc/<pid>/stat (52 fields), /proc/<pid>/status, /proc/<pid>/task/<tid>/stat,
 * /proc/loadavg and the pid list. Read-only: nothing here changes kernel state.
 *
 * What is modelled and what is a stand-in:
 * - Times come from the task's ns accounting, truncated to clock ticks (USER_HZ = 100) as
 *   nsec_to_clock_t does. The time the running task has used since its last accounting
 *   is included, as task_sched_runtime() does, without charging it.
 * - Memory: the kernel keeps only mm.vsize, so resident and per-segment sizes in status are
 *   a fixed, documented split of it (see memOf); code/stack addresses print 0.
 * - Page faults, I/O delay, guest time and load averages are not tracked and print 0.
 */
import { loadAverages, formatLoad } from "../sched/loadavg.ts";
import type { Kernel } from "../kernel.ts";
import {
  type Task, type Mm, SCHED_BATCH, SCHED_DEADLINE, SCHED_NORMAL, TASK_RUNNING, PF_EXITING, PF_KTHREAD, SIGNAL_GROUP_EXIT, SIGNAL_STOP_STOPPED,
} from "../task/task.ts";
import { SigSet } from "../signal/signals.ts";
import type { SigQueue } from "../signal/signal.ts";
import { stateLetter, stateName } from "../task/state.ts";
import { USER_HZ } from "../param.ts";
import type { FairRq, SchedEntity } from "../sched/fair_common.ts";
import { avgVruntime, entityEligible, type EevdfRq } from "../sched/eevdf.ts";
import { rtThrottleState } from "../sched/rt.ts";
import { DlEntity, dlBandwidth } from "../sched/deadline.ts";
import { balanceIntervalNs } from "../sched/balance.ts";
import { weightOf, calcDeltaFair } from "../sched/weights.ts";

const PAGE_SIZE = 4096;
/** RLIM_INFINITY as an unsigned long (rsslim, field 25). */
const RLIM_INFINITY = "18446744073709551615";
/** CAP_LAST_CAP = 40 on 6.x: the bounding set and root's capabilities. */
const CAP_FULL = "000001ffffffffff";
const CAP_NONE = "0000000000000000";
/** MAX_NUMNODES of the Mems_allowed mask (CONFIG_NODES_SHIFT 6). */
const MAX_NUMNODES = 64;

/** nsec_to_clock_t: ns to USER_HZ ticks, truncated. */
export function nsToTicks(ns: number): number {
  return Math.floor(ns / (1e9 / USER_HZ));
}

/** A task by pid as /proc/<pid> finds it (zombies included, swapper/N not). */
function lookup(k: Kernel, pid: number): Task | undefined {
  return pid > 0 ? k.tasks.get(pid) : undefined;
}

/** True when t's process has exited (zombie or dying): no mm, fs, files any more. */
function exited(t: Task): boolean {
  return t.exitState !== 0 || (t.flags & PF_EXITING) !== 0;
}

/**
 * utime and stime of one task in ns, including the time it has run since it was
 * last accounted if it is on a CPU right now (mirrors update_curr without charging).
 */
export function taskTimes(k: Kernel, t: Task): { utime: number; stime: number } {
  let utime = t.utime;
  let stime = t.stime;
  const rq = k.rqs[t.cpu];
  if (rq && rq.curr === t && t.exitState === 0) {
    const delta = Math.max(0, k.now - t.execStart);
    const used = Math.min(delta, t.computeLeft);
    if (t.computeSys) stime += used;
    else utime += used;
    stime += delta - used;
  }
  return { utime, stime };
}

/** Process times: the sum over the threads still in the group (thread_group_cputime). */
export function groupTimes(k: Kernel, t: Task): { utime: number; stime: number } {
  let utime = t.signal.deadUtime;
  let stime = t.signal.deadStime;
  for (const x of t.signal.threads) {
    const tt = taskTimes(k, x);
    utime += tt.utime;
    stime += tt.stime;
  }
  return { utime, stime };
}

/** Number of threads of t's process (get_nr_threads). */
export function nrThreads(t: Task): number {
  return t.signal.threads.length;
}

/** Parent's tgid as field 4 shows it (0 for init). */
export function ppidOf(t: Task): number {
  return t.realParent ? t.realParent.tgid : 0;
}

/**
 * tty_nr of a terminal name: new_encode_dev(MKDEV(major, minor)) =
 * (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12). pts/N is major 136,
 * ttyN major 4, ttySN major 4 minor 64+N, console 5:1; 0 for no terminal.
 */
export function ttyNr(tty: string | null): number {
  if (tty === null) return 0;
  const dev = ttyDev(tty);
  if (!dev) return 0;
  const [major, minor] = dev;
  return ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0;
}

function ttyDev(tty: string): [number, number] | null {
  const name = tty.replace(/^\/dev\//, "");
  let m = /^pts\/(\d+)$/.exec(name);
  if (m) return [136, Number(m[1])];
  m = /^ttyS(\d+)$/.exec(name);
  if (m) return [4, 64 + Number(m[1])];
  m = /^tty(\d+)$/.exec(name);
  if (m) return [4, Number(m[1])];
  if (name === "console") return [5, 1];
  if (name === "tty") return [5, 0];
  return null;
}

/** Foreground process group of t's controlling terminal: -1 without one, 0 if it has none. */
export function tpgidOf(k: Kernel, t: Task): number {
  const tty = t.signal.tty;
  if (tty === null) return -1;
  return k.ttyPgrp.get(tty) ?? 0;
}

/** SigIgn and SigCgt (collect_sigign_sigcatch). */
export function sigIgnCatch(t: Task): { ign: SigSet; cgt: SigSet } {
  const ign = new SigSet();
  const cgt = new SigSet();
  const acts = t.sighand.action;
  for (let sig = 1; sig <= 64; sig++) {
    const a = acts[sig];
    if (!a || a.handler === "dfl") continue;
    if (a.handler === "ign") ign.add(sig);
    else cgt.add(sig);
  }
  return { ign, cgt };
}

/** The first 31 signals of a set, as fields 31-34 print them. */
const low31 = (s: SigSet): number => (s.lo & 0x7fffffff) >>> 0;

/** Field 52: the task's exit code, or the group's exit/stop code in the whole-process view. */
function exitCodeOf(t: Task, whole: boolean): number {
  const sg = t.signal;
  if (whole && sg.flags & (SIGNAL_GROUP_EXIT | SIGNAL_STOP_STOPPED)) return sg.groupExitCode;
  return t.exitCode;
}

/**
 * Memory sizes in pages, split from mm.vsize by fixed ratios (a stand-in until mm/
 * models mappings): 1/64 text, 1/2 libraries, 132 kB stack, the rest data; a quarter of
 * text and libraries and of data resident.
 */
export interface MemPages {
  size: number;
  exe: number;
  lib: number;
  stk: number;
  data: number;
  /** Resident file-backed and anonymous pages. */
  file: number;
  anon: number;
  /** Page-table kB (VmPTE). */
  pteKb: number;
}

export function memOf(mm: Mm | null): MemPages {
  const size = mm ? Math.ceil(mm.vsize / PAGE_SIZE) : 0;
  if (size === 0) return { size: 0, exe: 0, lib: 0, stk: 0, data: 0, file: 0, anon: 0, pteKb: 0 };
  const exe = Math.max(1, Math.round(size / 64));
  const lib = Math.round(size / 2);
  const stk = Math.min(33, Math.max(0, size - exe - lib));
  const data = Math.max(0, size - exe - lib - stk);
  const file = Math.ceil((exe + lib) / 4);
  const anon = Math.ceil(data / 4) + Math.min(stk, 3);
  const pteKb = 4 * (Math.ceil(size / 512) + 8);
  return { size, exe, lib, stk, data, file, anon, pteKb };
}

/** The 52 fields of /proc/<pid>/stat (whole) or /proc/<pid>/task/<tid>/stat (not whole). */
export function statFields(k: Kernel, t: Task, whole: boolean, reader: Task | null = null): (number | string)[] {
  const sg = t.signal;
  const permitted = mayRead(reader, t);
  const { utime, stime } = whole ? groupTimes(k, t) : taskTimes(k, t);
  const threads = nrThreads(t);
  const { ign, cgt } = sigIgnCatch(t);
  const mem = memOf(t.mm);
  const wchan = permitted && (!whole || threads < 2) ? Number(t.state !== TASK_RUNNING) : 0;
  const code = t.mm !== null && !permitted ? 1 : 0; // start_code, end_code: 1 to a reader that may not trace (addresses are not modelled: 0)
  return [
    t.pid, `(${t.comm})`, stateLetter(t), ppidOf(t), sg.pgid, sg.sid, ttyNr(sg.tty), tpgidOf(k, t),
    t.flags >>> 0, 0, 0, 0, 0, // flags, minflt, cminflt, majflt, cmajflt
    nsToTicks(utime), nsToTicks(stime), nsToTicks(sg.cutime), nsToTicks(sg.cstime),
    t.prio - 100, t.nice, threads, 0, nsToTicks(t.startTime),
    mem.size * PAGE_SIZE, mem.file + mem.anon, RLIM_INFINITY,
    code, code, 0, 0, 0, // startcode, endcode, startstack, kstkesp, kstkeip
    low31(t.pending), low31(t.blocked), low31(ign), low31(cgt),
    wchan, 0, 0, t.exitSignal, t.cpu, t.rtPriority, t.policy,
    0, 0, 0, // delayacct_blkio_ticks, guest_time, cguest_time
    0, 0, 0, 0, 0, 0, 0, // start_data .. env_end
    permitted ? exitCodeOf(t, whole) : 0,
  ];
}

/**
 * ptrace_may_access(PTRACE_MODE_READ_FSCREDS), which do_task_stat asks before
 * showing wchan, the code addresses and exit_code: the reader's own thread
 * group, the same uid, or root (CAP_SYS_PTRACE). A reader outside the machine
 * (null: ps, the CLI, a front end) sees everything.
 */
function mayRead(reader: Task | null, t: Task): boolean {
  return reader === null || reader.tgid === t.tgid || reader.uid === 0 || reader.uid === t.uid;
}

/**
 * /proc/<pid>/stat, with its trailing newline; undefined when no such pid.
 *
 * @example
 * procStat(k, 8) // "8 (forker) Z 2 1 1 0 -1 68 0 0 0 0 3 0 0 0 20 0 1 0 0 0 0 18446744073709551615 0 ... 0 1792\n"
 */
export function procStat(k: Kernel, pid: number, reader: Task | null = null): string | undefined {
  const t = lookup(k, pid);
  return t ? statFields(k, t, true, reader).join(" ") + "\n" : undefined;
}

/** /proc/<pid>/task/<tid>/stat: one thread's own times and state. */
export function procTaskStat(k: Kernel, pid: number, tid: number, reader: Task | null = null): string | undefined {
  const t = lookup(k, tid);
  if (!t || t.tgid !== pid) return undefined;
  return statFields(k, t, false, reader).join(" ") + "\n";
}

/** Thread ids of a process (/proc/<pid>/task), ascending; undefined when no such pid. */
export function procTaskList(k: Kernel, pid: number): number[] | undefined {
  const t = lookup(k, pid);
  if (!t || t.tgid !== pid) return undefined;
  return t.signal.threads.map((x) => x.pid).sort((a, b) => a - b);
}

/** The numeric entries of /proc: every process (thread-group leader), zombies included, ascending. */
export function procPidList(k: Kernel): number[] {
  const pids: number[] = [];
  for (const t of k.tasks.values()) if (t.pid === t.tgid) pids.push(t.pid);
  return pids.sort((a, b) => a - b);
}

/**
 * /proc/loadavg: `L1 L5 L15 running/total last_pid`, the averages from
 * loadavg.ts (calc_global_load). total counts every task, zombies included
 * (nr_threads).
 */
export function procLoadavg(k: Kernel): string {
  let running = 0;
  for (const rq of k.rqs) running += rq.nrRunning;
  const [l1, l5, l15] = loadAverages(k).map(formatLoad);
  return `${l1} ${l5} ${l15} ${running}/${k.tasks.size} ${k.pids.lastPid}\n`;
}

/** %*pb: hex words of 32 bits, most significant first, comma separated, the first trimmed to nbits. */
export function bitmapHex(bits: (i: number) => boolean, nbits: number): string {
  const words: string[] = [];
  for (let base = 0; base < nbits; base += 32) {
    let w = 0;
    for (let i = base; i < Math.min(base + 32, nbits); i++) if (bits(i)) w = (w | (1 << (i - base))) >>> 0;
    const digits = base + 32 <= nbits ? 8 : Math.ceil((nbits - base) / 4);
    words.unshift(w.toString(16).padStart(digits, "0"));
  }
  return words.join(",");
}

/** %*pbl: ranges such as `0-1,3`. */
export function bitmapList(bits: (i: number) => boolean, nbits: number): string {
  const out: string[] = [];
  for (let i = 0; i < nbits; i++) {
    if (!bits(i)) continue;
    let j = i;
    while (j + 1 < nbits && bits(j + 1)) j++;
    out.push(i === j ? `${i}` : `${i}-${j}`);
    i = j;
  }
  return out.join(",");
}

/** Pending signals queued by t's user (SigQ's first number; a per-user count in Linux). */
function queuedSignals(k: Kernel, uid: number): number {
  let n = 0;
  // Every queued instance counts; a pending bit without a queue entry (SIGKILL to a dying group) counts once.
  const queued = (s: SigSet, q: SigQueue | null): number => {
    let c = popcount(s.lo) + popcount(s.hi);
    if (q) for (const infos of q.values()) c += Math.max(0, infos.length - 1);
    return c;
  };
  for (const x of k.tasks.values()) {
    if (x.uid !== uid) continue;
    n += queued(x.pending, x.sigq);
    if (x === x.signal.leader) n += queued(x.signal.sharedPending, x.signal.sharedSigq);
  }
  return n;
}

function popcount(w: number): number {
  let n = 0;
  for (let v = w >>> 0; v !== 0; v = (v & (v - 1)) >>> 0) n++;
  return n;
}

/** Umask: %#04o. */
const octal4 = (m: number): string => (m === 0 ? "0" : "0" + m.toString(8)).padStart(4, "0");
/** A Vm* line: name, tab, the kB value right-aligned in 8, " kB". */
const kb = (name: string, kB: number): string => `${name}:\t${String(kB).padStart(8)} kB`;
/** Pages to kB. */
const pk = (pages: number): number => pages * (PAGE_SIZE / 1024);
/** Name: as proc_task_name(escape=true) prints it. */
/** proc_task_name(escape): seq_escape_str(ESCAPE_SPACE | ESCAPE_SPECIAL, only "\n\\"): a newline and a backslash, nothing else. */
const escapeName = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

/** FDSize: the fd table's capacity (a power of two, at least 64). */
function fdSize(t: Task): number {
  if (exited(t)) return 0;
  let n = 64;
  while (n < t.files.fds.length) n *= 2;
  return n;
}

function statusIdentity(k: Kernel, t: Task): string[] {
  const id = (n: number): string => `${n}\t${n}\t${n}\t${n}`;
  const gid = t.uid; // one group per user here
  const lines = [`Name:\t${escapeName(t.comm)}`];
  if (!exited(t)) lines.push(`Umask:\t${octal4(t.fs.umask)}`);
  lines.push(
    `State:\t${stateName(t)}`, `Tgid:\t${t.tgid}`, "Ngid:\t0", `Pid:\t${t.pid}`, `PPid:\t${ppidOf(t)}`, "TracerPid:\t0",
    `Uid:\t${id(t.uid)}`, `Gid:\t${id(gid)}`, `FDSize:\t${fdSize(t)}`, "Groups:\t ",
    `NStgid:\t${t.tgid}`, `NSpid:\t${t.pid}`, `NSpgid:\t${t.signal.pgid}`, `NSsid:\t${t.signal.sid}`,
    `Kthread:\t${t.flags & PF_KTHREAD ? 1 : 0}`,
  );
  return lines;
}

function statusMemory(t: Task): string[] {
  if (!t.mm) return [];
  const m = memOf(t.mm);
  const rss = m.file + m.anon;
  return [
    kb("VmPeak", pk(m.size)), kb("VmSize", pk(m.size)), kb("VmLck", 0), kb("VmPin", 0), kb("VmHWM", pk(rss)), kb("VmRSS", pk(rss)),
    kb("RssAnon", pk(m.anon)), kb("RssFile", pk(m.file)), kb("RssShmem", 0), kb("VmData", pk(m.data)), kb("VmStk", pk(m.stk)),
    kb("VmExe", pk(m.exe)), kb("VmLib", pk(m.lib)), kb("VmPTE", m.pteKb), kb("VmSwap", 0),
    kb("HugetlbPages", 0), "CoreDumping:\t0", "THP_enabled:\t1", "untag_mask:\t0xffffffffffffffff",
  ];
}

function statusSignals(k: Kernel, t: Task): string[] {
  const { ign, cgt } = sigIgnCatch(t);
  const cap = t.uid === 0 ? CAP_FULL : CAP_NONE;
  return [
    `Threads:\t${nrThreads(t)}`, `SigQ:\t${queuedSignals(k, t.uid)}/${Math.floor(k.params.threadsMax / 2)}`,
    `SigPnd:\t${t.pending.hex()}`, `ShdPnd:\t${t.signal.sharedPending.hex()}`, `SigBlk:\t${t.blocked.hex()}`,
    `SigIgn:\t${ign.hex()}`, `SigCgt:\t${cgt.hex()}`,
    `CapInh:\t${CAP_NONE}`, `CapPrm:\t${cap}`, `CapEff:\t${cap}`, `CapBnd:\t${CAP_FULL}`, `CapAmb:\t${CAP_NONE}`,
    "NoNewPrivs:\t0", "Seccomp:\t0", "Seccomp_filters:\t0",
    "Speculation_Store_Bypass:\tthread vulnerable", "SpeculationIndirectBranch:\tconditional enabled",
  ];
}

function statusCpus(k: Kernel, t: Task): string[] {
  const n = k.params.cpus;
  const mask = t.cpusAllowed;
  const allowed = (i: number): boolean => mask === null || mask[i] === 1;
  const node0 = (i: number): boolean => i === 0;
  return [
    `Cpus_allowed:\t${bitmapHex(allowed, n)}`, `Cpus_allowed_list:\t${bitmapList(allowed, n)}`,
    `Mems_allowed:\t${bitmapHex(node0, MAX_NUMNODES)}`, "Mems_allowed_list:\t0",
    `voluntary_ctxt_switches:\t${t.nvcsw}`, `nonvoluntary_ctxt_switches:\t${t.nivcsw}`,
  ];
}

/**
 * /proc/<pid>/status in the 6.x line order; with `tid`, /proc/<pid>/task/<tid>/status.
 * A zombie has no Umask or Vm* lines (its mm and fs are gone) and FDSize 0.
 *
 * @example
 * procStatus(k, 3)?.split("\n")[2] // "State:\tS (sleeping)"
 */
export function procStatus(k: Kernel, pid: number, tid?: number): string | undefined {
  const t = lookup(k, tid ?? pid);
  if (!t || (tid !== undefined && t.tgid !== pid)) return undefined;
  const lines = [...statusIdentity(k, t), ...statusMemory(t), ...statusSignals(k, t), ...statusCpus(k, t)];
  return lines.join("\n") + "\n";
}

/** /proc/<pid>/statm: size resident shared text lib data dt, in pages. */
export function procStatm(k: Kernel, pid: number): string | undefined {
  const t = lookup(k, pid);
  if (!t) return undefined;
  const m = memOf(t.mm);
  return `${m.size} ${m.file + m.anon} ${m.file} ${m.exe} 0 ${m.data + m.stk} 0\n`;
}

// ---------------------------------------------------------------------------
// The scheduler's debug files (kernel/sched/debug.c)
// ---------------------------------------------------------------------------

/** SPLIT_NS: ns as "%Ld.%06ld" (ms and ns); like nsec_high(), a value above -1 ms prints without its sign. */
export function splitNs(ns: number): string {
  const v = Math.trunc(ns);
  const a = Math.abs(v);
  const hi = Math.floor(a / 1e6);
  return `${v < 0 && hi > 0 ? "-" : ""}${hi}.${String(a % 1e6).padStart(6, "0")}`;
}

/** The fair queue of a CPU, EEVDF or CFS, as the classes keep it in rq.cfs (null without a fair class). */
function fairQueue(k: Kernel, cpu: number): (FairRq & { avgVruntime?: number; nrDelayed?: number }) | null {
  const q = k.rqs[cpu]!.cfs as (FairRq & { avgVruntime?: number }) | null;
  return q !== null && typeof q === "object" && "tree" in q ? q : null;
}

const isEevdf = (k: Kernel): boolean => k.classes.some((c) => c.name === "eevdf");

/** The task's fair entity, if it has one (a task that was never fair has none). */
function entityOf(t: Task): SchedEntity | null {
  const se = t.se as SchedEntity | null;
  return se !== null && typeof se === "object" && "vruntime" in se ? se : null;
}

/**
 * What a ticking kernel would show for a task that is running now: its run
 * time and vruntime as of the last tick (update_curr at each tick). TaskLab
 * accounts a running task only when something happens on its CPU, so a task
 * alone on a CPU may not have been charged for a while; this works out the
 * charge without making it (observers change nothing). Other tasks: as kept.
 */
function asOfTick(k: Kernel, t: Task): { sumExec: number; vruntime: number; deadline: number } {
  const se = entityOf(t);
  const rq = k.rqs[t.cpu];
  const tick = Math.floor(k.now / k.tickNs) * k.tickNs;
  let sumExec = t.sumExecRuntime;
  let vruntime = se?.vruntime ?? 0;
  let deadline = se?.deadline ?? 0;
  if (rq !== undefined && rq.curr === t && tick > t.execStart) {
    sumExec += tick - t.execStart;
    if (se !== null && t.sclass === k.classOfPolicy[SCHED_NORMAL]) {
      vruntime += calcDeltaFair(tick - t.execStart, se.weight);
      // update_deadline at that tick: a request used up is renewed from where the task stands
      if (isEevdf(k) && vruntime >= deadline) deadline = vruntime + calcDeltaFair(se.slice, se.weight);
    }
  }
  return { sumExec, vruntime, deadline };
}

/** scale_load(): weights on the 1024 scale, shifted by SCHED_FIXEDPOINT_SHIFT as a 64-bit kernel keeps them. */
const scaleLoad = (w: number): number => w * 1024;

/**
 * /proc/<pid>/sched (proc_sched_show_task) with schedstats off, the default
 * (kernel.sched_schedstats = 0). The PELT lines (se.avg.*) and uclamp lines
 * are left out, TaskLab keeps no load tracking; clock-delta, the cost of
 * reading the clock twice, is 0 in simulated time. Under EEVDF a normal or
 * batch task's se.slice is shown, as kernels since 6.14 (and the 6.6 and
 * 6.12 stable series) print it.
 */
export function procSched(k: Kernel, pid: number, tid?: number): string | undefined {
  const t = lookup(k, tid ?? pid);
  if (!t || (tid !== undefined && t.tgid !== pid)) return undefined;
  const se = entityOf(t);
  const out = [`${t.comm} (${t.pid}, #threads: ${nrThreads(t)})`, "-".repeat(67)];
  const p = (name: string, v: number): void => {
    out.push(`${name.padEnd(45)}:${String(Math.trunc(v)).padStart(21)}`);
  };
  const pn = (name: string, ns: number): void => {
    const [hi, lo] = splitNs(ns).split(".");
    out.push(`${name.padEnd(45)}:${hi!.padStart(14)}.${lo}`);
  };
  const now = asOfTick(k, t);
  pn("se.exec_start", Math.max(t.execStart, k.rqs[t.cpu]?.curr === t ? Math.floor(k.now / k.tickNs) * k.tickNs : 0));
  pn("se.vruntime", now.vruntime);
  pn("se.sum_exec_runtime", now.sumExec);
  p("se.nr_migrations", t.nrMigrations);
  p("nr_switches", t.nvcsw + t.nivcsw);
  p("nr_voluntary_switches", t.nvcsw);
  p("nr_involuntary_switches", t.nivcsw);
  p("se.load.weight", scaleLoad(se?.weight ?? weightOf(t)));
  p("policy", t.policy);
  p("prio", t.prio);
  const dl = t.dl as DlEntity | null;
  if (t.policy === SCHED_DEADLINE && dl instanceof DlEntity) {
    // update_curr_dl at each tick takes the run time from the budget; as of the last tick for a running task.
    p("dl.runtime", dl.runtime - (now.sumExec - t.sumExecRuntime));
    p("dl.deadline", dl.deadline);
  } else if ((t.policy === SCHED_NORMAL || t.policy === SCHED_BATCH) && se !== null && isEevdf(k)) {
    p("se.slice", se.slice); // fair_policy(): normal and batch (6.14, and 6.6.y / 6.12.y stable); not in 5.x
  }
  p("clock-delta", 0);
  return out.join("\n") + "\n";
}

/** INITIAL_JIFFIES: jiffies start 300 s before wrapping a 32-bit counter, so wrap bugs show early. */
function jiffiesAt(k: Kernel, ns: number): number {
  return 2 ** 32 - 300 * k.params.hz + Math.floor(ns / k.tickNs);
}

/**
 * /sys/kernel/debug/sched/debug (/proc/sched_debug before 5.13): the header,
 * then per CPU its runqueue, its fair, realtime and deadline queues and every
 * task whose CPU it is. Under EEVDF the layout of 6.12 (left_deadline,
 * eligibility, deadline and slice columns); under CFS that of 5.x (tree-key,
 * min_vruntime, spread). Left out: sysctl_sched_features (a bit mask of
 * Linux's full feature list), the PELT averages, schedstats (printed as 0, as
 * the kernel does with them off) and the cgroup path column.
 */
export function schedDebug(k: Kernel): string {
  const eevdf = isEevdf(k);
  const o: string[] = [];
  const hdr = (name: string, v: string): void => {
    o.push(`${name.padEnd(40)}: ${v}`);
  };
  const field = (name: string, v: string | number): void => {
    o.push(`  .${name.padEnd(30)}: ${v}`);
  };
  o.push(`Sched Debug Version: v0.11, ${eevdf ? "6.12.0" : "5.15.0"}-tasklab #1`);
  hdr("ktime", splitNs(k.now));
  hdr("sched_clk", splitNs(k.now));
  hdr("cpu_clk", splitNs(k.now));
  hdr("jiffies", String(jiffiesAt(k, k.now)));
  o.push("", "sysctl_sched");
  const sysctl = (name: string, v: string): void => {
    o.push(`  .${name.padEnd(40)}: ${v}`);
  };
  const factor = k.params.tunableScaling === 0 ? 1 : k.params.tunableScaling === 2 ? Math.min(k.rqs.length, 8) : 1 + Math.floor(Math.log2(Math.min(k.rqs.length, 8)));
  if (eevdf) sysctl("sysctl_sched_base_slice", splitNs(k.params.baseSlice * factor));
  else {
    sysctl("sysctl_sched_latency", splitNs(k.params.schedLatency * factor));
    sysctl("sysctl_sched_min_granularity", splitNs(k.params.minGranularity * factor));
    sysctl("sysctl_sched_wakeup_granularity", splitNs(k.params.wakeupGranularity * factor));
    sysctl("sysctl_sched_child_runs_first", k.params.childRunsFirst ? "1" : "0");
  }
  sysctl("sysctl_sched_tunable_scaling", `${k.params.tunableScaling} (${["none", "logarithmic", "linear"][k.params.tunableScaling]})`);
  o.push("");
  const classIndex = (name: string): number => k.classes.findIndex((c) => c.name === name);
  const rtIdx = classIndex("rt");
  const dlIdx = classIndex("dl");
  for (const rq of k.rqs) {
    const cpu = rq.cpu;
    o.push(`cpu#${cpu}`);
    // 6.12 counts tasks whose dequeue is delayed in rq->nr_running; TaskLab's count leaves them out (see docs).
    let delayed = 0;
    for (let i = 0; i < rq.classDelayed.length; i++) delayed += rq.classDelayed[i]!;
    field("nr_running", rq.nrRunning + delayed);
    field("nr_switches", rq.nrSwitches);
    field("nr_uninterruptible", cpu === 0 ? k.nrUninterruptible : 0);
    const nextBalance = rq.balanceInterval > 0 ? rq.lastBalance + balanceIntervalNs(k, rq, rq.curr !== rq.idle) : k.now;
    field("next_balance", splitNs(jiffiesAt(k, nextBalance)));
    field("curr->pid", rq.curr === rq.idle ? 0 : rq.curr.pid);
    field("clock", splitNs(k.now));
    field("clock_task", splitNs(k.now));
    const q = fairQueue(k, cpu);
    if (q !== null) {
      o.push("", `cfs_rq[${cpu}]:`);
      const first = q.tree.first()?.value ?? null;
      const last = q.tree.last()?.value ?? null;
      // curr as of the last tick (see asOfTick): it moves V and, when it is the smallest, the floor.
      const c = q.curr;
      const cNow = c !== null && c.onRq ? asOfTick(k, c.task).vruntime : 0;
      const shift = c !== null && c.onRq ? cNow - c.vruntime : 0;
      if (eevdf) {
        const root = q.tree.root;
        const left = root !== null ? root.aug : -1;
        const right = last !== null ? last.vruntime : -1;
        field("left_deadline", splitNs(first !== null ? first.deadline : -1));
        field("left_vruntime", splitNs(left));
        const e = q as EevdfRq;
        const load = e.avgLoad + (c !== null && c.onRq ? c.weight : 0);
        const floor = Math.max(q.minVruntime, Math.min(c !== null && c.onRq ? cNow : Infinity, root !== null ? root.aug : Infinity));
        field("min_vruntime", splitNs(c !== null && c.onRq ? floor : q.minVruntime));
        field("avg_vruntime", splitNs(avgVruntime(e) + (load > 0 && c !== null ? (shift * c.weight) / load : 0)));
        field("right_vruntime", splitNs(right));
        field("spread", splitNs(right - left));
        field("nr_running", q.nrRunning);
        field("h_nr_running", q.nrRunning); // 6.12: delayed entities count here, and in h_nr_delayed
        field("h_nr_delayed", q.nrDelayed ?? 0);
      } else {
        const minV = first !== null ? first.vruntime : -1;
        const maxV = last !== null ? last.vruntime : -1;
        const q0 = fairQueue(k, 0)!;
        field("MIN_vruntime", splitNs(minV));
        field("min_vruntime", splitNs(q.minVruntime));
        field("max_vruntime", splitNs(maxV));
        field("spread", splitNs(maxV - minV));
        field("spread0", splitNs(q.minVruntime - q0.minVruntime));
        field("nr_running", q.nrRunning);
      }
      field("load", scaleLoad(q.load));
    }
    if (rtIdx >= 0) {
      o.push("", `rt_rq[${cpu}]:`);
      // As of now: the running RT or deadline task's run so far charged, periods ended since decayed (read-only).
      const c = rq.curr;
      const charged = c !== rq.idle && (c.sclass === rtIdx || c.sclass === k.classOfPolicy[SCHED_DEADLINE]);
      const rt = rtThrottleState(rq, k.now, charged ? c.execStart : undefined);
      field("rt_nr_running", rq.classNr[rtIdx] ?? 0);
      field("rt_throttled", rt?.throttled ? 1 : 0);
      field("rt_time", splitNs(rt?.rtTime ?? 0));
      field("rt_runtime", splitNs(k.params.rtRuntime < 0 ? -1 : k.params.rtRuntime));
    }
    if (dlIdx >= 0) {
      o.push("", `dl_rq[${cpu}]:`);
      const bw = dlBandwidth(k);
      field("dl_nr_running", rq.classNr[dlIdx] ?? 0);
      field("dl_bw->bw", bw.limit < 0 ? -1 : bw.limit / k.rqs.length);
      field("dl_bw->total_bw", bw.total);
    }
    o.push("", "runnable tasks:");
    if (eevdf) {
      o.push(
        " S            task   PID       vruntime   eligible    deadline             slice          sum-exec      switches  prio         wait-time        sum-sleep       sum-block",
      );
      o.push("-".repeat(163));
    } else {
      o.push(" S            task   PID         tree-key  switches  prio     wait-time             sum-exec        sum-sleep");
      o.push("-".repeat(109));
    }
    const ns = (v: number): string => {
      const [hi, lo] = splitNs(v).split(".");
      return `${hi!.padStart(9)}.${lo}`;
    };
    const tasks = [...k.tasks.values()].filter((t) => t.cpu === cpu).sort((a, b) => a.pid - b.pid);
    for (const t of tasks) {
      const se = entityOf(t);
      const shown = asOfTick(k, t);
      const mark = rq.curr === t ? ">R" : ` ${stateLetter(t)}`;
      const switches = String(t.nvcsw + t.nivcsw).padStart(9);
      if (eevdf) {
        // entity_eligible() against this CPU's queue, queued or not, as print_task calls it
        const eligible = se !== null && q !== null ? (entityEligible(q as EevdfRq, se) ? "E" : "N") : "N";
        o.push(
          `${mark} ${t.comm.padStart(15)} ${String(t.pid).padStart(5)} ${ns(shown.vruntime)}   ${eligible}   ${ns(shown.deadline)} ` +
            `${t.fairSlice ? "S" : " "} ${ns(se?.slice ?? 0)} ${ns(shown.sumExec)} ${switches}   ${String(t.prio).padStart(5)} ` +
            `${ns(0)} ${ns(0)} ${ns(0)}`,
        );
      } else {
        o.push(
          `${mark} ${t.comm.padStart(15)} ${String(t.pid).padStart(5)} ${ns(shown.vruntime)} ${switches} ${String(t.prio).padStart(5)} ` +
            `${ns(0)} ${ns(shown.sumExec)} ${ns(0)}`,
        );
      }
    }
    o.push("");
  }
  return o.join("\n") + "\n";
}

/** A path under procfs or debugfs: a file read with read(2), opened read-only. */
export function isProcPath(path: string): boolean {
  return path.startsWith("/proc/") || path.startsWith("/sys/");
}

/** /proc/self and /proc/thread-self are `t`'s own, resolved as opening the path resolves the link. */
export function resolveProcSelf(t: Task, path: string): string {
  return path.replace(/^\/proc\/self(?=\/|$)/, `/proc/${t.tgid}`).replace(/^\/proc\/thread-self(?=\/|$)/, `/proc/${t.tgid}/task/${t.pid}`);
}

/** /proc/<pid>/<file> and /proc/<pid>/task/<tid>/<file>, pids written as the kernel writes them (no leading zero). */
const PROC_PID_FILE = /^\/proc\/([1-9]\d*)(?:\/task\/([1-9]\d*))?\/(stat|status|statm|sched|comm)$/;

/** The task a /proc/<pid>/... path is about (its inode holds that pid), or null for other files. */
export function procPathTask(k: Kernel, path: string): Task | null {
  const m = PROC_PID_FILE.exec(path);
  return m === null ? null : (lookup(k, Number(m[2] ?? m[1])) ?? null);
}

/**
 * Files the simulated procfs and debugfs serve: the text of `path` as `t`
 * reads it (null `t`: a reader outside the machine, for whom /proc/self is
 * nothing), or null if there is none (ENOENT).
 */
export function readProcPath(k: Kernel, t: Task | null, path: string): string | null {
  if (t !== null) path = resolveProcSelf(t, path);
  if (path === "/proc/loadavg") return procLoadavg(k);
  if (path === "/sys/kernel/debug/sched/debug") return schedDebug(k);
  const m = PROC_PID_FILE.exec(path);
  if (m === null) return null;
  const pid = Number(m[1]);
  const tid = m[2] !== undefined ? Number(m[2]) : undefined;
  const leader = lookup(k, pid);
  if (!leader || leader.tgid !== pid) return null; // /proc/<tid> of a non-leader thread is hidden from listings but exists; kept simple
  const file = m[3]!;
  let text: string | undefined;
  if (file === "stat") text = tid === undefined ? procStat(k, pid, t) : procTaskStat(k, pid, tid, t);
  else if (file === "status") text = procStatus(k, pid, tid);
  else if (file === "statm") text = tid === undefined || lookup(k, tid)?.tgid === pid ? procStatm(k, pid) : undefined; // threads share the mm
  else if (file === "sched") text = procSched(k, pid, tid);
  else {
    const x = lookup(k, tid ?? pid);
    text = x && (tid === undefined || x.tgid === pid) ? `${x.comm}\n` : undefined;
  }
  return text ?? null;
}

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
import { loadAverages, formatLoad } from "../kernel/sched/loadavg.ts";
import type { Kernel } from "../kernel/kernel.ts";
import {
  type Task, type Mm, TASK_RUNNING, PF_EXITING, PF_KTHREAD, SIGNAL_GROUP_EXIT, SIGNAL_STOP_STOPPED,
} from "../kernel/task/task.ts";
import { SigSet } from "../kernel/signal/signals.ts";
import type { SigQueue } from "../kernel/signal/signal.ts";
import { stateLetter, stateName } from "../kernel/task/state.ts";
import { USER_HZ } from "../kernel/param.ts";

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
export function statFields(k: Kernel, t: Task, whole: boolean): (number | string)[] {
  const sg = t.signal;
  const { utime, stime } = whole ? groupTimes(k, t) : taskTimes(k, t);
  const threads = nrThreads(t);
  const { ign, cgt } = sigIgnCatch(t);
  const mem = memOf(t.mm);
  const wchan = !whole || threads < 2 ? Number(t.state !== TASK_RUNNING) : 0;
  return [
    t.pid, `(${t.comm})`, stateLetter(t), ppidOf(t), sg.pgid, sg.sid, ttyNr(sg.tty), tpgidOf(k, t),
    t.flags >>> 0, 0, 0, 0, 0, // flags, minflt, cminflt, majflt, cmajflt
    nsToTicks(utime), nsToTicks(stime), nsToTicks(sg.cutime), nsToTicks(sg.cstime),
    t.prio - 100, t.nice, threads, 0, nsToTicks(t.startTime),
    mem.size * PAGE_SIZE, mem.file + mem.anon, RLIM_INFINITY,
    0, 0, 0, 0, 0, // startcode, endcode, startstack, kstkesp, kstkeip
    low31(t.pending), low31(t.blocked), low31(ign), low31(cgt),
    wchan, 0, 0, t.exitSignal, t.cpu, t.rtPriority, t.policy,
    0, 0, 0, // delayacct_blkio_ticks, guest_time, cguest_time
    0, 0, 0, 0, 0, 0, 0, // start_data .. env_end
    exitCodeOf(t, whole),
  ];
}

/**
 * /proc/<pid>/stat, with its trailing newline; undefined when no such pid.
 *
 * @example
 * procStat(k, 8) // "8 (forker) Z 2 1 1 0 -1 68 0 0 0 0 3 0 0 0 20 0 1 0 0 0 0 18446744073709551615 0 ... 0 1792\n"
 */
export function procStat(k: Kernel, pid: number): string | undefined {
  const t = lookup(k, pid);
  return t ? statFields(k, t, true).join(" ") + "\n" : undefined;
}

/** /proc/<pid>/task/<tid>/stat: one thread's own times and state. */
export function procTaskStat(k: Kernel, pid: number, tid: number): string | undefined {
  const t = lookup(k, tid);
  if (!t || t.tgid !== pid) return undefined;
  return statFields(k, t, false).join(" ") + "\n";
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
 * /proc/loadavg: `L1 L5 L15 running/total last_pid`. The kernel keeps no load
 * averages yet (calc_global_load), so they print 0.00. total counts every task,
 * zombies included (nr_threads).
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
const escapeName = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t");

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

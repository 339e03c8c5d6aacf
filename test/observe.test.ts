import { describe, expect, it } from "vitest";
import { Machine } from "../src/user/machine.ts";
import { program } from "../src/user/program.ts";
import { ms, sec } from "../src/sim/units.ts";
import { CLONE_THREAD_FLAGS, SIGINT, SIGUSR1, SIGUSR2, SIG_BLOCK } from "../src/user/libc.ts";
import type { TraceEvent } from "../src/sim/trace.ts";
import {
  ps, psRows, formatPs, formatCpuTime, pstree, procStat, procTaskStat, procStatus, procStatm, procLoadavg, procPidList,
  procTaskList, ttyNr, eventLogLines, formatEvent, fnv1a64, hashEvents, TraceRecorder,
} from "../src/observe/index.ts";

/** Fields of a /proc stat line, index 0 = field 1; comm without parentheses. */
function fields(stat: string): string[] {
  expect(stat.endsWith("\n")).toBe(true);
  const open = stat.indexOf("(");
  const close = stat.lastIndexOf(")");
  return [stat.slice(0, open - 1), stat.slice(open + 1, close), ...stat.slice(close + 2, -1).split(" ")];
}
const field = (stat: string, n: number): string => fields(stat)[n - 1]!;

/** A parent that forks a child computing 30 ms then exiting 7, while the parent sleeps 100 ms and then reaps it. */
const forker = program("forker", function* (sys) {
  const pid = yield* sys.fork();
  if (pid === 0) {
    yield* sys.compute(ms(30));
    return 7;
  }
  yield* sys.sleep(ms(100));
  yield* sys.wait();
  yield* sys.sleep(ms(100));
  return 0;
});

const sleeper = program("sleeper", function* (sys) {
  yield* sys.sleep(sec(1));
});

const threaded = program("thr", function* (sys) {
  yield* sys.clone(CLONE_THREAD_FLAGS, function* (sys) {
    yield* sys.compute(ms(20));
    yield* sys.sleep(sec(1));
  });
  yield* sys.compute(ms(10));
  yield* sys.sleep(sec(1));
});

/** Pid of the first live task named `comm` other than `not`. */
function pidOf(m: Machine, comm: string, not = -1): number {
  for (const t of m.kernel.tasks.values()) if (t.comm === comm && t.pid !== not && t.pid === t.tgid) return t.pid;
  throw new Error(`no ${comm}`);
}

describe("zombie: ps and /proc", () => {
  const m = new Machine({ cpus: 2 });
  const parent = m.spawn(forker);
  m.run(ms(50));
  const child = pidOf(m, "forker", parent);

  it("ps shows the unreaped child as Z <defunct>", () => {
    const row = psRows(m.kernel).find((r) => r.pid === child)!;
    expect(row).toMatchObject({ state: "Z", stat: "Z", ppid: parent, command: "forker <defunct>", tty: "?" });
    expect(ps(m.kernel)).toContain(" Z      0  19 00:00:00 forker <defunct>\n");
  });

  it("/proc/<pid>/stat of a zombie has 52 fields, state Z and the wait status as exit_code", () => {
    const st = procStat(m.kernel, child)!;
    const f = fields(st);
    expect(f).toHaveLength(52);
    expect(f[0]).toBe(String(child));
    expect(f[1]).toBe("forker");
    expect(field(st, 3)).toBe("Z");
    expect(field(st, 4)).toBe(String(parent));
    expect(field(st, 7)).toBe("0"); // no tty
    expect(field(st, 8)).toBe("-1"); // tpgid
    expect(field(st, 14)).toBe("3"); // 30 ms of user time = 3 ticks
    expect(field(st, 15)).toBe("0");
    expect(field(st, 18)).toBe("20");
    expect(field(st, 19)).toBe("0");
    expect(field(st, 20)).toBe("1");
    expect(field(st, 23)).toBe("0"); // no mm any more
    expect(field(st, 38)).toBe("17"); // exit_signal SIGCHLD
    expect(field(st, 52)).toBe(String(7 << 8));
  });

  it("/proc/<pid>/status of a zombie: State Z (zombie), no Umask or Vm lines", () => {
    const s = procStatus(m.kernel, child)!;
    expect(s.startsWith("Name:\tforker\nState:\tZ (zombie)\n")).toBe(true);
    expect(s).toContain(`\nPPid:\t${parent}\n`);
    expect(s).not.toContain("Umask");
    expect(s).not.toContain("VmSize");
    expect(s).toContain("\nFDSize:\t0\n");
  });

  it("after the parent reaps it the pid is gone and the parent's cutime holds its 3 ticks", () => {
    expect(procPidList(m.kernel)).toContain(child);
    m.run(ms(150));
    expect(procStat(m.kernel, child)).toBeUndefined();
    expect(procStatus(m.kernel, child)).toBeUndefined();
    expect(procPidList(m.kernel)).not.toContain(child);
    expect(field(procStat(m.kernel, parent)!, 16)).toBe("3");
  });
});

describe("ps STAT flags and priority columns", () => {
  const m = new Machine({ cpus: 2 });
  const leader = m.spawn(program("leader", function* (sys) {
    yield* sys.setsid();
    yield* sys.sleep(sec(1));
  }));
  const niced = m.spawn(sleeper, { nice: 5 });
  const boosted = m.spawn(sleeper, { nice: -5 });
  const fifo = m.spawn(sleeper, { policy: 1, rtPriority: 10 });
  const thr = m.spawn(threaded);
  m.run(ms(50));
  const row = (pid: number) => psRows(m.kernel).find((r) => r.pid === pid)!;

  it("setsid gives s, nice 5 gives N, nice -5 gives <, threads give l", () => {
    expect(row(leader).stat).toBe("Ss");
    expect(row(niced).stat).toBe("SN");
    expect(row(boosted).stat).toBe("S<");
    expect(row(thr).stat).toBe("Sl");
    expect(row(1).stat).toBe("Ss"); // init leads session 1
  });

  it("NI and PRI follow procps: nice and 39 - priority; RT prints NI -", () => {
    expect(row(niced)).toMatchObject({ ni: "5", priority: 25, pri: 14, cls: "TS", rtprio: "-" });
    expect(row(boosted)).toMatchObject({ ni: "-5", priority: 15, pri: 24 });
    expect(row(fifo)).toMatchObject({ ni: "-", priority: -11, pri: 50, cls: "FF", rtprio: "10" });
  });

  it("stat fields 18/19, 40/41 match the kernel's priority conversions", () => {
    const n = procStat(m.kernel, niced)!;
    expect([field(n, 18), field(n, 19)]).toEqual(["25", "5"]);
    const f = procStat(m.kernel, fifo)!;
    expect([field(f, 18), field(f, 19), field(f, 40), field(f, 41)]).toEqual(["-11", "0", "10", "1"]);
  });

  it("a two-thread process reports num_threads 2, one row per thread with -L, and per-thread stat", () => {
    const st = procStat(m.kernel, thr)!;
    expect(field(st, 20)).toBe("2");
    expect(field(st, 14)).toBe("3"); // 10 ms + 20 ms of the two threads
    expect(field(st, 35)).toBe("0"); // wchan is hidden for multi-threaded whole-process stat
    const tids = procTaskList(m.kernel, thr)!;
    expect(tids).toHaveLength(2);
    const tid = tids[1]!;
    const ts = procTaskStat(m.kernel, thr, tid)!;
    expect(fields(ts)).toHaveLength(52);
    expect([field(ts, 1), field(ts, 14), field(ts, 20), field(ts, 38)]).toEqual([String(tid), "2", "2", "-1"]);
    expect(procTaskStat(m.kernel, thr, 1)).toBeUndefined();
    expect(procStatus(m.kernel, thr)).toContain("\nThreads:\t2\n");
    const rows = psRows(m.kernel, { threads: true }).filter((r) => r.pid === thr);
    expect(rows.map((r) => [r.lwp, r.nlwp, r.stat])).toEqual([[thr, 2, "Sl"], [tid, 2, "Sl"]]);
    expect(ps(m.kernel, { threads: true }).split("\n")[0]).toBe("  PID   LWP  PPID  PGID   SID TTY      STAT NLWP  NI PRI     TIME COMMAND");
  });

  it("formatPs prints the procps header and aligned columns", () => {
    const text = formatPs(psRows(m.kernel, { pids: [1, niced, fifo] }));
    expect(text).toBe(
      [
        "  PID  PPID  PGID   SID TTY      STAT  NI PRI     TIME COMMAND",
        "    1     0     1     1 ?        Ss     0  19 00:00:00 init",
        `    ${niced}     1     1     1 ?        SN     5  14 00:00:00 sleeper`,
        `    ${fifo}     1     1     1 ?        S      -  50 00:00:00 sleeper`,
        "",
      ].join("\n"),
    );
    expect(() => formatPs([], ["nope" as never])).toThrow(/unknown ps column "nope"/);
  });

  it("TIME is [DD-]HH:MM:SS", () => {
    expect(formatCpuTime(0)).toBe("00:00:00");
    expect(formatCpuTime(3661)).toBe("01:01:01");
    expect(formatCpuTime(2 * 86400 + 59)).toBe("2-00:00:59");
  });
});

describe("controlling terminal", () => {
  it("tty_nr uses new_encode_dev; tpgid and + come from the terminal's foreground group", () => {
    expect(ttyNr(null)).toBe(0);
    expect(ttyNr("pts/0")).toBe(136 << 8);
    expect(ttyNr("pts/3")).toBe((136 << 8) | 3);
    expect(ttyNr("pts/300")).toBe((300 & 0xff) | (136 << 8) | ((300 & ~0xff) << 12));
    expect(ttyNr("tty1")).toBe((4 << 8) | 1);
    const m = new Machine({ cpus: 1 });
    const pid = m.spawn(program("sh", function* (sys) {
      yield* sys.setsid();
      yield* sys.sleep(sec(1));
    }));
    m.run(ms(1));
    // The kernel has no way yet to acquire a terminal: the test attaches one by hand.
    m.kernel.task(pid)!.signal.tty = "pts/0";
    m.kernel.ttyPgrp.set("pts/0", pid);
    const st = procStat(m.kernel, pid)!;
    expect([field(st, 7), field(st, 8)]).toEqual([String(136 << 8), String(pid)]);
    expect(psRows(m.kernel, { pids: [pid] })[0]).toMatchObject({ tty: "pts/0", stat: "Ss+", tpgid: pid });
  });
});

describe("/proc/<pid>/status", () => {
  const m = new Machine({ cpus: 4 });
  const pid = m.spawn(program("sig", function* (sys) {
    yield* sys.sigaction(SIGUSR1, { handler: function* () {} });
    yield* sys.sigaction(SIGINT, { handler: "ign" });
    yield* sys.sigprocmask(SIG_BLOCK, [SIGUSR2]);
    yield* sys.kill(0, SIGUSR2);
    yield* sys.sleep(sec(1));
  }), { affinity: [0, 2, 3] });
  m.run(ms(5));
  const status = procStatus(m.kernel, pid)!;
  const value = (key: string): string => status.split("\n").find((l) => l.startsWith(`${key}:`))!.split(":\t")[1]!;

  it("has the 6.x lines in order", () => {
    const keys = status.trimEnd().split("\n").map((l) => l.split(":")[0]);
    expect(keys).toEqual([
      "Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid", "Uid", "Gid", "FDSize", "Groups",
      "NStgid", "NSpid", "NSpgid", "NSsid", "Kthread", "VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS",
      "RssAnon", "RssFile", "RssShmem", "VmData", "VmStk", "VmExe", "VmLib", "VmPTE", "VmSwap", "HugetlbPages",
      "CoreDumping", "THP_enabled", "untag_mask", "Threads", "SigQ", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt",
      "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters",
      "Speculation_Store_Bypass", "SpeculationIndirectBranch", "Cpus_allowed", "Cpus_allowed_list", "Mems_allowed",
      "Mems_allowed_list", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches",
    ]);
  });

  it("formats identity, memory, signal and CPU lines as Linux does", () => {
    expect(status.startsWith("Name:\tsig\nUmask:\t0022\nState:\tS (sleeping)\n")).toBe(true);
    expect(value("Uid")).toBe("1000\t1000\t1000\t1000");
    expect(status).toContain("\nGroups:\t \n");
    expect(status).toContain("\nVmSize:\t    4096 kB\n");
    expect(value("SigPnd")).toBe("0000000000000000");
    expect(value("ShdPnd")).toBe("0000000000000800"); // SIGUSR2 (12) pending for the process, blocked
    expect(value("SigBlk")).toBe("0000000000000800");
    expect(value("SigIgn")).toBe("0000000000000002"); // SIGINT
    expect(value("SigCgt")).toBe("0000000000000200"); // SIGUSR1
    expect(value("SigQ")).toMatch(/^1\/\d+$/);
    expect(value("Cpus_allowed")).toBe("d");
    expect(value("Cpus_allowed_list")).toBe("0,2-3");
    expect(value("Mems_allowed")).toBe("00000000,00000001");
    expect(Number(value("voluntary_ctxt_switches"))).toBeGreaterThanOrEqual(1);
  });

  it("stat fields 31-34 give the first 31 signals in decimal", () => {
    const st = procStat(m.kernel, pid)!;
    expect([field(st, 31), field(st, 32), field(st, 33), field(st, 34)]).toEqual(["0", "2048", "2", "512"]);
  });

  it("statm, loadavg and the pid list", () => {
    expect(procStatm(m.kernel, pid)).toMatch(/^1024 \d+ \d+ \d+ 0 \d+ 0\n$/);
    expect(procLoadavg(m.kernel)).toBe(`0.00 0.00 0.00 0/2 ${pid}\n`);
    expect(procPidList(m.kernel)).toEqual([1, pid]);
    expect(procStat(m.kernel, 0)).toBeUndefined();
    expect(procStat(m.kernel, 999)).toBeUndefined();
  });
});

describe("CPU times in ticks", () => {
  it("count the running task's time since its last accounting without charging it", () => {
    const m = new Machine({ cpus: 1 });
    const pid = m.spawn(program("hog", function* (sys) {
      yield* sys.compute(sec(1));
    }));
    m.spawnAt(ms(250), sleeper);
    m.run(ms(500));
    const t = m.kernel.task(pid)!;
    const before = [t.utime, t.stime, t.execStart, t.sumExecRuntime];
    const st = procStat(m.kernel, pid)!;
    expect([field(st, 3), field(st, 14), field(st, 15)]).toEqual(["R", "50", "0"]);
    expect([t.utime, t.stime, t.execStart, t.sumExecRuntime]).toEqual(before);
    expect(field(procStat(m.kernel, pid + 1)!, 22)).toBe("25"); // started at 250 ms
    m.run(sec(2));
    expect(psRows(m.kernel, { pids: [pid] })).toEqual([]);
  });
});

describe("pstree", () => {
  const m = new Machine({ cpus: 2 });
  const a = m.spawn(forker);
  const c = m.spawn(threaded);
  const s = [m.spawn(sleeper), m.spawn(sleeper), m.spawn(sleeper)];
  m.run(ms(50));
  const b = pidOf(m, "forker", a);
  const tid = procTaskList(m.kernel, c)![1]!;

  it("draws children in pid order with pids, threads in braces", () => {
    expect(pstree(m.kernel, 1, { pids: true })).toBe(
      [
        `init(1)─┬─forker(${a})───forker(${b})`,
        `        ├─thr(${c})───{thr}(${tid})`,
        `        ├─sleeper(${s[0]})`,
        `        ├─sleeper(${s[1]})`,
        `        └─sleeper(${s[2]})`,
        "",
      ].join("\n"),
    );
  });

  it("compacts identical siblings without pids, and draws ASCII with -A", () => {
    expect(pstree(m.kernel)).toBe("init─┬─forker───forker\n     ├─thr───{thr}\n     └─3*[sleeper]\n");
    expect(pstree(m.kernel, 1, { ascii: true })).toBe("init-+-forker---forker\n     |-thr---{thr}\n     `-3*[sleeper]\n");
    expect(pstree(m.kernel, 1, { threads: false, noCompact: true })).toBe(
      "init─┬─forker───forker\n     ├─thr\n     ├─sleeper\n     ├─sleeper\n     └─sleeper\n",
    );
    expect(pstree(m.kernel, a)).toBe("forker───forker\n");
    expect(pstree(m.kernel, 4242)).toBe("");
  });

  it("merges identical subtrees as N*[a───b] and nests vertical lines", () => {
    const m2 = new Machine({ cpus: 2 });
    const pair = program("pair", function* (sys) {
      if ((yield* sys.fork()) === 0) yield* sys.sleep(sec(1));
      else yield* sys.sleep(sec(1));
    });
    const p1 = m2.spawn(pair);
    const p2 = m2.spawn(pair);
    const fan = m2.spawn(program("fan", function* (sys) {
      for (let i = 0; i < 2; i++) if ((yield* sys.fork()) === 0) return void (yield* sys.sleep(sec(1)));
      yield* sys.sleep(sec(1));
    }));
    m2.run(ms(10));
    expect(pstree(m2.kernel)).toBe("init─┬─2*[pair───pair]\n     └─fan───2*[fan]\n");
    const [k1, k2, [f1, f2]] = [p1, p2, fan].map((p) => [...m2.kernel.task(p)!.children].map((c) => c.pid).sort((x, y) => x - y));
    expect(pstree(m2.kernel, 1, { pids: true })).toBe(
      `init(1)─┬─pair(${p1})───pair(${k1})\n        ├─pair(${p2})───pair(${k2})\n        └─fan(${fan})─┬─fan(${f1})\n                 └─fan(${f2})\n`,
    );
  });
});

describe("event log", () => {
  const ev = {
    name: "sched_switch", ts: 3_000_000, cpu: 1, next_prio: 120, prev_comm: "forker", prev_pid: 3, prev_prio: 120,
    prev_state: "Z", next_comm: "swapper/0", next_pid: 0,
  } as TraceEvent;

  it("formats events like ftrace", () => {
    expect(formatEvent(ev)).toBe(
      "   0.003000 [001] sched_switch: prev_comm=forker prev_pid=3 prev_prio=120 prev_state=Z ==> next_comm=swapper/0 next_pid=0 next_prio=120",
    );
    expect(formatEvent({ name: "task_rename", ts: 1_500_000_000, cpu: 0, pid: 4, oldcomm: "a", newcomm: "b" })).toBe(
      "   1.500000 [000] task_rename: pid=4 oldcomm=a newcomm=b",
    );
  });

  it("writes JSON lines with name, ts, cpu first and tracepoint field order", () => {
    expect(eventLogLines([ev])).toEqual([
      '{"name":"sched_switch","ts":3000000,"cpu":1,"prev_comm":"forker","prev_pid":3,"prev_prio":120,"prev_state":"Z","next_comm":"swapper/0","next_pid":0,"next_prio":120}',
    ]);
    const sys = { name: "sys_enter", ts: 0, cpu: 0, pid: 1, id: "clone", args: [1, () => 0] } as TraceEvent;
    expect(eventLogLines([sys])[0]).toBe('{"name":"sys_enter","ts":0,"cpu":0,"pid":1,"id":"clone","args":[1,"<fn>"]}');
  });

  it("hashes with 64-bit FNV-1a", () => {
    expect(fnv1a64("")).toBe("cbf29ce484222325");
    expect(fnv1a64("a")).toBe("af63dc4c8601ec8c");
    expect(fnv1a64("foobar")).toBe("85944171f73967e8");
  });

  it("records, filters and stops", () => {
    const m = new Machine({ cpus: 2 });
    const all = new TraceRecorder(m.kernel);
    const forks = new TraceRecorder(m.kernel.trace, { names: ["sched_process_fork"] });
    const counter = new TraceRecorder(m.kernel, { keep: false });
    m.spawn(forker);
    m.run(ms(500));
    expect(forks.events.map((e) => e.name)).toEqual(["sched_process_fork", "sched_process_fork"]);
    expect(all.hash()).toBe(hashEvents(all.events));
    expect(counter.events).toEqual([]);
    expect(counter.count).toBe(all.count);
    expect(counter.hash()).toBe(all.hash());
    all.stop();
    expect(all.active).toBe(false);
    const n = all.count;
    m.spawn(sleeper);
    m.run(sec(2));
    expect(all.count).toBe(n);
    expect(counter.count).toBeGreaterThan(n);
  });
});

describe("observers change nothing", () => {
  /** One scenario, run in steps; `look` is called between steps. */
  function run(look: (m: Machine) => void): { hash: string; count: number; final: string } {
    const m = new Machine({ cpus: 2, seed: 7 });
    const rec = new TraceRecorder(m.kernel);
    m.spawn(forker);
    m.spawn(threaded, { nice: 3 });
    m.spawn(sleeper);
    for (let t = ms(5); t <= sec(2); t += ms(5)) {
      m.run(t);
      look(m);
    }
    return { hash: rec.hash(), count: rec.count, final: ps(m.kernel) + pstree(m.kernel, 1, { pids: true }) };
  }

  it("the same run gives the same trace hash with and without ps, pstree and /proc reads", () => {
    const quiet = run(() => {});
    const watched = run((m) => {
      const k = m.kernel;
      ps(k);
      ps(k, { threads: true });
      pstree(k);
      pstree(k, 1, { pids: true });
      procLoadavg(k);
      for (const pid of procPidList(k)) {
        procStat(k, pid);
        procStatus(k, pid);
        procStatm(k, pid);
        for (const tid of procTaskList(k, pid)!) procTaskStat(k, pid, tid);
      }
    });
    expect(quiet.count).toBeGreaterThan(50);
    expect(watched).toEqual(quiet);
    expect(run(() => {}).hash).toBe(quiet.hash);
  });
});

describe("event log CPU column", () => {
  it("eventcpu: events are recorded on the CPU that did the work, as ftrace's [CPU] column: a fork's sched_wakeup_new on the parent's CPU (target_cpu the child's), a kill's signal_generate on the sender's", () => {
    const m = new Machine({ cpus: 2 });
    const events: TraceEvent[] = [];
    m.kernel.trace.subscribe((e) => events.push(e));
    let parentCpu = -1;
    let childCpu = -1;
    m.spawn(
      program("p", function* (sys) {
        yield* sys.compute(1_000_000);
        const c = yield* sys.fork();
        if (c === 0) {
          yield* sys.compute(10_000_000);
          return 0;
        }
        parentCpu = m.kernel.task(yield* sys.getpid())!.cpu;
        childCpu = m.kernel.task(c)!.cpu;
        yield* sys.kill(c, 15);
        yield* sys.waitpid(c, 0);
      }),
    );
    m.run();
    expect(parentCpu).not.toBe(childCpu); // the child went to the idle CPU
    const wn = events.filter((e) => e.name === "sched_wakeup_new").at(-1) as TraceEvent & { target_cpu: number };
    expect(wn.cpu).toBe(parentCpu);
    expect(wn.target_cpu).toBe(childCpu);
    const sig = events.find((e) => e.name === "signal_generate" && (e as { sig?: number }).sig === 15)!;
    expect(sig.cpu).toBe(parentCpu);
  });
});

/**
 * The scheduler's debug files and reading /proc from programs:
 * /proc/<pid>/sched (kernel/sched/debug.c proc_sched_show_task),
 * /sys/kernel/debug/sched/debug (print_cpu, print_cfs_rq, print_rq), and
 * open() + read() on procfs as a seq_file serves it.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { createHash } from "node:crypto";
import { Machine } from "../src/user/machine.ts";
import { program } from "../src/user/program.ts";
import { procSched, schedDebug, splitNs, readProcPath } from "../src/observe/proc.ts";
import { SCHED_DEADLINE, SCHED_IDLE } from "../src/kernel/task/task.ts";
import { EBADF, ENOENT, ESRCH } from "../src/kernel/errno.ts";
import { toJsonLine } from "../src/sim/trace.ts";
import { main } from "../src/cli/main.ts";
import { formatPs, psRows, type PsRow } from "../src/observe/ps.ts";
import { pstree } from "../src/observe/pstree.ts";

const MS = 1_000_000;
const hog = program("hog", function* (sys) {
  for (;;) yield* sys.compute(1e12);
});

/** "name : value" lines of /proc/<pid>/sched as a map. */
function fields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n").slice(2)) {
    const i = line.indexOf(":");
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

describe("/proc/<pid>/sched", () => {
  it("procsched: the header, 67 dashes, then %-45s:%21Ld and %-45s:%14Ld.%06ld lines; weights scaled by 1024 (scale_load)", () => {
    const m = new Machine({ cpus: 1 });
    const a = m.spawn(hog);
    const b = m.spawn(hog, { nice: -5 });
    m.run(100 * MS);
    const text = procSched(m.kernel, b)!;
    const lines = text.split("\n");
    expect(lines[0]).toBe(`hog (${b}, #threads: 1)`);
    expect(lines[1]).toBe("-".repeat(67));
    for (const l of lines.slice(2, -1)) expect(l).toMatch(/^.{45}:[ -\d]{14}(\.\d{6}|[ -\d]{7})$/);
    const f = fields(text);
    expect(f.get("se.load.weight")).toBe(String(3121 * 1024)); // nice -5
    expect(fields(procSched(m.kernel, a)!).get("se.load.weight")).toBe("1048576"); // nice 0, as a real /proc/self/sched shows
    expect(f.get("prio")).toBe("115");
    expect(f.get("policy")).toBe("0");
    const t = m.kernel.task(b)!;
    expect(f.get("nr_switches")).toBe(String(t.nvcsw + t.nivcsw));
    expect(Number(f.get("nr_switches"))).toBeGreaterThan(0);
    expect(procSched(m.kernel, 999)).toBeUndefined();
  });

  it("procschedslice: under EEVDF a normal or batch task shows se.slice after prio (6.14, 6.6.y/6.12.y stable); SCHED_IDLE and CFS kernels do not", () => {
    const m = new Machine({ cpus: 2 });
    const a = m.spawn(hog);
    const own = m.spawn(hog, { slice: 3 * MS });
    const idle = m.spawn(hog, { policy: SCHED_IDLE });
    m.run(10 * MS);
    const names = (pid: number, k = m.kernel): string[] => [...fields(procSched(k, pid)!).keys()];
    expect(names(a).slice(-3)).toEqual(["prio", "se.slice", "clock-delta"]);
    expect(fields(procSched(m.kernel, a)!).get("se.slice")).toBe("1400000"); // 0.7 ms x (1 + log2 2), as observed on 6.18
    expect(fields(procSched(m.kernel, own)!).get("se.slice")).toBe("3000000");
    expect(names(idle)).not.toContain("se.slice");
    const cfs = new Machine({ cpus: 2, sched: "linux-5" });
    const c = cfs.spawn(hog);
    cfs.run(10 * MS);
    expect(names(c, cfs.kernel)).not.toContain("se.slice");
  });

  it("procschedtick: a task alone on its CPU shows its run time as of the last tick, as a ticking kernel's update_curr leaves it; reading changes nothing", () => {
    const m = new Machine({ cpus: 1 });
    const a = m.spawn(hog);
    m.run(58 * MS);
    const before = m.kernel.task(a)!.sumExecRuntime;
    const f = fields(procSched(m.kernel, a)!);
    expect(f.get("se.sum_exec_runtime")).toBe("56.000000"); // the tick at 56 ms (HZ 250)
    expect(f.get("se.vruntime")).toBe("56.000000"); // nice 0: virtual time = run time
    expect(m.kernel.task(a)!.sumExecRuntime).toBe(before);
  });

  it("procscheddl: a deadline task also shows dl.runtime (what is left of its budget as of the last tick) and dl.deadline", () => {
    const m = new Machine({ cpus: 1 });
    const d = m.spawn(hog, { policy: SCHED_DEADLINE, dl: { runtime: 10 * MS, deadline: 20 * MS, period: 20 * MS } });
    m.run(5 * MS);
    const f = fields(procSched(m.kernel, d)!);
    expect(f.get("policy")).toBe("6");
    expect(f.get("dl.runtime")).toBe(String(6 * MS)); // 4 ms used by the tick at 4 ms
    expect(f.get("dl.deadline")).toBe(String(20 * MS));
    expect(f.get("se.sum_exec_runtime")).toBe("4.000000");
  });

  it("procpaths: task/<tid>/statm is the process's (threads share the mm); a pid written with a leading zero is not a /proc entry", () => {
    const m = new Machine({ cpus: 1 });
    const pid = m.spawn(hog);
    m.run(MS);
    expect(readProcPath(m.kernel, null, `/proc/${pid}/task/${pid}/statm`)).toBe(readProcPath(m.kernel, null, `/proc/${pid}/statm`));
    expect(readProcPath(m.kernel, null, `/proc/0${pid}/stat`)).toBeNull();
    expect(readProcPath(m.kernel, null, `/proc/${pid}/task/0${pid}/stat`)).toBeNull();
  });

  it("splitns: SPLIT_NS prints ms with six decimals, and drops the sign of values above -1 ms as nsec_high does", () => {
    expect(splitNs(1_234_567_890)).toBe("1234.567890");
    expect(splitNs(0)).toBe("0.000000");
    expect(splitNs(-1)).toBe("0.000001");
    expect(splitNs(-2_500_000)).toBe("-2.500000");
  });
});

describe("/sys/kernel/debug/sched/debug", () => {
  it("scheddebug: per CPU its runqueue, cfs_rq, rt_rq, dl_rq and a task table marking curr >R (EEVDF columns)", () => {
    const m = new Machine({ cpus: 2 });
    const pids = [m.spawn(hog), m.spawn(hog), m.spawn(hog, { nice: 5 })];
    m.run(50 * MS);
    const text = schedDebug(m.kernel);
    expect(text.startsWith("Sched Debug Version: v0.11, 6.12.0")).toBe(true);
    for (const cpu of [0, 1]) {
      expect(text).toContain(`cpu#${cpu}\n`);
      expect(text).toContain(`cfs_rq[${cpu}]:\n`);
      expect(text).toContain(`rt_rq[${cpu}]:\n`);
      expect(text).toContain(`dl_rq[${cpu}]:\n`);
    }
    expect(text).toContain(" S            task   PID       vruntime   eligible    deadline             slice          sum-exec      switches  prio");
    const rows = text.split("\n").filter((l) => /^(>R| [RSDTtZXI]) /.test(l));
    const curr = rows.filter((l) => l.startsWith(">R"));
    expect(curr).toHaveLength(2); // one running task per CPU
    for (const pid of pids) expect(rows.some((l) => l.slice(2, 24).trim().endsWith(` ${pid}`))).toBe(true);
    // The nr_running of each CPU agrees with the runqueue.
    const nr = [...text.matchAll(/^cpu#\d+\n {2}\.nr_running\s+: (\d+)$/gm)].map((x) => Number(x[1]));
    expect(nr).toEqual(m.kernel.rqs.map((rq) => rq.nrRunning));
  });

  it("scheddebugcfs: under CFS (linux-5) the 5.x layout: tree-key column, MIN_vruntime, min_vruntime, max_vruntime, spread0", () => {
    const m = new Machine({ cpus: 2, sched: "linux-5" });
    m.spawn(hog);
    m.spawn(hog);
    m.spawn(hog);
    m.run(50 * MS);
    const text = schedDebug(m.kernel);
    expect(text).toContain(" S            task   PID         tree-key  switches  prio"); // 5.8+: a space before the name
    for (const f of ["MIN_vruntime", "min_vruntime", "max_vruntime", "spread0"]) expect(text).toContain(`  .${f.padEnd(30)}: `);
    expect(text).not.toContain("left_deadline");
  });

  it("observerneutral: reading every /proc file and the debug file at many times leaves the run byte-identical", () => {
    const runLog = (look: boolean): string => {
      const m = new Machine({ cpus: 2, seed: 4 });
      const lines: string[] = [];
      m.kernel.trace.subscribe((e) => lines.push(toJsonLine(e)));
      for (let i = 0; i < 5; i++) m.spawn(program("w", function* (sys) {
        for (let j = 0; j < 40; j++) { yield* sys.compute((1 + (j % 3)) * MS); yield* sys.sleep(2 * MS); }
      }), { nice: i - 2 });
      for (let t = 1; t <= 300; t += 7) {
        m.run(t * MS);
        if (!look) continue;
        schedDebug(m.kernel);
        for (const pid of m.kernel.tasks.keys()) for (const f of ["stat", "status", "statm", "sched"]) readProcPath(m.kernel, null, `/proc/${pid}/${f}`);
      }
      m.run(400 * MS);
      return createHash("sha256").update(lines.join("\n")).digest("hex");
    };
    expect(runLog(true)).toBe(runLog(false));
  });
});

describe("reading /proc from a program", () => {
  it("readself: /proc/self/status names the reader, /proc/self/stat starts with its pid, /proc/self/sched is its own", () => {
    const m = new Machine({ cpus: 1 });
    const pid = m.spawn(program("reader", function* (sys) {
      const status = String(yield* sys.readFile("/proc/self/status"));
      yield* sys.print(`${status.split("\n").find((l) => l.startsWith("Pid:"))}\n`);
      yield* sys.print(`${String(yield* sys.readFile("/proc/self/stat")).split(" ")[0]}\n`);
      yield* sys.print(`${String(yield* sys.readFile("/proc/self/sched")).split("\n")[0]}\n`);
      yield* sys.print(`${String(yield* sys.readFile("/proc/self/comm"))}`);
    }));
    m.run();
    expect(m.output.split("\n").slice(0, 4)).toEqual([`Pid:\t${pid}`, String(pid), `reader (${pid}, #threads: 1)`, "reader"]);
  });

  it("readchunks: read(fd, n) serves the text from an offset and then \"\"; a closed fd is EBADF; no such pid is ENOENT; a process reaped after open is ESRCH", () => {
    const m = new Machine({ cpus: 1 });
    m.spawn(program("reader", function* (sys) {
      const fd = yield* sys.open("/proc/loadavg");
      const a = yield* sys.read(fd, 5);
      const b = yield* sys.read(fd, 1000);
      const c = yield* sys.read(fd, 1000);
      yield* sys.print(`${JSON.stringify([a, b, c])}\n`);
      yield* sys.close(fd);
      yield* sys.print(`${yield* sys.read(fd, 10)}\n`);
      yield* sys.print(`${yield* sys.open("/proc/4242/status")}\n`);
      const kid = yield* sys.fork();
      if (kid === 0) return 0;
      const kfd = yield* sys.open(`/proc/${kid}/stat`);
      yield* sys.waitpid(kid, 0);
      yield* sys.print(`${yield* sys.read(kfd, 100)}\n`);
    }));
    m.run();
    const out = m.output.split("\n");
    const [a, b, c] = JSON.parse(out[0]!) as string[];
    expect(a!.length).toBe(5);
    expect(a! + b!).toMatch(/^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+\/\d+ \d+\n$/);
    expect(c).toBe("");
    expect(out.slice(1, 4)).toEqual([String(-EBADF), String(-ENOENT), String(-ESRCH)]);
  });
});

describe("reading /proc: review cases", () => {
  it("procwrite: write() to a /proc fd is EBADF (opened O_RDONLY) and prints nothing", () => {
    const m = new Machine({ cpus: 1 });
    m.spawn(program("w", function* (sys) {
      const fd = yield* sys.open("/proc/self/stat");
      yield* sys.print(`${yield* sys.write(fd, "INJECTED\n")}\n`);
    }));
    m.run();
    expect(m.output).toBe(`${-EBADF}\n`);
  });

  it("procpidreuse: a /proc/<pid> fd opened before the process was reaped reads ESRCH, even once its pid belongs to a new process", () => {
    const m = new Machine({ cpus: 1, pidMax: 310 });
    m.spawn(program("p", function* (sys) {
      let c = 0;
      for (;;) {
        const d = yield* sys.fork();
        if (d === 0) { yield* sys.pause(); return 0; }
        if (d >= 300) { c = d; break; }
        yield* sys.kill(d, 9);
        yield* sys.waitpid(d, 0);
      }
      const fd = yield* sys.open(`/proc/${c}/comm`);
      yield* sys.kill(c, 9);
      yield* sys.waitpid(c, 0);
      let again = false;
      for (let i = 0; i < 100 && !again; i++) {
        const d = yield* sys.fork();
        if (d === 0) { yield* sys.prctl(15, "impostor"); yield* sys.pause(); return 0; }
        if (d === c) again = true;
        else { yield* sys.kill(d, 9); yield* sys.waitpid(d, 0); }
      }
      yield* sys.print(`${again} ${yield* sys.read(fd, 100)}\n`);
      yield* sys.kill(c, 9);
      yield* sys.waitpid(c, 0);
    }));
    m.run(5e9);
    expect(m.output).toBe(`true ${-ESRCH}\n`);
  });

  it("procdup2same: dup2(fd, fd) leaves the read offset where it was", () => {
    const m = new Machine({ cpus: 1 });
    m.spawn(program("d", function* (sys) {
      const fd = yield* sys.open("/proc/self/status");
      const a = yield* sys.read(fd, 8);
      yield* sys.dup2(fd, fd);
      const b = yield* sys.read(fd, 8);
      yield* sys.print(`${JSON.stringify([a, b])}\n`);
    }));
    m.run();
    const [a, b] = JSON.parse(m.output) as string[];
    expect(a).toBe("Name:\td\n");
    expect(b).not.toBe(a);
  });
});

describe("tasklab run --proc", () => {
  const dir = mkdtempSync(join(tmpdir(), "tasklab-proc-"));
  afterEach(() => vi.restoreAllMocks());
  function capture(): () => string {
    let out = "";
    vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    return () => out;
  }
  const f = join(dir, "two.yaml");
  writeFileSync(f, "cpus: 1\ntasks:\n  - { name: a, run: [ { compute: 1s } ] }\n  - { name: b, nice: 5, run: [ { compute: 1s } ] }\n");

  it("procflag: prints the file at the time asked, in time order with --ps-at; --json gives {type: proc}", async () => {
    let out = capture();
    expect(await main(["run", f, "--proc", "20ms:/proc/2/sched", "--ps-at", "10ms", "--until", "30ms"])).toBe(0);
    const text = out();
    expect(text.indexOf("-- t=10ms")).toBeLessThan(text.indexOf("-- t=20ms: /proc/2/sched"));
    expect(text).toContain("a (2, #threads: 1)");
    vi.restoreAllMocks();
    out = capture();
    expect(await main(["run", f, "--proc", "20ms:/sys/kernel/debug/sched/debug", "--json", "--until", "30ms"])).toBe(0);
    const line = out().split("\n").map((l) => (l.startsWith("{") ? (JSON.parse(l) as { type: string; path?: string; text?: string }) : null)).find((x) => x?.type === "proc");
    expect(line?.path).toBe("/sys/kernel/debug/sched/debug");
    expect(line?.text).toContain("cpu#0");
  });

  it("procflagbad: TIME:PATH is required, and /proc/self has no meaning from the command line", async () => {
    const out = capture();
    expect(await main(["run", f, "--proc", "20ms/proc/2/sched"])).not.toBe(0);
    expect(out()).toMatch(/expected TIME:PATH/);
    expect(await main(["run", f, "--proc", "20ms:/proc/self/stat"])).not.toBe(0);
    expect(out()).toMatch(/name a pid/);
  });
});

describe("/proc, ps and pstree: review of the formats against Linux, procps and psmisc", () => {
  const stat = (m: Machine, pid: number, reader: number | null = null): string[] =>
    readProcPath(m.kernel, reader === null ? null : m.kernel.task(reader)!, `/proc/${pid}/stat`)!.trim().split(" ");

  it("statflags: field 9 shows PF_RANDOMIZE (0x400000) once exec'd, kept by fork with PF_FORKNOEXEC; a zombie adds PF_EXITING, PF_POSTCOREDUMP and PF_NOFREEZE; a killed one PF_SIGNALED (fs/proc/array.c, exit.c)", () => {
    const m = new Machine({ cpus: 1 });
    const pids: number[] = [];
    const parent = m.spawn(program("p", function* (sys) {
      const a = yield* sys.fork();
      if (a === 0) return 3;
      const b = yield* sys.fork();
      if (b === 0) {
        yield* sys.pause();
        return 0;
      }
      pids.push(a, b);
      yield* sys.sleep(1 * MS);
      yield* sys.kill(b, 9);
      yield* sys.sleep(1e12);
    }));
    m.run(500_000);
    expect(Number(stat(m, 1)[8])).toBe(0x400000); // init, exec'd by the kernel
    expect(Number(stat(m, parent)[8])).toBe(0x400000); // 4194304, as a real exec'd process shows
    expect(Number(stat(m, pids[1]!)[8])).toBe(0x400040); // forked, not exec'd
    m.run(5 * MS);
    expect(Number(stat(m, pids[0]!)[8])).toBe(0x40804c); // 4227148: a zombie that exited
    expect(Number(stat(m, pids[1]!)[8])).toBe(0x40844c); // 4228172: killed by a signal
  });

  it("statpermitted: to a reader that may not trace the process (another uid, not root) wchan, exit_code print 0 and start_code/end_code 1 (do_task_stat's ptrace_may_access); the same uid, root and the outside observer see them", () => {
    const m = new Machine({ cpus: 1 });
    const sleeper = m.spawn(program("sleeper", function* (sys) {
      yield* sys.sleep(1e12);
    }), { uid: 0 });
    const other = m.spawn(program("other", function* (sys) {
      yield* sys.sleep(1e12);
    }));
    const root = m.spawn(program("root", function* (sys) {
      yield* sys.sleep(1e12);
    }), { uid: 0 });
    m.run(1 * MS);
    const pick = (f: string[]): string[] => [f[25]!, f[26]!, f[34]!, f[51]!]; // startcode, endcode, wchan, exit_code
    expect(pick(stat(m, sleeper, other))).toEqual(["1", "1", "0", "0"]);
    expect(pick(stat(m, sleeper, root))).toEqual(["0", "0", "1", "0"]);
    expect(pick(stat(m, sleeper))).toEqual(["0", "0", "1", "0"]);
    expect(pick(stat(m, other, other))).toEqual(["0", "0", "1", "0"]);
  });

  it("statusname: the Name line escapes a newline and a backslash only; a tab stays a tab (proc_task_name: seq_escape_str with only \"\\n\\\\\")", () => {
    const m = new Machine({ cpus: 1 });
    const pid = m.spawn(program("n", function* (sys) {
      yield* sys.prctl(15, "a)\tb\\c\nd"); // PR_SET_NAME
      yield* sys.sleep(1e12);
    }));
    m.run(1 * MS);
    const status = readProcPath(m.kernel, null, `/proc/${pid}/status`)!;
    expect(status.split("\n")[0]).toBe("Name:\ta)\tb\\\\c\\nd");
  });

  it("pscommand: ps shows a control character in a name as ? (procps escape_str); pstree doubles a backslash and writes a control character in octal (psmisc)", () => {
    const m = new Machine({ cpus: 1 });
    m.spawn(program("n", function* (sys) {
      yield* sys.prctl(15, "x\ty\\z");
      yield* sys.sleep(1e12);
    }));
    m.run(1 * MS);
    const out = formatPs(psRows(m.kernel));
    expect(out).toContain(" x?y\\z\n");
    expect(pstree(m.kernel, 1)).toContain("x\\011y\\\\z");
  });

  it("pslayout: a cell wider than its column pushes the rest of its line only, and the next column's spare room takes the push back (procps show_one_proc); other rows keep the fixed widths", () => {
    const rows = [
      { pid: 26583, tty: "pts/0", stat: "S<sl+", ni: "-5", command: "python3" },
      { pid: 1, tty: "?", stat: "Ss", ni: "0", command: "init" },
    ] as unknown as PsRow[];
    expect(formatPs(rows, ["pid", "tty", "stat", "ni", "comm"])).toBe(
      "  PID TTY      STAT  NI COMMAND\n" +
      "26583 pts/0    S<sl+ -5 python3\n" + // as real ps prints it: one space before -5, not two
      "    1 ?        Ss     0 init\n",
    );
  });
});

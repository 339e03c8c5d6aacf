/**
 * Scenario tests for every built-in example: each runs as the tour runs it and
 * shows the Linux behaviour it is there to show.
 */
import { describe, expect, it } from "vitest";
import { Machine } from "../src/user/machine.ts";
import { EXAMPLES, findExample, type Example } from "../examples/index.ts";
import { psRows } from "../src/observe/index.ts";
import { runExample } from "../src/cli/examples.ts";
import { ms } from "../src/sim/units.ts";

function boot(name: string): { m: Machine; e: Example } {
  const e = findExample(name)!;
  const m = new Machine({ cpus: 2, ...e.options });
  e.setup(m);
  return { m, e };
}

function stat(m: Machine, pid: number): string | undefined {
  return psRows(m.kernel).find((r) => r.pid === pid)?.stat;
}

describe("examples", () => {
  it("every example runs to its end with no warning, and leaves only init", () => {
    for (const e of EXAMPLES) {
      let text = "";
      const m = runExample(e, (s) => (text += s));
      expect(m.kernel.warnings, e.name).toEqual([]);
      expect([...m.kernel.tasks.keys()], e.name).toEqual([1]);
      expect(text, e.name).toContain(e.title);
    }
  });

  it("fork-tree: seven processes, each child's getppid is its forker (fork returns twice)", () => {
    const { m } = boot("fork-tree");
    m.run(ms(100));
    expect(m.kernel.totalForks).toBe(7);
    const lines = m.output.trim().split("\n");
    expect(lines).toHaveLength(7);
    const parents = new Map(lines.map((l) => l.match(/pid (\d+) \(parent (\d+)\) at depth (\d)/)!.slice(1).map(Number)).map(([p, pp, d]) => [p!, { pp: pp!, d: d! }]));
    expect(parents.get(2)).toEqual({ pp: 1, d: 0 });
    expect([...parents.values()].filter((x) => x.d === 2)).toHaveLength(4);
    for (const [pid, { pp, d }] of parents) if (d > 0) expect(parents.get(pp)!.d, `parent of ${pid}`).toBe(d - 1);
  });

  it("exec: the pid survives execve and comm changes; a missing file gives -ENOENT", () => {
    const { m } = boot("exec");
    m.run(ms(0.5));
    expect(m.task(3)!.comm).toBe("launcher");
    m.run(ms(1.5));
    expect(m.task(3)!.comm).toBe("worker");
    m.run();
    expect(m.output).toContain("pid 3 is now running /bin/worker");
    expect(m.output).toContain('execve("/no/such/file") returned -2');
    expect(m.output).toContain("child 3 exited with status 0x0");
  });

  it("zombie: Z with <defunct> until the parent waits, then gone; status 0x300", () => {
    const { m } = boot("zombie");
    m.run(ms(5));
    expect(stat(m, 3)).toBe("Z");
    expect(psRows(m.kernel).find((r) => r.pid === 3)!.command).toContain("<defunct>");
    m.run(ms(12));
    expect(m.task(3)).toBeUndefined();
    expect(m.output).toContain("reaped 3: status 0x300, exit code 3");
  });

  it("orphan: init adopts an orphan (getppid becomes 1) and a subreaper adopts and reaps a grandchild (0x500)", () => {
    const { m } = boot("orphan");
    m.run();
    expect(m.output).toMatch(/\[orphan\] my parent died; my parent is now 1/);
    expect(m.output).toMatch(/\[grandchild\] my parent is now 3 \(the subreaper\)/);
    expect(m.output).toMatch(/\[subreaper 3\] reaped 5: status 0x500/);
  });

  it("daemon: after the double fork it has ppid 1, its own session it does not lead, no tty, cwd /", () => {
    const { m } = boot("daemon");
    m.run(ms(1));
    const rows = psRows(m.kernel);
    const launcher = rows.find((r) => r.pid === 2)!;
    expect(launcher.tty).toBe("pts/0"); // a session leader opening a terminal acquires it
    expect(launcher.stat).toBe("Ss+");
    const d = rows.find((r) => r.comm === "daemonize" && r.ppid === 1 && r.pid !== 2)!;
    expect(d).toBeDefined();
    expect(d.sid).not.toBe(d.pid);
    expect(d.sid).toBe(d.pgid);
    expect(d.tty).toBe("?");
    expect(m.task(d.pid)!.fs.cwd).toBe("/");
    expect(m.task(d.pid)!.fs.umask).toBe(0);
    expect(m.output).toContain("umask 022 -> 0");
    expect(m.output).not.toContain("goes to /dev/null");
  });

  it("vfork: the parent sleeps in D until the child execs, then resumes", () => {
    const { m } = boot("vfork");
    m.run(ms(1));
    expect(stat(m, 2)).toBe("D");
    m.run();
    expect(m.output).toContain("vfork returned 3 after 2 ms");
  });

  it("wait-status: exit 0x300, SIGKILL 0x9, stop 0x137f, continue 0xffff, SIGTERM 0xf", () => {
    const { m } = boot("wait-status");
    m.run();
    for (const s of ["status 0x0300  exited 3", "status 0x0009  killed by SIGKILL", "status 0x137f  stopped by SIGSTOP", "status 0xffff  continued", "status 0x000f  killed by SIGTERM"])
      expect(m.output).toContain(s);
  });

  it("zombie-flood: zombies take every pid so fork fails with EAGAIN; killing the parent frees them", () => {
    const { m, e } = boot("zombie-flood");
    m.run(ms(10));
    const zombies = psRows(m.kernel).filter((r) => r.state === "Z").length;
    expect(zombies).toBe(396); // pids 4..399 with pid_max 400: 1 init, 2 careless, 3 admin
    expect(m.output).toContain("failed with -EAGAIN: 396 zombies");
    m.run(e.until);
    expect(m.output).toContain("my fork: -EAGAIN");
    expect(m.output).toMatch(/fork after the kill returned pid \d+: pids are free again/);
    expect(psRows(m.kernel).filter((r) => r.state === "Z")).toHaveLength(0);
  });

  it("the tour is deterministic: the same output twice", () => {
    const run = (): string => {
      let text = "";
      for (const e of EXAMPLES) runExample(e, (s) => (text += s));
      return text;
    };
    expect(run()).toBe(run());
  });
});

describe("controlling terminal (tty_jobctrl)", () => {
  it("a session leader acquires the terminal it opens; tcsetpgrp moves the foreground within the session only", async () => {
    const { program } = await import("../src/user/program.ts");
    const m = new Machine({ cpus: 1 });
    const seen: Record<string, number> = {};
    m.spawn(
      program("login", function* (sys) {
        seen.beforeSetsid = yield* sys.tcgetpgrp(0); // fd 0 is the console, not our ctty
        yield* sys.setsid();
        const fd = yield* sys.open("/dev/pts/1");
        seen.fg = yield* sys.tcgetpgrp(fd);
        const job = yield* sys.fork();
        if (job === 0) {
          yield* sys.setpgid(0, 0);
          yield* sys.sleep(ms(5));
          return 0;
        }
        yield* sys.setpgid(job, job);
        seen.toJob = yield* sys.tcsetpgrp(fd, job);
        seen.fgAfter = yield* sys.tcgetpgrp(fd);
        // Now in the background: tty_check_change. Its group is orphaned (its parent, init, is in another
        // session), so no SIGTTOU: EIO, which tcsetpgrp reports as ENOTTY.
        seen.fromBackground = yield* sys.tcsetpgrp(fd, job);
        yield* sys.sleep(ms(1));
        seen.job = job;
        const c2 = yield* sys.fork();
        if (c2 === 0) {
          // A job of the foreground group (not orphaned: its parent, login, is in the session in another group)
          yield* sys.sleep(ms(1)); // in the job's group by then
          seen.toInit = yield* sys.tcsetpgrp(fd, 1); // init's group is in another session: EPERM
          return 0;
        }
        yield* sys.setpgid(c2, job);
        yield* sys.waitpid(c2, 0);
        yield* sys.wait();
        return 0;
      }),
    );
    m.run(ms(2));
    const rows = psRows(m.kernel);
    expect(rows.find((r) => r.pid === 2)!.stat).toBe("Ss");
    expect(rows.find((r) => r.pid === seen.job)!.stat).toBe("S+");
    expect(rows.find((r) => r.pid === seen.job)!.tty).toBe("pts/1");
    m.run();
    expect(seen).toMatchObject({ beforeSetsid: -25, fg: 2, toJob: 0, fgAfter: seen.job, fromBackground: -25, toInit: -1 });
  });
});

describe("nice-share", () => {
  it("nice-share: on one CPU, hogs of nice 0, 5 and -5 get 1024 : 335 : 3121 of it (within 2 %), read from /proc/<pid>/sched, and their vruntimes stay within a few ms", () => {
    let text = "";
    runExample(findExample("nice-share")!, (s) => (text += s));
    const at1s = text.slice(text.indexOf("t=1000 ms"));
    const rows = [...at1s.matchAll(/^ +(\d+) +(-?\d+) +([\d.]+) +([\d.]+)$/gm)].map((r) => ({ nice: Number(r[2]), v: Number(r[3]), exec: Number(r[4]) }));
    expect(rows.map((r) => r.nice)).toEqual([0, 5, -5]);
    const total = rows.reduce((s, r) => s + r.exec, 0);
    const w = { 0: 1024, 5: 335, [-5]: 3121 } as Record<number, number>;
    for (const r of rows) expect(Math.abs(r.exec / total - w[r.nice]! / 4480)).toBeLessThan(0.02);
    const vs = rows.map((r) => r.v);
    expect(Math.max(...vs) - Math.min(...vs)).toBeLessThan(10);
  });
});

/**
 * The exit path (kernel/exit.c do_exit, exit_notify, forget_original_parent,
 * release_task; linux-facts 3, 4.4, 4.5, 6.2) and PID allocation (kernel/pid.c).
 */
import { describe, expect, it } from "vitest";
import { run, say, one, said, boot, program, letter, sleepUntil, MS } from "./helpers.ts";
import {
  EAGAIN, ECHILD, SIGCHLD, SIGKILL, SIGTERM, SIGUSR1, SA_RESTART, CLD_EXITED, CLD_KILLED, WTERMSIG, WIFSIGNALED,
  PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER, PR_SET_PDEATHSIG, CLONE_THREAD_FLAGS,
} from "../../src/user/libc.ts";

describe("zombies and reaping", () => {
  it("exitwait: a child that exits is a zombie (Z) until its parent waits", () => {
    const m = boot();
    let child = 0;
    m.spawn(
      program("t", function* (sys) {
        const c = yield* sys.fork();
        if (c === 0) return 3;
        yield* say(sys, "child", c);
        yield* sys.sleep(10 * MS);
        yield* say(sys, "status", (yield* sys.waitpid(c, 0)).status);
        yield* sleepUntil(sys, 20 * MS);
      }),
    );
    m.run(5 * MS);
    child = one(m, "child") as number;
    expect(letter(m.task(child))).toBe("Z");
    expect(m.kernel.pids.isFree(child)).toBe(false); // a zombie holds its pid
    m.run(15 * MS);
    expect(m.task(child)).toBeUndefined();
    expect(m.kernel.pids.isFree(child)).toBe(true);
    expect(one(m, "status")).toBe(0x300);
  });

  it("sigchld: the parent gets SIGCHLD (CLD_EXITED) when a child exits", () => {
    const { m } = run(function* (sys) {
      let got = 0;
      yield* sys.sigaction(SIGCHLD, { handler: function* (_s, sig) { got = sig; }, flags: SA_RESTART });
      const c = yield* sys.fork();
      if (c === 0) return 0;
      yield* sys.waitpid(c, 0);
      yield* say(sys, "got", got);
    });
    expect(one(m, "got")).toBe(SIGCHLD);
  });

  it("reparent: orphans go to init (getppid() becomes 1) and init reaps them", () => {
    const m = boot();
    m.spawn(
      program("t", function* (sys) {
        const c = yield* sys.fork();
        if (c === 0) {
          yield* say(sys, "ppid.before", (yield* sys.getppid()) > 1);
          yield* sys.sleep(5 * MS);
          yield* say(sys, "ppid.after", yield* sys.getppid());
          return 0;
        }
        yield* say(sys, "orphan", c);
        yield* sys.sleep(1 * MS);
        return 0; // exits without waiting
      }),
    );
    m.run();
    expect(one(m, "ppid.before")).toBe(true);
    expect(one(m, "ppid.after")).toBe(1);
    expect(m.task(one(m, "orphan") as number)).toBeUndefined(); // reaped by init
    expect(m.kernel.tasks.size).toBe(1);
  });

  it("initpause: init that found no children (and paused) still reaps orphans adopted later", () => {
    const m = boot();
    m.run(); // init: wait -> ECHILD -> pause
    expect(m.task(1)!.wchan).toBe("sys_pause");
    m.spawn(
      program("t", function* (sys) {
        if ((yield* sys.fork()) === 0) { yield* sys.sleep(2 * MS); return 1; }
        yield* sys.sleep(1 * MS);
      }),
    );
    m.run();
    expect(m.kernel.tasks.size).toBe(1);
    expect(m.kernel.pids.count).toBe(1);
  });

  it("reparentzombie: zombies of an exiting parent go to init, which reaps them at once", () => {
    const m = boot();
    const pid = m.spawn(
      program("t", function* (sys) {
        for (let i = 0; i < 5; i++) if ((yield* sys.fork()) === 0) return i;
        yield* sys.sleep(5 * MS); // five zombies
        return 0;
      }),
    );
    m.run(2 * MS);
    const zombies = [...m.kernel.tasks.values()].filter((t) => letter(t) === "Z");
    expect(zombies.length).toBe(5);
    expect(zombies.every((z) => z.realParent!.pid === pid)).toBe(true);
    m.run();
    expect(m.kernel.tasks.size).toBe(1);
    expect(m.kernel.pids.count).toBe(1);
  });

  it("subreaper: orphans go to the nearest child subreaper, which reaps them (status 0x500 for exit(5))", () => {
    const { m } = run(function* (sys) {
      yield* say(sys, "set", yield* sys.prctl(PR_SET_CHILD_SUBREAPER, 1));
      yield* say(sys, "get", yield* sys.prctl(PR_GET_CHILD_SUBREAPER));
      const me = yield* sys.getpid();
      const mid = yield* sys.fork();
      if (mid === 0) {
        const g = yield* sys.fork();
        if (g === 0) {
          yield* sys.sleep(2 * MS);
          yield* say(sys, "orphan.ppid", (yield* sys.getppid()) === me);
          return 5;
        }
        return 0;
      }
      yield* say(sys, "mid", (yield* sys.waitpid(mid, 0)).status);
      const r = yield* sys.waitpid(-1, 0);
      yield* say(sys, "adopted", r.status);
      yield* say(sys, "none", (yield* sys.waitpid(-1, 0)).pid);
    });
    expect(one(m, "set")).toBe(0);
    expect(one(m, "get")).toBe(1);
    expect(one(m, "mid")).toBe(0);
    expect(one(m, "orphan.ppid")).toBe(true);
    expect(one(m, "adopted")).toBe(0x500);
    expect(one(m, "none")).toBe(-ECHILD);
  });

  it("subreaperlate: becoming a subreaper after forking still adopts orphans of existing descendants", () => {
    const { m } = run(function* (sys) {
      const me = yield* sys.getpid();
      const mid = yield* sys.fork();
      if (mid === 0) {
        const g = yield* sys.fork();
        if (g === 0) {
          yield* sys.sleep(3 * MS);
          yield* say(sys, "orphan.ppid", (yield* sys.getppid()) === me);
          return 5;
        }
        yield* sys.sleep(2 * MS);
        return 0;
      }
      yield* sys.sleep(1 * MS);
      yield* sys.prctl(PR_SET_CHILD_SUBREAPER, 1); // mid and its child already exist
      yield* sys.waitpid(mid, 0);
      yield* say(sys, "adopted", (yield* sys.waitpid(-1, 0)).status);
    });
    expect(one(m, "orphan.ppid")).toBe(true);
    expect(one(m, "adopted")).toBe(0x500);
  });

  it("pdeathsig: PR_SET_PDEATHSIG delivers a signal when the parent dies", () => {
    const { m } = run(function* (sys) {
      const mid = yield* sys.fork();
      if (mid === 0) {
        const c = yield* sys.fork();
        if (c === 0) {
          yield* sys.prctl(PR_SET_PDEATHSIG, SIGUSR1);
          yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "pdeath", yield* s.now()); } });
          yield* sys.sleep(10 * MS);
          return 0;
        }
        yield* sys.sleep(2 * MS);
        return 0;
      }
      yield* sys.waitpid(mid, 0);
    });
    expect(one(m, "pdeath")).toBe(2 * MS);
  });

  it("exitgroupthreads: a zombie leader is not reaped while its threads live; the status is the group's", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
          yield* s.sleep(5 * MS);
          yield* s.exit(9); // exit_group from the last thread
        });
        yield* sys.exitThread(1); // the leader ends alone
        return 0;
      }
      yield* sys.sleep(2 * MS);
      yield* say(sys, "early", (yield* sys.waitpid(c, 1)).pid);
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "r", [r.status, yield* sys.now()]);
    });
    expect(one(m, "early")).toBe(0);
    expect(one(m, "r")).toEqual([0x900, 5 * MS]);
  });
});

describe("pids", () => {
  it("pidcyclic: pids are handed out in increasing order and wrap to 300 past pid_max", () => {
    const { m } = run(
      function* (sys) {
        const seen: number[] = [];
        for (let i = 0; i < 12; i++) {
          const c = yield* sys.fork();
          if (c === 0) return 0;
          seen.push(c);
          yield* sys.waitpid(c, 0);
        }
        yield* say(sys, "seen", seen);
      },
      { pidMax: 305 },
    );
    // init is 1, the program 2; 3.. up to 304, then 300.
    const seen = one(m, "seen") as number[];
    expect(seen.slice(0, 3)).toEqual([3, 4, 5]);
    expect(seen.every((p, i) => i === 0 || p === seen[i - 1]! + 1 || (seen[i - 1] === 304 && p === 300))).toBe(true);
  });

  it("pidwrap: after the wrap, pids below 300 are never reused and live pids are skipped", () => {
    const m = boot({ pidMax: 310 });
    m.spawn(
      program("t", function* (sys) {
        const kept = yield* sys.fork(); // pid 3: lives throughout
        if (kept === 0) { yield* sys.sleep(100 * MS); return 0; }
        const seen: number[] = [];
        for (let i = 0; i < 320; i++) {
          const c = yield* sys.fork();
          if (c === 0) return 0;
          seen.push(c);
          yield* sys.waitpid(c, 0);
        }
        yield* say(sys, "min.after.wrap", Math.min(...seen.slice(300)));
        yield* say(sys, "has.300", seen.slice(300).includes(300));
        yield* sys.kill(kept, SIGKILL);
        yield* sys.waitpid(kept, 0);
      }),
    );
    m.run();
    expect(one(m, "min.after.wrap")).toBe(300);
    expect(one(m, "has.300")).toBe(true);
  });

  it("zombiespids: with a small pid_max, unreaped zombies exhaust pids (fork EAGAIN); killing the parent lets init free them", () => {
    const m = boot({ pidMax: 400 });
    const killer = program("killer", function* (sys, argv) {
      yield* sys.sleep(10 * MS);
      yield* sys.kill(Number(argv[1]), SIGKILL);
    });
    const leaky = m.spawn(
      program("leaky", function* (sys) {
        yield* sys.sleep(1 * MS); // let the killer start first
        let n = 0;
        for (;;) {
          const c = yield* sys.fork();
          if (c === 0) return 0;
          if (c < 0) {
            yield* say(sys, "fork", c);
            break;
          }
          n++;
        }
        yield* say(sys, "forked", n);
        yield* sys.pause();
      }),
    );
    m.spawn(killer, { argv: ["killer", String(leaky)] });
    m.run(5 * MS);
    expect(one(m, "fork")).toBe(-EAGAIN);
    expect(one(m, "forked")).toBe(400 - 1 - 3); // 1..399 minus init, the parent and the killer
    expect(m.kernel.pids.count).toBe(399);
    expect([...m.kernel.tasks.values()].filter((t) => letter(t) === "Z").length).toBe(396);
    expect(() => m.spawn(program("late", function* () {}))).toThrow(/EAGAIN/);
    m.run();
    expect(m.kernel.tasks.size).toBe(1); // init adopted and reaped every zombie
    expect(m.kernel.pids.count).toBe(1);
    const again = m.spawn(program("again", function* (sys) { yield* say(sys, "again", yield* sys.fork()); }));
    expect(again).toBeGreaterThanOrEqual(300);
    m.run();
  });

  it("rlimitnproc: fork fails with EAGAIN once the user has RLIMIT_NPROC tasks", () => {
    const { m } = run(
      function* (sys) {
        const kids: number[] = [];
        let err = 0;
        for (let i = 0; i < 10; i++) {
          const c = yield* sys.fork();
          if (c === 0) { yield* sys.sleep(5 * MS); return 0; }
          if (c < 0) { err = c; break; }
          kids.push(c);
        }
        yield* say(sys, "forked", kids.length);
        yield* say(sys, "err", err);
        for (const c of kids) yield* sys.waitpid(c, 0);
        const again = yield* sys.fork(); // the children are reaped: room again
        if (again === 0) return 0;
        yield* say(sys, "again", again > 0);
        yield* sys.waitpid(again, 0);
      },
      { rlimitNproc: 5 },
    );
    expect(one(m, "forked")).toBe(4); // the parent itself counts
    expect(one(m, "err")).toBe(-EAGAIN);
    expect(one(m, "again")).toBe(true);
  });
});

describe("bad input", () => {
  it("badduration: a duration that is not a number of ns (\"3ms\", NaN) is EINVAL with a warning naming the call; a negative one is EINVAL alone", () => {
    const { m } = run(function* (sys) {
      yield* say(sys, "str", yield* sys.compute("3ms" as unknown as number));
      yield* say(sys, "nan", yield* sys.sleep(NaN));
      yield* say(sys, "neg", yield* sys.sleep(-5));
    });
    expect([one(m, "str"), one(m, "nan"), one(m, "neg")]).toEqual([-22, -22, -22]);
    expect(m.kernel.warnings).toHaveLength(2);
    expect(m.kernel.warnings[0]).toMatch(/pid 2 \(t\): compute\("3ms"\): EINVAL, a duration is a non-negative number of nanoseconds \(ms\(3\)/);
    expect(m.kernel.warnings[1]).toMatch(/nanosleep\(NaN\): EINVAL/);
  });

  it("badargs: syscalls with bad arguments return errno and the program goes on", () => {
    const { m } = run(function* (sys) {
      yield* say(sys, "compute", yield* sys.compute(-1));
      yield* say(sys, "sleep", yield* sys.sleep(NaN));
      yield* say(sys, "kill", yield* sys.syscall("kill", "x", 9));
      yield* say(sys, "write", yield* sys.write(99, "x"));
      yield* say(sys, "nosys", yield* sys.syscall("frobnicate"));
      yield* say(sys, "wait", yield* sys.syscall("wait4", "all"));
      yield* say(sys, "setpgid", yield* sys.syscall("setpgid", 1.5, 0));
      yield* say(sys, "clone", yield* sys.syscall("clone", "flags"));
      yield* say(sys, "sigaction", yield* sys.syscall("rt_sigaction", 10, { handler: 42 }));
      yield* say(sys, "alive", true);
    });
    expect(one(m, "compute")).toBe(-22);
    expect(one(m, "sleep")).toBe(-22);
    expect(one(m, "kill")).toBe(-22);
    expect(one(m, "write")).toBe(-9);
    expect(one(m, "nosys")).toBe(-38);
    expect(one(m, "wait")).toBe(-22);
    expect(one(m, "setpgid")).toBe(-22);
    expect(one(m, "clone")).toBe(-22);
    expect(one(m, "sigaction")).toBe(-14);
    expect(one(m, "alive")).toBe(true);
  });

  it("crash: a program that throws dies as if by SIGSEGV; its parent sees WTERMSIG 11, others go on", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.compute(1 * MS);
        throw new Error("boom");
      }
      const other = yield* sys.fork();
      if (other === 0) { yield* sys.compute(3 * MS); return 4; }
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "crash", [WIFSIGNALED(r.status), WTERMSIG(r.status)]);
      yield* say(sys, "other", (yield* sys.waitpid(other, 0)).status);
    });
    expect(one(m, "crash")).toEqual([true, 11]);
    expect(one(m, "other")).toBe(0x400);
    expect(m.kernel.warnings.length).toBe(1);
    expect(m.kernel.warnings[0]).toMatch(/boom.*SIGSEGV/);
  });

  it("crashhandler: a crash is fatal even with a SIGSEGV handler installed (the code is gone)", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.sigaction(11, { handler: function* (s) { yield* say(s, "handler", true); } });
        yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "usr1", true); } });
        yield* sys.sigprocmask(0, [SIGUSR1]);
        yield* sys.kill(yield* sys.getpid(), SIGUSR1); // pending, blocked
        yield* sys.sigprocmask(0, [11]);
        throw new Error("boom");
      }
      yield* say(sys, "sig", WTERMSIG((yield* sys.waitpid(c, 0)).status));
    });
    expect(said(m, "handler")).toEqual([]);
    expect(said(m, "usr1")).toEqual([]);
    expect(one(m, "sig")).toBe(11);
  });

  it("runaway: a program looping on zero-time syscalls is killed by the step budget with a warning", () => {
    const { m } = run(
      function* (sys) {
        const c = yield* sys.fork();
        if (c === 0) {
          for (;;) yield* sys.getpid();
        }
        const r = yield* sys.waitpid(c, 0);
        yield* say(sys, "r", [WIFSIGNALED(r.status), WTERMSIG(r.status), yield* sys.now()]);
      },
      { stepBudget: 1000 },
    );
    expect(one(m, "r")).toEqual([true, 24, 0]); // SIGXCPU
    expect(m.kernel.warnings).toHaveLength(1);
    expect(m.kernel.warnings[0]).toMatch(/step budget/);
  });

  it("runawaysleeps: a loop that lets time pass is not a runaway", () => {
    const { m } = run(
      function* (sys) {
        for (let i = 0; i < 3000; i++) yield* sys.sleep(1000);
        yield* say(sys, "done", yield* sys.now());
      },
      { stepBudget: 1000 },
    );
    expect(one(m, "done")).toBe(3 * MS);
    expect(m.kernel.warnings).toEqual([]);
  });

  it("replaydiverge: a program whose path depends on state outside the generator gets a clear fork-replay error", () => {
    let runs = 0;
    const { m } = run(function* (sys) {
      runs++; // outside state: differs when the child is rebuilt by replay
      if (runs > 1) {
        yield* sys.getpid();
        yield* sys.getpid();
      }
      const c = yield* sys.fork();
      if (c === 0) return 0;
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "child", [WIFSIGNALED(r.status), WTERMSIG(r.status)]);
    });
    expect(one(m, "child")).toEqual([true, 11]);
    expect(m.kernel.warnings.join("\n")).toMatch(/fork replay diverged.*deterministic/);
  });

  it("replaydiverge: other syscalls, as many, on the way to the fork are caught too", () => {
    let runs = 0;
    const { m } = run(function* (sys) {
      runs++; // outside state: the replay takes the other branch
      if (runs === 1) yield* sys.getpid();
      else yield* sys.getppid();
      const c = yield* sys.fork();
      if (c === 0) return 0;
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "child", [WIFSIGNALED(r.status), WTERMSIG(r.status)]);
    });
    expect(one(m, "child")).toEqual([true, 11]);
    expect(m.kernel.warnings.join("\n")).toMatch(/fork replay diverged: the replayed program made other syscalls than its parent/);
  });

  it("replaydiverge: a get/set pair of the same length (sched_getaffinity, sched_setaffinity) is told apart; the warning gives no location for TaskLab's own check", () => {
    let runs = 0;
    const { m } = run(function* (sys) {
      runs++;
      if (runs === 1) yield* sys.syscall("sched_getaffinity", 0);
      else yield* sys.syscall("sched_setaffinity", 0, [0]);
      const c = yield* sys.fork();
      if (c === 0) return 0;
      yield* sys.waitpid(c, 0);
    });
    const w = m.kernel.warnings.join("\n");
    expect(w).toMatch(/fork replay diverged: the replayed program made other syscalls/);
    expect(w).not.toMatch(/ at \S+:\d+:\d+/); // not the caller's m.run() line
  });

  it("waitrecord: the raw wait4 record is read-only (fork replay shares it): writing to it is a TypeError that kills the program", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) return 7;
      const w = (yield* sys.syscall("wait4", -1, 0)) as { pid: number };
      yield* say(sys, "reaped", w.pid === c);
      w.pid = -1;
      yield* say(sys, "after", "not reached");
    });
    expect(one(m, "reaped")).toBe(true);
    expect(m.output).not.toMatch(/after=/);
    expect(m.kernel.warnings.join("\n")).toMatch(/program crashed: Cannot assign to read only property 'pid'.*SIGSEGV/);
  });
});

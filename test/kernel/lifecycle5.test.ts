/**
 * Fifth review of the process lifecycle and signals: each case failed before its fix
 * (the Linux rule it follows is in its title or comments).
 */
import { describe, expect, it } from "vitest";
import { run, say, one, said, boot, program, letter, MS } from "./helpers.ts";
import {
  CLONE_FILES, CLONE_THREAD_FLAGS, CLONE_VM, EBADF, ECHILD, EINVAL, ENOENT, PR_SET_PDEATHSIG, P_ALL, P_PID, SA_SIGINFO, SIGCHLD, SIGCONT, SIGHUP, SIGKILL, SIGSTOP, SIGTERM, SIGTTOU, SIGUSR1, SIGUSR2, WCONTINUED, WEXITED, WIFSTOPPED, WNOHANG, WSTOPPED, WSTOPSIG, WUNTRACED, __WALL, __WCLONE,
} from "../../src/user/libc.ts";

describe("waitid without WEXITED (wait_consider_task)", () => {
  it("waitidzombie: waitid(WSTOPPED|WNOHANG) with only a zombie child is ECHILD", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) return 3;
      yield* sys.sleep(5 * MS); // child is a zombie now
      const r = yield* sys.waitid(P_ALL, 0, WSTOPPED | WNOHANG);
      yield* say(sys, "r", r.ret);
      const r2 = yield* sys.waitid(P_PID, c, WCONTINUED | WNOHANG);
      yield* say(sys, "r2", r2.ret);
      const w = yield* sys.waitpid(c, 0);
      yield* say(sys, "reaped", w.pid === c);
    });
    expect([one(m, "r"), one(m, "r2"), one(m, "reaped")]).toEqual([-ECHILD, -ECHILD, true]);
  });

  it("waitidzombie-block: blocking waitid(WSTOPPED) with only a zombie child returns ECHILD, not hang", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) return 3;
      yield* sys.sleep(5 * MS);
      const r = yield* sys.waitid(P_ALL, 0, WSTOPPED);
      yield* say(sys, "r", r.ret);
    }, { until: 1000 * MS });
    expect(one(m, "r")).toBe(-ECHILD);
  });
});

describe("a fatal thread-directed signal (complete_signal)", () => {
  it("tgkillfatal: a fatal tgkill to a thread in D kills the whole group at generation (complete_signal)", () => {
    const { m, pid } = run(function* (sys) {
      const me = yield* sys.getpid();
      const tid = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.io(10 * MS); // uninterruptible: it cannot act on the signal before 10 ms
        yield* say(s, "thread.after.io", yield* s.now());
      });
      yield* sys.sleep(1 * MS);
      yield* say(sys, "tgkill", yield* sys.tgkill(me, tid, SIGTERM));
      for (let i = 0; i < 5; i++) {
        yield* sys.compute(1 * MS);
        yield* say(sys, "main.alive", yield* sys.now());
      }
    }, { cpus: 2 });
    // Linux: main got SIGKILL at the tgkill (zap of every thread): it prints nothing after it.
    expect(said(m, "main.alive")).toEqual([]);
  });
});

describe("a fatal thread-directed signal: the exit status", () => {
  it("tgkillfatal-status: the process dies of SIGTERM, not exit 0", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        const me = yield* sys.getpid();
        const tid = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
          yield* s.io(10 * MS);
        });
        yield* sys.sleep(1 * MS);
        yield* sys.tgkill(me, tid, SIGTERM);
        yield* sys.compute(1 * MS);
        return 0; // exit_group(0)
      }
      yield* say(sys, "status", (yield* sys.waitpid(c, 0)).status);
    }, { cpus: 2 });
    expect(one(m, "status")).toBe(SIGTERM);
  });
});

describe("kill to a thread id, exec ids, pdeath from a thread", () => {
  it("execexitsig: after the parent execs, a clone child with exit signal SIGUSR1 reports with SIGCHLD (do_notify_parent parent_exec_id)", () => {
    const m = boot({ cpus: 1 });
    m.install("/bin/newimg", program("newimg", function* (sys) {
      // the new image: default SIGUSR1 would kill it; catch SIGCHLD to see what arrives
      yield* sys.sigaction(SIGCHLD, { handler: function* (s) { yield* say(s, "got", "SIGCHLD"); } });
      yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "got", "SIGUSR1"); } });
      yield* sys.sleep(20 * MS);
      const w = yield* sys.waitpid(-1, __WALL | WNOHANG);
      yield* say(sys, "reaped", w.pid > 0);
    }));
    m.spawn(program("p", function* (sys) {
      const c = yield* sys.clone(SIGUSR1, function* (s) {
        yield* s.sleep(5 * MS);
        return 0;
      });
      yield* sys.execve("/bin/newimg");
    }));
    m.run();
    expect(said(m, "got")).toEqual(["SIGCHLD"]);
  });

  it("threadpdeath: PR_SET_PDEATHSIG set by a non-leader thread of the child fires when the parent dies", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "pdeath", yield* s.gettid()); } });
        yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
          yield* s.prctl(PR_SET_PDEATHSIG, SIGUSR1);
          yield* s.sleep(30 * MS);
        });
        yield* sys.sleep(30 * MS);
        return 0;
      }
      yield* sys.sleep(5 * MS);
      return 0; // parent exits: child reparented
    });
    expect(said(m, "pdeath").length).toBe(1);
  });

  it("killtid: kill(tid) of a non-leader thread: the handler runs in that thread (complete_signal tries p first)", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "handler.tid", yield* s.gettid()); } });
      const tid = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sleep(10 * MS);
      });
      yield* say(sys, "tid", tid);
      yield* sys.sleep(1 * MS);
      yield* sys.kill(tid, SIGUSR1);
      yield* sys.sleep(10 * MS);
    }, { cpus: 2 });
    expect(one(m, "handler.tid")).toBe(one(m, "tid"));
  });
});

describe("terminals: hangup and tcsetpgrp", () => {
  it("bgtcsetpgrp: tcsetpgrp from a background group sends SIGTTOU (tty_check_change)", () => {
    const { m } = run(function* (sys) {
      yield* sys.setsid();
      const fd = yield* sys.open("/dev/pts/0");
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.setpgid(0, 0);
        const r = yield* sys.tcsetpgrp(fd, yield* sys.getpgrp());
        yield* say(sys, "child.r", r);
        return 0;
      }
      const w = yield* sys.waitpid(c, WUNTRACED);
      yield* say(sys, "stopped", WIFSTOPPED(w.status) ? WSTOPSIG(w.status) : `status ${w.status}`);
      yield* sys.kill(c, 9);
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "stopped")).toBe(SIGTTOU);
  });

  it("sessexit: a session leader's exit sends its pty's foreground group SIGHUP only, no SIGCONT (disassociate_ctty on_exit)", () => {
    const { m } = run(function* (sys) {
      const s = yield* sys.fork();
      if (s === 0) {
        yield* sys.setsid();
        const fd = yield* sys.open("/dev/pts/0");
        const c = yield* sys.fork();
        if (c === 0) {
          // foreground member (same group as the leader? no: its own group, made foreground)
          yield* sys.setpgid(0, 0);
          yield* sys.sigaction(SIGHUP, { handler: function* (x) { yield* say(x, "sig", "HUP"); } });
          yield* sys.sigaction(SIGCONT, { handler: function* (x) { yield* say(x, "sig", "CONT"); } });
          yield* sys.sleep(50 * MS);
          return 0;
        }
        yield* sys.sleep(1 * MS);
        yield* sys.tcsetpgrp(fd, c);
        yield* sys.sleep(5 * MS);
        return 0; // session leader exits
      }
      yield* sys.sleep(100 * MS);
    });
    expect(said(m, "sig")).toEqual(["HUP"]);
  });
});

describe("exec unshares a CLONE_FILES table", () => {
  it("execfiles: after exec unshares a CLONE_FILES table, the old sharer's later open is not in the exec'd table", () => {
    const m = boot({ cpus: 2 });
    m.install("/bin/probe", program("probe", function* (sys) {
      yield* sys.sleep(5 * MS);
      yield* say(sys, "probe.write3", yield* sys.write(3, "x"));
      yield* say(sys, "probe.open", yield* sys.open("/dev/null"));
    }));
    m.spawn(program("p", function* (sys) {
      yield* sys.dup2(1, 1); // no-op
      yield* sys.close(yield* sys.open("/dev/null")); // P's table is now private (not copy-on-write)
      const c = yield* sys.clone(CLONE_VM | CLONE_FILES | SIGCHLD, function* (s) {
        yield* s.execve("/bin/probe");
      });
      yield* sys.sleep(1 * MS);
      yield* say(sys, "p.open", yield* sys.open("/dev/null")); // fd 3 in P's table only
      yield* sys.waitpid(c, 0);
    }));
    m.run();
    expect([one(m, "p.open"), one(m, "probe.write3"), one(m, "probe.open")]).toEqual([3, -EBADF, 3]);
  });
});

describe("exec by a non-leader thread (de_thread)", () => {
  it("dethreadtime: CPU time of the old leader stays with the process after a non-leader thread execs (__exit_signal)", () => {
    const m = boot({ cpus: 2 });
    m.install("/bin/probe", program("probe", function* (sys) {
      const st = (yield* sys.readFile("/proc/self/stat")) as string;
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      yield* say(sys, "utime", Number(f[11])); // field 14
    }));
    m.spawn(program("p", function* (sys) {
      yield* sys.compute(100 * MS); // leader's own CPU time: 10 ticks
      yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.execve("/bin/probe");
      });
      yield* sys.sleep(50 * MS);
    }));
    m.run();
    expect(one(m, "utime")).toBeGreaterThanOrEqual(10);
  });

  it("dethreadorder: the exec'ing thread takes the old leader's place among its parent's children (list_replace_init)", () => {
    const m = boot({ cpus: 2 });
    m.install("/bin/probe", program("probe", function* (sys) { return 7; }));
    m.spawn(program("p", function* (sys) {
      const x = yield* sys.fork();
      if (x === 0) {
        yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
          yield* s.sleep(2 * MS);
          yield* s.execve("/bin/probe");
        });
        yield* sys.sleep(50 * MS);
        return 1;
      }
      const y = yield* sys.fork();
      if (y === 0) return 2;
      yield* sys.sleep(20 * MS);
      yield* say(sys, "first", (yield* sys.wait()).pid === x ? "x" : "y");
    }));
    m.run();
    expect(one(m, "first")).toBe("x");
  });
});

describe("which thread takes a process-directed signal (wants_signal)", () => {
  it("wantssig: a second process signal skips a non-running thread that already has one pending (wants_signal task_sigpending)", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        const h = function* (s: any, sig: number) { yield* say(s, "h", [sig, yield* s.gettid(), yield* s.now()]); };
        yield* sys.sigaction(SIGUSR1, { handler: h });
        yield* sys.sigaction(SIGUSR2, { handler: h });
        const tid = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
          for (let i = 0; i < 3; i++) yield* s.pause();
        });
        yield* say(sys, "thread", tid);
        yield* sys.io(10 * MS); // leader in D until 10 ms
        yield* sys.sleep(10 * MS);
        return 0;
      }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGUSR1);
      yield* sys.kill(c, SIGUSR2);
      yield* sys.waitpid(c, 0);
    }, { cpus: 2 });
    // Linux: USR1 goes to the leader (it had nothing pending), USR2 to the idle thread, which wakes
    // at 1 ms and, dequeuing from the shared set, runs the handlers (lowest first) at 1 ms.
    const runs = said(m, "h") as number[][];
    const tid = one(m, "thread") as number;
    expect(runs.map((x) => x[0]).sort()).toEqual([SIGUSR1, SIGUSR2]); // both handled
    expect(runs.every(([, who, at]) => who === tid && at! < 10 * MS)).toBe(true); // by the free thread, before the leader leaves D
  });
});

describe("orphaned groups: stopped jobs", () => {
  it("orphanstopping: a group stop still in progress is not a stopped job (has_stopped_jobs: SIGNAL_STOP_STOPPED)", () => {
    const { m } = run(function* (sys) {
      const p = yield* sys.fork();
      if (p !== 0) { yield* sys.sleep(100 * MS); return 0; }
      // p: the parent, in its own group; the child gets a group of its own in the same session
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.setpgid(0, 0);
        yield* sys.sigaction(SIGHUP, { handler: function* (s) { yield* say(s, "sig", "HUP"); } });
        const tid = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) { yield* s.sleep(50 * MS); });
        yield* say(sys, "tid", tid);
        yield* sys.io(20 * MS); // the leader cannot stop before 20 ms
        return 0;
      }
      yield* sys.setpgid(0, 0);
      yield* sys.sleep(1 * MS);
      // the thread (the child's next pid) stops at once; the stop completes at 20 ms
      yield* say(sys, "tgkill", [yield* sys.tgkill(c, c + 1, SIGSTOP), c + 1]);
      yield* sys.sleep(1 * MS);
      return 0; // exit at 2 ms: c's group becomes orphaned with no member stopped yet
    });
    const [ret, target] = one(m, "tgkill") as [number, number];
    expect([ret, target]).toEqual([0, one(m, "tid")]); // it did reach the child's thread
    expect(said(m, "sig")).toEqual([]);
  });
});

describe("execve and tgkill arguments", () => {
  it("execnopath: execve does not search PATH: a bare name is relative to cwd (ENOENT)", () => {
    const m = boot({ cpus: 1 });
    m.install("/bin/probe", program("probe", function* (sys) { yield* say(sys, "ran", true); }));
    m.spawn(program("p", function* (sys) {
      yield* say(sys, "cwd", yield* sys.getcwd());
      yield* say(sys, "r", yield* sys.execve("probe"));
    }));
    m.run();
    expect(said(m, "ran")).toEqual([]);
    expect(one(m, "r")).toBe(-ENOENT);
  });
  it("tgkillneg: tgkill with tgid -1 is EINVAL (tgid <= 0)", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: "ign" });
      yield* say(sys, "r", yield* sys.tgkill(-1, yield* sys.gettid(), SIGUSR1));
    });
    expect(one(m, "r")).toBe(-EINVAL);
  });
});

describe("wait from a thread (__do_wait order)", () => {
  it("waitorder: wait from a thread looks at its own children first (do_wait starts at current)", () => {
    const { m } = run(function* (sys) {
      const cl = yield* sys.fork();
      if (cl === 0) return 1;
      yield* say(sys, "cl", cl);
      yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        const ct = yield* s.fork();
        if (ct === 0) return 2;
        yield* say(s, "ct", ct);
        yield* s.sleep(5 * MS);
        yield* say(s, "first", (yield* s.wait()).pid);
      });
      yield* sys.sleep(20 * MS);
    }, { cpus: 2 });
    expect(one(m, "first")).toBe(one(m, "ct"));
  });
});

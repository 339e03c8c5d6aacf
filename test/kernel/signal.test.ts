/**
 * Signals: kill(2) targets, dispositions, handlers, masks, interrupted sleeps
 * (kernel/signal.c; linux-facts 5.1 - 5.4).
 */
import { describe, expect, it } from "vitest";
import { run, say, one, said, boot, program, letter, sleepUntil, MS } from "./helpers.ts";
import {
  EINVAL, ESRCH, EPERM, EINTR, SIGKILL, SIGSTOP, SIGCONT, SIGTERM, SIGUSR1, SIGUSR2, SIGINT, SIGHUP, SIGCHLD, SIGSEGV,
  SIGQUIT, SA_RESTART, SA_RESETHAND, SA_NODEFER, WUNTRACED, WTERMSIG, WCOREDUMP, SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK,
  SA_SIGINFO, SI_USER, SI_TKILL, CLD_EXITED, CLD_KILLED, CLD_STOPPED, CLD_CONTINUED, SIGTSTP, CLONE_THREAD_FLAGS, type SigInfo,
} from "../../src/user/libc.ts";

describe("kill targets", () => {
  it("killpid: kill(pid, sig) ends the target; its parent sees WTERMSIG", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.pause(); return 0; }
      yield* say(sys, "kill", yield* sys.kill(c, SIGINT));
      yield* say(sys, "sig", WTERMSIG((yield* sys.waitpid(c, 0)).status));
    });
    expect(one(m, "kill")).toBe(0);
    expect(one(m, "sig")).toBe(SIGINT);
  });

  it("killzero: signal 0 checks existence only: 0 for a live process, ESRCH for none", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.sleep(2 * MS); return 5; }
      yield* say(sys, "live", yield* sys.kill(c, 0));
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "status", r.status); // not disturbed by signal 0
      yield* say(sys, "gone", yield* sys.kill(c, 0));
      yield* say(sys, "never", yield* sys.kill(30000, 0));
    });
    expect(one(m, "live")).toBe(0);
    expect(one(m, "status")).toBe(0x500);
    expect(one(m, "gone")).toBe(-ESRCH);
    expect(one(m, "never")).toBe(-ESRCH);
  });

  it("killbadsig: a signal number outside 0..64 is EINVAL", () => {
    const { m } = run(function* (sys) {
      const me = yield* sys.getpid();
      yield* say(sys, "65", yield* sys.kill(me, 65));
      yield* say(sys, "-1", yield* sys.kill(me, -1));
      yield* say(sys, "alive", true);
    });
    expect(one(m, "65")).toBe(-EINVAL);
    expect(one(m, "-1")).toBe(-EINVAL);
    expect(one(m, "alive")).toBe(true);
  });

  it("killinit: an ordinary user may not signal init (EPERM); init would drop it anyway", () => {
    const { m } = run(function* (sys) {
      yield* say(sys, "term", yield* sys.kill(1, SIGTERM));
      yield* say(sys, "zero", yield* sys.kill(1, 0));
    });
    expect(one(m, "term")).toBe(-EPERM);
    expect(one(m, "zero")).toBe(-EPERM);
    expect(m.task(1)).toBeDefined();
  });

  it("killgroup: kill(0, sig) hits the caller's group, kill(-pgid, sig) another group", () => {
    const { m } = run(function* (sys) {
      yield* sys.setpgid(0, 0);
      yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "leader.usr1", true); } });
      const kids: number[] = [];
      for (let i = 0; i < 3; i++) {
        const c = yield* sys.fork();
        if (c === 0) {
          if (i === 2) yield* sys.setpgid(0, 0);
          yield* sys.pause();
          return i;
        }
        kids.push(c);
      }
      yield* sys.setpgid(kids[2]!, kids[2]!);
      yield* sys.sleep(1 * MS);
      yield* sys.kill(0, SIGUSR1); // children 0 and 1 inherit the handler and survive; pause returns
      const st: number[] = [];
      for (let i = 0; i < 2; i++) st.push((yield* sys.waitpid(kids[i]!, 0)).status);
      yield* say(sys, "group0", st);
      yield* say(sys, "other", yield* sys.kill(-kids[2]!, SIGTERM));
      yield* say(sys, "other.status", (yield* sys.waitpid(kids[2]!, 0)).status);
      yield* say(sys, "nogroup", yield* sys.kill(-kids[2]!, SIGTERM));
    });
    expect(said(m, "leader.usr1")).toEqual([true, true, true]); // the children inherited the handler
    expect(one(m, "group0")).toEqual([0x000, 0x100]);
    expect(one(m, "other")).toBe(0);
    expect(one(m, "other.status")).toBe(SIGTERM);
    expect(one(m, "nogroup")).toBe(-ESRCH);
  });

  it("killall: kill(-1, sig) signals every process we may signal except init and ourselves", () => {
    const m = boot();
    const bystander = m.spawn(program("by", function* (sys) { yield* sys.sleep(100 * MS); return 0; }));
    m.spawn(
      program("t", function* (sys) {
        for (let i = 0; i < 3; i++) if ((yield* sys.fork()) === 0) { yield* sys.pause(); return 0; }
        yield* sys.sleep(1 * MS);
        yield* say(sys, "ret", yield* sys.kill(-1, SIGTERM));
        yield* say(sys, "alive", true);
        const st: number[] = [];
        for (let i = 0; i < 3; i++) st.push((yield* sys.wait()).status);
        yield* say(sys, "st", st);
      }),
    );
    m.run(2 * MS);
    expect(m.task(bystander)).toBeUndefined();
    expect(m.task(1)).toBeDefined();
    m.run();
    expect(one(m, "ret")).toBe(0);
    expect(one(m, "alive")).toBe(true);
    expect(one(m, "st")).toEqual([15, 15, 15]);
  });

  it("killallnone: kill(-1, sig) with nobody else to signal is ESRCH", () => {
    const { m } = run(function* (sys) {
      yield* say(sys, "ret", yield* sys.kill(-1, SIGTERM));
    });
    expect(one(m, "ret")).toBe(-ESRCH);
  });

  it("killzombie: kill on an unreaped zombie succeeds and changes nothing", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) return 2;
      yield* sys.sleep(1 * MS);
      yield* say(sys, "kill", yield* sys.kill(c, SIGKILL));
      yield* say(sys, "status", (yield* sys.waitpid(c, 0)).status);
    });
    expect(one(m, "kill")).toBe(0);
    expect(one(m, "status")).toBe(0x200);
  });
});

describe("dispositions and handlers", () => {
  it("sigcatch: SIGKILL and SIGSTOP cannot be caught or ignored (EINVAL); bad numbers EINVAL", () => {
    const { m } = run(function* (sys) {
      const h = function* () {};
      yield* say(sys, "kill.h", yield* sys.sigaction(SIGKILL, { handler: h }));
      yield* say(sys, "kill.ign", yield* sys.sigaction(SIGKILL, { handler: "ign" }));
      yield* say(sys, "stop.h", yield* sys.sigaction(SIGSTOP, { handler: h }));
      yield* say(sys, "zero", yield* sys.sigaction(0, { handler: h }));
      yield* say(sys, "65", yield* sys.sigaction(65, { handler: h }));
      yield* say(sys, "ok", yield* sys.sigaction(SIGUSR1, { handler: h }));
    });
    expect(one(m, "kill.h")).toBe(-EINVAL);
    expect(one(m, "kill.ign")).toBe(-EINVAL);
    expect(one(m, "stop.h")).toBe(-EINVAL);
    expect(one(m, "zero")).toBe(-EINVAL);
    expect(one(m, "65")).toBe(-EINVAL);
    expect(one(m, "ok")).toBe(0);
  });

  it("sighandler: a handler runs in the receiving task, with the signal number, and the task goes on", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGUSR1, {
        handler: function* (s, sig) {
          yield* say(s, "handler", [sig, yield* s.getpid()]);
        },
      });
      const me = yield* sys.getpid();
      yield* say(sys, "me", me);
      yield* sys.kill(me, SIGUSR1);
      yield* say(sys, "after", true);
    });
    expect(one(m, "handler")).toEqual([SIGUSR1, one(m, "me")]);
    expect(lines(m)).toEqual(["me", "handler", "after"]);
  });

  it("sigign: SIG_IGN discards the signal; SIG_DFL of SIGCHLD ignores; SIG_DFL of SIGUSR2 kills", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        const me = yield* sys.getpid();
        yield* sys.sigaction(SIGUSR1, { handler: "ign" });
        yield* sys.kill(me, SIGUSR1);
        yield* sys.kill(me, SIGCHLD);
        yield* say(sys, "survived", true);
        yield* sys.sigaction(SIGUSR1, { handler: "dfl" });
        yield* sys.kill(me, SIGUSR2);
        yield* say(sys, "not.reached", true);
        return 0;
      }
      yield* say(sys, "status", (yield* sys.waitpid(c, 0)).status);
    });
    expect(one(m, "survived")).toBe(true);
    expect(said(m, "not.reached")).toEqual([]);
    expect(one(m, "status")).toBe(SIGUSR2);
  });

  it("sigresethand: SA_RESETHAND runs the handler once, then the default action", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "h", true); }, flags: SA_RESETHAND });
        const me = yield* sys.getpid();
        yield* sys.kill(me, SIGUSR1);
        yield* sys.kill(me, SIGUSR1);
        return 0;
      }
      yield* say(sys, "status", (yield* sys.waitpid(c, 0)).status);
    });
    expect(said(m, "h")).toEqual([true]);
    expect(one(m, "status")).toBe(SIGUSR1);
  });

  it("sigdefer: the handled signal is blocked during its handler (unless SA_NODEFER) and restored after", () => {
    const { m } = run(function* (sys) {
      let depth = 0;
      let calls = 0;
      yield* sys.sigaction(SIGUSR1, {
        handler: function* (s) {
          depth++;
          calls++;
          yield* say(s, "mask.in", yield* s.sigprocmask(SIG_BLOCK, []));
          if (calls === 1) yield* s.kill(yield* s.getpid(), SIGUSR1); // pending until we return
          yield* say(s, "h", depth);
          depth--;
        },
      });
      yield* sys.kill(yield* sys.getpid(), SIGUSR1);
      yield* say(sys, "mask.after", yield* sys.sigprocmask(SIG_BLOCK, []));
      calls = 0;
      yield* sys.sigaction(SIGUSR2, {
        handler: function* (s) {
          depth++;
          calls++;
          if (calls === 1) yield* s.kill(yield* s.getpid(), SIGUSR2); // nested at once
          yield* say(s, "h2", depth);
          depth--;
        },
        flags: SA_NODEFER,
      });
      yield* sys.kill(yield* sys.getpid(), SIGUSR2);
    });
    expect(said(m, "mask.in")).toEqual([[SIGUSR1], [SIGUSR1]]);
    expect(said(m, "h")).toEqual([1, 1]); // the second ran after the first returned
    expect(one(m, "mask.after")).toEqual([]);
    expect(said(m, "h2")).toEqual([2, 1]); // nested
  });

  it("sigmask: a blocked signal stays pending and is delivered when unblocked; SIGKILL cannot be blocked", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "h", yield* s.now()); } });
      yield* say(sys, "old", yield* sys.sigprocmask(SIG_BLOCK, [SIGUSR1, SIGKILL, SIGSTOP]));
      yield* say(sys, "mask", yield* sys.sigprocmask(SIG_BLOCK, []));
      yield* sys.kill(yield* sys.getpid(), SIGUSR1);
      yield* sys.compute(1 * MS);
      yield* say(sys, "before", yield* sys.now());
      yield* sys.sigprocmask(SIG_UNBLOCK, [SIGUSR1]);
      yield* say(sys, "after", true);
      yield* say(sys, "badhow", yield* sys.sigprocmask(7, [SIGUSR1]));
      yield* sys.sigprocmask(SIG_SETMASK, [SIGUSR2]);
      yield* say(sys, "set", yield* sys.sigprocmask(SIG_BLOCK, []));
    });
    expect(one(m, "old")).toEqual([]);
    expect(one(m, "mask")).toEqual([SIGUSR1]);
    expect(one(m, "h")).toBe(1 * MS);
    expect(lines(m).slice(2, 5)).toEqual(["before", "h", "after"]);
    expect(one(m, "badhow")).toBe(-EINVAL);
    expect(one(m, "set")).toEqual([SIGUSR2]);
  });

  it("signoqueue: standard signals do not queue, real-time ones do; dequeued lowest first, standard before RT", () => {
    const { m } = run(function* (sys) {
      const order: number[] = [];
      const all = [SIGUSR1, SIGUSR2, SIGINT, 34, 35];
      // sa_mask blocks the others during each handler, so handlers run one after another in dequeue order
      for (const s of all) yield* sys.sigaction(s, { handler: function* (_s, sig) { order.push(sig); }, mask: all });
      yield* sys.sigprocmask(SIG_BLOCK, all);
      const me = yield* sys.getpid();
      for (const s of [35, SIGUSR2, 34, SIGUSR1, 34, SIGUSR1, SIGINT]) yield* sys.kill(me, s);
      yield* sys.sigprocmask(SIG_SETMASK, []);
      yield* say(sys, "order", order);
    });
    expect(one(m, "order")).toEqual([SIGINT, SIGUSR1, SIGUSR2, 34, 34, 35]);
  });

  it("signest: without sa_mask every pending signal gets a frame before user code runs, so the last delivered handler runs first (as Linux's exit_to_user_mode loop does)", () => {
    const { m } = run(function* (sys) {
      const order: number[] = [];
      const all = [SIGUSR1, SIGUSR2, SIGINT];
      for (const s of all) yield* sys.sigaction(s, { handler: function* (_s, sig) { order.push(sig); } });
      yield* sys.sigprocmask(SIG_BLOCK, all);
      const me = yield* sys.getpid();
      for (const s of all) yield* sys.kill(me, s);
      yield* sys.sigprocmask(SIG_SETMASK, []);
      yield* say(sys, "order", order);
    });
    expect(one(m, "order")).toEqual([SIGUSR2, SIGUSR1, SIGINT]);
  });

  it("sigdelivery: a signal to a task computing on another CPU is handled at once (not at its next syscall)", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "h", yield* s.now()); } });
        yield* sys.compute(10 * MS);
        yield* say(sys, "done", yield* sys.now());
        return 0;
      }
      yield* sys.sleep(3 * MS);
      yield* sys.kill(c, SIGUSR1);
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "h")).toBe(3 * MS);
    expect(one(m, "done")).toBe(10 * MS); // the compute burst resumes where it was
  });

  it("sigkick: a signal to a running task does not make it give up its CPU (kick_process is an IPI, not a preemption)", () => {
    const m = boot({ cpus: 2 });
    const r = m.spawn(
      program("r", function* (sys) {
        yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "h", yield* s.now()); } });
        yield* sys.compute(20 * MS);
      }),
      { affinity: [1] },
    );
    m.spawn(program("q", function* (sys) { yield* sys.compute(20 * MS); }), { affinity: [1] });
    m.spawn(
      program("s", function* (sys) {
        yield* sys.sleep(1 * MS);
        yield* sys.kill(r, SIGUSR1);
      }),
      { affinity: [0] },
    );
    let switches = 0;
    m.kernel.trace.subscribe((e) => {
      if (e.name === "sched_switch" && e.cpu === 1 && e.ts > 0 && e.ts < 4 * MS) switches++;
    });
    m.run();
    expect(one(m, "h")).toBe(1 * MS);
    expect(switches).toBe(0);
  });

  it("sigforkinhandler: a child forked inside a handler returns from the handler too", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGUSR1, {
        handler: function* (s) {
          const c = yield* s.fork();
          yield* say(s, c === 0 ? "child.in.handler" : "parent.in.handler", true);
          if (c > 0) yield* say(s, "child.status", (yield* s.waitpid(c, 0)).status);
        },
      });
      yield* sys.kill(yield* sys.getpid(), SIGUSR1);
      const pid = yield* sys.getpid();
      yield* say(sys, "after.handler", pid);
      return 4;
    });
    expect(one(m, "child.in.handler")).toBe(true);
    expect(one(m, "parent.in.handler")).toBe(true);
    expect(said(m, "after.handler")).toHaveLength(2); // both returned from the handler
    expect(one(m, "child.status")).toBe(0x400);
    expect(m.kernel.warnings).toEqual([]);
  });

  it("sigcore: a core-default signal kills with WCOREDUMP set when RLIMIT_CORE allows, clear when not", () => {
    for (const rlimitCore of [0, Infinity]) {
      const { m } = run(
        function* (sys) {
          const c = yield* sys.fork();
          if (c === 0) { yield* sys.pause(); return 0; }
          yield* sys.kill(c, SIGQUIT);
          const st = (yield* sys.waitpid(c, 0)).status;
          yield* say(sys, "st", [WTERMSIG(st), WCOREDUMP(st)]);
        },
        { rlimitCore },
      );
      expect(one(m, "st")).toEqual([SIGQUIT, rlimitCore > 0]);
    }
  });
});

describe("sleeps and signals", () => {
  it("sleepintr: nanosleep interrupted by a handled signal returns -EINTR at once", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: function* () {}, flags: SA_RESTART });
      const me = yield* sys.getpid();
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.sleep(2 * MS); yield* sys.kill(me, SIGUSR1); return 0; }
      const r = yield* sys.sleep(10 * MS);
      yield* say(sys, "sleep", [r, yield* sys.now()]);
    });
    expect(one(m, "sleep")).toEqual([-EINTR, 2 * MS]);
  });

  it("sleepstop: a sleep stopped and continued goes on to its original end", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        const r = yield* sys.sleep(10 * MS);
        yield* say(sys, "child.sleep", [r, yield* sys.now()]);
        return 0;
      }
      yield* sys.sleep(2 * MS);
      yield* sys.kill(c, SIGSTOP);
      yield* sys.sleep(2 * MS);
      yield* sys.kill(c, SIGCONT);
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "child.sleep")).toEqual([0, 10 * MS]);
  });

  it("sleepignored: a signal ignored by default (SIGCHLD) does not cut a sleep short", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) return 0; // SIGCHLD to the sleeping parent
      const r = yield* sys.sleep(5 * MS);
      yield* say(sys, "sleep", [r, yield* sys.now()]);
    });
    expect(one(m, "sleep")).toEqual([0, 5 * MS]);
  });

  it("pauseintr: pause returns -EINTR after a handler", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: function* () {} });
      const me = yield* sys.getpid();
      if ((yield* sys.fork()) === 0) { yield* sys.sleep(1 * MS); yield* sys.kill(me, SIGUSR1); return 0; }
      yield* say(sys, "pause", [yield* sys.pause(), yield* sys.now()]);
    });
    expect(one(m, "pause")).toEqual([-EINTR, 1 * MS]);
  });

  it("iowait: simulated I/O sleeps in D; SIGTERM and even SIGKILL wait until it is done", () => {
    const m = boot();
    const pid = m.spawn(
      program("io", function* (sys) {
        yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "h", yield* s.now()); } });
        const r = yield* sys.io(10 * MS);
        yield* say(sys, "io", [r, yield* sys.now()]);
        yield* sys.io(10 * MS);
        yield* say(sys, "not.reached", true);
      }),
    );
    m.spawn(
      program("k", function* (sys) {
        yield* sys.sleep(2 * MS);
        yield* sys.kill(pid, SIGUSR1);
        yield* sys.sleep(10 * MS);
        yield* sys.kill(pid, SIGKILL);
      }),
    );
    m.run(5 * MS);
    expect(letter(m.task(pid))).toBe("D");
    m.run(15 * MS);
    expect(one(m, "io")).toEqual([0, 10 * MS]); // the handler did not cut it short
    expect(one(m, "h")).toBe(10 * MS); // and ran only after it
    expect(letter(m.task(pid))).toBe("D");
    m.run(19 * MS);
    expect(letter(m.task(pid))).toBe("D"); // SIGKILL pending since 12 ms, still in D
    m.run(21 * MS);
    expect(m.task(pid)).toBeUndefined();
    expect(said(m, "not.reached")).toEqual([]);
  });

  it("iotermstatus: SIGTERM sent during I/O kills the process when the I/O ends (status 0xf)", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.io(5 * MS); yield* sys.compute(5 * MS); return 0; }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGTERM);
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "r", [r.status, yield* sys.now()]);
    });
    expect(one(m, "r")).toEqual([0xf, 5 * MS]);
  });
});

function lines(m: ReturnType<typeof boot>): string[] {
  return m.output.split("\n").filter((l) => l.includes("=")).map((l) => l.slice(0, l.indexOf("=")));
}

describe("job control at generation time (prepare_signal)", () => {
  it("contblocked: SIGCONT resumes a stopped process even if it blocks SIGCONT", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.sigprocmask(SIG_BLOCK, [SIGCONT]);
        yield* sys.compute(4 * MS);
        yield* say(sys, "done", yield* sys.now());
        return 0;
      }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGSTOP);
      yield* sys.sleep(2 * MS);
      yield* sys.kill(c, SIGCONT);
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "done")).toBe(6 * MS);
  });

  it("contflushstop: SIGCONT discards a pending (blocked) stop signal; a default SIGCONT is not left pending", () => {
    const m = boot();
    const pid = m.spawn(
      program("t", function* (sys) {
        yield* sys.sigprocmask(SIG_BLOCK, [20]); // SIGTSTP
        const me = yield* sys.getpid();
        yield* sys.kill(me, 20);
        yield* sys.sleep(2 * MS);
        yield* sys.kill(me, SIGCONT);
        yield* sys.sleep(2 * MS);
      }),
    );
    m.run(1 * MS);
    expect(m.task(pid)!.signal.sharedPending.hex()).toBe("0000000000080000"); // SIGTSTP (bit 19)
    m.run(3 * MS);
    expect(m.task(pid)!.signal.sharedPending.empty()).toBe(true); // obs: pending set empty
    m.run();
  });

  it("stopflushcont: a stop signal discards a pending (blocked) SIGCONT", () => {
    const m = boot();
    const pid = m.spawn(
      program("t", function* (sys) {
        yield* sys.sigprocmask(SIG_BLOCK, [SIGCONT, 20]);
        const me = yield* sys.getpid();
        yield* sys.kill(me, SIGCONT);
        yield* sys.sleep(2 * MS);
        yield* sys.kill(me, 20);
        yield* sys.sleep(2 * MS);
        yield* sys.sigaction(20, { handler: "ign" });
      }),
    );
    m.run(1 * MS);
    expect(m.task(pid)!.signal.sharedPending.hex()).toBe("0000000000020000"); // SIGCONT (bit 17)
    m.run(3 * MS);
    expect(m.task(pid)!.signal.sharedPending.hex()).toBe("0000000000080000"); // obs: only 20 pending
    m.run();
  });

  it("conthandler: SIGCONT with a handler continues the process and then runs the handler", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.sigaction(SIGCONT, { handler: function* (s) { yield* say(s, "cont", yield* s.now()); } });
        yield* sys.compute(4 * MS);
        return 0;
      }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGSTOP);
      yield* sys.sleep(2 * MS);
      yield* sys.kill(c, SIGCONT);
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "cont")).toBe(3 * MS);
  });
});


describe("siginfo (kernel/signal.c: each pending signal keeps the siginfo it was sent with)", () => {
  const infoOf = (i: SigInfo | undefined) => (i ? [i.signo, i.code, i.pid, i.uid, i.status] : null);

  it("sigchldinfo: an SA_SIGINFO SIGCHLD handler learns the child, CLD_EXITED and the exit code, then CLD_KILLED and the signal", () => {
    const { m, pid } = run(function* (sys) {
      yield* sys.sigaction(SIGCHLD, { handler: function* (s, _sig, info) { yield* say(s, "chld", infoOf(info)); }, flags: SA_SIGINFO });
      const a = yield* sys.fork();
      if (a === 0) return 7;
      yield* say(sys, "a", a);
      yield* say(sys, "uid", yield* sys.getuid());
      yield* sys.pause();
      yield* sys.waitpid(a, 0);
      const b = yield* sys.fork();
      if (b === 0) { yield* sys.pause(); return 0; }
      yield* say(sys, "b", b);
      yield* sys.kill(b, SIGTERM);
      yield* sys.pause();
      yield* sys.waitpid(b, 0);
    });
    const a = one(m, "a"), b = one(m, "b"), uid = one(m, "uid");
    expect(said(m, "chld")).toEqual([
      [SIGCHLD, CLD_EXITED, a, uid, 7],
      [SIGCHLD, CLD_KILLED, b, uid, SIGTERM],
    ]);
    expect(m.kernel.task(pid)).toBeUndefined();
  });

  it("sigchldstopinfo: CLD_STOPPED carries the stop signal, CLD_CONTINUED carries SIGCONT (do_notify_parent_cldstop)", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGCHLD, { handler: function* (s, _sig, info) { yield* say(s, "chld", infoOf(info)); }, flags: SA_SIGINFO });
      const c = yield* sys.fork();
      if (c === 0) { for (;;) yield* sys.pause(); }
      yield* say(sys, "c", c);
      yield* say(sys, "uid", yield* sys.getuid());
      yield* sys.kill(c, SIGSTOP);
      yield* sys.pause();
      yield* sys.kill(c, SIGCONT);
      yield* sys.pause();
      yield* sys.kill(c, SIGKILL);
      yield* sys.waitpid(c, 0);
    });
    const c = one(m, "c");
    const uid = one(m, "uid");
    expect(said(m, "chld")).toEqual([
      [SIGCHLD, CLD_STOPPED, c, uid, SIGSTOP],
      [SIGCHLD, CLD_CONTINUED, c, uid, SIGCONT],
      [SIGCHLD, CLD_KILLED, c, uid, SIGKILL],
    ]);
  });

  it("killinfo: kill gives SI_USER with the sender's pid and uid, tgkill SI_TKILL; without SA_SIGINFO the handler gets no siginfo", () => {
    const m = boot();
    const r = m.spawn(program("r", function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: function* (s, _sig, info) { yield* say(s, "usr1", infoOf(info)); }, flags: SA_SIGINFO });
      yield* sys.sigaction(SIGUSR2, { handler: function* (s, _sig, info) { yield* say(s, "usr2", infoOf(info)); } });
      yield* sleepUntil(sys, 10 * MS);
    }), { uid: 1000 });
    // Root may signal anyone: the siginfo names root, not the receiver's user.
    const s = m.spawn(program("s", function* (sys) {
      yield* sys.sleep(1 * MS);
      yield* sys.kill(r, SIGUSR1);
      yield* sys.sleep(1 * MS);
      yield* sys.tgkill(r, r, SIGUSR1);
      yield* sys.sleep(1 * MS);
      yield* sys.kill(r, SIGUSR2);
    }), { uid: 0 });
    m.run();
    expect(said(m, "usr1")).toEqual([
      [SIGUSR1, SI_USER, s, 0, 0],
      [SIGUSR1, SI_TKILL, s, 0, 0],
    ]);
    expect(said(m, "usr2")).toEqual([null]);
  });

  it("siginfocoalesce: a standard signal sent twice while blocked is delivered once, with the first sender's siginfo (legacy_queue)", () => {
    const m = boot();
    const r = m.spawn(program("r", function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: function* (s, _sig, info) { yield* say(s, "usr1", infoOf(info)); }, flags: SA_SIGINFO });
      yield* sys.sigprocmask(SIG_BLOCK, [SIGUSR1]);
      yield* sleepUntil(sys, 5 * MS);
      yield* sys.sigprocmask(SIG_UNBLOCK, [SIGUSR1]);
      yield* sleepUntil(sys, 6 * MS);
    }));
    const s1 = m.spawn(program("s1", function* (sys) { yield* sys.sleep(1 * MS); yield* sys.kill(r, SIGUSR1); }), { uid: 0 });
    m.spawn(program("s2", function* (sys) { yield* sys.sleep(2 * MS); yield* sys.kill(r, SIGUSR1); }), { uid: 0 });
    m.run();
    expect(said(m, "usr1")).toEqual([[SIGUSR1, SI_USER, s1, 0, 0]]);
  });

  it("siginforeal: real-time signals queue, each instance with its own siginfo, delivered in the order sent", () => {
    const RT = 40;
    const m = boot();
    const r = m.spawn(program("r", function* (sys) {
      yield* sys.sigaction(RT, { handler: function* (s, _sig, info) { yield* say(s, "rt", infoOf(info)); }, flags: SA_SIGINFO });
      yield* sys.sigprocmask(SIG_BLOCK, [RT]);
      yield* sleepUntil(sys, 5 * MS);
      yield* sys.sigprocmask(SIG_UNBLOCK, [RT]);
      yield* sleepUntil(sys, 6 * MS);
    }));
    const s1 = m.spawn(program("s1", function* (sys) { yield* sys.sleep(1 * MS); yield* sys.kill(r, RT); }), { uid: 0 });
    const s2 = m.spawn(program("s2", function* (sys) { yield* sys.sleep(2 * MS); yield* sys.kill(r, RT); yield* sys.kill(r, RT); }), { uid: 0 });
    m.run();
    expect(said(m, "rt")).toEqual([[RT, SI_USER, s1, 0, 0], [RT, SI_USER, s2, 0, 0], [RT, SI_USER, s2, 0, 0]]);
  });

  it("siginfostopcut: a CLD_STOPPED sent because SIGCONT cut a group stop short carries si_status 0 (prepare_signal zeroes group_exit_code)", () => {
    const m = boot({ cpus: 1 });
    m.spawn(program("parent", function* (sys) {
      yield* sys.sigaction(SIGCHLD, { handler: function* (s, _sig, info) { yield* say(s, "chld", [info!.code, info!.status]); }, flags: SA_SIGINFO });
      const c = yield* sys.fork();
      if (c === 0) {
        // A second thread in uninterruptible I/O: the group stop cannot complete before SIGCONT.
        yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) { yield* s.io(20 * MS); for (;;) yield* s.compute(1e9); });
        for (;;) yield* sys.compute(1e9);
      }
      yield* sys.sleep(2 * MS);
      yield* sys.kill(c, SIGSTOP);
      yield* sys.sleep(2 * MS);
      yield* sys.kill(c, SIGCONT);
      yield* sys.sleep(30 * MS);
      yield* sys.kill(c, SIGKILL);
      yield* sys.waitpid(c, 0);
    }));
    m.run(200 * MS);
    expect(said(m, "chld")[0]).toEqual([CLD_STOPPED, 0]);
  });

  it("siginfotrace: signal_deliver carries the siginfo's code, as signal_generate does", () => {
    const m = boot();
    const codes: [string, number, number][] = [];
    let p = 0;
    m.kernel.trace.subscribe((e) => {
      if ((e.name === "signal_generate" || e.name === "signal_deliver") && e.sig === SIGCHLD && e.pid === p) codes.push([e.name, e.sig, e.code]);
    });
    p = m.spawn(program("p", function* (sys) {
      yield* sys.sigaction(SIGCHLD, { handler: function* () {}, flags: SA_SIGINFO });
      const c = yield* sys.fork();
      if (c === 0) return 3;
      yield* sys.pause();
      yield* sys.waitpid(c, 0);
    }));
    m.run();
    expect(codes).toEqual([["signal_generate", SIGCHLD, CLD_EXITED], ["signal_deliver", SIGCHLD, CLD_EXITED]]);
  });

  it("siginforeplay: a child forked after an SA_SIGINFO handler ran replays it with the same siginfo", () => {
    const { m } = run(function* (sys) {
      let seen = "none";
      yield* sys.sigaction(SIGCHLD, { handler: function* (_s, _sig, info) { seen = `${info?.code}:${info?.status}`; }, flags: SA_SIGINFO });
      const a = yield* sys.fork();
      if (a === 0) return 9;
      yield* sys.pause();
      yield* sys.waitpid(a, 0);
      const b = yield* sys.fork();
      yield* say(sys, b === 0 ? "child.seen" : "parent.seen", seen);
      if (b === 0) return 0;
      yield* sys.waitpid(b, 0);
    });
    expect(one(m, "parent.seen")).toBe(`${CLD_EXITED}:9`);
    expect(one(m, "child.seen")).toBe(`${CLD_EXITED}:9`);
  });
});

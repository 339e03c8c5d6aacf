/**
 * wait4 / waitpid / waitid (kernel/exit.c do_wait; linux-facts 4.1, 4.2, 5.4).
 * Status words are the ones observed on Linux 6.18: exit(3) 0x300, SIGKILL 0x9,
 * SIGSTOP stop 0x137f, SIGTSTP stop 0x147f, continued 0xffff.
 */
import { describe, expect, it } from "vitest";
import { run, say, one, said, sleepUntil, MS } from "./helpers.ts";
import {
  ECHILD, EINVAL, EINTR, ESRCH, WNOHANG, WUNTRACED, WCONTINUED, WEXITED, WSTOPPED, WNOWAIT, P_ALL, P_PID, P_PGID,
  SIGKILL, SIGSTOP, SIGCONT, SIGTSTP, SIGTERM, SIGCHLD, SIGUSR1, SA_RESTART, SA_NOCLDWAIT, SA_NOCLDSTOP,
  CLD_EXITED, CLD_KILLED, CLD_STOPPED, CLD_CONTINUED,
} from "../../src/user/libc.ts";

describe("wait4 selectors", () => {
  it("waitpidany: pid -1 reaps any child; ECHILD when none are left", () => {
    const { m } = run(function* (sys) {
      for (let i = 1; i <= 3; i++) if ((yield* sys.fork()) === 0) return i;
      const got: number[] = [];
      for (let i = 0; i < 3; i++) got.push((yield* sys.waitpid(-1, 0)).status >> 8);
      yield* say(sys, "got", got.sort());
      yield* say(sys, "echild", (yield* sys.waitpid(-1, 0)).pid);
    });
    expect(one(m, "got")).toEqual([1, 2, 3]);
    expect(one(m, "echild")).toBe(-ECHILD);
  });

  it("waitpidone: pid > 0 waits for that child only; a pid that is not our child is ECHILD", () => {
    const { m } = run(function* (sys) {
      const a = yield* sys.fork();
      if (a === 0) { yield* sys.sleep(1 * MS); return 1; }
      const b = yield* sys.fork();
      if (b === 0) { yield* sys.sleep(5 * MS); return 2; }
      const r = yield* sys.waitpid(b, 0);
      yield* say(sys, "b", [r.pid === b, r.status, yield* sys.now()]);
      yield* say(sys, "a", (yield* sys.waitpid(a, 0)).status);
      yield* say(sys, "notchild", (yield* sys.waitpid(1, 0)).pid);
    });
    expect(one(m, "b")).toEqual([true, 0x200, 5 * MS]);
    expect(one(m, "a")).toBe(0x100);
    expect(one(m, "notchild")).toBe(-ECHILD);
  });

  it("waitpidgroup: pid 0 waits for children in the caller's group, pid < -1 for group -pid", () => {
    const { m } = run(function* (sys) {
      const a = yield* sys.fork();
      if (a === 0) { yield* sys.sleep(5 * MS); return 1; }
      const b = yield* sys.fork();
      if (b === 0) { yield* sys.setpgid(0, 0); yield* sys.sleep(2 * MS); return 2; }
      yield* sys.setpgid(b, b); // race-free: both parent and child set it
      const r0 = yield* sys.waitpid(0, 0); // only a is in our group
      yield* say(sys, "zero", [r0.pid === a, r0.status]);
      const rg = yield* sys.waitpid(-b, 0);
      yield* say(sys, "group", [rg.pid === b, rg.status]);
      yield* say(sys, "emptygroup", (yield* sys.waitpid(-b, 0)).pid);
    });
    expect(one(m, "zero")).toEqual([true, 0x100]);
    expect(one(m, "group")).toEqual([true, 0x200]);
    expect(one(m, "emptygroup")).toBe(-ECHILD);
  });

  it("waitnohang: WNOHANG gives 0 while children run, ECHILD with none", () => {
    const { m } = run(function* (sys) {
      yield* say(sys, "none", (yield* sys.waitpid(-1, WNOHANG)).pid);
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.sleep(1 * MS); return 0; }
      yield* say(sys, "running", (yield* sys.waitpid(-1, WNOHANG)).pid);
      yield* sys.sleep(2 * MS);
      yield* say(sys, "done", (yield* sys.waitpid(-1, WNOHANG)).pid === c);
    });
    expect(one(m, "none")).toBe(-ECHILD);
    expect(one(m, "running")).toBe(0);
    expect(one(m, "done")).toBe(true);
  });

  it("waitbadoptions: unknown wait4 options are EINVAL; waitid without WEXITED|WSTOPPED|WCONTINUED is EINVAL", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) return 0;
      yield* say(sys, "wait4.bad", (yield* sys.waitpid(-1, 0x100)).pid);
      yield* say(sys, "wait4.wnowait", (yield* sys.waitpid(-1, WNOWAIT)).pid); // waitid only
      yield* say(sys, "waitid.none", (yield* sys.waitid(P_ALL, 0, 0)).ret);
      yield* say(sys, "waitid.nohang-only", (yield* sys.waitid(P_ALL, 0, WNOHANG)).ret);
      yield* say(sys, "waitid.badtype", (yield* sys.waitid(7, 0, WEXITED)).ret);
      yield* say(sys, "waitid.pid0", (yield* sys.waitid(P_PID, 0, WEXITED)).ret);
      yield* say(sys, "ok", (yield* sys.waitpid(c, 0)).pid === c);
    });
    expect(one(m, "wait4.bad")).toBe(-EINVAL);
    expect(one(m, "wait4.wnowait")).toBe(-EINVAL);
    expect(one(m, "waitid.none")).toBe(-EINVAL);
    expect(one(m, "waitid.nohang-only")).toBe(-EINVAL);
    expect(one(m, "waitid.badtype")).toBe(-EINVAL);
    expect(one(m, "waitid.pid0")).toBe(-EINVAL);
    expect(one(m, "ok")).toBe(true);
  });

  it("waitintmin: wait4(INT_MIN) is ESRCH (-INT_MIN is not defined)", () => {
    const { m } = run(function* (sys) {
      yield* say(sys, "r", (yield* sys.waitpid(-0x80000000, 0)).pid);
    });
    expect(one(m, "r")).toBe(-ESRCH);
  });
});

describe("status words", () => {
  it("exitstatus: exit(3) is 0x300, return 300 from main is masked to 8 bits", () => {
    const { m } = run(function* (sys) {
      const a = yield* sys.fork();
      if (a === 0) yield* sys.exit(3);
      yield* say(sys, "exit3", (yield* sys.waitpid(a, 0)).status);
      const b = yield* sys.fork();
      if (b === 0) return 300;
      yield* say(sys, "ret300", (yield* sys.waitpid(b, 0)).status);
    });
    expect(one(m, "exit3")).toBe(0x300);
    expect(one(m, "ret300")).toBe((300 & 0xff) << 8);
  });

  it("killstatus: killed by SIGKILL is 0x9", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.compute(100 * MS); return 0; }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGKILL);
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "status", r.status);
      yield* say(sys, "at", yield* sys.now());
    });
    expect(one(m, "status")).toBe(0x9);
    expect(one(m, "at")).toBe(1 * MS);
  });

  it("stopcont: SIGSTOP gives 0x137f with WUNTRACED, SIGCONT 0xffff with WCONTINUED; each reported once", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.compute(10 * MS); return 2; }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGSTOP);
      const s = yield* sys.waitpid(c, WUNTRACED);
      yield* say(sys, "stopped", s.status);
      yield* say(sys, "stopped.again", (yield* sys.waitpid(c, WUNTRACED | WNOHANG)).pid);
      yield* sys.sleep(5 * MS);
      yield* sys.kill(c, SIGCONT);
      const r = yield* sys.waitpid(c, WCONTINUED);
      yield* say(sys, "continued", r.status);
      yield* say(sys, "continued.again", (yield* sys.waitpid(c, WCONTINUED | WNOHANG)).pid);
      const e = yield* sys.waitpid(c, 0);
      yield* say(sys, "exit", [e.status, yield* sys.now()]);
    });
    expect(one(m, "stopped")).toBe(0x137f);
    expect(one(m, "stopped.again")).toBe(0);
    expect(one(m, "continued")).toBe(0xffff);
    expect(one(m, "continued.again")).toBe(0);
    expect(one(m, "exit")).toEqual([0x200, 15 * MS]); // 1 ms before the stop + 9 ms after 6 ms stopped
  });

  it("tstpstatus: SIGTSTP stop is 0x147f; a plain waitpid does not report stops", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.setpgid(0, 0); yield* sys.compute(10 * MS); return 0; }
      yield* sys.setpgid(c, c);
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGTSTP);
      yield* sys.sleep(1 * MS);
      yield* say(sys, "plain", (yield* sys.waitpid(c, WNOHANG)).pid);
      yield* say(sys, "stopped", (yield* sys.waitpid(c, WUNTRACED)).status);
      yield* sys.kill(c, SIGKILL);
      yield* say(sys, "killed", (yield* sys.waitpid(c, 0)).status);
    });
    expect(one(m, "plain")).toBe(0);
    expect(one(m, "stopped")).toBe(0x147f);
    expect(one(m, "killed")).toBe(0x9);
  });

  it("stoppedterm: SIGTERM to a stopped child stays pending (T) until SIGCONT, then status 0xf", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.compute(10 * MS); return 0; }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGSTOP);
      yield* sys.waitpid(c, WUNTRACED);
      yield* sys.kill(c, SIGTERM);
      yield* sys.sleep(5 * MS);
      yield* say(sys, "still.stopped", (yield* sys.waitpid(c, WNOHANG)).pid);
      yield* sys.kill(c, SIGCONT);
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "status", r.status);
      yield* say(sys, "at", yield* sys.now());
    });
    expect(one(m, "still.stopped")).toBe(0);
    expect(one(m, "status")).toBe(0xf);
    expect(one(m, "at")).toBe(6 * MS);
  });

  it("stopkill: SIGKILL kills a stopped child at once", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.compute(10 * MS); return 0; }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGSTOP);
      yield* sys.waitpid(c, WUNTRACED);
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGKILL);
      const r = yield* sys.waitpid(c, WUNTRACED);
      yield* say(sys, "status", [r.status, yield* sys.now()]);
    });
    expect(one(m, "status")).toEqual([0x9, 2 * MS]);
  });

  it("stopstopcont: stop, continue, stop again: WCONTINUED alone does not report the old continue", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.compute(10 * MS); return 0; }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGSTOP);
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGCONT);
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGSTOP);
      yield* sys.sleep(1 * MS);
      yield* say(sys, "cont", (yield* sys.waitpid(c, WCONTINUED | WNOHANG)).pid);
      yield* say(sys, "stop", (yield* sys.waitpid(c, WUNTRACED | WNOHANG)).status);
      yield* sys.kill(c, SIGKILL);
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "cont")).toBe(0);
    expect(one(m, "stop")).toBe(0x137f);
  });
});

describe("waitid", () => {
  it("waitidcodes: CLD_EXITED/CLD_KILLED/CLD_STOPPED/CLD_CONTINUED with si_status", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.compute(10 * MS); return 7; }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGSTOP);
      const s = yield* sys.waitid(P_PID, c, WSTOPPED);
      yield* say(sys, "stopped", [s.ret, s.pid === c, s.code, s.status]);
      yield* sys.kill(c, SIGCONT);
      const k = yield* sys.waitid(P_ALL, 0, WCONTINUED);
      yield* say(sys, "continued", [k.code, k.status]);
      const e = yield* sys.waitid(P_PGID, 0, WEXITED);
      yield* say(sys, "exited", [e.code, e.status]);
      const d = yield* sys.fork();
      if (d === 0) { yield* sys.pause(); return 0; }
      yield* sys.kill(d, SIGTERM);
      const x = yield* sys.waitid(P_PID, d, WEXITED);
      yield* say(sys, "killed", [x.code, x.status]);
    });
    expect(one(m, "stopped")).toEqual([0, true, CLD_STOPPED, SIGSTOP]);
    expect(one(m, "continued")).toEqual([CLD_CONTINUED, SIGCONT]);
    expect(one(m, "exited")).toEqual([CLD_EXITED, 7]);
    expect(one(m, "killed")).toEqual([CLD_KILLED, SIGTERM]);
  });

  it("waitidnowait: WNOWAIT leaves the child waitable (zombie stays)", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) return 4;
      const a = yield* sys.waitid(P_PID, c, WEXITED | WNOWAIT);
      const b = yield* sys.waitid(P_PID, c, WEXITED | WNOWAIT);
      yield* say(sys, "peek", [a.pid === c, a.status, b.pid === c, b.status]);
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "reap", [r.pid === c, r.status]);
      yield* say(sys, "gone", (yield* sys.waitid(P_PID, c, WEXITED | WNOHANG)).ret);
    });
    expect(one(m, "peek")).toEqual([true, 4, true, 4]);
    expect(one(m, "reap")).toEqual([true, 0x400]);
    expect(one(m, "gone")).toBe(-ECHILD);
  });

  it("waitidnohang: WNOHANG with nothing ready returns 0 and si_pid 0", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.sleep(1 * MS); return 0; }
      const r = yield* sys.waitid(P_ALL, 0, WEXITED | WNOHANG);
      yield* say(sys, "r", [r.ret, r.pid]);
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "r")).toEqual([0, 0]);
  });

  it("waitidstoppedonly: WSTOPPED alone does not report an exit: with only a zombie to wait for it is ECHILD (wait_task_zombie passes over it and notask_error stays)", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.sleep(1 * MS); return 0; }
      yield* sys.sleep(2 * MS);
      const r = yield* sys.waitid(P_PID, c, WSTOPPED | WNOHANG);
      yield* say(sys, "r", [r.ret, r.pid]);
      yield* say(sys, "exit", (yield* sys.waitid(P_PID, c, WEXITED)).code);
    });
    expect(one(m, "r")).toEqual([-ECHILD, 0]);
    expect(one(m, "exit")).toBe(CLD_EXITED); // still there for WEXITED
  });
});

describe("wait and signals", () => {
  it("waitintr: a handler without SA_RESTART interrupts wait with EINTR", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "handler", true); } });
      const me = yield* sys.getpid();
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.sleep(1 * MS);
        yield* sys.kill(me, SIGUSR1);
        yield* sys.sleep(5 * MS);
        return 0;
      }
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "wait", [r.pid, yield* sys.now()]);
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "handler")).toBe(true);
    expect(one(m, "wait")).toEqual([-EINTR, 1 * MS]);
  });

  it("waitrestart: with SA_RESTART the interrupted wait restarts and reaps the child", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "handler", true); }, flags: SA_RESTART });
      const me = yield* sys.getpid();
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.sleep(1 * MS);
        yield* sys.kill(me, SIGUSR1);
        yield* sys.sleep(5 * MS);
        return 3;
      }
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "wait", [r.pid === c, r.status, yield* sys.now()]);
    });
    expect(one(m, "handler")).toBe(true);
    expect(one(m, "wait")).toEqual([true, 0x300, 6 * MS]);
  });

  it("waitignoredsignal: an ignored signal does not interrupt wait", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: "ign" });
      const me = yield* sys.getpid();
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.sleep(1 * MS);
        yield* sys.kill(me, SIGUSR1);
        yield* sys.kill(me, SIGCHLD); // default action ignore
        yield* sys.sleep(1 * MS);
        return 1;
      }
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "wait", [r.pid === c, yield* sys.now()]);
    });
    expect(one(m, "wait")).toEqual([true, 2 * MS]);
  });

  it("sigchldign: with SIGCHLD SIG_IGN children are reaped at once and wait gives ECHILD", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGCHLD, { handler: "ign" });
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.sleep(1 * MS); return 1; }
      const r = yield* sys.waitpid(-1, 0); // blocks until the child is gone, then ECHILD
      yield* say(sys, "wait", [r.pid, yield* sys.now()]);
    });
    expect(one(m, "wait")).toEqual([-ECHILD, 1 * MS]);
  });

  it("nocldwait: SA_NOCLDWAIT reaps at once but still sends SIGCHLD", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGCHLD, { handler: function* (s) { yield* say(s, "sigchld", true); }, flags: SA_NOCLDWAIT });
      const c = yield* sys.fork();
      if (c === 0) return 1;
      yield* sys.sleep(1 * MS);
      yield* say(sys, "wait", (yield* sys.waitpid(-1, WNOHANG)).pid);
    });
    expect(said(m, "sigchld")).toEqual([true]);
    expect(one(m, "wait")).toBe(-ECHILD);
  });

  it("nocldstop: SA_NOCLDSTOP suppresses SIGCHLD for stops but not for exits", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGCHLD, { handler: function* (s) { yield* say(s, "sigchld", yield* s.now()); }, flags: SA_NOCLDSTOP | SA_RESTART });
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.compute(3 * MS); return 0; }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGSTOP);
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGCONT);
      yield* sys.waitpid(c, 0);
    });
    expect(said(m, "sigchld")).toEqual([4 * MS]);
  });

  it("sigchldstop: without SA_NOCLDSTOP the parent gets SIGCHLD for stop and continue too", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGCHLD, { handler: function* (s) { yield* say(s, "sigchld", yield* s.now()); }, flags: SA_RESTART });
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.compute(3 * MS); return 0; }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGSTOP);
      const r = yield* sys.sleep(1 * MS); // the stop's SIGCHLD handler interrupts nanosleep: -EINTR even with SA_RESTART
      yield* say(sys, "sleep", r);
      yield* sleepUntil(sys, 2 * MS);
      yield* sys.kill(c, SIGCONT);
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "sleep")).toBe(-EINTR);
    expect(said(m, "sigchld")).toEqual([1 * MS, 2 * MS, 4 * MS]);
  });
});

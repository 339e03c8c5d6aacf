/**
 * Process groups and sessions (kernel/sys.c setpgid, setsid, getpgid, getsid;
 * linux-facts 5.5, 5.6).
 */
import { describe, expect, it } from "vitest";
import { run, say, one, said, boot, program, sleepUntil, MS } from "./helpers.ts";
import { EPERM, ESRCH, EACCES, EINVAL, SIGHUP, SIGCONT, SIGSTOP, SIGTSTP, WUNTRACED } from "../../src/user/libc.ts";

describe("setsid", () => {
  it("setsid: a non-leader becomes leader of a new session and group named after its pid", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        const me = yield* sys.getpid();
        const r = yield* sys.setsid();
        yield* say(sys, "r", [r === me, (yield* sys.getsid()) === me, (yield* sys.getpgid()) === me]);
        yield* say(sys, "again", yield* sys.setsid()); // now a group leader
        return 0;
      }
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "r")).toEqual([true, true, true]);
    expect(one(m, "again")).toBe(-EPERM);
  });

  it("setsidleader: setsid by a process-group leader is EPERM", () => {
    const { m } = run(function* (sys) {
      yield* sys.setpgid(0, 0);
      yield* say(sys, "r", yield* sys.setsid());
    });
    expect(one(m, "r")).toBe(-EPERM);
  });

  it("setsidgroupexists: EPERM while a group named after the caller's pid still exists, even if the caller left it", () => {
    const { m } = run(function* (sys) {
      yield* sys.setpgid(0, 0);
      const c = yield* sys.fork(); // stays in our group
      if (c === 0) { yield* sys.sleep(5 * MS); return 0; }
      const d = yield* sys.fork();
      if (d === 0) { yield* sys.setpgid(0, 0); yield* sys.sleep(5 * MS); return 0; }
      yield* sys.setpgid(d, d);
      yield* say(sys, "join", yield* sys.setpgid(0, d)); // we leave our group; c keeps it alive
      yield* say(sys, "setsid", yield* sys.setsid());
      yield* sys.waitpid(c, 0);
      yield* sys.waitpid(d, 0);
    });
    expect(one(m, "join")).toBe(0);
    expect(one(m, "setsid")).toBe(-EPERM);
  });
});

describe("setpgid", () => {
  it("setpgidself: setpgid(0, 0) makes the caller a group leader; pgid is inherited by fork", () => {
    const { m } = run(function* (sys) {
      const me = yield* sys.getpid();
      yield* say(sys, "before", (yield* sys.getpgid()) === me);
      yield* say(sys, "ret", yield* sys.setpgid(0, 0));
      yield* say(sys, "after", (yield* sys.getpgid()) === me);
      const c = yield* sys.fork();
      if (c === 0) {
        yield* say(sys, "child", (yield* sys.getpgid()) === me);
        yield* say(sys, "child.sid", yield* sys.getsid());
        return 0;
      }
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "before")).toBe(false);
    expect(one(m, "ret")).toBe(0);
    expect(one(m, "after")).toBe(true);
    expect(one(m, "child")).toBe(true);
    expect(one(m, "child.sid")).toBe(1);
  });

  it("setpgidesrch: the target must be the caller or its child (ESRCH); a missing pid is ESRCH", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        const g = yield* sys.fork();
        if (g === 0) { yield* sys.sleep(5 * MS); return 0; }
        yield* sys.waitpid(g, 0);
        return 0;
      }
      yield* sys.sleep(1 * MS);
      yield* say(sys, "grandchild", yield* sys.setpgid(c + 1, 0));
      yield* say(sys, "parent", yield* sys.setpgid(yield* sys.getppid(), 0));
      yield* say(sys, "nosuch", yield* sys.setpgid(31000, 0));
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "grandchild")).toBe(-ESRCH);
    expect(one(m, "parent")).toBe(-ESRCH);
    expect(one(m, "nosuch")).toBe(-ESRCH);
  });

  it("setpgideacces: setpgid on a child that has exec'd is EACCES", () => {
    const m = boot();
    m.install("/bin/sleeper", program("sleeper", function* (sys) { yield* sys.sleep(10 * MS); }));
    m.spawn(
      program("t", function* (sys) {
        const c = yield* sys.fork();
        if (c === 0) { yield* sys.execve("/bin/sleeper"); return 127; }
        yield* say(sys, "before", yield* sys.setpgid(c, c)); // not yet exec'd (the child has not run)
        yield* sys.sleep(1 * MS);
        yield* say(sys, "after", yield* sys.setpgid(c, 0));
        yield* sys.waitpid(c, 0);
      }),
    );
    m.run();
    expect(one(m, "before")).toBe(0);
    expect(one(m, "after")).toBe(-EACCES);
  });

  it("setpgideperm: EPERM for a session leader, a child in another session, or a group in another session", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.setsid(); yield* sys.sleep(5 * MS); return 0; }
      const d = yield* sys.fork();
      if (d === 0) { yield* sys.sleep(5 * MS); return 0; }
      yield* sys.sleep(1 * MS);
      yield* say(sys, "child.other.session", yield* sys.setpgid(c, 0));
      yield* say(sys, "group.other.session", yield* sys.setpgid(d, c));
      yield* say(sys, "group.missing", yield* sys.setpgid(d, 31000));
      yield* say(sys, "ok", yield* sys.setpgid(d, d));
      yield* say(sys, "join", yield* sys.setpgid(0, d)); // join our child's group: same session
      yield* say(sys, "pgid.is.d", (yield* sys.getpgid()) === d);
      yield* sys.waitpid(c, 0);
      yield* sys.waitpid(d, 0);
    });
    expect(one(m, "child.other.session")).toBe(-EPERM);
    expect(one(m, "group.other.session")).toBe(-EPERM);
    expect(one(m, "group.missing")).toBe(-EPERM);
    expect(one(m, "ok")).toBe(0);
    expect(one(m, "join")).toBe(0);
    expect(one(m, "pgid.is.d")).toBe(true);
  });

  it("setpgidsessionleader: a session leader cannot change its own group (EPERM)", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.setsid();
        yield* say(sys, "r", yield* sys.setpgid(0, 0));
        return 0;
      }
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "r")).toBe(-EPERM);
  });

  it("setpgideinval: a negative pgid is EINVAL; so is a thread id that is not a process", () => {
    const { m } = run(function* (sys) {
      yield* say(sys, "r", yield* sys.setpgid(0, -5));
      const tid = yield* sys.clone(0x100 | 0x200 | 0x400 | 0x800 | 0x10000, function* (s) { yield* s.sleep(2 * MS); });
      yield* say(sys, "thread", yield* sys.setpgid(tid, 0));
    });
    expect(one(m, "r")).toBe(-EINVAL);
    expect(one(m, "thread")).toBe(-EINVAL);
  });
});

describe("getpgid / getsid", () => {
  it("getpgidesrch: getpgid/getsid of a missing pid are ESRCH; of another live process they work", () => {
    const { m } = run(function* (sys) {
      yield* say(sys, "pgid.none", yield* sys.getpgid(31000));
      yield* say(sys, "sid.none", yield* sys.getsid(31000));
      yield* say(sys, "init", [yield* sys.getpgid(1), yield* sys.getsid(1)]);
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.setsid(); yield* sys.sleep(2 * MS); return 0; }
      yield* sys.sleep(1 * MS);
      yield* say(sys, "child", [(yield* sys.getpgid(c)) === c, (yield* sys.getsid(c)) === c]);
      yield* sys.waitpid(c, 0);
      yield* say(sys, "reaped", yield* sys.getpgid(c));
    });
    expect(one(m, "pgid.none")).toBe(-ESRCH);
    expect(one(m, "sid.none")).toBe(-ESRCH);
    expect(one(m, "init")).toEqual([1, 1]);
    expect(one(m, "child")).toEqual([true, true]);
    expect(one(m, "reaped")).toBe(-ESRCH);
  });

  it("getpgidthread: getpgid of a thread id gives its process's group", () => {
    const { m } = run(function* (sys) {
      yield* sys.setpgid(0, 0);
      const tid = yield* sys.clone(0x100 | 0x200 | 0x400 | 0x800 | 0x10000, function* (s) { yield* s.sleep(2 * MS); });
      yield* say(sys, "r", (yield* sys.getpgid(tid)) === (yield* sys.getpid()));
      yield* say(sys, "sid", (yield* sys.getsid(tid)) === (yield* sys.getsid()));
    });
    expect(one(m, "r")).toBe(true);
    expect(one(m, "sid")).toBe(true);
  });
});

describe("orphaned process groups", () => {
  it("orphanedpgrp: when a group becomes orphaned with a stopped member, each member gets SIGHUP then SIGCONT", () => {
    const { m } = run(function* (sys) {
      // session 1 (init's); we make group A; the child B makes group B and stops.
      const a = yield* sys.fork();
      if (a === 0) {
        yield* sys.setpgid(0, 0);
        const b = yield* sys.fork();
        if (b === 0) {
          yield* sys.setpgid(0, 0);
          // Each handler masks the other, so they run in dequeue order rather than nested.
          yield* sys.sigaction(SIGHUP, { handler: function* (s) { yield* say(s, "b.got", "HUP"); }, mask: [SIGCONT] });
          yield* sys.sigaction(SIGCONT, { handler: function* (s) { yield* say(s, "b.got", "CONT"); }, mask: [SIGHUP] });
          yield* sys.kill(0, SIGSTOP);
          yield* say(sys, "b.resumed", true);
          return 0;
        }
        yield* sys.waitpid(b, WUNTRACED);
        return 0; // A exits: B's group loses its only outside parent
      }
      yield* sys.waitpid(a, 0);
      yield* sys.sleep(5 * MS);
    });
    expect(said(m, "b.got")).toEqual(["HUP", "CONT"]);
    expect(one(m, "b.resumed")).toBe(true);
  });

  it("orphanedtstp: SIGTSTP with the default action is ignored in an orphaned group; SIGSTOP still stops", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.setsid(); // new session: its group has no parent in the same session -> orphaned
        yield* sys.kill(0, SIGTSTP);
        yield* say(sys, "after.tstp", true);
        yield* sys.kill(0, SIGSTOP);
        yield* say(sys, "after.stop", true);
        return 0;
      }
      const r = yield* sys.waitpid(c, WUNTRACED);
      yield* say(sys, "status", r.status);
      yield* sys.kill(c, SIGCONT);
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "after.tstp")).toBe(true);
    expect(one(m, "status")).toBe(0x137f);
    expect(one(m, "after.stop")).toBe(true);
  });
});

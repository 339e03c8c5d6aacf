/**
 * execve (fs/exec.c; linux-facts 5.2 last item, 6.4): the pid, parent, process
 * group, session, mask and pending signals stay; caught handlers go back to
 * SIG_DFL while SIG_IGN stays; other threads die; comm becomes the new name.
 */
import { describe, expect, it } from "vitest";
import { say, one, said, boot, program, MS } from "./helpers.ts";
import { ENOENT, EFAULT, SIGTERM, SIGUSR1, SIGCHLD, CLONE_THREAD_FLAGS, WTERMSIG, WIFSIGNALED } from "../../src/user/libc.ts";

function machineWith(body: Parameters<typeof program>[1], cpus = 1) {
  const m = boot({ cpus });
  m.install(
    "/bin/probe",
    program("probe", function* (sys, argv) {
      yield* say(sys, "probe.argv", argv);
      yield* say(sys, "probe.pid", yield* sys.getpid());
      yield* say(sys, "probe.ppid", yield* sys.getppid());
      yield* say(sys, "probe.pgid", yield* sys.getpgid());
      yield* say(sys, "probe.sid", yield* sys.getsid());
      yield* say(sys, "probe.mask", yield* sys.sigprocmask(0, []));
      yield* sys.kill(yield* sys.getpid(), SIGTERM); // ignored if SIG_IGN survived exec
      yield* sys.kill(yield* sys.getpid(), SIGUSR1); // default action if the handler was reset
      yield* say(sys, "probe.survived", true);
      return 0;
    }),
  );
  const pid = m.spawn(program("t", body));
  return { m, pid };
}

describe("execve", () => {
  it("execkeeps: pid, ppid, pgid, sid and the signal mask survive exec; argv is passed", () => {
    const { m } = machineWith(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.setpgid(0, 0);
        yield* say(sys, "before.pid", yield* sys.getpid());
        yield* sys.sigprocmask(0, [SIGUSR1]); // blocked: USR1 stays pending, so the probe survives
        yield* sys.sigaction(SIGTERM, { handler: "ign" });
        yield* sys.execve("/bin/probe", ["probe", "a", "b"]);
        return 127;
      }
      yield* say(sys, "parent", yield* sys.getpid());
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "status", r.status);
    });
    m.run();
    expect(one(m, "probe.argv")).toEqual(["probe", "a", "b"]);
    expect(one(m, "probe.pid")).toBe(one(m, "before.pid"));
    expect(one(m, "probe.ppid")).toBe(one(m, "parent"));
    expect(one(m, "probe.pgid")).toBe(one(m, "before.pid"));
    expect(one(m, "probe.mask")).toEqual([SIGUSR1]);
    expect(one(m, "probe.survived")).toBe(true);
    expect(one(m, "status")).toBe(0);
  });

  it("execsigign: SIG_IGN survives exec, a caught handler is reset to SIG_DFL", () => {
    const { m } = machineWith(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.sigaction(SIGTERM, { handler: "ign" });
        yield* sys.sigaction(SIGUSR1, { handler: function* () {} });
        yield* sys.execve("/bin/probe");
        return 127;
      }
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "status", r.status);
    });
    m.run();
    expect(said(m, "probe.survived")).toEqual([]);
    expect(one(m, "status")).toBe(SIGUSR1); // killed by the default action of SIGUSR1, not by SIGTERM
  });

  it("execsigtermhandler: a SIGTERM handler does not survive exec", () => {
    const { m } = machineWith(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.sigaction(SIGTERM, { handler: function* () {} });
        yield* sys.execve("/bin/probe");
        return 127;
      }
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "sig", WIFSIGNALED(r.status) ? WTERMSIG(r.status) : -1);
    });
    m.run();
    expect(one(m, "sig")).toBe(SIGTERM);
  });

  it("execsigchldign: SIGCHLD SIG_IGN stays ignored across exec (Linux), so children are auto-reaped", () => {
    const m = boot();
    m.install(
      "/bin/parent",
      program("parent", function* (sys) {
        const c = yield* sys.fork();
        if (c === 0) return 1;
        yield* sys.sleep(1 * MS);
        yield* say(sys, "wait", (yield* sys.waitpid(c, 0)).pid);
      }),
    );
    m.spawn(
      program("t", function* (sys) {
        yield* sys.sigaction(SIGCHLD, { handler: "ign" });
        yield* sys.execve("/bin/parent");
      }),
    );
    m.run();
    expect(one(m, "wait")).toBe(-10); // ECHILD
  });

  it("execenoent: an unknown path is ENOENT and the caller goes on; a non-string path is EFAULT", () => {
    const { m } = machineWith(function* (sys) {
      yield* say(sys, "enoent", yield* sys.execve("/bin/nope"));
      yield* say(sys, "efault", yield* sys.syscall("execve", 42));
      yield* say(sys, "after", true);
    });
    m.run();
    expect(one(m, "enoent")).toBe(-ENOENT);
    expect(one(m, "efault")).toBe(-EFAULT);
    expect(one(m, "after")).toBe(true);
  });

  it("execcomm: comm becomes the new program's name, at most 15 characters", () => {
    const m = boot();
    m.install("/bin/averyveryverylongname", program("averyveryverylongname", function* (sys) { yield* sys.sleep(10 * MS); }));
    const pid = m.spawn(program("t", function* (sys) { yield* sys.execve("/bin/averyveryverylongname"); }));
    m.run(1 * MS);
    expect(m.task(pid)!.comm).toBe("averyveryverylo");
    m.run();
  });

  it("execthreads: exec in a multithreaded process kills the other threads; the pid stays", () => {
    const { m, pid } = machineWith(function* (sys) {
      for (let i = 0; i < 3; i++)
        yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
          yield* s.sleep(50 * MS);
          yield* say(s, "thread.survived", true);
        });
      yield* sys.sleep(1 * MS);
      yield* sys.sigaction(SIGUSR1, { handler: "ign" });
      yield* sys.sigaction(SIGTERM, { handler: "ign" });
      yield* sys.execve("/bin/probe");
    }, 2);
    m.run();
    expect(said(m, "thread.survived")).toEqual([]);
    expect(one(m, "probe.pid")).toBe(pid);
    expect(one(m, "probe.survived")).toBe(true);
    expect(m.kernel.tasks.size).toBe(1); // only init is left
  });

  it("execfromthread: exec by a non-leader thread: it takes over the leader's pid", () => {
    const { m, pid } = machineWith(function* (sys) {
      yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sigaction(SIGUSR1, { handler: "ign" });
        yield* s.sigaction(SIGTERM, { handler: "ign" });
        yield* s.execve("/bin/probe");
      });
      yield* sys.sleep(50 * MS);
      yield* say(sys, "main.survived", true);
    }, 2);
    m.run();
    expect(said(m, "main.survived")).toEqual([]);
    expect(one(m, "probe.pid")).toBe(pid);
    expect(one(m, "probe.ppid")).toBe(1);
    expect(one(m, "probe.survived")).toBe(true);
    expect(m.kernel.tasks.size).toBe(1);
    expect(m.kernel.pids.count).toBe(1); // every pid but init's is free again
  });
});

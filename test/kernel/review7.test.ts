/**
 * Review repros: each test states what Linux 6.x does; they failed on TaskLab before the fixes (review of the process lifecycle).
 */
import { describe, expect, it } from "vitest";
import { run, say, said, one, boot, program, MS } from "./helpers.ts";
import {
  CLONE_THREAD_FLAGS, CLONE_VM, CLONE_SIGHAND, CLONE_THREAD, CLONE_PIDFD, CLONE_PARENT_SETTID,
  SIGCHLD, SIGUSR1, SA_SIGINFO, SA_RESTART, __WALL, EINVAL, EPERM,
} from "../../src/user/libc.ts";

describe("lifecycle review", () => {
  it("F1 fork from a thread: the child has its own copy of memory (replay must not write into the parent)", () => {
    const { m } = run(function* (sys) {
      let requests = 0;
      let status = "idle";
      yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        requests++;
        const c = yield* s.fork();
        if (c === 0) { status = "child"; return 0; }
        yield* s.waitpid(c, 0);
      });
      yield* sys.sleep(5 * MS);
      yield* say(sys, "seen", [requests, status]);
    });
    expect(one(m, "seen")).toEqual([1, "idle"]); // TaskLab: [2, "child"]
  });

  it("F2 clone(SIGCHLD, fn) without CLONE_VM: the child writes to its own copy", () => {
    const { m } = run(function* (sys) {
      let x = 0;
      const box = { n: 0 };
      const c = yield* sys.clone(SIGCHLD, function* (_s, arg: { n: number }) { x = 42; arg.n = 7; return 0; }, box);
      yield* sys.waitpid(c, 0);
      yield* say(sys, "seen", [x, box.n]);
    });
    expect(one(m, "seen")).toEqual([0, 0]); // TaskLab: [42, 7]
  });

  it("F3 clone flag checks: harmless flags accepted, namespaces EPERM unprivileged, PIDFD combos", () => {
    const body = function* () { return 0; };
    const { m } = run(function* (sys) {
      const r = (f: number) => sys.clone(f, body);
      const got = [
        (yield* r(0x80000000 | SIGCHLD)) > 0, // CLONE_IO
        (yield* r(0x00002000 | SIGCHLD)) > 0, // CLONE_PTRACE (not traced: no effect)
        (yield* r(0x00800000 | SIGCHLD)) > 0, // CLONE_UNTRACED
        yield* r(0x20000000 | SIGCHLD), // CLONE_NEWPID, uid 1000
        yield* r(CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD), // same pointer in legacy clone
        (yield* r(CLONE_PIDFD | CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)) > 0, // allowed since 6.9
      ];
      for (;;) if ((yield* sys.waitpid(-1, __WALL)).pid < 0) break;
      yield* say(sys, "got", got);
    });
    expect(one(m, "got")).toEqual([true, true, true, -EPERM, -EINVAL, true]);
  });

  it("F4 a clone child's exit signal survives a threaded reparent in an exec'd process (self_exec_id is inherited)", () => {
    const m = boot();
    m.install("/bin/x", program("x", function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: function* (s, _sig, info) { yield* say(s, "usr1", info!.pid); }, flags: SA_SIGINFO | SA_RESTART });
      yield* sys.sigaction(SIGCHLD, { handler: function* (s, _sig, info) { yield* say(s, "chld", info!.pid); }, flags: SA_SIGINFO | SA_RESTART });
      yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.clone(SIGUSR1, function* (s2) { yield* s2.sleep(5 * MS); return 2; });
        yield* s.exitThread(0); // the clone child goes to the leader (find_alive_thread), exit_signal kept
      });
      yield* sys.sleep(10 * MS);
      yield* sys.waitpid(-1, __WALL);
      return 0;
    }));
    m.spawn(program("sh", function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.execve("/bin/x"); return 127; }
      yield* sys.waitpid(c, 0);
    }));
    m.run();
    expect(one(m, "usr1")).toBeGreaterThan(0); // TaskLab: SIGCHLD instead ("chld"), no "usr1"
  });

  it("R1 a thread that forks again and again: each child's replay of main gets its own argv (main's argv.shift() must not eat the original)", () => {
    const m = boot();
    m.spawn(program("t", function* (sys, argv: string[]) {
      const first = argv.shift();
      yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        for (let i = 0; i < 3; i++) {
          const c = yield* s.fork();
          if (c === 0) {
            yield* say(s, "child", first);
            return 0;
          }
          yield* s.waitpid(c, 0);
        }
      });
      yield* sys.sleep(5 * MS);
    }), { argv: ["t", "a", "b", "c"] });
    m.run();
    expect(said(m, "child")).toEqual(["t", "t", "t"]); // was ["t", "a", "b"]
  });
});

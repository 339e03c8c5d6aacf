/**
 * fork / vfork / clone (kernel/fork.c copy_process; linux-facts 6.1, 6.3).
 */
import { describe, expect, it } from "vitest";
import { run, say, one, said, boot, program, letter, MS } from "./helpers.ts";
import {
  CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND, CLONE_THREAD, CLONE_PARENT, CLONE_VFORK, CLONE_THREAD_FLAGS,
  SIGCHLD, EINVAL, ECHILD, WEXITSTATUS, __WCLONE, __WALL,
} from "../../src/user/libc.ts";

describe("fork", () => {
  it("forktwice: fork returns the child pid in the parent and 0 in the child", () => {
    const { m, pid } = run(function* (sys) {
      const me = yield* sys.getpid();
      const c = yield* sys.fork();
      if (c === 0) {
        yield* say(sys, "child.ppid", (yield* sys.getppid()) === me);
        yield* say(sys, "child.pid", yield* sys.getpid());
        return 0;
      }
      yield* say(sys, "parent.ret", c);
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "child.ppid")).toBe(true);
    expect(one(m, "child.pid")).toBe(one(m, "parent.ret"));
    expect(one(m, "parent.ret")).toBe(pid + 1); // consecutive forks get consecutive pids
  });

  it("forkstate: the child continues with the parent's state as it was at the fork", () => {
    const { m } = run(function* (sys) {
      let x = 0;
      for (let i = 0; i < 5; i++) x += yield* sys.getpid();
      const base = x;
      const c = yield* sys.fork();
      if (c === 0) {
        yield* say(sys, "child.x", x === base);
        return 0;
      }
      x = -1;
      yield* sys.waitpid(c, 0);
      yield* say(sys, "parent.x", x);
    });
    expect(one(m, "child.x")).toBe(true);
    expect(one(m, "parent.x")).toBe(-1);
  });

  it("forkreplayhistory: children rebuilt by replay match the parent across runs of equal results, distinct results, handler runs and forks from a handler", () => {
    // The parent's history mixes what the log compresses (runs of equal results), what it cannot
    // (getrandom), handler frames, and forks made at several points; every child must see the
    // state its parent had at its fork.
    const { m } = run(function* (sys) {
      let acc = 0;
      let handled = 0;
      yield* sys.sigaction(10, {
        handler: function* (s) {
          handled++;
          acc += 1000;
          const c = yield* s.fork(); // a fork from inside a handler frame
          if (c === 0) {
            yield* say(s, "hchild", `${acc}/${handled}`);
            yield* s.exit(0);
          }
          yield* say(s, "hparent", `${acc}/${handled}`);
          yield* s.waitpid(c, 0);
        },
      });
      const me = yield* sys.getpid();
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 4 + round; i++) acc += yield* sys.getpid(); // equal results: one run
        const c1 = yield* sys.fork();
        if (c1 === 0) {
          yield* say(sys, `child${round}`, `${acc}/${handled}`);
          return 0;
        }
        yield* say(sys, `parent${round}`, `${acc}/${handled}`);
        for (let i = 0; i < 3; i++) acc += (yield* sys.getrandom()) % 7; // distinct results
        yield* sys.waitpid(c1, 0); // the same pid again and again: extends a run
        yield* sys.kill(me, 10); // the handler runs on the way back to user mode
        acc += 1;
      }
    });
    for (const r of [0, 1, 2]) expect(one(m, `child${r}`)).toBe(one(m, `parent${r}`));
    const sorted = (k: string): string[] => said(m, k).map(String).sort();
    expect(sorted("hchild")).toEqual(sorted("hparent"));
    expect(sorted("hchild")).toHaveLength(3);
  });

  it("forkhandlermemory: a handler installed before fork, run in the child, updates the child's memory, not the parent's (fork copies the handler with the address space)", () => {
    const { m } = run(function* (sys) {
      let hits = 0;
      yield* sys.sigaction(10, {
        handler: function* () {
          hits++;
        },
      });
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.kill(yield* sys.getpid(), 10);
        yield* sys.kill(yield* sys.getpid(), 10);
        yield* say(sys, "child.hits", hits);
        return 0;
      }
      yield* sys.waitpid(c, 0);
      yield* say(sys, "parent.hits", hits);
    });
    expect(one(m, "child.hits")).toBe(2);
    expect(one(m, "parent.hits")).toBe(0);
  });

  it("forkisolation: processes do not share memory (a child's write is not seen by the parent)", () => {
    const { m } = run(function* (sys) {
      const box = { v: 1 };
      const c = yield* sys.fork();
      if (c === 0) {
        box.v = 99;
        return 0;
      }
      yield* sys.waitpid(c, 0);
      yield* say(sys, "v", box.v);
    });
    expect(one(m, "v")).toBe(1);
  });

  it("forkfork: a chain of forks, each waits for its child (exit codes 0x?00 propagate)", () => {
    const { m } = run(function* (sys) {
      let depth = 0;
      for (;;) {
        if (depth === 6) return depth;
        const c = yield* sys.fork();
        if (c === 0) {
          depth++;
          continue;
        }
        const r = yield* sys.waitpid(c, 0);
        if (depth === 0) yield* say(sys, "top", WEXITSTATUS(r.status));
        return WEXITSTATUS(r.status);
      }
    });
    expect(one(m, "top")).toBe(6);
  });

  it("forkmany: 50 children on 4 CPUs are all reaped, pids distinct", () => {
    const { m } = run(
      function* (sys) {
        const kids: number[] = [];
        for (let i = 0; i < 50; i++) {
          const c = yield* sys.fork();
          if (c === 0) {
            yield* sys.compute((i % 7) * MS + 1);
            return i;
          }
          kids.push(c);
        }
        let sum = 0;
        for (;;) {
          const r = yield* sys.wait();
          if (r.pid < 0) {
            yield* say(sys, "end", r.pid);
            break;
          }
          sum += WEXITSTATUS(r.status);
        }
        yield* say(sys, "sum", sum);
        yield* say(sys, "distinct", new Set(kids).size);
      },
      { cpus: 4 },
    );
    expect(one(m, "sum")).toBe((49 * 50) / 2);
    expect(one(m, "distinct")).toBe(50);
    expect(one(m, "end")).toBe(-ECHILD);
  });

  it("forkpending: a child starts with no pending signals but the parent's mask and dispositions", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigprocmask(0, [10]); // block SIGUSR1
      yield* sys.sigaction(12, { handler: "ign" });
      yield* sys.kill(yield* sys.getpid(), 10); // pending in the parent
      const c = yield* sys.fork();
      if (c === 0) {
        yield* say(sys, "child.mask", yield* sys.sigprocmask(0, []));
        yield* sys.kill(yield* sys.getpid(), 12); // ignored: survives
        yield* sys.sigprocmask(1, [10]); // unblock: nothing pending, so it survives
        return 3;
      }
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "status", r.status);
      yield* sys.sigaction(10, { handler: "ign" }); // discard our own pending SIGUSR1
      yield* sys.sigprocmask(1, [10]);
    });
    expect(one(m, "child.mask")).toEqual([10]);
    expect(one(m, "status")).toBe(0x300);
  });
});

describe("vfork", () => {
  it("vforkwait: the parent sleeps in D until the child exits; the child runs first", () => {
    const m = boot({ cpus: 2 });
    const pid = m.spawn(
      program("vf", function* (sys) {
        const c = yield* sys.vfork();
        if (c === 0) {
          yield* sys.compute(10 * MS);
          return 4;
        }
        yield* say(sys, "resumed.at", yield* sys.now());
        const r = yield* sys.waitpid(c, 0);
        yield* say(sys, "status", r.status);
      }),
    );
    m.run(5 * MS);
    expect(letter(m.task(pid))).toBe("D");
    expect(m.task(pid)!.wchan).toBe("wait_for_vfork_done");
    m.run();
    expect(one(m, "resumed.at")).toBe(10 * MS);
    expect(one(m, "status")).toBe(0x400);
  });

  it("vforkexec: a vfork child that execs releases the parent; the pid is kept across exec", () => {
    const m = boot({ cpus: 2 });
    m.install(
      "/bin/true",
      program("true", function* (sys) {
        yield* say(sys, "exec.pid", yield* sys.getpid());
        yield* sys.compute(20 * MS);
        return 0;
      }),
    );
    m.spawn(
      program("vf", function* (sys) {
        const c = yield* sys.vfork();
        if (c === 0) {
          yield* sys.compute(2 * MS);
          yield* sys.execve("/bin/true");
          return 127;
        }
        yield* say(sys, "child", c);
        yield* say(sys, "resumed.at", yield* sys.now());
        const r = yield* sys.waitpid(c, 0);
        yield* say(sys, "status", r.status);
      }),
    );
    m.run();
    expect(one(m, "resumed.at")).toBe(2 * MS); // released by exec, not by exit at 22 ms
    expect(one(m, "exec.pid")).toBe(one(m, "child"));
    expect(one(m, "status")).toBe(0);
  });

  it("vforkkill: a fatal signal ends a parent blocked in vfork (TASK_KILLABLE wakes for fatal signals)", () => {
    const m = boot({ cpus: 2 });
    m.spawn(
      program("outer", function* (sys) {
        const p = yield* sys.fork();
        if (p === 0) {
          const c = yield* sys.vfork();
          if (c === 0) {
            yield* sys.compute(50 * MS);
            yield* say(sys, "vchild.ppid", yield* sys.getppid());
            return 0;
          }
          yield* say(sys, "vparent.resumed", true);
          return 1;
        }
        yield* sys.sleep(1 * MS);
        yield* say(sys, "state", "?");
        yield* sys.kill(p, 15); // SIGTERM with the default action is fatal: treated as SIGKILL
        const r = yield* sys.waitpid(p, 0);
        yield* say(sys, "status", r.status);
        yield* say(sys, "at", yield* sys.now());
      }),
    );
    m.run(0.5 * MS);
    const vparent = [...m.kernel.tasks.values()].find((t) => t.wchan === "wait_for_vfork_done")!;
    expect(letter(vparent)).toBe("D");
    m.run();
    expect(said(m, "vparent.resumed")).toEqual([]);
    expect(one(m, "status")).toBe(15);
    expect(one(m, "at")).toBe(1 * MS);
    expect(one(m, "vchild.ppid")).toBe(1); // the orphaned vfork child went to init
  });
});

describe("clone", () => {
  it("clonethread: threads share tgid (getpid), differ in gettid, share getppid and the closure", () => {
    const { m } = run(function* (sys) {
      const shared = { n: 0 };
      const me = yield* sys.getpid();
      const ppid = yield* sys.getppid();
      const tid = yield* sys.clone(CLONE_THREAD_FLAGS, function* (sys2) {
        yield* say(sys2, "t.getpid", (yield* sys2.getpid()) === me);
        yield* say(sys2, "t.getppid", (yield* sys2.getppid()) === ppid);
        yield* say(sys2, "t.gettid", yield* sys2.gettid());
        for (let i = 0; i < 10; i++) shared.n++;
        return 0;
      });
      yield* say(sys, "ret.tid", tid);
      yield* sys.sleep(5 * MS); // let the thread run and exit
      yield* say(sys, "main.tid", yield* sys.gettid());
      yield* say(sys, "n", shared.n);
      // a thread is not a child: nothing to wait for
      const r = yield* sys.waitpid(-1, __WALL);
      yield* say(sys, "wait", r.pid);
    });
    expect(one(m, "t.getpid")).toBe(true);
    expect(one(m, "t.getppid")).toBe(true);
    expect(one(m, "t.gettid")).toBe(one(m, "ret.tid"));
    expect(one(m, "t.gettid")).not.toBe(one(m, "main.tid"));
    expect(one(m, "n")).toBe(10);
    expect(one(m, "wait")).toBe(-ECHILD);
  });

  it("clonethreadflags: CLONE_VM|FS|FILES|SIGHAND|THREAD share the structures", () => {
    const m = boot();
    const pid = m.spawn(
      program("t", function* (sys) {
        yield* sys.clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD, function* (s) {
          yield* s.sleep(10 * MS);
        });
        yield* sys.sleep(10 * MS);
      }),
    );
    m.run(1 * MS);
    const main = m.task(pid)!;
    const th = [...m.kernel.tasks.values()].find((t) => t.tgid === pid && t.pid !== pid)!;
    expect(th).toBeDefined();
    expect(th.mm).toBe(main.mm);
    expect(th.fs).toBe(main.fs);
    expect(th.files).toBe(main.files);
    expect(th.sighand).toBe(main.sighand);
    expect(th.signal).toBe(main.signal);
    expect(th.exitSignal).toBe(-1);
    m.run();
    expect(m.task(pid)).toBeUndefined();
  });

  it("clonebadflags: THREAD without SIGHAND and SIGHAND without VM are EINVAL", () => {
    const { m } = run(function* (sys) {
      const f = function* () {};
      yield* say(sys, "thread-nosighand", yield* sys.clone(CLONE_VM | CLONE_THREAD, f));
      yield* say(sys, "sighand-novm", yield* sys.clone(CLONE_SIGHAND, f));
      yield* say(sys, "sighand-novm-nofn", yield* sys.clone(CLONE_SIGHAND | SIGCHLD));
    });
    expect(one(m, "thread-nosighand")).toBe(-EINVAL);
    expect(one(m, "sighand-novm")).toBe(-EINVAL);
    expect(one(m, "sighand-novm-nofn")).toBe(-EINVAL);
  });

  it("cloneparent: with CLONE_PARENT the child's parent is the caller's parent", () => {
    const { m } = run(function* (sys) {
      const mid = yield* sys.fork();
      if (mid === 0) {
        const gp = yield* sys.getppid();
        const c = yield* sys.clone(CLONE_PARENT | SIGCHLD);
        if (c === 0) {
          yield* say(sys, "ppid.is.grandparent", (yield* sys.getppid()) === gp);
          return 5;
        }
        yield* say(sys, "mid.wait", (yield* sys.waitpid(c, 0)).pid); // not our child
        return 0;
      }
      yield* sys.sleep(1 * MS);
      const seen: number[] = [];
      for (;;) {
        const r = yield* sys.wait();
        if (r.pid < 0) break;
        seen.push(r.status);
      }
      yield* say(sys, "statuses", seen.sort((a, b) => a - b));
    });
    expect(one(m, "ppid.is.grandparent")).toBe(true);
    expect(one(m, "mid.wait")).toBe(-ECHILD);
    expect(one(m, "statuses")).toEqual([0, 0x500]);
  });

  it("clonefn: clone(SIGCHLD, fn) runs fn in a new process whose return value is its exit status", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.clone(SIGCHLD, function* (s, arg: number) {
        yield* s.compute(1 * MS);
        return arg;
      }, 42);
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "status", r.status);
    });
    expect(one(m, "status")).toBe(42 << 8);
  });

  it("cloneexitsignal: a child with exit signal 0 is a clone child: waited only with __WCLONE/__WALL", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.clone(0, function* () { return 2; });
      yield* sys.sleep(1 * MS);
      yield* say(sys, "plain", (yield* sys.waitpid(c, 1)).pid);
      const r = yield* sys.waitpid(c, __WCLONE);
      yield* say(sys, "wclone", r.pid === c);
      yield* say(sys, "status", r.status);
    });
    expect(one(m, "plain")).toBe(-ECHILD);
    expect(one(m, "wclone")).toBe(true);
    expect(one(m, "status")).toBe(0x200);
  });

  it("threadfork: a child forked by a non-main thread is waitable by the process", () => {
    const { m } = run(function* (sys) {
      yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        const c = yield* s.clone(SIGCHLD, function* () { return 9; });
        yield* say(s, "thread.child", c > 0);
        yield* s.sleep(100 * MS); // stays alive: the child is still the thread's own
        return 0;
      });
      yield* sys.sleep(2 * MS);
      const r = yield* sys.waitpid(-1, 0);
      yield* say(sys, "status", r.status);
      yield* say(sys, "at", yield* sys.now());
    });
    expect(one(m, "thread.child")).toBe(true);
    expect(one(m, "status")).toBe(0x900);
    expect(one(m, "at")).toBeLessThan(100 * MS);
  });

  it("threadexitreparent: children of an exited thread go to another live thread of the group", () => {
    const { m } = run(function* (sys) {
      yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.clone(SIGCHLD, function* (s2) {
          yield* s2.sleep(5 * MS);
          yield* say(s2, "grandchild.ppid", yield* s2.getppid());
          return 6;
        });
        return 0; // the thread exits before its child
      });
      yield* sys.sleep(1 * MS);
      const r = yield* sys.waitpid(-1, 0);
      yield* say(sys, "me", yield* sys.getpid());
      yield* say(sys, "status", r.status);
    });
    expect(one(m, "grandchild.ppid")).toBe(one(m, "me"));
    expect(one(m, "status")).toBe(0x600);
  });

  it("threadexitgroup: exit() in any thread ends every thread with that status", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        for (let i = 0; i < 3; i++)
          yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
            yield* s.sleep(100 * MS);
            yield* say(s, "thread.survived", true);
          });
        yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
          yield* s.compute(1 * MS);
          yield* s.exit(12);
        });
        yield* sys.sleep(100 * MS);
        yield* say(sys, "main.survived", true);
        return 0;
      }
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "status", r.status);
      yield* say(sys, "at", yield* sys.now());
    });
    expect(said(m, "thread.survived")).toEqual([]);
    expect(said(m, "main.survived")).toEqual([]);
    expect(one(m, "status")).toBe(0xc00);
    expect(one(m, "at")).toBe(1 * MS);
  });

  it("threadleaderexit: a leader that exits alone stays a zombie until its last thread exits", () => {
    const m = boot();
    const pid = m.spawn(
      program("t", function* (sys) {
        yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
          yield* s.sleep(10 * MS);
          return 0;
        });
        yield* sys.exitThread(3);
      }),
    );
    m.run(5 * MS);
    expect(letter(m.task(pid))).toBe("Z");
    m.run();
    expect(m.task(pid)).toBeUndefined(); // reaped by init once the thread is gone
  });
});

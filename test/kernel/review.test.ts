/** Fixes found in review, each with the Linux rule it keeps. */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import {
  SIGCHLD, SIGSTOP, SIGCONT, SA_NOCLDSTOP, SA_NOCLDWAIT, SA_RESETHAND, SIG_BLOCK, SIG_UNBLOCK, EBUSY, EBADF, EPERM, ECHILD, EAGAIN, ESRCH,
  EINVAL, WNOHANG, WUNTRACED, WCONTINUED, CLONE_THREAD_FLAGS,
} from "../../src/user/libc.ts";
import type { SysApi } from "../../src/user/sys.ts";

const MS = 1e6;

/** Every value a program printed as `key=<JSON>`, in order. */
const said = (m: Machine, key: string): unknown[] =>
  m.output
    .split("\n")
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => JSON.parse(l.slice(key.length + 1)) as unknown);

describe("review fixes", () => {
  it("rtrenice: setpriority on a FIFO task keeps its place in its list (set_user_nice does not requeue RT tasks)", () => {
    const m = new Machine({ cpus: 1 });
    const order: string[] = [];
    const mark = (name: string) =>
      program(name, function* (sys) {
        order.push(name);
        yield* sys.compute(0);
      });
    m.spawn(
      program("A", function* (sys) {
        yield* sys.compute(MS);
        yield* sys.setpriority(0, 3, 5);
        yield* sys.compute(MS);
        order.push("A");
      }),
      { policy: 1, rtPriority: 10 },
    );
    m.spawn(mark("B"), { policy: 1, rtPriority: 10 }); // pid 3
    m.spawn(mark("C"), { policy: 1, rtPriority: 10 });
    m.run();
    expect(order).toEqual(["A", "B", "C"]);
  });

  it("dlaffinity: a deadline task may not narrow its CPU mask below the root domain (EBUSY)", () => {
    const m = new Machine({ cpus: 2 });
    let r = 0;
    m.spawn(
      program("dl", function* (sys) {
        r = yield* sys.sched_setaffinity(0, [0]);
      }),
      { policy: 6, dl: { runtime: MS, deadline: 10 * MS, period: 10 * MS } },
    );
    m.run();
    expect(r).toBe(-EBUSY);
  });

  it("lowestfd: open returns the lowest free descriptor, also after dup2 left a hole; dup2 past RLIMIT_NOFILE is EBADF", () => {
    const m = new Machine({ cpus: 1 });
    const got: number[] = [];
    m.spawn(
      program("t", function* (sys) {
        got.push(yield* sys.dup2(0, 10));
        got.push(yield* sys.open("/dev/null"));
        got.push(yield* sys.dup2(0, 2 ** 32 + 5));
      }),
    );
    m.run();
    expect(got).toEqual([10, 3, -EBADF]);
  });

  it("nocldstop: SA_NOCLDSTOP with SIG_DFL still means no SIGCHLD for a stop (do_notify_parent_cldstop)", () => {
    const m = new Machine({ cpus: 1 });
    let got = -1;
    m.spawn(
      program("p", function* (sys) {
        yield* sys.sigprocmask(SIG_BLOCK, [SIGCHLD]);
        yield* sys.sigaction(SIGCHLD, { handler: "dfl", flags: SA_NOCLDSTOP });
        const c = yield* sys.fork();
        if (c === 0) {
          yield* sys.sleep(MS);
          return 0;
        }
        yield* sys.kill(c, SIGSTOP);
        yield* sys.sleep(2 * MS);
        let n = 0;
        yield* sys.sigaction(SIGCHLD, { handler: function* () { n++; }, flags: 0 });
        yield* sys.sigprocmask(SIG_UNBLOCK, [SIGCHLD]);
        yield* sys.sleep(MS);
        got = n;
        yield* sys.kill(c, 9);
        yield* sys.wait();
      }),
    );
    m.run();
    expect(got).toBe(0);
  });

  it("nicebelow: nice(-1) is EPERM for an ordinary user even at the floor (can_nice)", () => {
    const m = new Machine({ cpus: 1 });
    let r = 0;
    m.spawn(
      program("n", function* (sys) {
        r = yield* sys.nice(-1);
      }),
      { nice: -20 },
    );
    m.run();
    expect(r).toBe(-EPERM);
  });
});

describe("fourth review: core semantics (each case failed before its fix)", () => {
  const say = function* (sys: SysApi, key: string, v: unknown) {
    yield* sys.print(`${key}=${JSON.stringify(v)}\n`);
  };

  it("argvcopy: a program that shifts argv and then forks has a child with the same argv (fork copies memory; replay starts from a fresh argv)", () => {
    const m = new Machine({ cpus: 2 });
    m.spawn(
      program("args", function* (sys, argv) {
        const name = argv.shift();
        const c = yield* sys.fork();
        yield* say(sys, c === 0 ? "child" : "parent", { name, argv });
        if (c !== 0) yield* sys.waitpid(c, 0);
      }),
      { argv: ["args", "-v", "file"] },
    );
    m.run();
    expect(said(m, "child")).toEqual([{ name: "args", argv: ["-v", "file"] }]);
    expect(said(m, "parent")).toEqual(said(m, "child"));
  });

  it("resultcopy: an object result the parent changes after a fork is seen unchanged by the child", () => {
    const m = new Machine({ cpus: 1 });
    m.spawn(
      program("p", function* (sys) {
        const old = (yield* sys.sigprocmask(SIG_BLOCK, [10])) as number[];
        const c = yield* sys.fork();
        if (c === 0) {
          yield* say(sys, "child", old);
          return 0;
        }
        old.push(99); // the parent's own memory
        yield* sys.waitpid(c, 0);
      }),
    );
    m.run();
    expect(said(m, "child")).toEqual([[]]);
  });

  it("zombieleaderstop: a process whose main thread exited still reports stop and continue to WUNTRACED / WCONTINUED (wait_consider_task falls through)", () => {
    const m = new Machine({ cpus: 2 });
    m.spawn(
      program("p", function* (sys) {
        const c = yield* sys.fork();
        if (c === 0) {
          yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
            yield* s.sleep(20 * MS);
            return 0;
          });
          yield* sys.exitThread(0);
        }
        yield* sys.sleep(1 * MS);
        yield* sys.kill(c, SIGSTOP);
        yield* sys.sleep(1 * MS);
        yield* say(sys, "stopped", (yield* sys.waitpid(c, WUNTRACED | WNOHANG)).status);
        yield* sys.kill(c, SIGCONT);
        yield* sys.sleep(1 * MS);
        yield* say(sys, "continued", (yield* sys.waitpid(c, WCONTINUED | WNOHANG)).status);
        yield* say(sys, "exited", (yield* sys.waitpid(c, 0)).status);
      }),
    );
    m.run();
    expect(said(m, "stopped")).toEqual([(SIGSTOP << 8) | 0x7f]);
    expect(said(m, "continued")).toEqual([0xffff]);
    expect(said(m, "exited")).toEqual([0]);
  });

  it("resethandflags: SA_RESETHAND puts back only the handler; SA_NOCLDWAIT stays, so later children are still reaped at once (get_signal: SA_ONESHOT)", () => {
    const m = new Machine({ cpus: 2 });
    m.spawn(
      program("p", function* (sys) {
        yield* sys.sigaction(SIGCHLD, { handler: function* () {}, flags: SA_RESETHAND | SA_NOCLDWAIT });
        for (let i = 0; i < 2; i++) if ((yield* sys.fork()) === 0) {
          yield* sys.sleep((i + 1) * MS);
          return 0;
        }
        for (let i = 0; i < 10; i++) yield* sys.sleep(1 * MS); // a handler cuts a sleep short (EINTR): sleep in pieces
        yield* say(sys, "wait", (yield* sys.waitpid(-1, WNOHANG)).pid);
      }),
    );
    m.run();
    expect(said(m, "wait")).toEqual([-ECHILD]);
  });

  it("killallperm: kill(-1, sig) that no target permits returns 0, not EPERM (kill_something_info ignores EPERM)", () => {
    const m = new Machine({ cpus: 1 });
    m.spawn(program("rootd", function* (sys) { yield* sys.sleep(10 * MS); }), { uid: 0 });
    m.spawn(
      program("user", function* (sys) {
        yield* say(sys, "term", yield* sys.kill(-1, 15));
        yield* say(sys, "probe", yield* sys.kill(-1, 0));
      }),
    );
    m.run();
    expect(said(m, "term")).toEqual([0]);
    expect(said(m, "probe")).toEqual([0]);
  });

  it("nprocperuser: RLIMIT_NPROC counts the forking user's own tasks, and root is exempt", () => {
    const m = new Machine({ cpus: 2, rlimitNproc: 2 });
    for (let i = 0; i < 3; i++) m.spawn(program("rootd", function* (sys) { yield* sys.sleep(10 * MS); }), { uid: 0 });
    const forker = (key: string) =>
      program(key, function* (sys) {
        const r: (string | number)[] = [];
        for (let i = 0; i < 3; i++) {
          const c = yield* sys.fork();
          if (c === 0) {
            yield* sys.sleep(5 * MS);
            return 0;
          }
          r.push(c > 0 ? "ok" : c);
        }
        yield* say(sys, key, r);
      });
    m.spawn(forker("user"));
    m.spawn(forker("root"), { uid: 0 });
    m.run();
    expect(said(m, "user")).toEqual([["ok", -EAGAIN, -EAGAIN]]); // itself and one child make 2
    expect(said(m, "root")).toEqual([["ok", "ok", "ok"]]);
  });

  it("tgkillzombie: tgkill to an unreaped zombie is 0, as kill is (do_send_specific still finds it)", () => {
    const m = new Machine({ cpus: 1 });
    m.spawn(
      program("p", function* (sys) {
        const c = yield* sys.fork();
        if (c === 0) return 0;
        yield* sys.sleep(1 * MS);
        yield* say(sys, "r", [yield* sys.kill(c, 0), yield* sys.tgkill(c, c, 0), yield* sys.tgkill(c, c, 15)]);
        yield* sys.waitpid(c, 0);
        yield* say(sys, "gone", yield* sys.tgkill(c, c, 0));
      }),
    );
    m.run();
    expect(said(m, "r")).toEqual([[0, 0, 0]]);
    expect(said(m, "gone")).toEqual([-ESRCH]);
  });

  it("sigactionquery: sigaction(SIGKILL or SIGSTOP, NULL) is allowed; installing a handler for them is EINVAL", () => {
    const m = new Machine({ cpus: 1 });
    m.spawn(
      program("p", function* (sys) {
        yield* say(sys, "query", [yield* sys.syscall("rt_sigaction", 9, null), yield* sys.syscall("rt_sigaction", 19, null)]);
        yield* say(sys, "set", yield* sys.sigaction(9, { handler: "ign" }));
      }),
    );
    m.run();
    expect(said(m, "query")).toEqual([[0, 0]]);
    expect(said(m, "set")).toEqual([-EINVAL]);
  });

  it("budgetinit: zero-time syscalls spread over many tasks never make the machine-wide budget kill init (it used to panic the machine)", () => {
    const m = new Machine({ cpus: 1, stepBudget: 1000 });
    for (let i = 0; i < 20; i++)
      m.spawn(
        program("w", function* (sys) {
          for (let j = 0; j < 999; j++) yield* sys.getpid();
        }),
      );
    expect(() => m.run()).not.toThrow();
    expect(m.kernel.task(1)?.exitState).toBe(0);
    expect(m.kernel.warnings.some((w) => /at one instant/.test(w))).toBe(true); // the budget did act, on a worker
  });
});

describe("SIGCONT's report to the parent (prepare_signal leaves SIGNAL_CLD_CONTINUED, get_signal sends it)", () => {

  /** A FIFO parent (the child cannot run until it sleeps) that stops its child, then continues it. */
  function scenario(killToo: boolean): Machine {
    const m = new Machine({ cpus: 1 });
    m.spawn(
      program("parent", function* (sys) {
        const got: number[] = [];
        yield* sys.sigaction(SIGCHLD, {
          handler: function* () {
            got.push(m.now);
          },
        });
        const c = yield* sys.fork();
        if (c === 0) {
          yield* sys.syscall("sched_setscheduler", 0, 0, { sched_priority: 0 }); // a normal task: the FIFO parent always runs first
          for (;;) yield* sys.compute(1 * MS);
        }
        yield* sys.sleep(2 * MS); // the child runs
        yield* sys.kill(c, SIGSTOP);
        yield* sys.sleep(2 * MS);
        const seen = got.length; // the stop's own SIGCHLD came before
        yield* sys.print(`cont=${JSON.stringify(m.now / MS)}\n`);
        yield* sys.kill(c, SIGCONT);
        yield* sys.print(`wcontinued=${JSON.stringify((yield* sys.waitpid(c, WCONTINUED | WNOHANG)).status)}\n`);
        if (killToo) yield* sys.kill(c, 9);
        yield* sys.compute(10 * MS); // the child cannot run yet
        const sinceCont = () => got.slice(seen).map((t) => t / MS);
        yield* sys.print(`before=${JSON.stringify(sinceCont().length)}\n`);
        yield* sys.sleep(5 * MS); // now it can
        yield* sys.print(`after=${JSON.stringify(sinceCont())}\n`);
        if (!killToo) yield* sys.kill(c, 9);
        yield* sys.waitpid(c, 0);
      }),
      { policy: 1, rtPriority: 10, uid: 0 },
    );
    m.run(1e9);
    return m;
  }

  it("cldcontinued: the parent's SIGCHLD for a continue comes when the continued child first runs; WCONTINUED sees the continue at once", () => {
    const m = scenario(false);
    expect(said(m, "wcontinued")).toEqual([0xffff]);
    expect(said(m, "before")).toEqual([0]); // not at kill time
    const cont = said(m, "cont")[0] as number;
    expect(said(m, "after")).toEqual([[cont + 10]]); // once the parent's 10 ms of compute let the child run
  });

  it("cldcontinued: a SIGKILL before the continued child runs cancels the continue's SIGCHLD (signal->flags = SIGNAL_GROUP_EXIT); only its death is reported", () => {
    const m = scenario(true);
    expect(said(m, "before")).toEqual([0]);
    const after = said(m, "after")[0] as number[];
    expect(after).toHaveLength(1); // the exit's SIGCHLD, not a continue's as well
  });
});

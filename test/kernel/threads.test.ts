/**
 * Threads (CLONE_THREAD): shared signal handling, group stop and group exit
 * (kernel/signal.c complete_signal, do_signal_stop, zap_other_threads; linux-facts 5.2, 5.4).
 */
import { describe, expect, it } from "vitest";
import { run, say, one, said, boot, program, letter, MS } from "./helpers.ts";
import { CLONE_THREAD_FLAGS, SIGSTOP, SIGCONT, SIGKILL, SIGTERM, SIGUSR1, WUNTRACED, WCONTINUED, ESRCH, EINVAL } from "../../src/user/libc.ts";

const threadsOf = (m: ReturnType<typeof boot>, pid: number) => [...m.kernel.tasks.values()].filter((t) => t.tgid === pid);

describe("threads and signals", () => {
  it("groupstop: SIGSTOP stops every thread (all T); one 0x137f report; SIGCONT resumes all", () => {
    const m = boot({ cpus: 4 });
    m.spawn(
      program("parent", function* (sys) {
        const c = yield* sys.fork();
        if (c === 0) {
          for (let i = 0; i < 3; i++)
            yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
              yield* s.compute(10 * MS);
              yield* say(s, "thread.done", yield* s.now());
            });
          yield* sys.sleep(20 * MS);
          return 0;
        }
        yield* say(sys, "child", c);
        yield* sys.sleep(2 * MS);
        yield* sys.kill(c, SIGSTOP);
        yield* say(sys, "stop", (yield* sys.waitpid(c, WUNTRACED)).status);
        yield* say(sys, "stop.again", (yield* sys.waitpid(c, WUNTRACED | 1)).pid);
        yield* sys.sleep(5 * MS);
        yield* sys.kill(c, SIGCONT);
        yield* say(sys, "cont", (yield* sys.waitpid(c, WCONTINUED)).status);
        yield* sys.waitpid(c, 0);
      }),
    );
    m.run(4 * MS);
    const child = one(m, "child") as number;
    expect(threadsOf(m, child).map(letter)).toEqual(["T", "T", "T", "T"]);
    m.run();
    expect(one(m, "stop")).toBe(0x137f);
    expect(one(m, "stop.again")).toBe(0);
    expect(one(m, "cont")).toBe(0xffff);
    expect(said(m, "thread.done")).toEqual([15 * MS, 15 * MS, 15 * MS]); // 10 ms of CPU + 5 ms stopped
  });

  it("threadkill: SIGKILL to the process ends every thread; status 0x9", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        for (let i = 0; i < 3; i++) yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) { yield* s.pause(); });
        yield* sys.compute(50 * MS);
        return 0;
      }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGKILL);
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "r", [r.status, yield* sys.now()]);
    });
    expect(one(m, "r")).toEqual([0x9, 1 * MS]);
    expect(m.kernel.tasks.size).toBe(1);
  });

  it("threadsigdelivery: a process-directed signal goes to a thread that does not block it", () => {
    const { m } = run(function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: function* (s) { yield* say(s, "handled.by", yield* s.gettid()); } });
      yield* sys.sigprocmask(0, [SIGUSR1]); // main blocks it; the thread (created after) unblocks it
      const tid = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sigprocmask(1, [SIGUSR1]);
        yield* s.sleep(10 * MS);
      });
      yield* say(sys, "tid", tid);
      yield* sys.sleep(1 * MS);
      yield* sys.kill(yield* sys.getpid(), SIGUSR1);
      yield* sys.sleep(1 * MS);
    });
    expect(one(m, "handled.by")).toBe(one(m, "tid"));
  });

  it("tgkill: a signal to one thread; a fatal default action still ends the whole process; errors ESRCH/EINVAL", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        const tid = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) { yield* s.pause(); });
        const me = yield* sys.getpid();
        yield* say(sys, "wrong.tgid", yield* sys.tgkill(me + 1000, tid, 0));
        yield* say(sys, "bad.sig", yield* sys.tgkill(me, tid, 99));
        yield* sys.tgkill(me, tid, SIGTERM);
        yield* sys.sleep(10 * MS);
        return 0;
      }
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "r", [r.status, yield* sys.now()]);
    });
    expect(one(m, "wrong.tgid")).toBe(-ESRCH);
    expect(one(m, "bad.sig")).toBe(-EINVAL);
    expect(one(m, "r")).toEqual([SIGTERM, 0]);
  });

  it("threadsleepkill: SIGKILL wakes threads sleeping interruptibly and in TASK_KILLABLE", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) { yield* s.sleep(100 * MS); });
        yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) { yield* s.waitpid(-1, 0); });
        const v = yield* sys.vfork(); // the main thread sleeps in D (TASK_KILLABLE)
        if (v === 0) { yield* sys.sleep(50 * MS); return 0; }
        return 0;
      }
      yield* sys.sleep(1 * MS);
      yield* sys.kill(c, SIGKILL);
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "r", [r.status, yield* sys.now()]);
    });
    expect(one(m, "r")).toEqual([0x9, 1 * MS]);
  });

  it("threadexitalone: the raw exit() of a non-leader thread ends only that thread", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        const shared = { n: 0 };
        yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
          shared.n++;
          yield* s.exitThread(99);
        });
        yield* sys.sleep(2 * MS);
        yield* say(sys, "main.alive", shared.n);
        return 4;
      }
      yield* say(sys, "status", (yield* sys.waitpid(c, 0)).status);
    });
    expect(one(m, "main.alive")).toBe(1);
    expect(one(m, "status")).toBe(0x400);
  });

  it("mainreturn: returning from main is exit(): every thread ends with main's status", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
          yield* s.compute(50 * MS);
          yield* say(s, "thread.finished", true);
        });
        yield* sys.compute(1 * MS);
        return 6;
      }
      const r = yield* sys.waitpid(c, 0);
      yield* say(sys, "r", [r.status, yield* sys.now()]);
    });
    expect(said(m, "thread.finished")).toEqual([]);
    expect(one(m, "r")).toEqual([0x600, 1 * MS]);
  });

  it("rtqueuethreads: queued real-time signals to a process are all delivered, whichever thread takes them", () => {
    const { m } = run(function* (sys) {
      let got = 0;
      yield* sys.sigaction(40, { handler: function* () { got++; } });
      yield* sys.sigprocmask(0, [40]); // main blocks it; the thread created next unblocks it
      yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sigprocmask(1, [40]);
        yield* s.sleep(5 * MS);
      });
      const me = yield* sys.getpid();
      for (let i = 0; i < 3; i++) yield* sys.kill(me, 40);
      yield* sys.sleep(10 * MS);
      yield* say(sys, "got", got);
    });
    expect(one(m, "got")).toBe(3);
  });

  it("rtqueueboth: the same real-time signal queued to the thread and to the process is counted per set", () => {
    const { m } = run(function* (sys) {
      let got = 0;
      yield* sys.sigaction(40, { handler: function* () { got++; } });
      yield* sys.sigprocmask(0, [40]);
      const me = yield* sys.getpid();
      yield* sys.tgkill(me, me, 40); // thread-directed
      yield* sys.kill(me, 40); // process-directed x2
      yield* sys.kill(me, 40);
      yield* sys.sigprocmask(2, []);
      yield* say(sys, "got", got);
      yield* sys.sigaction(41, { handler: function* () { got += 10; } });
      yield* sys.sigprocmask(0, [41]);
      yield* sys.kill(me, 41);
      yield* sys.kill(me, 41);
      yield* sys.sigaction(41, { handler: "ign" }); // discards every queued instance
      yield* sys.sigaction(41, { handler: function* () { got += 100; } });
      yield* sys.sigprocmask(2, []);
      yield* say(sys, "after.ign", got);
    });
    expect(one(m, "got")).toBe(3);
    expect(one(m, "after.ign")).toBe(3);
  });
});

describe("thread CPU time (thread_group_cputime, __exit_signal)", () => {
  it("threadtime: a thread's CPU time stays with its process after the thread exits, and reaches the parent's cutime", async () => {
    const { Machine } = await import("../../src/user/machine.ts");
    const { program } = await import("../../src/user/program.ts");
    const { CLONE_THREAD_FLAGS } = await import("../../src/user/libc.ts");
    const { procStat } = await import("../../src/observe/proc.ts");
    const m = new Machine({ cpus: 2 });
    let worker = 0;
    const parent = program("parent", function* (sys) {
      const pid = yield* sys.fork();
      if (pid === 0) {
        yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
          yield* s.compute(200e6);
          return 0;
        });
        yield* sys.compute(100e6);
        yield* sys.sleep(300e6); // the thread is done by now
        return 0;
      }
      worker = pid;
      yield* sys.waitpid(pid, 0);
      yield* sys.sleep(100e6); // still here when we look at its cutime
      return 0;
    });
    const ppid = m.spawn(parent);
    m.run(250e6);
    const utime = (pid: number): number => Number(procStat(m.kernel, pid)!.split(") ")[1]!.split(" ")[11]);
    expect(utime(worker)).toBe(30); // 100 + 200 ms in clock ticks, the thread already gone
    m.run(450e6);
    const cutime = Number(procStat(m.kernel, ppid)!.split(") ")[1]!.split(" ")[13]);
    expect(cutime).toBe(30);
  });
});

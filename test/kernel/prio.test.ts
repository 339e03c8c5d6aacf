/**
 * nice, getpriority/setpriority, sched_yield (kernel/sys.c, kernel/sched/syscalls.c;
 * man nice(2), getpriority(2)). Programs run as an ordinary user (uid 1000):
 * raising priority needs CAP_SYS_NICE, and RLIMIT_NICE is 0.
 */
import { describe, expect, it } from "vitest";
import { run, say, one, boot, program, MS } from "./helpers.ts";
import { EPERM, EACCES, ESRCH, EINVAL, PRIO_PROCESS, PRIO_PGRP, PRIO_USER } from "../../src/user/libc.ts";

describe("nice", () => {
  it("nice: lowering priority works; raising it without privilege is EPERM", () => {
    const { m } = run(function* (sys) {
      yield* say(sys, "up", yield* sys.nice(5));
      yield* say(sys, "now", yield* sys.getpriority(PRIO_PROCESS, 0));
      yield* say(sys, "down", yield* sys.nice(-1));
      yield* say(sys, "still", yield* sys.getpriority(PRIO_PROCESS, 0));
      yield* say(sys, "clamp", yield* sys.nice(100));
      yield* say(sys, "max", yield* sys.getpriority(PRIO_PROCESS, 0));
    });
    expect(one(m, "up")).toBe(0);
    expect(one(m, "now")).toBe(5);
    expect(one(m, "down")).toBe(-EPERM);
    expect(one(m, "still")).toBe(5);
    expect(one(m, "clamp")).toBe(0);
    expect(one(m, "max")).toBe(19);
  });

  it("niceinherit: a forked child inherits the nice value", () => {
    const { m } = run(function* (sys) {
      yield* sys.nice(7);
      const c = yield* sys.fork();
      if (c === 0) {
        yield* say(sys, "child", yield* sys.getpriority(PRIO_PROCESS, 0));
        return 0;
      }
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "child")).toBe(7);
  });
});

describe("getpriority / setpriority", () => {
  it("setpriority: errors EACCES (raise without privilege), EPERM (another user's process), ESRCH, EINVAL", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.sleep(5 * MS); return 0; }
      yield* say(sys, "set.child", yield* sys.setpriority(PRIO_PROCESS, c, 10));
      yield* say(sys, "get.child", yield* sys.getpriority(PRIO_PROCESS, c));
      yield* say(sys, "raise.child", yield* sys.setpriority(PRIO_PROCESS, c, 0));
      yield* say(sys, "init", yield* sys.setpriority(PRIO_PROCESS, 1, 5));
      yield* say(sys, "get.init", yield* sys.getpriority(PRIO_PROCESS, 1));
      yield* say(sys, "esrch", yield* sys.setpriority(PRIO_PROCESS, 31000, 5));
      yield* say(sys, "get.esrch", yield* sys.getpriority(PRIO_PROCESS, 31000));
      yield* say(sys, "einval", yield* sys.setpriority(9, 0, 5));
      yield* say(sys, "get.einval", yield* sys.getpriority(9, 0));
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "set.child")).toBe(0);
    expect(one(m, "get.child")).toBe(10);
    expect(one(m, "raise.child")).toBe(-EACCES);
    expect(one(m, "init")).toBe(-EPERM);
    expect(one(m, "get.init")).toBe(0);
    expect(one(m, "esrch")).toBe(-ESRCH);
    expect(one(m, "get.esrch")).toBe(-ESRCH);
    expect(one(m, "einval")).toBe(-EINVAL);
    expect(one(m, "get.einval")).toBe(-EINVAL);
  });

  it("priogroup: PRIO_PGRP sets every member; getpriority reports the highest priority (lowest nice)", () => {
    const { m } = run(function* (sys) {
      yield* sys.setpgid(0, 0);
      const c = yield* sys.fork();
      if (c === 0) { yield* sys.sleep(5 * MS); return 0; }
      yield* say(sys, "set", yield* sys.setpriority(PRIO_PGRP, 0, 3));
      yield* say(sys, "child", yield* sys.getpriority(PRIO_PROCESS, c));
      yield* sys.setpriority(PRIO_PROCESS, c, 8);
      yield* say(sys, "group", yield* sys.getpriority(PRIO_PGRP, 0));
      yield* say(sys, "user", yield* sys.getpriority(PRIO_USER, 0));
      yield* sys.waitpid(c, 0);
    });
    expect(one(m, "set")).toBe(0);
    expect(one(m, "child")).toBe(3);
    expect(one(m, "group")).toBe(3);
    expect(one(m, "user")).toBe(3);
  });
});

describe("which tasks setpriority reaches (kernel/sys.c)", () => {
  it("priopgrpthreads: PRIO_PGRP reaches a thread of a process in the group, not only its leader (do_each_pid_thread)", () => {
    const m = boot({ cpus: 1 });
    let tid = 0;
    m.spawn(program("t", function* (sys) {
      yield* sys.setpgid(0, 0);
      tid = (yield* sys.clone(0x10000 | 0x100 | 0x800 | 0x400, function* (s) {
        yield* s.sleep(50 * MS);
      })) as number; // CLONE_THREAD | CLONE_VM | CLONE_SIGHAND | CLONE_FILES... a thread
      yield* say(sys, "set", yield* sys.setpriority(PRIO_PGRP, 0, 7));
      yield* say(sys, "thread", yield* sys.getpriority(PRIO_PROCESS, tid));
      yield* sys.sleep(60 * MS);
    }));
    m.run();
    expect(one(m, "set")).toBe(0);
    expect(one(m, "thread")).toBe(7);
  });

  it("priouserinit: PRIO_USER 0 from root reaches init too (for_each_process_thread leaves out only pid 0)", () => {
    const m = boot({ cpus: 1 });
    m.spawn(program("t", function* (sys) {
      yield* say(sys, "set", yield* sys.setpriority(PRIO_USER, 0, 3));
      yield* say(sys, "init", yield* sys.getpriority(PRIO_PROCESS, 1));
    }), { uid: 0 });
    m.run();
    expect(one(m, "set")).toBe(0);
    expect(one(m, "init")).toBe(3);
  });
});

describe("sched_yield", () => {
  it("priozombie: a zombie is still found by getpriority, sched_getscheduler, sched_getaffinity and kill(0) until it is reaped (find_task_by_vpid)", () => {
    const { m } = run(function* (sys) {
      const c = yield* sys.fork();
      if (c === 0) {
        yield* sys.nice(3);
        return 0;
      }
      yield* sys.sleep(MS); // the child is a zombie now
      yield* say(sys, "prio", yield* sys.getpriority(PRIO_PROCESS, c));
      yield* say(sys, "policy", yield* sys.syscall("sched_getscheduler", c));
      yield* say(sys, "affinity", (yield* sys.sched_getaffinity(c)) as unknown as number);
      yield* say(sys, "kill0", yield* sys.kill(c, 0));
      yield* say(sys, "setsched", yield* sys.syscall("sched_setscheduler", c, 0, { sched_priority: 0 }));
      yield* sys.waitpid(c, 0);
      yield* say(sys, "reaped", yield* sys.getpriority(PRIO_PROCESS, c));
    });
    expect(one(m, "prio")).toBe(3);
    expect(one(m, "policy")).toBe(0);
    expect(one(m, "affinity")).toEqual(m.kernel.rqs.map((rq) => rq.cpu));
    expect(one(m, "kill0")).toBe(0);
    expect(one(m, "setsched")).toBe(-ESRCH); // simplification: Linux would change the dead task's policy
    expect(one(m, "reaped")).toBe(-ESRCH);
  });

  it("yield: sched_yield returns 0 and lets another task on the same CPU run", () => {
    const m = boot({ cpus: 1 });
    m.spawn(
      program("a", function* (sys) {
        for (let i = 0; i < 3; i++) {
          yield* sys.compute(10_000);
          yield* say(sys, "run", "a");
          yield* say(sys, "ret", yield* sys.sched_yield());
        }
      }),
    );
    m.spawn(
      program("b", function* (sys) {
        for (let i = 0; i < 3; i++) {
          yield* sys.compute(10_000);
          yield* say(sys, "run", "b");
          yield* sys.sched_yield();
        }
      }),
    );
    m.run();
    const order = m.output.split("\n").filter((l) => l.startsWith("run=")).map((l) => l.slice(4));
    expect(order).toEqual(["a", "b", "a", "b", "a", "b"]);
  });
});

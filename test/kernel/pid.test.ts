/**
 * PID allocation (kernel/pid.c alloc_pid with idr_alloc_cyclic; linux-facts 3):
 * the next pid is the lowest free number above the last one; past pid_max the
 * search wraps to RESERVED_PIDS (300); a number stays taken while referenced.
 */
import { describe, expect, it } from "vitest";
import { PidAllocator } from "../../src/kernel/pid.ts";
import { boot, program, say, one, MS } from "./helpers.ts";
import { EAGAIN, CLONE_THREAD_FLAGS } from "../../src/user/libc.ts";

describe("PidAllocator", () => {
  it("pidnext: consecutive allocations give consecutive numbers, starting after the last", () => {
    const a = new PidAllocator(400);
    expect(a.allocAt(1)).toBe(true);
    expect([a.alloc(), a.alloc(), a.alloc()]).toEqual([2, 3, 4]);
    a.put(3);
    expect(a.alloc()).toBe(5); // cyclic: a freed number is not reused at once
  });

  it("pidwrapreserved: past pid_max the search restarts at 300, never below", () => {
    const a = new PidAllocator(305);
    for (let i = 1; i < 305; i++) expect(a.alloc()).toBe(i);
    for (let i = 1; i < 305; i++) a.put(i);
    expect(a.alloc()).toBe(300);
    expect(a.alloc()).toBe(301);
  });

  it("pidskipbusy: the search skips numbers still in use and fails (-1) when all are taken", () => {
    const a = new PidAllocator(303);
    for (let i = 1; i < 303; i++) a.alloc();
    a.put(301);
    expect(a.alloc()).toBe(301);
    expect(a.alloc()).toBe(-1);
    expect(a.count).toBe(302);
  });

  it("pidrefcount: a number referenced twice (a process and its group) is free only after both puts", () => {
    const a = new PidAllocator(400);
    const p = a.alloc();
    a.get(p);
    a.put(p);
    expect(a.isFree(p)).toBe(false);
    a.put(p);
    expect(a.isFree(p)).toBe(true);
    expect(() => a.put(p)).toThrow();
  });
});

describe("pids in the machine", () => {
  it("pidgroupref: a process-group id stays allocated while the group lives, even after its leader is reaped", () => {
    const m = boot();
    m.spawn(
      program("t", function* (sys) {
        const leader = yield* sys.fork();
        if (leader === 0) {
          yield* sys.setpgid(0, 0);
          const member = yield* sys.fork(); // stays in the group after the leader dies
          if (member === 0) { yield* sys.sleep(10 * MS); return 0; }
          return 0;
        }
        yield* sys.setpgid(leader, leader);
        yield* say(sys, "leader", leader);
        yield* sys.waitpid(leader, 0);
        yield* sys.sleep(20 * MS);
      }),
    );
    m.run(5 * MS);
    const leader = one(m, "leader") as number;
    expect(m.task(leader)).toBeUndefined(); // reaped
    expect(m.kernel.pids.isFree(leader)).toBe(false); // still names a live group
    expect(m.kernel.pgrps.has(leader)).toBe(true);
    m.run();
    expect(m.kernel.pids.isFree(leader)).toBe(true);
    expect(m.kernel.pgrps.has(leader)).toBe(false);
  });

  it("nprocthreads: RLIMIT_NPROC counts threads too", () => {
    const m = boot({ rlimitNproc: 3 });
    m.spawn(
      program("t", function* (sys) {
        const r: number[] = [];
        for (let i = 0; i < 3; i++) r.push(yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) { yield* s.sleep(MS); }));
        yield* say(sys, "r", r.map((x) => (x > 0 ? "ok" : x)));
      }),
    );
    m.run();
    expect(one(m, "r")).toEqual(["ok", "ok", -EAGAIN]);
  });
});

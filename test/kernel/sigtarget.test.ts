/**
 * Which thread takes a process-directed signal, and when (complete_signal, wants_signal,
 * retarget_shared_pending, curr_target, copy_process's recalc): each case failed before its fix.
 */
import { describe, expect, it } from "vitest";
import { boot, program, say, said, MS } from "./helpers.ts";
import { CLONE_THREAD_FLAGS, SIGUSR1, SIGUSR2 } from "../../src/user/libc.ts";
import type { SysApi } from "../../src/user/sys.ts";

const rec = function* (s: SysApi, sig: number) {
  yield* say(s, "got", [sig, yield* s.gettid(), yield* s.now()]);
};

describe("process-signal thread choice", () => {
  it("R1: a thread without TIF_SIGPENDING that blocks a pending shared signal retargets nothing (__set_task_blocked)", () => {
    // threads L, A, B, C. L blocks USR1/USR2. C is made curr_target by a USR2 only it takes, then sleeps in D.
    // kill(pid, USR1): L blocks it, the search from curr_target picks C (in D: TIF set, no wakeup).
    // B (never handed anything, no TIF) then blocks USR1. Linux: no retarget; C takes USR1 when its io ends.
    const m = boot({ cpus: 4 });
    m.spawn(program("p", function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: rec });
      yield* sys.sigaction(SIGUSR2, { handler: rec });
      yield* sys.sigprocmask(0, [SIGUSR1, SIGUSR2]);
      const a = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sigprocmask(1, [SIGUSR1]);
        yield* s.sleep(50 * MS);
      });
      const b = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sigprocmask(1, [SIGUSR1]);
        yield* s.sleep(5 * MS);
        yield* s.sigprocmask(0, [SIGUSR1]);
        yield* s.sleep(50 * MS);
      });
      const c = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sigprocmask(1, [SIGUSR1, SIGUSR2]);
        yield* s.sleep(1 * MS); // USR2 arrives here: C takes it, curr_target = C
        yield* s.io(10 * MS); // D from ~1 ms to ~11 ms
        yield* s.sleep(50 * MS);
      });
      yield* say(sys, "tids", { a, b, c });
      const me = yield* sys.getpid();
      yield* sys.sleep(MS / 2);
      yield* sys.kill(me, SIGUSR2);
      yield* sys.sleep(MS);
      yield* sys.kill(me, SIGUSR1); // ~1.5 ms: C is in io
      yield* sys.sleep(60 * MS);
    }));
    m.run();
    const { a, c } = said(m, "tids")[0] as { a: number; b: number; c: number };
    const got = said(m, "got") as [number, number, number][];
    const usr1 = got.find(([s]) => s === SIGUSR1)!;
    expect(got.find(([s]) => s === SIGUSR2)![1]).toBe(c);
    // Linux: taken by C after its io (~11 ms). Not by A at 5 ms.
    expect({ tid: usr1[1], atMs: Math.round(usr1[2] / MS) }).not.toEqual({ tid: a, atMs: 5 });
    expect(usr1[1]).toBe(c);
  });

  it("R1b: a thread without TIF_SIGPENDING that exits retargets nothing (exit_signals)", () => {
    // L and A unblock USR1. kill(A) hands USR1 to A (in D until ~10 ms). Thread K, which sent it and
    // was never handed anything, then exits. Linux: exit_signals returns early (!task_sigpending),
    // A takes USR1 at ~10 ms (retargeting anyway would wake L, which would take it at 1 ms).
    const m = boot({ cpus: 4 });
    m.spawn(program("p", function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: rec });
      const a = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.io(10 * MS);
        yield* s.sleep(50 * MS);
      });
      const me = yield* sys.gettid();
      yield* say(sys, "tids", { l: me, a });
      yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sleep(1 * MS);
        yield* s.kill(a, SIGUSR1);
        yield* s.exitThread(0);
      });
      yield* sys.sleep(60 * MS);
    }));
    m.run();
    const { l, a } = said(m, "tids")[0] as { l: number; a: number };
    const got = said(m, "got") as [number, number, number][];
    const usr1 = got.find(([s]) => s === SIGUSR1)!;
    expect({ tid: usr1[1] === l ? "L" : usr1[1] === a ? "A" : usr1[1], atMs: Math.round(usr1[2] / MS) }).toEqual({ tid: "A", atMs: 10 });
  });

  it("R2: retarget_shared_pending looks at the threads after the one that blocks, in list order (next_thread)", () => {
    // threads L, A, B, C. L blocks USR1/USR2; A and C unblock USR2 and sleep; B (in D) is handed USR2 (kill(B))
    // and then a thread USR1, whose handler's sa_mask blocks USR2: handle_signal -> set_current_blocked with
    // TIF set -> retarget_shared_pending(B): Linux tries C first (next_thread(B)); starting at L would give A.
    const m = boot({ cpus: 4 });
    m.spawn(program("p", function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: function* (s, sig) { yield* rec(s, sig); yield* s.compute(2 * MS); }, mask: [SIGUSR2] });
      yield* sys.sigaction(SIGUSR2, { handler: rec });
      yield* sys.sigprocmask(0, [SIGUSR1, SIGUSR2]);
      const a = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sigprocmask(1, [SIGUSR2]);
        yield* s.sleep(50 * MS);
      });
      const b = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sigprocmask(1, [SIGUSR1, SIGUSR2]);
        yield* s.io(10 * MS);
        yield* s.sleep(50 * MS);
      });
      const c = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sigprocmask(1, [SIGUSR2]);
        yield* s.sleep(50 * MS);
      });
      yield* say(sys, "tids", { a, b, c });
      const me = yield* sys.getpid();
      yield* sys.sleep(2 * MS);
      yield* sys.kill(b, SIGUSR2); // process-directed, offered to B first: B wants it (in D, no TIF)
      yield* sys.tgkill(me, b, SIGUSR1);
      yield* sys.sleep(60 * MS);
    }));
    m.run();
    const { a, b, c } = said(m, "tids")[0] as { a: number; b: number; c: number };
    const got = said(m, "got") as [number, number, number][];
    expect(got.find(([s]) => s === SIGUSR1)![1]).toBe(b);
    const usr2 = got.find(([s]) => s === SIGUSR2)!;
    expect(usr2[1], `USR2 taken by ${usr2[1] === a ? "A" : usr2[1] === c ? "C" : usr2[1]}`).toBe(c);
  });

  it("R3: when the curr_target thread exits, the search starts at the thread after it (__exit_signal)", () => {
    // threads L, A, B, C. USR2 only B takes: curr_target = B. B exits. kill(pid, USR1) with L blocking it:
    // Linux starts at next_thread(B) = C; starting over at the leader would give A.
    const m = boot({ cpus: 4 });
    m.spawn(program("p", function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: rec });
      yield* sys.sigaction(SIGUSR2, { handler: rec });
      yield* sys.sigprocmask(0, [SIGUSR1, SIGUSR2]);
      const a = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sigprocmask(1, [SIGUSR1]);
        yield* s.sleep(50 * MS);
      });
      const b = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sigprocmask(1, [SIGUSR2]);
        yield* s.sleep(2 * MS);
        yield* s.exitThread(0);
      });
      const c = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sigprocmask(1, [SIGUSR1]);
        yield* s.sleep(50 * MS);
      });
      yield* say(sys, "tids", { a, b, c });
      const me = yield* sys.getpid();
      yield* sys.sleep(1 * MS);
      yield* sys.kill(me, SIGUSR2);
      yield* sys.sleep(3 * MS);
      yield* sys.kill(me, SIGUSR1);
      yield* sys.sleep(60 * MS);
    }));
    m.run();
    const { a, b, c } = said(m, "tids")[0] as { a: number; b: number; c: number };
    const got = said(m, "got") as [number, number, number][];
    expect(got.find(([s]) => s === SIGUSR2)![1]).toBe(b);
    const usr1 = got.find(([s]) => s === SIGUSR1)!;
    expect(usr1[1], `USR1 taken by ${usr1[1] === a ? "A" : usr1[1] === c ? "C" : usr1[1]}`).toBe(c);
  });

  it("R4: clone() recalculates the caller's TIF_SIGPENDING first and restarts for a pending signal (copy_process)", () => {
    // L and A unblock USR1. kill(A) hands USR1 to A, which is in io (D) until ~10 ms. L wakes at 3 ms and
    // calls clone(): Linux's copy_process does recalc_sigpending() and returns -ERESTARTNOINTR, so L runs
    // the handler at 3 ms (before the new thread exists); without it L would clone and A take USR1 at ~10 ms.
    const m = boot({ cpus: 4 });
    m.spawn(program("p", function* (sys) {
      yield* sys.sigaction(SIGUSR1, { handler: rec });
      const a = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.io(10 * MS);
        yield* s.sleep(50 * MS);
      });
      const me = yield* sys.gettid();
      yield* say(sys, "tids", { l: me, a });
      yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) {
        yield* s.sleep(1 * MS);
        yield* s.kill(a, SIGUSR1);
        yield* s.sleep(60 * MS); // (exiting here would wake L through the R1 retarget)
      });
      yield* sys.sleep(3 * MS);
      const t = yield* sys.clone(CLONE_THREAD_FLAGS, function* (s) { yield* s.sleep(60 * MS); });
      yield* say(sys, "cloned", [t, yield* sys.now()]);
      yield* sys.sleep(60 * MS);
    }));
    m.run();
    const { l, a } = said(m, "tids")[0] as { l: number; a: number };
    const got = said(m, "got") as [number, number, number][];
    const usr1 = got.find(([s]) => s === SIGUSR1)!;
    expect({ tid: usr1[1] === l ? "L" : usr1[1] === a ? "A" : usr1[1], atMs: Math.round(usr1[2] / MS) }).toEqual({ tid: "L", atMs: 3 });
  });
});

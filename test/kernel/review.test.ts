/** Fixes found in review, each with the Linux rule it keeps. */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import { SIGCHLD, SIGSTOP, SA_NOCLDSTOP, SIG_BLOCK, SIG_UNBLOCK, EBUSY, EBADF, EPERM } from "../../src/user/libc.ts";

const MS = 1e6;

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

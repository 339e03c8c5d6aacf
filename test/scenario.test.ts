import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseWorkload, WorkloadError } from "../src/scenario/load.ts";
import { bootWorkload, deadlineParams, runWorkload, schedSpawnOptions, type WorkloadBoot } from "../src/scenario/run.ts";
import { childEntry, POLICY_NUMBERS, WorkloadCoroutine, workloadImage } from "../src/scenario/interp.ts";
import type { Step, Workload } from "../src/scenario/workload.ts";
import type { TraceEvent } from "../src/sim/trace.ts";
import type { SyscallReq } from "../src/kernel/task/program.ts";
import type { Machine } from "../src/user/machine.ts";

const MS = 1_000_000;
const EXIT_ZOMBIE = 0x20;

function example(name: string): Workload {
  const file = `examples/workloads/${name}.yaml`;
  return parseWorkload(readFileSync(new URL(`../${file}`, import.meta.url), "utf8"), file);
}

/** Strip common indentation so fixtures can be written inline. */
function yaml(strings: TemplateStringsArray, ...vals: unknown[]): Workload {
  const src = String.raw({ raw: strings }, ...vals).replace(/^\n/, "");
  const indent = Math.min(...src.split("\n").filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return parseWorkload(src.split("\n").map((l) => l.slice(indent)).join("\n"), "inline.yaml");
}

/** Boots a workload with every trace event recorded. */
function traced(w: Workload, overrides = {}): WorkloadBoot & { events: TraceEvent[] } {
  const boot = bootWorkload(w, overrides);
  const events: TraceEvent[] = [];
  boot.machine.kernel.trace.subscribe((e) => events.push(e));
  return { ...boot, events };
}

const only = <N extends TraceEvent["name"]>(events: TraceEvent[], name: N) =>
  events.filter((e): e is Extract<TraceEvent, { name: N }> => e.name === name);

/** wait4 results (objects only) returned to `pid`. */
function reaped(events: TraceEvent[], pid: number): { pid: number; status: number; utime: number }[] {
  return only(events, "sys_exit")
    .filter((e) => e.pid === pid && e.id === "wait4" && typeof e.ret === "object")
    .map((e) => e.ret as { pid: number; status: number; utime: number });
}

const childrenOf = (events: TraceEvent[], parent: number): number[] =>
  only(events, "sched_process_fork").filter((e) => e.parent_pid === parent).map((e) => e.child_pid);

const syscallsOf = (events: TraceEvent[], pid: number, nr: string): number =>
  only(events, "sys_enter").filter((e) => e.pid === pid && e.id === nr).length;

/** Only init is left: every process exited and was reaped. */
function allReaped(m: Machine): void {
  expect([...m.kernel.tasks.keys()]).toEqual([1]);
}

describe("examples/workloads", () => {
  it("fork-tree: 10 processes, each reaped by its own parent", () => {
    const { machine, until, events } = traced(example("fork-tree"));
    machine.run(until ?? Infinity);
    expect(machine.kernel.totalForks).toBe(10);
    allReaped(machine);
    const parentOf = new Map(only(events, "sched_process_fork").map((e) => [e.child_pid, e.parent_pid]));
    const waits = only(events, "sched_process_wait");
    expect(waits).toHaveLength(10);
    for (const w of waits) expect(parentOf.get(w.wait_pid)).toBe(w.pid);
    const exits = only(events, "sched_process_exit");
    expect(exits.every((e) => e.code === 0)).toBe(true);
    const comms = exits.map((e) => e.comm).sort();
    expect(comms).toEqual(["child", "child", "child", ...Array(6).fill("grandchild"), "root"].sort());
  });

  it("zombie: the child is a zombie from its exit until the parent's wait, which gets status 0x300", () => {
    const { machine, pids, events } = traced(example("zombie"));
    machine.run(MS / 2);
    const parent = pids.get("parent")![0]!;
    const [child] = childrenOf(events, parent);
    expect(child).toBeDefined();
    expect(machine.task(child!)!.exitState).toBe(0);
    for (const at of [2 * MS, 5 * MS, 9.9 * MS]) {
      machine.run(at);
      expect(machine.task(child!)?.exitState, `at ${at} ns`).toBe(EXIT_ZOMBIE);
      expect(machine.task(child!)?.comm).toBe("short");
    }
    machine.run();
    expect(machine.task(child!)).toBeUndefined();
    expect(reaped(events, parent)).toEqual([expect.objectContaining({ pid: child, status: 0x300 })]);
    allReaped(machine);
  });

  it("periodic: each periodic task uses exactly 50 x 2 ms of user CPU time; the hog runs at nice 5", () => {
    const { machine, until, pids, events } = traced(example("periodic"));
    machine.run(1 * MS);
    const hog = pids.get("hog")![0]!;
    expect(machine.task(hog)!.nice).toBe(5);
    machine.run(until);
    allReaped(machine);
    const periodic = pids.get("periodic")!;
    expect(periodic).toHaveLength(2);
    const byPid = new Map(reaped(events, 1).map((r) => [r.pid, r]));
    for (const pid of periodic) {
      expect(syscallsOf(events, pid, "compute")).toBe(50);
      expect(syscallsOf(events, pid, "nanosleep")).toBe(50);
      expect(byPid.get(pid)!.utime).toBe(50 * 2 * MS);
    }
    expect(byPid.get(hog)!.utime).toBe(1000 * MS);
  });

  it("mixed-nice: three hogs at nice -5/0/5 each get their 2 s and the CPU is never idle", () => {
    const { machine, pids, events } = traced(example("mixed-nice"));
    machine.run(1 * MS);
    const nices = ["hog-n5", "hog-0", "hog-p5"].map((n) => machine.task(pids.get(n)![0]!)!.nice);
    expect(nices).toEqual([-5, 0, 5]);
    machine.run();
    allReaped(machine);
    const exits = only(events, "sched_process_exit");
    expect(Math.max(...exits.map((e) => e.ts))).toBe(6000 * MS);
    expect(reaped(events, 1).map((r) => r.utime)).toEqual([2000 * MS, 2000 * MS, 2000 * MS]);
  });

  it("deadline: every job of the three deadline tasks ends within its relative deadline of its wakeup, as the file says", () => {
    const { machine, pids, until, events } = traced(example("deadline"));
    machine.run(until ?? Infinity);
    const rel = new Map([[pids.get("video")![0]!, 30 * MS], [pids.get("audio")![0]!, 20 * MS], [pids.get("control")![0]!, 100 * MS]]);
    const woke = new Map<number, number>();
    const jobs = new Map<number, number[]>([...rel.keys()].map((p) => [p, []]));
    for (const e of events) {
      if (e.name === "sched_wakeup" && rel.has(e.pid)) woke.set(e.pid, e.ts);
      if (e.name === "sched_switch" && rel.has(e.prev_pid) && e.prev_state !== "R+" && woke.has(e.prev_pid)) {
        jobs.get(e.prev_pid)!.push(e.ts - woke.get(e.prev_pid)!);
        woke.delete(e.prev_pid);
      }
    }
    for (const [pid, d] of rel) {
      expect(jobs.get(pid)!.length).toBeGreaterThan(15);
      expect(jobs.get(pid)!.filter((r) => r > d)).toEqual([]);
    }
  });

  it("every example gives an identical trace when run twice", () => {
    for (const name of ["fork-tree", "zombie", "periodic", "mixed-nice"]) {
      const run = (): string => {
        const { machine, until, events } = traced(example(name));
        machine.run(until ?? Infinity);
        return events.map((e) => JSON.stringify(e)).join("\n");
      };
      const a = run();
      expect(a.length).toBeGreaterThan(0);
      expect(run(), name).toBe(a);
    }
  });
});

describe("interpreter", () => {
  it("forkinrepeat: a fork inside a repeat continues the loop in the parent; the child runs only its body", () => {
    const w = yaml`
      cpus: 1
      tasks:
        - name: looper
          run:
            - repeat:
                times: 3
                run:
                  - compute: 1ms
                  - fork: { name: kid, run: [ { compute: 2ms } ] }
            - wait: all
            - compute: 1ms
    `;
    const { machine, pids, events } = traced(w);
    machine.run();
    const parent = pids.get("looper")![0]!;
    const kids = childrenOf(events, parent);
    expect(kids).toHaveLength(3);
    expect(syscallsOf(events, parent, "compute")).toBe(4);
    for (const kid of kids) {
      expect(syscallsOf(events, kid, "compute")).toBe(1);
      expect(syscallsOf(events, kid, "clone")).toBe(0);
    }
    expect(reaped(events, parent).map((r) => [r.pid, r.status, r.utime])).toEqual(kids.map((k) => [k, 0, 2 * MS]));
    const renames = only(events, "task_rename").filter((e) => kids.includes(e.pid));
    expect(renames.map((e) => e.newcomm)).toEqual(["kid", "kid", "kid"]);
    allReaped(machine);
  });

  it("fork() copies the interpreter state: the copy continues from the same point, independently", () => {
    const steps = yaml`
      tasks:
        - name: t
          run:
            - repeat: { times: 3, run: [ { compute: 1ms }, { yield: true } ] }
            - exit: 4
    `.tasks[0]!.body;
    const co = new WorkloadCoroutine(steps);
    expect(co.next(undefined)).toMatchObject({ nr: "compute", a: MS });
    expect(co.next(0).nr).toBe("sched_yield");
    expect(co.next(0).nr).toBe("compute"); // second iteration
    const copy = co.fork();
    const rest = (c: { next(r: unknown): SyscallReq }): string[] => {
      const out: string[] = [];
      for (let r = c.next(0); ; r = c.next(0)) {
        out.push(`${r.nr}${r.a !== undefined ? ` ${String(r.a)}` : ""}`);
        if (r.nr === "exit_group") return out;
      }
    };
    const expected = ["sched_yield", "compute 1000000", "sched_yield", "exit_group 4"];
    expect(rest(co)).toEqual(expected);
    expect(rest(copy)).toEqual(expected);
  });

  it("fork() copies the children table; spawn() runs a forked child's body under its name", () => {
    const steps = yaml`
      tasks:
        - name: t
          run:
            - fork: { name: a, count: 2, nice: 3, run: [ { compute: 5ms } ] }
            - wait: a
    `.tasks[0]!.body;
    const co = new WorkloadCoroutine(steps);
    const clone1 = co.next(undefined);
    expect(clone1).toMatchObject({ nr: "clone", a: 17 });
    expect(co.next(100)).toEqual({ nr: "setpriority", a: 0, b: 100, c: 3 });
    expect(co.next(0).nr).toBe("clone");
    expect(co.next(101)).toMatchObject({ nr: "setpriority", b: 101 });
    expect(co.children).toEqual([100, 101]);
    const copy = co.fork();
    expect(copy.next(0)).toEqual({ nr: "wait4", a: 100, b: 0 });
    expect(copy.next({ pid: 100, status: 0 })).toEqual({ nr: "wait4", a: 101, b: 0 });
    expect(co.children).toEqual([100, 101]); // the original is untouched
    const child = co.spawn(clone1.b, undefined);
    expect(child.next(undefined)).toEqual({ nr: "prctl", a: 15, b: "a", c: undefined });
    expect(child.next(0)).toMatchObject({ nr: "compute", a: 5 * MS });
    expect(child.next(0)).toEqual({ nr: "exit_group", a: 0 });
    expect(clone1.b).toBe(childEntry((steps[0] as Extract<Step, { op: "fork" }>).child));
  });

  it("a signal handler given as steps runs on top of the interrupted body and returns with rt_sigreturn", () => {
    const co = new WorkloadCoroutine([{ op: "compute", ns: MS, loc: { line: 1 } }]);
    expect(co.next(undefined).nr).toBe("compute");
    co.pushHandler([{ op: "yield", loc: { line: 2 } }], 10);
    expect(co.next(undefined).nr).toBe("sched_yield");
    expect(co.next(0).nr).toBe("rt_sigreturn");
    expect(co.next(0)).toEqual({ nr: "exit_group", a: 0 }); // the compute completed
  });

  it("exec keeps the pid, changes comm and runs the program; its exit code reaches the waiter", () => {
    const w = yaml`
      programs:
        worker:
          - compute: 5ms
          - exit: 7
      tasks:
        - name: launcher
          run:
            - compute: 1ms
            - exec: worker
            - exit: 1        # not reached
    `;
    const { machine, pids, events } = traced(w);
    machine.run(3 * MS);
    const pid = pids.get("launcher")![0]!;
    expect(machine.task(pid)!.comm).toBe("worker");
    const exec = only(events, "sched_process_exec").filter((e) => e.filename === "/workload/worker");
    expect(exec).toEqual([expect.objectContaining({ pid, old_pid: pid })]);
    machine.run();
    expect(reaped(events, 1)).toEqual([expect.objectContaining({ pid, status: 0x700, utime: 6 * MS })]);
  });

  it("kill: children gets SIGTERM; kill: parent signals the parent", () => {
    const w = yaml`
      tasks:
        - name: boss
          run:
            - fork: { name: sleeper, run: [ { sleep: 1s } ] }
            - compute: 1ms
            - kill: children
            - wait: all
        - name: victim
          run:
            - fork: { run: [ { compute: 1ms }, { kill: { target: parent, signal: SIGUSR1 } } ] }
            - sleep: 1s
    `;
    const { machine, pids, events } = traced(w);
    machine.run();
    const boss = pids.get("boss")![0]!;
    expect(reaped(events, boss).map((r) => r.status)).toEqual([15]); // killed by SIGTERM
    const victim = pids.get("victim")![0]!;
    expect(reaped(events, 1).find((r) => r.pid === victim)!.status).toBe(10); // killed by SIGUSR1
    expect(machine.now).toBeLessThan(1000 * MS);
    allReaped(machine);
  });

  it("a forked child's nice and affinity are applied by the parent after the clone", () => {
    const w = yaml`
      cpus: 2
      tasks:
        - name: p
          run:
            - fork: { name: kid, nice: 5, affinity: [1], run: [ { compute: 10ms } ] }
            - compute: 10ms
            - wait: all
    `;
    const { machine, pids, events } = traced(w);
    machine.run(5 * MS);
    const [kid] = childrenOf(events, pids.get("p")![0]!);
    const t = machine.task(kid!)!;
    expect([t.comm, t.nice, t.cpu]).toEqual(["kid", 5, 1]);
    expect(t.cpusAllowed && [...t.cpusAllowed]).toEqual([0, 1]);
  });

  it("nice steps set an absolute nice value; workload tasks run as root, so lowering it works too", () => {
    const w = yaml`
      tasks:
        - name: n
          run:
            - nice: 3
            - compute: 1ms
            - nice: 1
            - compute: 1ms
    `;
    const { machine, pids, events } = traced(w);
    machine.run(MS / 2);
    const pid = pids.get("n")![0]!;
    expect(machine.task(pid)!.nice).toBe(3);
    machine.run(3 * MS / 2);
    expect(machine.task(pid)!.nice).toBe(1);
    const rets = only(events, "sys_exit").filter((e) => e.pid === pid && e.id === "setpriority").map((e) => e.ret);
    expect(rets).toEqual([0, 0]);
  });

  it("an empty repeat is skipped; a loop that never makes a syscall is killed with a warning", () => {
    const w = yaml`
      tasks:
        - name: empty
          run:
            - repeat: { times: 1000000000, run: [ { repeat: { times: 5, run: [] } } ] }
            - exit: 2
        - name: spin
          run:
            - repeat: { times: 1000000000, run: [ { kill: children } ] }
    `;
    const { machine, pids, events } = traced(w);
    machine.run();
    const status = new Map(reaped(events, 1).map((r) => [r.pid, r.status]));
    expect(status.get(pids.get("empty")![0]!)).toBe(0x200);
    expect(status.get(pids.get("spin")![0]!)).toBe(11); // SIGSEGV
    expect(machine.kernel.warnings.join("\n")).toMatch(/line \d+ ran 100000 steps without a syscall/);
  });
});

describe("bootWorkload", () => {
  it("starts count copies at their start time with the task name as comm", () => {
    const w = yaml`
      cpus: 4
      seed: 9
      until: 50ms
      tasks:
        - name: late
          count: 2
          start: 5ms
          run: [ { compute: 1ms } ]
    `;
    const { machine, until, pids, events } = traced(w, { cpus: 3 });
    expect(until).toBe(50 * MS);
    expect(machine.kernel.rqs).toHaveLength(3);
    machine.run(until);
    expect(pids.get("late")).toHaveLength(2);
    const forks = only(events, "sched_process_fork");
    expect(forks.map((e) => e.ts)).toEqual([5 * MS, 5 * MS]);
    expect(only(events, "sched_process_exit").map((e) => e.comm)).toEqual(["late", "late"]);
    expect(runWorkload(w, { until: 2 * MS }).now).toBe(2 * MS);
  });

  it("maps policies to SCHED_* numbers and keeps deadline parameters by pid", () => {
    expect(POLICY_NUMBERS).toEqual({ normal: 0, fifo: 1, rr: 2, batch: 3, idle: 5, deadline: 6 });
    expect(schedSpawnOptions({ nice: -3, policy: "rr", priority: 10, affinity: [1] })).toEqual({
      nice: -3,
      policy: 2,
      rtPriority: 10,
      affinity: [1],
    });
    const w = yaml`
      tasks:
        - name: dl
          policy: deadline
          runtime: 1ms
          deadline: 5ms
          period: 10ms
          run: [ { compute: 1ms } ]
    `;
    expect(deadlineParams(w.tasks[0]!)).toEqual({ runtime: MS, deadline: 5 * MS, period: 10 * MS });
    const boot = bootWorkload(w);
    boot.machine.run(MS / 2);
    const pid = boot.pids.get("dl")![0]!;
    expect(boot.machine.task(pid)!.policy).toBe(6);
    expect(boot.deadline.get(pid)).toEqual({ runtime: MS, deadline: 5 * MS, period: 10 * MS });
  });

  it("rejects an affinity naming no CPU of the machine", () => {
    const w = yaml`
      tasks:
        - name: far
          affinity: [7]
          run: [ { compute: 1ms } ]
    `;
    expect(() => bootWorkload(w, { cpus: 2 })).toThrow(/affinity \[7\] names no CPU of this 2-CPU machine/);
  });

  it("an invalid workload is a WorkloadError; a hand-built exec of an unknown program is a TypeError", () => {
    expect(() => parseWorkload("tasks:\n  - name: x\n    run:\n      - exec: nope\n", "bad.yaml")).toThrow(WorkloadError);
    expect(() => parseWorkload("tasks:\n  - name: x\n    run:\n      - compute: fast\n", "bad.yaml")).toThrow(
      /^bad\.yaml:4:\d+: tasks\[0\]\.run\[0\]\.compute: /,
    );
    const steps: Step[] = [{ op: "exec", program: "ghost", loc: { line: 3 } }];
    expect(() => workloadImage("x", steps, {})).toThrow(/exec of unknown program "ghost" \(line 3\)/);
  });
});

describe("random durations (uniform, exponential) from the seeded generator", () => {
  it("bursty: draws stay in range, the same seed repeats the run, another seed changes it", async () => {
    const { parseWorkload } = await import("../src/scenario/load.ts");
    const { bootWorkload } = await import("../src/scenario/run.ts");
    const text = "cpus: 1\ntasks:\n  - name: b\n    run:\n      - repeat: { times: 50, run: [ { compute: { uniform: [1ms, 3ms] } }, { sleep: { exp: 2ms } } ] }\n";
    const w = parseWorkload(text, "b.yaml");
    const step = (w.tasks[0]!.body[0] as { body: { dist?: unknown }[] }).body[0]!;
    expect(step.dist).toEqual({ kind: "uniform", lo: 1e6, hi: 3e6 });
    const run = (seed: number) => {
      const { machine } = bootWorkload(w, { seed });
      const bursts: number[] = [];
      machine.kernel.trace.subscribe((e) => {
        if (e.name === "sys_enter" && e.id === "compute") bursts.push(e.args[0] as number);
      });
      machine.run();
      return bursts;
    };
    const a = run(1);
    expect(a).toHaveLength(50);
    for (const b of a) expect(b >= 1e6 && b <= 3e6).toBe(true);
    expect(run(1)).toEqual(a);
    expect(run(2)).not.toEqual(a);
  });

  it("a bad random duration names the field and what is allowed", async () => {
    const { parseWorkload } = await import("../src/scenario/load.ts");
    expect(() => parseWorkload("tasks:\n  - name: b\n    run:\n      - compute: { uniform: [3ms, 1ms] }\n", "r.yaml")).toThrow(/r\.yaml:4:.*compute.*min <= max/);
    expect(() => parseWorkload("tasks:\n  - name: b\n    run:\n      - sleep: { normal: 3ms }\n", "r.yaml")).toThrow(/r\.yaml:4:.*sleep.*uniform/);
  });
});

describe("workload fork attributes take effect (workload tasks run as root)", () => {
  it("forkattrs: a fork child with nice -5, FIFO 10 or deadline gets them; spawn failures become warnings", async () => {
    const { parseWorkload } = await import("../src/scenario/load.ts");
    const { bootWorkload } = await import("../src/scenario/run.ts");
    const w = parseWorkload(
      [
        "cpus: 1",
        "tasks:",
        "  - name: parent",
        "    run:",
        "      - fork: { name: neg, nice: -5, run: [ { sleep: 5ms } ] }",
        "      - fork: { name: rt, policy: fifo, priority: 10, run: [ { sleep: 5ms } ] }",
        "      - fork: { name: dl, policy: deadline, runtime: 1ms, deadline: 10ms, period: 10ms, run: [ { sleep: 5ms } ] }",
        "      - wait: all",
      ].join("\n"),
      "a.yaml",
    );
    const { machine, pids } = bootWorkload(w);
    machine.run(1e6);
    const kids = [...machine.kernel.tasks.values()].filter((t) => t.realParent?.pid === pids.get("parent")![0]);
    const by = (n: number) => kids.find((t) => t.policy === n);
    expect(kids.find((t) => t.nice === -5)).toBeDefined();
    expect(by(1)?.rtPriority).toBe(10);
    expect(by(6)).toBeDefined();
    machine.run();
    expect(machine.kernel.warnings).toEqual([]);
  });

  it("forkattrfail: a fork step's attribute the kernel refuses is said on the parent's stderr with the step's line, as a shell script would, and the child runs on", async () => {
    const { parseWorkload } = await import("../src/scenario/load.ts");
    const { bootWorkload } = await import("../src/scenario/run.ts");
    const text = "tasks:\n  - name: parent\n    run:\n      - fork:\n          count: 2\n          policy: fifo\n          priority: 10\n          run:\n            - compute: 5ms\n      - wait: all\n";
    const { machine } = bootWorkload(parseWorkload(text, "f.yaml"), { sched: "cfs", cpus: 1 });
    machine.run();
    expect(machine.output).toBe("fork at line 4: sched_setscheduler(fifo) for child 3: -EINVAL\nfork at line 4: sched_setscheduler(fifo) for child 4: -EINVAL\n");
    expect(machine.kernel.totalForks).toBe(3); // parent and both children ran
    const ok = bootWorkload(parseWorkload(text, "f.yaml"), { cpus: 1 });
    ok.machine.run();
    expect(ok.machine.output).toBe("");
  });

  it("forkaffinityfirst: a fork step's child made FIFO with affinity [0] never runs on another CPU (its affinity is set before its policy, so it cannot preempt the parent elsewhere first)", () => {
    const text =
      "cpus: 2\nuntil: 200ms\ntasks:\n  - name: cpu0-hog\n    affinity: [0]\n    run: [ { compute: 1s } ]\n  - name: parent\n    affinity: [1]\n    start: 1ms\n    run:\n" +
      "      - fork:\n          name: rt-kid\n          policy: fifo\n          priority: 10\n          affinity: [0]\n          run: [ { compute: 20ms } ]\n      - wait: all\n";
    const { machine } = bootWorkload(parseWorkload(text, "f.yaml"), {});
    const cpus = new Set<number>();
    machine.kernel.trace.subscribe((e) => {
      if (e.name === "sched_switch" && e.next_pid === 4) cpus.add(e.cpu); // pid 4: the child (cpu0-hog 2, parent 3)
    });
    machine.run(200e6);
    expect([...cpus]).toEqual([0]); // it ran all 20 ms on CPU 1, its parent's, before
    expect(machine.output).toBe("");
  });

  it("dlaffinity: a top-level deadline task whose affinity leaves out a CPU is refused (EPERM, as sched_setattr refuses it: its CPUs must span the root domain), with a warning, and the run goes on", () => {
    const text = "cpus: 2\nuntil: 50ms\ntasks:\n  - name: dl-top\n    policy: deadline\n    runtime: 5ms\n    deadline: 20ms\n    period: 20ms\n    affinity: [0]\n    run: [ { compute: 20ms } ]\n  - name: other\n    run: [ { compute: 10ms } ]\n";
    const { machine } = bootWorkload(parseWorkload(text, "f.yaml"), {});
    machine.run(50e6);
    expect(machine.kernel.warnings.join("\n")).toMatch(/dl-top.*EPERM.*affinity must include every CPU/);
    expect([...machine.kernel.tasks.values()].map((t) => t.comm)).not.toContain("dl-top");
    expect(machine.kernel.totalForks).toBe(1); // "other" ran
  });

  it("a task that cannot be created at its start time is a warning, and the run goes on", async () => {
    const { parseWorkload } = await import("../src/scenario/load.ts");
    const { bootWorkload } = await import("../src/scenario/run.ts");
    const w = parseWorkload("tasks:\n  - name: many\n    count: 300\n    run:\n      - sleep: 1ms\n  - name: more\n    count: 200\n    run:\n      - sleep: 1ms\n", "m.yaml");
    const { machine } = bootWorkload(w, { params: { pidMax: 400 } });
    machine.run();
    expect(machine.kernel.warnings.length).toBe(500 - 398); // pids 2..399 are all there is
    // One task asking for more than pid_max could ever hold is the file's error, found at boot.
    const over = parseWorkload("tasks:\n  - name: many\n    count: 500\n    run:\n      - sleep: 1ms\n", "m.yaml");
    expect(() => bootWorkload(over, { params: { pidMax: 400 } })).toThrow(/task "many" \(line 2\): count 500 is more processes than can ever exist at once \(pid_max 400/);
    expect(machine.kernel.warnings[0]).toMatch(/spawn more: -EAGAIN/);
    expect([...machine.kernel.tasks.keys()]).toEqual([1]);
  });
});

describe("periodic repeat (every)", () => {
  it("periodicevery: repeat with every releases iteration k at start + k x every, whatever the run delay (a clock_nanosleep(TIMER_ABSTIME) loop), so 50 jobs against two hogs end by 500 ms", () => {
    const text = "cpus: 1\nuntil: 2s\ntasks:\n  - name: periodic\n    start: 3ms\n    run:\n      - repeat: { times: 50, every: 10ms, run: [ { compute: 2ms } ] }\n  - name: hog\n    count: 2\n    run: [ { compute: 5s } ]\n";
    const { machine } = bootWorkload(parseWorkload(text, "f.yaml"), {});
    const wakeups: number[] = [];
    let exitAt = -1;
    machine.kernel.trace.subscribe((e) => {
      if (e.name === "sched_wakeup" && e.comm === "periodic") wakeups.push(e.ts);
      if (e.name === "sched_process_exit" && e.comm === "periodic") exitAt = e.ts;
    });
    machine.run(2e9);
    // The repeat starts when the task first runs (after its run delay), and reads the clock there: releases follow
    // on an exact 10 ms grid from that point.
    const first = wakeups[0]! - 10e6;
    expect(first).toBeGreaterThanOrEqual(3e6);
    expect(wakeups).toEqual(Array.from({ length: 49 }, (_, k) => first + (k + 1) * 10e6));
    expect(exitAt).toBeLessThanOrEqual(first + 490e6 + 10e6); // the last release, then 2 ms of work and a run delay
    // The same loop written with a relative sleep drifts by each run delay.
    const drift = bootWorkload(parseWorkload(text.replace("every: 10ms, run: [ { compute: 2ms } ]", "run: [ { compute: 2ms }, { sleep: 8ms } ]"), "f.yaml"), {});
    let driftExit = -1;
    drift.machine.kernel.trace.subscribe((e) => {
      if (e.name === "sched_process_exit" && e.comm === "periodic") driftExit = e.ts;
    });
    drift.machine.run(2e9);
    expect(driftExit).toBeGreaterThan(exitAt + 50e6);
  });

  it("periodicoverrun: an iteration that runs past the next release starts the next one at once (no sleep), and a bad period is an error at its line", () => {
    const { machine } = bootWorkload(parseWorkload("cpus: 1\ntasks:\n  - name: p\n    run:\n      - repeat: { times: 3, every: 1ms, run: [ { compute: 2ms } ] }\n", "f.yaml"), {});
    let sleeps = 0;
    machine.kernel.trace.subscribe((e) => {
      if (e.name === "sys_enter" && e.id === "nanosleep") sleeps++;
    });
    machine.run();
    expect(sleeps).toBe(0);
    expect(machine.kernel.lastExitAt).toBe(6e6);
    expect(() => parseWorkload("tasks:\n  - name: p\n    run:\n      - repeat: { times: 3, every: 0, run: [ { compute: 2ms } ] }\n", "f.yaml")).toThrow(/^f\.yaml:4:\d+: .*every: expected a duration above 0/);
  });
});

describe("sched step: attributes changed mid-run", () => {
  it("schedstep: a task pinned to CPU 0 unpins itself and the balancer spreads the hogs; a task raises itself to FIFO for a phase, then goes back to normal", () => {
    const text =
      "cpus: 2\nuntil: 400ms\ntasks:\n  - name: hog\n    count: 2\n    affinity: [0]\n    run:\n      - compute: 40ms\n      - sched: { affinity: [0, 1] }\n      - compute: 1s\n" +
      "  - name: boost\n    affinity: [1]\n    start: 200ms\n    run:\n      - sched: { policy: fifo, priority: 10 }\n      - compute: 50ms\n      - sched: { policy: normal, nice: 5 }\n      - compute: 50ms\n";
    const { machine } = bootWorkload(parseWorkload(text, "f.yaml"), {});
    const hogCpus = new Map<number, Set<number>>();
    const policies: string[] = [];
    machine.kernel.trace.subscribe((e) => {
      if (e.name === "sched_switch" && e.next_comm === "hog") (hogCpus.get(e.next_pid) ?? hogCpus.set(e.next_pid, new Set()).get(e.next_pid)!).add(e.cpu);
      if (e.name === "sys_exit" && (e.id === "sched_setscheduler" || e.id === "setpriority" || e.id === "sched_setaffinity")) policies.push(`${e.ts / 1e6}:${e.id}:${String(e.ret)}`);
    });
    machine.run(199e6);
    // Both hogs only ever ran on CPU 0 until they unpinned themselves (after 40 ms of CPU each, about 80 ms in);
    // then one moved to CPU 1.
    expect([...hogCpus.values()].map((s) => [...s].sort())).toEqual(expect.arrayContaining([[0], [0, 1]]));
    machine.run(400e6);
    expect(machine.output).toBe("");
    const boost = [...machine.kernel.tasks.values()].find((t) => t.comm === "boost");
    expect(boost).toBeUndefined(); // it finished: 100 ms of work from 200 ms
    expect(policies.filter((p) => p.includes("sched_setscheduler")).map((p) => p.split(":").slice(1).join(":"))).toEqual(["sched_setscheduler:0", "sched_setscheduler:0"]);
  });

  it("schedrefused: an attribute the kernel refuses is said on the task's stderr with the step's line, and the task goes on; an empty sched step is an error", () => {
    const text = "cpus: 1\ntasks:\n  - name: a\n    run:\n      - sched: { policy: deadline, runtime: 9ms, deadline: 10ms, period: 10ms }\n      - compute: 50ms\n" +
      "  - name: b\n    run:\n      - sched: { policy: deadline, runtime: 9ms, deadline: 10ms, period: 10ms }\n      - compute: 1ms\n";
    const { machine } = bootWorkload(parseWorkload(text, "f.yaml"), {});
    machine.run();
    expect(machine.output).toBe("sched at line 9: sched_setattr(SCHED_DEADLINE): -EBUSY\n"); // 0.9 + 0.9 > 0.95 of one CPU
    expect(machine.kernel.totalForks).toBe(2);
    expect(() => parseWorkload("tasks:\n  - name: a\n    run:\n      - sched: {}\n", "f.yaml")).toThrow(/^f\.yaml:4:\d+: .*sched: expected at least one of policy/);
  });
});

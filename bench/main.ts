/**
 * `npm run bench [-- --json] [-- --quick]`: speed and memory figures.
 * Wall-clock time is read only here (a front end), never in the simulator.
 * Each figure is printed as a table row, or with --json as one line
 * {"name", "value", "unit"}.
 *
 * Method: every group of figures runs in a fresh Node process (garbage and
 * JIT state left by one group would otherwise bias the next), warms up first,
 * and reports the median of several runs: the machines this runs on are
 * shared and noisy, so a single run can be off by 30 %.
 */
import { performance } from "node:perf_hooks";
import { Machine } from "../src/user/machine.ts";
import { program } from "../src/user/program.ts";
import { EventQueue, Timer } from "../src/sim/engine.ts";
import { SIGCHLD } from "../src/kernel/signal/signals.ts";
import { CLONE_VM } from "../src/kernel/task/fork.ts";
import { cpus } from "node:os";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Task } from "../src/kernel/task/task.ts";
import { parseWorkload } from "../src/scenario/load.ts";
import { bootWorkload } from "../src/scenario/run.ts";
import { GenCoroutine } from "../src/user/coroutine.ts";
import { sys as sysApi } from "../src/user/sys.ts";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");

function report(name: string, value: number, unit: string): void {
  const v = Number(value.toPrecision(4));
  if (json) console.log(JSON.stringify({ name, value: v, unit }));
  else console.log(`${name.padEnd(72)} ${String(v).padStart(12)} ${unit}`);
}

function note(text: string): void {
  if (!json) console.log(text);
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

function wall<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

/**
 * fork + exit + wait lifecycles with a clone() child function sharing the caller's memory
 * (CLONE_VM, as posix_spawn makes its children): no replay. Without CLONE_VM the child would get
 * its own memory by replaying the caller's history, as a generator fork does (see generatorForks).
 */
function lifecyclesClone(n: number): number {
  const m = new Machine({ cpus: 2, pidMax: 4194304 });
  const child = function* () {
    return 0;
  };
  m.spawn(
    program("spawner", function* (sys) {
      for (let i = 0; i < n; i++) {
        const pid = yield* sys.clone(CLONE_VM | SIGCHLD, child);
        yield* sys.waitpid(pid, 0);
      }
      return 0;
    }),
  );
  const r = wall(() => m.run());
  return n / (r.ms / 1000);
}

/** The same lifecycles written as a workload file: repeat { fork (empty body), wait any }. */
function lifecyclesDeclarative(n: number): number {
  const w = parseWorkload(`cpus: 2\ntasks:\n  - name: spawner\n    run:\n      - repeat: { times: ${n}, run: [ { fork: { run: [] } }, { wait: any } ] }\n`, "bench.yaml");
  const { machine } = bootWorkload(w, { params: { pidMax: 4194304 } });
  const r = wall(() => machine.run());
  return n / (r.ms / 1000);
}

/** A generator parent forking n children (fork by replay), each exiting at once; parent waits for each. */
function generatorForks(n: number): number {
  const m = new Machine({ cpus: 2, pidMax: 4194304 });
  m.spawn(
    program("forker", function* (sys) {
      for (let i = 0; i < n; i++) {
        const pid = yield* sys.fork();
        if (pid === 0) return 0;
        yield* sys.waitpid(pid, 0);
      }
      return 0;
    }),
  );
  return wall(() => m.run()).ms;
}

/** 1,000 tasks alternating compute and sleep on 4 CPUs. */
function eventsPerSecond(tasks: number, simNs: number): { rate: number; events: number } {
  const m = new Machine({ cpus: 4 });
  const body = program("cycler", function* (sys) {
    for (;;) {
      yield* sys.compute(1_000_000);
      yield* sys.sleep(3_000_000);
    }
  });
  for (let i = 0; i < tasks; i++) m.spawn(body);
  const r = wall(() => m.run(simNs));
  return { rate: m.kernel.engine.fired / (r.ms / 1000), events: m.kernel.engine.fired };
}

/** The bare event queue: n timers each re-arming itself at a pseudo-random later time. */
function bareQueue(n: number, events: number): number {
  const q = new EventQueue();
  let fired = 0;
  let now = 0;
  let x = 12345;
  const timers: Timer[] = [];
  for (let i = 0; i < n; i++) {
    const t = new Timer(2, (self) => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      q.arm(self, now + 1 + (x % 1000));
    });
    timers.push(t);
    q.arm(t, i);
  }
  const r = wall(() => {
    while (fired < events) {
      const t = q.pop();
      now = t.time;
      fired++;
      t.fire(t);
    }
  });
  return fired / (r.ms / 1000);
}

/**
 * The user side of the events figure alone: n programs of the same
 * compute/sleep loop, resumed in a scattered order as the kernel would, each
 * resume returning the next syscall request. ns per resume.
 */
function resumeCost(n: number, steps: number): number {
  const body = function* (s: typeof sysApi) {
    for (;;) {
      yield* s.compute(1_000_000);
      yield* s.sleep(3_000_000);
    }
  };
  const cos = Array.from({ length: n }, () => new GenCoroutine(body as never, [], sysApi, false));
  const r = wall(() => {
    for (let i = 0; i < steps; i++) cos[(i * 7919) % n]!.next(0);
  });
  return (r.ms * 1e6) / steps;
}

/** JS heap in use plus typed-array backing stores (which live outside the JS heap). */
function heapAndBuffers(): number {
  const u = process.memoryUsage();
  return u.heapUsed + u.arrayBuffers;
}

/** Heap bytes per live sleeping task, after each made `history` syscalls (typed arrays included). */
function heapPerTask(n: number, history: number, distinct = false): number {
  // Thousands of tasks making zero-time syscalls at one instant is the point here: lift the step budget.
  const m = new Machine({ cpus: 4, pidMax: 4194304, stepBudget: 1e9 });
  const body =
    history === 0
      ? program("sleeper", function* (sys) {
          yield* sys.sleep(1e15);
        })
      : distinct
        ? program("sleeper", function* (sys) {
            for (let i = 0; i < history; i++) yield* sys.getrandom(); // every result different: the worst case
            yield* sys.sleep(1e15);
          })
        : program("sleeper", function* (sys) {
            for (let i = 0; i < history; i++) yield* sys.getpid(); // the same result each time: one run in the history
            yield* sys.sleep(1e15);
          });
  m.run(1);
  gc();
  const before = heapAndBuffers();
  for (let i = 0; i < n; i++) m.spawn(body);
  m.run(2);
  gc();
  const after = heapAndBuffers();
  if (m.kernel.tasks.size < n) throw new Error("tasks died");
  return (after - before) / n;
}

/**
 * pick_next cost on one runqueue with n runnable tasks of one class: a cycle of
 * pickTask + setNextTask, 1 us of run time charged, putPrevTask (which re-queues
 * it at its new place). ns per cycle.
 */
function pickCost(sched: string, policy: number, n: number): number {
  const m = new Machine({ cpus: 1, sched, pidMax: 4194304, rtRuntime: -1 });
  const k = m.kernel;
  const forever = program("hog", function* (sys) {
    for (;;) yield* sys.compute(1e9);
  });
  for (let i = 0; i < n; i++) {
    const opts =
      policy === 0
        ? { nice: (i % 40) - 20 }
        : policy === 6
          ? { policy, dl: { runtime: 4096, deadline: 4e9, period: 4e9 } }
          : { policy, rtPriority: 1 + (i % 99) };
    m.spawn(forever, opts);
  }
  const rq = k.rqs[0]!;
  const cls = k.classes[k.classOfPolicy[policy]!]!;
  const cycles = Math.max(20_000, Math.min(200_000, n * 4));
  const one = (): void => {
    const p = cls.pickTask(rq) as Task;
    cls.setNextTask(rq, p);
    rq.curr = p;
    if (policy !== 6) cls.updateCurr(rq, p, 1000); // deadline order does not move with run time; charging it would throttle
    cls.putPrevTask(rq, p);
    rq.curr = rq.idle;
  };
  for (let i = 0; i < 2000; i++) one();
  const r = wall(() => {
    for (let i = 0; i < cycles; i++) one();
  });
  return (r.ms * 1e6) / cycles;
}

/** `tasks` (10,000) CPU-bound tasks of mixed nice on 8 CPUs: simulated context switches per wall second. */
function switchesPerSecond(sched: string, simNs: number, tasks = 10_000): number {
  const m = new Machine({ cpus: 8, sched, pidMax: 4194304 });
  const forever = program("hog", function* (sys) {
    for (;;) yield* sys.compute(1e9);
  });
  for (let i = 0; i < tasks; i++) m.spawn(forever, { nice: (i % 40) - 20 });
  m.run(1);
  const before = m.kernel.rqs.reduce((a, rq) => a + rq.nrSwitches, 0);
  const r = wall(() => m.run(simNs));
  const switches = m.kernel.rqs.reduce((a, rq) => a + rq.nrSwitches, 0) - before;
  return switches / (r.ms / 1000);
}

/** The median of `runs` results of fn (after the caller's warm-up). */
function median(runs: number, fn: () => number): number {
  const v = Array.from({ length: runs }, fn).sort((a, b) => a - b);
  return v[runs >> 1]!;
}

const RUNS = quick ? 3 : 5;

/** The figure groups, each run in its own process: name -> figures it reports. */
const groups: Record<string, () => void> = {
  heap: () => {
    const nHeap = quick ? 20_000 : 100_000;
    report(`heap bytes per sleeping task (${nHeap} tasks)`, heapPerTask(nHeap, 0), "bytes/task");
  },
  "heap-history-100": () => report(`heap bytes per sleeping task after 100 syscalls with equal results (${quick ? 2000 : 10_000} tasks)`, heapPerTask(quick ? 2000 : 10_000, 100), "bytes/task"),
  "heap-history-1000": () => report(`heap bytes per sleeping task after 1000 syscalls with equal results (${quick ? 2000 : 10_000} tasks)`, heapPerTask(quick ? 2000 : 10_000, 1000), "bytes/task"),
  "heap-history-distinct-100": () => report(`heap bytes per sleeping task after 100 syscalls with distinct results (${quick ? 2000 : 10_000} tasks)`, heapPerTask(quick ? 2000 : 10_000, 100, true), "bytes/task"),
  "heap-history-distinct-1000": () => report(`heap bytes per sleeping task after 1000 syscalls with distinct results (${quick ? 2000 : 10_000} tasks)`, heapPerTask(quick ? 2000 : 10_000, 1000, true), "bytes/task"),
  lifecycles: () => {
    const nLife = quick ? 20_000 : 200_000;
    lifecyclesClone(5_000); // warm-up
    report("fork-exit-wait lifecycles per second (clone(CLONE_VM | SIGCHLD) with a child function)", median(RUNS, () => lifecyclesClone(nLife)), "lifecycles/s");
    lifecyclesDeclarative(5_000);
    report("fork-exit-wait lifecycles per second (declarative workload fork)", median(RUNS, () => lifecyclesDeclarative(nLife)), "lifecycles/s");
  },
  "generator-fork": () => {
    const sizes = quick ? [500, 1000, 2000] : [1000, 2500, 5000, 10000];
    generatorForks(200);
    for (const n of sizes) {
      const ms = generatorForks(n);
      report(`generator fork(): parent forking ${n} children in a loop, wall time`, ms / 1000, "s");
      report(`generator fork(): mean cost per fork with ${n} in the loop`, (ms * 1000) / n, "us/fork");
    }
  },
  events: () => {
    const sim = quick ? 10e9 : 30e9;
    eventsPerSecond(1000, sim); // warm-up
    const ev = median(RUNS, () => eventsPerSecond(1000, sim).rate);
    report("simulated events per second, 1000 tasks compute/sleep on 4 CPUs", ev, "events/s");
    bareQueue(1000, 1_000_000);
    const bare = median(RUNS, () => bareQueue(1000, quick ? 2_000_000 : 5_000_000));
    report("bare event-queue loop, 1000 timers", bare, "events/s");
    report("cost per simulated event as a ratio to the bare event-queue loop", bare / ev, "x");
    // Each compute/sleep cycle is two events (burst end, wakeup) and two program resumes; the
    // queue and the programs alone, with no kernel work, set a floor under the ratio.
    resumeCost(1000, 1_000_000);
    const resume = median(RUNS, () => resumeCost(1000, quick ? 2_000_000 : 4_000_000));
    report("program resume (next syscall request), 1000 programs in scattered order", resume, "ns");
    report("floor under the ratio: queue + one program resume per event, no kernel work", 1 + (resume * bare) / 1e9, "x");
  },
  pick: () => {
    const ns = quick ? [10, 1000, 10000] : [10, 100, 1000, 10000, 100000];
    const classes: [string, string, number][] = [
      ["fair (EEVDF)", "linux-6", 0],
      ["fair (CFS)", "linux-5", 0],
      ["realtime (FIFO)", "linux-6", 1],
      ["deadline", "linux-6", 6],
    ];
    for (const [, sched, policy] of classes) pickCost(sched, policy, 1000); // warm-up: JIT first, then measure
    if (!json) console.log("\npick-next cost (ns per pick + set-next + put-prev cycle) against runnable tasks on one CPU:");
    if (!json) console.log("class".padEnd(18) + ns.map((n) => String(n).padStart(10)).join(""));
    for (const [label, sched, policy] of classes) {
      const row: number[] = [];
      for (const n of ns) {
        const c = median(3, () => pickCost(sched, policy, n));
        row.push(c);
        if (json) console.log(JSON.stringify({ name: `pick-next cost, ${label}, ${n} runnable tasks`, value: Number(c.toPrecision(4)), unit: "ns" }));
      }
      if (!json) console.log(label.padEnd(18) + row.map((c) => c.toFixed(0).padStart(10)).join(""));
    }
    note("");
  },
  switches: () => {
    for (const [label, sched] of [["EEVDF", "linux-6"], ["CFS", "linux-5"]] as const) {
      switchesPerSecond(sched, quick ? 5e9 : 20e9); // warm-up
      report(
        `simulated context switches per second, 10000 CPU-bound tasks of mixed nice on 8 CPUs, ${label}`,
        median(RUNS, () => switchesPerSecond(sched, quick ? 20e9 : 100e9)),
        "switches/s",
      );
    }
    // The same under EEVDF with fewer tasks: how much of the cost is the working set outgrowing the caches
    // (the tree is only about log2(n) deep, so it alone would explain a few tens of per cent).
    for (const n of quick ? [80, 1000] : [80, 1000, 100_000]) {
      switchesPerSecond("linux-6", quick ? 5e9 : 10e9, n);
      report(
        `simulated context switches per second, ${n} CPU-bound tasks of mixed nice on 8 CPUs, EEVDF`,
        median(RUNS, () => switchesPerSecond("linux-6", (quick ? 20e9 : 60e9) * (n > 10_000 ? 0.25 : 1), n)),
        "switches/s",
      );
    }
  },
};

const childAt = process.argv.indexOf("--group");
if (childAt >= 0) {
  const g = groups[process.argv[childAt + 1]!];
  if (!g) throw new Error(`bench: no group ${process.argv[childAt + 1]}`);
  g();
  process.exit(0);
}

note(`TaskLab bench on ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores), Node ${process.version}${quick ? " (quick)" : ""}`);
note(`Each group runs in a fresh process; throughput figures are the median of ${RUNS} runs after a warm-up.\n`);
const self = fileURLToPath(import.meta.url);
for (const name of Object.keys(groups)) {
  const args = ["--expose-gc", "--import", "tsx", self, "--group", name, ...process.argv.slice(2).filter((a) => a === "--json" || a === "--quick")];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) {
    console.error(`bench: group ${name} failed (exit ${r.status})`);
    process.exitCode = 1;
  }
}

/**
 * Random programs for the property test, built from a small op alphabet
 * (fork, exit, wait, kill with SIGKILL/SIGSTOP/SIGCONT/SIGTERM, compute, sleep,
 * io, setsid, setpgid, nice, sched_yield, threads, exec, and as root sometimes
 * sched_setscheduler to every policy and sched_setaffinity) run on 1-4 CPUs while
 * every kernel invariant is checked after every event (see invariants.ts).
 * At the end everything is killed and init must leave a clean machine: no task,
 * no pid, no group, no session left over.
 */
import fc from "fast-check";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import type { SysApi } from "../../src/user/sys.ts";
import {
  CLONE_THREAD_FLAGS, WNOHANG, WUNTRACED, WCONTINUED, SIGKILL, SIGSTOP, SIGCONT, SIGTERM, SIGCHLD, SIGUSR1, SIGTSTP,
  SA_RESTART, SA_NOCLDSTOP, SA_NOCLDWAIT, SA_RESETHAND, SA_NODEFER,
} from "../../src/user/libc.ts";
import { SCHED_FIFO } from "../../src/kernel/task/task.ts";
import { checkInvariants } from "./invariants.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";

type ThreadOp =
  | { k: "compute"; ns: number }
  | { k: "sleep"; ns: number }
  | { k: "yield" }
  | { k: "kill"; pid: number; sig: number }
  | { k: "exitThread" }
  | { k: "exitGroup"; code: number }
  | { k: "execThread" };
type Op =
  | ThreadOp
  | { k: "fork" }
  | { k: "exit"; code: number }
  | { k: "wait"; pid: number; opt: number }
  | { k: "io"; ns: number }
  | { k: "setsid" }
  | { k: "setpgid"; self: boolean; pgid: number }
  | { k: "nice"; inc: number }
  | { k: "sigign"; sig: number }
  | { k: "thread"; ops: ThreadOp[] }
  | { k: "exec"; which: number }
  | { k: "handler"; sig: number; flags: number }
  | { k: "mask"; how: number; sigs: number[] }
  | { k: "vfork"; exec: boolean }
  | { k: "pause" }
  | { k: "crash" }
  | { k: "sched"; policy: number; prio: number; child: boolean }
  | { k: "affinity"; cpus: number[]; child: boolean }
  | { k: "renice"; nice: number }
  | { k: "readproc"; which: number; pid: number };

const time = fc.integer({ min: 0, max: 3_000_000 });
const sig = fc.constantFrom(SIGKILL, SIGSTOP, SIGCONT, SIGTERM, SIGCONT, SIGUSR1, SIGTSTP, SIGCHLD, 0);
const catchable = fc.constantFrom(SIGCHLD, SIGTERM, SIGUSR1, SIGCONT, SIGTSTP);
const killOp = fc.record({ k: fc.constant("kill" as const), pid: fc.oneof(fc.integer({ min: 2, max: 40 }), fc.constantFrom(0, -1, -5)), sig });
const threadOp: fc.Arbitrary<ThreadOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant("compute" as const), ns: time }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("sleep" as const), ns: time }) },
  { weight: 1, arbitrary: fc.constant({ k: "yield" as const }) },
  { weight: 1, arbitrary: killOp },
  { weight: 1, arbitrary: fc.constant({ k: "exitThread" as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("exitGroup" as const), code: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 1, arbitrary: fc.constant({ k: "execThread" as const }) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ k: "fork" as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("exit" as const), code: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant("wait" as const), pid: fc.constantFrom(-1, -1, 0), opt: fc.constantFrom(0, WNOHANG, WUNTRACED, WCONTINUED, WNOHANG | WUNTRACED | WCONTINUED) }) },
  { weight: 3, arbitrary: killOp },
  { weight: 5, arbitrary: fc.record({ k: fc.constant("compute" as const), ns: time }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant("sleep" as const), ns: time }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("io" as const), ns: time }) },
  { weight: 1, arbitrary: fc.constant({ k: "setsid" as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("setpgid" as const), self: fc.boolean(), pgid: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("nice" as const), inc: fc.integer({ min: -3, max: 5 }) }) },
  { weight: 1, arbitrary: fc.constant({ k: "yield" as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("readproc" as const), which: fc.integer({ min: 0, max: 5 }), pid: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("sigign" as const), sig: fc.constantFrom(SIGCHLD, SIGTERM, SIGUSR1) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("thread" as const), ops: fc.array(threadOp, { maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("exec" as const), which: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("handler" as const), sig: catchable, flags: fc.constantFrom(0, SA_RESTART, SA_NOCLDSTOP, SA_NOCLDWAIT, SA_RESETHAND | SA_NODEFER) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("mask" as const), how: fc.constantFrom(0, 1, 2), sigs: fc.array(catchable, { maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("vfork" as const), exec: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ k: "pause" as const }) },
  { weight: 1, arbitrary: fc.constant({ k: "crash" as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("sched" as const), policy: fc.constantFrom(0, 1, 2, 3, 5, 6), prio: fc.integer({ min: 1, max: 99 }), child: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("affinity" as const), cpus: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }), child: fc.boolean() }) },
  // Changes to another task (the last child, asleep or queued or running): the paths that act on a task from outside.
  { weight: 1, arbitrary: fc.record({ k: fc.constant("renice" as const), nice: fc.integer({ min: -5, max: 10 }) }) },
);

/** The one handler random programs install: a little work, sometimes a nested syscall that blocks. */
function* handler(sys: SysApi, sig: number): Generator<any, void, unknown> {
  yield* sys.compute(10_000 * sig);
  if (sig === SIGUSR1) yield* sys.sleep(50_000);
  if (sig === SIGCHLD) yield* sys.waitpid(-1, WNOHANG);
}

function* threadBody(sys: SysApi, arg: { ops: ThreadOp[]; gen: number }): Generator<any, number, unknown> {
  for (const o of arg.ops) {
    switch (o.k) {
      case "compute": yield* sys.compute(o.ns); break;
      case "sleep": yield* sys.sleep(o.ns); break;
      case "yield": yield* sys.sched_yield(); break;
      case "kill": yield* sys.kill(o.pid, o.sig); break;
      case "exitThread": return 0;
      case "exitGroup": yield* sys.exit(o.code); break;
      case "execThread":
        if (arg.gen < 2) yield* sys.execve("/bin/p1", ["p1", String(arg.gen + 1)]);
        break;
    }
  }
  return 0;
}

/** Interprets `ops`: a deterministic function of its syscall results, as fork replay requires. */
function* interp(sys: SysApi, ops: Op[], argv: string[]): Generator<any, number, unknown> {
  let gen = Number(argv[1] ?? 0); // fork and exec depth, carried across exec in argv
  let forks = 0; // forks made by this process
  let threads = 0;
  let lastChild = 0;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    switch (o.k) {
      case "fork": {
        if (gen >= 3 || forks >= 2) break;
        forks++;
        const c = yield* sys.fork();
        if (c === 0) {
          gen++;
          forks = 0;
          threads = 0;
          lastChild = 0;
        } else if (c > 0) lastChild = c;
        break;
      }
      case "exit": return o.code;
      case "wait": yield* sys.waitpid(o.pid, o.opt); break;
      case "kill": yield* sys.kill(o.pid, o.sig); break;
      case "compute": yield* sys.compute(o.ns); break;
      case "sleep": yield* sys.sleep(o.ns); break;
      case "io": yield* sys.io(o.ns); break;
      case "readproc": {
        // procfs on whatever state the machine is in (zombies, stopped, threads, deadline tasks): never a crash
        const paths = ["/proc/self/status", "/proc/self/sched", `/proc/${o.pid}/stat`, "/sys/kernel/debug/sched/debug", `/proc/${o.pid}/task/${o.pid}/status`, `/proc/${o.pid}/sched`];
        const r = yield* sys.readFile(paths[o.which]!);
        if (typeof r === "string" ? r.length === 0 : r !== -2 && r !== -3) throw new Error(`read ${paths[o.which]}: ${String(r)}`);
        break;
      }
      case "setsid": yield* sys.setsid(); break;
      case "setpgid": yield* sys.setpgid(o.self ? 0 : lastChild, o.pgid); break;
      case "nice": yield* sys.nice(o.inc); break;
      case "yield": yield* sys.sched_yield(); break;
      case "sigign": yield* sys.sigaction(o.sig, { handler: "ign" }); break;
      case "thread":
        if (threads >= 2) break;
        threads++;
        yield* sys.clone(CLONE_THREAD_FLAGS, threadBody, { ops: o.ops, gen });
        break;
      case "exec":
        if (gen >= 2) break;
        yield* sys.execve(`/bin/p${o.which}`, [`p${o.which}`, String(gen + 1)]);
        break;
      case "handler": yield* sys.sigaction(o.sig, { handler, flags: o.flags }); break;
      case "mask": yield* sys.sigprocmask(o.how, o.sigs); break;
      case "pause": yield* sys.pause(); break;
      case "crash": throw new Error("random program crash");
      case "sched":
        // Root may move itself or its last child to any policy; a deadline reservation of 1 ms every 20 ms (deadline 10 ms).
        if (o.policy === 6) yield* sys.syscall("sched_setattr", o.child ? lastChild : 0, { sched_policy: 6, sched_flags: 0, sched_runtime: 1_000_000, sched_deadline: 10_000_000, sched_period: 20_000_000 }, 0);
        else yield* sys.syscall("sched_setscheduler", o.child ? lastChild : 0, o.policy, { sched_priority: o.policy === 1 || o.policy === 2 ? o.prio : 0 });
        break;
      case "affinity": yield* sys.sched_setaffinity(o.child ? lastChild : 0, o.cpus); break;
      case "renice": yield* sys.setpriority(0, lastChild, o.nice); break;
      case "vfork": {
        if (gen >= 3 || forks >= 2) break;
        forks++;
        const c = yield* sys.vfork();
        if (c === 0) {
          if (o.exec) yield* sys.execve("/bin/p0", ["p0", String(gen + 1)]);
          yield* sys.compute(100_000);
          return 3;
        }
        break;
      }
    }
  }
  return ops.length & 0xff;
}

export interface Scenario {
  cpus: number;
  seed: number;
  small: boolean;
  /** The root programs run as uid 0 (they may then take RT and deadline policies). */
  root: boolean;
  roots: Op[][];
  images: Op[][];
}

export const scenario: fc.Arbitrary<Scenario> = fc.record({
  cpus: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer({ min: 1, max: 1000 }),
  small: fc.boolean(),
  root: fc.boolean(),
  roots: fc.array(fc.array(op, { minLength: 1, maxLength: 24 }), { minLength: 1, maxLength: 4 }),
  images: fc.array(fc.array(op, { maxLength: 8 }), { minLength: 2, maxLength: 2 }),
});

const UNTIL = 60_000_000;

export function runScenario(s: Scenario, onEvent?: (e: TraceEvent) => void): { events: number; tasks: number } {
  const m = new Machine({ cpus: s.cpus, seed: s.seed, pidMax: s.small ? 320 : 32768, rlimitNproc: s.small ? 25 : Infinity, stepBudget: 5000 });
  const k = m.kernel;
  s.images.forEach((ops, i) => m.install(`/bin/p${i}`, program(`p${i}`, (sys, argv) => interp(sys, ops, argv))));
  s.roots.forEach((ops, i) => m.spawn(program(`r${i}`, (sys, argv) => interp(sys, ops, argv)), s.root ? { uid: 0 } : {}));
  let last = 0;
  let created = 0;
  // Every task is created once, exits once and is freed once; a pid is never live twice.
  const live = new Map<number, "run" | "exited">([...k.tasks.keys()].map((p) => [p, "run"]));
  k.trace.subscribe((e) => {
    onEvent?.(e);
    if (e.ts < last) throw new Error(`time went back: ${e.name} at ${e.ts} after ${last}`);
    last = e.ts;
    if (e.name === "sched_process_fork") {
      created++;
      if (live.has(e.child_pid)) throw new Error(`pid ${e.child_pid} handed out while still in use`);
      live.set(e.child_pid, "run");
    } else if (e.name === "sched_process_exit") {
      if (live.get(e.pid) !== "run") throw new Error(`pid ${e.pid} exits twice or was never created`);
      live.set(e.pid, "exited");
    } else if (e.name === "sched_process_free") {
      if (live.get(e.pid) !== "exited") throw new Error(`pid ${e.pid} freed before it exited`);
      live.delete(e.pid);
    } else if (e.name === "sched_process_exec" && e.pid !== e.old_pid) {
      // de_thread: the exec'ing thread takes the leader's pid and gives up its own
      if (live.get(e.old_pid) !== "run") throw new Error(`exec from unknown tid ${e.old_pid}`);
      if (live.has(e.pid)) throw new Error(`exec took over pid ${e.pid}, but the old leader was not freed`);
      live.delete(e.old_pid);
      live.set(e.pid, "run");
    }
  });
  let events = 0;
  checkInvariants(k);
  // Run in single events, checking everything between them.
  while (m.run(UNTIL, 1) > 0) {
    events++;
    checkInvariants(k);
    if (k.now < last) throw new Error("engine clock went back");
  }
  // Kill whatever is left (as root would with kill -9 -1) and let init clean up. The programs may still
  // be running: one that runs first (a deadline task beats FIFO 99) may stop the reaper with kill(-1 or 0,
  // SIGSTOP) before it acts, so a new reaper comes while any task is left; its SIGKILL ends the old one too.
  for (let round = 0; round < 10 && k.tasks.size > 1; round++) {
    m.spawn(program("reaper", function* (sys) { yield* sys.kill(-1, SIGKILL); }), { uid: 0, policy: SCHED_FIFO, rtPriority: 99 });
    while (m.run(Infinity, 1) > 0) checkInvariants(k);
  }
  const badRead = k.warnings.find((w) => w.includes("program crashed: read /"));
  if (badRead !== undefined) throw new Error(badRead);
  if (live.size !== 1) throw new Error(`tasks never freed: ${[...live.keys()].join(" ")}`);
  if (k.tasks.size !== 1) throw new Error(`left over after kill -9 -1: ${[...k.tasks.values()].map((t) => `${t.pid}:${t.comm}:${t.state}/${t.exitState}`).join(" ")}`);
  if (k.pids.count !== 1 || k.pgrps.size !== 1 || k.sessions.size !== 1) throw new Error("pids, groups or sessions leaked");
  for (const rq of k.rqs) if (rq.nrRunning !== 0 || rq.tasks.size !== 0 || rq.curr !== rq.idle) throw new Error(`cpu ${rq.cpu} not idle at the end`);
  return { events, tasks: created };
}


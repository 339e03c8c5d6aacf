/**
 * Randomized liveness check for signal delivery to threads (complete_signal, TIF_SIGPENDING,
 * retarget_shared_pending): random multi-threaded processes block and unblock signals, pause, sleep,
 * wait in D, make threads, exit threads and signal themselves, while a sender kills, tgkills, stops
 * and continues them. Every event is checked against the kernel invariants and a TIF oracle (no
 * shared signal may be pending with no thread that will act on it); at the end every process signal
 * that was generated must have been handled (standard signals may coalesce, real-time ones count),
 * and every tgkill to a surviving thread handled by it. runSeed returns the problems found.
 */
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import type { SysApi } from "../../src/user/sys.ts";
import { CLONE_THREAD_FLAGS, SIGUSR1, SIGUSR2, SIGSTOP, SIGCONT, SA_SIGINFO, SA_RESTART, SA_NODEFER, SI_USER, SI_TKILL } from "../../src/user/libc.ts";
import { PF_EXITING, __TASK_STOPPED, TASK_INTERRUPTIBLE, type Task } from "../../src/kernel/task/task.ts";
import { checkInvariants } from "./invariants.ts";

const MS = 1_000_000;
function rng(seed: number) {
  let a = seed >>> 0;
  const f = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    f,
    int: (lo: number, hi: number) => lo + Math.floor(f() * (hi - lo + 1)),
    pick: <T>(xs: T[]) => xs[Math.floor(f() * xs.length)]!,
    chance: (p: number) => f() < p,
  };
}

const SIGS = [SIGUSR1, SIGUSR2, 34, 35, 36];
const WAKE = 40; // tgkill'd to every thread at the end so pause() returns; never in a random mask
type Op =
  | { k: "mask"; how: number; sigs: number[] }
  | { k: "pause" }
  | { k: "sleep"; ns: number }
  | { k: "io"; ns: number }
  | { k: "compute"; ns: number }
  | { k: "yield" }
  | { k: "exit" }
  | { k: "handler"; mask: number[]; flags: number }
  | { k: "clone"; ops: Op[] }
  | { k: "selfkill"; how: number; sig: number; pick: number }
  | { k: "vfork"; ns: number };

interface Handled { proc: number; sig: number; tid: number; at: number; code: number }

export function runSeed(seed: number, opts: { everyEvent: boolean; verbose?: boolean } = { everyEvent: true }): string[] {
  const r = rng(seed);
  const cpus = r.int(1, 4);
  const nproc = r.int(1, 3);
  const T_SEND_END = 60 * MS;
  const T_CHECK = 300 * MS;
  const randSigs = () => SIGS.filter(() => r.chance(0.4));
  const randOps = (depth: number, persistent: boolean): Op[] => {
    const n = r.int(0, 30);
    const ops: Op[] = [];
    for (let i = 0; i < n; i++) {
      const w = r.int(0, 100);
      if (w < 25) ops.push({ k: "mask", how: r.int(0, 2), sigs: randSigs() });
      else if (w < 33) ops.push({ k: "pause" });
      else if (w < 48) ops.push({ k: "sleep", ns: r.int(0, 4 * MS) });
      else if (w < 58) ops.push({ k: "io", ns: r.int(0, 8 * MS) });
      else if (w < 70) ops.push({ k: "compute", ns: r.int(0, 3 * MS) });
      else if (w < 75) ops.push({ k: "yield" });
      else if (w < 82) ops.push({ k: "handler", mask: randSigs(), flags: (r.chance(0.5) ? SA_RESTART : 0) | (r.chance(0.3) ? SA_NODEFER : 0) });
      else if (w < 88 && depth < 2) ops.push({ k: "clone", ops: randOps(depth + 1, false) });
      else if (w < 94) ops.push({ k: "selfkill", how: r.int(0, 2), sig: r.pick(SIGS), pick: r.int(0, 100) });
      else if (w < 97) ops.push({ k: "vfork", ns: r.int(0, 3 * MS) });
      else if (!persistent && r.chance(0.5)) {
        ops.push({ k: "exit" });
        break;
      }
    }
    if (!persistent && r.chance(0.3)) ops.push({ k: "exit" });
    return ops;
  };
  // Which thread is persistent: the main thread (ops) or a first clone.
  const procs = Array.from({ length: nproc }, () => {
    const mainPersistent = r.chance(0.6);
    const mainOps = randOps(0, mainPersistent);
    const pre: Op[] = mainPersistent ? [] : [{ k: "clone", ops: randOps(1, true) }];
    for (let i = r.int(0, 4); i > 0; i--) pre.push({ k: "clone", ops: randOps(1, false) });
    return { ops: [...pre, ...mainOps], handlerMask: randSigs(), handlerFlags: r.chance(0.5) ? SA_RESTART : 0 };
  });

  const m = new Machine({ cpus, seed: r.int(1, 1000), stepBudget: 100000 });
  const k = m.kernel;
  const handled: Handled[] = [];
  const pids: number[] = Array(nproc).fill(0);
  const tids: number[][] = procs.map(() => []);
  const exited = new Set<number>();
  const final = new Set<number>();
  const problems: string[] = [];
  interface Gen { proc: number; sig: number; at: number; tid: number; directed: boolean }
  const gens: Gen[] = [];

  procs.forEach((pr, pi) => {
    const handler = function* (s: SysApi, sig: number, info?: { code: number }) {
      const at = yield* s.now();
      const tid = yield* s.gettid();
      const hp = yield* s.getpid();
      if (sig !== WAKE && hp === pids[pi]) handled.push({ proc: pi, sig, tid, at, code: info?.code ?? -999 });
      if (sig === SIGUSR2) yield* s.compute(100_000);
      if (sig === 35) yield* s.sleep(200_000);
    };
    const act = (mask: number[], flags: number) => ({ handler: handler as any, mask: mask.filter((x) => x !== WAKE), flags: flags | SA_SIGINFO });
    function* body(s: SysApi, ops: Op[]): Generator<any, number, unknown> {
      const me = yield* s.gettid();
      tids[pi]!.push(me);
      for (const o of ops) {
        switch (o.k) {
          case "mask": yield* s.sigprocmask(o.how, o.sigs); break;
          case "pause": yield* s.pause(); break;
          case "sleep": yield* s.sleep(o.ns); break;
          case "io": yield* s.io(o.ns); break;
          case "compute": yield* s.compute(o.ns); break;
          case "yield": yield* s.sched_yield(); break;
          case "handler": for (const x of SIGS) yield* s.sigaction(x, act(o.mask, o.flags)); break;
          case "clone": yield* s.clone(CLONE_THREAD_FLAGS, (s2: SysApi, a: Op[]) => body(s2, a), o.ops); break;
          case "selfkill": {
            const pid = pids[pi]!;
            const live = tids[pi]!.filter((t) => !exited.has(t));
            const tid = live[o.pick % live.length]!;
            const at = yield* s.now();
            if (o.how === 0) { if ((yield* s.kill(pid, o.sig)) === 0) gens.push({ proc: pi, sig: o.sig, at, tid: 0, directed: false }); }
            else if (o.how === 1) { if ((yield* s.kill(tid, o.sig)) === 0) gens.push({ proc: pi, sig: o.sig, at, tid: 0, directed: false }); }
            else if ((yield* s.tgkill(pid, tid, o.sig)) === 0) gens.push({ proc: pi, sig: o.sig, at, tid, directed: true });
            break;
          }
          case "vfork":
            yield* s.clone(0x100 | 0x4000 | 17, function* (c: SysApi, ns: number) { yield* c.setpgid(0, 0); yield* c.sleep(ns); return 0; }, o.ns);
            break;
          case "exit":
            exited.add(me);
            yield* s.exitThread(0);
        }
      }
      yield* s.sigprocmask(2, []);
      final.add(me);
      for (;;) {
        if (me % 2 === 0) yield* s.pause();
        else yield* s.sleep(3 * MS);
      }
    }
    m.spawn(program(`p${pi}`, function* (s) {
      yield* s.setpgid(0, 0);
      for (const x of SIGS) yield* s.sigaction(x, act(pr.handlerMask, pr.handlerFlags));
      yield* s.sigaction(WAKE, act([], 0));
      pids[pi] = yield* s.getpid();
      return yield* body(s, pr.ops);
    }));
  });

  // sender events
  type Ev = { at: number; kind: "kill" | "killtid" | "tgkill" | "pgrp" | "stop"; proc: number; sig: number; pick: number };
  const evs: Ev[] = [];
  const nev = r.int(5, 200);
  for (let i = 0; i < nev; i++) {
    const w = r.int(0, 100);
    const kind = w < 35 ? "kill" : w < 55 ? "killtid" : w < 75 ? "tgkill" : w < 90 ? "pgrp" : "stop";
    evs.push({ at: r.int(0, T_SEND_END - 5 * MS), kind, proc: r.int(0, nproc - 1), sig: r.pick(SIGS), pick: r.int(0, 1000) });
  }
  evs.sort((a, b) => a.at - b.at);
  const senderCpus = r.chance(0.5);
  m.spawn(program("sender", function* (s) {
    yield* s.sleep(MS / 2);
    while (pids.some((x) => x === 0)) yield* s.sleep(MS / 10);
    for (const e of evs) {
      const now = yield* s.now();
      if (e.at > now) yield* s.sleep(e.at - now);
      const pid = pids[e.proc]!;
      const live = tids[e.proc]!.filter((t) => !exited.has(t));
      const tid = live.length ? live[e.pick % live.length]! : pid;
      const at = yield* s.now();
      let ret = 0;
      switch (e.kind) {
        case "kill": ret = yield* s.kill(pid, e.sig); if (ret === 0) gens.push({ proc: e.proc, sig: e.sig, at, tid: 0, directed: false }); break;
        case "killtid": ret = yield* s.kill(tid, e.sig); if (ret === 0) gens.push({ proc: e.proc, sig: e.sig, at, tid: 0, directed: false }); break;
        case "pgrp": ret = yield* s.kill(-pid, e.sig); if (ret === 0) gens.push({ proc: e.proc, sig: e.sig, at, tid: 0, directed: false }); break;
        case "tgkill": ret = yield* s.tgkill(pid, tid, e.sig); if (ret === 0) gens.push({ proc: e.proc, sig: e.sig, at, tid, directed: true }); break;
        case "stop":
          yield* s.kill(pid, SIGSTOP);
          yield* s.sleep((e.pick % 5) * MS);
          yield* s.kill(pid, SIGCONT);
          break;
      }
      if (senderCpus) yield* s.compute(10_000);
    }
    const now = yield* s.now();
    if (now < T_SEND_END) yield* s.sleep(T_SEND_END - now);
    for (const pid of pids) yield* s.kill(pid, SIGCONT);
    // wake pausers
    while ((yield* s.now()) < T_CHECK - 10 * MS) {
      for (let pi = 0; pi < nproc; pi++) for (const t of tids[pi]!) if (!exited.has(t)) yield* s.tgkill(pids[pi]!, t, WAKE);
      yield* s.sleep(3 * MS);
    }
    for (;;) yield* s.pause();
  }));

  // Oracle run during the simulation: a shared signal pending that some thread could take, but no such
  // thread has TIF_SIGPENDING or is stopped (will look in get_signal), for longer than a grace period.
  const since = new Map<string, number>();
  const tifCheck = () => {
    for (let pi = 0; pi < nproc; pi++) {
      const p = k.task(pids[pi]!);
      if (!p) continue;
      const sg = p.signal;
      for (const sig of SIGS) {
        const key = `${pi}:${sig}`;
        if (!sg.sharedPending.has(sig)) { since.delete(key); continue; }
        const U = sg.threads.filter((x: Task) => !(x.flags & PF_EXITING) && !x.blocked.has(sig));
        const ok = U.length === 0 || U.some((x: Task) => x.tifSigpending || x.state & __TASK_STOPPED || x.jobctl !== 0);
        if (ok) { since.delete(key); continue; }
        if (!since.has(key)) since.set(key, k.now);
        else if (k.now - since.get(key)! > 0 && !problems.some((x) => x.startsWith(`stuck ${key}`))) {
          problems.push(`stuck ${key} since ${since.get(key)} now ${k.now}: U=${U.map((x) => `${x.pid}/st${x.state}/tif${+x.tifSigpending}/cur${+(k.rqs[x.cpu]?.curr === x)}`).join(",")} threads=${sg.threads.map((x) => `${x.pid}:st${x.state}:blk${x.blocked.hex()}:ex${x.flags & PF_EXITING}`).join(" ")}`);
        }
      }
    }
  };
  if (opts.everyEvent) {
    while (k.now <= T_CHECK && m.run(T_CHECK, 1) > 0) {
      checkInvariants(k);
      tifCheck();
    }
  } else m.run(T_CHECK);
  // final checks
  for (let pi = 0; pi < nproc; pi++) {
    const p = k.task(pids[pi]!);
    if (!p) { problems.push(`proc ${pi} gone`); continue; }
    const sg = p.signal;
    const notFinal = sg.threads.filter((t) => !(t.flags & PF_EXITING) && !final.has(t.pid));
    if (notFinal.length) { problems.push(`INCONCLUSIVE proc ${pi}: threads not in final phase ${notFinal.map((t) => `${t.pid}:${t.wchan}`).join(",")}`); continue; }
    if (!sg.sharedPending.empty()) problems.push(`proc ${pi} sharedPending ${sg.sharedPending.hex()} at end; threads ${sg.threads.map((x) => `${x.pid}:st${x.state}:blk${x.blocked.hex()}:tif${+x.tifSigpending}:wchan=${x.wchan}`).join(" ")}`);
    for (const t of sg.threads) if (!(t.flags & PF_EXITING) && !t.pending.empty()) problems.push(`proc ${pi} thread ${t.pid} private pending ${t.pending.hex()} at end: st${t.state} blk${t.blocked.hex()} tif${+t.tifSigpending} wchan=${t.wchan} req=${t.req?.nr} restart=${String(t.restart)} frames=${t.sigFrames?.length} cache=${t.sigPendingCache}`);
    for (const sig of SIGS) {
      const g = gens.filter((x) => x.proc === pi && x.sig === sig && !x.directed);
      const h = handled.filter((x) => x.proc === pi && x.sig === sig && x.code === SI_USER);
      if (sig < 32) {
        if (g.length > 0) {
          const lastG = Math.max(...g.map((x) => x.at));
          const lastH = h.length ? Math.max(...h.map((x) => x.at)) : -1;
          if (lastH < lastG) problems.push(`proc ${pi} sig ${sig}: generated last at ${lastG}, handled last at ${lastH}`);
        }
        if (h.length > g.length) problems.push(`proc ${pi} sig ${sig}: handled ${h.length} > generated ${g.length}`);
      } else if (g.length !== h.length) problems.push(`proc ${pi} rt sig ${sig}: generated ${g.length}, handled ${h.length}`);
      // thread-directed to threads that stayed alive
      for (const tid of tids[pi]!) {
        if (exited.has(tid)) continue;
        const gd = gens.filter((x) => x.proc === pi && x.sig === sig && x.directed && x.tid === tid);
        const hd = handled.filter((x) => x.proc === pi && x.sig === sig && x.code === SI_TKILL && x.tid === tid);
        if (sig >= 32 && gd.length !== hd.length) problems.push(`proc ${pi} tid ${tid} rt ${sig}: tgkill ${gd.length} handled ${hd.length}`);
        if (sig < 32 && gd.length && (hd.length === 0 || Math.max(...hd.map((x) => x.at)) < Math.max(...gd.map((x) => x.at)))) problems.push(`proc ${pi} tid ${tid} sig ${sig}: tgkill not handled`);
      }
    }
    // a handler on the wrong thread: process-directed handled on a thread that... (only sanity: handled by a thread of this proc)
    for (const h of handled) if (h.proc === pi && !tids[pi]!.includes(h.tid)) problems.push(`handled on foreign tid ${h.tid}`);
  }
  if (k.warnings.length) problems.push(...k.warnings.map((w) => `warning: ${w}`));
  return problems;
}

/**
 * nice, getpriority/setpriority, sched_yield and affinity (kernel/sched/syscalls.c, kernel/sys.c).
 * Raising priority (lowering nice) needs CAP_SYS_NICE: root here. RLIMIT_NICE is 0.
 */
import type { Kernel } from "../kernel.ts";
import { EACCES, EBUSY, EINVAL, EPERM, ESRCH } from "../errno.ts";
import { type Task, SCHED_NORMAL, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE } from "../task/task.ts";
import { changeSched, deactivateTask, placeElsewhere, taskRq } from "./core.ts";
import { DEQUEUE_MIGRATING } from "./class.ts";
import { pgrpMembers } from "../task/group.ts";

export const PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2;
const clampNice = (n: number): number => Math.max(-20, Math.min(19, n));

/** set_user_nice: re-weights a queued or running task. */
export function setUserNice(k: Kernel, p: Task, nice: number): void {
  nice = clampNice(nice);
  if (p.staticPrio === 120 + nice) return;
  const fairPolicy = p.policy === SCHED_NORMAL || p.policy === SCHED_BATCH || p.policy === SCHED_IDLE;
  if (!fairPolicy) {
    p.staticPrio = 120 + nice; // RT/deadline: only remembered; no requeue (set_user_nice)
    return;
  }
  changeSched(k, p, p.sclass, () => {
    p.staticPrio = 120 + nice;
    const fair = p.policy === SCHED_NORMAL || p.policy === SCHED_BATCH || p.policy === SCHED_IDLE;
    if (fair) p.normalPrio = p.prio = p.staticPrio;
  });
}

/** nice(inc): returns 0 (the raw syscall); EPERM when lowering nice without privilege. */
export function sysNice(k: Kernel, t: Task, inc: number): number {
  if (!Number.isInteger(inc)) return -EINVAL;
  const nice = clampNice(t.nice + Math.max(-40, Math.min(40, inc)));
  if (inc < 0 && t.uid !== 0) return -EPERM; // can_nice: RLIMIT_NICE is 0 for an ordinary user
  setUserNice(k, t, nice);
  return 0;
}

/**
 * The tasks getpriority/setpriority act on. A zombie counts, as in Linux: it
 * stays findable by pid, group and user until it is reaped.
 */
function targets(k: Kernel, t: Task, which: number, who: number): Task[] | number {
  if (which === PRIO_PROCESS) {
    const p = who === 0 ? t : k.task(who);
    return p ? [p] : [];
  }
  // Every thread of every process in the group (do_each_pid_thread), of the user (for_each_process_thread:
  // init included; only pid-0 tasks are not).
  if (which === PRIO_PGRP) return pgrpMembers(k, who === 0 ? t.signal.pgid : who).flatMap((l) => l.signal.threads);
  if (which === PRIO_USER) {
    const uid = who === 0 ? t.uid : who;
    return [...k.tasks.values()].filter((p) => p.uid === uid && p.pid !== 0);
  }
  return -EINVAL;
}

/** getpriority: the raw syscall returns 20 - nice (1..40) of the highest-priority match. */
export function getPriority(k: Kernel, t: Task, which: number, who: number): number {
  const ts = targets(k, t, which, who);
  if (typeof ts === "number") return ts;
  if (ts.length === 0) return -ESRCH;
  let best = -Infinity;
  for (const p of ts) best = Math.max(best, 20 - p.nice);
  return best;
}

/** setpriority: EACCES when lowering nice without privilege, EPERM for another user's process. */
export function setPriority(k: Kernel, t: Task, which: number, who: number, nice: number): number {
  const ts = targets(k, t, which, who);
  if (typeof ts === "number") return ts;
  if (ts.length === 0) return -ESRCH;
  nice = clampNice(nice);
  let err = 0;
  for (const p of ts) {
    if (t.uid !== 0 && p.uid !== t.uid) err = -EPERM;
    else if (nice < p.nice && t.uid !== 0) err = -EACCES;
    else setUserNice(k, p, nice);
  }
  return err;
}

/** sched_yield: the class requeues curr; the switch that follows counts as involuntary, as in Linux. */
export function sysYield(k: Kernel, t: Task): number {
  const rq = taskRq(k, t);
  k.classes[t.sclass]!.yieldTask(rq);
  rq.yielded = true;
  rq.resched();
  return 0;
}

/** sched_setaffinity(pid, cpus): EINVAL if no allowed CPU exists, ESRCH if no such task (a zombie is one: it takes the mask). */
export function setAffinity(k: Kernel, t: Task, pid: number, cpus: unknown): number {
  const p = pid === 0 ? t : k.task(pid);
  if (!p) return -ESRCH;
  if (t.uid !== 0 && p.uid !== t.uid) return -EPERM;
  if (!Array.isArray(cpus)) return -EINVAL;
  const mask = new Uint8Array(k.rqs.length);
  let n = 0;
  for (const c of cpus) if (Number.isInteger(c) && c >= 0 && c < k.rqs.length && !mask[c]) { mask[c] = 1; n++; }
  // A deadline task's bandwidth was admitted over every CPU: it may not narrow its mask (EBUSY), checked
  // before an empty mask is refused (dl_task_check_affinity comes before __set_cpus_allowed_ptr).
  if (p.policy === SCHED_DEADLINE && k.params.rtRuntime !== -1 && n < k.rqs.length) return -EBUSY;
  if (n === 0) return -EINVAL;
  p.cpusAllowed = n === k.rqs.length ? null : mask;
  migrateIfDisallowed(k, p);
  return 0;
}

export function getAffinity(k: Kernel, t: Task, pid: number): number[] | number {
  const p = pid === 0 ? t : k.task(pid);
  if (!p) return -ESRCH;
  const out: number[] = [];
  for (let c = 0; c < k.rqs.length; c++) if (p.cpusAllowed === null || p.cpusAllowed[c]) out.push(c);
  return out;
}

/**
 * A task whose CPU its mask no longer allows moves: now if queued; if running,
 * in its CPU's next schedule(), before it runs user code again (migration_cpu_stop);
 * if asleep, at wakeup.
 */
function migrateIfDisallowed(k: Kernel, p: Task): void {
  if (p.cpusAllowed === null || p.cpusAllowed[p.cpu]) return;
  const rq = taskRq(k, p);
  if (rq.curr === p) {
    p.migratePending = true;
    rq.resched();
    return;
  }
  if (!p.onRq) return;
  deactivateTask(k, rq, p, DEQUEUE_MIGRATING);
  placeElsewhere(k, p);
}

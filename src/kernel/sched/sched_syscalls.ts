/**
 * Scheduling-policy syscalls (kernel/sched/syscalls.c): sched_setscheduler,
 * sched_getscheduler, sched_setparam, sched_getparam, sched_setattr,
 * sched_getattr, sched_get_priority_min/max, sched_rr_get_interval.
 * Spread into the syscall table.
 *
 * Every setter funnels into {@link schedSetattr} (__sched_setscheduler), which
 * checks in Linux's order: policy and flags (EINVAL), priority and deadline
 * parameters (EINVAL), a class for the policy in this machine's chain (EINVAL),
 * privilege (EPERM), deadline affinity (EPERM) and admission (EBUSY); then it
 * requeues the task around the change with core's changeSched.
 *
 * ABI differences: structures travel as plain objects. sched_getparam returns
 * `{sched_priority}`, sched_getattr the sched_attr fields, and
 * sched_rr_get_interval the interval in ns instead of writing a timespec.
 * Privilege is uid 0 (CAP_SYS_NICE); RLIMIT_RTPRIO and RLIMIT_NICE are 0.
 */
import type { Kernel } from "../kernel.ts";
import type { SyscallReq } from "../task/program.ts";
import { E2BIG, EINVAL, EOPNOTSUPP, EPERM, ESRCH, EBUSY } from "../errno.ts";
import { type Task, SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE } from "../task/task.ts";
import { changeSched } from "./core.ts";
import { checkDlParams, dlAdmit, dlBandwidthUsable, getDlParams, setDlParams, type DlParams } from "./deadline.ts";
import { MAX_USER_RT_PRIO, MIN_USER_RT_PRIO, rrIntervalNs } from "./rt.ts";
import { tunableFactor, type FairRq } from "./fair_common.ts";

/** OR-ed into the policy of sched_setscheduler; also reported by sched_getscheduler. */
export const SCHED_RESET_ON_FORK = 0x40000000;
/** sched_ext (6.12+): a valid policy number; TaskLab has no class for it. */
export const SCHED_EXT = 7;
/** sched_attr.sched_flags. */
export const SCHED_FLAG_RESET_ON_FORK = 0x01, SCHED_FLAG_RECLAIM = 0x02, SCHED_FLAG_DL_OVERRUN = 0x04;
export const SCHED_FLAG_KEEP_POLICY = 0x08, SCHED_FLAG_KEEP_PARAMS = 0x10;
export const SCHED_FLAG_UTIL_CLAMP_MIN = 0x20, SCHED_FLAG_UTIL_CLAMP_MAX = 0x40;
const SCHED_FLAG_ALL = 0x7f;
const SCHED_FLAG_UTIL_CLAMP = SCHED_FLAG_UTIL_CLAMP_MIN | SCHED_FLAG_UTIL_CLAMP_MAX;
/** Flags a deadline entity keeps (SCHED_DL_FLAGS without the kernel-only SUGOV). */
const SCHED_DL_FLAGS = SCHED_FLAG_RECLAIM | SCHED_FLAG_DL_OVERRUN;
/** sched_setparam: keep the policy. */
const SETPARAM_POLICY = -1;
/** sizeof(struct sched_attr) v0 (3.14) and v1 (with utilization clamps, 5.3). */
export const SCHED_ATTR_SIZE_VER0 = 48, SCHED_ATTR_SIZE_VER1 = 56;
const PAGE_SIZE = 4096;

/** struct sched_attr. Times in ns. */
export interface SchedAttr {
  size: number;
  sched_policy: number;
  sched_flags: number;
  sched_nice: number;
  sched_priority: number;
  sched_runtime: number;
  sched_deadline: number;
  sched_period: number;
  sched_util_min: number;
  sched_util_max: number;
}

const isRt = (pol: number): boolean => pol === SCHED_FIFO || pol === SCHED_RR;
/** fair_policy(): normal and batch; SCHED_IDLE is fair-class but has no nice of its own here, as in Linux. */
const isFair = (pol: number): boolean => pol === SCHED_NORMAL || pol === SCHED_BATCH;
const validPolicy = (pol: number): boolean =>
  isFair(pol) || pol === SCHED_IDLE || isRt(pol) || pol === SCHED_DEADLINE || pol === SCHED_EXT;
const int = (v: unknown): number | null => (typeof v === "number" && Number.isInteger(v) ? v : null);

/**
 * find_process_by_pid: 0 is the caller. A zombie is found, as in Linux, by the
 * calls that read (getscheduler, getparam, getattr, rr_get_interval); the ones
 * that change the policy give ESRCH for it (`live`), a simplification: Linux
 * would change a dead task's parameters to no effect.
 */
function lookup(k: Kernel, t: Task, pid: number | null, live = false): Task | number {
  if (pid === null || pid < 0) return -EINVAL;
  const p = pid === 0 ? t : k.task(pid);
  return p && (!live || p.exitState === 0) ? p : -ESRCH;
}

/** normal_prio(): -1 for deadline, 99 - rtprio for FIFO/RR, static_prio otherwise. */
function normalPrio(p: Task): number {
  return prioFor(p.policy, p.rtPriority, p.staticPrio);
}

/** __normal_prio: the kernel prio of a policy with its parameters. */
function prioFor(policy: number, rtPriority: number, staticPrio: number): number {
  if (policy === SCHED_DEADLINE) return -1;
  if (isRt(policy)) return MAX_USER_RT_PRIO - rtPriority;
  return staticPrio;
}

/** The bounds of a fair task's own slice (__setparam_fair clamps sched_runtime to 0.1 .. 100 ms). */
export const FAIR_SLICE_MIN = 100_000, FAIR_SLICE_MAX = 100_000_000;

/** se->slice as sched_setattr would set it from sched_runtime: 0 (the base slice) or clamped. */
function fairSliceOf(a: SchedAttr): number {
  return a.sched_runtime === 0 ? 0 : Math.max(FAIR_SLICE_MIN, Math.min(FAIR_SLICE_MAX, a.sched_runtime));
}

/** The request size a fair task gets in this machine: its own slice, or the base slice (EEVDF only; 0 elsewhere). */
function effectiveSlice(k: Kernel, p: Task): number {
  if (k.classes[p.sclass]!.name !== "eevdf") return 0;
  return p.fairSlice > 0 ? p.fairSlice : k.params.baseSlice * tunableFactor(k.params);
}

/** EINVAL checks of __sched_setscheduler on the priority and deadline parameters. */
function checkAttr(policy: number, a: SchedAttr): boolean {
  if (a.sched_priority < 0 || a.sched_priority > MAX_USER_RT_PRIO) return false;
  if (a.sched_runtime < 0) return false; // a u64 in the kernel: a negative value cannot be meant
  if (policy === SCHED_DEADLINE && !checkDlParams(a.sched_runtime, a.sched_deadline, a.sched_period)) return false;
  return isRt(policy) === (a.sched_priority !== 0);
}

/** The checks for a caller without CAP_SYS_NICE (RLIMIT_RTPRIO = RLIMIT_NICE = 0). */
function checkPerm(caller: Task, p: Task, policy: number, a: SchedAttr, resetOnFork: boolean): number {
  if (isFair(policy) && a.sched_nice < p.nice) return -EPERM; // is_nice_reduction() fails
  if (isRt(policy)) {
    if (policy !== p.policy) return -EPERM; // no RLIMIT_RTPRIO to become RT
    if (a.sched_priority > p.rtPriority) return -EPERM; // nor to raise it
  }
  if (policy === SCHED_DEADLINE) return -EPERM;
  if (p.policy === SCHED_IDLE && policy !== SCHED_IDLE) return -EPERM;
  if (caller.uid !== p.uid) return -EPERM; // check_same_owner
  if (p.resetOnFork && !resetOnFork) return -EPERM;
  return 0;
}

const dlParamsOf = (a: SchedAttr): DlParams => ({
  runtime: a.sched_runtime, deadline: a.sched_deadline, period: a.sched_period, flags: a.sched_flags & SCHED_DL_FLAGS,
});

/**
 * Nothing to do but record reset-on-fork: same policy and same parameters. For
 * a fair task, as 6.12 compares them: the same nice, and sched_runtime equal to
 * the slice in force (so sched_setscheduler, which passes 0, requeues an EEVDF task).
 */
function unchanged(k: Kernel, p: Task, policy: number, a: SchedAttr): boolean {
  if (policy !== p.policy) return false; // (utilization clamps were refused before this is asked)
  if (isFair(policy)) return a.sched_nice === p.nice && a.sched_runtime === effectiveSlice(k, p);
  if (isRt(policy)) return a.sched_priority === p.rtPriority;
  if (policy === SCHED_DEADLINE) {
    const d = getDlParams(p);
    const n = dlParamsOf(a);
    return d !== null && d.runtime === n.runtime && d.deadline === n.deadline && d.period === n.period && d.flags === n.flags;
  }
  return true;
}

/** __setscheduler_params inside the requeue: the classes see the task leave and join. */
function apply(k: Kernel, p: Task, policy: number, a: SchedAttr, resetOnFork: boolean): void {
  // An unchanged effective priority keeps the task's place in its queue (queue_flags &= ~DEQUEUE_MOVE):
  // FIFO <-> RR at one priority does not send it to the tail.
  const newPrio = prioFor(policy, a.sched_priority, isFair(policy) ? 120 + a.sched_nice : p.staticPrio);
  changeSched(k, p, k.classOfPolicy[policy]!, () => {
    p.policy = policy;
    p.resetOnFork = resetOnFork;
    if (policy === SCHED_DEADLINE) setDlParams(p, dlParamsOf(a));
    else if (isFair(policy)) {
      p.staticPrio = 120 + a.sched_nice;
      p.fairSlice = fairSliceOf(a); // __setparam_fair: custom_slice (used by EEVDF)
    }
    p.rtPriority = a.sched_priority;
    p.normalPrio = p.prio = normalPrio(p); // no PI boosting: prio = normal_prio
    p.sclass = k.classOfPolicy[policy]!;
  }, newPrio !== p.prio);
}

/**
 * __sched_setscheduler(p, attr, user = true) on behalf of `caller`.
 * attr.sched_policy may be SETPARAM_POLICY (-1): keep p's policy.
 * Returns 0 or -errno.
 */
export function schedSetattr(k: Kernel, caller: Task, p: Task, a: SchedAttr): number {
  let policy = a.sched_policy;
  let resetOnFork: boolean;
  if (policy === SETPARAM_POLICY) {
    policy = p.policy;
    resetOnFork = p.resetOnFork;
  } else {
    if (!validPolicy(policy)) return -EINVAL;
    resetOnFork = (a.sched_flags & SCHED_FLAG_RESET_ON_FORK) !== 0;
  }
  if (a.sched_flags & ~SCHED_FLAG_ALL) return -EINVAL;
  if (!checkAttr(policy, a)) return -EINVAL;
  if (k.classOfPolicy[policy] === undefined) return -EINVAL; // no class for it in this preset
  if (caller.uid !== 0) {
    const err = checkPerm(caller, p, policy, a, resetOnFork);
    if (err) return err;
  }
  // Utilization clamps steer frequency and placement by PELT utilization, which TaskLab does not model:
  // it answers as a kernel built without CONFIG_UCLAMP_TASK does (uclamp_validate).
  if (a.sched_flags & SCHED_FLAG_UTIL_CLAMP) return -EOPNOTSUPP;
  if (unchanged(k, p, policy, a)) {
    p.resetOnFork = resetOnFork;
    return 0;
  }
  // A deadline task must be free to run on every CPU of the root domain, and there must be bandwidth.
  if (policy === SCHED_DEADLINE && k.params.rtRuntime >= 0 && (p.cpusAllowed !== null || !dlBandwidthUsable(k))) return -EPERM;
  if ((policy === SCHED_DEADLINE || p.policy === SCHED_DEADLINE) && !dlAdmit(k, p, policy, policy === SCHED_DEADLINE ? dlParamsOf(a) : null))
    return -EBUSY;
  apply(k, p, policy, a, resetOnFork);
  return 0;
}

/** A zeroed sched_attr, as a C caller's memset would leave it. */
function blankAttr(policy: number): SchedAttr {
  return {
    size: SCHED_ATTR_SIZE_VER1, sched_policy: policy, sched_flags: 0, sched_nice: 0, sched_priority: 0,
    sched_runtime: 0, sched_deadline: 0, sched_period: 0, sched_util_min: 0, sched_util_max: 0, // no CONFIG_UCLAMP_TASK: getattr never fills the clamps in
  };
}

/** get_params: p's current parameters into `a`. */
function getParams(k: Kernel, p: Task, a: SchedAttr): void {
  if (p.policy === SCHED_DEADLINE) {
    const d = getDlParams(p);
    a.sched_priority = p.rtPriority;
    a.sched_runtime = d?.runtime ?? 0;
    a.sched_deadline = d?.deadline ?? 0;
    a.sched_period = d?.period ?? 0;
    a.sched_flags = (a.sched_flags & ~SCHED_DL_FLAGS) | (d?.flags ?? 0);
  } else if (isRt(p.policy)) {
    a.sched_priority = p.rtPriority;
  } else {
    a.sched_nice = p.nice;
    a.sched_runtime = effectiveSlice(k, p); // se->slice (6.12); CFS kernels report 0
  }
}

/** _sched_setscheduler: the sched_setscheduler / sched_setparam form. */
function setschedulerCompat(k: Kernel, t: Task, p: Task, policy: number, priority: number): number {
  const a = blankAttr(policy);
  a.sched_priority = priority;
  a.sched_nice = p.nice;
  if (p.fairSlice > 0) a.sched_runtime = p.fairSlice; // a custom slice survives sched_setscheduler (6.12)
  if (policy !== SETPARAM_POLICY && policy & SCHED_RESET_ON_FORK) {
    a.sched_flags |= SCHED_FLAG_RESET_ON_FORK;
    a.sched_policy = policy & ~SCHED_RESET_ON_FORK;
  }
  return schedSetattr(k, t, p, a);
}

/** struct sched_param: `{sched_priority}` (or `{priority}`, or a bare number); null if unusable. */
function paramPriority(v: unknown): number | null {
  if (typeof v === "number") return int(v);
  if (typeof v !== "object" || v === null) return null;
  const o = v as { sched_priority?: unknown; priority?: unknown };
  return int(o.sched_priority ?? o.priority ?? 0);
}

/**
 * sched_copy_attr: fields default to 0; non-integers are EINVAL; nice is clamped. `size` says how much of
 * the struct the caller has (0 is SCHED_ATTR_SIZE_VER0, left out is the whole of VER1): outside 48 .. 4096
 * is E2BIG with the kernel's size written back; fields past it are not read; the utilization clamps need
 * VER1. Returns -errno if unusable.
 */
function readAttr(v: unknown): SchedAttr | number {
  if (typeof v !== "object" || v === null) return -EINVAL;
  const o = v as Record<string, unknown>;
  let size = o.size === undefined ? SCHED_ATTR_SIZE_VER1 : int(o.size);
  if (size === null) return -EINVAL;
  if (size === 0) size = SCHED_ATTR_SIZE_VER0; // "Bloody ABI"
  if (size < SCHED_ATTR_SIZE_VER0 || size > PAGE_SIZE) {
    if (!Object.isFrozen(o)) o.size = SCHED_ATTR_SIZE_VER1; // put_user(sizeof(*attr), &uattr->size)
    return -E2BIG;
  }
  const a = blankAttr(0);
  for (const key of Object.keys(a) as (keyof SchedAttr)[]) {
    if (key === "size" || o[key] === undefined) continue;
    if (size < SCHED_ATTR_SIZE_VER1 && (key === "sched_util_min" || key === "sched_util_max")) continue; // past the caller's size
    const n = int(o[key]);
    if (n === null) return -EINVAL;
    a[key] = n;
  }
  a.size = size;
  if (a.sched_flags & SCHED_FLAG_UTIL_CLAMP && size < SCHED_ATTR_SIZE_VER1) return -EINVAL;
  a.sched_nice = Math.max(-20, Math.min(19, a.sched_nice));
  return a;
}

/** sched_setattr(pid, attr, flags). */
function sysSetattr(k: Kernel, t: Task, r: SyscallReq): number {
  const pid = int(r.a);
  if (pid === null || pid < 0 || (r.c !== undefined && r.c !== 0)) return -EINVAL;
  const a = readAttr(r.b);
  if (typeof a === "number") return a;
  if (a.sched_policy < 0) return -EINVAL;
  if (a.sched_flags & SCHED_FLAG_KEEP_POLICY) a.sched_policy = SETPARAM_POLICY;
  const p = lookup(k, t, pid, true);
  if (typeof p === "number") return p;
  if (a.sched_flags & SCHED_FLAG_KEEP_PARAMS) getParams(k, p, a);
  return schedSetattr(k, t, p, a);
}

/** sched_getattr(pid, size, flags): the attributes as an object. */
function sysGetattr(k: Kernel, t: Task, r: SyscallReq): SchedAttr | number {
  const size = r.b === undefined ? SCHED_ATTR_SIZE_VER1 : int(r.b);
  if (size === null || size < SCHED_ATTR_SIZE_VER0 || size > PAGE_SIZE || (r.c !== undefined && r.c !== 0)) return -EINVAL;
  const p = lookup(k, t, int(r.a));
  if (typeof p === "number") return p;
  const a = blankAttr(p.policy);
  a.size = Math.min(size, SCHED_ATTR_SIZE_VER1); // kattr.size = min(usize, sizeof(kattr))
  if (p.resetOnFork) a.sched_flags |= SCHED_FLAG_RESET_ON_FORK;
  getParams(k, p, a);
  a.sched_flags &= SCHED_FLAG_ALL;
  return a;
}

/**
 * The interval sched_rr_get_interval reports, ns: the RR quantum for SCHED_RR,
 * 0 for SCHED_FIFO and SCHED_DEADLINE; for fair policies the EEVDF slice
 * (get_rr_interval_fair) truncated to whole ticks, 0 if p's CPU has no fair
 * load; under CFS, the task's sched_slice() on its queue, also in whole ticks.
 */
export function rrInterval(k: Kernel, p: Task): number {
  if (p.policy === SCHED_RR) return rrIntervalNs(k.params);
  if (isRt(p.policy) || p.policy === SCHED_DEADLINE) return 0;
  const rq = k.rqs[p.cpu]!;
  const own = k.classes[p.sclass]!.getRrInterval;
  if (own !== undefined) return Math.floor(own(rq, p) / k.tickNs) * k.tickNs;
  const fairQ = rq.cfs as FairRq | null;
  if (fairQ !== null ? fairQ.load === 0 : k.classes[p.sclass]!.nrRunning(rq) === 0) return 0; // rq->cfs.load.weight (delayed tasks count)
  const tick = k.tickNs;
  const slice = p.fairSlice > 0 && k.classes[p.sclass]!.name === "eevdf" ? p.fairSlice : k.params.baseSlice * tunableFactor(k.params);
  return Math.floor(slice / tick) * tick;
}

type Handler = (k: Kernel, t: Task, r: SyscallReq) => number | object;

export const schedSyscalls = {
  sched_setscheduler: (k, t, r) => {
    const policy = int(r.b);
    const prio = paramPriority(r.c);
    const pid = int(r.a);
    if (policy === null || policy < 0 || prio === null || pid === null || pid < 0) return -EINVAL;
    const p = lookup(k, t, pid, true);
    return typeof p === "number" ? p : setschedulerCompat(k, t, p, policy, prio);
  },
  sched_setparam: (k, t, r) => {
    const prio = paramPriority(r.b);
    const pid = int(r.a);
    if (prio === null || pid === null || pid < 0) return -EINVAL;
    const p = lookup(k, t, pid, true);
    return typeof p === "number" ? p : setschedulerCompat(k, t, p, SETPARAM_POLICY, prio);
  },
  sched_getscheduler: (k, t, r) => {
    const p = lookup(k, t, int(r.a));
    return typeof p === "number" ? p : p.policy | (p.resetOnFork ? SCHED_RESET_ON_FORK : 0);
  },
  sched_getparam: (k, t, r) => {
    const p = lookup(k, t, int(r.a));
    return typeof p === "number" ? p : { sched_priority: isRt(p.policy) ? p.rtPriority : 0 };
  },
  sched_setattr: sysSetattr,
  sched_getattr: sysGetattr,
  sched_get_priority_max: (k, t, r) => {
    const pol = int(r.a) ?? -1;
    return isRt(pol) ? MAX_USER_RT_PRIO : validPolicy(pol) ? 0 : -EINVAL;
  },
  sched_get_priority_min: (k, t, r) => {
    const pol = int(r.a) ?? -1;
    return isRt(pol) ? MIN_USER_RT_PRIO : validPolicy(pol) ? 0 : -EINVAL;
  },
  sched_rr_get_interval: (k, t, r) => {
    const p = lookup(k, t, int(r.a));
    return typeof p === "number" ? p : rrInterval(k, p);
  },
} satisfies Record<string, Handler>;


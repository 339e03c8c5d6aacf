/**
 * Scheduling-policy syscalls (kernel/sched/syscalls.c): sched_setscheduler,
 * sched_getscheduler, sched_setparam, sched_getparam, sched_setattr,
 * sched_getattr, sched_get_priority_min/max, sched_rr_get_interval.
 * Spread into the syscall table.
 */
import type { Kernel } from "../kernel.ts";
import type { Task } from "../task/task.ts";
import type { SyscallReq } from "../task/program.ts";

export const schedSyscalls = {} satisfies Record<string, (k: Kernel, t: Task, r: SyscallReq) => unknown>;

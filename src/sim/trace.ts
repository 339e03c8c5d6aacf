/**
 * The trace bus: one typed stream of events named after Linux tracepoints.
 * Every view (event log, ps history, metrics, charts) is built from it.
 *
 * Emitting is free when nobody listens: producers check `bus.on` before they
 * build an event object.
 */

/** Fields common to every trace event. */
export interface TraceBase {
  /** Simulated time in ns. */
  ts: number;
  /** CPU the event happened on, -1 when not tied to one. */
  cpu: number;
}

export type TraceEvent = TraceBase &
  (
    | { name: "sched_switch"; prev_comm: string; prev_pid: number; prev_prio: number; prev_state: string; next_comm: string; next_pid: number; next_prio: number }
    | { name: "sched_wakeup"; comm: string; pid: number; prio: number; target_cpu: number }
    | { name: "sched_wakeup_new"; comm: string; pid: number; prio: number; target_cpu: number }
    | { name: "sched_migrate_task"; comm: string; pid: number; prio: number; orig_cpu: number; dest_cpu: number }
    | { name: "sched_process_fork"; parent_comm: string; parent_pid: number; child_comm: string; child_pid: number; clone_flags: number }
    | { name: "sched_process_exec"; filename: string; pid: number; old_pid: number }
    | { name: "sched_process_exit"; comm: string; pid: number; prio: number; code: number }
    | { name: "sched_process_free"; comm: string; pid: number }
    | { name: "sched_process_wait"; comm: string; pid: number; wait_pid: number }
    | { name: "sched_process_reparent"; comm: string; pid: number; old_ppid: number; new_ppid: number }
    | { name: "sched_stat_runtime"; comm: string; pid: number; runtime: number }
    | { name: "task_rename"; pid: number; oldcomm: string; newcomm: string }
    | { name: "signal_generate"; sig: number; errno: number; code: number; comm: string; pid: number; group: boolean; result: number }
    | { name: "signal_deliver"; sig: number; errno: number; code: number; sa_handler: string; sa_flags: number; pid: number }
    | { name: "sys_enter"; pid: number; id: string; args: unknown[] }
    | { name: "sys_exit"; pid: number; id: string; ret: unknown }
    | { name: "task_state"; comm: string; pid: number; state: string }
    | { name: "print"; pid: number; text: string }
    | { name: "kernel_warning"; pid: number; comm: string; text: string }
    /** TaskLab's own (Linux has no such tracepoint): a deadline task's job ended (it blocked, yielded or exited); lateness = end - deadline, > 0 if missed. */
    | { name: "dl_job"; comm: string; pid: number; deadline: number; lateness: number }
  );

export type TraceName = TraceEvent["name"];
export type Listener = (e: TraceEvent) => void;

/** Results of `trace_sched_process_exit` etc. (signal_generate `result` values, as in include/trace/events/signal.h). */
export const TRACE_SIGNAL = { DELIVERED: 0, IGNORED: 1, ALREADY_PENDING: 2, OVERFLOW_FAIL: 3, LOSE_INFO: 4 } as const;

export class TraceBus {
  private listeners: Listener[] = [];
  /** True while at least one listener is subscribed. Producers test it before building events. */
  on = false;

  subscribe(fn: Listener): () => void {
    this.listeners.push(fn);
    this.on = true;
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
      this.on = this.listeners.length > 0;
    };
  }

  emit(e: TraceEvent): void {
    for (const l of this.listeners) l(e);
  }
}

/** Serialises events as JSON lines with stable key order (the order they were built in). */
export function toJsonLine(e: TraceEvent): string {
  return JSON.stringify(e);
}

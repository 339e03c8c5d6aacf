/**
 * The state letter of /proc/<pid>/stat and ps (fs/proc/array.c task_state_index):
 * s = (__state | exit_state) & TASK_REPORT; TASK_IDLE reports as I; the letter is
 * "RSDTtXZPI"[fls(s)].
 */
import { TASK_IDLE, type Task } from "./task.ts";

const TASK_REPORT = 0x7f;
const LETTERS = "RSDTtXZPI";
const NAMES = ["R (running)", "S (sleeping)", "D (disk sleep)", "T (stopped)", "t (tracing stop)", "X (dead)", "Z (zombie)", "P (parked)", "I (idle)"];

export function stateIndex(p: Task): number {
  let s = (p.state | p.exitState) & TASK_REPORT;
  if ((p.state & TASK_IDLE) === TASK_IDLE) s = 0x80;
  return s === 0 ? 0 : 32 - Math.clz32(s);
}

export function stateLetter(p: Task): string {
  return LETTERS[stateIndex(p)]!;
}

/** As in the State: line of /proc/<pid>/status. */
export function stateName(p: Task): string {
  return NAMES[stateIndex(p)]!;
}

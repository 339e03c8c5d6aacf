/**
 * The shape of a built-in example: a small machine set up to show one concept,
 * with the moments at which the tour stops to look at it.
 */
import type { Machine, MachineOptions } from "../src/user/machine.ts";

export interface Snapshot {
  /** Simulated time (ns) at which to look. */
  at: number;
  /** What to say at that moment. */
  note: string;
  /** Views to print: process table, process tree. */
  show?: ("ps" | "pstree" | "states")[];
}

export interface Example {
  name: string;
  title: string;
  /** One paragraph: what to watch for, and the Linux rule behind it. */
  description: string;
  options?: MachineOptions;
  /** Installs binaries and starts the programs. */
  setup(m: Machine): void;
  snapshots: Snapshot[];
  /** Stop time (ns); default: when nothing is left to do but init. */
  until?: number;
}

export function defineExample(e: Example): Example {
  return e;
}

/**
 * Shared helpers for the kernel behaviour tests (xv6 usertests style).
 *
 * Programs report what they see by printing `key=value` lines; tests read them
 * back with `said(m)`. Printing is the only safe way out of a program: a forked
 * child replays its parent's code, so pushing into an outside array would
 * record the replayed prefix twice.
 */
import { Machine, type MachineOptions } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import type { ProgramBody, SysApi } from "../../src/user/sys.ts";
import { stateLetter } from "../../src/kernel/task/state.ts";
import type { Task } from "../../src/kernel/task/task.ts";

export { program };
export type { SysApi };

export function boot(opts: MachineOptions = {}): Machine {
  return new Machine({ cpus: 4, seed: 1, ...opts });
}

/** Boots a machine, spawns `body` as a child of init and runs until `until` (default: until quiet). */
export function run(body: ProgramBody, opts: MachineOptions & { until?: number } = {}): { m: Machine; pid: number } {
  const { until, ...mo } = opts;
  const m = boot(mo);
  const pid = m.spawn(program("t", body));
  m.run(until ?? Infinity);
  return { m, pid };
}

/** Prints `key=value` from a program. */
export function* say(sys: SysApi, key: string, value: unknown): Generator<any, void, unknown> {
  yield* sys.print(`${key}=${typeof value === "string" ? value : JSON.stringify(value)}\n`);
}

/** Every `key=value` line printed, in order, as [key, value] pairs. */
export function lines(m: Machine): [string, string][] {
  return m.output
    .split("\n")
    .filter((l) => l.includes("="))
    .map((l) => {
      const i = l.indexOf("=");
      return [l.slice(0, i), l.slice(i + 1)] as [string, string];
    });
}

/** The values printed under `key`, parsed as JSON where possible. */
export function said(m: Machine, key: string): unknown[] {
  return lines(m)
    .filter(([k]) => k === key)
    .map(([, v]) => {
      try {
        return JSON.parse(v);
      } catch {
        return v;
      }
    });
}

/** The single value printed under `key`. */
export function one(m: Machine, key: string): unknown {
  const v = said(m, key);
  if (v.length !== 1) throw new Error(`expected one "${key}", got ${JSON.stringify(v)}; output:\n${m.output}\nwarnings:\n${m.kernel.warnings.join("\n")}`);
  return v[0];
}

export function letter(t: Task | undefined): string {
  return t ? stateLetter(t) : "gone";
}

export const MS = 1_000_000;

/** Sleeps until absolute time `at`, resuming after signal handlers interrupt nanosleep (-EINTR). */
export function* sleepUntil(sys: SysApi, at: number): Generator<any, void, unknown> {
  for (let now = yield* sys.now(); now < at; now = yield* sys.now()) yield* sys.sleep(at - now);
}

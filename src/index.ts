/**
 * TaskLab's public API: boot a machine, write programs, observe.
 *
 * @example
 * import { Machine, program, ms } from "tasklab";
 * const m = new Machine({ cpus: 2 });
 * m.spawn(program("hello", function* (sys) { yield* sys.compute(ms(1)); return 0; }));
 * m.run();
 */
export { Machine, type MachineOptions, type SpawnOptions } from "./user/machine.ts";
export { program, isProgram, type Program } from "./user/program.ts";
export { sys, type SysApi, type ProgramBody, type SignalHandler, type ThreadBody } from "./user/sys.ts";
export type { SigInfo } from "./kernel/signal/signal.ts";
export * as libc from "./user/libc.ts";
export { ns, us, ms, sec, parseDuration, formatDuration } from "./sim/units.ts";
export type { TraceEvent } from "./sim/trace.ts";
export { PRESETS } from "./kernel/sched/presets.ts";
// Views of a machine's kernel, for front ends: ps(machine.kernel), pstree(machine.kernel, 1), readProcPath(machine.kernel, null, path).
export { ps, psRows, formatPs, type PsOptions, type PsRow } from "./observe/ps.ts";
export { pstree, type PstreeOptions } from "./observe/pstree.ts";
export { readProcPath } from "./kernel/fs/proc.ts";
export { TraceRecorder, formatEvent, eventJson, eventLogText, hashEvents, type TraceRecorderOptions } from "./observe/log.ts";

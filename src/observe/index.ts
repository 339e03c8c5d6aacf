/**
 * Read-only views of a running kernel: ps, pstree, /proc text and the event log.
 * Nothing here changes kernel state.
 */
export { ps, psRows, formatPs, formatCpuTime, PS_DEFAULT_COLUMNS, PS_THREAD_COLUMNS } from "./ps.ts";
export type { PsRow, PsOptions, PsColumn } from "./ps.ts";
export { pstree } from "./pstree.ts";
export type { PstreeOptions } from "./pstree.ts";
export {
  procStat, procTaskStat, procStatus, procStatm, procLoadavg, procPidList, procTaskList, statFields, procSched, schedDebug, readProcPath,
  nsToTicks, ttyNr, tpgidOf, taskTimes, groupTimes, memOf, bitmapHex, bitmapList,
} from "./proc.ts";
export type { MemPages } from "./proc.ts";
export {
  eventJson, eventLogLines, eventLogText, formatEvent, formatTimestamp, fnv1a64, hashEvents, Fnv1a64, TraceRecorder,
} from "./log.ts";
export type { TraceRecorderOptions } from "./log.ts";

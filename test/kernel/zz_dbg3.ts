import fc from "fast-check";
import { scenario, runScenario } from "./randomprog.ts";
import { Kernel } from "../../src/kernel/kernel.ts";
const counts: Record<string, number> = {};
const orig = (Kernel.prototype as any).warn;
const TB = (await import("../../src/sim/trace.ts")).TraceBus.prototype as any;
const emit = TB.emit;
TB.emit = function (e: any) {
  let key = e.name;
  if (e.name === "sched_process_exec" && e.pid !== e.old_pid) key = "exec_from_thread";
  if (e.name === "sys_exit" && typeof e.ret === "number" && e.ret < 0) key = `err:${e.id}:${e.ret}`;
  if (e.name === "sys_enter") key = `sys:${e.id}`;
  counts[key] = (counts[key] ?? 0) + 1;
  return emit.call(this, e);
};
for (const s of fc.sample(scenario, { numRuns: 1000, seed: 20240601 })) runScenario(s);
console.log(Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join("\n"));

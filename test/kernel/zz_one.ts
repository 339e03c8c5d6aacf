import fc from "fast-check";
import { scenario, runScenario } from "./randomprog.ts";
import { TraceBus } from "../../src/sim/trace.ts";
const idx = Number(process.argv[2]);
const s = fc.sample(scenario, { numRuns: idx + 1, seed: Number(process.env.SEED ?? 20240601) })[idx]!;
console.log(JSON.stringify(s));
const log: any[] = [];
const TB = TraceBus.prototype as any;
const emit = TB.emit;
let count = 0;
TB.emit = function (e: any) {
  log.push(e);
  if (log.length > 5000) log.splice(0, 4000);
  if (++count > 300000) throw new Error("too many events");
  return emit.call(this, e);
};
try { runScenario(s); } catch (e) { console.log((e as Error).stack); }
const n = Number(process.argv[3] ?? 60);
console.log(log.slice(-n).map((e) => JSON.stringify(e)).join("\n"));

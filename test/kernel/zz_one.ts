import fc from "fast-check";
import { scenario, runScenario } from "./randomprog.ts";
import { TraceBus } from "../../src/sim/trace.ts";
const idx = Number(process.argv[2]);
const s = fc.sample(scenario, { numRuns: idx + 1, seed: 20240601 })[idx]!;
console.log(JSON.stringify(s));
const log: string[] = [];
const TB = TraceBus.prototype as any;
const emit = TB.emit;
TB.emit = function (e: any) { log.push(JSON.stringify(e)); return emit.call(this, e); };
try { runScenario(s); } catch (e) { console.log((e as Error).message); }
const n = Number(process.argv[3] ?? 60);
console.log(log.slice(-n).join("\n"));

import fc from "fast-check";
import { scenario, runScenario } from "./randomprog.ts";
const samples = fc.sample(scenario, { numRuns: Number(process.env.N ?? 5000), seed: Number(process.env.SEED ?? 7) });
let i = 0;
for (const s of samples) {
  const t0 = Date.now();
  process.stdout.write(`#${i} cpus=${s.cpus} `);
  try { const r = runScenario(s); console.log(`ok events=${r.events} tasks=${r.tasks} ${Date.now()-t0}ms`); }
  catch (e) { console.log("FAIL", (e as Error).message.slice(0, 300)); }
  i++;
}

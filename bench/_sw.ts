/**
 * Profiling harness (not part of npm run bench): the switches benchmark alone, for perf or --cpu-prof.
 * Bundle with esbuild, then: node sw.mjs [linux-6|linux-5] (SIM=simulated ns per run, NT=tasks, default 10,000).
 */
import { Machine } from "../src/user/machine.ts";
import { program } from "../src/user/program.ts";
function once(sched: string, simNs: number) {
  const m = new Machine({ cpus: 8, sched });
  const forever = program("hog", function* (sys) { for (;;) yield* sys.compute(1e9); });
  for (let i = 0; i < Number(process.env.NT ?? 1e4); i++) m.spawn(forever, { nice: (i % 40) - 20 });
  m.run(1);
  const before = m.kernel.rqs.reduce((a, rq) => a + rq.nrSwitches, 0);
  const t0 = performance.now();
  m.run(simNs);
  const dt = performance.now() - t0;
  const sw = m.kernel.rqs.reduce((a, rq) => a + rq.nrSwitches, 0) - before;
  return [sw, dt, m.kernel.engine.fired] as const;
}
const sched = process.argv[2] ?? "linux-6";
once(sched, 5e9);
let best = 0;
for (let i = 0; i < 3; i++) { const [sw, dt, f] = once(sched, Number(process.env.SIM ?? 40e9)); best = Math.max(best, sw / dt / 1000); if (i==0) console.log('switches', sw, 'fired', f); }
console.log(sched, "best of 3:", best.toFixed(3), "M switches/s");

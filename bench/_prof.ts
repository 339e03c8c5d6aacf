import { Machine } from "../src/user/machine.ts";
import { program } from "../src/user/program.ts";
const m = new Machine({ cpus: 4, sched: process.argv[2] ?? "linux-6" });
const body = program("cycler", function* (sys) {
  for (;;) { yield* sys.compute(1_000_000); yield* sys.sleep(3_000_000); }
});
for (let i = 0; i < 1000; i++) m.spawn(body);
const t0 = performance.now();
m.run(Number(process.argv[3] ?? 10e9));
const dt = performance.now() - t0;
console.log(m.kernel.engine.fired, dt.toFixed(0), "ms", (m.kernel.engine.fired / dt / 1000).toFixed(3), "M/s", m.kernel.rqs.map(r => r.nrSwitches));

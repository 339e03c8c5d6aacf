/**
 * Profiling harness (not part of npm run bench): the events benchmark for cachegrind. Run it for two
 * simulated lengths and divide the difference in instructions by the difference in events, so start-up
 * and JIT cost cancel: valgrind --tool=cachegrind --cache-sim=yes node --single-threaded cg.mjs 12 (then 28).
 */
import { Machine } from "../src/user/machine.ts";
import { program } from "../src/user/program.ts";
const m = new Machine({ cpus: 4 });
const body = program("cycler", function* (sys) {
  for (;;) { yield* sys.compute(1_000_000); yield* sys.sleep(3_000_000); }
});
for (let i = 0; i < 1000; i++) m.spawn(body);
m.run(Number(process.argv[2] ?? 2) * 1e9);
console.log("fired", m.kernel.engine.fired);

/** /bin/worker: the program the exec and vfork examples load. Prints its pid, computes, exits 0. */
import { program } from "../src/user/program.ts";
import { ms } from "../src/sim/units.ts";

export const worker = program("worker", function* (sys, argv) {
  const pid = yield* sys.getpid();
  yield* sys.print(`  [worker] pid ${pid} is now running /bin/worker (argv: ${argv.join(" ")})\n`);
  yield* sys.compute(ms(2));
  return 0;
});

import { defineExample } from "./example.ts";
import { program } from "../src/user/program.ts";
import { ms } from "../src/sim/units.ts";
import { worker } from "./worker.ts";

export const vforkDemo = program("shell", function* (sys) {
  const t0 = yield* sys.now();
  const pid = yield* sys.vfork();
  if (pid === 0) {
    yield* sys.compute(ms(2)); // the parent is suspended meanwhile
    yield* sys.execve("/bin/worker", ["worker"]);
    return 127;
  }
  const t1 = yield* sys.now();
  yield* sys.print(`  [parent] vfork returned ${pid} after ${(t1 - t0) / 1e6} ms: I was suspended until the child exec'd\n`);
  yield* sys.waitpid(pid, 0);
  return 0;
});

export default defineExample({
  name: "vfork",
  title: "vfork: the parent waits until the child execs",
  description:
    "vfork() creates a child that shares the parent's memory (CLONE_VM) and suspends the parent (CLONE_VFORK) " +
    "in uninterruptible sleep (ps shows D) until the child calls execve() or exits. Shells used it to start " +
    "programs cheaply.",
  setup(m) {
    m.install("/bin/worker", worker);
    m.spawn(vforkDemo);
  },
  snapshots: [
    { at: ms(1), note: "The child runs; the parent is in D (vfork_done).", show: ["ps"] },
    { at: ms(2.5), note: "The child exec'd /bin/worker: the parent runs again.", show: ["ps"] },
  ],
});

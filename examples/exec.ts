import { defineExample } from "./example.ts";
import { program } from "../src/user/program.ts";
import { ms } from "../src/sim/units.ts";
import { worker } from "./worker.ts";

export const execDemo = program("launcher", function* (sys) {
  const pid = yield* sys.fork();
  if (pid === 0) {
    const me = yield* sys.getpid();
    yield* sys.print(`  [child] pid ${me} computes 1 ms, then calls execve("/bin/worker")\n`);
    yield* sys.compute(ms(1));
    yield* sys.execve("/bin/worker", ["worker", "--from-exec"]);
    return 127; // only reached if execve failed
  }
  const r = yield* sys.execve("/no/such/file");
  yield* sys.print(`  [parent] execve("/no/such/file") returned ${r} (-ENOENT): the old image goes on\n`);
  const { status } = yield* sys.waitpid(pid, 0);
  yield* sys.print(`  [parent] child ${pid} exited with status 0x${status.toString(16)}\n`);
  return 0;
});

export default defineExample({
  name: "exec",
  title: "exec replaces the program, not the process",
  description:
    "execve() loads a new program into the calling process: the pid, parent, process group and session stay; " +
    "the command name (comm) becomes the new program's; caught signal handlers are reset. A failed execve " +
    "returns -ENOENT and the old program carries on.",
  setup(m) {
    m.install("/bin/worker", worker);
    m.spawn(execDemo);
  },
  snapshots: [
    { at: ms(0.5), note: "Before exec: the child is a copy of 'launcher'.", show: ["ps"] },
    { at: ms(1.5), note: "After exec: same pid, now called 'worker'.", show: ["ps"] },
  ],
});

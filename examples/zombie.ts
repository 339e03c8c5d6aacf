import { defineExample } from "./example.ts";
import { program } from "../src/user/program.ts";
import { ms } from "../src/sim/units.ts";
import { WEXITSTATUS } from "../src/user/libc.ts";

export const zombieDemo = program("parent", function* (sys) {
  const pid = yield* sys.fork();
  if (pid === 0) {
    yield* sys.compute(ms(1));
    return 3; // exit(3): the child is now a zombie until its parent waits
  }
  yield* sys.print(`  [parent] forked ${pid}; sleeping 10 ms without waiting\n`);
  yield* sys.sleep(ms(10));
  const { pid: reaped, status } = yield* sys.waitpid(pid, 0);
  yield* sys.print(`  [parent] waitpid reaped ${reaped}: status 0x${status.toString(16)}, exit code ${WEXITSTATUS(status)}\n`);
  yield* sys.sleep(ms(5));
  return 0;
});

export default defineExample({
  name: "zombie",
  title: "A zombie appears, and is reaped",
  description:
    "When a process exits, the kernel keeps its task_struct (state Z, 'defunct') so that its parent can " +
    "collect the exit status with wait(). The zombie holds its pid until then. Once the parent waits, the " +
    "zombie is released and its pid becomes free.",
  setup(m) {
    m.spawn(zombieDemo);
  },
  snapshots: [
    { at: ms(0.5), note: "The child is running.", show: ["ps"] },
    { at: ms(5), note: "The child has exited; its parent has not waited: a zombie (Z, <defunct>).", show: ["ps"] },
    { at: ms(12), note: "The parent waited: the zombie is gone.", show: ["ps"] },
  ],
});

import { defineExample } from "./example.ts";
import { program } from "../src/user/program.ts";
import { ms } from "../src/sim/units.ts";

/** Each process forks `fanout` children until `depth` levels exist; everyone computes, then waits for its children. */
export const forkTree = program("forktree", function* (sys) {
  let depth = 0;
  for (;;) {
    let forked = 0;
    if (depth < 2) {
      for (let i = 0; i < 2; i++) {
        const pid = yield* sys.fork();
        if (pid === 0) {
          depth++; // the child goes one level down and starts its own loop
          forked = -1;
          break;
        }
        forked++;
      }
    }
    if (forked === -1) continue;
    const me = yield* sys.getpid();
    const parent = yield* sys.getppid();
    yield* sys.print(`  pid ${me} (parent ${parent}) at depth ${depth}\n`);
    yield* sys.compute(ms(5 + depth));
    while ((yield* sys.wait()).pid > 0) {} // reap every child
    return 0;
  }
});

export default defineExample({
  name: "fork-tree",
  title: "A fork tree grows from init",
  description:
    "A process started by init forks two children, and each of them forks two more. fork() returns twice: " +
    "0 in the child, the child's pid in the parent. Pids are handed out in order, and every process " +
    "knows its parent (getppid). pstree draws the tree the way the kernel links it: real_parent and children lists.",
  setup(m) {
    m.spawn(forkTree);
  },
  snapshots: [
    { at: ms(1), note: "After 1 ms: two CPUs serve the growing tree, so some processes wait their turn (R in ps) before they fork.", show: ["pstree", "ps"] },
    { at: ms(12), note: "The whole tree: seven processes share two CPUs, so all are runnable (R) and take turns.", show: ["pstree", "ps"] },
  ],
});

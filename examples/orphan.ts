import { defineExample } from "./example.ts";
import { program } from "../src/user/program.ts";
import { ms } from "../src/sim/units.ts";
import { PR_SET_CHILD_SUBREAPER } from "../src/user/libc.ts";

/** The parent exits first; its child is adopted by init (pid 1). */
export const orphanDemo = program("shortlived", function* (sys) {
  const pid = yield* sys.fork();
  if (pid === 0) {
    yield* sys.print(`  [orphan] my parent is ${yield* sys.getppid()}\n`);
    yield* sys.sleep(ms(3));
    yield* sys.print(`  [orphan] my parent died; my parent is now ${yield* sys.getppid()} (init)\n`);
    yield* sys.sleep(ms(3));
    return 0;
  }
  yield* sys.sleep(ms(1));
  return 0; // exits while the child sleeps
});

/** A subreaper adopts orphaned descendants instead of init, and reaps them. */
export const subreaperDemo = program("subreaper", function* (sys) {
  yield* sys.prctl(PR_SET_CHILD_SUBREAPER, 1);
  const middle = yield* sys.fork();
  if (middle === 0) {
    const grandchild = yield* sys.fork();
    if (grandchild === 0) {
      yield* sys.sleep(ms(2));
      yield* sys.print(`  [grandchild] my parent is now ${yield* sys.getppid()} (the subreaper)\n`);
      return 5;
    }
    return 0; // the middle process exits, orphaning the grandchild
  }
  for (;;) {
    const { pid, status } = yield* sys.wait();
    if (pid < 0) break;
    yield* sys.print(`  [subreaper ${yield* sys.getpid()}] reaped ${pid}: status 0x${status.toString(16)}\n`);
  }
  return 0;
});

export default defineExample({
  name: "orphan",
  title: "Orphans are adopted by init, or by a subreaper",
  description:
    "When a parent exits before its children, the kernel reparents them (forget_original_parent): to another " +
    "thread of the dying process, else to the nearest ancestor that called prctl(PR_SET_CHILD_SUBREAPER), else " +
    "to init, which reaps them when they exit. The orphan's getppid() changes.",
  setup(m) {
    m.spawn(orphanDemo);
    m.spawn(subreaperDemo);
  },
  snapshots: [
    { at: ms(0.5), note: "Both families are complete.", show: ["pstree"] },
    { at: ms(1.5), note: "'shortlived' has exited and been reaped by init; its child now hangs off init. The grandchild hangs off the subreaper.", show: ["pstree", "ps"] },
  ],
});

/**
 * /sbin/init: pid 1. It installs a SIGCHLD handler and reaps every child it
 * has or adopts, forever (the one job the kernel requires of init).
 */
import { program } from "./program.ts";
import { SIGCHLD } from "../kernel/signal/signals.ts";
import { ECHILD } from "../kernel/errno.ts";
import { __WALL } from "../kernel/task/wait.ts";

export const initProgram = program("init", function* (sys) {
  yield* sys.sigaction(SIGCHLD, { handler: function* () {}, flags: 0x10000000 /* SA_RESTART */ });
  for (;;) {
    const r = yield* sys.waitpid(-1, __WALL);
    if (r.pid === -ECHILD) yield* sys.pause();
  }
});

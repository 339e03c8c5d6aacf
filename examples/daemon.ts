import { defineExample } from "./example.ts";
import { program } from "../src/user/program.ts";
import { ms } from "../src/sim/units.ts";

/** The classic recipe: fork, setsid, fork again, chdir("/"), umask(0), close the inherited fds. */
export const daemonDemo = program("daemonize", function* (sys) {
  // Start like a login session: a session leader that opens a terminal gets it as its controlling tty.
  yield* sys.setsid();
  yield* sys.open("/dev/pts/0");
  yield* sys.chdir("/home/user");
  const first = yield* sys.fork();
  if (first !== 0) {
    yield* sys.waitpid(first, 0); // the launcher reaps the first child
    yield* sys.sleep(ms(5)); // and stays a while, in the foreground of pts/0
    return 0;
  }
  const sid = yield* sys.setsid(); // new session, no controlling terminal
  yield* sys.print(`  [first child] setsid() = ${sid}: session and group leader\n`);
  const second = yield* sys.fork();
  if (second !== 0) return 0; // the session leader exits: the daemon can never reacquire a tty
  yield* sys.chdir("/");
  const oldMask = yield* sys.umask(0);
  yield* sys.sleep(ms(0.1)); // let the session leader exit, so init adopts us
  const me = yield* sys.getpid();
  yield* sys.print(
    `  [daemon] pid ${me}, ppid ${yield* sys.getppid()}, pgid ${yield* sys.getpgid(0)}, sid ${yield* sys.getsid(0)}, ` +
      `cwd ${yield* sys.getcwd()}, umask 0${oldMask.toString(8)} -> 0; closing fds 0-2\n`,
  );
  for (let fd = 0; fd < 3; fd++) yield* sys.close(fd);
  for (let fd = 0; fd < 3; fd++) yield* sys.open("/dev/null");
  yield* sys.print("this line goes to /dev/null\n");
  for (let i = 0; i < 4; i++) {
    yield* sys.compute(ms(0.2));
    yield* sys.sleep(ms(2));
  }
  return 0;
});

export default defineExample({
  name: "daemon",
  title: "A daemon: double fork, setsid, chdir, umask, close fds",
  description:
    "A daemon must outlive its launcher and never get a controlling terminal. The first child calls setsid() to " +
    "leave the launcher's session; it forks again and exits, so the daemon is in a session it does not lead " +
    "(it cannot acquire a tty) and is adopted by init (PPID 1, TTY ?). It then moves to /, clears its umask and " +
    "points fds 0-2 at /dev/null.",
  setup(m) {
    m.spawn(daemonDemo);
  },
  snapshots: [
    {
      at: ms(1),
      note: "The launcher leads a session on pts/0 (Ss+: session leader, foreground group). The daemon: PPID 1, a session whose leader is gone, no tty (?).",
      show: ["ps", "pstree"],
    },
  ],
});

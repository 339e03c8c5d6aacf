import { defineExample } from "./example.ts";
import { program } from "../src/user/program.ts";
import { ms } from "../src/sim/units.ts";
import { SIGKILL, errnoName } from "../src/user/libc.ts";

/** Forks children that exit at once, and never waits: each zombie keeps its pid. */
export const careless = program("careless", function* (sys) {
  let made = 0;
  for (;;) {
    const pid = yield* sys.fork();
    if (pid === 0) return 0;
    if (pid < 0) {
      yield* sys.print(`  [careless] fork #${made + 1} failed with ${errnoName(pid)}: ${made} zombies hold every free pid\n`);
      break;
    }
    made++;
    yield* sys.compute(ms(0.01));
  }
  yield* sys.pause(); // still never waits
  return 0;
});

export const admin = program("admin", function* (sys, argv) {
  const target = Number(argv[1]);
  yield* sys.sleep(ms(20));
  const probe = yield* sys.fork();
  if (probe === 0) return 0;
  yield* sys.print(`  [admin] my fork: ${errnoName(probe)}. kill -KILL ${target}: init adopts and reaps the zombies\n`);
  yield* sys.kill(target, SIGKILL);
  yield* sys.sleep(ms(1));
  const again = yield* sys.fork();
  if (again === 0) return 0;
  yield* sys.print(`  [admin] fork after the kill returned pid ${again}: pids are free again\n`);
  yield* sys.wait();
  yield* sys.wait();
  return 0;
});

export default defineExample({
  name: "zombie-flood",
  title: "Zombies exhaust the pid space",
  description:
    "A zombie holds its pid until it is reaped. A parent that forks forever and never waits fills the pid space " +
    "(pid_max is 400 here, so 300..399 are usable after the first wrap) and fork() fails with EAGAIN for everyone. " +
    "Killing the parent hands the zombies to init, which reaps them, and the pids come back.",
  options: { pidMax: 400 },
  setup(m) {
    const pid = m.spawn(careless);
    m.spawn(admin, { argv: ["admin", String(pid)] });
  },
  snapshots: [{ at: ms(10), note: "The pid space is full of zombies: ps would list them all; by state:", show: ["states"] }],
  until: ms(40),
});

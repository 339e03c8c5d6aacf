import { defineExample } from "./example.ts";
import { program } from "../src/user/program.ts";
import { ms } from "../src/sim/units.ts";
import { SIGKILL, PR_SET_NAME } from "../src/user/libc.ts";

const NICES = [0, 5, -5];

/** A line of /proc/<pid>/sched by name, as text ("1234.567890"). */
function field(text: string, name: string): string {
  const line = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + ":"));
  return line === undefined ? "?" : line.slice(line.indexOf(":") + 1).trim();
}

export const niceShare = program("watcher", function* (sys) {
  const kids: number[] = [];
  for (const nice of NICES) {
    const pid = yield* sys.fork();
    if (pid === 0) {
      yield* sys.prctl(PR_SET_NAME, `hog${nice > 0 ? "+" : ""}${nice}`);
      yield* sys.sched_setaffinity(0, [0]); // all on CPU 0: one CPU to share
      yield* sys.nice(nice);
      for (;;) yield* sys.compute(ms(1000));
    }
    kids.push(pid);
  }
  yield* sys.sched_setaffinity(0, [1]); // the watcher keeps off CPU 0
  for (const at of [100, 1000]) {
    yield* sys.sleep(ms(at) - (yield* sys.now()));
    yield* sys.print(`  [watcher] t=${at} ms, from /proc/<pid>/sched:\n`);
    yield* sys.print(`      pid  nice       se.vruntime   se.sum_exec_runtime  (ms)\n`);
    for (let i = 0; i < kids.length; i++) {
      const text = String(yield* sys.readFile(`/proc/${kids[i]}/sched`));
      yield* sys.print(`    ${String(kids[i]).padStart(5)}  ${String(NICES[i]).padStart(4)}  ${field(text, "se.vruntime").padStart(16)}  ${field(text, "se.sum_exec_runtime").padStart(20)}\n`);
    }
  }
  for (const pid of kids) yield* sys.kill(pid, SIGKILL);
  for (const pid of kids) yield* sys.waitpid(pid, 0);
  return 0;
});

export default defineExample({
  name: "nice-share",
  title: "Three CPU hogs share one CPU by their nice weights",
  description:
    "The fair class gives each runnable task CPU time in proportion to its weight: nice 0 weighs 1024, nice 5 " +
    "weighs 335 and nice -5 weighs 3121, so on one CPU they get 22.9 %, 7.5 % and 69.7 % of it. Their vruntime " +
    "(run time scaled by 1024 / weight) is what the scheduler keeps even: read in /proc/<pid>/sched, it stays " +
    "close across the three while their sum_exec_runtime parts by weight.",
  setup(m) {
    m.spawn(niceShare, { uid: 0 }); // root: an ordinary user may not lower nice below 0
  },
  snapshots: [{ at: ms(500), note: "Half way: ps shows each hog's nice (NI) and priority (PRI, 19 - nice); its TIME column counts whole seconds, so the watcher reads the CPU time from /proc instead.", show: ["ps"] }],
});

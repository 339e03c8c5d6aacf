import { defineExample } from "./example.ts";
import { program } from "../src/user/program.ts";
import { ms } from "../src/sim/units.ts";
import { SIGCONT, SIGKILL, SIGSTOP, SIGTERM, WCONTINUED, WUNTRACED, describeStatus } from "../src/user/libc.ts";

function hex(s: number): string {
  return `0x${s.toString(16).padStart(4, "0")}`;
}

export const waitStatusDemo = program("waiter", function* (sys) {
  const exiter = yield* sys.fork();
  if (exiter === 0) {
    yield* sys.compute(ms(1));
    return 3;
  }
  const victim = yield* sys.fork();
  if (victim === 0) {
    for (;;) yield* sys.compute(ms(1));
  }
  const stopper = yield* sys.fork();
  if (stopper === 0) {
    for (;;) yield* sys.compute(ms(1));
  }
  const show = function* (what: string, r: { pid: number; status: number }) {
    yield* sys.print(`  ${what.padEnd(28)} pid ${r.pid}  status ${hex(r.status)}  ${describeStatus(r.status)}\n`);
  };
  yield* show("exit(3):", yield* sys.waitpid(exiter, 0));
  yield* sys.kill(victim, SIGKILL);
  yield* show("kill -KILL:", yield* sys.waitpid(victim, 0));
  yield* sys.kill(stopper, SIGSTOP);
  yield* show("kill -STOP (WUNTRACED):", yield* sys.waitpid(stopper, WUNTRACED));
  yield* sys.kill(stopper, SIGCONT);
  yield* show("kill -CONT (WCONTINUED):", yield* sys.waitpid(stopper, WCONTINUED));
  yield* sys.kill(stopper, SIGTERM);
  yield* show("kill -TERM:", yield* sys.waitpid(stopper, 0));
  return 0;
});

export default defineExample({
  name: "wait-status",
  title: "The raw wait statuses",
  description:
    "wait() reports how a child changed state in one 16-bit word: exit(n) gives n << 8; death by signal s gives s " +
    "(| 0x80 if a core was dumped); a stop by signal s gives (s << 8) | 0x7f (with WUNTRACED); a continue gives " +
    "0xffff (with WCONTINUED). WIFEXITED, WEXITSTATUS, WIFSIGNALED, WTERMSIG... decode it.",
  setup(m) {
    m.spawn(waitStatusDemo);
  },
  snapshots: [],
});

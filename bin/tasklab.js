#!/usr/bin/env node
// Thin launcher: registers the TypeScript loader, then hands argv to the CLI.
//
// A user's program (a .ts or .js file given to run or compare) runs in a worker
// thread watched from here: JavaScript cannot interrupt a loop that never
// yields from inside its own thread, so the watchdog stops the worker when one
// program's code has run for TASKLAB_WATCHDOG seconds (default 10) without
// reaching a syscall, and says which one. Everything printed before stays.
import { register } from "tsx/esm/api";
import { Worker } from "node:worker_threads";

const argv = process.argv.slice(2);
const userCode = (argv[0] === "run" || argv[0] === "compare") && argv.slice(1).some((a) => /\.(m?ts|m?js)$/i.test(a));

if (!userCode) {
  register();
  const { main } = await import("../src/cli/main.ts");
  process.exitCode = await main(argv);
} else {
  const limit = Number(process.env.TASKLAB_WATCHDOG ?? 10);
  const hb = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: { argv, hb } });
  let code = null; // the CLI's exit status, by message; else the worker's own (0 when output was cut by | head)
  worker.on("message", (m) => (code = m.code));
  worker.on("error", (e) => {
    process.stderr.write(`tasklab: ${e instanceof Error ? e.message : String(e)}\n`);
    code = 1;
  });
  let seen = -1;
  let still = 0;
  const watch = setInterval(() => {
    const pid = Atomics.load(hb, 0);
    const resumes = Atomics.load(hb, 1);
    if (pid === 0 || resumes !== seen) {
      seen = resumes;
      still = 0;
      return;
    }
    if (++still < limit) return;
    clearInterval(watch);
    process.stderr.write(
      `tasklab: pid ${pid} has run its own JavaScript for ${limit} s without reaching a syscall ` +
        `(a loop without yield*?): stopped. Output above is what was simulated until then. ` +
        `(TASKLAB_WATCHDOG=seconds sets the limit.)\n`,
    );
    code = 3;
    void worker.terminate();
  }, 1000);
  worker.on("exit", (exitCode) => {
    clearInterval(watch);
    process.exitCode = code ?? exitCode;
  });
}

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
import { appendFileSync, statSync, writeFileSync } from "node:fs";

/** The --perfetto file of a run, if any (`--perfetto F` or `--perfetto=F`). */
function perfettoFile(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--perfetto") return args[i + 1];
    if (args[i].startsWith("--perfetto=")) return args[i].slice("--perfetto=".length);
  }
  return undefined;
}

/**
 * Ends the trace a stopped run was streaming: it stops after a whole event, so closing the
 * array makes it a valid trace of the run up to its last write.
 */
function closeTrace(file) {
  let size;
  try {
    size = statSync(file).size;
  } catch {
    return "";
  }
  if (size === 0) {
    writeFileSync(file, '{"traceEvents":[]}\n');
    return `${file}: no trace was written before the stop (it is written a megabyte or a tenth of a second at a time)`;
  }
  appendFileSync(file, '\n],"displayTimeUnit":"ms","otherData":{"generator":"TaskLab","stopped":"watchdog"}}\n');
  return `${file} holds the trace as written before the program began to spin (the last tenth of a second of wall time before may be missing)`;
}

const argv = process.argv.slice(2);
const userCode = (argv[0] === "run" || argv[0] === "compare") && argv.slice(1).some((a) => /\.(m?ts|m?js)$/i.test(a));

if (!userCode) {
  register();
  const { main } = await import("../src/cli/main.ts");
  process.exitCode = await main(argv);
} else {
  const limit = Number(process.env.TASKLAB_WATCHDOG ?? 10);
  if (!(limit >= 1) || !Number.isFinite(limit)) {
    process.stderr.write(`tasklab: TASKLAB_WATCHDOG=${process.env.TASKLAB_WATCHDOG}: expected a number of seconds, at least 1\n`);
    process.exit(2);
  }
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
      pid === -1
        ? `tasklab: the program file's own code (its top level, or setup) has run for ${limit} s without finishing ` +
            `(an endless loop?): stopped. (TASKLAB_WATCHDOG=seconds sets the limit.)\n`
        : `tasklab: pid ${pid} has run its own JavaScript for ${limit} s without reaching a syscall ` +
            `(a loop without yield*?): stopped. Output above is what was simulated until then. ` +
            `(TASKLAB_WATCHDOG=seconds sets the limit.)\n`,
    );
    code = 3;
    void worker.terminate().then(() => {
      const trace = perfettoFile(argv);
      const said = trace === undefined ? "" : closeTrace(trace);
      if (said !== "") process.stderr.write(`tasklab: ${said}\n`);
    });
  }, 1000);
  worker.on("exit", (exitCode) => {
    clearInterval(watch);
    process.exitCode = code ?? exitCode;
  });
}

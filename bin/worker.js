// The CLI in a worker thread (see tasklab.js): reports program resumes to the
// watchdog through the shared heartbeat, and its exit code by message.
import { register } from "tsx/esm/api";
import { parentPort, workerData } from "node:worker_threads";

register();
const { setProgramHeartbeat } = await import("../src/kernel/kernel.ts");
const { main } = await import("../src/cli/main.ts");
setProgramHeartbeat(workerData.hb);
const code = await main(workerData.argv);
parentPort.postMessage({ code });

/**
 * TaskLab runs in the browser as well as in Node (DESIGN 1): the library entry point bundles for the
 * browser platform with nothing from Node, and the bundle runs in a bare JavaScript realm (no process,
 * no require, no console, no timers) to the same output, byte for byte, as the same run in Node.
 */
import { describe, expect, it } from "vitest";
import { build } from "esbuild";
import { createContext, runInContext } from "node:vm";
import * as TaskLab from "../src/index.ts";

/** One run that touches the lifecycle, signals, ps, pstree, /proc and the event log. */
const SCENARIO = `
const { Machine, program, ms, libc, TraceRecorder, hashEvents, ps, pstree, readProcPath } = TaskLab;
const m = new Machine({ cpus: 2, seed: 5 });
const rec = new TraceRecorder(m.kernel);
m.spawn(program("parent", function* (sys) {
  const a = yield* sys.fork();
  if (a === 0) { yield* sys.compute(ms(2)); return 3; }
  const b = yield* sys.fork();
  if (b === 0) { yield* sys.pause(); return 0; }
  yield* sys.sleep(ms(6));                   // a is a zombie now
  yield* sys.kill(b, libc.SIGTERM);
  const w1 = yield* sys.waitpid(a, 0);
  const w2 = yield* sys.waitpid(b, 0);
  yield* sys.print("a " + libc.WEXITSTATUS(w1.status) + " b " + libc.WTERMSIG(w2.status) + "\\n");
  return 0;
}), { nice: 5 });
m.run(ms(4));
const out = { ps: ps(m.kernel), tree: pstree(m.kernel, 1, { pids: true }), stat: readProcPath(m.kernel, null, "/proc/3/stat") };
m.run();
out.output = m.output;
out.events = rec.events.length;
out.hash = hashEvents(rec.events);
out;
`;

describe("browser build", () => {
  it("browserbundle: src/index.ts bundles for the browser with no Node built-in among its inputs", async () => {
    const r = await build({
      entryPoints: [new URL("../src/index.ts", import.meta.url).pathname],
      bundle: true, platform: "browser", format: "iife", globalName: "TaskLab", write: false, metafile: true, logLevel: "silent",
    });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.some((f) => f.endsWith("src/index.ts"))).toBe(true);
    expect(inputs.filter((f) => f.startsWith("node:") || /^(fs|path|os|vm|module|url|worker_threads|child_process)$/.test(f))).toEqual([]);
  });

  it("browserrun: the bundle runs in a bare realm and matches the Node run byte for byte", async () => {
    const r = await build({
      entryPoints: [new URL("../src/index.ts", import.meta.url).pathname],
      bundle: true, platform: "browser", format: "iife", globalName: "TaskLab", write: false, logLevel: "silent",
    });
    const code = r.outputFiles[0]!.text;
    const realm = createContext({}); // the language's own globals only: no process, require, Buffer or timers
    expect(runInContext("[typeof process, typeof require, typeof setTimeout, typeof Buffer]", realm)).toEqual(Array(4).fill("undefined"));
    runInContext(code, realm);
    const inRealm = runInContext(SCENARIO, realm) as Record<string, unknown>;
    const inNode = new Function("TaskLab", `return (() => { ${SCENARIO.replace(/out;\s*$/, "return out;")} })();`)(TaskLab) as Record<string, unknown>;
    expect(inRealm.output).toBe("a 3 b 15\n");
    expect(inRealm.ps).toMatch(/ ZN .* parent <defunct>/); // the first child (nice 5, inherited) is a zombie at 4 ms
    expect(inRealm.tree).toContain("parent(2)");
    expect(inRealm.stat).toMatch(/^3 \(parent\) Z /);
    expect((inRealm.events as number) > 10).toBe(true);
    expect({ ...inRealm }).toEqual({ ...inNode });
  });
});

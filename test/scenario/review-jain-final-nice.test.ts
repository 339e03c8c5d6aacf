import { describe, expect, it } from "vitest";
import { parseWorkload } from "../../src/scenario/load.ts";
import { bootWorkload } from "../../src/scenario/run.ts";
import { MetricsRecorder } from "../../src/observe/metrics.ts";

const run = (text: string) => {
  const { machine } = bootWorkload(parseWorkload(text, "w.yaml"), {});
  const rec = MetricsRecorder.attach(machine);
  machine.run(1e9);
  return rec.finish(machine.now);
};

describe("Jain's index and the nice the metrics show", () => {
  it("a fork step's nice 10 child is weighted as nice 10 (the NI column says 10), as the same task at top level", () => {
    const top = run("cpus: 1\ntasks:\n  - name: a\n    run: [ { compute: 10s } ]\n  - name: b\n    nice: 10\n    run: [ { compute: 10s } ]\n");
    const fork = run("cpus: 1\ntasks:\n  - name: parent\n    run:\n      - fork: { name: a, run: [ { compute: 10s } ] }\n      - fork: { name: b, nice: 10, run: [ { compute: 10s } ] }\n      - wait: all\n");
    const cpu = (r: typeof top) => r.tasks.filter((t) => t.comm === "a" || t.comm === "b").map((t) => [t.comm, t.nice, t.cpuTime]);
    expect(cpu(fork)).toEqual(cpu(top)); // same CPU split, same NI column ...
    expect(top.summary.jain).toBeCloseTo(1, 3);
    expect(fork.summary.jain).toBeCloseTo(1, 3); // ... bug: 0.610 (weighted as nice 0, its nice at creation)
  });
});

import { describe, expect, it } from "vitest";
import { parseWorkload } from "../../src/scenario/load.ts";
import { bootWorkload } from "../../src/scenario/run.ts";

describe("sched step order", () => {
  it("a deadline task that goes back to normal and pins itself in one sched step ends pinned, with nothing refused", () => {
    const text = "cpus: 2\nuntil: 30ms\ntasks:\n  - name: d\n    policy: deadline\n    runtime: 2ms\n    deadline: 10ms\n    period: 10ms\n    run:\n      - compute: 1ms\n      - sched: { policy: normal, affinity: [1] }\n      - compute: 20ms\n";
    const { machine } = bootWorkload(parseWorkload(text, "w.yaml"), {});
    machine.run(10e6);
    const d = [...machine.kernel.tasks.values()].find((t) => t.comm === "d")!;
    expect(d.policy).toBe(0);
    expect(machine.output).toBe(""); // bug: "sched at line 11: sched_setaffinity([1]): -EBUSY\n"
    expect(d.cpusAllowed === null ? null : [...d.cpusAllowed].flatMap((v, i) => (v ? [i] : []))).toEqual([1]); // bug: still on both CPUs
  });
});

/** getrandom draws from the engine's seeded generator: the seed decides the run, and only the seed. */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";
import { program } from "../../src/user/program.ts";
import { TraceRecorder } from "../../src/observe/log.ts";

function run(seed: number): { out: string; hash: string } {
  const m = new Machine({ cpus: 2, seed });
  const rec = new TraceRecorder(m.kernel);
  const bursty = program("bursty", function* (sys) {
    for (let i = 0; i < 20; i++) {
      const r = yield* sys.getrandom();
      yield* sys.compute(100_000 + (r % 2_000_000)); // 0.1 to 2.1 ms
      yield* sys.sleep(1_000_000);
    }
    const pid = yield* sys.getpid();
    yield* sys.print(`${pid} done at ${yield* sys.now()}\n`);
  });
  for (let i = 0; i < 4; i++) m.spawn(bursty);
  m.run();
  return { out: m.output, hash: rec.hash() };
}

describe("getrandom and the seed", () => {
  it("seedrun: the same seed gives a byte-identical trace; another seed gives another run", () => {
    const a = run(7);
    const b = run(7);
    const c = run(8);
    expect(b.hash).toBe(a.hash);
    expect(b.out).toBe(a.out);
    expect(c.hash).not.toBe(a.hash);
  });
});

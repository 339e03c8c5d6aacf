/**
 * Signal delivery to threads is live: see sigliveness.ts. TASKLAB_SIGLIVE_SEEDS sets how many seeds
 * (default 150; 30,000 passed when it was written, and breaking retarget_shared_pending or the
 * recalculation after a mask change is caught within a few hundred).
 */
import { describe, expect, it } from "vitest";
import { runSeed } from "./sigliveness.ts";

describe("signal delivery to threads", () => {
  it("sigliveness: no process signal is left with no thread to take it, and every one generated is handled", () => {
    const seeds = Number(process.env.TASKLAB_SIGLIVE_SEEDS ?? 150);
    const bad: string[] = [];
    for (let s = 1; s <= seeds && bad.length < 5; s++) {
      const problems = runSeed(s, { everyEvent: true });
      if (problems.length > 0) bad.push(`seed ${s}: ${problems.slice(0, 3).join(" | ")}`);
    }
    expect(bad).toEqual([]);
  }, 120_000);
});

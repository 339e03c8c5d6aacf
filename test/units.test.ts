import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatDuration, ms, ns, parseDuration, sec, TimeParseError, us } from "../src/sim/units.ts";

describe("unit helpers", () => {
  it("convert to integer nanoseconds", () => {
    expect(ns(5)).toBe(5);
    expect(ns(2.6)).toBe(3);
    expect(us(250)).toBe(250_000);
    expect(us(1.5)).toBe(1_500);
    expect(ms(3)).toBe(3_000_000);
    expect(ms(0.1)).toBe(100_000);
    expect(sec(2)).toBe(2_000_000_000);
    expect(sec(0.1)).toBe(100_000_000);
    for (const v of [us(0.3), ms(0.7), sec(0.3), sec(1.1)]) expect(Number.isInteger(v)).toBe(true);
  });
});

describe("parseDuration", () => {
  it.each([
    ["250us", 250_000],
    ["250µs", 250_000],
    ["250μs", 250_000],
    ["3ms", 3_000_000],
    ["2s", 2_000_000_000],
    ["1.5ms", 1_500_000],
    ["0.1s", 100_000_000],
    ["100ns", 100],
    ["500", 500],
    ["0", 0],
    ["0s", 0],
    ["3 ms", 3_000_000],
    ["3\tms", 3_000_000],
    ["  2s ", 2_000_000_000],
    [".5ms", 500_000],
    ["1e3us", 1_000_000],
    ["+4us", 4_000],
    ["-0", 0],
    ["1.0004ns", 1],
  ] as const)("%s -> %d ns", (text, want) => {
    const got = parseDuration(text);
    expect(got).toBe(want);
    expect(Number.isInteger(got)).toBe(true);
  });

  it("accepts numbers as nanoseconds", () => {
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration(1234)).toBe(1234);
    expect(parseDuration(2.4)).toBe(2);
    expect(Object.is(parseDuration(-0), 0)).toBe(true);
  });

  it.each(["3 parsecs", "", "ms", "3m", "3 s s", "1,5ms", "3MS", "0x10", "ten", "3ms5", "NaN", "Infinity", "1e400s"])(
    "rejects %j",
    (text) => {
      expect(() => parseDuration(text)).toThrow(TimeParseError);
    },
  );

  it("rejects negative and non-finite values", () => {
    expect(() => parseDuration("-3ms")).toThrow(/negative durations are not allowed/);
    expect(() => parseDuration(-1)).toThrow(/negative/);
    expect(() => parseDuration(Number.NaN)).toThrow(TimeParseError);
    expect(() => parseDuration(Number.POSITIVE_INFINITY)).toThrow(TimeParseError);
    expect(() => parseDuration("1e20s")).toThrow(/too large/);
  });

  it("names the input and what it is for in the message", () => {
    expect(() => parseDuration("3 parsecs", "--until")).toThrow(
      'invalid duration "3 parsecs" for --until: expected a number with unit ns, us, ms or s (e.g. 250us, 3ms, 2s)',
    );
    expect(() => parseDuration("3 parsecs")).toThrow(
      'invalid duration "3 parsecs": expected a number with unit ns, us, ms or s (e.g. 250us, 3ms, 2s)',
    );
    try {
      parseDuration("x", "--tick");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TimeParseError);
      expect(e).toBeInstanceOf(Error);
      expect((e as TimeParseError).name).toBe("TimeParseError");
      expect((e as TimeParseError).input).toBe("x");
      expect((e as TimeParseError).what).toBe("--tick");
    }
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0"],
    [1, "1ns"],
    [750, "750ns"],
    [999, "999ns"],
    [1_000, "1us"],
    [1_500, "1.5us"],
    [250_000, "250us"],
    [999_999, "999.999us"],
    [999_999_999, "1s"],
    [3_000_000, "3ms"],
    [1_234_567, "1.235ms"],
    [2_250_000_000, "2.25s"],
    [3_600_000_000_000, "3600s"],
    [-1_500, "-1.5us"],
  ] as const)("%d -> %s", (v, want) => {
    expect(formatDuration(v)).toBe(want);
  });

  it("round-trips through parseDuration to within the printed precision", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 15 }), (v) => {
        const text = formatDuration(v);
        expect(text).toMatch(/^(0|\d+(\.\d{1,3})?(ns|us|ms|s))$/);
        const back = parseDuration(text);
        // at most 3 decimals in the chosen unit: error below 0.0005 of the unit, i.e. 0.05% of the value
        expect(Math.abs(back - v)).toBeLessThanOrEqual(Math.max(0.5, v * 0.0005 + 1));
      }),
    );
  });

  it("is exact for values with few significant digits", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999 }), fc.constantFrom(1, 1_000, 1_000_000), (v, scale) => {
        expect(parseDuration(formatDuration(v * scale))).toBe(v * scale);
      }),
    );
  });
});

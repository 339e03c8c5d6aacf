/**
 * Simulated time units.
 *
 * Simulated time is an integer number of nanoseconds held in a plain JS
 * number (exact up to 2^53 ns, i.e. about 104 days of simulated time).
 * This module has no node:* imports so it also runs in browsers.
 */

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_SEC = 1_000_000_000;

/** Nanoseconds, rounded to an integer. */
export function ns(x: number): number {
  return Math.round(x);
}

/** Microseconds to integer nanoseconds. */
export function us(x: number): number {
  return Math.round(x * NS_PER_US);
}

/** Milliseconds to integer nanoseconds. */
export function ms(x: number): number {
  return Math.round(x * NS_PER_MS);
}

/** Seconds to integer nanoseconds. */
export function sec(x: number): number {
  return Math.round(x * NS_PER_SEC);
}

/** Thrown by {@link parseDuration} for text that is not a valid duration. */
export class TimeParseError extends Error {
  override name = "TimeParseError";
  constructor(
    message: string,
    readonly input: string | number,
    readonly what: string,
  ) {
    super(message);
  }
}

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: NS_PER_US,
  "\u00b5s": NS_PER_US, // MICRO SIGN
  "\u03bcs": NS_PER_US, // GREEK SMALL LETTER MU
  ms: NS_PER_MS,
  s: NS_PER_SEC,
};

const EXPECTED = "expected a number with unit ns, us, ms or s (e.g. 250us, 3ms, 2s)";

// sign, number (with optional fraction and exponent), optional whitespace, optional unit
const DURATION_RE = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)[ \t]*(ns|us|\u00b5s|\u03bcs|ms|s)?$/;

/**
 * Parse a duration into integer nanoseconds.
 *
 * Accepts `250us`, `3ms`, `2s`, `1.5ms`, `100ns`, `3 ms`, `µs` as well as `us`,
 * and a bare number (string or number) meaning nanoseconds. Negative, non-finite
 * and unsafe-integer results are rejected with a {@link TimeParseError}.
 *
 * `what` names the thing being parsed (e.g. `--until`) in the error message.
 */
export function parseDuration(text: string | number, what = "duration"): number {
  const forWhat = what === "duration" ? "" : ` for ${what}`;
  const shown = typeof text === "string" ? JSON.stringify(text) : String(text);
  const fail = (why: string): never => {
    throw new TimeParseError(`invalid duration ${shown}${forWhat}: ${why}`, text, what);
  };

  let value: number;
  if (typeof text === "number") {
    if (!Number.isFinite(text)) fail(EXPECTED);
    if (text < 0) fail("negative durations are not allowed");
    value = text;
  } else if (typeof text === "string") {
    const m = DURATION_RE.exec(text.trim());
    if (!m) return fail(EXPECTED);
    const [, sign, num, unit] = m;
    const scale = UNIT_NS[unit ?? "ns"]!;
    const n = Number(num);
    if (!Number.isFinite(n)) fail(EXPECTED);
    if (sign === "-" && n !== 0) fail("negative durations are not allowed");
    value = n * scale;
  } else {
    return fail(EXPECTED);
  }

  const out = Math.round(value);
  if (!Number.isSafeInteger(out)) fail(`too large (the limit is ${formatDuration(Number.MAX_SAFE_INTEGER)})`);
  return out === 0 ? 0 : out; // normalise -0
}

/** Format `x` with at most 3 decimals, trailing zeros trimmed. */
function trim3(x: number): string {
  return x.toFixed(3).replace(/\.?0+$/, "");
}

/**
 * Short human form of a duration in nanoseconds: `0`, `750ns`, `1.5us`,
 * `3ms`, `2.25s` (at most 3 decimals, trailing zeros trimmed).
 */
export function formatDuration(ns: number): string {
  if (Number.isNaN(ns)) return "NaN";
  if (ns === 0) return "0";
  if (ns < 0) return "-" + formatDuration(-ns);
  if (!Number.isFinite(ns)) return "inf";
  const steps: Array<[number, string]> = [
    [1, "ns"],
    [NS_PER_US, "us"],
    [NS_PER_MS, "ms"],
    [NS_PER_SEC, "s"],
  ];
  for (let i = 0; i < steps.length; i++) {
    const [scale, unit] = steps[i]!;
    const next = steps[i + 1];
    const text = trim3(ns / scale);
    // Move up a unit when the value (after rounding to 3 decimals) reaches 1000.
    if (next && Number(text) >= 1000) continue;
    if (text === "0") return "0"; // only possible for sub-0.0005ns inputs
    return text + unit;
  }
  /* c8 ignore next */
  return String(ns);
}

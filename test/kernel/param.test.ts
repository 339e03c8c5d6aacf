/** Machine parameters: what a bad value is told (kernel/param.ts checkParams, ParamError). */
import { describe, expect, it } from "vitest";
import { Machine } from "../../src/user/machine.ts";

describe("parameter errors", () => {
  it("paramshown: a bad duration is shown with units when whole, as given when not (never rounded into a valid-looking value); Infinity as Infinity", () => {
    expect(() => new Machine({ rrTimeslice: 1_000_000.5 })).toThrow("invalid rrTimeslice 1000000.5: expected a whole number of ns from 1ms to 10s");
    expect(() => new Machine({ rrTimeslice: 20_000_000_000 })).toThrow("invalid rrTimeslice 20s: expected a whole number of ns from 1ms to 10s");
    expect(() => new Machine({ hz: Infinity })).toThrow("invalid hz Infinity: expected an integer from 100 to 1000");
    expect(() => new Machine({ rlimitCore: -5 })).toThrow("invalid rlimitCore -5");
    expect(() => new Machine({ rlimitCore: Infinity })).not.toThrow();
  });
});

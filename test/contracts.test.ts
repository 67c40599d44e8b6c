// What TypeScript copies of the native addon, compared with the addon's own: the perf event names,
// the error codes, and the layout of the drain buffer. A change on one side fails here instead of
// drifting silently.
import { describe, expect, it } from "vitest";
import { NATIVE_ERROR_CODES } from "../src/errors.js";
import { addon, PERF_EVENTS } from "../src/native.js";
import { DRAIN_LAYOUT, readMaskBytes } from "../src/sampling/sampler.js";

describe("contracts between the addon and TypeScript", () => {
  const contracts = addon.contracts();

  it("perf events: the same names, in the same order", () => {
    expect([...PERF_EVENTS]).toEqual(contracts.perfEvents);
  });

  it("error codes: the same codes", () => {
    expect([...NATIVE_ERROR_CODES]).toEqual(contracts.errorCodes);
  });

  it("the drain buffer: the same column widths and read-mask width for every source count", () => {
    const { readMaskBytes: nativeMask, ...widths } = contracts.drain;
    expect(widths).toEqual({ ...DRAIN_LAYOUT });
    expect(nativeMask).toHaveLength(33);
    expect(nativeMask.map((_, sources) => readMaskBytes(sources))).toEqual(nativeMask);
  });
});

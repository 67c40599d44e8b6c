// Durations as a person writes them in a study config ("500ms", "2m"), held in seconds so that every
// other part of emp deals with one unit.
import { UsageError } from "../errors.js";

const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** What a duration may look like, for error messages. */
export const DURATION_FORMS = "seconds (30) or a number with a unit (500ms, 5s, 2m, 1h)";

/**
 * Seconds in `value`: a number of seconds, or a string of a number with an optional unit
 * (ms, s, m, h; none means seconds). Negative, non-finite or malformed values are a UsageError.
 */
export function parseDurationS(value: number | string): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$/.exec(value);
    if (match) {
      const amount = Number(match[1]);
      // Dividing keeps "9ms" at 0.009, where 9 × 0.001 gives 0.009000000000000001.
      return match[2] === "ms" ? amount / 1000 : amount * (SECONDS_PER_UNIT[match[2] ?? "s"] ?? 1);
    }
  }
  throw new UsageError(`'${value}' is not a duration`, { suggestion: `write ${DURATION_FORMS}` });
}

// Option values as commander hands them (strings), validated by zod: a number with its rule, a
// comma-separated list. "", "1e3x" or "0" where a rate is wanted are mistakes named by their flag.
import { z } from "zod";
import { UsageError } from "../errors.js";

export function numberOption(flag: string, check: (n: number) => boolean, rule: string) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n) || !check(n)) {
        ctx.addIssue({ code: "custom", message: `${flag} takes ${rule}, got '${value}'` });
        return z.NEVER;
      }
      return n;
    });
}

export function listOption() {
  return z
    .string()
    .optional()
    .transform((value) =>
      value === undefined
        ? undefined
        : value
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s !== ""),
    );
}

/** `--config HASH` of report and plot: a study config's hash, or a prefix of one (hex digits). */
export function configOption() {
  return z
    .string()
    .regex(/^[0-9a-f]+$/i, "--config takes a config hash or the first characters of one (hex digits)")
    .optional();
}

/** `--min-run-ms`: how long a run must last at least, ms (a day at most). */
export function minRunMsOption() {
  return numberOption("--min-run-ms", (n) => n > 0 && n <= 86_400_000, "milliseconds in (0, 86400000]");
}

/** Most runs (or warmups) one measurement takes: a day of 100 ms runs, far below a float's whole numbers. */
export const MAX_RUNS = 1_000_000;

/** A whole number in [min, max]. */
export const whole =
  (min: number, max = MAX_RUNS) =>
  (n: number) =>
    Number.isInteger(n) && n >= min && n <= max;

/**
 * Commander's argument parser for a flag that may be repeated and comma-separated
 * (`--domain a,b --domain c`): gathers every name, in order, into one list.
 */
export function collectList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  ];
}

/** The options of `emp <command>` through `schema`; every problem in one UsageError (exit 2). */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown, command: string): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError(parsed.error.issues.map((issue) => issue.message).join("; "), {
      suggestion: `see \`emp ${command} --help\``,
    });
  }
  return parsed.data;
}

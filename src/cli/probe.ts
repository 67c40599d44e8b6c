// `emp probe`: every sensor with its status, reason and fix, the host, and optionally a
// cross-check of domains that two interfaces expose.

import { Command } from "commander";
import { z } from "zod";
import { crossCheck } from "../probe/cross-check.js";
import { formatProbeReport } from "../probe/format.js";
import { buildProbeReport } from "../probe/report.js";
import { summaryOf } from "./commands.js";
import { parseOptions } from "./options.js";

const MAX_CROSS_CHECK_S = 600;

const optionsSchema = z.object({
  json: z.boolean().default(false),
  // Commander hands over a string, or `true` when the flag is given without a value.
  crossCheck: z
    .union([z.literal(true), z.string()])
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      if (value === true) return 1;
      const seconds = Number(value);
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_CROSS_CHECK_S) {
        ctx.addIssue({
          code: "custom",
          message: `--cross-check takes seconds in (0, ${MAX_CROSS_CHECK_S}], got '${value}'`,
        });
        return z.NEVER;
      }
      return seconds;
    }),
});

export type ProbeOptions = z.output<typeof optionsSchema>;

export function parseProbeOptions(raw: unknown): ProbeOptions {
  return parseOptions(optionsSchema, raw, "probe");
}

export async function runProbe(options: ProbeOptions): Promise<void> {
  const report = buildProbeReport();
  if (options.crossCheck !== undefined)
    report.crossCheck = await crossCheck(report.sensors, options.crossCheck);
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatProbeReport(report));
}

export function probeCommand(): Command {
  return new Command("probe")
    .description(summaryOf("probe"))
    .option("--json", "print one JSON object on stdout")
    .option(
      "--cross-check [seconds]",
      "where two interfaces share a domain, compare their power over SECONDS (1)",
    )
    .action(async (raw: unknown) => runProbe(parseProbeOptions(raw)));
}

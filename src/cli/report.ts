// `emp report DIR...`: did energy change between commits (in history order) or labels, by how
// much, and is it more than noise; a table for a person, or JSON.

import { Command } from "commander";
import { z } from "zod";
import { CORRECTIONS, type Correction } from "../analysis/correction.js";
import { UsageError } from "../errors.js";
import { buildReport, REPORT_DEFAULTS, type Report, type ReportOptions } from "../report/analyze.js";
import { formatReport } from "../report/format.js";
import { configNote, ENERGY_KINDS, type EnergyKind, loadResults, studyConfigs } from "../report/load.js";
import { summaryOf } from "./commands.js";
import { collectList, configOption, numberOption, parseOptions, whole } from "./options.js";

const optionsSchema = z.object({
  json: z.boolean().default(false),
  alpha: numberOption("--alpha", (n) => n > 0 && n < 1, "a level strictly between 0 and 1"),
  domain: z.array(z.string()).optional(),
  reference: z.string().min(1, "--reference takes a label or a commit").optional(),
  correction: z
    .enum(CORRECTIONS as [Correction, ...Correction[]], {
      error: (issue) => `--correction takes ${CORRECTIONS.join(" or ")}, got '${String(issue.input)}'`,
    })
    .default(REPORT_DEFAULTS.correction),
  energy: z
    .enum(ENERGY_KINDS as [EnergyKind, ...EnergyKind[]], {
      error: (issue) => `--energy takes ${ENERGY_KINDS.join(" or ")}, got '${String(issue.input)}'`,
    })
    .default(REPORT_DEFAULTS.energy),
  minSegment: numberOption("--min-segment", whole(1), "a whole number of commits, at least 1"),
  includeFailed: z.boolean().default(false),
  config: configOption(),
});

export interface ReportCliOptions extends ReportOptions {
  dirs: string[];
  json: boolean;
  /** A study config's hash or prefix; default: the one measured last. */
  config?: string;
}

export function parseReportOptions(dirs: string[], raw: unknown): ReportCliOptions {
  const o = parseOptions(optionsSchema, raw, "report");
  if (dirs.length === 0) {
    throw new UsageError("no results directory given", {
      suggestion: "name one or more: `emp report emp-results/<run>` (written by emp measure or emp run)",
    });
  }
  return {
    dirs,
    json: o.json,
    alpha: o.alpha ?? REPORT_DEFAULTS.alpha,
    correction: o.correction,
    energy: o.energy,
    domains: o.domain,
    reference: o.reference,
    minSegment: o.minSegment ?? REPORT_DEFAULTS.minSegment,
    includeFailed: o.includeFailed,
    config: o.config,
  };
}

export function runReport(options: ReportCliOptions): Report {
  const results = loadResults(options.dirs, { config: options.config });
  for (const line of results.repaired) process.stderr.write(`emp: ${line}\n`);
  const report = buildReport(results, options);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...report, study_configs: studyConfigs(results) }, null, 2)}\n`);
  } else {
    const notes = results.dirs.flatMap((d) => configNote(d, options.config !== undefined) ?? []);
    process.stdout.write(`${notes.map((n) => `${n}\n\n`).join("")}${formatReport(report)}`);
    for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
  }
  return report;
}

export function reportCommand(): Command {
  return new Command("report")
    .description(summaryOf("report"))
    .argument("[dirs...]", "results directories written by emp measure or emp run")
    .option("--json", "print the report as JSON on stdout")
    .option("--alpha <level>", `significance level (default ${REPORT_DEFAULTS.alpha})`)
    .option("--domain <name>", "only this energy domain (repeat or comma-separate for several)", collectList)
    .option(
      "--reference <label>",
      "compare every label (or commit, by sha prefix) with this one (default: the first label)",
    )
    .option(
      "--correction <method>",
      `multiple-comparison correction: holm or bh (default ${REPORT_DEFAULTS.correction})`,
    )
    .option(
      "--energy <kind>",
      `net (idle baseline subtracted) or raw energy (default ${REPORT_DEFAULTS.energy})`,
    )
    .option(
      "--config <hash>",
      "of a study run with several configs, this one (a unique prefix will do; default: the one measured last)",
    )
    .option(
      "--min-segment <commits>",
      `fewest commits on each side of a change point (default ${REPORT_DEFAULTS.minSegment})`,
    )
    .option(
      "--include-failed",
      "count runs whose command failed (exit != 0, a signal) in the statistics (default: left out, and counted)",
    )
    .action((dirs: string[], raw: unknown) => {
      runReport(parseReportOptions(dirs, raw));
    });
}

// `emp measure [options] -- COMMAND [ARGS...]`: energy per run of a command, idle baseline
// subtracted, with statistics; progress for a person on stderr, the summary on stdout.

import { Command } from "commander";
import { z } from "zod";
import { UsageError } from "../errors.js";
import { everyRunFailed, firstFailure, formatSummary, formatWarnings } from "../measure/format.js";
import { resolveCommand } from "../measure/preflight.js";
import { type MeasureOptions, measure } from "../measure/session.js";
import type { MeasureSummary } from "../measure/summary.js";
import { boundedSummary } from "../measure/summary-bounds.js";
import { shellLine } from "../util/table.js";
import { summaryOf } from "./commands.js";
import { freshLine } from "./fresh-line.js";
import { parseOptions } from "./options.js";
import { recordedSession } from "./recorded-session.js";
import { addSessionFlags, sessionOptionRules, sessionOptions, timestampedDir } from "./session-options.js";

const optionsSchema = z.object({
  ...sessionOptionRules,
  prepare: z.string().optional(),
});

export interface MeasureCliOptions extends MeasureOptions {
  json: boolean;
  outDir: string;
  /** Replace an earlier emp measure session in outDir (otherwise exit 2). */
  force: boolean;
}

export function parseMeasureOptions(command: string[], raw: unknown): MeasureCliOptions {
  const o = parseOptions(optionsSchema, raw, "measure");
  if (command.length === 0) {
    throw new UsageError("no command to measure", {
      suggestion: "put it after --: `emp measure -- ./bench --quick`",
    });
  }
  resolveCommand(command[0] ?? "");
  const { json, force, ...session } = sessionOptions(o);
  return { ...session, command, prepare: o.prepare, json, force, outDir: o.out ?? timestampedDir() };
}

export async function runMeasure(options: MeasureCliOptions): Promise<MeasureSummary> {
  const { json: _json, outDir: _outDir, force: _force, ...config } = options;
  const { summary, signalExitCode } = await recordedSession(
    { ...options, config, warmups: options.warmup ?? 0, runs: options.repeat ?? 1 },
    (session) => measure({ ...options, ...session }),
  );
  printSummary(summary, options.json);
  if (signalExitCode !== undefined) process.exitCode = signalExitCode;
  else if (
    summary.failed_runs > 0 ||
    summary.sampling.read_errors > 0 ||
    // A baseline that could not be measured under runs that have energy: those are raw only. (A
    // counter that never moved, such as a DRAM zone a laptop reads as 0, has neither: as before.)
    Object.entries(summary.baseline.power_w).some(([domain, w]) => w === null && domain in summary.domains)
  )
    process.exitCode = 1;
  return summary;
}

/**
 * The summary: with --json the JSON alone on stdout; otherwise the table on stdout, on a line of its
 * own after the command's output, and the warnings on stderr. Where every run failed there is no
 * energy of the command's work to show: one message names the first failure.
 */
function printSummary(summary: MeasureSummary, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(boundedSummary(summary), null, 2)}\n`);
  else {
    if (!everyRunFailed(summary)) {
      freshLine(process.stdout);
      process.stdout.write(formatSummary(summary));
    }
    process.stderr.write(formatWarnings(summary));
  }
  if (everyRunFailed(summary)) {
    process.stderr.write(`emp: every run failed: ${firstFailure(summary)}\n`);
    process.stderr.write(
      `  fix: run \`${shellLine(summary.command)}\` by hand to see why; the runs are kept in ${summary.out}\n`,
    );
  }
}

export function measureCommand(): Command {
  const command = new Command("measure")
    .description(summaryOf("measure"))
    .argument("[command...]", "the command to measure, after --")
    .option(
      "--prepare <cmd>",
      "shell command run before every run, unmeasured (output in --out's prepare.log)",
    )
    .passThroughOptions();
  return addSessionFlags(command, "run").action(async (words: string[], raw: unknown) => {
    await runMeasure(parseMeasureOptions(words, raw));
  });
}

// `emp run CONFIG`: the pipeline over a project's commits; flags override the config file. Progress
// for a person on stderr, the table (or with --json the summary alone) on stdout.

import { Command } from "commander";
import { z } from "zod";
import { loadStudy } from "../config/load.js";
import type { ResolvedStudy, StudyFlags } from "../config/resolve.js";
import { slotName } from "../ledger/run-name.js";
import { everyStudyRunFailed, firstStudyFailure, formatStudy } from "../pipeline/format.js";
import { runStudy, type StudyProgress } from "../pipeline/session.js";
import type { StudySummary } from "../pipeline/summary.js";
import { formatDurationS } from "../util/table.js";
import { summaryOf } from "./commands.js";
import { Interrupts } from "./interrupt.js";
import { listOption, MAX_RUNS, minRunMsOption, numberOption, parseOptions, whole } from "./options.js";

const flagsSchema = z.object({
  out: z.string().optional(),
  repeat: numberOption("--repeat", whole(1), `a whole number of runs from 1 to ${MAX_RUNS}`),
  warmup: numberOption("--warmup", whole(0), `a whole number of runs from 0 to ${MAX_RUNS}`),
  sampleHz: numberOption("--sample-hz", (n) => n > 0 && n <= 100_000, "a rate in Hz in (0, 100000]"),
  jobs: numberOption("--jobs", whole(1), "a whole number of parallel builds, at least 1"),
  order: z.string().optional(),
  seed: numberOption("--seed", Number.isInteger, "a whole number"),
  baseline: numberOption("--baseline", (n) => n > 0 && n <= 3600, "seconds in (0, 3600]"),
  cooldown: numberOption("--cooldown", (n) => n >= 0 && n <= 3600, "seconds in [0, 3600]"),
  timeout: numberOption("--timeout", (n) => n > 0, "seconds above 0"),
  sources: listOption(),
  waitDescendants: z.boolean().optional(),
  minRunMs: minRunMsOption(),
  shard: z.string().optional(),
  json: z.boolean().default(false),
});

export function parseRunFlags(raw: unknown): { flags: StudyFlags; json: boolean } {
  const o = parseOptions(flagsSchema, raw, "run");
  const flags: StudyFlags = {
    out: o.out,
    repeat: o.repeat,
    warmup: o.warmup,
    sampleHz: o.sampleHz,
    jobs: o.jobs,
    order: o.order,
    seed: o.seed,
    baselineS: o.baseline,
    cooldownS: o.cooldown,
    timeoutS: o.timeout,
    waitDescendants: o.waitDescendants,
    minRunMs: o.minRunMs,
    sources: o.sources,
    shard: o.shard,
  };
  for (const key of Object.keys(flags) as (keyof StudyFlags)[])
    if (flags[key] === undefined) delete flags[key];
  return { flags, json: o.json };
}

/** Progress for a person: only when stderr is a terminal, so logs and pipes stay clean. */
export function progressPrinter(): {
  onLog?: (line: string) => void;
  onProgress?: (event: StudyProgress) => void;
} {
  if (!process.stderr.isTTY) return {};
  return {
    onLog: (line) => process.stderr.write(`\r\x1b[K${line}\n`),
    onProgress: (event) => {
      if (event.kind === "prepared") {
        const what = event.skipped ? `skipped: ${event.skipped}` : event.reused ? "reused" : "built";
        process.stderr.write(`\r\x1b[Kprepared ${event.done}/${event.total} ${event.commit} (${what})\n`);
        return;
      }
      const kind = slotName(event.slot);
      const energy = event.netJ === undefined ? "" : `  ${event.netJ.toFixed(3)} J net`;
      const time = event.durationS === undefined ? "" : `  ${event.durationS.toFixed(3)} s`;
      process.stderr.write(
        `\r\x1b[K[${event.done}/${event.total}] ${event.commit} ${kind}${time}${energy}  ETA ${formatDurationS(event.etaS)}`,
      );
      if (event.done === event.total) process.stderr.write("\n");
    },
  };
}

/** Runs a study with Ctrl-C wired to the session, prints the result and sets the exit code. */
export async function runResolvedStudy(study: ResolvedStudy, json: boolean): Promise<StudySummary> {
  const interrupts = new Interrupts();
  try {
    const summary = await runStudy(study, { signal: interrupts.signal, ...progressPrinter() });
    printStudy(summary, json);
    if (summary.interrupted) process.exitCode = interrupts.exitCode ?? 130;
    else if (
      summary.skipped.length > 0 ||
      summary.failed_runs > 0 ||
      summary.failed_stages > 0 ||
      Object.keys(summary.baseline_unknown).length > 0
    )
      process.exitCode = 1;
    return summary;
  } finally {
    interrupts.dispose();
  }
}

/**
 * With --json the JSON alone on stdout; otherwise the table on stdout and the warnings on stderr.
 * A rerun with nothing left to measure prints its one line instead. Where every run failed there is no energy of the command's work to show: one message names the
 * first failure instead of a table.
 */
function printStudy(summary: StudySummary, json: boolean): void {
  if (summary.session === null) {
    // Nothing was measured: the one line says so (on stderr with --json, for a person).
    if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    (json ? process.stderr : process.stdout).write(formatStudy(summary));
    for (const w of summary.warnings) process.stderr.write(`warning: ${w}\n`);
    return;
  }
  const allFailed = everyStudyRunFailed(summary);
  if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    if (!allFailed) process.stdout.write(formatStudy(summary));
    for (const w of summary.warnings) process.stderr.write(`warning: ${w}\n`);
  }
  if (allFailed) {
    process.stderr.write(`emp: every run failed: ${firstStudyFailure(summary)}\n`);
    process.stderr.write(
      `  fix: see the run logs in ${summary.out}/logs, fix the study's command, then run again (the failed runs are kept in the ledger)\n`,
    );
  }
}

/** The flags of `emp run` that override a study config; emp find and emp compare-commits take them too. */
export function withStudyOptions(command: Command): Command {
  return command
    .option("--out <dir>", "session directory (default: the config's `out`)")
    .option("--repeat <n>", "measured runs per commit")
    .option("--warmup <n>", "unmeasured runs at the start of each visit to a commit")
    .option("--sample-hz <hz>", "sampling rate")
    .option("--jobs <n>", "commits prepared (built) in parallel")
    .option("--order <order>", "interleaved, shuffled or grouped")
    .option("--seed <n>", "seed of the shuffled order")
    .option("--baseline <seconds>", "idle baseline before the runs")
    .option("--cooldown <seconds>", "idle time between runs")
    .option("--timeout <seconds>", "longest a run may take before it is killed")
    .option("--sources <list>", "energy interfaces to read: msr,perf-power,powercap,nvml")
    .option("--wait-descendants", "a run lasts until every process its command started has ended")
    .option(
      "--min-run-ms <ms>",
      "each run lasts at least this long: a shorter command runs back to back, as many times as calibrated per commit",
    )
    .option("--json", "print only the JSON summary on stdout");
}

export function runCommand(): Command {
  return withStudyOptions(
    new Command("run")
      .description(summaryOf("run"))
      .argument("<config>", "the study config (YAML or JSON; `emp init` writes a starter)"),
  )
    .option(
      "--shard <k/n>",
      "measure only the K-th of N balanced slices of the study's commits (1/4 is the first of four); `emp merge` joins them",
    )
    .action(async (config: string, raw: unknown) => {
      const { flags, json } = parseRunFlags(raw);
      await runResolvedStudy(loadStudy(config, flags), json);
    });
}

// `emp measure [options] -- COMMAND [ARGS...]`: energy per run of a command, idle baseline
// subtracted, with statistics; progress for a person on stderr, the summary on stdout.
import { join } from "node:path";
import { Command } from "commander";
import { z } from "zod";
import { UsageError } from "../errors.js";
import { manifestProcess } from "../ledger/liveness.js";
import { everyRunFailed, firstFailure, formatSummary, formatWarnings } from "../measure/format.js";
import { claimOutputDir, prepareOutputDir, resolveCommand } from "../measure/preflight.js";
import { gatherProvenance, provenanceWarnings } from "../measure/provenance.js";
import { SessionRecorder } from "../measure/recorder.js";
import { chooseBackend, MEASURE_DEFAULTS, type MeasureOptions, measure } from "../measure/session.js";
import type { MeasureSummary } from "../measure/summary.js";
import { boundedSummary } from "../measure/summary-bounds.js";
import { addon, PERF_EVENTS, type PerfEventName } from "../native.js";
import { SpaceReserve } from "../results/space-reserve.js";
import { shellLine } from "../util/table.js";
import { freshLine } from "./fresh-line.js";
import { Interrupts } from "./interrupt.js";
import { MeasureProgress } from "./measure-progress.js";
import { listOption, MAX_RUNS, minRunMsOption, numberOption, parseOptions, whole } from "./options.js";
import { StatusLine } from "./status-line.js";

const optionsSchema = z.object({
  sampleHz: numberOption("--sample-hz", (n) => n > 0 && n <= 100_000, "a rate in Hz in (0, 100000]"),
  repeat: numberOption("--repeat", whole(1), `a whole number of runs from 1 to ${MAX_RUNS}`),
  warmup: numberOption("--warmup", whole(0), `a whole number of runs from 0 to ${MAX_RUNS}`),
  baseline: numberOption("--baseline", (n) => n > 0 && n <= 3600, "seconds in (0, 3600]"),
  cooldown: numberOption("--cooldown", (n) => n >= 0 && n <= 3600, "seconds in [0, 3600]"),
  postBaseline: numberOption("--post-baseline", (n) => n > 0 && n <= 3600, "seconds in (0, 3600]"),
  minRunMs: minRunMsOption(),
  prepare: z.string().optional(),
  tdp: numberOption("--tdp", (n) => n > 0 && n <= 10_000, "watts in (0, 10000]"),
  sources: listOption(),
  counters: listOption().superRefine((names, ctx) => {
    for (const name of names ?? []) {
      if (!PERF_EVENTS.includes(name as PerfEventName)) {
        ctx.addIssue({
          code: "custom",
          message: `unknown counter '${name}' (known: ${PERF_EVENTS.join(", ")})`,
        });
      }
    }
  }),
  out: z.string().optional(),
  label: z.string().optional(),
  waitDescendants: z.boolean().default(false),
  includeFailed: z.boolean().default(false),
  force: z.boolean().default(false),
  json: z.boolean().default(false),
});

export interface MeasureCliOptions extends MeasureOptions {
  json: boolean;
  outDir: string;
  /** Replace an earlier emp measure session in outDir (otherwise exit 2). */
  force: boolean;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-").replace(/Z$/, "");
}

export function parseMeasureOptions(command: string[], raw: unknown): MeasureCliOptions {
  const o = parseOptions(optionsSchema, raw, "measure");
  if (command.length === 0) {
    throw new UsageError("no command to measure", {
      suggestion: "put it after --: `emp measure -- ./bench --quick`",
    });
  }
  resolveCommand(command[0] ?? "");
  return {
    command,
    sampleHz: o.sampleHz ?? MEASURE_DEFAULTS.sampleHz,
    repeat: o.repeat ?? MEASURE_DEFAULTS.repeat,
    warmup: o.warmup ?? MEASURE_DEFAULTS.warmup,
    baselineS: o.baseline ?? MEASURE_DEFAULTS.baselineS,
    cooldownS: o.cooldown ?? MEASURE_DEFAULTS.cooldownS,
    postBaselineS: o.postBaseline,
    minRunMs: o.minRunMs,
    prepare: o.prepare,
    sources: o.sources,
    tdpW: o.tdp,
    counters: (o.counters as PerfEventName[] | undefined) ?? MEASURE_DEFAULTS.counters,
    label: o.label,
    waitDescendants: o.waitDescendants,
    includeFailed: o.includeFailed,
    json: o.json,
    outDir: o.out ?? `emp-results/${timestamp()}`,
    force: o.force,
  };
}

export async function runMeasure(options: MeasureCliOptions): Promise<MeasureSummary> {
  const reports = addon.probe();
  const backend = chooseBackend(options, reports);
  const out = prepareOutputDir(options.outDir);
  const lock = claimOutputDir(out, options.force, (line) => process.stderr.write(`emp: ${line}\n`));
  try {
    const reserve = SpaceReserve.hold(out);
    try {
      return await measureInto(out, options, reports, backend, reserve);
    } finally {
      reserve.release();
    }
  } finally {
    lock.release();
  }
}

async function measureInto(
  out: string,
  options: MeasureCliOptions,
  reports: ReturnType<typeof addon.probe>,
  backend: ReturnType<typeof chooseBackend>,
  /** Released when the session fails, so that a full disk still has room to say so. */
  reserve: SpaceReserve,
): Promise<MeasureSummary> {
  const provenance = gatherProvenance(reports, backend, options.sources);
  const recorder = new SessionRecorder(out, provenance);
  recorder.open(
    backend.channels,
    backend.domains.map((d) => d.domain),
    options.counters ?? [],
  );
  const { json: _json, outDir: _outDir, force: _force, ...config } = options;
  // Which process writes the session: a "running" manifest whose process is gone was left by a killed emp.
  const owner = manifestProcess();
  recorder.manifest({ config, provenance, process: owner, state: "running" });
  const interrupts = new Interrupts();
  const status = StatusLine.forStderr();
  const progress = status && new MeasureProgress(status, options.warmup ?? 0, options.repeat ?? 1);
  interrupts.signal.addEventListener("abort", () => progress?.interrupted(), { once: true });
  // A second signal exits at once: the files are still closed and the state recorded.
  const onForcedExit = () => {
    reserve.release();
    try {
      recorder.close();
      recorder.manifest({ config, provenance, process: owner, state: "interrupted" });
    } catch (error) {
      process.stderr.write(`emp: could not close ${out}: ${(error as Error).message}\n`);
    }
  };
  process.once("exit", onForcedExit);
  try {
    const summary = await measure({
      ...options,
      out,
      backend,
      recorder,
      // With --json, stdout carries the JSON alone: the command's output goes to stderr.
      commandStdout: options.json ? "stderr" : undefined,
      warnings: provenanceWarnings(provenance),
      shellLog: join(out, "prepare.log"),
      signal: interrupts.signal,
      onProgress: progress?.onProgress,
    });
    progress?.end();
    const state = summary.interrupted ? "interrupted" : "complete";
    recorder.manifest({ config, provenance, process: owner, state });
    printSummary(summary, options.json);
    if (summary.interrupted) process.exitCode = interrupts.exitCode ?? 130;
    else if (
      summary.failed_runs > 0 ||
      summary.sampling.read_errors > 0 ||
      // A baseline that could not be measured under runs that have energy: those are raw only. (A
      // counter that never moved, such as a DRAM zone a laptop reads as 0, has neither: as before.)
      Object.entries(summary.baseline.power_w).some(([domain, w]) => w === null && domain in summary.domains)
    )
      process.exitCode = 1;
    return summary;
  } catch (error) {
    progress?.end();
    reserve.release();
    try {
      recorder.manifest({
        config,
        provenance,
        process: owner,
        state: "failed",
        error: (error as Error).message,
      });
    } catch (manifestError) {
      process.stderr.write(
        `emp: ${out}/manifest.json still reads "running": ${(manifestError as Error).message}\n`,
      );
    }
    throw error;
  } finally {
    process.off("exit", onForcedExit);
    interrupts.dispose();
  }
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
  return new Command("measure")
    .description("measure the energy of COMMAND over repeated runs, idle baseline subtracted")
    .argument("[command...]", "the command to measure, after --")
    .option("--sample-hz <hz>", `sampling rate (default ${MEASURE_DEFAULTS.sampleHz})`)
    .option("--repeat <n>", `measured runs (default ${MEASURE_DEFAULTS.repeat})`)
    .option("--warmup <n>", `unmeasured runs first (default ${MEASURE_DEFAULTS.warmup})`)
    .option("--baseline <seconds>", `idle baseline before the runs (default ${MEASURE_DEFAULTS.baselineS})`)
    .option("--cooldown <seconds>", "idle time between runs (default 0)")
    .option("--post-baseline <seconds>", "idle baseline after the runs too, with a drift warning")
    .option(
      "--min-run-ms <ms>",
      "each run lasts at least this long: a shorter command runs back to back inside it, the count calibrated first; results per iteration (default off)",
    )
    .option(
      "--prepare <cmd>",
      "shell command run before every run, unmeasured (output in --out's prepare.log)",
    )
    .option(
      "--sources <list>",
      "energy interfaces to read: msr,perf-power,powercap,nvml (default: the best per domain)",
    )
    .option(
      "--tdp <watts>",
      "TDP of the estimate used where no energy sensor can be read (default 5 W per CPU)",
    )
    .option("--counters <list>", `perf counters per run (default ${MEASURE_DEFAULTS.counters.join(",")})`)
    .option("--out <dir>", "results directory (default emp-results/<timestamp>)")
    .option("--label <text>", "a label for this measurement, kept in the results")
    .option("--force", "replace the emp measure session already in --out (default: refuse, exit 2)")
    .option(
      "--wait-descendants",
      "a run lasts until every process the command started has ended (default: until the command exits; the rest are ended)",
    )
    .option(
      "--include-failed",
      "count runs whose command failed (exit != 0, a signal) in the statistics (default: left out, and counted)",
    )
    .option("--json", "print only the JSON summary on stdout (the command's output goes to stderr)")
    .passThroughOptions()
    .action(async (command: string[], raw: unknown) => {
      await runMeasure(parseMeasureOptions(command, raw));
    });
}

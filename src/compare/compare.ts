// `compare(options)`: is B cheaper than A, by how much, and how sure are we? Several shell commands
// measured in one session: one idle baseline for all, then their runs interleaved in cycles (so the
// machine's drift lands on every command alike), each against the reference (analyze.ts).
import type { Correction } from "../analysis/correction.js";
import { UsageError } from "../errors.js";
import { runFailed } from "../measure/run-failure.js";
import { commandStats } from "../measure/run-stats.js";
import type { RunOrder } from "../measure/schedule.js";
import {
  chooseBackend,
  type MeasureOptions,
  runNames,
  runnerOptions,
  runRecord,
  runSummary,
  sessionWarnings,
} from "../measure/session.js";
import { runSession, type SessionRun } from "../measure/session-runner.js";
import { netJPerUnit } from "../measure/work.js";
import { type CommandSamples, commandOutliers, compareCommands, comparisonWarnings } from "./analyze.js";
import type { CommandSummary, CompareSummary } from "./summary.js";

export interface CompareCommand {
  /** What results call it; unique within a comparison. */
  name: string;
  /** A shell command line, run with `sh -c`. */
  command: string;
}

/** emp measure's options (each command's runs are measured as emp measure's), and what a comparison adds. */
export interface CompareOptions extends Omit<MeasureOptions, "command" | "prepare"> {
  commands: CompareCommand[];
  /** The name of the command the others are compared against; default the first. */
  reference?: string;
  /** Default "shuffled": each cycle runs every command once, in an order drawn from `seed`. */
  order?: RunOrder;
  /** Seed of the shuffle and of the bootstrap; default one drawn at random (and reported). */
  seed?: number;
  /** Run before every run, unmeasured: one command for all, or one per command. */
  prepare?: string[];
  /** Run once per command before the baseline, unmeasured (`{NAME}` parameters already filled in). */
  setup?: string[];
  /** Run once per command after the last run, also when the session failed. */
  cleanup?: string[];
  /** Significance level of the verdicts, after the correction (default 0.05). */
  alpha?: number;
  /** Correction over every comparison (default Holm). */
  correction?: Correction;
}

export const COMPARE_DEFAULTS = { order: "shuffled", alpha: 0.05, correction: "holm" } as const;

const FIX = "see `emp compare --help`";

/** Checks what can be checked before any baseline time is spent; returns the reference's index. */
export function checkCommands(
  options: Pick<CompareOptions, "commands" | "reference" | "prepare" | "setup" | "cleanup">,
): number {
  const { commands } = options;
  if (commands.length < 2) {
    throw new UsageError(
      commands.length === 0 ? "no commands to compare" : "emp compare needs two commands or more",
      {
        suggestion:
          "give each as a quoted shell command: `emp compare 'gzip -k f' 'zstd -k f'` (or one with --parameter-scan); `emp measure` measures one",
      },
    );
  }
  for (const c of commands) {
    if (c.command.trim() === "")
      throw new UsageError(`the command named '${c.name}' is empty`, { suggestion: FIX });
  }
  const seen = new Set<string>();
  for (const c of commands) {
    if (seen.has(c.name)) {
      throw new UsageError(`two commands are named '${c.name}'`, {
        suggestion: "give each its own name with -n (with {NAME} in it where a parameter varies)",
      });
    }
    seen.add(c.name);
  }
  for (const [flag, list] of [
    ["--prepare", options.prepare],
    ["--setup", options.setup],
    ["--cleanup", options.cleanup],
  ] as const) {
    if (list !== undefined && list.length !== 1 && list.length !== commands.length) {
      throw new UsageError(`${flag} is given ${list.length} times for ${commands.length} commands`, {
        suggestion: `give it once (for every command) or once per command, in their order`,
      });
    }
  }
  if (options.reference === undefined) return 0;
  const reference = commands.findIndex((c) => c.name === options.reference);
  if (reference < 0) {
    throw new UsageError(`--reference ${options.reference}: no command has that name`, {
      suggestion: `pick one of: ${commands.map((c) => `'${c.name}'`).join(", ")}`,
    });
  }
  return reference;
}

/** A seed for the shuffle when none is given: recorded, so the order can be repeated with --seed. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

export async function compare(options: CompareOptions): Promise<CompareSummary> {
  const reference = checkCommands(options);
  const backend = options.backend ?? chooseBackend(options);
  const recorder = options.recorder;
  const seed = options.seed ?? randomSeed();
  const order = options.order ?? COMPARE_DEFAULTS.order;
  const names = options.commands.map((c) => c.name);
  const perCommand = (list: string[] | undefined, i: number) =>
    list === undefined ? undefined : (list[i] ?? list[0]);
  const result = await runSession({
    commands: options.commands.map((c, i) => ({
      name: c.name,
      file: "sh",
      args: ["-c", c.command],
      prepare: perCommand(options.prepare, i),
      setup: perCommand(options.setup, i),
      cleanup: perCommand(options.cleanup, i),
    })),
    ...runnerOptions(options, backend),
    order,
    seed,
    onRun: (run) =>
      recorder?.run(
        runRecord(run, {
          label: options.label,
          command: names[run.command],
          work: options.work,
          metrics: options.metrics,
        }),
      ),
  });
  const nameOf = (run: SessionRun) => names[run.command] ?? "";
  const warnings = [
    ...(options.warnings ?? []),
    ...result.warnings,
    ...sessionWarnings(backend, result, nameOf),
  ];
  const includeFailed = options.includeFailed ?? false;
  const domains = backend.domains.map((d) => d.domain);
  const samples: CommandSamples[] = [];
  const commands: CommandSummary[] = options.commands.map((c, i) => {
    const measured = result.runs.filter((r) => r.command === i && !r.warmup);
    const stats = commandStats(backend, measured, result.baselineW, includeFailed, options);
    for (const w of stats.warnings) warnings.push(`${c.name}: ${w}`);
    const counted = includeFailed ? measured : measured.filter((r) => !runFailed(r));
    const s: CommandSamples = {
      name: c.name,
      energyJ: Object.fromEntries(
        domains.map((d) => [
          d,
          counted.map((r) => (r.energy[d]?.netJ ?? Number.NaN) / r.iterations).filter(Number.isFinite),
        ]),
      ),
      durationS: counted.map((r) => r.durationS / r.iterations),
      workJ: Object.fromEntries(
        domains.map((d) => [
          d,
          counted
            .map((r) => netJPerUnit(r.energy[d]?.netJ, r, options.work, options.metrics))
            .filter((v): v is number => v !== null && Number.isFinite(v)),
        ]),
      ),
      metrics: Object.fromEntries(
        (options.metrics ?? []).map((m) => [
          m.name,
          counted.map((r) => r.metrics[m.name]).filter((v): v is number => v !== null && v !== undefined),
        ]),
      ),
    };
    samples.push(s);
    const d = stats.duration;
    return {
      name: c.name,
      command: c.command,
      iterations: result.iterations[i] ?? 1,
      runs_counted: stats.runs_counted,
      failed_runs: stats.failed_runs,
      domains: stats.domains,
      duration_s: {
        median: d.median_s,
        mean: d.mean_s,
        stdev: d.stdev_s,
        ci95: d.ci95_s,
        min: d.min_s,
        max: d.max_s,
      },
      counters_median: stats.counters_median,
      work: stats.work,
      metrics: stats.metrics,
      outliers: commandOutliers(s),
    };
  });
  const analysis = {
    alpha: options.alpha ?? COMPARE_DEFAULTS.alpha,
    correction: options.correction ?? COMPARE_DEFAULTS.correction,
    seed,
  };
  const comparisons = compareCommands(samples, reference, domains, analysis);
  warnings.push(...comparisonWarnings(samples, commands, comparisons, { ...analysis, reference }));
  const kinds = runNames(result.runs);
  const summary: CompareSummary = {
    out: options.out ?? null,
    estimated: backend.estimated,
    label: options.label ?? null,
    order_policy: order,
    seed,
    order: result.runs.map(nameOf),
    reference: names[reference] ?? "",
    alpha: analysis.alpha,
    correction: analysis.correction,
    sampling: backend.sampling(),
    resolution: backend.resolution(),
    baseline: {
      duration_s: result.baseline ? Number(result.baseline.endNs - result.baseline.startNs) / 1e9 : 0,
      power_w: Object.fromEntries(domains.map((d) => [d, result.baselineW[d] ?? null])),
    },
    min_run_ms: options.minRunMs ?? null,
    work: options.work ?? null,
    failures_included: includeFailed,
    commands,
    comparisons,
    runs: result.runs.map((run, i) => ({
      ...runSummary(run, `${nameOf(run)} ${kinds[i]}`),
      command: nameOf(run),
    })),
    interrupted: result.runs.filter((r) => !r.calibration).length < result.requested,
    warnings: [
      ...warnings,
      ...backend.warnings().filter((w) => !result.runs.some((r) => r.warnings.includes(w))),
    ],
  };
  recorder?.summary(summary);
  return summary;
}

// `emp compare [options] 'CMD A' 'CMD B' ...`: is B cheaper than A, by how much, and how sure are we?
// One baseline, interleaved runs, each command against the reference; a table for a person, JSON
// with --json, and hyperfine's exports.

import { Command } from "commander";
import { z } from "zod";
import { CORRECTIONS, type Correction } from "../analysis/correction.js";
import { COMPARE_DEFAULTS, type CompareOptions, checkCommands, compare } from "../compare/compare.js";
import { type Exports, writeExports } from "../compare/export.js";
import { formatComparison } from "../compare/format.js";
import { expandCommands, fill, type ParameterList, type ParameterScan } from "../compare/parameters.js";
import type { CompareSummary } from "../compare/summary.js";
import { UsageError } from "../errors.js";
import { checkWritableFile } from "../measure/preflight.js";
import { RUN_ORDERS, type RunOrder } from "../measure/schedule.js";
import { MEASURE_DEFAULTS } from "../measure/session.js";
import { boundedSummary } from "../measure/summary-bounds.js";
import { summaryOf } from "./commands.js";
import { freshLine } from "./fresh-line.js";
import { WORD } from "./multi-word.js";
import { numberOption, parseOptions, whole } from "./options.js";
import { recordedSession } from "./recorded-session.js";
import { addSessionFlags, sessionOptionRules, sessionOptions, timestampedDir } from "./session-options.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

const optionsSchema = z.object({
  ...sessionOptionRules,
  name: z.array(z.string()).default([]),
  reference: z.string().min(1, "--reference takes a command's name").optional(),
  order: z
    .enum(RUN_ORDERS as [RunOrder, ...RunOrder[]], {
      error: (issue) => `--order takes ${RUN_ORDERS.join(", ")}, got '${String(issue.input)}'`,
    })
    .default(COMPARE_DEFAULTS.order),
  seed: numberOption("--seed", whole(0, 2 ** 32 - 1), "a whole number from 0 to 4294967295"),
  alpha: numberOption("--alpha", (n) => n > 0 && n < 1, "a level strictly between 0 and 1"),
  correction: z
    .enum(CORRECTIONS as [Correction, ...Correction[]], {
      error: (issue) => `--correction takes ${CORRECTIONS.join(" or ")}, got '${String(issue.input)}'`,
    })
    .default(COMPARE_DEFAULTS.correction),
  prepare: z.array(z.string()).optional(),
  setup: z.string().optional(),
  cleanup: z.string().optional(),
  parameterScan: z.string().optional(),
  parameterStep: numberOption("--parameter-step", (n) => n > 0, "a number above 0"),
  parameterList: z.array(z.string()).default([]),
  exportMarkdown: z.string().optional(),
  exportCsv: z.string().optional(),
  exportJson: z.string().optional(),
});

export interface CompareCliOptions extends CompareOptions {
  json: boolean;
  outDir: string;
  force: boolean;
  exports: Exports;
}

function parseScan(joined: string | undefined, step: number | undefined): ParameterScan | undefined {
  if (joined === undefined) return undefined;
  const [name = "", lo = "", hi = ""] = joined.split(WORD);
  const [l, h] = [Number(lo), Number(hi)];
  if (lo.trim() === "" || hi.trim() === "" || !Number.isFinite(l) || !Number.isFinite(h)) {
    throw new UsageError(`--parameter-scan ${name} ${lo} ${hi}: LO and HI must be numbers`, {
      suggestion: "for example --parameter-scan threads 1 8",
    });
  }
  if (step === undefined && (!Number.isInteger(l) || !Number.isInteger(h))) {
    throw new UsageError(`--parameter-scan ${name} ${lo} ${hi}: decimal bounds need --parameter-step`, {
      suggestion: "give the step, e.g. --parameter-step 0.5",
    });
  }
  return { name, lo: l, hi: h, step };
}

function parseLists(joined: readonly string[]): ParameterList[] {
  return joined.map((j) => {
    const [name = "", values = ""] = j.split(WORD);
    return { name, values: values.split(",").filter((v) => v !== "") };
  });
}

export function parseCompareOptions(templates: string[], raw: unknown): CompareCliOptions {
  const o = parseOptions(optionsSchema, raw, "compare");
  if (o.name.length > templates.length) {
    throw new UsageError(`${o.name.length} names (-n) for ${templates.length} commands`, {
      suggestion: "give at most one -n per command, in the commands' order",
    });
  }
  const expanded = expandCommands(
    templates.map((command, i) => ({ command, name: o.name[i] })),
    parseScan(o.parameterScan, o.parameterStep),
    parseLists(o.parameterList),
  );
  const commands = expanded.map(({ name, command }) => ({ name, command }));
  if (o.prepare !== undefined && o.prepare.length !== 1 && o.prepare.length !== templates.length) {
    throw new UsageError(`--prepare is given ${o.prepare.length} times for ${templates.length} commands`, {
      suggestion: "give it once (for every command) or once per command, in their order",
    });
  }
  // Each command's own, with its parameters filled in, as hyperfine does.
  const perCommand = (list: readonly string[] | undefined) =>
    list === undefined
      ? undefined
      : expanded.map((c) => fill((list[c.template] ?? list[0]) as string, c.values));
  const { json, force, ...session } = sessionOptions(o);
  const options: CompareCliOptions = {
    ...session,
    commands,
    reference: o.reference,
    order: o.order,
    seed: o.seed,
    alpha: o.alpha ?? COMPARE_DEFAULTS.alpha,
    correction: o.correction,
    prepare: perCommand(o.prepare),
    setup: perCommand(o.setup === undefined ? undefined : [o.setup]),
    cleanup: perCommand(o.cleanup === undefined ? undefined : [o.cleanup]),
    json,
    outDir: o.out ?? timestampedDir("compare-"),
    force,
    exports: { markdown: o.exportMarkdown, csv: o.exportCsv, json: o.exportJson },
  };
  checkCommands(options);
  for (const [flag, path] of [
    ["--export-markdown", o.exportMarkdown],
    ["--export-csv", o.exportCsv],
    ["--export-json", o.exportJson],
  ] as const) {
    if (path !== undefined) checkWritableFile(path, flag);
  }
  return options;
}

export async function runCompare(options: CompareCliOptions): Promise<CompareSummary> {
  const { json: _json, outDir: _outDir, force: _force, exports: _exports, ...config } = options;
  const commands = options.commands.length;
  const { summary, signalExitCode } = await recordedSession(
    {
      ...options,
      config,
      warmups: (options.warmup ?? MEASURE_DEFAULTS.warmup) * commands,
      runs: (options.repeat ?? MEASURE_DEFAULTS.repeat) * commands,
      showCommand: true,
    },
    (session) => compare({ ...options, ...session }),
  );
  const json = boundedSummary(summary);
  writeExports(summary, options.exports, json);
  if (options.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  else {
    freshLine(process.stdout);
    process.stdout.write(formatComparison(summary));
    process.stderr.write(summary.warnings.map((w) => `warning: ${w}\n`).join(""));
  }
  const counted = summary.commands.filter((c) => c.runs_counted > 0);
  if (signalExitCode !== undefined) process.exitCode = signalExitCode;
  else if (counted.length < summary.commands.length) {
    const failed = summary.commands.filter((c) => c.runs_counted === 0).map((c) => `'${c.name}'`);
    process.stderr.write(
      `emp: every run of ${failed.join(", ")} failed: nothing to compare ${failed.length === 1 ? "it" : "them"} with\n`,
    );
    process.stderr.write(`  fix: run the command by hand to see why; the runs are kept in ${summary.out}\n`);
    process.exitCode = 1;
  } else if (summary.commands.some((c) => c.failed_runs > 0) || summary.sampling.read_errors > 0) {
    process.exitCode = 1;
  }
  return summary;
}

export function compareCommand(): Command {
  const command = new Command("compare")
    .description(summaryOf("compare"))
    .argument("[commands...]", "the commands, each one quoted shell command line")
    .option("-n, --name <name>", "name of the next command, in order (repeat; {PARAM} is filled in)", collect)
    .option("--reference <name>", "the command the others are compared with (default: the first)")
    .option(
      "--order <order>",
      `interleaved, shuffled or grouped (default ${COMPARE_DEFAULTS.order}: each cycle in an order drawn from --seed)`,
    )
    .option("--seed <n>", "seed of the shuffled order and of the bootstrap (default: drawn, and reported)")
    .option("--alpha <level>", `significance level of the verdicts (default ${COMPARE_DEFAULTS.alpha})`)
    .option("--correction <method>", "holm or bh, over every comparison (default holm)")
    .option(
      "--prepare <cmd>",
      "shell command run before every run, unmeasured (once for all, or once per command)",
      collect,
    )
    .option("--setup <cmd>", "shell command run once per command before the baseline ({PARAM} is filled in)")
    .option("--cleanup <cmd>", "shell command run once per command after the last run ({PARAM} is filled in)")
    .option("--parameter-scan <name lo hi>", "one command per value from LO to HI: {NAME} in the commands")
    .option("--parameter-step <step>", "step of --parameter-scan (default 1)")
    .option(
      "--parameter-list <name values>",
      "one command per value of a,b,c: {NAME} in the commands (repeat to combine)",
      collect,
    )
    .option("--export-markdown <file>", "write the comparison as a Markdown table")
    .option("--export-csv <file>", "write the statistics and comparisons as CSV")
    .option("--export-json <file>", "write the JSON summary");
  return addSessionFlags(command, "run of each command").action(async (templates: string[], raw: unknown) => {
    await runCompare(parseCompareOptions(templates, raw));
  });
}

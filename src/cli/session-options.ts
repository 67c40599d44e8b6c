// The options emp measure and emp compare share (how a session samples, runs and records), declared
// once: commander's flags, zod's rules, and the measurement options they give.
import type { Command } from "commander";
import { z } from "zod";
import { MEASURE_DEFAULTS } from "../measure/session.js";
import { parseMetric, parseWork } from "../measure/work.js";
import { PERF_EVENTS, type PerfEventName } from "../native.js";
import { WORD } from "./multi-word.js";
import { listOption, MAX_RUNS, minRunMsOption, numberOption, whole } from "./options.js";

/** zod rules of the shared options, keyed as commander names them. */
export const sessionOptionRules = {
  sampleHz: numberOption("--sample-hz", (n) => n > 0 && n <= 100_000, "a rate in Hz in (0, 100000]"),
  repeat: numberOption("--repeat", whole(1), `a whole number of runs from 1 to ${MAX_RUNS}`),
  warmup: numberOption("--warmup", whole(0), `a whole number of runs from 0 to ${MAX_RUNS}`),
  baseline: numberOption("--baseline", (n) => n > 0 && n <= 3600, "seconds in (0, 3600]"),
  cooldown: numberOption("--cooldown", (n) => n >= 0 && n <= 3600, "seconds in [0, 3600]"),
  postBaseline: numberOption("--post-baseline", (n) => n > 0 && n <= 3600, "seconds in (0, 3600]"),
  minRunMs: minRunMsOption(),
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
  work: z.string().optional(),
  metric: z.array(z.string()).default([]),
};

type SessionRaw = z.output<z.ZodObject<typeof sessionOptionRules>>;

/** The measurement options the shared flags give, defaults filled in. */
export function sessionOptions(o: SessionRaw) {
  return {
    sampleHz: o.sampleHz ?? MEASURE_DEFAULTS.sampleHz,
    repeat: o.repeat ?? MEASURE_DEFAULTS.repeat,
    warmup: o.warmup ?? MEASURE_DEFAULTS.warmup,
    baselineS: o.baseline ?? MEASURE_DEFAULTS.baselineS,
    cooldownS: o.cooldown ?? MEASURE_DEFAULTS.cooldownS,
    postBaselineS: o.postBaseline,
    minRunMs: o.minRunMs,
    sources: o.sources,
    tdpW: o.tdp,
    counters: (o.counters as PerfEventName[] | undefined) ?? MEASURE_DEFAULTS.counters,
    label: o.label,
    waitDescendants: o.waitDescendants,
    includeFailed: o.includeFailed,
    json: o.json,
    force: o.force,
    work: o.work === undefined ? undefined : parseWork(...(o.work.split(WORD) as [string, string])),
    metrics: o.metric.map(parseMetric),
  };
}

/** Adds the shared flags to `command`; `what` names the thing measured in their help. */
export function addSessionFlags(command: Command, what: "run" | "run of each command"): Command {
  return command
    .option("--sample-hz <hz>", `sampling rate (default ${MEASURE_DEFAULTS.sampleHz})`)
    .option(
      "--repeat <n>",
      `measured runs${what === "run" ? "" : " of each command"} (default ${MEASURE_DEFAULTS.repeat})`,
    )
    .option(
      "--warmup <n>",
      `unmeasured runs first${what === "run" ? "" : ", of each command"} (default ${MEASURE_DEFAULTS.warmup})`,
    )
    .option("--baseline <seconds>", `idle baseline before the runs (default ${MEASURE_DEFAULTS.baselineS})`)
    .option("--cooldown <seconds>", "idle time between runs (default 0)")
    .option("--post-baseline <seconds>", "idle baseline after the runs too, with a drift warning")
    .option(
      "--min-run-ms <ms>",
      "each run lasts at least this long: a shorter command runs back to back inside it, the count calibrated first; results per iteration (default off)",
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
    .option(
      "--force",
      "replace the emp measure or compare session already in --out (default: refuse, exit 2)",
    )
    .option(
      "--wait-descendants",
      "a run lasts until every process the command started has ended (default: until the command exits; the rest are ended)",
    )
    .option(
      "--include-failed",
      "count runs whose command failed (exit != 0, a signal) in the statistics (default: left out, and counted)",
    )
    .option("--json", "print only the JSON summary on stdout (the commands' output goes to stderr)")
    .option(
      "--work <n unit>",
      "fixed work of one run (one iteration), e.g. --work 256 MB: results gain net J per unit of work",
    )
    .option(
      "--metric <name=regex>",
      "a number from each run's output: NAME[UNIT]=REGEX (first group), e.g. 'tput[MB/s]=([0-9.]+) MB/s'; a rate (UNIT/s) or an amount gives J per unit of work without --work (repeat for more; output is shown after each run)",
      (value: string, previous: string[] = []) => [...previous, value],
    );
}

/** A results folder named for when it was made. */
export function timestampedDir(prefix = ""): string {
  return `emp-results/${prefix}${new Date().toISOString().replace(/[:.]/g, "-").replace(/Z$/, "")}`;
}

// `emp compare-commits BASE HEAD`: a pull request's gate, as `asv continuous` is for time. Both
// commits are measured interleaved in one session of the study, then each energy domain and time is
// compared with step-change.ts (Mann-Whitney at alpha); HEAD fails the gate where it is significantly
// costlier (or slower) than BASE by more than fail_above percent.
import { basename, dirname, join } from "node:path";
import { median } from "simple-statistics";
import { type StepChange, stepChange } from "../analysis/step-change.js";
import type { ResolvedStudy } from "../config/resolve.js";
import { UsageError } from "../errors.js";
import type { CommitInfo } from "../git/commit.js";
import { Mirror } from "../git/repository.js";
import { Ledger } from "../ledger/ledger.js";
import { commitSamples, TIME } from "./commit-runs.js";
import { runStudy, type StudyOptions } from "./session.js";

export interface GateOptions {
  base: string;
  head: string;
  alpha: number;
  /** HEAD fails where it is significantly costlier than BASE by more than this, percent. */
  failAbovePct: number;
}

export interface GateQuantity extends StepChange {
  /** An energy domain (net J per run) or `time` (s per run). */
  quantity: string;
  unit: "J" | "s";
  base_median: number;
  head_median: number;
  base_runs: number;
  head_runs: number;
  verdict: "costlier" | "cheaper" | "slower" | "faster" | "no significant difference";
  /** Significantly costlier (or slower) by more than fail_above_pct. */
  fails: boolean;
}

export interface GateSummary {
  out: string;
  base: { sha: string; short: string; subject: string };
  head: { sha: string; short: string; subject: string };
  alpha: number;
  fail_above_pct: number;
  estimated: boolean;
  quantities: GateQuantity[];
  /** Some quantity fails: `emp compare-commits` exits 3. */
  failed: boolean;
  warnings: string[];
  interrupted: boolean;
}

export async function compareCommits(
  study: ResolvedStudy,
  options: GateOptions,
  studyOptions: StudyOptions = {},
): Promise<GateSummary> {
  const { config } = study;
  // The refs are resolved once, so that the folder and the runs name the same two commits.
  const located = await Mirror.open(config.repo, join(config.out, "repo.git"));
  const [base, head] = (await located.resolve({ refs: [options.base] })).concat(
    await located.resolve({ refs: [options.head] }),
  ) as [CommitInfo, CommitInfo];
  if (base.sha === head.sha) {
    throw new UsageError(`BASE ${options.base} and HEAD ${options.head} are the same commit`, {
      suggestion: "give the pull request's target branch as BASE and its head as HEAD",
    });
  }
  // A pair of its own by default: runs of BASE from an earlier gate would not be interleaved with these.
  const out =
    study.origins.out === "default"
      ? join(dirname(config.out), `${basename(config.out)}-compare-${base.short}-${head.short}`)
      : config.out;
  const pair: ResolvedStudy = {
    ...study,
    config: { ...config, out, commits: { refs: [base.sha, head.sha] }, paths: [], shard: undefined },
  };
  const summary = await runStudy(pair, studyOptions);
  const described = (c: CommitInfo) => ({ sha: c.sha, short: c.short, subject: c.subject });
  const result: GateSummary = {
    out,
    base: described(base),
    head: described(head),
    alpha: options.alpha,
    fail_above_pct: options.failAbovePct,
    estimated: summary.estimated,
    quantities: [],
    failed: false,
    warnings: [...summary.warnings],
    interrupted: summary.interrupted,
  };
  if (summary.interrupted) return result;
  const skipped = summary.skipped.find((s) => s.commit === base.sha || s.commit === head.sha);
  if (skipped !== undefined) {
    const which = skipped.commit === base.sha ? `BASE ${base.short}` : `HEAD ${head.short}`;
    throw new UsageError(`${which} does not build: ${skipped.reason}`, {
      suggestion: `see ${skipped.log ?? `the logs in ${out}/logs`}`,
    });
  }

  const ledger = Ledger.open(out, { readOnly: true });
  let runs: ReturnType<Ledger["runs"]>;
  try {
    runs = ledger.runs({ configHash: study.hash });
  } finally {
    ledger.close();
  }
  const before = commitSamples(runs, base.sha);
  const after = commitSamples(runs, head.sha);
  for (const [quantity, baseValues] of before) {
    const headValues = after.get(quantity);
    if (headValues === undefined || baseValues.length === 0 || headValues.length === 0) continue;
    const change = stepChange(baseValues, headValues, options.alpha, 0);
    const up = (change.ratio ?? 1) > 1;
    const time = quantity === TIME;
    const verdict = !change.significant
      ? "no significant difference"
      : time
        ? up
          ? "slower"
          : "faster"
        : up
          ? "costlier"
          : "cheaper";
    result.quantities.push({
      quantity,
      unit: time ? "s" : "J",
      base_median: median(baseValues),
      head_median: median(headValues),
      base_runs: baseValues.length,
      head_runs: headValues.length,
      ...change,
      verdict,
      fails: change.significant && up && (change.change_pct ?? 0) > options.failAbovePct,
    });
  }
  if (result.quantities.length === 0) {
    throw new UsageError("no run of BASE or HEAD succeeded: there is nothing to compare", {
      suggestion: `see the run logs in ${out}/logs and fix the study's command`,
    });
  }
  result.failed = result.quantities.some((q) => q.fails);
  return result;
}

/** The gate as a Markdown table, for a pull request's comment. */
export function gateMarkdown(g: GateSummary): string {
  const number = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(4));
  const lines = [
    `### emp: ${g.head.short} (HEAD) against ${g.base.short} (BASE)${g.estimated ? " [ESTIMATED: no real energy sensor]" : ""}`,
    "",
    `${g.failed ? "**Fails**" : "Passes"}: HEAD fails where it is significantly costlier or slower (Mann-Whitney p < ${g.alpha}) by more than ${g.fail_above_pct} %.`,
    "",
    "| quantity | BASE median | HEAD median | change | 95% CI of the ratio | p | verdict |",
    "|---|---:|---:|---:|---|---:|---|",
  ];
  for (const q of g.quantities) {
    const change =
      q.change_pct === null ? "-" : `${q.change_pct >= 0 ? "+" : ""}${q.change_pct.toFixed(1)} %`;
    const ci = q.ratio_ci95 === null ? "-" : `${q.ratio_ci95[0].toFixed(3)} .. ${q.ratio_ci95[1].toFixed(3)}`;
    lines.push(
      `| ${q.quantity} | ${number(q.base_median)} ${q.unit} | ${number(q.head_median)} ${q.unit} | ${change} | ${ci} | ${q.p_value.toPrecision(2)} | ${q.verdict}${q.fails ? " (fails)" : ""} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}

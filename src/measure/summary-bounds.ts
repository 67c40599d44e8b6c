// summary.json and `--json` stay bounded over any number of runs: per-run details (the `runs`
// list, and the session warnings about single runs) are kept for the first and the last
// SUMMARY_RUNS_KEPT runs only. runs.arrow holds every run; `runs_total` and `runs_omitted` say how
// many there were and how many this summary leaves out. (A summary over 6,624 runs was 2.6 MB.)
import { HeadTail } from "../util/head-tail.js";
import type { RunSummary } from "./summary.js";

/** A summary with per-run details: emp measure's, and emp compare's. */
export interface RunsSummary {
  runs: Pick<RunSummary, "index" | "name" | "warnings">[];
  warnings: string[];
}

/** Runs whose details a summary keeps at each end: the first this many and the last this many. */
export const SUMMARY_RUNS_KEPT = 50;

export type Bounded<S extends RunsSummary> = S & {
  /** Every run of the session, warmups included. */
  runs_total: number;
  /** Runs in the middle of the session left out of `runs` (and their warnings); 0 up to 100 runs. */
  runs_omitted: number;
};

/** The summary as written and printed: every total as it was, per-run details bounded. */
export function boundedSummary<S extends RunsSummary>(summary: S): Bounded<S> {
  const kept = HeadTail.of(summary.runs, SUMMARY_RUNS_KEPT);
  if (kept.omitted === 0) return { ...summary, runs_total: summary.runs.length, runs_omitted: 0 };
  const keptRuns = kept.items();
  const keptIndex = new Set(keptRuns.map((r) => r.index));
  // The session's warnings list each run's as `<name>: <warning>` ("run 3: ...", "B run 3: ...").
  const omittedLines = new Set(
    summary.runs
      .filter((r) => !keptIndex.has(r.index))
      .flatMap((r) => r.warnings.map((w) => `${r.name}: ${w}`)),
  );
  const warnings = summary.warnings.filter((w) => !omittedLines.has(w));
  if (omittedLines.size > 0)
    warnings.push(
      `${kept.omitted} runs in the middle of the session are left out of this summary, with ${omittedLines.size} warnings of theirs: runs.arrow holds every run and its warnings`,
    );
  return {
    ...summary,
    runs: keptRuns,
    warnings,
    runs_total: summary.runs.length,
    runs_omitted: kept.omitted,
  };
}

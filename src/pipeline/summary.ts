// The result of `emp run` (printed with --json, written as summary.json): per commit, the statistics
// of the net energy of every measured run under the study's config, all sessions together; per
// iteration where min_run_ms iterated the command inside each run.

import { median } from "simple-statistics";
import { attainabilityWarning } from "../analysis/attainable.js";
import type { CommitInfo } from "../git/commit.js";
import type { LedgerRunRow, SessionRow } from "../ledger/ledger.js";
import { failureText, runFailed } from "../measure/run-failure.js";
import { REPORT_DEFAULTS } from "../report/analyze.js";
import { summarize } from "../stats/summary.js";

/** Energies and durations are per iteration: of the command once, where a run iterated it (min_run_ms). */
export interface CommitDomainSummary {
  /** Net energy statistics; null when no run of the commit has one (the baseline was unknown). */
  net_median_j: number | null;
  net_mean_j: number | null;
  /** 95% bootstrap interval of the mean net energy. */
  ci95_j: [number, number] | null;
  /** Median duration of the runs, s. */
  median_s: number;
  raw_median_j: number;
  /** Of the net energy; null with one run or without net energy. */
  cv: number | null;
}

export interface CommitSummary {
  commit: string;
  short: string;
  subject: string;
  /** Measured runs in the statistics: those whose command succeeded. */
  runs: number;
  /** Measured runs whose command failed (exit != 0, a signal, a timeout): left out of the statistics. */
  failed_runs: number;
  /**
   * Times the command ran back to back in each measured run (min_run_ms calibrates it once per
   * commit; 1 without): `domains` are per iteration. The newest run's, 1 before any run.
   */
  iterations: number;
  /** Why the first failed run failed ("run 1 exited with 127 (command not found)"); null when none did. */
  first_failure: string | null;
  domains: Record<string, CommitDomainSummary>;
  /** Median net energy per unit of work per domain (the study's `work` or first metric), in the study's `work_unit`. */
  work: Record<string, number>;
  /** Median of each of the study's `metrics` over the runs where it was found. */
  metrics: Record<string, number>;
}

export interface SkippedCommit {
  commit: string;
  reason: string;
  log: string | null;
}

/** A config the study's folder holds: the sessions run with it and their measured runs. */
export interface StudyConfig {
  config_hash: string;
  /** Measured runs (warmups apart), every session together. */
  runs: number;
  sessions: number;
  first_session: { id: string; started_at: string };
  last_session: { id: string; started_at: string };
}

export interface StudySummary {
  out: string;
  /** The session that measured; null when nothing was left to measure (no session was recorded). */
  session: string | null;
  config_hash: string;
  /** The study's min_run_ms: runs iterate a shorter command, and energies are per iteration. */
  min_run_ms: number | null;
  /** The unit of the commits' `work` ("J/MB"); null without the study's `work` or `metrics`. */
  work_unit: string | null;
  /**
   * Every config the folder holds (this session's among them), oldest first: runs.arrow has the
   * runs of each, and `emp report --config HASH` reads one.
   */
  configs: StudyConfig[];
  estimated: boolean;
  commits: CommitSummary[];
  skipped: SkippedCommit[];
  /** Runs of this session whose command exited non-zero, was killed or timed out (left out of the statistics). */
  failed_runs: number;
  /** Run and post stages of this session that failed (each also a warning). */
  failed_stages: number;
  /**
   * Domains whose idle baseline this session could not measure, with the reason (also a warning):
   * their runs have raw energy only, and `emp run` exits 1.
   */
  baseline_unknown: Record<string, string>;
  warnings: string[];
  /** Set when the session stopped early (Ctrl-C, a stage's abort); `emp resume` continues it. */
  interrupted: boolean;
  /** `--shard K/N`: which slice of the study's commits this directory holds; null for a whole study. */
  shard: ShardSummary | null;
}

export interface ShardSummary {
  index: number;
  count: number;
  /** Commits the study selects, of which this shard measures every count-th. */
  study_commits: number;
  /** A digest of the whole selection: the shards of one study must have cut the same one. */
  selection: string;
}

/**
 * Statistics per commit over its measured runs whose command succeeded (warmups and failed runs
 * left out, failed ones counted), commits in study order.
 */
export function summarizeCommits(
  commits: readonly CommitInfo[],
  runs: readonly LedgerRunRow[],
): CommitSummary[] {
  return commits.map((commit) => {
    const all = runs.filter((r) => r.commit === commit.sha && !r.warmup);
    const mine = all.filter((r) => !runFailed(r));
    const failed = all.filter(runFailed);
    const first = failed[0];
    const domains: Record<string, CommitDomainSummary> = {};
    const names = [...new Set(mine.flatMap((r) => Object.keys(r.energy)))].sort();
    // Per iteration: a run of N iterations did N times the command's work.
    const durationsS = mine.map((r) => Number(r.endNs - r.startNs) / 1e9 / r.iterations);
    const medianS = durationsS.length > 0 ? median(durationsS) : Number.NaN;
    for (const domain of names) {
      const net = mine
        .map((r) => (r.energy[domain]?.netJ ?? Number.NaN) / r.iterations)
        .filter(Number.isFinite);
      const raw = mine
        .map((r) => (r.energy[domain]?.rawJ ?? Number.NaN) / r.iterations)
        .filter(Number.isFinite);
      if (raw.length === 0) continue;
      // Runs measured against an unknown baseline have raw energy only; their commit still reports it.
      if (net.length === 0) {
        domains[domain] = {
          net_median_j: null,
          net_mean_j: null,
          ci95_j: null,
          median_s: medianS,
          raw_median_j: median(raw),
          cv: null,
        };
        continue;
      }
      const n = summarize(net);
      domains[domain] = {
        net_median_j: n.median,
        net_mean_j: n.mean,
        ci95_j: [n.ci[0], n.ci[1]],
        median_s: medianS,
        raw_median_j: median(raw),
        cv: n.cv,
      };
    }
    return {
      commit: commit.sha,
      short: commit.short,
      subject: commit.subject,
      runs: mine.length,
      failed_runs: failed.length,
      iterations: all.at(-1)?.iterations ?? 1,
      first_failure: first === undefined ? null : `run ${first.repetition + 1} ${failureText(first)}`,
      domains,
      work: columnMedians(mine, "_net_j_per_unit", (key) => key.slice(0, -"_net_j_per_unit".length)),
      metrics: columnMedians(mine, "metric_", (key) => key.slice("metric_".length)),
    };
  });
}

/** Per ledger metric whose key ends (or, for "metric_", starts) with `affix`, the median over `runs`, by `name(key)`. */
function columnMedians(
  runs: readonly LedgerRunRow[],
  affix: string,
  name: (key: string) => string,
): Record<string, number> {
  const out: Record<string, number> = {};
  const matches = (key: string) => (affix.endsWith("_") ? key.startsWith(affix) : key.endsWith(affix));
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics).filter(matches)))].sort();
  for (const key of keys) {
    const values = runs
      .map((r) => r.metrics[key])
      .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
    if (values.length > 0) out[name(key)] = median(values);
  }
  return out;
}

/**
 * Whether `emp report` on the study can tell neighbouring commits apart with the runs there are: the
 * comparisons it makes by default (each commit with measured runs against the one before it, per
 * domain, on net energy; Mann-Whitney, Holm over all of them, alpha 0.05), judged by
 * attainabilityWarning. A sentence naming the repeat count needed, or null.
 */
export function comparisonsWarning(
  commits: readonly CommitInfo[],
  runs: readonly LedgerRunRow[],
): string | null {
  const counted = runs.filter((r) => !r.warmup && !runFailed(r));
  // Per commit and domain, the runs with a net energy (those emp report compares).
  const groups = commits
    .map((commit) => {
      const mine = counted.filter((r) => r.commit === commit.sha);
      const perDomain = new Map<string, number>();
      for (const r of mine)
        for (const [domain, e] of Object.entries(r.energy))
          if (e.netJ !== null && Number.isFinite(e.netJ))
            perDomain.set(domain, (perDomain.get(domain) ?? 0) + 1);
      return { runs: mine.length, perDomain };
    })
    .filter((g) => g.runs > 0);
  const domains = [...new Set(groups.flatMap((g) => [...g.perDomain.keys()]))];
  const sizes: [number, number][] = [];
  for (const domain of domains) {
    for (let i = 1; i < groups.length; i++) {
      const from = groups[i - 1]?.perDomain.get(domain) ?? 0;
      const to = groups[i]?.perDomain.get(domain) ?? 0;
      if (from > 0 && to > 0) sizes.push([from, to]);
    }
  }
  if (sizes.length === 0) return null;
  const warning = attainabilityWarning({
    alpha: REPORT_DEFAULTS.alpha,
    comparisons: sizes.length,
    sizes,
    correction: REPORT_DEFAULTS.correction,
  });
  return warning === null ? null : `comparing neighbouring commits (as emp report does): ${warning}`;
}

/** The configs of a folder's sessions (newest first, as the ledger lists them), oldest first. */
export function studyConfigs(sessions: readonly SessionRow[]): StudyConfig[] {
  const byHash = new Map<string, StudyConfig>();
  for (const session of [...sessions].reverse()) {
    const at = { id: session.id, started_at: session.startedAt };
    const config = byHash.get(session.configHash);
    if (config === undefined) {
      byHash.set(session.configHash, {
        config_hash: session.configHash,
        runs: session.measuredRuns,
        sessions: 1,
        first_session: at,
        last_session: at,
      });
      continue;
    }
    config.runs += session.measuredRuns;
    config.sessions++;
    config.last_session = at;
  }
  return [...byHash.values()];
}

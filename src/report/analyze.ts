// What `emp report` computes from loaded results: per group (commit or label) and domain the
// statistics of energy per run, comparisons between neighbours in history (or against a reference
// label) with rank and t tests, effect sizes and a correction for their number, and change points.
import { median } from "simple-statistics";
import { attainabilityWarning } from "../analysis/attainable.js";
import { changePoints } from "../analysis/change-points.js";
import { type CliffsMagnitude, cliffsDelta, cliffsMagnitude } from "../analysis/cliffs-delta.js";
import { cohensD } from "../analysis/cohens-d.js";
import { adjustPValues, type Correction } from "../analysis/correction.js";
import { mannWhitneyU } from "../analysis/mann-whitney.js";
import { welchTTest } from "../analysis/welch.js";
import { EmpError, UsageError } from "../errors.js";
import { failureText, runFailed } from "../measure/run-failure.js";
import { durationSpreadWarning } from "../measure/work.js";
import { summarize } from "../stats/summary.js";
import { orderCommits } from "./history.js";
import { durationOf, type EnergyKind, energyOf, type LoadedResults, labelOf, type RunRow } from "./load.js";

export interface ReportOptions {
  alpha: number;
  correction: Correction;
  energy: EnergyKind;
  /** Only these domains; all when absent. */
  domains?: readonly string[];
  /** The label (or commit, by a prefix of its sha) every other group is compared with. */
  reference?: string;
  /** Fewest commits on each side of a change point. */
  minSegment?: number;
  /** Runs whose command failed count in the statistics; by default they are left out. */
  includeFailed?: boolean;
}

export const REPORT_DEFAULTS = { alpha: 0.05, correction: "holm", energy: "net", minSegment: 1 } as const;

/** Statistics of one domain's energy per run in one group, J. */
export interface DomainStats {
  n: number;
  median_j: number;
  mean_j: number;
  stdev_j: number | null;
  /** 95 % percentile-bootstrap interval of the mean (src/stats/summary.ts). */
  ci95_j: [number, number];
}

export interface ReportGroup {
  /** The full sha, or the label. */
  id: string;
  commit: string | null;
  /** Seven characters of the sha, or the label. */
  short: string;
  subject: string | null;
  /** Measured runs (warmups excluded). */
  runs: number;
  median_duration_s: number;
  domains: Record<string, DomainStats>;
}

/** Energy (per run or per unit of work): regression or improvement; a --metric, whose better direction emp cannot know: higher or lower. */
export type Verdict = "regression" | "improvement" | "higher" | "lower" | "unchanged";

export interface Comparison {
  from: string;
  to: string;
  domain: string;
  median_from_j: number;
  median_to_j: number;
  /** (median_to - median_from) / |median_from| x 100. */
  change_pct: number;
  /** Mann-Whitney U, two-sided, uncorrected. */
  p_value: number;
  /** Welch's t, two-sided, uncorrected; null where undefined (fewer than two runs, no spread). */
  p_welch: number | null;
  /** p_value corrected for the number of comparisons in the report. */
  p_adjusted: number;
  /** p_adjusted < alpha. */
  significant: boolean;
  /** A significant rise of the median is a regression (more energy), a fall an improvement. */
  verdict: Verdict;
  effect_size: {
    /** Of `to` against `from`: positive when `to` tends to use more energy. */
    cliffs_delta: number;
    cliffs_magnitude: CliffsMagnitude;
    /** (mean_to - mean_from) / pooled SD; null where undefined. */
    cohens_d: number | null;
  };
}

export interface ReportChangePoint {
  domain: string;
  /** The first commit of the new level. */
  at: string;
  /** The last commit of the level before. */
  after: string;
  /** Median of the runs from the previous change point (or the first commit) up to this one, J. */
  median_before_j: number;
  /** Median of the runs from this change point up to the next (or the last commit), J. */
  median_after_j: number;
  change_pct: number;
  p_value: number;
  /** p_value times the number of splits scanned. */
  p_adjusted: number;
}

export interface Report {
  /** `commits` when every run names a commit, else `labels`. */
  mode: "commits" | "labels";
  /** Some of the energy came from the labelled estimate, not a sensor: read differences with care. */
  estimated: boolean;
  /** How the commits were ordered: the repository's history, or as first seen (no repo.git). */
  order: "git" | "appearance" | null;
  energy: EnergyKind;
  alpha: number;
  correction: Correction;
  reference: string | null;
  /** Energy domains, then net energy per unit of work (`package-0 J/MB`) and --metric values (`metric tput`). */
  domains: string[];
  /** Each domain's unit: J, or J/MB, or a metric's own; the `_j` statistics are in it. */
  units: Record<string, string>;
  groups: ReportGroup[];
  comparisons: Comparison[];
  change_points: ReportChangePoint[];
  warnings: string[];
}

/** The id of the group a run belongs to: its commit in `commits` mode, else its label. */
export function groupIdOf(row: RunRow, mode: Report["mode"]): string {
  return mode === "commits" && row.commit !== null ? row.commit : labelOf(row);
}

interface Group {
  info: Omit<ReportGroup, "runs" | "median_duration_s" | "domains">;
  rows: RunRow[];
}

export function buildReport(results: LoadedResults, options: ReportOptions): Report {
  const warnings: string[] = [];
  const where = results.dirs.map((d) => d.dir).join(", ");
  const all = results.rows.filter((r) => !r.warmup);
  if (all.length === 0) {
    throw new UsageError(`${where}: no measured runs (only warmups)`, {
      suggestion: "measure with --repeat 1 or more",
    });
  }
  const domains = selectDomains(results.domains, options.domains);
  const failed = all.filter(rowFailed);
  const measured = options.includeFailed ? all : all.filter((r) => !rowFailed(r));
  const first = failed[0];
  if (first !== undefined && measured.length === 0) {
    throw new EmpError(
      "E_STATE",
      `every run in ${where} failed (the first ${failureText({ exitCode: first.exitCode, signal: null })})`,
      {
        suggestion:
          "fix the command and measure again (the run logs say why), or pass --include-failed to see their energy",
      },
    );
  }
  if (failed.length > 0)
    warnings.push(
      options.includeFailed
        ? `${failed.length} of ${all.length} runs failed (exit != 0 or a signal); they are included (--include-failed)`
        : `${failed.length} of ${all.length} runs failed (exit != 0 or a signal): left out of the statistics (--include-failed counts them)`,
    );

  const mode = measured.every((r) => r.commit !== null) ? "commits" : "labels";
  let order: Report["order"] = null;
  let groups: Group[];
  if (mode === "commits") {
    const gitDir = results.dirs.find((d) => d.repoGit !== null)?.repoGit ?? null;
    const history = orderCommits(
      measured.map((r) => r.commit as string),
      gitDir,
    );
    order = history.source;
    if (history.source === "appearance") {
      warnings.push(
        "no repo.git beside the results: commits are in the order first measured, not by history",
      );
    } else if (history.unknown.length > 0) {
      warnings.push(
        `repo.git does not hold ${history.unknown.map(short).join(", ")}: placed after the others, as first measured`,
      );
    }
    groups = history.order.map((sha) => ({
      info: { id: sha, commit: sha, short: short(sha), subject: history.subjects.get(sha) ?? null },
      rows: measured.filter((r) => r.commit === sha),
    }));
  } else {
    const labels = [...new Set(measured.map(labelOf))];
    groups = labels.map((label) => ({
      info: { id: label, commit: null, short: label, subject: null },
      rows: measured.filter((r) => groupIdOf(r, mode) === label),
    }));
  }

  const reportGroups = groups.map((g) => describeGroup(g, domains, options.energy));
  const reference = options.reference === undefined ? null : findReference(groups, options.reference);
  const pairs = comparisonPairs(groups, mode, reference);
  const { comparisons, sizes } = compare(pairs, domains, options);
  // Once per report, for the pair whose run counts allow the least: "unchanged" from 3 runs against 3
  // is no evidence, since no ordering of 6 runs gives p < 0.05.
  const attainable =
    comparisons.length === 0
      ? null
      : attainabilityWarning({
          alpha: options.alpha,
          comparisons: comparisons.length,
          sizes,
          correction: options.correction,
        });
  if (attainable !== null) warnings.push(attainable);
  const spread = durationSpreadWarning(
    reportGroups.map((g) => ({ name: g.short, medianS: g.median_duration_s })),
  );
  if (spread !== null) warnings.push(spread);
  const change_points = mode === "commits" ? findChangePoints(groups, domains, options) : [];
  return {
    mode,
    estimated: results.dirs.some((d) => d.estimated),
    order,
    energy: options.energy,
    alpha: options.alpha,
    correction: options.correction,
    reference:
      reference !== null ? reference.info.id : mode === "labels" ? (groups[0]?.info.id ?? null) : null,
    domains,
    units: Object.fromEntries(domains.map((d) => [d, results.units[d] ?? "J"])),
    groups: reportGroups,
    comparisons,
    change_points,
    warnings,
  };
}

function rowFailed(row: RunRow): boolean {
  return runFailed({ exitCode: row.exitCode, signal: null });
}

function short(sha: string): string {
  return sha.slice(0, 7);
}

function selectDomains(available: readonly string[], wanted: readonly string[] | undefined): string[] {
  if (wanted === undefined || wanted.length === 0) return [...available];
  for (const domain of wanted) {
    if (!available.includes(domain)) {
      throw new UsageError(`no domain '${domain}' in these results`, {
        suggestion: `pick one of: ${available.join(", ") || "(none: no energy columns)"}`,
      });
    }
  }
  return [...wanted];
}

function findReference(groups: readonly Group[], reference: string): Group {
  const exact = groups.find((g) => g.info.id === reference);
  if (exact) return exact;
  const byPrefix = groups.filter((g) => g.info.commit?.startsWith(reference));
  if (byPrefix.length === 1) return byPrefix[0] as Group;
  throw new UsageError(
    byPrefix.length > 1
      ? `--reference ${reference} matches several commits`
      : `no group named '${reference}'`,
    { suggestion: `pick one of: ${groups.map((g) => g.info.short).join(", ")}` },
  );
}

function values(rows: readonly RunRow[], domain: string, energy: EnergyKind): number[] {
  const out: number[] = [];
  for (const row of rows) {
    const v = energyOf(row, domain, energy);
    if (v !== null) out.push(v);
  }
  return out;
}

function describeGroup(group: Group, domains: readonly string[], energy: EnergyKind): ReportGroup {
  const stats: Record<string, DomainStats> = {};
  for (const domain of domains) {
    const v = values(group.rows, domain, energy);
    if (v.length === 0) continue;
    const s = summarize(v);
    stats[domain] = {
      n: s.n,
      median_j: s.median,
      mean_j: s.mean,
      stdev_j: s.stdev,
      ci95_j: [s.ci[0], s.ci[1]],
    };
  }
  return {
    ...group.info,
    runs: group.rows.length,
    median_duration_s: median(group.rows.map(durationOf)),
    domains: stats,
  };
}

/**
 * Neighbours in history (commits), or every group against the reference: labels have no order of
 * their own, so each is compared with the one named by --reference, by default the first seen.
 */
function comparisonPairs(
  groups: readonly Group[],
  mode: Report["mode"],
  reference: Group | null,
): [Group, Group][] {
  if (reference === null && mode === "commits") {
    return groups.slice(1).map((g, i) => [groups[i] as Group, g]);
  }
  const base = reference ?? (groups[0] as Group | undefined);
  if (base === undefined) return [];
  return groups.filter((g) => g !== base).map((g) => [base, g]);
}

/** The comparisons, and the runs [from, to] each was made on (which Comparison does not carry). */
function compare(
  pairs: readonly [Group, Group][],
  domains: readonly string[],
  options: ReportOptions,
): { comparisons: Comparison[]; sizes: [number, number][] } {
  const raw: Omit<Comparison, "p_adjusted" | "significant" | "verdict">[] = [];
  const sizes: [number, number][] = [];
  for (const domain of domains) {
    for (const [from, to] of pairs) {
      const a = values(from.rows, domain, options.energy);
      const b = values(to.rows, domain, options.energy);
      if (a.length === 0 || b.length === 0) continue;
      const medianFrom = median(a);
      const medianTo = median(b);
      const delta = cliffsDelta(b, a);
      sizes.push([a.length, b.length]);
      raw.push({
        from: from.info.id,
        to: to.info.id,
        domain,
        median_from_j: medianFrom,
        median_to_j: medianTo,
        change_pct: ((medianTo - medianFrom) / Math.abs(medianFrom)) * 100,
        p_value: mannWhitneyU(b, a).pValue,
        p_welch: welchTTest(b, a)?.pValue ?? null,
        effect_size: {
          cliffs_delta: delta,
          cliffs_magnitude: cliffsMagnitude(delta),
          cohens_d: cohensD(b, a),
        },
      });
    }
  }
  // One family: every comparison of every domain the report shows.
  const adjusted = adjustPValues(
    raw.map((c) => c.p_value),
    options.correction,
  );
  const comparisons = raw.map((c, i): Comparison => {
    const p_adjusted = adjusted[i] as number;
    const significant = p_adjusted < options.alpha;
    const metric = c.domain.startsWith("metric ");
    const verdict: Verdict = !significant
      ? "unchanged"
      : c.median_to_j > c.median_from_j
        ? metric
          ? "higher"
          : "regression"
        : c.median_to_j < c.median_from_j
          ? metric
            ? "lower"
            : "improvement"
          : "unchanged";
    return {
      from: c.from,
      to: c.to,
      domain: c.domain,
      median_from_j: c.median_from_j,
      median_to_j: c.median_to_j,
      change_pct: c.change_pct,
      p_value: c.p_value,
      p_welch: c.p_welch,
      p_adjusted,
      significant,
      verdict,
      effect_size: c.effect_size,
    };
  });
  return { comparisons, sizes };
}

function findChangePoints(
  groups: readonly Group[],
  domains: readonly string[],
  options: ReportOptions,
): ReportChangePoint[] {
  const out: ReportChangePoint[] = [];
  for (const domain of domains) {
    const series = groups
      .map((g) => ({ id: g.info.id, runs: values(g.rows, domain, options.energy) }))
      .filter((s) => s.runs.length > 0);
    const runs = series.map((s) => s.runs);
    const found = changePoints(runs, { alpha: options.alpha, minSegment: options.minSegment });
    // Levels between the change points finally found, not the wider segments scanned when each was
    // found: a person reads "from this level to that one".
    const bounds = [0, ...found.map((cp) => cp.index), runs.length];
    found.forEach((cp, k) => {
      const medianBefore = median(runs.slice(bounds[k], cp.index).flat());
      const medianAfter = median(runs.slice(cp.index, bounds[k + 2]).flat());
      out.push({
        domain,
        at: (series[cp.index] as { id: string }).id,
        after: (series[cp.index - 1] as { id: string }).id,
        median_before_j: medianBefore,
        median_after_j: medianAfter,
        change_pct: ((medianAfter - medianBefore) / Math.abs(medianBefore)) * 100,
        p_value: cp.pValue,
        p_adjusted: cp.pAdjusted,
      });
    });
  }
  return out;
}

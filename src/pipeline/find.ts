// `emp find CONFIG --good A --bad B`: the commit that changed a quantity (a domain's net energy, or
// time), by bisection along B's first-parent history, as `asv find` does for time. The two ends are
// measured first, interleaved in one session; if they differ (step-change.ts: Mann-Whitney at alpha
// and at least min-change), each step measures the middle commit of what is left and keeps the half
// that holds the change: a commit that differs from A (the way B does) and not from B is bad, one
// that differs from B and not from A is good, and one that matches both or neither goes to the end
// its median is nearer to (a warning says so). A commit that does not build is stepped over and
// named. Every step is an ordinary session of the study directory, so a second `emp find` into it
// measures nothing already measured, and emp report, plot and history read it.

import { join } from "node:path";
import { median } from "simple-statistics";
import { type StepChange, stepChange } from "../analysis/step-change.js";
import type { ResolvedStudy } from "../config/resolve.js";
import { UsageError } from "../errors.js";
import type { CommitInfo } from "../git/commit.js";
import { Mirror } from "../git/repository.js";
import { Ledger, type LedgerRunRow } from "../ledger/ledger.js";
import { commitSamples, TIME } from "./commit-runs.js";
import { runStudy, type StudyOptions } from "./session.js";
import type { StudySummary } from "./summary.js";

export interface FindOptions {
  good: string;
  bad: string;
  /** Significance level of each decision. */
  alpha: number;
  /** Smallest change, in percent of the good commit's median, that counts as one. */
  minChangePct: number;
  /** The quantity bisected: an energy domain or `time`; default the first domain measured. */
  quantity?: string;
}

export interface FindStep {
  commit: string;
  /** "good" or "bad": which end it was found like; "skipped" when it did not build. */
  verdict: "good" | "bad" | "skipped";
  median: number | null;
  vs_good: StepChange | null;
  vs_bad: StepChange | null;
  reason?: string;
}

export interface FindSummary {
  out: string;
  quantity: string;
  good: string;
  bad: string;
  /** The first commit like `bad`; null when the ends do not differ. */
  first_bad: string | null;
  /** When commits that did not build lie just before first_bad, the change is in one of these. */
  first_bad_candidates: string[];
  last_good: string | null;
  /** first_bad against last_good (the ends, when nothing was found). */
  change: {
    ratio: number | null;
    ratio_ci95: [number, number] | null;
    p_value: number;
    change_pct: number | null;
  };
  /** Commits measured, in the order measured. */
  measured: string[];
  /** Commits stepped over because their build or setup failed. */
  skipped: string[];
  steps: FindStep[];
  estimated: boolean;
  warnings: string[];
  interrupted: boolean;
}

export async function findChange(
  study: ResolvedStudy,
  options: FindOptions,
  studyOptions: StudyOptions = {},
): Promise<FindSummary> {
  const mirror = await Mirror.open(study.config.repo, join(study.config.out, "repo.git"));
  const chain = await mirror.firstParentChain(options.good, options.bad);
  const [goodInfo] = await mirror.resolve({ refs: [options.good] });
  const bad = chain.at(-1) as CommitInfo;
  const good = goodInfo as CommitInfo;
  return new Bisection(study, options, studyOptions, good, bad, chain).run();
}

class Bisection {
  private readonly measured: string[] = [];
  private readonly skipped = new Set<string>();
  private readonly steps: FindStep[] = [];
  private readonly warnings: string[] = [];
  private estimated = false;
  private interrupted = false;
  private quantity = "";
  /** The study's runs as the ledger holds them after the latest step. */
  private runs: LedgerRunRow[] = [];

  constructor(
    private readonly study: ResolvedStudy,
    private readonly options: FindOptions,
    private readonly studyOptions: StudyOptions,
    private readonly good: CommitInfo,
    private readonly bad: CommitInfo,
    /** good's successors up to bad, oldest first; bad is the last. */
    private readonly chain: CommitInfo[],
  ) {}

  async run(): Promise<FindSummary> {
    const ends = await this.measure([this.good, this.bad]);
    if (ends === undefined) return this.result(null, null);
    for (const end of [this.good, this.bad]) {
      if (this.skipped.has(end.sha)) {
        throw new UsageError(`the ${end === this.good ? "good" : "bad"} commit ${end.short} does not build`, {
          suggestion: `see its log in ${this.study.config.out}/logs/${end.short}/prepare.log, or give another --${end === this.good ? "good" : "bad"}`,
        });
      }
    }
    this.quantity = this.chooseQuantity();
    const goodValues = this.values(this.good.sha);
    const badValues = this.values(this.bad.sha);
    const ends_ = stepChange(goodValues, badValues, this.options.alpha, this.options.minChangePct);
    if (!ends_.significant) {
      this.warnings.push(
        `${this.bad.short} does not differ from ${this.good.short} in ${this.quantity} by ${this.options.minChangePct} % or more at p < ${this.options.alpha} (p ${ends_.p_value.toPrecision(2)}${ends_.change_pct === null ? "" : `, ${ends_.change_pct.toFixed(1)} %`}): nothing to bisect`,
      );
      return this.result(null, null, ends_);
    }
    const up = (ends_.ratio ?? 1) > 1;

    // Indices into chain; -1 is the good commit.
    let lo = -1;
    let hi = this.chain.length - 1;
    for (;;) {
      const open = [];
      for (let i = lo + 1; i < hi; i++)
        if (!this.skipped.has((this.chain[i] as CommitInfo).sha)) open.push(i);
      if (open.length === 0) break;
      const mid = open[Math.floor((open.length - 1) / 2)] as number;
      const commit = this.chain[mid] as CommitInfo;
      const summary = await this.measure([commit]);
      if (summary === undefined) return this.result(lo, hi);
      if (this.skipped.has(commit.sha)) continue;
      const values = this.values(commit.sha);
      const vsGood = stepChange(goodValues, values, this.options.alpha, this.options.minChangePct);
      const vsBad = stepChange(values, badValues, this.options.alpha, this.options.minChangePct);
      const badLike = vsGood.significant && (vsGood.ratio ?? 1) > 1 === up;
      const goodLike = vsBad.significant && (vsBad.ratio ?? 1) > 1 === up;
      let verdict: "good" | "bad";
      if (badLike !== goodLike) verdict = badLike ? "bad" : "good";
      else {
        const near = (a: readonly number[]) => Math.abs(Math.log(median(values) / median(a)));
        verdict = near(badValues) < near(goodValues) ? "bad" : "good";
        this.warnings.push(
          `${commit.short} is ${badLike ? "unlike both ends" : "like both ends"} in ${this.quantity}: counted ${verdict}, the end its median is nearer to; more runs (--repeat) would decide it`,
        );
      }
      this.steps.push({
        commit: commit.sha,
        verdict,
        median: median(values),
        vs_good: vsGood,
        vs_bad: vsBad,
      });
      if (verdict === "bad") hi = mid;
      else lo = mid;
    }
    return this.result(lo, hi);
  }

  /** Measures `commits` in one session; undefined when it was interrupted. */
  private async measure(commits: CommitInfo[]): Promise<StudySummary | undefined> {
    const study: ResolvedStudy = {
      ...this.study,
      config: {
        ...this.study.config,
        commits: { refs: commits.map((c) => c.sha) },
        paths: [],
        shard: undefined,
      },
    };
    const summary = await runStudy(study, this.studyOptions);
    this.runs = readRuns(this.study);
    this.estimated ||= summary.estimated;
    for (const w of summary.warnings) if (!this.warnings.includes(w)) this.warnings.push(w);
    for (const c of commits) if (!this.measured.includes(c.sha)) this.measured.push(c.sha);
    for (const s of summary.skipped) {
      this.skipped.add(s.commit);
      this.steps.push({
        commit: s.commit,
        verdict: "skipped",
        median: null,
        vs_good: null,
        vs_bad: null,
        reason: s.reason,
      });
    }
    if (summary.interrupted) {
      this.interrupted = true;
      return undefined;
    }
    return summary;
  }

  private values(commit: string): number[] {
    const values = commitSamples(this.runs, commit).get(this.quantity) ?? [];
    if (values.length === 0) {
      throw new UsageError(
        `no run of ${commit.slice(0, 12)} succeeded, so it has no ${this.quantity} to compare`,
        {
          suggestion: `see the run logs in ${this.study.config.out}/logs and fix the study's command`,
        },
      );
    }
    return values;
  }

  private chooseQuantity(): string {
    const quantities = [...commitSamples(this.runs, this.good.sha).keys()];
    const asked = this.options.quantity;
    if (asked !== undefined) {
      if (!quantities.includes(asked)) {
        throw new UsageError(`--domain ${asked} was not measured`, {
          suggestion: `choose one of ${quantities.join(", ")}`,
        });
      }
      return asked;
    }
    return quantities.find((q) => q !== TIME) ?? TIME;
  }

  private result(lo: number | null, hi: number | null, ends?: StepChange): FindSummary {
    const at = (i: number) => (i < 0 ? this.good : (this.chain[i] as CommitInfo));
    const found = lo !== null && hi !== null && !this.interrupted;
    const firstBad = found ? at(hi) : null;
    const lastGood = found ? at(lo) : null;
    const candidates: string[] = [];
    if (found) for (let i = lo + 1; i <= hi; i++) candidates.push(at(i).sha);
    if (candidates.length > 1) {
      this.warnings.push(
        `${candidates.length - 1} commit${candidates.length === 2 ? "" : "s"} before ${firstBad?.short} did not build: the change is in one of ${candidates.map((c) => c.slice(0, 7)).join(", ")}`,
      );
    }
    const change =
      firstBad !== null && lastGood !== null
        ? stepChange(
            this.values(lastGood.sha),
            this.values(firstBad.sha),
            this.options.alpha,
            this.options.minChangePct,
          )
        : ends;
    return {
      out: this.study.config.out,
      quantity: this.quantity,
      good: this.good.sha,
      bad: this.bad.sha,
      first_bad: firstBad?.sha ?? null,
      first_bad_candidates: candidates.length > 1 ? candidates : [],
      last_good: lastGood?.sha ?? null,
      change: {
        ratio: change?.ratio ?? null,
        ratio_ci95: change?.ratio_ci95 ?? null,
        p_value: change?.p_value ?? 1,
        change_pct: change?.change_pct ?? null,
      },
      measured: this.measured,
      skipped: [...this.skipped],
      steps: this.steps,
      estimated: this.estimated,
      warnings: this.warnings,
      interrupted: this.interrupted,
    };
  }
}

/** Every run of the study's config in its directory: read once a step, not once a comparison. */
function readRuns(study: ResolvedStudy): LedgerRunRow[] {
  const ledger = Ledger.open(study.config.out, { readOnly: true });
  try {
    return ledger.runs({ configHash: study.hash });
  } finally {
    ledger.close();
  }
}

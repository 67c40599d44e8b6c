// emp report on results built with emp's own writers: a 3-commit study whose middle commit doubles
// the energy (ordered by its repository's history, not by runs.arrow), label comparisons between
// emp measure sessions, and the CLI's usage errors.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReport, REPORT_DEFAULTS, type Report } from "../src/report/analyze.js";
import { formatReport } from "../src/report/format.js";
import { loadResults } from "../src/report/load.js";
import { mulberry32 } from "../src/stats/random.js";
import {
  FIXTURE_SUBJECTS,
  noisy,
  scratchDir,
  writeResults,
  writeThreeCommitStudy,
} from "./fixtures/study.js";
import { runEmp } from "./helpers/emp-cli.js";

let scratch: string;
let study: string;
let shas: string[];
let labelDirs: string[];

beforeAll(() => {
  scratch = scratchDir("emp-report-");
  study = join(scratch, "study");
  shas = writeThreeCommitStudy(study);
  const random = mulberry32(11);
  // Three emp measure sessions of 6 runs: "base" at 4 J, "faster" at 3 J, "same" at 4 J.
  labelDirs = [
    ["base", 4],
    ["faster", 3],
    ["same", 4],
  ].map(([label, level]) => {
    const dir = join(scratch, label as string);
    const runs = Array.from({ length: 6 }, () => ({
      label: label as string,
      netJ: { "package-0": noisy(random, level as number), "dram-0": noisy(random, 0.5) },
    }));
    writeResults(dir, [{ id: `session-${label}`, runs }], "session");
    return dir;
  });
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const defaults = { ...REPORT_DEFAULTS };

describe("emp report on a 3-commit study whose middle commit doubles the energy", () => {
  let report: Report;
  beforeAll(() => {
    report = buildReport(loadResults([study]), defaults);
    // The figures a reader of this test wants to see.
    console.log(formatReport(report));
  });

  it("orders the commits by history although runs.arrow lists the newest first", () => {
    expect(report.mode).toBe("commits");
    expect(report.order).toBe("git");
    expect(report.groups.map((g) => g.id)).toEqual(shas);
    expect(report.groups.map((g) => g.subject)).toEqual(FIXTURE_SUBJECTS);
  });

  it("counts 8 measured runs per commit, the warmups left out", () => {
    for (const group of report.groups) {
      expect(group.runs).toBe(8);
      expect(group.domains["package-0"]?.n).toBe(8);
      expect(group.median_duration_s).toBeCloseTo(0.5, 9);
    }
    const medians = report.groups.map((g) => g.domains["package-0"]?.median_j as number);
    expect(medians[0]).toBeCloseTo(4, 0);
    expect(medians[1]).toBeCloseTo(8, 0);
    expect(medians[2]).toBeCloseTo(4, 0);
    for (const g of report.groups) {
      const d = g.domains["package-0"];
      expect(d?.ci95_j[0]).toBeLessThanOrEqual(d?.mean_j as number);
      expect(d?.ci95_j[1]).toBeGreaterThanOrEqual(d?.mean_j as number);
    }
  });

  it("first -> middle is about +100 % and a significant regression; middle -> last about -50 %, an improvement", () => {
    const pkg = report.comparisons.filter((c) => c.domain === "package-0");
    expect(pkg).toHaveLength(2);
    const [up, down] = pkg;
    expect(up?.from).toBe(shas[0]);
    expect(up?.to).toBe(shas[1]);
    expect(up?.change_pct).toBeGreaterThan(95);
    expect(up?.change_pct).toBeLessThan(105);
    expect(up?.significant).toBe(true);
    expect(up?.verdict).toBe("regression");
    // Complete separation of 8 runs against 8: exact two-sided p = 2 / C(16, 8).
    expect(up?.p_value).toBeCloseTo(2 / 12870, 12);
    expect(up?.effect_size.cliffs_delta).toBe(1);
    expect(up?.effect_size.cohens_d).toBeGreaterThan(10);
    expect(up?.p_welch).toBeLessThan(1e-6);
    expect(down?.change_pct).toBeGreaterThan(-52.5);
    expect(down?.change_pct).toBeLessThan(-47.5);
    expect(down?.significant).toBe(true);
    expect(down?.verdict).toBe("improvement");
    expect(down?.effect_size.cliffs_delta).toBe(-1);
  });

  it("corrects over every comparison shown (Holm over 4: 2 domains x 2 pairs)", () => {
    expect(report.comparisons).toHaveLength(4);
    const smallest = Math.min(...report.comparisons.map((c) => c.p_value));
    const adjustedOfSmallest = report.comparisons.find((c) => c.p_value === smallest)?.p_adjusted;
    expect(adjustedOfSmallest).toBeCloseTo(4 * smallest, 12);
    for (const c of report.comparisons.filter((c) => c.domain === "dram-0")) {
      expect(c.verdict).toBe("unchanged");
      expect(Math.abs(c.change_pct)).toBeLessThan(3);
    }
  });

  it("finds the change points at the middle and the last commit", () => {
    const points = report.change_points.filter((c) => c.domain === "package-0");
    expect(points.map((c) => c.at)).toEqual([shas[1], shas[2]]);
    expect(points.map((c) => c.after)).toEqual([shas[0], shas[1]]);
    // Medians of the levels between change points: 4 -> 8 -> 4 J.
    expect(points[0]?.change_pct).toBeGreaterThan(95);
    expect(points[1]?.change_pct).toBeLessThan(-47.5);
    expect(points[1]?.median_before_j).toBeCloseTo(8, 0);
    expect(report.change_points.filter((c) => c.domain === "dram-0")).toEqual([]);
  });

  it("prints the same numbers as JSON through the CLI, snake_case as documented", () => {
    const result = runEmp(["report", study, "--json"]);
    expect(result.status).toBe(0);
    const json = JSON.parse(result.stdout) as Report;
    expect(Object.keys(json)).toEqual(expect.arrayContaining(["groups", "comparisons", "change_points"]));
    const first = json.comparisons[0];
    expect(Object.keys(first ?? {}).sort()).toEqual(
      [
        "change_pct",
        "domain",
        "effect_size",
        "from",
        "median_from_j",
        "median_to_j",
        "p_adjusted",
        "p_value",
        "p_welch",
        "significant",
        "to",
        "verdict",
      ].sort(),
    );
    expect(first?.change_pct).toBeCloseTo(report.comparisons[0]?.change_pct as number, 12);
    expect(json.groups.map((g) => g.id)).toEqual(shas);
  });

  it("marks the regression and the improvement in the table for a person", () => {
    const result = runEmp(["report", study, "--domain", "package-0"]);
    expect(result.status).toBe(0);
    const lines = result.stdout.split("\n");
    const up = lines.find((l) => l.includes(`${shas[0]?.slice(0, 7)} -> ${shas[1]?.slice(0, 7)}`));
    const down = lines.find((l) => l.includes(`${shas[1]?.slice(0, 7)} -> ${shas[2]?.slice(0, 7)}`));
    expect(up).toMatch(/REGRESSION/);
    expect(down).toMatch(/improvement/);
    expect(result.stdout).not.toMatch(/dram-0/);
    expect(result.stdout).toMatch(/sort twice/);
  });

  it("--correction bh and --alpha change the verdicts as asked", () => {
    const strict = buildReport(loadResults([study]), { ...defaults, alpha: 1e-6 });
    expect(strict.comparisons.every((c) => !c.significant)).toBe(true);
    const bh = buildReport(loadResults([study]), { ...defaults, correction: "bh" });
    expect(bh.correction).toBe("bh");
    expect(bh.comparisons.filter((c) => c.significant)).toHaveLength(2);
  });

  it("without repo.git keeps the order first measured, and says so", () => {
    const loaded = loadResults([study]);
    for (const d of loaded.dirs) d.repoGit = null;
    const report = buildReport(loaded, defaults);
    expect(report.order).toBe("appearance");
    expect(report.groups.map((g) => g.id)).toEqual([shas[2], shas[0], shas[1]]);
    expect(report.warnings.join("\n")).toMatch(/no repo\.git/);
  });
});

describe("emp report on labelled emp measure sessions", () => {
  it("says so when the energy was estimated rather than measured", () => {
    const dir = join(scratch, "estimated");
    const runs = Array.from({ length: 4 }, (_, i) => ({
      label: "est",
      netJ: { "package-0": 1 + i / 100, "dram-0": 0.1 },
    }));
    writeResults(dir, [{ id: "session-est", runs }], "session", { emp_version: "fixture", estimated: true });
    const report = buildReport(loadResults([dir, labelDirs[0] as string]), defaults);
    expect(report.estimated).toBe(true);
    expect(formatReport(report)).toMatch(/\[ESTIMATED/);
    expect(buildReport(loadResults(labelDirs), defaults).estimated).toBe(false);
  });

  it("compares every label with the first by default", () => {
    const report = buildReport(loadResults(labelDirs), defaults);
    expect(report.mode).toBe("labels");
    expect(report.reference).toBe("base");
    expect(report.groups.map((g) => g.id)).toEqual(["base", "faster", "same"]);
    const pkg = report.comparisons.filter((c) => c.domain === "package-0");
    expect(pkg.map((c) => [c.from, c.to])).toEqual([
      ["base", "faster"],
      ["base", "same"],
    ]);
    expect(pkg[0]?.change_pct).toBeGreaterThan(-28);
    expect(pkg[0]?.change_pct).toBeLessThan(-22);
    expect(pkg[0]?.verdict).toBe("improvement");
    expect(pkg[1]?.verdict).toBe("unchanged");
    expect(report.change_points).toEqual([]);
  });

  it("--reference picks the label the others are compared with", () => {
    const result = runEmp([
      "report",
      ...labelDirs,
      "--reference",
      "faster",
      "--json",
      "--domain",
      "package-0",
    ]);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.comparisons.map((c) => [c.from, c.to])).toEqual([
      ["faster", "base"],
      ["faster", "same"],
    ]);
    expect(report.comparisons.every((c) => c.verdict === "regression")).toBe(true);
  });
});

describe("emp report on too few runs for the test to say anything", () => {
  const sessions = (runs: number, seed: number): string[] => {
    const random = mulberry32(seed);
    return [
      ["base", 4],
      ["other", 5],
    ].map(([label, level]) => {
      const dir = join(scratch, `few-${runs}-${label}`);
      const measured = Array.from({ length: runs }, () => ({
        label: label as string,
        netJ: { "package-0": noisy(random, level as number), "dram-0": noisy(random, 0.5) },
      }));
      writeResults(dir, [{ id: `session-${label}-${runs}`, runs: measured }], "session");
      return dir;
    });
  };

  it("3 runs against 3 cannot reach 0.05 over the 2 comparisons (2 domains): said once", () => {
    const dirs = sessions(3, 5);
    const report = buildReport(loadResults(dirs), defaults);
    expect(report.comparisons).toHaveLength(2);
    // 2 / C(6, 3) = 0.1 at best, 0.2 after Holm over 2; 4 runs give 2 x 2 / 70 = 0.057, 5 give
    // 2 x 2 / 252 = 0.0159; one stray run is tolerated from 8 (2 x 2 x 67 / 12870 = 0.0208).
    const mentions = report.warnings.filter((w) => w.includes("Mann-Whitney"));
    expect(mentions).toEqual([
      "with 3 vs 3 runs the Mann-Whitney test cannot reach p < 0.05 after Holm over 2 comparisons " +
        "(its smallest p is 0.1, 0.2 adjusted): no difference can show; repeat at least 5 times " +
        "(--repeat 5); --repeat 8 tolerates one disturbed run",
    ]);
    // The difference is there (5 J against 4 J, 2 % noise), the test cannot see it.
    expect(report.comparisons.every((c) => c.verdict === "unchanged")).toBe(true);
    // The CLI prints it on stderr with the report's other warnings.
    const cli = runEmp(["report", ...dirs]);
    expect(cli.status).toBe(0);
    expect(cli.stderr).toMatch(/^warning: with 3 vs 3 runs the Mann-Whitney test cannot reach/m);
  });

  it("10 runs against 10 can, with room for a stray run: no such warning", () => {
    const report = buildReport(loadResults(sessions(10, 6)), defaults);
    expect(report.comparisons).toHaveLength(2);
    expect(report.warnings.filter((w) => w.includes("Mann-Whitney"))).toEqual([]);
    expect(report.comparisons.find((c) => c.domain === "package-0")?.verdict).toBe("regression");
  });
});

describe("emp report's usage errors: one line, the fix, exit 2, no stack trace", () => {
  const cases: [string, string[], RegExp][] = [
    ["a missing directory", ["report", "/nonexistent/emp-results"], /no such directory/],
    ["no directory at all", ["report"], /no results directory/],
    [
      "an alpha out of range",
      ["report", "DIR", "--alpha", "1.5"],
      /--alpha takes a level strictly between 0 and 1/,
    ],
    [
      "an unknown correction",
      ["report", "DIR", "--correction", "bonferroni"],
      /--correction takes holm or bh/,
    ],
    ["an unknown domain", ["report", "DIR", "--domain", "gpu-7"], /no domain 'gpu-7'/],
    ["an unknown reference", ["report", "DIR", "--reference", "nope"], /no group named 'nope'/],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const result = runEmp(args.map((a) => (a === "DIR" ? study : a)));
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/fix: /);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe("");
    });
  }

  it("a directory without runs.arrow", () => {
    const result = runEmp(["report", scratch]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/holds no runs\.arrow/);
  });
});

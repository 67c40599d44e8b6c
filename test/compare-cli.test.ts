// emp compare as a user runs it: bad input (exit 2, one message and its fix), the run orders, the
// parameters, --prepare/--setup/--cleanup, the exports, --reference, and the session folder that
// emp report and emp plot read. The runs are short and measured on the labelled estimate.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompareSummary } from "../src/compare/summary.js";
import { runEmp } from "./helpers/emp-cli.js";

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "emp-compare-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Quick sessions: a short baseline, no counters to wait for. */
const QUICK = ["--baseline", "0.2", "--counters", "task-clock"];

function compareJson(args: string[]): { summary: CompareSummary; stderr: string; status: number | null } {
  const result = runEmp(["compare", ...QUICK, "--json", ...args]);
  if (result.stdout.trim() === "") throw new Error(`no JSON (exit ${result.status}): ${result.stderr}`);
  return {
    summary: JSON.parse(result.stdout) as CompareSummary,
    stderr: result.stderr,
    status: result.status,
  };
}

describe("emp compare: bad input", () => {
  const cases: Array<[string, string[], RegExp, RegExp]> = [
    ["no command", [], /no commands to compare/, /quoted shell command/],
    ["one command", ["true"], /needs two commands or more/, /emp measure/],
    [
      "unknown reference",
      ["--reference", "C", "-n", "A", "-n", "B", "true", "false"],
      /--reference C: no command has that name/,
      /'A', 'B'/,
    ],
    [
      "scan with LO above HI",
      ["--parameter-scan", "n", "5", "1", "sleep 0.{n}"],
      /LO is above HI/,
      /--parameter-scan n 1 5/,
    ],
    [
      "scan with too few values",
      ["--parameter-scan", "n", "1"],
      /takes three values/,
      /--parameter-scan threads 1 8/,
    ],
    ["duplicate names", ["-n", "x", "-n", "x", "true", "false"], /two commands are named 'x'/, /-n/],
    ["the same command twice", ["true", "true"], /two commands are named 'true'/, /-n/],
    [
      "a parameter no command uses",
      ["--parameter-list", "n", "1,2", "true", "false"],
      /no command uses the parameter \{n\}/,
      /\{n\}/,
    ],
    [
      "more names than commands",
      ["-n", "a", "-n", "b", "-n", "c", "true", "false"],
      /3 names \(-n\) for 2 commands/,
      /at most one -n/,
    ],
    [
      "an unknown order",
      ["--order", "random", "true", "false"],
      /--order takes interleaved, shuffled, grouped/,
      /--help/,
    ],
    [
      "--prepare three times for two commands",
      ["--prepare", "true", "--prepare", "true", "--prepare", "true", "true", "false"],
      /--prepare is given 3 times for 2 commands/,
      /once per command/,
    ],
    [
      "an export into a missing folder",
      ["--export-markdown", "/no/such/folder/x.md", "true", "false"],
      /--export-markdown .*no such folder/,
      /a folder that exists/,
    ],
    ["a negative seed", ["--seed", "-1", "true", "false"], /--seed takes/, /--help/],
    ["an empty command", ["", "true"], /is empty/, /--help/],
    ["--work without its unit", ["--work", "10"], /--work takes two values/, /--work 256 MB/],
    [
      "--work of no work",
      ["--work", "0", "MB", "true", "false"],
      /--work 0 MB: the amount must be a number above 0/,
      /--work 256 MB/,
    ],
    [
      "--metric without a regex",
      ["--metric", "tput", "true", "false"],
      /--metric tput: not NAME=REGEX/,
      /NAME, an optional \[UNIT\]/,
    ],
  ];
  for (const [what, args, message, fix] of cases) {
    it(`${what}: exit 2, one message with a fix, no stack trace`, () => {
      const result = runEmp(["compare", "--out", join(scratch, "never"), ...args]);
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(fix);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      // Nothing was measured: no baseline time spent, no folder made.
      expect(existsSync(join(scratch, "never"))).toBe(false);
    });
  }
});

describe("emp compare: orders", () => {
  let sessions = 0;
  it("interleaved: A B A B ...; grouped: every A, then every B; shuffled: each cycle both, in an order the seed repeats", () => {
    const run = (order: string, seed = "1") =>
      compareJson([
        "--order",
        order,
        "--seed",
        seed,
        "--repeat",
        "3",
        "--warmup",
        "1",
        "-n",
        "A",
        "-n",
        "B",
        "--out",
        join(scratch, `order-${order}-${seed}-${++sessions}`),
        "true",
        "sleep 0.001",
      ]).summary;
    expect(run("interleaved").order).toEqual(["A", "B", "A", "B", "A", "B", "A", "B"]);
    expect(run("grouped").order).toEqual(["A", "A", "A", "A", "B", "B", "B", "B"]);
    const shuffled = run("shuffled", "3");
    expect(shuffled.order_policy).toBe("shuffled");
    expect(shuffled.seed).toBe(3);
    for (let c = 0; c < 4; c++) expect(shuffled.order.slice(2 * c, 2 * c + 2).sort()).toEqual(["A", "B"]);
    expect(run("shuffled", "3").order).toEqual(shuffled.order);
  });
});

describe("emp compare: the test's level and correction", () => {
  it("--alpha and --correction bh: in the JSON, and the adjusted p-values are Benjamini-Hochberg's", () => {
    const { summary } = compareJson([
      "--alpha",
      "0.01",
      "--correction",
      "bh",
      "--repeat",
      "4",
      "--warmup",
      "0",
      "--seed",
      "2",
      "--out",
      join(scratch, "bh"),
      "true",
      "sleep 0.01",
      "sleep 0.02",
    ]);
    expect(summary.alpha).toBe(0.01);
    expect(summary.correction).toBe("bh");
    // Four comparisons (two candidates, energy and time); BH's largest adjusted p is the largest p.
    expect(summary.comparisons).toHaveLength(4);
    const ps = summary.comparisons.map((c) => c.p_value);
    const largest = summary.comparisons[ps.indexOf(Math.max(...ps))];
    expect(largest?.p_adjusted).toBeCloseTo(largest?.p_value ?? Number.NaN, 12);
    // 4 vs 4 runs: the smallest p is 2/70, above 0.01 whatever the correction: no verdict but "no significant difference".
    expect(new Set(summary.comparisons.map((c) => c.verdict))).toEqual(
      new Set(["no significant difference"]),
    );
    expect(summary.warnings.some((w) => /cannot reach p < 0\.01/.test(w))).toBe(true);
  });
});

describe("emp compare: parameters and unmeasured commands", () => {
  it("--parameter-scan fills {n} in commands and names; --prepare runs before every run, --setup and --cleanup once per command", () => {
    const log = join(scratch, "log");
    const { summary } = compareJson([
      "--parameter-scan",
      "n",
      "1",
      "3",
      "-n",
      "sleep-{n}",
      "--repeat",
      "2",
      "--warmup",
      "1",
      "--prepare",
      `echo prepare {n} >> ${log}.prepare`,
      "--setup",
      `echo setup {n} >> ${log}.setup`,
      "--cleanup",
      `echo cleanup {n} >> ${log}.cleanup`,
      "--out",
      join(scratch, "scan"),
      "sleep 0.00{n}",
    ]);
    expect(summary.commands.map((c) => [c.name, c.command])).toEqual([
      ["sleep-1", "sleep 0.001"],
      ["sleep-2", "sleep 0.002"],
      ["sleep-3", "sleep 0.003"],
    ]);
    const lines = (file: string) => readFileSync(file, "utf8").trim().split("\n").sort();
    // Three commands, a warmup and two runs each.
    expect(lines(`${log}.prepare`)).toEqual(
      ["1", "1", "1", "2", "2", "2", "3", "3", "3"].map((n) => `prepare ${n}`),
    );
    expect(lines(`${log}.setup`)).toEqual(["setup 1", "setup 2", "setup 3"]);
    expect(lines(`${log}.cleanup`)).toEqual(["cleanup 1", "cleanup 2", "cleanup 3"]);
    // Two candidates against sleep-1, energy and time each.
    expect(summary.comparisons).toHaveLength(4);
    expect(new Set(summary.comparisons.map((c) => c.baseline))).toEqual(new Set(["sleep-1"]));
  });

  it("two --parameter-list combine: every pair of values, the first list varying slowest", () => {
    const { summary } = compareJson([
      "--parameter-list",
      "a",
      "1,2",
      "--parameter-list",
      "b",
      "x,y",
      "--repeat",
      "1",
      "--warmup",
      "0",
      "--out",
      join(scratch, "lists"),
      "echo {a}{b}",
    ]);
    expect(summary.commands.map((c) => c.name)).toEqual(["echo 1x", "echo 1y", "echo 2x", "echo 2y"]);
  });

  it("a failing --prepare stops the session with exit 1, naming it, and the runs done are kept", () => {
    const out = join(scratch, "bad-prepare");
    const result = runEmp([
      "compare",
      ...QUICK,
      "--repeat",
      "2",
      "--out",
      out,
      "--prepare",
      "exit 3",
      "true",
      "false",
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/--prepare of (true|false) exited with 3: `exit 3`/);
    expect(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).state).toBe("failed");
  });
});

describe("emp compare: results", () => {
  let out: string;
  let stdout: CompareSummary;
  beforeAll(() => {
    out = join(scratch, "results");
    const { summary } = compareJson([
      "-n",
      "short",
      "-n",
      "long",
      "--reference",
      "long",
      "--repeat",
      "6",
      "--warmup",
      "1",
      "--seed",
      "5",
      "--label",
      "pr-42",
      "--export-markdown",
      join(scratch, "table.md"),
      "--export-csv",
      join(scratch, "table.csv"),
      "--export-json",
      join(scratch, "table.json"),
      "--out",
      out,
      "sleep 0.01",
      "sleep 0.05",
    ]);
    stdout = summary;
  });

  it("compares each command with --reference, energy and time, and says the verdict", () => {
    expect(stdout.reference).toBe("long");
    const time = stdout.comparisons.find((c) => c.quantity === "duration");
    expect(time?.baseline).toBe("long");
    expect(time?.candidate).toBe("short");
    // 10 ms against 50 ms: a fifth, whatever the machine's load adds to each.
    expect(time?.ratio).toBeLessThan(0.6);
    expect(time?.ratio_ci95?.[1]).toBeLessThan(1);
    expect(time?.cliffs_delta).toBe(-1);
    expect(time?.verdict).toBe("faster");
    expect(stdout.commands.map((c) => c.runs_counted)).toEqual([6, 6]);
    expect(stdout.estimated).toBe(true);
  });

  it("exports: a Markdown table that pastes into a PR, CSV rows per command and quantity, the JSON of --json", () => {
    const md = readFileSync(join(scratch, "table.md"), "utf8").split("\n");
    expect(md[0]).toMatch(
      /^\| Command \| cpu net median \[J\] \| cpu vs long \| Median time \| Time vs long \|$/,
    );
    expect(md[1]).toBe("|:---|---:|---:|---:|---:|");
    expect(md[2]).toMatch(
      /^\| `short` \| [\d.]+ \| [\d.]+x \[[\d.]+ \.\. [\d.]+\], (cheaper|costlier|no significant difference) \| [\d.]+ ms \| [\d.]+x \[[\d.]+ \.\. [\d.]+\], faster \|$/,
    );
    expect(md[3]).toMatch(/^\| `long` \| [\d.]+ \| reference \| [\d.]+ ms \| reference \|$/);
    const csv = readFileSync(join(scratch, "table.csv"), "utf8").trim().split("\n");
    expect(csv[0]?.split(",").slice(0, 4)).toEqual(["name", "command", "quantity", "domain"]);
    expect(csv.slice(1).map((l) => l.split(",").slice(0, 4).join(","))).toEqual([
      "short,sleep 0.01,energy,cpu",
      "short,sleep 0.01,duration,duration",
      "long,sleep 0.05,energy,cpu",
      "long,sleep 0.05,duration,duration",
    ]);
    const header = csv[0]?.split(",") ?? [];
    const shortTime = csv[2]?.split(",") ?? [];
    expect(shortTime[header.indexOf("verdict")]).toBe("faster");
    expect(Number(shortTime[header.indexOf("median")])).toBeCloseTo(
      stdout.commands[0]?.duration_s.median ?? 0,
      9,
    );
    expect(JSON.parse(readFileSync(join(scratch, "table.json"), "utf8"))).toEqual(stdout);
  });

  it("runs.arrow names each run's command and iterations; emp report and emp plot read the session by command", () => {
    const table = tableFromIPC(readFileSync(join(out, "runs.arrow")));
    const commands = Array.from(table.getChild("command") ?? []);
    expect(commands).toHaveLength(14);
    expect(commands.filter((c) => c === "short")).toHaveLength(7);
    expect(new Set(Array.from(table.getChild("iterations") ?? []))).toEqual(new Set([1]));
    expect(Array.from(table.getChild("label") ?? [])).toEqual(Array(14).fill("pr-42"));
    const report = runEmp(["report", "--json", out]);
    expect(report.status, report.stderr).toBe(0);
    const groups = (JSON.parse(report.stdout) as { groups: { id: string; runs: number }[] }).groups;
    expect(groups.map((g) => [g.id, g.runs])).toEqual([
      ["pr-42: short", 6],
      ["pr-42: long", 6],
    ]);
    const svg = join(scratch, "compare.svg");
    const plot = runEmp(["plot", out, "-o", svg]);
    expect(plot.status, plot.stderr).toBe(0);
    expect(readFileSync(svg, "utf8")).toMatch(/pr-42: short/);
  });

  it("the table for a person: each command, then each against the reference", () => {
    const result = runEmp([
      "compare",
      ...QUICK,
      "--repeat",
      "3",
      "--seed",
      "1",
      "--out",
      join(scratch, "person"),
      "-n",
      "A",
      "-n",
      "B",
      "true",
      "sleep 0.02",
    ]);
    expect(result.status, result.stderr).toBe(0);
    // A pipe gets the table on a line of its own: after a newline (fresh-line.ts).
    expect(result.stdout.trimStart()).toMatch(
      /^2 commands, 3 runs each, shuffled cycles \(seed 1\); reference 'A'/,
    );
    expect(result.stdout).toMatch(/\nB vs A:\n/);
    expect(result.stdout).toMatch(
      /\n {2}time +[\d.]+x \[[\d.]+ \.\. [\d.]+\] .* no significant difference\n/,
    );
    // `true` against a 20 ms sleep: energy per run would follow duration.
    expect(result.stderr).toMatch(
      /run durations differ by more than 2x .* for A, .* for B\).*--work N UNIT or --metric/,
    );
    // 3 against 3 runs cannot reach p < 0.05 after Holm over 2: said, with the repeat count that can.
    expect(result.stderr).toMatch(
      /with 3 vs 3 runs the Mann-Whitney test cannot reach p < 0.05 .*--repeat \d+/,
    );
  });
});

describe("emp measure and emp compare with --metric", () => {
  it("the output is captured for the metric, then shown (on stderr with --json); runs.arrow holds the values and J per unit", () => {
    const out = join(scratch, "metric");
    const result = runEmp([
      "measure",
      ...QUICK,
      "--repeat",
      "2",
      "--warmup",
      "0",
      "--json",
      "--out",
      out,
      "--metric",
      "n[ops]=did (\\d+)",
      "--",
      "sh",
      "-c",
      "echo did 40",
    ]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr.match(/did 40/g)).toHaveLength(2);
    const summary = JSON.parse(result.stdout) as {
      metrics: Record<string, { median: number }>;
      work: { unit: string };
    };
    expect(summary.metrics.n?.median).toBe(40);
    expect(summary.work.unit).toBe("J/ops");
    const table = tableFromIPC(readFileSync(join(out, "runs.arrow")));
    expect(Array.from(table.getChild("metric_n") ?? [])).toEqual([40, 40]);
    expect(table.schema.fields.find((f) => f.name === "cpu_net_j_per_unit")?.metadata.get("unit")).toBe(
      "J/ops",
    );
  });
});

describe("emp report on --metric results", () => {
  it("reads energy per unit of work and each metric as quantities of their own, with their units", () => {
    const out = join(scratch, "report-metric");
    const compared = runEmp([
      "compare",
      ...QUICK,
      "--repeat",
      "3",
      "--warmup",
      "0",
      "--out",
      out,
      "--metric",
      "n[ops]=did (\\d+)",
      "-n",
      "ten",
      "-n",
      "twenty",
      "echo did 10",
      "echo did 20",
    ]);
    expect(compared.status, compared.stderr).toBe(0);
    const report = runEmp(["report", "--json", out]);
    expect(report.status, report.stderr).toBe(0);
    const r = JSON.parse(report.stdout) as {
      domains: string[];
      units: Record<string, string>;
      groups: { id: string; domains: Record<string, { median_j: number }> }[];
      comparisons: { domain: string; verdict: string }[];
    };
    expect(r.domains).toEqual(["cpu", "cpu J/ops", "metric n"]);
    expect(r.units).toEqual({ cpu: "J", "cpu J/ops": "J/ops", "metric n": "ops" });
    // Groups come in the order first run, which the shuffle decides.
    expect(Object.fromEntries(r.groups.map((g) => [g.id, g.domains["metric n"]?.median_j]))).toEqual({
      ten: 10,
      twenty: 20,
    });
    expect(r.comparisons.map((c) => c.domain)).toContain("cpu J/ops");
    const text = runEmp(["report", out]);
    expect(text.stdout).toMatch(/metric n\n +label +runs +median ops +mean ops/);
  });
});

describe("emp compare: failures and calibrated runs", () => {
  it("every run of one command fails: exit 1, naming it; the other's runs are kept", () => {
    const out = join(scratch, "fails");
    const result = runEmp(["compare", ...QUICK, "--repeat", "2", "--out", out, "true", "exit 4"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/every run of 'exit 4' failed/);
    expect(existsSync(join(out, "runs.arrow"))).toBe(true);
  });

  it("--min-run-ms iterates the short command and not the long one; results per iteration", () => {
    const { summary } = compareJson([
      "--min-run-ms",
      "100",
      "--repeat",
      "2",
      "--warmup",
      "0",
      "-n",
      "quick",
      "-n",
      "slow",
      "--out",
      join(scratch, "calibrated"),
      "true",
      "sleep 0.12",
    ]);
    const [quick, slow] = summary.commands;
    expect(quick?.iterations).toBeGreaterThan(5);
    expect(slow?.iterations).toBe(1);
    expect(summary.runs.filter((r) => r.name.includes("calibration")).length).toBeGreaterThanOrEqual(3);
    const quickRuns = summary.runs.filter((r) => r.command === "quick" && !r.warmup);
    for (const r of quickRuns) expect(r.iterations).toBe(quick?.iterations);
    // The count is the one whose calibration run lasted 100 ms (a later run may be a little shorter
    // where the machine was quieter than when it calibrated).
    const calibrations = summary.runs.filter((r) => r.command === "quick" && r.name.includes("calibration"));
    expect(calibrations.at(-1)?.iterations).toBe(quick?.iterations);
    expect(calibrations.at(-1)?.duration_s).toBeGreaterThanOrEqual(0.1);
    // Per iteration, `true` takes far less than a run.
    expect(quick?.duration_s.median).toBeLessThan(0.05);
  });
});

// `emp find` and `emp compare-commits` against a powercap fixture: nine commits whose benchmark holds
// the fixture's busy flag for 0.1 s, and for 0.2 s from the sixth on (20 W above idle: 2 J, then 4 J
// net). Bisection names the sixth commit after measuring at most 6 of the 9, steps over a commit that
// does not build, and refuses ends that are not in one first-parent line (exit 2); the gate fails
// (exit 3) across the change and passes between two commits that do the same.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnergyWriter, powercapZone } from "./fixtures/energy.js";
import { FixtureTree, writeCpuTopology } from "./fixtures/tree.js";
import { runEmp } from "./helpers/emp-cli.js";

let scratch: string;
let tree: FixtureTree;
let writer: EnergyWriter;
let flag: string;

function git(repo: string, ...args: string[]): string {
  return execFileSync(
    "git",
    ["-c", "user.name=emp test", "-c", "user.email=emp@example.com", "-c", "commit.gpgsign=false", ...args],
    { cwd: repo, encoding: "utf8" },
  ).trim();
}

/** Nine commits; bench.sh holds the flag 0.1 s, 0.2 s from the sixth; `broken` ones fail to build. */
function nineCommits(name: string, broken: readonly number[] = []): { repo: string; shas: string[] } {
  const repo = join(scratch, name);
  mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  for (let i = 1; i <= 9; i++) {
    const seconds = i >= 6 ? 0.2 : 0.1;
    writeFileSync(join(repo, "bench.sh"), `touch "$EMP_FLAG"; sleep ${seconds}; rm -f "$EMP_FLAG"\n`);
    writeFileSync(join(repo, "BROKEN"), broken.includes(i) ? "this commit does not build\n" : "");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "--allow-empty", "-m", `commit ${i}: bench holds the flag ${seconds} s`);
  }
  return { repo, shas: git(repo, "rev-list", "--reverse", "HEAD").split("\n") };
}

function study(name: string, repo: string): string {
  const path = join(scratch, `${name}.yaml`);
  writeFileSync(
    path,
    [
      `repo: ${repo}`,
      "commits: { last: 1 }",
      'build: "test ! -s BROKEN"',
      'command: "sh bench.sh"',
      "repeat: 5",
      "warmup: 0",
      "baseline: 0.3",
      `env: { EMP_FLAG: "${flag}" }`,
      `out: ${join(scratch, `${name}-out`)}`,
    ].join("\n"),
  );
  return path;
}

const env = () => ({ EMP_SYSFS_ROOT: tree.root });

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "emp-find-"));
  tree = FixtureTree.create();
  writeCpuTopology(tree, 1, 2);
  const range = 262_143_328_850;
  const energy = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: range });
  flag = tree.path("busy.flag");
  writer = await EnergyWriter.start(tree, [
    { format: "text", path: energy, unitJ: 1e-6, wrap: range + 1, idleW: 5, busyW: 25, flagPath: flag },
  ]);
});
afterAll(async () => {
  await writer?.stop();
  tree?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

describe("emp find", () => {
  it("names the sixth of nine commits, measuring at most 6 of them", () => {
    const { repo, shas } = nineCommits("nine");
    const config = study("nine", repo);
    const result = runEmp(["find", config, "--good", shas[0] ?? "", "--bad", shas[8] ?? "", "--json"], env());
    expect(result.status, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    console.log(
      `emp find measured ${summary.measured.length} of 9: ${summary.measured.map((s: string) => shas.indexOf(s) + 1).join(", ")}; change ${summary.change.ratio?.toFixed(3)}x [${summary.change.ratio_ci95?.map((x: number) => x.toFixed(3)).join(" .. ")}], p ${summary.change.p_value}`,
    );
    expect(summary.quantity).toBe("package-0");
    expect(summary.first_bad).toBe(shas[5]);
    expect(summary.last_good).toBe(shas[4]);
    expect(summary.measured.length).toBeLessThanOrEqual(6);
    expect(summary.skipped).toEqual([]);
    // 4 J against 2 J net.
    expect(summary.change.ratio).toBeGreaterThan(1.6);
    expect(summary.change.ratio).toBeLessThan(2.4);
    expect(summary.change.p_value).toBeLessThan(0.05);

    // The same again measures nothing: every step's runs are in the study directory.
    const again = runEmp(["find", config, "--good", shas[0] ?? "", "--bad", shas[8] ?? "", "--json"], env());
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).first_bad).toBe(shas[5]);
    const history = runEmp(["history", join(scratch, "nine-out"), "--json"]);
    expect(history.status, history.stderr).toBe(0);
    const sessions = JSON.parse(history.stdout).sessions;
    expect(sessions.length).toBe(summary.measured.length - 1); // the two ends share a session
  });

  it("steps over a commit that does not build and names it", () => {
    const { repo, shas } = nineCommits("broken", [7]);
    const result = runEmp(
      ["find", study("broken", repo), "--good", shas[0] ?? "", "--bad", shas[8] ?? "", "--json"],
      env(),
    );
    expect(result.status, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.first_bad).toBe(shas[5]);
    expect(summary.skipped).toEqual([shas[6]]);
    expect(summary.measured).toContain(shas[6]);
  });

  it("refuses ends out of order or missing, before measuring", () => {
    const { repo, shas } = nineCommits("order");
    const config = study("order", repo);
    const swapped = runEmp(["find", config, "--good", shas[8] ?? "", "--bad", shas[0] ?? ""], env());
    expect(swapped.status).toBe(2);
    expect(swapped.stderr).toMatch(/is not an ancestor of --bad/);
    expect(swapped.stderr).toContain("fix:");
    const missing = runEmp(["find", config, "--good", shas[0] ?? ""], env());
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("--bad SHA is required");
  });
});

describe("emp compare-commits", () => {
  it("exits 3 across the change, with a Markdown table, and 0 between two equal commits", () => {
    const { repo, shas } = nineCommits("gate");
    const config = study("gate", repo);
    const markdown = join(scratch, "gate.md");
    const fails = runEmp(
      [
        "compare-commits",
        "--config",
        config,
        shas[4] ?? "",
        shas[5] ?? "",
        "--export-markdown",
        markdown,
        "--json",
      ],
      env(),
    );
    expect(fails.status, fails.stderr).toBe(3);
    const gate = JSON.parse(fails.stdout);
    expect(gate.failed).toBe(true);
    const energy = gate.quantities.find((q: { quantity: string }) => q.quantity === "package-0");
    expect(energy).toMatchObject({ verdict: "costlier", fails: true });
    expect(energy.ratio).toBeGreaterThan(1.6);
    const table = readFileSync(markdown, "utf8");
    console.log(table);
    expect(table).toMatch(/^\| package-0 \| .* \| costlier \(fails\) \|$/m);
    expect(table).toMatch(/^\*\*Fails\*\*/m);

    const passes = runEmp(
      ["compare-commits", "--config", config, shas[0] ?? "", shas[1] ?? "", "--json"],
      env(),
    );
    expect(passes.status, passes.stderr).toBe(0);
    expect(JSON.parse(passes.stdout).failed).toBe(false);
  });
});

// `emp run` over a real git history against a powercap fixture: three commits whose benchmark holds
// the fixture's busy flag for 0.2, 0.4 and 0.2 s (25 W busy, 5 W idle) must come out near 4, 8 and
// 4 J net, built once each, without touching the user's repository. A second run does nothing,
// Ctrl-C then `emp resume` ends with exactly the configured runs, a custom stage runs in its group,
// and a commit whose build fails is skipped and reported.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../src/ledger/ledger.js";
import { EnergyWriter, HOLD_FLAG, powercapZone } from "./fixtures/energy.js";
import { FixtureTree, writeCpuTopology } from "./fixtures/tree.js";
import { runEmp } from "./helpers/emp-cli.js";
import { alive } from "./helpers/proc.js";

const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
let scratch: string;
let tree: FixtureTree;
let writer: EnergyWriter;
let flag: string;

const GIT_ENV = {
  GIT_AUTHOR_NAME: "emp test",
  GIT_AUTHOR_EMAIL: "emp@example.com",
  GIT_COMMITTER_NAME: "emp test",
  GIT_COMMITTER_EMAIL: "emp@example.com",
};

function git(repo: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "commit.gpgsign=false", ...args], {
    cwd: repo,
    env: { ...process.env, ...GIT_ENV },
    encoding: "utf8",
  }).trim();
}

/** A repository whose commits' bench.sh hold the busy flag for the given seconds each. */
function benchRepo(name: string, holdS: readonly number[], broken: readonly number[] = []): string {
  const repo = join(scratch, name);
  mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  holdS.forEach((seconds, i) => {
    writeFileSync(join(repo, "bench.sh"), `touch "$EMP_FLAG"; sleep ${seconds}; rm -f "$EMP_FLAG"\n`);
    if (broken.includes(i)) writeFileSync(join(repo, "BROKEN"), "this commit does not build\n");
    else rmSync(join(repo, "BROKEN"), { force: true });
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "--allow-empty", "-m", `bench holds the flag ${seconds} s`);
  });
  // Something uncommitted, which must survive untouched.
  writeFileSync(join(repo, "notes.txt"), "work in progress\n");
  return repo;
}

function repoState(repo: string) {
  return {
    head: git(repo, "rev-parse", "HEAD"),
    branch: git(repo, "symbolic-ref", "HEAD"),
    status: git(repo, "status", "--porcelain"),
    index: readFileSync(join(repo, ".git", "index")).toString("base64"),
    worktrees: git(repo, "worktree", "list", "--porcelain"),
  };
}

interface StudyOptions {
  repo: string;
  builds: string;
  repeat?: number;
  extra?: string;
}

function writeStudy(name: string, o: StudyOptions): string {
  const path = join(scratch, `${name}.yaml`);
  writeFileSync(
    path,
    [
      `repo: ${o.repo}`,
      "commits: { last: 3 }",
      // Counts builds outside the worktree; fails on a commit that has the BROKEN file.
      `build: "echo $(git rev-parse HEAD) >> ${o.builds} && test ! -f BROKEN"`,
      'command: "sh bench.sh"',
      `repeat: ${o.repeat ?? 3}`,
      "warmup: 0",
      "baseline: 1",
      "sample_hz: 1000",
      `env: { EMP_FLAG: "${flag}" }`,
      `out: ${join(scratch, `${name}-out`)}`,
      o.extra ?? "",
    ].join("\n"),
  );
  return path;
}

function runsTable(out: string) {
  return tableFromIPC(readFileSync(join(out, "runs.arrow")));
}

function measuredPerCommit(out: string): Map<string, number> {
  const table = runsTable(out);
  const counts = new Map<string, number>();
  for (let i = 0; i < table.numRows; i++) {
    if (table.getChild("warmup")?.get(i)) continue;
    const commit = table.getChild("commit")?.get(i) as string;
    counts.set(commit, (counts.get(commit) ?? 0) + 1);
  }
  return counts;
}

const fixtureEnv = () => ({ EMP_SYSFS_ROOT: tree.root });

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "emp-run-"));
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

describe("emp run over three commits", () => {
  let repo: string;
  let builds: string;
  let config: string;
  let out: string;
  let before: ReturnType<typeof repoState>;

  beforeAll(() => {
    repo = benchRepo("project", [0.2, 0.4, 0.2]);
    builds = join(scratch, "project-builds.txt");
    config = writeStudy("project", { repo, builds });
    out = join(scratch, "project-out");
    before = repoState(repo);
  });

  it("measures about 4, 8 and 4 J net, one build per commit, the user's repository untouched", () => {
    const result = runEmp(["run", config, "--json"], fixtureEnv());
    expect(result.status, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.out).toBe(out);
    expect(summary.estimated).toBe(false);
    expect(summary.skipped).toEqual([]);
    const commits = git(repo, "rev-list", "--reverse", "HEAD").split("\n");
    expect(summary.commits.map((c: { commit: string }) => c.commit)).toEqual(commits);
    const expectedJ = [4, 8, 4];
    console.log(
      "emp run net medians (J):",
      summary.commits.map((c: { domains: Record<string, { net_median_j: number }> }) =>
        c.domains["package-0"]?.net_median_j.toFixed(4),
      ),
    );
    summary.commits.forEach(
      (
        c: {
          runs: number;
          domains: Record<string, { net_median_j: number; median_s: number; ci95_j: number[] }>;
        },
        i: number,
      ) => {
        expect(c.runs).toBe(3);
        const d = c.domains["package-0"];
        expect(d, JSON.stringify(c)).toBeDefined();
        expect(Math.abs((d?.net_median_j ?? 0) - (expectedJ[i] ?? 0)) / (expectedJ[i] ?? 1)).toBeLessThan(
          0.06,
        );
        expect(d?.ci95_j).toHaveLength(2);
        expect(d?.median_s).toBeGreaterThan(expectedJ[i] === 8 ? 0.4 : 0.2);
      },
    );
    expect(readFileSync(builds, "utf8").trim().split("\n").sort()).toEqual([...commits].sort());
    expect(repoState(repo)).toEqual(before);
    expect(existsSync(join(repo, "notes.txt"))).toBe(true);

    const table = runsTable(out);
    expect(table.numRows).toBe(9);
    expect(new Set(table.getChild("commit")?.toArray())).toEqual(new Set(commits));
    // Interleaved: the first three runs are one of each commit.
    expect(new Set([0, 1, 2].map((i) => table.getChild("commit")?.get(i))).size).toBe(3);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.state).toBe("complete");
    expect(manifest.origins.repeat).toBe("file");
    expect(manifest.origins.jobs).toBe("default");
  });

  it("measures and builds nothing the second time, says so, and records no session", () => {
    const manifest = readFileSync(join(out, "manifest.json"), "utf8");
    const nothingLeft = `nothing left to measure: 3 commits complete (see \`emp report ${out}\`)\n`;
    const result = runEmp(["run", config, "--json"], fixtureEnv());
    expect(result.status, result.stderr).toBe(0);
    // The line, then the one warning: 3 runs against 3 can never show a difference.
    expect(result.stderr.startsWith(nothingLeft), result.stderr).toBe(true);
    expect(result.stderr.slice(nothingLeft.length)).toMatch(
      /^warning: comparing neighbouring commits \(as emp report does\): with 3 vs 3 runs .*\(--repeat 5\)[^\n]*\n$/,
    );
    const summary = JSON.parse(result.stdout);
    expect(summary.session).toBeNull();
    // The study's statistics as the ledger holds them, from the first session's runs.
    expect(summary.commits.map((c: { runs: number }) => c.runs)).toEqual([3, 3, 3]);
    expect(summary.interrupted).toBe(false);
    expect(readFileSync(builds, "utf8").trim().split("\n")).toHaveLength(3);
    expect(runsTable(out).numRows).toBe(9);
    expect(repoState(repo)).toEqual(before);
    // The same as text, and from emp resume of the complete session.
    for (const args of [
      ["run", config],
      ["resume", out],
    ]) {
      const again = runEmp(args, fixtureEnv());
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout).toBe(nothingLeft);
    }
    expect(readFileSync(join(out, "manifest.json"), "utf8")).toBe(manifest);
    const history = runEmp(["history", out, "--json"]);
    expect(history.status, history.stderr).toBe(0);
    const sessions = JSON.parse(history.stdout).sessions;
    expect(sessions.map((s: { state: string }) => s.state)).toEqual(["complete"]);
    expect(sessions[0].id).toBe(JSON.parse(manifest).session);
  });
});

describe("emp run interrupted, then emp resume", () => {
  it("ends with exactly the configured runs per commit", async () => {
    const repo = benchRepo("resumed", [0.2, 0.4, 0.2]);
    const config = writeStudy("resumed", { repo, builds: join(scratch, "resumed-builds.txt"), repeat: 3 });
    const out = join(scratch, "resumed-out");
    const child = spawn(process.execPath, [main, "run", config, "--json"], {
      env: { ...process.env, ...fixtureEnv() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    const runsFile = join(out, "runs.arrow");
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (existsSync(runsFile) && runsTable(out).numRows >= 4) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 100)); // a run is under way
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(130);
    const interrupted = JSON.parse(stdout);
    expect(interrupted.interrupted).toBe(true);
    const partial = [...measuredPerCommit(out).values()].reduce((a, b) => a + b, 0);
    expect(partial).toBeGreaterThanOrEqual(4);
    expect(partial).toBeLessThan(9);

    const resumed = runEmp(["resume", out, "--json"], fixtureEnv());
    expect(resumed.status, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout);
    expect(summary.interrupted).toBe(false);
    expect(summary.commits.map((c: { runs: number }) => c.runs)).toEqual([3, 3, 3]);
    expect([...measuredPerCommit(out).values()]).toEqual([3, 3, 3]);
    // Each commit's repetitions are 0, 1, 2 exactly once.
    const table = runsTable(out);
    const keys = new Set<string>();
    for (let i = 0; i < table.numRows; i++)
      keys.add(`${table.getChild("commit")?.get(i)}:${table.getChild("index")?.get(i)}`);
    expect(keys.size).toBe(9);
    const history = JSON.parse(runEmp(["history", out, "--json"]).stdout);
    expect(history.sessions.map((s: { state: string }) => s.state).sort()).toEqual([
      "complete",
      "interrupted",
    ]);
  });
});

describe("emp run with a custom stage and a broken build", () => {
  it("runs the stage in its group and skips the commit that does not build, with its log", () => {
    const repo = benchRepo("broken", [0.2, 0.2, 0.2], [1]);
    const notes = join(scratch, "stage-notes.txt");
    const stageFile = join(scratch, "note-stage.mjs");
    writeFileSync(
      stageFile,
      [
        'import { appendFileSync } from "node:fs";',
        "export default (options) => ({",
        '  name: "note-energy",',
        "  execute(context) {",
        '    const j = context.result?.energy["package-0"]?.netJ;',
        '    appendFileSync(options.file, [context.commit.short, context.slot.repetition, j].join(" ") + "\\n");',
        "  },",
        "});",
      ].join("\n"),
    );
    const config = writeStudy("broken", {
      repo,
      builds: join(scratch, "broken-builds.txt"),
      repeat: 2,
      extra: `stages: [{ module: ${stageFile}, group: run, options: { file: ${notes} } }]`,
    });
    const result = runEmp(["run", config, "--json"], fixtureEnv());
    expect(result.status, result.stderr).toBe(1); // a skipped commit is a failure to report
    const summary = JSON.parse(result.stdout);
    const commits = git(repo, "rev-list", "--reverse", "HEAD").split("\n");
    expect(summary.skipped).toHaveLength(1);
    expect(summary.skipped[0].commit).toBe(commits[1]);
    // The log is named once, in its own field, not in the reason as well.
    expect(summary.skipped[0].reason).toBe("build exited with 1");
    expect(readFileSync(summary.skipped[0].log, "utf8")).toContain("test ! -f BROKEN");
    expect(summary.commits.map((c: { runs: number }) => c.runs)).toEqual([2, 0, 2]);
    // The stage ran after each measured run and saw its energy (about 4 J).
    const lines = readFileSync(notes, "utf8").trim().split("\n");
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const j = Number(line.split(" ")[2]);
      expect(Math.abs(j - 4) / 4).toBeLessThan(0.1);
    }
    const history = JSON.parse(runEmp(["history", join(scratch, "broken-out"), "--json"]).stdout);
    expect(JSON.stringify(history.failures)).toMatch(/build/);
  });

  it("refuses a malformed stage module with exit 2, naming it", () => {
    const repo = benchRepo("malformed", [0.2, 0.2, 0.2]);
    const stageFile = join(scratch, "bad-stage.mjs");
    writeFileSync(stageFile, "export default 42;\n");
    const config = writeStudy("malformed", {
      repo,
      builds: join(scratch, "malformed-builds.txt"),
      extra: `stages: [{ module: ${stageFile}, group: run }]`,
    });
    const result = runEmp(["run", config], fixtureEnv());
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(stageFile);
    expect(result.stderr).toMatch(/default export is not a function/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(scratch, "malformed-builds.txt"))).toBe(false);
  });
});

describe("emp report and emp plot on an emp run study (fixture power)", () => {
  // Eight runs per commit: with three, even completely separated runs give p = 2 / C(6, 3) = 0.1.
  let out: string;
  let commits: string[];

  beforeAll(() => {
    const repo = benchRepo("reported", [0.2, 0.4, 0.2]);
    commits = git(repo, "rev-list", "--reverse", "HEAD").split("\n");
    const config = writeStudy("reported", { repo, builds: join(scratch, "reported-builds.txt"), repeat: 8 });
    out = join(scratch, "reported-out");
    const result = runEmp(["run", config], fixtureEnv());
    expect(result.status, result.stderr).toBe(0);
  });

  it("reports first -> middle about +100 % and middle -> last about -50 %, both significant", () => {
    const result = runEmp(["report", out, "--json"]);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.order).toBe("git");
    expect(report.groups.map((g: { id: string }) => g.id)).toEqual(commits);
    const [up, down] = report.comparisons;
    console.log(
      "emp report on emp run (fixture power):",
      report.comparisons.map(
        (c: { change_pct: number; p_value: number; p_adjusted: number }) =>
          `${c.change_pct.toFixed(1)} % (p ${c.p_value.toExponential(2)}, adjusted ${c.p_adjusted.toExponential(2)})`,
      ),
    );
    expect(up.from).toBe(commits[0]);
    expect(up.to).toBe(commits[1]);
    expect(up.change_pct).toBeGreaterThan(85);
    expect(up.change_pct).toBeLessThan(115);
    expect(up.significant).toBe(true);
    expect(up.verdict).toBe("regression");
    expect(down.change_pct).toBeGreaterThan(-57);
    expect(down.change_pct).toBeLessThan(-43);
    expect(down.significant).toBe(true);
    expect(down.verdict).toBe("improvement");
    expect(report.change_points.map((c: { at: string }) => c.at)).toEqual([commits[1], commits[2]]);
  });

  it("plots the session's power trace from its samples, with the fixture's 5 W idle as the baseline", () => {
    const file = join(scratch, "reported-trace.svg");
    const result = runEmp(["plot", out, "-o", file, "--kind", "trace"]);
    expect(result.status, result.stderr).toBe(0);
    const svg = readFileSync(file, "utf8");
    expect(svg).toMatch(/role-mark trace0_power_marks/);
    // The baseline rule is the idle power the fixture writes.
    const baseline = /baseline W: ([\d.]+)/.exec(svg);
    expect(Number(baseline?.[1])).toBeGreaterThan(4.5);
    expect(Number(baseline?.[1])).toBeLessThan(5.5);
  });
});

describe("emp run with min_run_ms and warmup_policy: first-visit on a 10 ms command (fixture power)", () => {
  // hold-flag holds the fixture's flag exactly 10 ms: 20 W above the 5 W idle, 0.2 J net per iteration.
  let out: string;
  let config: string;
  let shas: string[];
  let first: { session: string; warnings: string[]; commits: Record<string, unknown>[] };

  /** Per commit: its runs.arrow rows as [warmup, iterations]. */
  function rowsPerCommit(): Map<string, [boolean, number][]> {
    const table = runsTable(out);
    const rows = new Map<string, [boolean, number][]>();
    for (let i = 0; i < table.numRows; i++) {
      const commit = table.getChild("commit")?.get(i) as string;
      rows.set(commit, [
        ...(rows.get(commit) ?? []),
        [table.getChild("warmup")?.get(i) as boolean, table.getChild("iterations")?.get(i) as number],
      ]);
    }
    return rows;
  }

  beforeAll(() => {
    const repo = join(scratch, "iterated");
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    for (const n of [1, 2]) git(repo, "commit", "-q", "--allow-empty", "-m", `commit ${n}`);
    shas = git(repo, "rev-list", "--reverse", "HEAD").split("\n");
    out = join(scratch, "iterated-out");
    config = join(scratch, "iterated.yaml");
    writeFileSync(
      config,
      [
        `repo: ${repo}`,
        "commits: { last: 2 }",
        `command: ["${HOLD_FLAG}", "${flag}", "10"]`,
        "repeat: 3",
        "warmup: 1",
        "warmup_policy: first-visit",
        "min_run_ms: 200",
        "baseline: 1",
        `out: ${out}`,
      ].join("\n"),
    );
    const result = runEmp(["run", config, "--json"], fixtureEnv());
    expect(result.status, result.stderr).toBe(0);
    first = JSON.parse(result.stdout);
  });

  it("iterates each run 10 times or more, one count per commit, and reports 20 W x 10 ms per iteration", () => {
    console.log(
      "emp run min_run_ms 200 on hold-flag 10 ms:",
      JSON.stringify(first.commits.map((c) => [c.iterations, c.domains])),
      JSON.stringify([...rowsPerCommit()]),
    );
    const rows = rowsPerCommit();
    // Three visits of one run each; first-visit: one warmup per commit. No calibration run is a row.
    expect(runsTable(out).numRows).toBe(8);
    for (const [i, sha] of shas.entries()) {
      const c = first.commits[i] as {
        commit: string;
        runs: number;
        iterations: number;
        domains: Record<string, { net_median_j: number; median_s: number }>;
      };
      expect(c.commit).toBe(sha);
      expect(c.runs).toBe(3);
      expect(c.iterations).toBeGreaterThanOrEqual(10);
      expect(rows.get(sha)).toEqual([
        [true, c.iterations],
        [false, c.iterations],
        [false, c.iterations],
        [false, c.iterations],
      ]);
      const perIterationJ = c.domains["package-0"]?.net_median_j ?? 0;
      expect(Math.abs(perIterationJ / (20 * 0.01) - 1)).toBeLessThan(0.15);
      expect(c.domains["package-0"]?.median_s).toBeGreaterThanOrEqual(0.01);
      expect(c.domains["package-0"]?.median_s).toBeLessThan(0.02);
    }
    // 3 runs against 3 never give p < 0.05: said once, with the repeat that would do.
    expect(first.warnings.filter((w) => w.startsWith("comparing neighbouring commits"))).toEqual([
      expect.stringMatching(
        /with 3 vs 3 runs the Mann-Whitney test cannot reach p < 0\.05 .*repeat at least 4 times \(--repeat 4\)/,
      ),
    ]);
  });

  it("a later session with more runs measures on with the ledger's counts instead of calibrating again", () => {
    const ledger = Ledger.open(out, { readOnly: true });
    const calibrated = shas.map((sha) => ledger.calibration(sha, ledger.lastSession()?.configHash ?? ""));
    ledger.close();
    expect(calibrated.map((c) => c?.sessionId)).toEqual([first.session, first.session]);

    const result = runEmp(["run", config, "--repeat", "4", "--json"], fixtureEnv());
    expect(result.status, result.stderr).toBe(0);
    const second = JSON.parse(result.stdout);
    expect(second.commits.map((c: { iterations: number }) => c.iterations)).toEqual(
      calibrated.map((c) => c?.iterations),
    );
    const again = Ledger.open(out, { readOnly: true });
    try {
      const runs = again.runs().filter((r) => r.sessionId === second.session);
      // One warmup and one run per commit, at the first session's counts; ordinal 0 is the first of
      // them: no calibration run came before.
      expect(runs.map((r) => [r.commit, r.warmup, r.iterations])).toEqual(
        shas.flatMap((sha, i) => [
          [sha, true, calibrated[i]?.iterations],
          [sha, false, calibrated[i]?.iterations],
        ]),
      );
      expect(runs[0]?.ordinal).toBe(0);
      expect(shas.map((sha) => again.calibration(sha, second.config_hash))).toEqual(calibrated);
    } finally {
      again.close();
    }
    // 4 vs 4 can reach p < 0.05, but only with every run of one commit beyond the other's.
    expect(second.warnings).toContainEqual(
      expect.stringMatching(
        /with 4 vs 4 runs the Mann-Whitney test reaches p < 0\.05 only if the runs hardly overlap/,
      ),
    );
  });
});

describe("emp run with work and metrics: a time-bounded benchmark (fixture power)", () => {
  // Both commits hold the fixture's flag 50 ms (1 J net per run); the second does twice the work in it.
  it("reports net energy per unit of work per commit, the metric, their columns, and emp report compares them", () => {
    const repo = join(scratch, "bounded");
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    for (const ops of [1000, 2000]) {
      writeFileSync(join(repo, "bench.sh"), `${HOLD_FLAG} ${flag} 50\necho "did ${ops} ops"\n`);
      git(repo, "add", "-A");
      git(repo, "commit", "-q", "-m", `${ops} ops in 50 ms`);
    }
    const shas = git(repo, "rev-list", "--reverse", "HEAD").split("\n");
    const out = join(scratch, "bounded-out");
    const config = join(scratch, "bounded.yaml");
    writeFileSync(
      config,
      [
        `repo: ${repo}`,
        "commits: { last: 2 }",
        'command: "sh bench.sh"',
        "repeat: 5",
        "warmup: 0",
        "baseline: 0.5",
        'metrics: ["done[ops]=did (\\\\d+) ops"]',
        `out: ${out}`,
      ].join("\n"),
    );
    const result = runEmp(["run", config, "--json"], fixtureEnv());
    expect(result.status, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      work_unit: string;
      commits: { commit: string; work: Record<string, number>; metrics: Record<string, number> }[];
    };
    console.log("emp run with metrics:", JSON.stringify(summary.commits.map((c) => [c.work, c.metrics])));
    expect(summary.work_unit).toBe("J/ops");
    expect(summary.commits.map((c) => c.metrics.done)).toEqual([1000, 2000]);
    const [a, b] = summary.commits.map((c) => c.work["package-0"] ?? 0);
    expect(Math.abs((a ?? 0) / 1e-3 - 1)).toBeLessThan(0.1);
    expect(Math.abs((b ?? 0) / 5e-4 - 1)).toBeLessThan(0.1);
    const table = runsTable(out);
    const done = Array.from(table.getChild("metric_done") ?? []) as number[];
    expect(done.sort((x, y) => x - y)).toEqual([...Array(5).fill(1000), ...Array(5).fill(2000)]);
    expect(table.schema.fields.find((f) => f.name === "package-0_net_j_per_unit")?.metadata.get("unit")).toBe(
      "J/ops",
    );
    const report = runEmp(["report", "--json", out]);
    expect(report.status, report.stderr).toBe(0);
    const r = JSON.parse(report.stdout) as {
      domains: string[];
      comparisons: { domain: string; to: string; verdict: string }[];
    };
    expect(r.domains).toEqual(["package-0", "package-0 J/ops", "metric done"]);
    // Per run the two cost alike; per unit of work the second is half: an improvement.
    const perUnit = r.comparisons.find((c) => c.domain === "package-0 J/ops");
    expect(perUnit?.to).toBe(shas[1]);
    expect(perUnit?.verdict).toBe("improvement");
    expect(r.comparisons.find((c) => c.domain === "metric done")?.verdict).toBe("higher");
  });

  it("a work that is not N UNIT, or a metric that is not NAME=REGEX: exit 2 naming the key", () => {
    for (const [key, message] of [
      ['work: "ten MB"', /work: must be the work of one run: an amount and a unit/],
      ['metrics: ["tput"]', /metrics\[0\]: must be NAME\[UNIT\]=REGEX/],
    ] as const) {
      const config = join(scratch, "bad-work.yaml");
      writeFileSync(config, ["repo: .", "commits: HEAD", 'command: "true"', key].join("\n"));
      const result = runEmp(["run", config]);
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});

describe("emp run and the measured process tree", () => {
  /** A one-commit repository whose command is `script`, and a study of it with `keys`; returns the config and its out. */
  function scriptStudy(name: string, script: string, keys: string[]): { config: string; out: string } {
    const repo = join(scratch, name);
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    writeFileSync(join(repo, "bench.sh"), script);
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "bench");
    const config = join(scratch, `${name}.yaml`);
    const out = join(scratch, `${name}-out`);
    const study = [`repo: ${repo}`, "commits: HEAD", 'command: "sh bench.sh"', "warmup: 0", "baseline: 0.2"];
    writeFileSync(config, [...study, ...keys, `out: ${out}`].join("\n"));
    return { config, out };
  }

  it("wait_descendants: each run lasts until its background child has ended", () => {
    const { config, out } = scriptStudy("waits", "sleep 0.3 &\nexit 0\n", [
      "repeat: 2",
      "wait_descendants: true",
    ]);
    const result = runEmp(["run", config, "--json"]);
    expect(result.status, result.stderr).toBe(0);
    const durations = runsTable(out).getChild("duration_s")?.toArray() as Float64Array;
    expect([...durations].every((d) => d >= 0.3)).toBe(true);
    expect(JSON.parse(result.stdout).warnings.some((w: string) => /descendant/.test(w))).toBe(false);
  });

  it("SIGTERM to emp run ends the run's whole tree, keeps the runs done and exits 143", async () => {
    const pids = join(scratch, "term-pids");
    // The first run ends at once; the second starts a grandchild and waits.
    const { config, out } = scriptStudy(
      "term",
      `sleep 77 & echo $! >> ${pids}\n[ $(wc -l < ${pids}) -ge 2 ] && sleep 60\nexit 0\n`,
      ["repeat: 3"],
    );
    const child = spawn(process.execPath, [main, "run", config, "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const count = () => (existsSync(pids) ? readFileSync(pids, "utf8").trim().split("\n").length : 0);
    const deadline = Date.now() + 30_000;
    while (count() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(JSON.parse(stdout).interrupted).toBe(true);
    expect(runsTable(out).numRows).toBe(1);
    const warnings = runsTable(out).getChild("warnings")?.get(0);
    expect(JSON.stringify(warnings)).toContain("1 descendant process still running");
    expect(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).state).toBe("interrupted");
    const history = JSON.parse(runEmp(["history", out, "--json"]).stdout);
    expect(history.sessions.map((s: { state: string }) => s.state)).toEqual(["interrupted"]);
    const started = readFileSync(pids, "utf8").trim().split("\n").map(Number);
    const until = Date.now() + 10_000;
    while (started.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(started.filter(alive)).toEqual([]);
  });

  it("kill -9 of emp run: history reads dead; emp resume names or ends what the run left and finishes", async () => {
    const pids = join(scratch, "killed-pids");
    // The second run starts a grandchild and waits: emp is killed during it.
    const { config, out } = scriptStudy(
      "killed",
      `sleep 77 & echo $! >> ${pids}\n[ $(wc -l < ${pids}) -ge 2 ] && [ ! -f ${pids}.resumed ] && sleep 60\nexit 0\n`,
      ["repeat: 3"],
    );
    const child = spawn(process.execPath, [main, "run", config, "--json"], { stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );
    const count = () => (existsSync(pids) ? readFileSync(pids, "utf8").trim().split("\n").length : 0);
    const deadline = Date.now() + 30_000;
    while (count() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const left = Number(readFileSync(pids, "utf8").trim().split("\n")[1]);

    const history = JSON.parse(runEmp(["history", out, "--json"]).stdout);
    expect(history.sessions).toMatchObject([
      { state: "dead", error: `its process (pid ${child.pid}) is gone`, measured_runs: 1 },
    ]);
    expect(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"))).toMatchObject({
      state: "running",
      process: { pid: child.pid, host: hostname() },
    });

    writeFileSync(`${pids}.resumed`, "");
    const resumed = runEmp(["resume", out, "--json"]);
    try {
      expect(resumed.status, resumed.stderr).toBe(0);
      const summary = JSON.parse(resumed.stdout);
      expect(summary.commits.map((c: { runs: number }) => c.runs)).toEqual([3]);
      // In a cgroup (where emp can make one) the probe of the resume (or of any emp started since,
      // such as another test's) ends what the run left; in a process group it is named, with the
      // command that ends it.
      const containment = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).provenance.containment;
      const named = summary.warnings.filter((w: string) =>
        /of its last run running in process group/.test(w),
      );
      if (containment.kind === "cgroup") {
        expect(alive(left)).toBe(false);
        expect(named).toEqual([]);
      } else {
        expect(named).toHaveLength(1);
        expect(named[0]).toContain(`${left} (sleep)`);
        expect(named[0]).toMatch(/end them with `kill -TERM -\d+`$/);
      }
      const sessions = JSON.parse(runEmp(["history", out, "--json"]).stdout).sessions;
      expect(sessions.map((s: { state: string }) => s.state)).toEqual(["complete", "dead"]);
    } finally {
      if (alive(left)) process.kill(left, "SIGKILL");
    }
  });
});

describe("emp run on the starter config of emp init, in a fresh repository", () => {
  /** Two empty commits and `emp init`'s starter, its keys set by `edit`; returns the config and its out. */
  function starterStudy(name: string, edit: (text: string) => string): { config: string; out: string } {
    const repo = join(scratch, name);
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    git(repo, "commit", "-q", "--allow-empty", "-m", "first");
    git(repo, "commit", "-q", "--allow-empty", "-m", "second");
    const config = join(repo, "emp.yaml");
    const init = runEmp(["init", config]);
    expect(init.status, init.stderr).toBe(0);
    const starter = readFileSync(config, "utf8")
      .replace("  last: 5", "  last: 2")
      .replace("# repeat: 10", "repeat: 2")
      .replace("# baseline: 5s", "baseline: 0.2s");
    // The default out is in the current folder (this repository's, here): one of the scratch's instead.
    const out = join(scratch, `${name}-out`);
    writeFileSync(config, `${edit(starter)}\nout: ${out}\n`);
    return { config, out };
  }

  it("./bench is not there (exit 127 in every run): warmups and runs numbered apart, one log each, history counts the failures", () => {
    // warmup 1 (the default) at each of the 2 visits to each commit, batch size 1.
    const { config, out } = starterStudy("starter-127", (text) => text);
    const result = runEmp(["run", config, "--json"]);
    expect(result.status, result.stderr).toBe(1);
    const summary = JSON.parse(result.stdout);
    const shorts = git(join(scratch, "starter-127"), "log", "--format=%h", "--abbrev=7").split("\n");
    for (const short of shorts) {
      const logs = join(out, "logs", short);
      for (const name of ["warmup-1.log", "warmup-2.log", "run-1.log", "run-2.log"]) {
        expect(readFileSync(join(logs, name), "utf8"), name).toMatch(/bench: not found/);
      }
      expect(existsSync(join(logs, "warmup.log"))).toBe(false);
      const named = summary.warnings.filter((w: string) => w.startsWith(`${short} `) && /127/.test(w));
      expect(named.map((w: string) => w.split(":")[0]).sort()).toEqual(
        ["run 1", "run 2", "warmup 1", "warmup 2"].map((n) => `${short} ${n}`),
      );
    }
    expect(summary.warnings.some((w: string) => /\brun 0\b|\bwarmup 0\b/.test(w))).toBe(false);

    const history = runEmp(["history", out, "--json"]);
    expect(history.status, history.stderr).toBe(0);
    const h = JSON.parse(history.stdout);
    expect(h.sessions).toHaveLength(1);
    expect(h.sessions[0]).toMatchObject({
      state: "complete",
      measured_runs: 4,
      warmup_runs: 4,
      failed_runs: 4,
      failed_warmups: 4,
      failed_builds: 0,
    });
    // Each run of `sh -c ./bench` takes milliseconds; the sums are of exactly those runs.
    expect(h.sessions[0].run_s).toBeGreaterThan(0);
    expect(h.sessions[0].warmup_s).toBeGreaterThan(0);
    expect(h.sessions[0].build_s).toBeGreaterThanOrEqual(0);
    expect(h.failed_runs).toHaveLength(4);
    for (const group of h.failed_runs) {
      expect(group).toMatchObject({
        count: 2,
        how: { "exit 127": 2 },
        first: group.warmup ? "warmup 1" : "run 1",
      });
      expect(readFileSync(group.first_log, "utf8")).toMatch(/bench: not found/);
    }
    const text = runEmp(["history", out]).stdout;
    expect(text).not.toMatch(/failures: none/);
    expect(text).toMatch(/ 4 runs, 4 warmups\n/);
    expect(text).toMatch(/runs whose command failed/);
  });

  it("a build that fails: each commit skipped with its log named once, in emp run and in emp history", () => {
    const { config, out } = starterStudy("starter-build", (text) =>
      text.replace("# build: make -j8", "build: make -j8"),
    );
    const result = runEmp(["run", config]);
    expect(result.status, result.stderr).toBe(1);
    const skipped = result.stdout.split("\n").filter((l) => l.startsWith("skipped "));
    expect(skipped).toHaveLength(2);
    for (const line of skipped) {
      expect(line).toMatch(/^skipped [0-9a-f]{12}: build exited with 2 \(log: \/.*\/prepare\.log\)$/);
      expect(line.split("prepare.log")).toHaveLength(2);
    }
    const text = runEmp(["history", out]).stdout;
    expect(text.match(/prepare\.log/g)).toHaveLength(2);
    expect(text).toMatch(/ 2 builds\n/);
  });
});

describe("emp run and emp resume: bad input", () => {
  it("exits 2 with one message and the fix, nothing measured, no stack trace", () => {
    const config = join(scratch, "bad.yaml");
    writeFileSync(config, 'repo: .\ncommits: HEAD\ncommand: "true"\nrepat: 3\n');
    const policy = join(scratch, "bad-policy.yaml");
    writeFileSync(policy, 'repo: .\ncommits: HEAD\ncommand: "true"\nwarmup_policy: sometimes\n');
    const good = join(scratch, "good.yaml");
    writeFileSync(good, `repo: .\ncommits: HEAD\ncommand: "true"\nout: ${join(scratch, "good-out")}\n`);
    const cases: Array<[string[], RegExp]> = [
      [["run", good, "--repeat", "0"], /--repeat/],
      [["run", good, "--order", "sideways"], /--order: must be one of interleaved, shuffled, grouped/],
      [["run", good, "--min-run-ms", "0"], /--min-run-ms takes milliseconds in \(0, 86400000\], got '0'/],
      [["run", policy], /warmup_policy: must be one of every-visit, first-visit; got "sometimes"/],
      [["run", join(scratch, "missing.yaml")], /config file not found/],
      [["run", config], /repat: unknown key; did you mean `repeat`\?/],
      [["run"], /missing required argument 'config'/],
      [["resume", join(scratch, "nowhere")], /no emp run session in/],
    ];
    for (const [args, message] of cases) {
      const result = runEmp(args);
      expect(result.status, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe("");
    }
    expect(existsSync(join(scratch, "good-out"))).toBe(false);
  });
});

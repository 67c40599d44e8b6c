// Results folders as a user meets them: an earlier session is never replaced unasked, two emps
// never write one folder at once, and summary.json stays bounded over any number of runs.
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Table, tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../src/ledger/ledger.js";
import { EnergyWriter, powercapZone } from "./fixtures/energy.js";
import { FixtureTree, writeCpuTopology } from "./fixtures/tree.js";
import { runEmp } from "./helpers/emp-cli.js";

const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
let scratch: string;
let tree: FixtureTree;
let writer: EnergyWriter;
let flag: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "emp-results-cli-"));
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

const _fixtureEnv = () => ({ EMP_SYSFS_ROOT: tree.root });

/** A quick measurement on the labelled estimate: `runs` runs of `true`. */
function measureArgs(out: string, runs: number, ...extra: string[]): string[] {
  return [
    "measure",
    "--baseline",
    "0.1",
    "--warmup",
    "0",
    "--repeat",
    String(runs),
    "--out",
    out,
    ...extra,
    "--",
    "true",
  ];
}

function readTable(path: string): Table {
  return tableFromIPC(readFileSync(path));
}

/** Every file of a folder with its bytes, to show nothing in it changed. */
function snapshot(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name)).toString("base64")]));
}

/** emp's own lines on stderr: one message and its fix, nothing else, no stack trace. */
function expectOneMessage(stderr: string, message: RegExp, fix: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  expect(lines, stderr).toHaveLength(2);
  expect(lines[0]).toMatch(/^emp: /);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/^ {2}fix: /);
  expect(lines[1]).toMatch(fix);
}

describe("emp measure never replaces a session unasked", () => {
  it("refuses a folder holding a session (exit 2, files untouched); --force replaces it and says so", () => {
    const out = join(scratch, "measured");
    const first = runEmp(measureArgs(out, 1));
    expect(first.status, first.stderr).toBe(0);
    const before = snapshot(out);
    expect([...before.keys()].sort()).toEqual([
      "manifest.json",
      "runs.arrow",
      "samples.arrow",
      "summary.json",
    ]);

    const again = runEmp(measureArgs(out, 2));
    expect(again.status).toBe(2);
    expectOneMessage(
      again.stderr,
      /already holds an emp measure session \(manifest\.json/,
      /--force to replace it/,
    );
    expect(again.stdout).toBe("");
    expect(snapshot(out)).toEqual(before);

    const forced = runEmp(measureArgs(out, 2, "--force"));
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(
      /^emp: replacing the session in .* \(--force\): removed runs\.arrow, samples\.arrow, summary\.json, manifest\.json$/m,
    );
    expect(readTable(join(out, "runs.arrow")).numRows).toBe(2);
    expect(readdirSync(out).sort()).toEqual(["manifest.json", "runs.arrow", "samples.arrow", "summary.json"]);
  });

  it("lets one of two measurements into one folder at a time: the other gets exit 2, in use", async () => {
    const out = join(scratch, "contended");
    const first = spawn(
      process.execPath,
      [main, ...measureArgs(out, 1).map((a) => (a === "0.1" ? "3" : a))],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise<number | null>((resolve) => first.on("exit", resolve));
    // The first holds the folder's lock from before its baseline (3 s) to its end.
    const lock = join(out, "emp.lock");
    for (const deadline = Date.now() + 20_000; !existsSync(lock) && Date.now() < deadline; )
      await new Promise((r) => setTimeout(r, 20));
    const second = runEmp(measureArgs(out, 1));
    expect(second.status).toBe(2);
    expectOneMessage(
      second.stderr,
      /is in use by another emp \(pid \d+\)/,
      /wait for it to finish, or give this one another --out/,
    );
    expect(await exited).toBe(0);
    expect(readTable(join(out, "runs.arrow")).numRows).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it("never writes into an emp run study (exit 2, --force or not), nor emp run into an emp measure session", () => {
    const study = join(scratch, "a-study");
    Ledger.open(study).close();
    writeFileSync(join(study, "manifest.json"), "{}\n");
    const before = snapshot(study);
    for (const force of [[], ["--force"]]) {
      const result = runEmp(measureArgs(study, 1, ...force));
      expect(result.status).toBe(2);
      expectOneMessage(
        result.stderr,
        /holds an emp run study \(manifest\.json, ledger\.sqlite\)/,
        /a folder of its own/,
      );
    }
    expect(snapshot(study)).toEqual(before);

    const session = join(scratch, "measured-then-run");
    expect(runEmp(measureArgs(session, 1)).status).toBe(0);
    const sessionBefore = snapshot(session);
    const repo = gitRepo("run-into-session", 0.01);
    const config = join(scratch, "run-into-session.yaml");
    writeFileSync(config, `repo: ${repo}\ncommits: HEAD\ncommand: "true"\nout: ${session}\n`);
    const result = runEmp(["run", config]);
    expect(result.status).toBe(2);
    expectOneMessage(
      result.stderr,
      /holds an emp measure session .*would replace its runs\.arrow/,
      /a folder of its own/,
    );
    expect(snapshot(session)).toEqual(sessionBefore);
  });
});

const GIT_ENV = {
  GIT_AUTHOR_NAME: "emp test",
  GIT_AUTHOR_EMAIL: "emp@example.com",
  GIT_COMMITTER_NAME: "emp test",
  GIT_COMMITTER_EMAIL: "emp@example.com",
};

/** A repository of one commit whose bench.sh holds the fixture's busy flag for `holdS` seconds. */
function gitRepo(name: string, holdS: number): string {
  const repo = join(scratch, name);
  mkdirSync(repo);
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "commit.gpgsign=false", ...args], {
      cwd: repo,
      env: { ...process.env, ...GIT_ENV },
    });
  git("init", "-q", "-b", "main");
  writeFileSync(join(repo, "bench.sh"), `touch "$EMP_FLAG"; sleep \${HOLD:-${holdS}}; rm -f "$EMP_FLAG"\n`);
  git("add", "-A");
  git("commit", "-q", "-m", "bench");
  return repo;
}

describe("summary.json over many runs", () => {
  it("keeps the details of the first and last 50 runs, says how many it leaves out, and runs.arrow has every run", () => {
    const out = join(scratch, "many-runs");
    // Each run leaves a background sleep, which emp ends with a warning on that run.
    const result = runEmp([...measureArgs(out, 120, "--json").slice(0, -2), "--", "sh", "-c", "sleep 5 &"]);
    expect(result.status, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8"))).toEqual(printed);
    expect(printed.runs_total).toBe(120);
    expect(printed.runs_omitted).toBe(20);
    expect(printed.runs.map((r: { index: number }) => r.index)).toEqual([
      ...Array.from({ length: 50 }, (_, i) => i),
      ...Array.from({ length: 50 }, (_, i) => 70 + i),
    ]);
    const runWarnings = (printed.warnings as string[]).filter((w) => /^run \d+: /.test(w));
    const warned = new Set(runWarnings.map((w) => Number(/^run (\d+)/.exec(w)?.[1])));
    expect([...warned].sort((a, b) => a - b)).toEqual(printed.runs.map((r: { index: number }) => r.index));
    expect(printed.warnings).toContain(
      "20 runs in the middle of the session are left out of this summary, with 20 warnings of theirs: runs.arrow holds every run and its warnings",
    );
    const runs = readTable(join(out, "runs.arrow"));
    expect(runs.numRows).toBe(120);
    const warnings = runs.getChild("warnings");
    for (let i = 0; i < 120; i++) expect([...(warnings?.get(i) ?? [])].join()).toMatch(/descendant process/);
  });
});

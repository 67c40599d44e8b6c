// `emp run --shard K/N` and `emp merge`: the slices are balanced, disjoint and cover the study; two
// shards merged report the same commits, in the same history order and with the same runs, as one
// unsharded run of the study; the merged ledger keeps every run's stages pointing at that run; and
// merges of what does not belong together are refused (exit 2) unless --force, which is recorded.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseShard, shardSlice } from "../src/config/shard.js";
import { scratchDir } from "./fixtures/study.js";
import { runEmp } from "./helpers/emp-cli.js";

describe("shards", () => {
  it("cuts any list into balanced, disjoint slices that cover it, the same way every time", () => {
    const items = Array.from({ length: 11 }, (_, i) => `c${i}`);
    for (const count of [1, 2, 3, 4, 11, 12]) {
      const slices = Array.from({ length: count }, (_, k) => shardSlice(items, { index: k + 1, count }));
      expect(slices.flat().sort()).toEqual([...items].sort());
      const sizes = slices.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      expect(shardSlice(items, { index: 1, count })).toEqual(slices[0]);
    }
    expect(shardSlice(items, { index: 2, count: 4 })).toEqual(["c1", "c5", "c9"]);
  });

  it("reads K/N and says what is wrong with anything else", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 });
    expect(() => parseShard("0/2")).toThrow(/shards are numbered from 1/);
    expect(() => parseShard("3/2")).toThrow(/there is no shard 3 of 2/);
    expect(() => parseShard("1/0")).toThrow(/N is at least 1/);
    expect(() => parseShard("half")).toThrow(/must be K\/N/);
  });
});

let scratch: string;
let repo: string;

function git(...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=emp test", "-c", "user.email=emp@example.com", ...args], {
    cwd: repo,
    encoding: "utf8",
  }).trim();
}

function study(name: string, command = "sleep 0.02"): string {
  const path = join(scratch, `${name}.yaml`);
  writeFileSync(
    path,
    [
      `repo: ${repo}`,
      "commits: { last: 5 }",
      `command: ${command}`,
      "repeat: 2",
      "warmup: 1", // warmups are runs in the ledger, not in the counts merge reports
      "baseline: 0.2",
    ].join("\n"),
  );
  return path;
}

interface ReportJson {
  groups: { commit: string; runs: number }[];
}

function report(dir: string): { commit: string; runs: number }[] {
  const result = runEmp(["report", dir, "--json"]);
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as ReportJson).groups.map((g) => ({ commit: g.commit, runs: g.runs }));
}

describe("emp run --shard and emp merge", () => {
  beforeAll(() => {
    scratch = scratchDir("emp-shard-");
    repo = join(scratch, "repo");
    mkdirSync(repo);
    git("init", "-q", "-b", "main");
    for (let i = 1; i <= 5; i++) {
      writeFileSync(join(repo, "version"), `${i}\n`);
      git("add", "-A");
      git("commit", "-q", "-m", `version ${i}`);
    }
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("refuses a shard that does not exist, before measuring anything", () => {
    for (const [shard, why] of [
      ["0/2", "shards are numbered from 1"],
      ["3/2", "there is no shard 3 of 2"],
    ]) {
      const result = runEmp(["run", study("bad"), "--shard", shard ?? "", "--out", join(scratch, "bad")]);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(why);
      expect(result.stderr).toContain("fix:");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("measures two shards that merge into the study one unsharded run measures", () => {
    const config = study("whole");
    const whole = runEmp(["run", config, "--out", join(scratch, "whole"), "--json"]);
    expect(whole.status, whole.stderr).toBe(0);
    const dirs = ["1/2", "2/2"].map((shard, k) => {
      const out = join(scratch, `shard-${k + 1}`);
      const result = runEmp(["run", config, "--shard", shard, "--out", out, "--json"]);
      expect(result.status, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout);
      expect(summary.shard).toMatchObject({ index: k + 1, count: 2, study_commits: 5 });
      expect(summary.commits).toHaveLength(k === 0 ? 3 : 2);
      return out;
    });

    const merged = join(scratch, "merged");
    const result = runEmp(["merge", ...dirs, "--out", merged, "--json"]);
    expect(result.status, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ sessions: 2, runs: 10, commits: 5, forced: [] });
    expect(summary.inputs.map((i: { shard: string }) => i.shard)).toEqual(["1/2", "2/2"]);

    const expected = report(join(scratch, "whole"));
    expect(expected).toHaveLength(5);
    expect(expected.every((g) => g.runs === 2)).toBe(true);
    expect(report(merged)).toEqual(expected);

    // Run ids are new in the merged ledger: each run's stages still name that run, of its session.
    const db = new Database(join(merged, "ledger.sqlite"), { readonly: true });
    try {
      const stray = db
        .prepare(
          `SELECT count(*) FROM stage_executions e LEFT JOIN runs r ON r.id = e.run_id
           WHERE e.run_id IS NOT NULL AND (r.id IS NULL OR r.session_id != e.session_id OR r.commit_sha != e.commit_sha)`,
        )
        .pluck()
        .get();
      expect(stray).toBe(0);
      // One measure stage per run, warmups included: 5 commits, each visited twice, a warmup and a run a visit.
      expect(db.prepare("SELECT count(*) FROM runs").pluck().get()).toBe(20);
      expect(db.prepare("SELECT count(*) FROM stage_executions WHERE stage = 'measure'").pluck().get()).toBe(
        20,
      );
    } finally {
      db.close();
    }

    // Resumed, the merged directory is the whole study: nothing is left to measure.
    const resumed = runEmp(["resume", merged]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain("nothing left to measure: 5 commits complete");
  });

  it("refuses to merge another config's session or into a folder with results, unless forced", () => {
    const other = join(scratch, "other");
    const run = runEmp(["run", study("other", "sleep 0.03"), "--shard", "2/2", "--out", other]);
    expect(run.status, run.stderr).toBe(0);
    const shard1 = join(scratch, "shard-1");

    const refused = runEmp(["merge", shard1, other, "--out", join(scratch, "refused")]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/ran 2 different configs/);
    expect(refused.stderr).toContain("--force");

    const into = runEmp(["merge", shard1, "--out", join(scratch, "whole")]);
    expect(into.status).toBe(2);
    expect(into.stderr).toContain("holds results already");

    const forced = join(scratch, "forced");
    const result = runEmp(["merge", shard1, other, "--out", forced, "--force"]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/warning: --force: the sessions ran 2 different configs/);
    const record = JSON.parse(readFileSync(join(forced, "merge.json"), "utf8"));
    expect(record.forced).toHaveLength(1);
    expect(record.inputs).toHaveLength(2);
  });
});

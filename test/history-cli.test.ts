// `emp history` end to end: the CLI in a child process on a ledger this test fills through the
// Ledger API (with a pinned clock), as text and as JSON, and on directories without a ledger.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommitInfo } from "../src/git/commit.js";
import { LEDGER_FILE, Ledger, type LedgerRun } from "../src/ledger/ledger.js";
import { LOCK_FILE } from "../src/results/lock.js";
import { formatDurationS } from "../src/util/table.js";
import { runEmp } from "./helpers/emp-cli.js";

const HASH_A = `${"a".repeat(12)}${"0".repeat(52)}`;
const HASH_B = `${"b".repeat(12)}${"0".repeat(52)}`;
const LONG_SUBJECT = "Replace the hand-written tokenizer with a table-driven one that handles UTF-8";

function commit(digit: string, subject: string, date: string): CommitInfo {
  const sha = digit.repeat(40);
  return { sha, short: sha.slice(0, 7), subject, author: "Ada <ada@example.org>", date };
}

const C1 = commit("1", "Parse the input in one pass", "2025-01-01T10:00:00+02:00");
const C2 = commit("2", LONG_SUBJECT, "2025-01-02T09:00:00Z");
const C3 = commit("3", "Bump the version", "2025-01-03T09:00:00Z");

let root: string;
let dir: string;
let writer: Ledger;
/** The pid of a process that has ended. */
const deadPid = spawnSync("true").pid ?? 0;

/** Fills a ledger the way three sessions of `emp run` would have. */
function fillLedger(): Ledger {
  let nowMs = 0;
  const at = (iso: string) => {
    nowMs = Date.parse(iso);
  };
  const ledger = Ledger.open(dir, { now: () => new Date(nowMs) });
  let startNs = 10n ** 12n;
  const run = (sessionId: string, c: CommitInfo, configHash: string, extra: Partial<LedgerRun> = {}) => {
    startNs += 2_000_000_000n;
    ledger.addRun({
      sessionId,
      commit: c.sha,
      configHash,
      repetition: 0,
      ordinal: 0,
      warmup: false,
      startNs,
      endNs: startNs + 1_000_000_000n,
      exitCode: 0,
      signal: null,
      timedOut: false,
      energy: { "package-0": { rawJ: 20, baselineJ: 5, netJ: 15 } },
      metrics: {},
      warnings: [],
      ...extra,
    });
  };
  const session = (id: string, configHash: string) =>
    ledger.startSession({ id, configHash, config: {}, origins: {}, empVersion: "0.1.0", host: "bench-host" });

  at("2025-03-01T12:00:00Z");
  session("s1", HASH_A);
  for (const c of [C1, C2, C3]) ledger.upsertCommit(c);
  const build1 = ledger.stageStarted({ sessionId: "s1", stage: "build", group: "prepare", commit: C1.sha });
  at("2025-03-01T12:00:30Z");
  ledger.setPrepared({
    commit: C1.sha,
    prepareHash: "p1",
    worktree: "/out/worktrees/1111111",
    state: "failed",
    logPath: "/out/logs/build-1111111.log",
    error: "make: *** [all] Error 2",
  });
  at("2025-03-01T12:01:00Z");
  ledger.stageEnded(build1, "failed", {
    error: "make: *** [all] Error 2\nmake: Leaving directory '/out/worktrees/1111111'\n",
    logPath: "/out/logs/build-1111111.log",
    retries: 1,
  });
  ledger.setPrepared({ commit: C2.sha, prepareHash: "p1", worktree: "/out/worktrees/2222222", state: "ok" });
  run("s1", C2, HASH_A, { warmup: true });
  run("s1", C2, HASH_A, { repetition: 0 });
  run("s1", C2, HASH_A, { repetition: 1 });
  at("2025-03-01T12:05:03Z");
  ledger.endSession("s1", "interrupted");

  at("2025-03-02T08:00:00Z");
  session("s2", HASH_B);
  ledger.setPrepared({ commit: C1.sha, prepareHash: "p1", worktree: "/out/worktrees/1111111", state: "ok" });
  run("s2", C1, HASH_B, { repetition: 0 });
  run("s2", C1, HASH_B, { repetition: 1 });
  run("s2", C1, HASH_B, { repetition: 2, exitCode: null, signal: "SIGKILL", timedOut: true });
  run("s2", C2, HASH_B, { repetition: 0 });
  const measure = ledger.stageStarted({
    sessionId: "s2",
    stage: "measure",
    group: "run",
    commit: C1.sha,
    runId: 9,
  });
  at("2025-03-02T09:00:00Z");
  ledger.stageEnded(measure, "failed", { error: "timed out after 60 s" });
  at("2025-03-02T10:05:00Z");
  ledger.endSession("s2", "complete");

  at("2025-03-02T11:00:00Z");
  session("s3", HASH_B);
  at("2025-03-02T11:00:42Z");
  ledger.endSession("s3", "failed", "no energy sensor can be read");

  // Two sessions whose emp never ended them: one of a process gone from this host, one of another
  // host whose lock is still on the directory.
  at("2025-03-03T08:00:00Z");
  session("s4", HASH_B);
  at("2025-03-03T09:00:00Z");
  session("s5", HASH_B);
  const raw = new Database(ledger.path);
  raw.prepare("UPDATE sessions SET pid = ?, host = ? WHERE id = 's4'").run(deadPid, hostname());
  raw.prepare("UPDATE sessions SET host = 'far-host', boot_id = 'far-boot' WHERE id = 's5'").run();
  raw.close();
  writeFileSync(join(dir, LOCK_FILE), "4242\n");
  return ledger;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "emp-history-"));
  dir = join(root, "emp-results", "bench");
  // Left open, as a running `emp run` would: the CLI reads beside a writer.
  writer = fillLedger();
});

afterAll(() => {
  writer.close();
  rmSync(root, { recursive: true, force: true });
});

/** A session's time and failure counts where it did nothing. */
const NOTHING_DONE = {
  build_s: 0,
  warmup_s: 0,
  run_s: 0,
  failed_runs: 0,
  failed_warmups: 0,
  failed_builds: 0,
  failed_stages: 0,
};

const EXPECTED_TEXT =
  () => `sessions (newest first, times UTC; build, warmup, measured: wall time summed over them)
id  started              ended                duration    state                  config        runs  build       warmup  measured  failed
s5  2025-03-03 09:00:00  -                    -           running (on far-host)  bbbbbbbbbbbb  0     -           -       -         -
s4  2025-03-03 08:00:00  -                    -           dead                   bbbbbbbbbbbb  0     -           -       -         -
s3  2025-03-02 11:00:00  2025-03-02 11:00:42  42 s        failed                 bbbbbbbbbbbb  0     -           -       -         -
s2  2025-03-02 08:00:00  2025-03-02 10:05:00  2 h 05 min  complete               bbbbbbbbbbbb  4     -           -       4 s       1 run, 1 stage
s1  2025-03-01 12:00:00  2025-03-01 12:05:03  5 min 03 s  interrupted            aaaaaaaaaaaa  2     1 min 00 s  1 s     2 s       1 build
  s4 dead: its process (pid ${deadPid}) is gone
  s3 failed: no energy sensor can be read

commits (oldest first; runs: measured runs per config hash)
commit        subject                                             build            runs
111111111111  Parse the input in one pass                         ok (2 attempts)  bbbbbbbbbbbb: 3 (1 failed)
222222222222  Replace the hand-written tokenizer with a table...  ok               aaaaaaaaaaaa: 2
                                                                                   bbbbbbbbbbbb: 1
333333333333  Bump the version                                    -                -

runs whose command failed
session  commit        of    failed  how           first  its log
s2       111111111111  runs  1       timed out ×1  run 3  -

failed stage executions
stage    group    commit        session  ended                retries
build    prepare  111111111111  s1       2025-03-01 12:01:00  1
    error: make: *** [all] Error 2
           make: Leaving directory '/out/worktrees/1111111'
    log:   /out/logs/build-1111111.log
measure  run      111111111111  s2       2025-03-02 09:00:00  0
    error: timed out after 60 s
`;

describe("emp history on a filled ledger", () => {
  it("prints sessions (time per kind of work, what failed, dead ones), commits and failures as aligned tables", () => {
    const result = runEmp(["history", dir]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(EXPECTED_TEXT());
  });

  it("accepts the path of the ledger file itself", () => {
    const result = runEmp(["history", join(dir, LEDGER_FILE)]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(EXPECTED_TEXT());
  });

  it("--json prints { sessions, commits, failed_runs, failures } with snake_case keys and every value", () => {
    const result = runEmp(["history", dir, "--json"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const history = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(history).toEqual({
      sessions: [
        {
          id: "s5",
          state: "running",
          running_on: "far-host",
          started_at: "2025-03-03T09:00:00.000Z",
          ended_at: null,
          duration_s: null,
          config_hash: HASH_B,
          emp_version: "0.1.0",
          host: "far-host",
          error: null,
          measured_runs: 0,
          warmup_runs: 0,
          ...NOTHING_DONE,
        },
        {
          id: "s4",
          state: "dead",
          running_on: null,
          started_at: "2025-03-03T08:00:00.000Z",
          ended_at: null,
          duration_s: null,
          config_hash: HASH_B,
          emp_version: "0.1.0",
          host: hostname(),
          error: `its process (pid ${deadPid}) is gone`,
          measured_runs: 0,
          warmup_runs: 0,
          ...NOTHING_DONE,
        },
        {
          id: "s3",
          state: "failed",
          running_on: null,
          started_at: "2025-03-02T11:00:00.000Z",
          ended_at: "2025-03-02T11:00:42.000Z",
          duration_s: 42,
          config_hash: HASH_B,
          emp_version: "0.1.0",
          host: "bench-host",
          error: "no energy sensor can be read",
          measured_runs: 0,
          warmup_runs: 0,
          ...NOTHING_DONE,
        },
        {
          id: "s2",
          state: "complete",
          running_on: null,
          started_at: "2025-03-02T08:00:00.000Z",
          ended_at: "2025-03-02T10:05:00.000Z",
          duration_s: 7500,
          config_hash: HASH_B,
          emp_version: "0.1.0",
          host: "bench-host",
          error: null,
          measured_runs: 4,
          warmup_runs: 0,
          ...NOTHING_DONE,
          run_s: 4,
          failed_runs: 1,
          failed_stages: 1,
        },
        {
          id: "s1",
          state: "interrupted",
          running_on: null,
          started_at: "2025-03-01T12:00:00.000Z",
          ended_at: "2025-03-01T12:05:03.000Z",
          duration_s: 303,
          config_hash: HASH_A,
          emp_version: "0.1.0",
          host: "bench-host",
          error: null,
          measured_runs: 2,
          warmup_runs: 1,
          ...NOTHING_DONE,
          build_s: 60,
          warmup_s: 1,
          run_s: 2,
          failed_builds: 1,
        },
      ],
      commits: [
        {
          ...C1,
          prepared: [
            {
              prepare_hash: "p1",
              state: "ok",
              worktree: "/out/worktrees/1111111",
              log_path: null,
              error: null,
              attempts: 2,
              last_attempt_at: "2025-03-02T08:00:00.000Z",
            },
          ],
          runs: [{ config_hash: HASH_B, measured_runs: 3, warmup_runs: 0, failed_runs: 1 }],
        },
        {
          ...C2,
          prepared: [
            {
              prepare_hash: "p1",
              state: "ok",
              worktree: "/out/worktrees/2222222",
              log_path: null,
              error: null,
              attempts: 1,
              last_attempt_at: "2025-03-01T12:01:00.000Z",
            },
          ],
          runs: [
            { config_hash: HASH_A, measured_runs: 2, warmup_runs: 1, failed_runs: 0 },
            { config_hash: HASH_B, measured_runs: 1, warmup_runs: 0, failed_runs: 0 },
          ],
        },
        { ...C3, prepared: [], runs: [] },
      ],
      failed_runs: [
        {
          session_id: "s2",
          commit: C1.sha,
          warmup: false,
          count: 1,
          how: { "timed out": 1 },
          first: "run 3",
          first_log: null,
        },
      ],
      failures: [
        {
          id: 1,
          session_id: "s1",
          stage: "build",
          group: "prepare",
          commit: C1.sha,
          run_id: null,
          started_at: "2025-03-01T12:00:00.000Z",
          ended_at: "2025-03-01T12:01:00.000Z",
          retries: 1,
          error: "make: *** [all] Error 2\nmake: Leaving directory '/out/worktrees/1111111'\n",
          log_path: "/out/logs/build-1111111.log",
        },
        {
          id: 2,
          session_id: "s2",
          stage: "measure",
          group: "run",
          commit: C1.sha,
          run_id: 9,
          started_at: "2025-03-02T08:00:00.000Z",
          ended_at: "2025-03-02T09:00:00.000Z",
          retries: 0,
          error: "timed out after 60 s",
          log_path: null,
        },
      ],
    });
  });
});

describe("emp history without a usable ledger", () => {
  it("a missing directory: exit 2, one message with the fix, no stack trace, nothing created", () => {
    const missing = join(root, "nowhere");
    const result = runEmp(["history", missing]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `emp: no ledger in ${missing} (no such directory)\n` +
        "  fix: give the results directory of an `emp run` (the `out` of its config, by default emp-results/<config name>)\n",
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(missing)).toBe(false);
  });

  it("the parent of results directories: names the ones in it", () => {
    const result = runEmp(["history", join(root, "emp-results")]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `emp: no ledger in ${join(root, "emp-results")}\n` +
        `  fix: give one of the results directories in it: \`emp history ${dir}\`\n`,
    );
  });

  it("a file that is not a ledger: exit 2 naming it", () => {
    const broken = join(root, "broken");
    mkdirSync(broken);
    writeFileSync(join(broken, LEDGER_FILE), "not a database, only some text long enough to have a header");
    const result = runEmp(["history", broken]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `^emp: ${join(broken, LEDGER_FILE)} is not a readable SQLite ledger \\(file is not a database\\)\n  fix: `,
      ),
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("no DIR: a usage error pointing at --help", () => {
    const result = runEmp(["history"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("emp: missing required argument 'dir' (see `emp history --help`)\n");
  });

  it("an empty ledger says so in each section", () => {
    const empty = join(root, "empty");
    Ledger.open(empty).close();
    const result = runEmp(["history", empty]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("sessions: none yet\n\ncommits: none yet\n\nfailures: none\n");
    expect(JSON.parse(runEmp(["history", empty, "--json"]).stdout)).toEqual({
      sessions: [],
      commits: [],
      failed_runs: [],
      failures: [],
    });
  });
});

describe("formatDurationS", () => {
  it("reads like a person would say it", () => {
    expect(formatDurationS(0.25)).toBe("250 ms");
    expect(formatDurationS(42.4)).toBe("42 s");
    expect(formatDurationS(59.6)).toBe("1 min 00 s");
    expect(formatDurationS(303)).toBe("5 min 03 s");
    expect(formatDurationS(7500)).toBe("2 h 05 min");
    expect(formatDurationS(3 * 86400 + 7 * 3600)).toBe("3 d 07 h");
  });
});

// The run ledger: every row type round-trips, resume bookkeeping (runsDone, markAbandoned) counts
// what it should, and the file survives reopening, a second connection and a killed writer.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmpError, UsageError } from "../src/errors.js";
import type { CommitInfo } from "../src/git/commit.js";
import { BUSY_TIMEOUT_MS, LEDGER_FILE, Ledger, type LedgerRun } from "../src/ledger/ledger.js";
import { LEDGER_APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from "../src/ledger/schema.js";
import { LOCK_FILE } from "../src/results/lock.js";
import { processStartTicks } from "../src/util/process.js";

const HASH_A = "a".repeat(64);
const HASH_B = "b".repeat(64);
/** Beyond Number.MAX_SAFE_INTEGER: a double would round it, so only a bigint path keeps it. */
const BIG_NS = 2n ** 62n + 7n;

function commit(n: number, date: string): CommitInfo {
  const sha = String(n).repeat(40).slice(0, 40);
  return { sha, short: sha.slice(0, 7), subject: `commit ${n}`, author: "Ada <ada@example.org>", date };
}

const C1 = commit(1, "2025-01-01T10:00:00+02:00");
const C2 = commit(2, "2025-01-01T09:30:00Z"); // later than C1 once the offset is applied

function run(overrides: Partial<LedgerRun> = {}): LedgerRun {
  return {
    sessionId: "s1",
    commit: C1.sha,
    configHash: HASH_A,
    repetition: 0,
    ordinal: 3,
    warmup: false,
    startNs: 1_000_000_000n,
    endNs: 1_250_000_000n,
    exitCode: 0,
    signal: null,
    timedOut: false,
    energy: { "package-0": { rawJ: 12.5, baselineJ: 2.25, netJ: 10.25 } },
    metrics: { instructions: 123456789, cycles: null },
    warnings: [],
    ...overrides,
  };
}

/** A clock that moves one second per reading, from a fixed start. */
function steppingClock(startIso = "2025-03-01T12:00:00.000Z"): () => Date {
  let t = Date.parse(startIso);
  return () => {
    const now = new Date(t);
    t += 1000;
    return now;
  };
}

/** A session of this process on this host, as `emp run` records one. */
function session(ledger: Ledger, id: string, configHash = HASH_A): void {
  ledger.startSession({
    id,
    configHash,
    config: { repeat: 10, command: ["./bench", "--quick"] },
    origins: { repeat: "flag", command: "file" },
    empVersion: "0.1.0",
    host: hostname(),
  });
}

function expectEmpError(action: () => unknown, code: string, message: RegExp): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(EmpError);
  expect((caught as EmpError).code).toBe(code);
  expect((caught as EmpError).message).toMatch(message);
}

let dir: string;
const opened: Ledger[] = [];

function open(options: Parameters<typeof Ledger.open>[1] = {}): Ledger {
  const ledger = Ledger.open(dir, { now: steppingClock(), ...options });
  opened.push(ledger);
  return ledger;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "emp-ledger-"));
});

afterEach(() => {
  for (const ledger of opened.splice(0)) {
    try {
      ledger.close();
    } catch {
      // closed by the test already
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("opening", () => {
  it("creates the ledger in WAL mode, at the current schema version, marked as emp's", () => {
    open({ now: undefined });
    const raw = new Database(join(dir, LEDGER_FILE), { readonly: true });
    try {
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(raw.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
      expect(SCHEMA_VERSION).toBe(3);
      expect(raw.pragma("application_id", { simple: true })).toBe(LEDGER_APPLICATION_ID);
      const tables = raw
        .prepare(
          "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .pluck()
        .all();
      expect(tables).toEqual(["calibrations", "commits", "prepared", "runs", "sessions", "stage_executions"]);
    } finally {
      raw.close();
    }
  });

  it("creates a missing results directory", () => {
    const nested = join(dir, "emp-results", "bench");
    const ledger = Ledger.open(nested);
    opened.push(ledger);
    expect(ledger.path).toBe(join(nested, LEDGER_FILE));
    expect(existsSync(ledger.path)).toBe(true);
  });

  it("enforces foreign keys: a run of an unrecorded commit is refused with the fix", () => {
    const ledger = open();
    session(ledger, "s1");
    let caught: unknown;
    try {
      ledger.addRun(run());
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EmpError);
    expect((caught as EmpError).code).toBe("E_STATE");
    expect((caught as EmpError).message).toBe(
      `ledger: cannot add a run of ${C1.sha}: its session or commit is not in the ledger`,
    );
    expect((caught as EmpError).suggestion).toMatch(/upsertCommit/);
    expect(ledger.runs()).toEqual([]);
  });

  it("refuses a ledger written by a newer emp, naming both versions", () => {
    open().close();
    const raw = new Database(join(dir, LEDGER_FILE));
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    for (const readOnly of [false, true]) {
      let caught: unknown;
      try {
        Ledger.open(dir, { readOnly });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(UsageError);
      expect((caught as UsageError).exitCode).toBe(2);
      expect((caught as UsageError).message).toBe(
        `${join(dir, LEDGER_FILE)} was written by a newer emp (ledger schema 4; this emp reads up to 3)`,
      );
      expect((caught as UsageError).suggestion).toMatch(/upgrade emp/);
    }
  });

  it("refuses another application's SQLite file instead of adding tables to it", () => {
    const raw = new Database(join(dir, LEDGER_FILE));
    raw.exec("CREATE TABLE notes (text TEXT)");
    raw.close();
    expect(() => Ledger.open(dir)).toThrow(/is an SQLite file with other tables, not an emp ledger/);
    const after = new Database(join(dir, LEDGER_FILE), { readonly: true });
    expect(after.prepare("SELECT count(*) FROM sqlite_schema").pluck().get()).toBe(1);
    after.close();
  });

  it("refuses a file that is not SQLite at all, as a usage error", () => {
    writeFileSync(
      join(dir, LEDGER_FILE),
      "this is not a database, only text that is long enough to look like one",
    );
    expect(() => Ledger.open(dir)).toThrow(UsageError);
    expect(() => Ledger.open(dir)).toThrow(/is not a readable SQLite ledger \(file is not a database\)/);
  });

  it("read-only: a missing ledger is a usage error and nothing is created", () => {
    expect(() => Ledger.open(join(dir, "nothing"), { readOnly: true })).toThrow(
      `no ledger in ${join(dir, "nothing")}`,
    );
    expect(existsSync(join(dir, "nothing"))).toBe(false);
  });
});

describe("sessions", () => {
  it("round-trips every column, with config and origins as JSON and ISO times", () => {
    const ledger = open();
    session(ledger, "s1");
    const started = ledger.lastSession();
    expect(started).toEqual({
      id: "s1",
      configHash: HASH_A,
      config: { repeat: 10, command: ["./bench", "--quick"] },
      origins: { repeat: "flag", command: "file" },
      empVersion: "0.1.0",
      host: hostname(),
      pid: process.pid,
      bootId: existsSync("/proc/sys/kernel/random/boot_id") ? expect.stringMatching(/^[0-9a-f-]{36}$/) : null,
      processStart: processStartTicks(process.pid),
      runGroup: null,
      runCgroup: null,
      state: "running",
      startedAt: "2025-03-01T12:00:00.000Z",
      endedAt: null,
      error: null,
      measuredRuns: 0,
      warmupRuns: 0,
    });
    ledger.endSession("s1", "failed", "the build of every commit failed");
    expect(ledger.lastSession()).toMatchObject({
      state: "failed",
      endedAt: "2025-03-01T12:00:01.000Z",
      error: "the build of every commit failed",
    });
  });

  it("lists newest first with measured runs and warmups counted per session", () => {
    const ledger = open();
    ledger.upsertCommit(C1);
    session(ledger, "s1");
    ledger.addRun(run({ warmup: true }));
    ledger.addRun(run({ repetition: 0 }));
    ledger.addRun(run({ repetition: 1 }));
    ledger.endSession("s1", "interrupted");
    session(ledger, "s2", HASH_B);
    ledger.addRun(run({ sessionId: "s2", configHash: HASH_B }));
    const rows = ledger.sessions();
    expect(rows.map((s) => [s.id, s.state, s.configHash, s.measuredRuns, s.warmupRuns])).toEqual([
      ["s2", "running", HASH_B, 1, 0],
      ["s1", "interrupted", HASH_A, 2, 1],
    ]);
    expect(ledger.lastSession()?.id).toBe("s2");
  });

  it("refuses a second session with the same id and ending a session twice or one never started", () => {
    const ledger = open();
    session(ledger, "s1");
    expectEmpError(
      () => session(ledger, "s1"),
      "E_STATE",
      /cannot start session s1: it is in the ledger already/,
    );
    ledger.endSession("s1", "complete");
    expectEmpError(
      () => ledger.endSession("s1", "failed"),
      "E_STATE",
      /session s1 already ended \(complete\)/,
    );
    expectEmpError(() => ledger.endSession("nope", "complete"), "E_STATE", /no session nope to end/);
    expectEmpError(() => ledger.endSession("s1", "running"), "E_INVALID_ARGUMENT", /cannot end in state/);
    expect(ledger.lastSession()?.state).toBe("complete");
  });
});

describe("commits", () => {
  it("upserts and lists oldest committer time first, whatever the time zone", () => {
    const ledger = open();
    ledger.upsertCommit(C2);
    ledger.upsertCommit(C1);
    ledger.upsertCommit({ ...C1, subject: "commit 1, reworded by a newer resolve" });
    expect(ledger.commits()).toEqual([{ ...C1, subject: "commit 1, reworded by a newer resolve" }, C2]);
  });
});

describe("runs", () => {
  it("round-trips every field: ns beyond 2^53 exactly as bigint, JSON fields, nulls and flags", () => {
    const ledger = open();
    ledger.upsertCommit(C1);
    session(ledger, "s1");
    const first = run({ startNs: BIG_NS, endNs: BIG_NS + 1_234_567_891n });
    const killed = run({
      repetition: 1,
      startNs: BIG_NS + 2_000_000_000n,
      endNs: BIG_NS + 62_000_000_001n,
      exitCode: null,
      signal: "SIGKILL",
      timedOut: true,
      energy: {
        "package-0": { rawJ: 600.125, baselineJ: 120.5, netJ: 479.625 },
        "dram-0": { rawJ: 30, baselineJ: 31.5, netJ: -1.5 },
      },
      metrics: { "task-clock": 59_999_999_123, "page-faults": null },
      warnings: ["timed out after 60 s", "package-0: counter wrapped once"],
      iterations: 250,
    });
    const ids = [ledger.addRun(first), ledger.addRun(killed)];
    expect(ids).toEqual([1, 2]);
    const rows = ledger.runs();
    expect(rows).toEqual([
      // A run given no iterations ran its command once.
      { ...first, id: 1, iterations: 1 },
      { ...killed, id: 2 },
    ]);
    expect(typeof rows[0]?.startNs).toBe("bigint");
    expect(rows[0]?.startNs).toBe(4611686018427387911n);
    expect((rows[1]?.endNs ?? 0n) - (rows[1]?.startNs ?? 0n)).toBe(60_000_000_001n);
    expect(typeof rows[1]?.repetition).toBe("number");
  });

  it("filters by config hash, in id order", () => {
    const ledger = open();
    ledger.upsertCommit(C1);
    session(ledger, "s1");
    ledger.addRun(run({ configHash: HASH_A, repetition: 0 }));
    ledger.addRun(run({ configHash: HASH_B, repetition: 0 }));
    ledger.addRun(run({ configHash: HASH_A, repetition: 1 }));
    expect(ledger.runs({ configHash: HASH_A }).map((r) => [r.id, r.repetition])).toEqual([
      [1, 0],
      [3, 1],
    ]);
    expect(ledger.runs({ configHash: HASH_B }).map((r) => r.id)).toEqual([2]);
  });

  it("runsDone counts measured runs of that commit and hash across sessions, failed and timed out ones too", () => {
    const ledger = open();
    ledger.upsertCommit(C1);
    ledger.upsertCommit(C2);
    session(ledger, "s1");
    ledger.addRun(run({ warmup: true }));
    ledger.addRun(run({ repetition: 0 }));
    ledger.addRun(run({ repetition: 1, exitCode: 3 }));
    ledger.addRun(run({ repetition: 2, exitCode: null, signal: "SIGKILL", timedOut: true }));
    ledger.addRun(run({ commit: C2.sha, repetition: 0 }));
    ledger.addRun(run({ configHash: HASH_B, repetition: 0 }));
    ledger.endSession("s1", "interrupted");
    session(ledger, "s2");
    ledger.addRun(run({ sessionId: "s2", warmup: true }));
    ledger.addRun(run({ sessionId: "s2", repetition: 3 }));
    expect(ledger.runsDone(C1.sha, HASH_A)).toBe(4);
    expect(ledger.runsDone(C1.sha, HASH_B)).toBe(1);
    expect(ledger.runsDone(C2.sha, HASH_A)).toBe(1);
    expect(ledger.runsDone(C2.sha, HASH_B)).toBe(0);
    expect(ledger.runsDone("f".repeat(40), HASH_A)).toBe(0);
    expect(ledger.runTallies()).toEqual([
      { commit: C1.sha, configHash: HASH_A, measuredRuns: 4, warmupRuns: 2, failedRuns: 2 },
      { commit: C1.sha, configHash: HASH_B, measuredRuns: 1, warmupRuns: 0, failedRuns: 0 },
      { commit: C2.sha, configHash: HASH_A, measuredRuns: 1, warmupRuns: 0, failedRuns: 0 },
    ]);
  });
});

describe("stage executions", () => {
  it("go from running to their end with error, log and retries, filtered by session, commit and status", () => {
    const ledger = open();
    ledger.upsertCommit(C1);
    session(ledger, "s1");
    const pre = ledger.stageStarted({ sessionId: "s1", stage: "baseline", group: "pre" });
    const build = ledger.stageStarted({ sessionId: "s1", stage: "build", group: "prepare", commit: C1.sha });
    const measure = ledger.stageStarted({
      sessionId: "s1",
      stage: "measure",
      group: "run",
      commit: C1.sha,
      runId: 7,
    });
    expect([pre, build, measure]).toEqual([1, 2, 3]);
    expect(ledger.stageExecutions({ commit: C1.sha })[1]).toEqual({
      id: 3,
      sessionId: "s1",
      stage: "measure",
      group: "run",
      commit: C1.sha,
      runId: 7,
      status: "running",
      startedAt: "2025-03-01T12:00:03.000Z",
      endedAt: null,
      error: null,
      retries: 0,
      logPath: null,
    });
    ledger.stageEnded(pre, "ok");
    ledger.stageEnded(build, "failed", {
      error: "make: *** [all] Error 2",
      logPath: "/out/logs/build.log",
      retries: 2,
    });
    expect(ledger.stageExecutions({ status: "failed" })).toEqual([
      {
        id: 2,
        sessionId: "s1",
        stage: "build",
        group: "prepare",
        commit: C1.sha,
        runId: null,
        status: "failed",
        startedAt: "2025-03-01T12:00:02.000Z",
        endedAt: "2025-03-01T12:00:05.000Z",
        error: "make: *** [all] Error 2",
        retries: 2,
        logPath: "/out/logs/build.log",
      },
    ]);
    expect(ledger.stageExecutions({ sessionId: "s1" }).map((e) => [e.stage, e.status, e.endedAt])).toEqual([
      ["baseline", "ok", "2025-03-01T12:00:04.000Z"],
      ["build", "failed", "2025-03-01T12:00:05.000Z"],
      ["measure", "running", null],
    ]);
    expect(ledger.stageExecutions({ sessionId: "other" })).toEqual([]);
    expectEmpError(
      () => ledger.stageEnded(build, "ok"),
      "E_STATE",
      /stage execution 2 already ended \(failed\)/,
    );
    expectEmpError(() => ledger.stageEnded(99, "ok"), "E_STATE", /no stage execution 99 to end/);
    // The session ends while measure never reported: it cannot end any more, so it is interrupted.
    ledger.endSession("s1", "interrupted");
    const endedAt = ledger.lastSession()?.endedAt;
    expect(endedAt).toMatch(/^2025-03-01T12:00:\d\d\.000Z$/);
    expect(ledger.stageExecutions({ sessionId: "s1" })[2]).toMatchObject({ status: "interrupted", endedAt });
  });

  it("refuses a stage of a session that was never started", () => {
    const ledger = open();
    expectEmpError(
      () => ledger.stageStarted({ sessionId: "ghost", stage: "baseline", group: "pre" }),
      "E_STATE",
      /cannot start stage baseline: its session or commit is not in the ledger/,
    );
  });
});

describe("prepared", () => {
  it("upserts per commit and prepare hash and counts attempts", () => {
    const ledger = open();
    ledger.upsertCommit(C1);
    expect(ledger.prepared(C1.sha, "p1")).toBeUndefined();
    ledger.setPrepared({
      commit: C1.sha,
      prepareHash: "p1",
      worktree: "/out/worktrees/111",
      state: "failed",
      logPath: "/out/logs/prepare-1.log",
      error: "cc: not found",
    });
    expect(ledger.prepared(C1.sha, "p1")).toEqual({
      commit: C1.sha,
      prepareHash: "p1",
      worktree: "/out/worktrees/111",
      state: "failed",
      logPath: "/out/logs/prepare-1.log",
      error: "cc: not found",
      attempts: 1,
      lastAttemptAt: "2025-03-01T12:00:00.000Z",
    });
    ledger.setPrepared({ commit: C1.sha, prepareHash: "p1", worktree: "/out/worktrees/111-b", state: "ok" });
    expect(ledger.prepared(C1.sha, "p1")).toEqual({
      commit: C1.sha,
      prepareHash: "p1",
      worktree: "/out/worktrees/111-b",
      state: "ok",
      logPath: null,
      error: null,
      attempts: 2,
      lastAttemptAt: "2025-03-01T12:00:01.000Z",
    });
    ledger.setPrepared({ commit: C1.sha, prepareHash: "p2", worktree: "/out/worktrees/111", state: "ok" });
    expect(ledger.prepared(C1.sha, "p2")?.attempts).toBe(1);
    expect(ledger.preparedRows({ commit: C1.sha }).map((p) => [p.prepareHash, p.attempts])).toEqual([
      ["p1", 2],
      ["p2", 1],
    ]);
  });
});

describe("markAbandoned", () => {
  /** A separate process records a session, a stage and a run, then dies without ending them. */
  function killedWriter(): { status: number | null; signal: NodeJS.Signals | null; stderr: string } {
    const ledgerModule = pathToFileURL(
      fileURLToPath(new URL("../dist/ledger/ledger.js", import.meta.url)),
    ).href;
    const script = `
      import { Ledger } from ${JSON.stringify(ledgerModule)};
      const ledger = Ledger.open(process.env.LEDGER_DIR);
      ledger.startSession({ id: "dead", configHash: "${HASH_A}", config: {}, origins: {}, empVersion: "0.1.0", host: ${JSON.stringify(hostname())} });
      ledger.upsertCommit(${JSON.stringify(C1)});
      ledger.stageStarted({ sessionId: "dead", stage: "measure", group: "run", commit: "${C1.sha}" });
      ledger.addRun({ sessionId: "dead", commit: "${C1.sha}", configHash: "${HASH_A}", repetition: 0, ordinal: 0,
        warmup: false, startNs: ${BIG_NS}n, endNs: ${BIG_NS + 5n}n, exitCode: 0, signal: null,
        timedOut: false, energy: {}, metrics: {}, warnings: [] });
      process.kill(process.pid, "SIGKILL");
    `;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, LEDGER_DIR: dir },
      encoding: "utf8",
    });
    return { status: result.status, signal: result.signal, stderr: result.stderr };
  }

  /** Sets columns of a session row as another process (or another machine) would have written them. */
  function rewrite(id: string, set: string): void {
    const raw = new Database(join(dir, LEDGER_FILE));
    raw.prepare(`UPDATE sessions SET ${set} WHERE id = ?`).run(id);
    raw.close();
  }

  const ids = (dead: ReturnType<Ledger["markAbandoned"]>) => dead.map((d) => d.session.id);

  it("marks the session of a killed process dead, keeps its committed run, and spares live ones", () => {
    const ledger = open();
    const writer = killedWriter();
    expect(writer.stderr).toBe("");
    expect(writer.signal).toBe("SIGKILL");
    session(ledger, "live"); // this process: alive
    const dead = ledger.markAbandoned();
    expect(ids(dead)).toEqual(["dead"]);
    expect(dead[0]?.why).toMatch(/^its process \(pid \d+\) is gone$/);
    const byId = new Map(ledger.sessions().map((s) => [s.id, s]));
    expect(byId.get("dead")).toMatchObject({ state: "dead", endedAt: null, measuredRuns: 1 });
    expect(byId.get("live")).toMatchObject({ state: "running", pid: process.pid });
    expect(ledger.stageExecutions({ sessionId: "dead" })).toMatchObject([
      { stage: "measure", status: "interrupted", endedAt: null },
    ]);
    // The run committed before the kill is all there, bigint ns included.
    expect(ledger.runs()).toMatchObject([{ sessionId: "dead", startNs: BIG_NS, endNs: BIG_NS + 5n }]);
    expect(ledger.runsDone(C1.sha, HASH_A)).toBe(1);
    expect(ledger.markAbandoned()).toEqual([]);
  });

  it("treats a pid that another process has now as dead: its start time is not the session's", () => {
    const ledger = open();
    session(ledger, "reused");
    const own = processStartTicks(process.pid);
    if (own === null) return; // no /proc here: the pid alone decides, as the test above shows
    rewrite("reused", `process_start = ${own + 1}`);
    const dead = ledger.markAbandoned();
    expect(ids(dead)).toEqual(["reused"]);
    expect(dead[0]?.why).toBe(`its process is gone (pid ${process.pid} is another process now)`);
  });

  it("leaves a session of another host running while the directory's lock is there, dead once it is gone", () => {
    const ledger = open();
    session(ledger, "elsewhere");
    // Its pid means nothing here; the boot id is another machine's.
    rewrite("elsewhere", "host = 'other-host', pid = 999999, boot_id = 'another-machine'");
    writeFileSync(join(dir, LOCK_FILE), "4242\n");
    const running = ledger.sessions()[0];
    expect(running && ledger.liveness(running)).toEqual({ alive: true, host: "other-host", here: false });
    expect(ledger.markAbandoned()).toEqual([]);
    rmSync(join(dir, LOCK_FILE));
    const dead = ledger.markAbandoned();
    expect(ids(dead)).toEqual(["elsewhere"]);
    expect(dead[0]?.why).toBe("it ran on other-host and the directory's lock is gone");
  });

  it("records the newest run's process group and cgroup, and only in a running session", () => {
    const ledger = open();
    session(ledger, "s1");
    ledger.runStarted("s1", { group: 4321, cgroup: "/sys/fs/cgroup/emp-1-2" });
    ledger.runStarted("s1", { group: 4322, cgroup: null });
    expect(ledger.lastSession()).toMatchObject({ runGroup: 4322, runCgroup: null });
    ledger.endSession("s1", "complete");
    ledger.runStarted("s1", { group: 1, cgroup: null });
    expect(ledger.lastSession()).toMatchObject({ runGroup: 4322, state: "complete" });
  });

  it("treats a session from an earlier boot as dead even when its pid is in use again", () => {
    const ledger = open();
    session(ledger, "before-reboot");
    rewrite("before-reboot", "boot_id = 'an-earlier-boot'");
    const bootKnown = existsSync("/proc/sys/kernel/random/boot_id");
    expect(ids(ledger.markAbandoned())).toEqual(bootKnown ? ["before-reboot"] : []);
  });
});

describe("migrating a schema 1 ledger", () => {
  it("keeps every session, run and stage; abandoned sessions read dead; foreign keys hold after", () => {
    const raw = new Database(join(dir, LEDGER_FILE));
    raw.exec(MIGRATIONS[0]?.sql ?? "");
    raw.pragma("user_version = 1");
    const insert = raw.prepare(
      `INSERT INTO sessions (id, config_hash, config, origins, emp_version, host, pid, boot_id, state, started_at, ended_at)
       VALUES (?, '${HASH_A}', '{}', '{}', '0.1.0', 'h', 1, NULL, ?, ?, ?)`,
    );
    insert.run("old-complete", "complete", "2025-01-01T00:00:00.000Z", "2025-01-01T01:00:00.000Z");
    // What schema 1's markAbandoned left: interrupted, with no end time.
    insert.run("old-abandoned", "interrupted", "2025-01-02T00:00:00.000Z", null);
    insert.run("old-interrupted", "interrupted", "2025-01-03T00:00:00.000Z", "2025-01-03T00:10:00.000Z");
    raw
      .prepare("INSERT INTO commits (sha, short, subject, author, date) VALUES (?, ?, ?, ?, ?)")
      .run(C1.sha, C1.short, C1.subject, C1.author, C1.date);
    raw
      .prepare(
        `INSERT INTO runs (session_id, commit_sha, config_hash, repetition, ordinal, warmup, start_ns, end_ns,
                           exit_code, signal, timed_out, energy, metrics, warnings)
         VALUES ('old-abandoned', ?, '${HASH_A}', 0, 0, 0, 1, 2, 0, NULL, 0, '{}', '{}', '[]')`,
      )
      .run(C1.sha);
    raw
      .prepare(
        `INSERT INTO stage_executions (session_id, stage, stage_group, status, started_at)
         VALUES ('old-abandoned', 'build', 'prepare', 'interrupted', '2025-01-02T00:00:01.000Z')`,
      )
      .run();
    raw.close();

    const ledger = open();
    expect(ledger.sessions().map((s) => [s.id, s.state, s.endedAt])).toEqual([
      ["old-interrupted", "interrupted", "2025-01-03T00:10:00.000Z"],
      ["old-abandoned", "dead", null],
      ["old-complete", "complete", "2025-01-01T01:00:00.000Z"],
    ]);
    expect(ledger.sessions()[1]).toMatchObject({ measuredRuns: 1, processStart: null, runGroup: null });
    expect(ledger.stageExecutions()).toMatchObject([{ sessionId: "old-abandoned", stage: "build" }]);
    // The rebuilt table is the one runs refer to: a run of an unknown session is still refused.
    expectEmpError(
      () => ledger.addRun(run({ sessionId: "no-such-session" })),
      "E_STATE",
      /its session or commit is not in the ledger/,
    );
    expect(ledger.addRun(run({ sessionId: "old-complete" }))).toBe(2);
  });
});

describe("migrating a schema 2 ledger", () => {
  it("gives its runs one iteration each and keeps them; calibrations start empty", () => {
    const raw = new Database(join(dir, LEDGER_FILE));
    for (const migration of MIGRATIONS.slice(0, 2)) raw.exec(migration.sql);
    raw.pragma("user_version = 2");
    raw
      .prepare(
        `INSERT INTO sessions (id, config_hash, config, origins, emp_version, host, pid, state, started_at)
         VALUES ('old', '${HASH_A}', '{}', '{}', '0.1.0', 'h', 1, 'complete', '2025-01-01T00:00:00.000Z')`,
      )
      .run();
    raw
      .prepare("INSERT INTO commits (sha, short, subject, author, date) VALUES (?, ?, ?, ?, ?)")
      .run(C1.sha, C1.short, C1.subject, C1.author, C1.date);
    raw
      .prepare(
        `INSERT INTO runs (session_id, commit_sha, config_hash, repetition, ordinal, warmup, start_ns, end_ns,
                           exit_code, signal, timed_out, energy, metrics, warnings)
         VALUES ('old', ?, '${HASH_A}', 0, 0, 0, 1, 2, 0, NULL, 0, '{}', '{}', '[]')`,
      )
      .run(C1.sha);
    raw.close();

    const ledger = open();
    expect(ledger.runs().map((r) => [r.sessionId, r.repetition, r.iterations])).toEqual([["old", 0, 1]]);
    expect(ledger.calibration(C1.sha, HASH_A)).toBeUndefined();
  });
});

describe("calibrations and iterations", () => {
  it("keeps a commit's count per config hash, and each run's iterations", () => {
    const ledger = open();
    ledger.upsertCommit(C1);
    session(ledger, "s1");
    ledger.addCalibration({
      commit: C1.sha,
      configHash: HASH_A,
      iterations: 37,
      passes: 3,
      durationS: 0.42,
      sessionId: "s1",
    });
    expect(ledger.calibration(C1.sha, HASH_A)).toEqual({
      commit: C1.sha,
      configHash: HASH_A,
      iterations: 37,
      passes: 3,
      durationS: 0.42,
      sessionId: "s1",
      calibratedAt: expect.stringMatching(/^2025-03-01T12:00:0\d\.000Z$/),
    });
    expect(ledger.calibration(C1.sha, HASH_B)).toBeUndefined();
    expectEmpError(
      () =>
        ledger.addCalibration({
          commit: C1.sha,
          configHash: HASH_A,
          iterations: 1,
          passes: 1,
          durationS: 0.1,
          sessionId: "s1",
        }),
      "E_STATE",
      /it is in the ledger already/,
    );
    ledger.addRun(run({ iterations: 37 }));
    ledger.addRun(run({ repetition: 1 }));
    expect(ledger.runs().map((r) => r.iterations)).toEqual([37, 1]);
  });
});

describe("durability and concurrency", () => {
  it("keeps everything across close and reopen, and continues the run ids", () => {
    const first = open();
    first.upsertCommit(C1);
    session(first, "s1");
    first.setPrepared({ commit: C1.sha, prepareHash: "p1", worktree: "/w", state: "ok" });
    const stage = first.stageStarted({ sessionId: "s1", stage: "build", group: "prepare", commit: C1.sha });
    first.stageEnded(stage, "ok", { logPath: "/out/logs/build.log" });
    first.addRun(run({ startNs: BIG_NS, endNs: BIG_NS + 1n }));
    first.endSession("s1", "complete");
    const before = {
      sessions: first.sessions(),
      commits: first.commits(),
      stages: first.stageExecutions(),
      prepared: first.preparedRows(),
      runs: first.runs(),
    };
    first.close();

    const second = open();
    expect({
      sessions: second.sessions(),
      commits: second.commits(),
      stages: second.stageExecutions(),
      prepared: second.preparedRows(),
      runs: second.runs(),
    }).toEqual(before);
    expect(before.runs[0]?.startNs).toBe(BIG_NS);
    expect(second.addRun(run({ repetition: 1 }))).toBe(2);
  });

  it("a write waits for another process's write transaction instead of failing (busy timeout)", async () => {
    const ledger = open();
    ledger.upsertCommit(C1);
    session(ledger, "s1");
    const sqlite = pathToFileURL(createRequire(import.meta.url).resolve("better-sqlite3")).href;
    // Holds the write lock for 400 ms, as another emp process in the middle of a write would.
    const script = `
      import Database from ${JSON.stringify(sqlite)};
      const db = new Database(process.env.LEDGER_PATH);
      db.exec("BEGIN IMMEDIATE");
      process.stdout.write("locked\\n");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
      db.exec("COMMIT");
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, LEDGER_PATH: ledger.path },
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("locked")) resolve();
      });
      child.on("exit", () => reject(new Error("the lock holder exited before locking")));
    });
    const startedMs = performance.now();
    expect(ledger.addRun(run())).toBe(1);
    const waitedMs = performance.now() - startedMs;
    expect(waitedMs).toBeGreaterThan(200);
    expect(waitedMs).toBeLessThan(BUSY_TIMEOUT_MS);
    await new Promise((resolve) => child.once("close", resolve));
  });

  it("a second connection sees each committed write at once, both ways, and a reader cannot write", () => {
    const a = open();
    const b = open();
    a.upsertCommit(C1);
    session(a, "s1");
    expect(b.lastSession()?.id).toBe("s1");
    const fromA = a.addRun(run({ repetition: 0 }));
    expect(b.runsDone(C1.sha, HASH_A)).toBe(1);
    const fromB = b.addRun(run({ repetition: 1 }));
    expect([fromA, fromB]).toEqual([1, 2]);
    expect(a.runs().map((r) => r.repetition)).toEqual([0, 1]);

    const reader = open({ readOnly: true });
    expect(reader.readOnly).toBe(true);
    expect(reader.runsDone(C1.sha, HASH_A)).toBe(2);
    a.addRun(run({ repetition: 2 }));
    expect(reader.runsDone(C1.sha, HASH_A)).toBe(3);
    expectEmpError(() => reader.addRun(run({ repetition: 3 })), "E_STATE", /the ledger was opened read-only/);
  });
});

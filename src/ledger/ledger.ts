// The run ledger of `emp run`: one SQLite file per results directory recording sessions, commits,
// stage executions, builds and runs, so that a session can resume and history spans sessions.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import type { StageGroup } from "../config/study.js";
import { EmpError, UsageError } from "../errors.js";
import type { CommitInfo } from "../git/commit.js";
import { LOCK_FILE } from "../results/lock.js";
import { toWriteError, writeFailureCode } from "../results/write-error.js";
import { type AbsorbCounts, absorbLedger } from "./absorb.js";
import { type Liveness, type SessionProcess, sessionLiveness, thisProcess } from "./liveness.js";
import { checkCurrent, LEDGER_FILE, migrate } from "./schema.js";

export { LEDGER_FILE } from "./schema.js";

/** `dead`: the session's process died without ending it (see liveness.ts). */
export type SessionState = "running" | "complete" | "interrupted" | "failed" | "dead";
export type StageStatus = "running" | "ok" | "failed" | "skipped" | "interrupted";
export type PreparedState = "ok" | "failed";

/** How long a write waits for another process's write to finish before it fails: writes are
 * single short transactions, so anything near this means a stuck process, not contention. */
export const BUSY_TIMEOUT_MS = 5000;

export interface SessionRow {
  id: string;
  configHash: string;
  /** The resolved config as stored at the start (what `emp resume` runs again). */
  config: unknown;
  origins: unknown;
  empVersion: string;
  host: string;
  /** The process that ran the session, the boot it ran in and when the pid started (null in
   * sessions recorded before ledger schema 2): how liveness.ts tells a dead session from a live one. */
  pid: number;
  bootId: string | null;
  processStart: number | null;
  /** Process group and cgroup (null in a process group) of the newest run started. */
  runGroup: number | null;
  runCgroup: string | null;
  state: SessionState;
  /** ISO 8601, UTC. */
  startedAt: string;
  /** Null while running, and for a dead session (when its process died is not known). */
  endedAt: string | null;
  error: string | null;
  /** Runs recorded in this session: measured ones, and warmups apart. */
  measuredRuns: number;
  warmupRuns: number;
}

export interface StageExecutionRow {
  id: number;
  sessionId: string;
  stage: string;
  group: StageGroup;
  /** Full sha, for per-commit and per-run stages. */
  commit: string | null;
  runId: number | null;
  status: StageStatus;
  startedAt: string;
  endedAt: string | null;
  error: string | null;
  retries: number;
  logPath: string | null;
}

/** A commit's checkout, build and setup under one prepareHash: reused while it is "ok". */
export interface PreparedRow {
  commit: string;
  prepareHash: string;
  worktree: string;
  state: PreparedState;
  logPath: string | null;
  error: string | null;
  /** How many times it was prepared (setPrepared calls), failures included. */
  attempts: number;
  lastAttemptAt: string;
}

export interface LedgerRun {
  sessionId: string;
  commit: string;
  configHash: string;
  /** 0-based measured index per commit, or the warmup index for a warmup. */
  repetition: number;
  /** The run's number in its session's samples (the `run` column of samples/<session>.arrow). */
  ordinal: number;
  warmup: boolean;
  /** CLOCK_MONOTONIC, the clock of samples.arrow. */
  startNs: bigint;
  endNs: bigint;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Per domain; baseline and net are null where the idle baseline was unknown. */
  energy: Record<string, { rawJ: number; baselineJ: number | null; netJ: number | null }>;
  metrics: Record<string, number | null>;
  warnings: string[];
  /** Times the command ran back to back in the run (min_run_ms); energy and times are of all of
   * them. Default 1; 1 for every run recorded before ledger schema 3. */
  iterations?: number;
}

export type LedgerRunRow = LedgerRun & { id: number; iterations: number };

/** The iteration count calibrated for a commit's runs under one config (min_run_ms). */
export interface CalibrationRow {
  commit: string;
  configHash: string;
  iterations: number;
  /** Calibration runs it took (not recorded as runs), and their wall time together, s. */
  passes: number;
  durationS: number;
  sessionId: string;
  calibratedAt: string;
}

/** What one session spent its time on and what failed in it, from its stage and run rows. */
export interface SessionTally {
  sessionId: string;
  /** Wall time summed over the session's stage executions of the prepare group (checkout, build,
   * setup; builds in parallel add up), over its warmup runs, and over its measured runs, s. */
  prepareS: number;
  warmupS: number;
  runS: number;
  /** Measured runs and warmups whose command failed (exit != 0, a signal, a timeout). */
  failedRuns: number;
  failedWarmups: number;
  /** Failed stage executions of the prepare group, and of the other groups. */
  failedBuilds: number;
  failedStages: number;
}

/** A run whose command failed, without its energy. */
export interface FailedRun {
  sessionId: string;
  commit: string;
  warmup: boolean;
  repetition: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
}

/** Runs of one commit under one config hash, counted. */
export interface RunTally {
  commit: string;
  configHash: string;
  measuredRuns: number;
  warmupRuns: number;
  /** Measured runs that timed out, were killed by a signal or exited non-zero. */
  failedRuns: number;
}

export interface LedgerOptions {
  /** Opens an existing ledger to read it: nothing is created or migrated. */
  readOnly?: boolean;
  /** The clock for stored times; tests pin it. */
  now?: () => Date;
}

// The statements name their columns as the records' fields (`commit_sha AS "commit"`), so a row
// comes out in its record's shape. These are the rows where SQLite cannot give a field's type:
// JSON still text, booleans 0 and 1.
type SessionRecord = Omit<SessionRow, "config" | "origins"> & { config: string; origins: string };

/** Read with safeIntegers (for the ns): every INTEGER column a bigint, so the numbers are read as REAL. */
type RunRecord = Omit<LedgerRunRow, "warmup" | "timedOut" | "energy" | "metrics" | "warnings"> & {
  warmup: bigint;
  timedOut: bigint;
  energy: string;
  metrics: string;
  warnings: string;
};

type FailedRunRecord = Omit<FailedRun, "warmup" | "timedOut"> & { warmup: number; timedOut: number };

/** A run whose command failed: it timed out, a signal ended it (no exit code) or it exited non-zero. */
const FAILED_RUN = "(timed_out = 1 OR exit_code IS NULL OR exit_code != 0)";

const SESSION_SELECT = `
  SELECT s.id, s.config_hash AS configHash, s.config, s.origins, s.emp_version AS empVersion, s.host, s.pid,
         s.boot_id AS bootId, s.process_start AS processStart, s.run_group AS runGroup,
         s.run_cgroup AS runCgroup, s.state, s.started_at AS startedAt, s.ended_at AS endedAt, s.error,
         (SELECT count(*) FROM runs r WHERE r.session_id = s.id AND r.warmup = 0) AS measuredRuns,
         (SELECT count(*) FROM runs r WHERE r.session_id = s.id AND r.warmup = 1) AS warmupRuns
  FROM sessions s`;

const STAGE_SELECT = `
  SELECT id, session_id AS sessionId, stage, stage_group AS "group", commit_sha AS "commit", run_id AS runId,
         status, started_at AS startedAt, ended_at AS endedAt, error, retries, log_path AS logPath
  FROM stage_executions`;

const PREPARED_SELECT = `
  SELECT commit_sha AS "commit", prepare_hash AS prepareHash, worktree, state, log_path AS logPath, error,
         attempts, last_attempt_at AS lastAttemptAt
  FROM prepared`;

// CAST AS REAL: a number under safeIntegers, exact below 2^53 as Number() of the bigint was.
const RUN_SELECT = `
  SELECT CAST(id AS REAL) AS id, session_id AS sessionId, commit_sha AS "commit", config_hash AS configHash,
         CAST(repetition AS REAL) AS repetition, CAST(ordinal AS REAL) AS ordinal, warmup,
         start_ns AS startNs, end_ns AS endNs, CAST(exit_code AS REAL) AS exitCode, signal,
         timed_out AS timedOut, energy, metrics, warnings, CAST(iterations AS REAL) AS iterations
  FROM runs`;

function sqliteCode(error: unknown): string | undefined {
  return error instanceof Database.SqliteError ? error.code : undefined;
}

function sessionFromRecord(r: SessionRecord): SessionRow {
  return { ...r, config: JSON.parse(r.config) as unknown, origins: JSON.parse(r.origins) as unknown };
}

function runFromRecord(r: RunRecord): LedgerRunRow {
  return {
    ...r,
    warmup: r.warmup === 1n,
    timedOut: r.timedOut === 1n,
    energy: JSON.parse(r.energy) as LedgerRun["energy"],
    metrics: JSON.parse(r.metrics) as LedgerRun["metrics"],
    warnings: JSON.parse(r.warnings) as string[],
  };
}

/** Every statement the ledger runs, prepared once when it opens. */
function prepareStatements(db: Database.Database) {
  return {
    insertSession: db.prepare(
      `INSERT INTO sessions (id, config_hash, config, origins, emp_version, host, pid, boot_id, process_start,
                             state, started_at)
       VALUES (@id, @configHash, @config, @origins, @empVersion, @host, @pid, @bootId, @processStart,
               'running', @startedAt)`,
    ),
    endSession: db.prepare(
      `UPDATE sessions SET state = @state, ended_at = @endedAt, error = @error
       WHERE id = @id AND state = 'running'`,
    ),
    sessionState: db.prepare<[string], { state: SessionState }>("SELECT state FROM sessions WHERE id = ?"),
    runningSessions: db.prepare<[], SessionRecord>(
      `${SESSION_SELECT} WHERE s.state = 'running' ORDER BY s.started_at, s.rowid`,
    ),
    abandonSession: db.prepare(
      "UPDATE sessions SET state = 'dead', error = @why WHERE id = @id AND state = 'running'",
    ),
    runStarted: db.prepare(
      "UPDATE sessions SET run_group = @group, run_cgroup = @cgroup WHERE id = @id AND state = 'running'",
    ),
    interruptStages: db.prepare(
      `UPDATE stage_executions SET status = 'interrupted', ended_at = @endedAt
       WHERE session_id = @sessionId AND status = 'running'`,
    ),
    sessions: db.prepare<[], SessionRecord>(`${SESSION_SELECT} ORDER BY s.started_at DESC, s.rowid DESC`),
    lastSession: db.prepare<[], SessionRecord>(
      `${SESSION_SELECT} ORDER BY s.started_at DESC, s.rowid DESC LIMIT 1`,
    ),
    upsertCommit: db.prepare(
      `INSERT INTO commits (sha, short, subject, author, date) VALUES (@sha, @short, @subject, @author, @date)
       ON CONFLICT (sha) DO UPDATE SET short = excluded.short, subject = excluded.subject,
         author = excluded.author, date = excluded.date`,
    ),
    commits: db.prepare<[], CommitInfo & { rowid: number }>(
      "SELECT rowid, sha, short, subject, author, date FROM commits",
    ),
    insertStage: db.prepare(
      `INSERT INTO stage_executions (session_id, stage, stage_group, commit_sha, run_id, status, started_at)
       VALUES (@sessionId, @stage, @group, @commit, @runId, 'running', @startedAt)`,
    ),
    endStage: db.prepare(
      `UPDATE stage_executions
       SET status = @status, ended_at = @endedAt, error = @error, log_path = @logPath, retries = @retries
       WHERE id = @id AND status = 'running'`,
    ),
    stageStatus: db.prepare<[number], { status: StageStatus }>(
      "SELECT status FROM stage_executions WHERE id = ?",
    ),
    stages: db.prepare<
      { sessionId: string | null; commit: string | null; status: StageStatus | null },
      StageExecutionRow
    >(
      `${STAGE_SELECT}
       WHERE (@sessionId IS NULL OR session_id = @sessionId) AND (@commit IS NULL OR commit_sha = @commit)
         AND (@status IS NULL OR status = @status)
       ORDER BY id`,
    ),
    prepared: db.prepare<[string, string], PreparedRow>(
      `${PREPARED_SELECT} WHERE commit_sha = ? AND prepare_hash = ?`,
    ),
    preparedRows: db.prepare<{ commit: string | null }, PreparedRow>(
      `${PREPARED_SELECT} WHERE (@commit IS NULL OR commit_sha = @commit)
       ORDER BY last_attempt_at, commit_sha, prepare_hash`,
    ),
    upsertPrepared: db.prepare(
      `INSERT INTO prepared (commit_sha, prepare_hash, worktree, state, log_path, error, attempts, last_attempt_at)
       VALUES (@commit, @prepareHash, @worktree, @state, @logPath, @error, 1, @at)
       ON CONFLICT (commit_sha, prepare_hash) DO UPDATE SET worktree = excluded.worktree,
         state = excluded.state, log_path = excluded.log_path, error = excluded.error,
         attempts = attempts + 1, last_attempt_at = excluded.last_attempt_at`,
    ),
    insertRun: db.prepare(
      `INSERT INTO runs (session_id, commit_sha, config_hash, repetition, ordinal, warmup, start_ns, end_ns,
                         exit_code, signal, timed_out, energy, metrics, warnings, iterations)
       VALUES (@sessionId, @commit, @configHash, @repetition, @ordinal, @warmup, @startNs, @endNs,
               @exitCode, @signal, @timedOut, @energy, @metrics, @warnings, @iterations)`,
    ),
    calibration: db.prepare<[string, string], CalibrationRow>(
      `SELECT commit_sha AS "commit", config_hash AS configHash, iterations, passes, duration_s AS durationS,
              session_id AS sessionId, calibrated_at AS calibratedAt
       FROM calibrations WHERE commit_sha = ? AND config_hash = ?`,
    ),
    insertCalibration: db.prepare(
      `INSERT INTO calibrations (commit_sha, config_hash, iterations, passes, duration_s, session_id, calibrated_at)
       VALUES (@commit, @configHash, @iterations, @passes, @durationS, @sessionId, @at)`,
    ),
    runsDone: db
      .prepare<[string, string, number], number>(
        "SELECT count(*) FROM runs WHERE commit_sha = ? AND config_hash = ? AND warmup = ?",
      )
      .pluck(),
    runs: db
      .prepare<{ configHash: string | null }, RunRecord>(
        `${RUN_SELECT} WHERE (@configHash IS NULL OR config_hash = @configHash) ORDER BY id`,
      )
      .safeIntegers(),
    // julianday: the stored ISO times as days, to the ms and better. Runs are timed by their ns,
    // summed exactly as INTEGERs and then made seconds: one rounding, as Number() of the sum was.
    sessionTallies: db.prepare<[], SessionTally>(
      `SELECT s.id AS sessionId, coalesce(st.prepare_s, 0) AS prepareS,
              coalesce(r.warmup_ns, 0) / 1e9 AS warmupS, coalesce(r.run_ns, 0) / 1e9 AS runS,
              coalesce(r.failed_runs, 0) AS failedRuns, coalesce(r.failed_warmups, 0) AS failedWarmups,
              coalesce(st.failed_builds, 0) AS failedBuilds, coalesce(st.failed_stages, 0) AS failedStages
       FROM sessions s
         LEFT JOIN (SELECT session_id,
                           sum(CASE WHEN stage_group = 'prepare' AND ended_at IS NOT NULL
                                    THEN (julianday(ended_at) - julianday(started_at)) * 86400 END) AS prepare_s,
                           sum(status = 'failed' AND stage_group = 'prepare') AS failed_builds,
                           sum(status = 'failed' AND stage_group != 'prepare') AS failed_stages
                    FROM stage_executions GROUP BY session_id) st ON st.session_id = s.id
         LEFT JOIN (SELECT session_id,
                           sum(CASE WHEN warmup = 1 THEN end_ns - start_ns END) AS warmup_ns,
                           sum(CASE WHEN warmup = 0 THEN end_ns - start_ns END) AS run_ns,
                           sum(warmup = 0 AND ${FAILED_RUN}) AS failed_runs,
                           sum(warmup = 1 AND ${FAILED_RUN}) AS failed_warmups
                    FROM runs GROUP BY session_id) r ON r.session_id = s.id`,
    ),
    failedRuns: db.prepare<[], FailedRunRecord>(
      `SELECT session_id AS sessionId, commit_sha AS "commit", warmup, repetition, exit_code AS exitCode, signal,
              timed_out AS timedOut
       FROM runs WHERE ${FAILED_RUN} ORDER BY id`,
    ),
    runTallies: db.prepare<[], RunTally>(
      `SELECT commit_sha AS "commit", config_hash AS configHash,
              sum(warmup = 0) AS measuredRuns,
              sum(warmup = 1) AS warmupRuns,
              sum(warmup = 0 AND ${FAILED_RUN}) AS failedRuns
       FROM runs GROUP BY commit_sha, config_hash ORDER BY commit_sha, min(id)`,
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

export class Ledger {
  /** Absolute path of the ledger file. */
  readonly path: string;
  readonly readOnly: boolean;
  private readonly db: Database.Database;
  private readonly statements: Statements;
  private readonly now: () => Date;

  private constructor(path: string, db: Database.Database, options: LedgerOptions) {
    this.path = path;
    this.db = db;
    this.readOnly = options.readOnly ?? false;
    this.now = options.now ?? (() => new Date());
    this.statements = prepareStatements(db);
  }

  /** Opens `<dir>/ledger.sqlite`, creating the directory and the ledger or migrating an older one;
   * with `readOnly` the ledger must exist already. UsageError for a missing, foreign or newer file. */
  static open(dir: string, options: LedgerOptions = {}): Ledger {
    const path = resolve(dir, LEDGER_FILE);
    let db: Database.Database | undefined;
    try {
      if (options.readOnly) {
        if (!existsSync(path)) {
          throw new UsageError(`no ledger in ${dir}`, {
            path,
            suggestion: "give the results directory of an `emp run` (the `out` of its config)",
          });
        }
        db = new Database(path, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
        checkCurrent(db, path);
      } else {
        mkdirSync(dir, { recursive: true });
        db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
        // WAL: readers (emp history, a report) never block the running session's writes.
        db.pragma("journal_mode = WAL");
        // FULL: a committed run survives a power cut too, not only a crash of emp; a few fsyncs
        // per run are nothing next to the seconds a run takes.
        db.pragma("synchronous = FULL");
        migrate(db, path);
      }
      // Per connection, not stored in the file: without it the REFERENCES clauses are decoration.
      db.pragma("foreign_keys = ON");
      return new Ledger(path, db, options);
    } catch (error) {
      db?.close();
      throw openError(error, dir, path, options.readOnly ?? false);
    }
  }

  close(): void {
    this.db.close();
  }

  startSession(s: {
    id: string;
    configHash: string;
    config: unknown;
    origins: unknown;
    empVersion: string;
    host: string;
  }): void {
    const owner = thisProcess();
    this.write(`start session ${s.id}`, () =>
      this.statements.insertSession.run({
        id: s.id,
        configHash: s.configHash,
        config: JSON.stringify(s.config ?? null),
        origins: JSON.stringify(s.origins ?? null),
        empVersion: s.empVersion,
        host: s.host,
        pid: owner.pid,
        bootId: owner.bootId,
        processStart: owner.processStart,
        startedAt: this.nowIso(),
      }),
    );
  }

  /** Ends a running session; stage executions it left running are marked interrupted with it,
   * since nothing can end them once their session is over. */
  endSession(id: string, state: SessionState, error?: string): void {
    if (state === "running" || state === "dead") {
      throw new EmpError("E_INVALID_ARGUMENT", `ledger: session ${id} cannot end in state "${state}"`);
    }
    this.write(`end session ${id}`, () =>
      this.db
        .transaction(() => {
          const endedAt = this.nowIso();
          const changed = this.statements.endSession.run({ id, state, endedAt, error: error ?? null });
          if (changed.changes === 0) {
            const row = this.statements.sessionState.get(id);
            throw new EmpError(
              "E_STATE",
              row === undefined
                ? `ledger: no session ${id} to end`
                : `ledger: session ${id} already ended (${row.state})`,
            );
          }
          this.statements.interruptStages.run({ sessionId: id, endedAt });
        })
        .immediate(),
    );
  }

  /** Sessions left "running" by a process that died (see sessionLiveness): marked dead, and
   * returned as they were, with why. A session whose process still runs (another `emp run` on the
   * same directory, this process, one on another host holding the lock) is left alone. Their end
   * time stays unknown (null). */
  markAbandoned(): { session: SessionRow; why: string }[] {
    return this.write("mark abandoned sessions", () =>
      this.db
        .transaction(() => {
          const abandoned: { session: SessionRow; why: string }[] = [];
          for (const record of this.statements.runningSessions.all()) {
            const session = sessionFromRecord(record);
            const liveness = this.liveness(session);
            if (liveness.alive) continue;
            this.statements.abandonSession.run({ id: session.id, why: liveness.why });
            // When the process died is not known: no end time rather than a made-up one.
            this.statements.interruptStages.run({ sessionId: session.id, endedAt: null });
            abandoned.push({ session, why: liveness.why });
          }
          return abandoned;
        })
        .immediate(),
    );
  }

  /** Whether a session's process still runs; only a "running" session has one to ask about. */
  liveness(session: SessionRow): Liveness {
    const owner: SessionProcess = {
      pid: session.pid,
      host: session.host,
      bootId: session.bootId,
      processStart: session.processStart,
    };
    return sessionLiveness(owner, join(dirname(this.path), LOCK_FILE));
  }

  /** Records the process group and cgroup of the run a session starts: where `emp resume` looks
   * for processes left running should the session's process be killed. */
  runStarted(sessionId: string, run: { group: number; cgroup: string | null }): void {
    // Written while the run is measured, so without an fsync (a few µs, not the disk's ms): it is
    // read only after emp itself died, and the kernel keeps what a killed process wrote; after a
    // power cut no process of the run is left to find. The next commit's fsync covers it.
    this.db.pragma("synchronous = NORMAL");
    try {
      this.write(`record the run ${sessionId} started`, () =>
        this.statements.runStarted.run({ id: sessionId, group: run.group, cgroup: run.cgroup }),
      );
    } finally {
      this.db.pragma("synchronous = FULL");
    }
  }

  /** The newest session, with its stored config and origins. */
  lastSession(): SessionRow | undefined {
    const row = this.statements.lastSession.get();
    return row === undefined ? undefined : sessionFromRecord(row);
  }

  /** Newest first, with runs counted. */
  sessions(): SessionRow[] {
    return this.statements.sessions.all().map(sessionFromRecord);
  }

  upsertCommit(c: CommitInfo): void {
    this.write(`record commit ${c.sha}`, () =>
      this.statements.upsertCommit.run({
        sha: c.sha,
        short: c.short,
        subject: c.subject,
        author: c.author,
        date: c.date,
      }),
    );
  }

  /** Every recorded commit, oldest committer time first (the order of history). */
  commits(): CommitInfo[] {
    // Commits of one second (a rebased series) keep the order they were added in: the study's,
    // where a parent comes before its child.
    return this.statements.commits
      .all()
      .sort((a, b) => Date.parse(a.date) - Date.parse(b.date) || a.rowid - b.rowid)
      .map(({ rowid: _rowid, ...commit }) => commit);
  }

  /** Returns the execution id. */
  stageStarted(e: {
    sessionId: string;
    stage: string;
    group: StageGroup;
    commit?: string;
    runId?: number;
  }): number {
    const result = this.write(`start stage ${e.stage}`, () =>
      this.statements.insertStage.run({
        sessionId: e.sessionId,
        stage: e.stage,
        group: e.group,
        commit: e.commit ?? null,
        runId: e.runId ?? null,
        startedAt: this.nowIso(),
      }),
    );
    return Number(result.lastInsertRowid);
  }

  stageEnded(
    id: number,
    status: StageStatus,
    extra: { error?: string; logPath?: string; retries?: number } = {},
  ): void {
    if (status === "running") {
      throw new EmpError("E_INVALID_ARGUMENT", `ledger: stage execution ${id} cannot end as "running"`);
    }
    const result = this.write(`end stage execution ${id}`, () =>
      this.statements.endStage.run({
        id,
        status,
        endedAt: this.nowIso(),
        error: extra.error ?? null,
        logPath: extra.logPath ?? null,
        retries: extra.retries ?? 0,
      }),
    );
    if (result.changes === 0) {
      const row = this.statements.stageStatus.get(id);
      throw new EmpError(
        "E_STATE",
        row === undefined
          ? `ledger: no stage execution ${id} to end`
          : `ledger: stage execution ${id} already ended (${row.status})`,
      );
    }
  }

  /** Ordered by id, that is by start. */
  stageExecutions(
    filter: { sessionId?: string; commit?: string; status?: StageStatus } = {},
  ): StageExecutionRow[] {
    return this.statements.stages.all({
      sessionId: filter.sessionId ?? null,
      commit: filter.commit ?? null,
      status: filter.status ?? null,
    });
  }

  /** Copies every row of the ledger at `sourcePath` into this one (emp merge; absorb.ts). */
  absorb(sourcePath: string, path: (p: string) => string): AbsorbCounts {
    return this.write(`merge ${sourcePath}`, () => absorbLedger(this.db, sourcePath, path));
  }

  prepared(commit: string, prepareHash: string): PreparedRow | undefined {
    return this.statements.prepared.get(commit, prepareHash);
  }

  /** Every prepared worktree (of one commit when given), oldest attempt first. */
  preparedRows(filter: { commit?: string } = {}): PreparedRow[] {
    return this.statements.preparedRows.all({ commit: filter.commit ?? null });
  }

  /** Records the outcome of preparing a commit: a new row, or the next attempt of an existing one
   * (its worktree, state, log and error replaced, attempts + 1). */
  setPrepared(p: {
    commit: string;
    prepareHash: string;
    worktree: string;
    state: PreparedState;
    logPath?: string;
    error?: string;
  }): void {
    this.write(`record the preparation of ${p.commit}`, () =>
      this.statements.upsertPrepared.run({
        commit: p.commit,
        prepareHash: p.prepareHash,
        worktree: p.worktree,
        state: p.state,
        logPath: p.logPath ?? null,
        error: p.error ?? null,
        at: this.nowIso(),
      }),
    );
  }

  /** Adds a finished run; returns its id. */
  addRun(r: LedgerRun): number {
    const result = this.write(`add a run of ${r.commit}`, () =>
      this.statements.insertRun.run({
        sessionId: r.sessionId,
        commit: r.commit,
        configHash: r.configHash,
        repetition: r.repetition,
        ordinal: r.ordinal,
        // SQLite has no booleans and better-sqlite3 binds none: 0 and 1.
        warmup: r.warmup ? 1 : 0,
        startNs: r.startNs,
        endNs: r.endNs,
        exitCode: r.exitCode,
        signal: r.signal,
        timedOut: r.timedOut ? 1 : 0,
        energy: JSON.stringify(r.energy),
        metrics: JSON.stringify(r.metrics),
        warnings: JSON.stringify(r.warnings),
        iterations: r.iterations ?? 1,
      }),
    );
    return Number(result.lastInsertRowid);
  }

  /** The iteration count calibrated for a commit's runs under a config hash, if any session found one. */
  calibration(commit: string, configHash: string): CalibrationRow | undefined {
    return this.statements.calibration.get(commit, configHash);
  }

  /** Keeps the count a session calibrated for a commit's runs; a commit has one per config hash. */
  addCalibration(c: Omit<CalibrationRow, "calibratedAt">): void {
    this.write(`record the calibration of ${c.commit}`, () =>
      this.statements.insertCalibration.run({
        commit: c.commit,
        configHash: c.configHash,
        iterations: c.iterations,
        passes: c.passes,
        durationS: c.durationS,
        sessionId: c.sessionId,
        at: this.nowIso(),
      }),
    );
  }

  /** Measured (non-warmup) runs of a commit under a config hash, all sessions. Failed and
   * timed-out runs count: run again, they would most likely fail the same way. */
  runsDone(commit: string, configHash: string): number {
    return this.statements.runsDone.get(commit, configHash, 0) ?? 0;
  }

  /** Warmup runs of a commit under a config hash, all sessions: where the next warmup's number starts. */
  warmupsDone(commit: string, configHash: string): number {
    return this.statements.runsDone.get(commit, configHash, 1) ?? 0;
  }

  /** Ordered by id. */
  runs(filter: { configHash?: string } = {}): LedgerRunRow[] {
    return this.statements.runs.all({ configHash: filter.configHash ?? null }).map(runFromRecord);
  }

  /** Runs counted per commit and config hash, without reading their JSON. */
  runTallies(): RunTally[] {
    return this.statements.runTallies.all();
  }

  /** Per session (any order): time spent per kind of work, and what failed. */
  sessionTallies(): SessionTally[] {
    return this.statements.sessionTallies.all();
  }

  /** Every run whose command failed, measured or warmup, in the order they ran. */
  failedRuns(): FailedRun[] {
    return this.statements.failedRuns
      .all()
      .map((r) => ({ ...r, warmup: r.warmup === 1, timedOut: r.timedOut === 1 }));
  }

  private nowIso(): string {
    return this.now().toISOString();
  }

  /** Runs one write (a statement, or a transaction of several) and turns SQLite's errors into
   * messages that name what was being recorded. */
  private write<T>(what: string, action: () => T): T {
    try {
      return action();
    } catch (error) {
      throw writeError(error, what, this.path);
    }
  }
}

function writeError(error: unknown, what: string, path: string): unknown {
  const code = sqliteCode(error);
  if (code === undefined) return error;
  // A full or failing disk is said as every other write of results says it, naming the disk.
  if (writeFailureCode(error) !== undefined) return toWriteError(error, path);
  const message = `ledger: cannot ${what}`;
  switch (code) {
    case "SQLITE_CONSTRAINT_FOREIGNKEY":
      return new EmpError("E_STATE", `${message}: its session or commit is not in the ledger`, {
        path,
        suggestion: "record the session (startSession) and the commit (upsertCommit) first",
        cause: error,
      });
    case "SQLITE_CONSTRAINT_PRIMARYKEY":
      return new EmpError("E_STATE", `${message}: it is in the ledger already`, { path, cause: error });
    case "SQLITE_CONSTRAINT_CHECK":
      return new EmpError("E_INVALID_ARGUMENT", `${message}: a state or group outside the known ones`, {
        path,
        cause: error,
      });
    case "SQLITE_BUSY":
    case "SQLITE_BUSY_SNAPSHOT":
      return new EmpError("E_IO", `${message}: ${path} stayed locked by another process`, {
        path,
        suggestion: `find the process holding it (fuser ${path}); writes wait ${BUSY_TIMEOUT_MS} ms`,
        cause: error,
      });
    case "SQLITE_READONLY":
      return new EmpError("E_STATE", `${message}: the ledger was opened read-only`, { path, cause: error });
    default:
      return new EmpError("E_IO", `${message}: ${(error as Error).message}`, {
        path,
        suggestion: "check the disk (space, permissions) of the results directory",
        cause: error,
      });
  }
}

function openError(error: unknown, dir: string, path: string, readOnly: boolean): unknown {
  if (error instanceof EmpError) return error;
  const code = sqliteCode(error) ?? (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return new UsageError(`${path} is not a readable SQLite ledger (${message})`, {
      path,
      suggestion: "point emp at the results directory of an `emp run`; a damaged ledger can be moved aside",
      cause: error,
    });
  }
  // A read-only open needs to create the -shm file next to the ledger unless a writer has.
  if (
    code === "EACCES" ||
    code === "EPERM" ||
    code === "SQLITE_PERM" ||
    code === "SQLITE_READONLY" ||
    (readOnly && code === "SQLITE_CANTOPEN")
  ) {
    return new UsageError(`cannot open ${path}: permission denied`, {
      path,
      suggestion: `check the permissions of ${dir} and ${join(dir, LEDGER_FILE)}`,
      cause: error,
    });
  }
  return new EmpError("E_IO", `cannot open the ledger ${path}: ${message}`, { path, cause: error });
}

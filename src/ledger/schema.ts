// The ledger's tables and how a file written by an older emp is brought up to date: the schema
// version lives in SQLite's `PRAGMA user_version`, and each migration moves it up by one.
import type { Database } from "better-sqlite3";
import { EmpError, UsageError } from "../errors.js";

export const LEDGER_FILE = "ledger.sqlite";

/** `PRAGMA application_id` of an emp ledger ("emp" in ASCII), so another SQLite file named
 * ledger.sqlite is refused instead of having our tables added to it. */
export const LEDGER_APPLICATION_ID = 0x00656d70;

export interface Migration {
  /** The user_version the ledger is at once this migration has run. */
  version: number;
  sql: string;
}

/**
 * Never edit a migration that has shipped: a ledger already at its version would not see the
 * change. Add the next version instead (ALTER TABLE, or create-copy-drop for what ALTER cannot do).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      -- pid and boot_id say which process owns a running session, so that markAbandoned can tell
      -- a session whose process died from one that is still measuring.
      CREATE TABLE sessions (
        id          TEXT PRIMARY KEY,
        config_hash TEXT NOT NULL,
        config      TEXT NOT NULL,  -- JSON: the resolved study config, for emp resume
        origins     TEXT NOT NULL,  -- JSON: where each config value came from
        emp_version TEXT NOT NULL,
        host        TEXT NOT NULL,
        pid         INTEGER NOT NULL,
        boot_id     TEXT,
        state       TEXT NOT NULL CHECK (state IN ('running', 'complete', 'interrupted', 'failed')),
        started_at  TEXT NOT NULL,  -- ISO 8601, UTC
        ended_at    TEXT,
        error       TEXT
      );
      CREATE TABLE commits (
        sha     TEXT PRIMARY KEY,
        short   TEXT NOT NULL,
        subject TEXT NOT NULL,
        author  TEXT NOT NULL,
        date    TEXT NOT NULL  -- committer time, ISO 8601
      );
      -- run_id is not a foreign key: per-run stages (temperature gate, cooldown, measure) start
      -- before the run they belong to is added.
      CREATE TABLE stage_executions (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id  TEXT NOT NULL REFERENCES sessions (id),
        stage       TEXT NOT NULL,
        stage_group TEXT NOT NULL CHECK (stage_group IN ('pre', 'prepare', 'run', 'post')),
        commit_sha  TEXT REFERENCES commits (sha),
        run_id      INTEGER,
        status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'skipped', 'interrupted')),
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        error       TEXT,
        retries     INTEGER NOT NULL DEFAULT 0,
        log_path    TEXT
      );
      CREATE INDEX stage_executions_by_session ON stage_executions (session_id);
      CREATE INDEX stage_executions_by_commit ON stage_executions (commit_sha);
      -- AUTOINCREMENT: a run id is never reused, not even after the newest run is deleted by hand.
      -- (session_id, ordinal) is the key into samples/<session>.arrow's run column.
      CREATE TABLE runs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id  TEXT NOT NULL REFERENCES sessions (id),
        commit_sha  TEXT NOT NULL REFERENCES commits (sha),
        config_hash TEXT NOT NULL,
        repetition  INTEGER NOT NULL,
        ordinal     INTEGER NOT NULL,  -- the run's number in its session's samples (their run column)
        warmup      INTEGER NOT NULL CHECK (warmup IN (0, 1)),
        start_ns    INTEGER NOT NULL,  -- CLOCK_MONOTONIC, the samples' clock
        end_ns      INTEGER NOT NULL,
        exit_code   INTEGER,
        signal      TEXT,
        timed_out   INTEGER NOT NULL CHECK (timed_out IN (0, 1)),
        energy      TEXT NOT NULL,  -- JSON: { domain: { rawJ, baselineJ, netJ } }
        metrics     TEXT NOT NULL,  -- JSON: { name: number | null }
        warnings    TEXT NOT NULL   -- JSON: [string]
      );
      CREATE INDEX runs_by_commit_and_config ON runs (commit_sha, config_hash, warmup);
      CREATE INDEX runs_by_session ON runs (session_id);
      CREATE TABLE prepared (
        commit_sha      TEXT NOT NULL REFERENCES commits (sha),
        prepare_hash    TEXT NOT NULL,
        worktree        TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('ok', 'failed')),
        log_path        TEXT,
        error           TEXT,
        attempts        INTEGER NOT NULL,
        last_attempt_at TEXT NOT NULL,
        PRIMARY KEY (commit_sha, prepare_hash)
      );
      PRAGMA application_id = ${LEDGER_APPLICATION_ID};
    `,
  },
  {
    version: 2,
    sql: `
      -- A session's process is named fully: process_start (the pid's start time, clock ticks after
      -- boot) tells a pid reused by another process from the session's emp. run_group and
      -- run_cgroup hold the process group and cgroup of the newest run started, where emp resume
      -- looks for processes a killed session left running. A session whose process died without
      -- ending it is 'dead'; SQLite cannot change a CHECK in place, so the table is rebuilt.
      CREATE TABLE sessions_v2 (
        id            TEXT PRIMARY KEY,
        config_hash   TEXT NOT NULL,
        config        TEXT NOT NULL,
        origins       TEXT NOT NULL,
        emp_version   TEXT NOT NULL,
        host          TEXT NOT NULL,
        pid           INTEGER NOT NULL,
        boot_id       TEXT,
        state         TEXT NOT NULL
                      CHECK (state IN ('running', 'complete', 'interrupted', 'failed', 'dead')),
        started_at    TEXT NOT NULL,
        ended_at      TEXT,
        error         TEXT,
        process_start INTEGER,
        run_group     INTEGER,
        run_cgroup    TEXT
      );
      -- Schema 1 marked the sessions of dead processes interrupted with no end time (endSession
      -- always records one): those read dead now.
      INSERT INTO sessions_v2 (id, config_hash, config, origins, emp_version, host, pid, boot_id, state,
                               started_at, ended_at, error)
        SELECT id, config_hash, config, origins, emp_version, host, pid, boot_id,
               CASE WHEN state = 'interrupted' AND ended_at IS NULL THEN 'dead' ELSE state END,
               started_at, ended_at, error
        FROM sessions ORDER BY rowid;
      -- Foreign keys are off while migrating (see migrate): the runs and stage executions that
      -- refer to sessions refer to the rebuilt table once it has the name.
      DROP TABLE sessions;
      ALTER TABLE sessions_v2 RENAME TO sessions;
    `,
  },
  {
    version: 3,
    sql: `
      -- min_run_ms: a run may run its command several times back to back, and its energy and
      -- duration are of all of them. Runs recorded before ran it once.
      ALTER TABLE runs ADD COLUMN iterations INTEGER NOT NULL DEFAULT 1 CHECK (iterations >= 1);
      -- The iteration count of a commit's runs under one config, found once by calibration and
      -- kept, so that a later session (emp resume) measures on with it rather than calibrating
      -- again. The calibration runs themselves are not in runs: passes and duration_s say what
      -- they cost.
      CREATE TABLE calibrations (
        commit_sha    TEXT NOT NULL REFERENCES commits (sha),
        config_hash   TEXT NOT NULL,
        iterations    INTEGER NOT NULL CHECK (iterations >= 1),
        passes        INTEGER NOT NULL,
        duration_s    REAL NOT NULL,  -- the calibration runs' wall time together
        session_id    TEXT NOT NULL REFERENCES sessions (id),
        calibrated_at TEXT NOT NULL,
        PRIMARY KEY (commit_sha, config_hash)
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

function schemaVersion(db: Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

function applicationId(db: Database): number {
  return db.pragma("application_id", { simple: true }) as number;
}

/** Refuses a file that is not an emp ledger, or one from a newer emp whose tables we do not know. */
function checkReadable(db: Database, path: string, version: number): void {
  const id = applicationId(db);
  const empty = version === 0 && id === 0;
  if (!empty && id !== LEDGER_APPLICATION_ID) {
    throw new UsageError(`${path} is an SQLite file but not an emp ledger`, {
      path,
      suggestion: "point emp at the results directory of an `emp run`, or move this file aside",
    });
  }
  if (version > SCHEMA_VERSION) {
    throw new UsageError(
      `${path} was written by a newer emp (ledger schema ${version}; this emp reads up to ${SCHEMA_VERSION})`,
      { path, suggestion: "upgrade emp (npm install emp@latest) to read or extend this ledger" },
    );
  }
}

/** Brings a writable ledger to SCHEMA_VERSION. The check and the migrations share one immediate
 * transaction, so two processes opening a new ledger at once cannot both create its tables.
 * Foreign keys are off while it runs (a rebuilt table is dropped and renamed; SQLite ignores the
 * pragma inside a transaction) and checked once at the end; the caller turns them on again. */
export function migrate(db: Database, path: string): void {
  db.pragma("foreign_keys = OFF");
  db.transaction(() => {
    const version = schemaVersion(db);
    checkReadable(db, path, version);
    if (version === 0) {
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number };
      if (tables.n > 0) {
        throw new UsageError(`${path} is an SQLite file with other tables, not an emp ledger`, {
          path,
          suggestion: "point emp at the results directory of an `emp run`, or move this file aside",
        });
      }
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= version) continue;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }
    const broken = db.pragma("foreign_key_check") as unknown[];
    if (broken.length > 0) {
      throw new EmpError("E_STATE", `${path}: ${broken.length} rows refer to rows missing after migration`, {
        path,
        suggestion: "keep a copy of the ledger and report this as a bug of emp",
      });
    }
  }).immediate();
}

/** A read-only connection cannot migrate: it reads only a ledger already at this emp's version. */
export function checkCurrent(db: Database, path: string): void {
  const version = schemaVersion(db);
  checkReadable(db, path, version);
  if (version < SCHEMA_VERSION) {
    throw new UsageError(
      `${path} is ${version === 0 ? "empty" : `at ledger schema ${version}, older than this emp's ${SCHEMA_VERSION}`}`,
      {
        path,
        suggestion:
          version === 0
            ? "point emp at the results directory of an `emp run`"
            : "run `emp resume` on the directory once (it migrates the ledger), then read it again",
      },
    );
  }
}

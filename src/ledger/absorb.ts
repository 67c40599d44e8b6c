// Copies every row of another ledger into this one, for `emp merge`: sessions keep their ids (a
// session id is its host and start time, unique across machines), runs and stage executions get
// new ids in this ledger (a stage's run_id follows its run), commits, builds and calibrations
// already here are kept. Both ledgers are at the current schema, so their columns match.
import type { Database } from "better-sqlite3";
import { UsageError } from "../errors.js";

export interface AbsorbCounts {
  sessions: number;
  runs: number;
  /** Commits of a calibration that both ledgers hold with different iteration counts (this one's is kept). */
  calibrationConflicts: string[];
}

const RUN_COLUMNS =
  "session_id, commit_sha, config_hash, repetition, ordinal, warmup, start_ns, end_ns, exit_code, signal, timed_out, energy, metrics, warnings, iterations";

/**
 * `db` must not be inside a transaction (ATTACH cannot be); the copy itself is one. `path` maps a
 * log path of the other ledger to where the merged directory keeps it.
 */
export function absorbLedger(db: Database, sourcePath: string, path: (p: string) => string): AbsorbCounts {
  db.function("emp_merged_path", { deterministic: true }, (p: unknown) =>
    typeof p === "string" ? path(p) : null,
  );
  db.prepare("ATTACH DATABASE ? AS src").run(sourcePath);
  try {
    return db.transaction(() => {
      const clash = db
        .prepare("SELECT id FROM src.sessions WHERE id IN (SELECT id FROM main.sessions)")
        .pluck()
        .all() as string[];
      if (clash.length > 0) {
        throw new UsageError(
          `session ${clash[0]} is in more than one of the directories to merge (${sourcePath} and one before it)`,
          {
            suggestion:
              "name each results directory once; a directory copied from another holds the same sessions",
          },
        );
      }
      const sessions = db.prepare("INSERT INTO main.sessions SELECT * FROM src.sessions").run().changes;
      db.prepare("INSERT OR IGNORE INTO main.commits SELECT * FROM src.commits").run();

      db.exec("CREATE TEMP TABLE run_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)");
      const insertRun = db.prepare(
        `INSERT INTO main.runs (${RUN_COLUMNS}) SELECT ${RUN_COLUMNS} FROM src.runs WHERE id = ?`,
      );
      const map = db.prepare("INSERT INTO temp.run_map (old, new) VALUES (?, ?)");
      const ids = db.prepare("SELECT id FROM src.runs ORDER BY id").pluck().all() as number[];
      for (const id of ids) map.run(id, insertRun.run(id).lastInsertRowid);

      db.prepare(
        `INSERT INTO main.stage_executions (session_id, stage, stage_group, commit_sha, run_id, status, started_at,
                                            ended_at, error, retries, log_path)
         SELECT e.session_id, e.stage, e.stage_group, e.commit_sha, m.new, e.status, e.started_at, e.ended_at,
                e.error, e.retries, emp_merged_path(e.log_path)
         FROM src.stage_executions e LEFT JOIN temp.run_map m ON m.old = e.run_id ORDER BY e.id`,
      ).run();
      db.prepare(
        `INSERT OR IGNORE INTO main.prepared (commit_sha, prepare_hash, worktree, state, log_path, error, attempts,
                                              last_attempt_at)
         SELECT commit_sha, prepare_hash, worktree, state, emp_merged_path(log_path), error, attempts,
                last_attempt_at
         FROM src.prepared`,
      ).run();
      const calibrationConflicts = db
        .prepare(
          `SELECT s.commit_sha FROM src.calibrations s JOIN main.calibrations m
             ON m.commit_sha = s.commit_sha AND m.config_hash = s.config_hash
           WHERE m.iterations != s.iterations`,
        )
        .pluck()
        .all() as string[];
      db.prepare("INSERT OR IGNORE INTO main.calibrations SELECT * FROM src.calibrations").run();
      db.exec("DROP TABLE temp.run_map");
      return { sessions, runs: ids.length, calibrationConflicts };
    })();
  } finally {
    db.prepare("DETACH DATABASE src").run();
  }
}

// What `emp history` shows of a ledger: sessions, commits with their build and runs, and failed
// stages; as JSON with snake_case keys, or as plain-text tables for a person.
import { formatDurationS, formatTable } from "../util/table.js";
import type { Ledger } from "./ledger.js";

/** Shas and config hashes are shown this long: enough to be unique in any real history. */
const SHORT_HASH_CHARS = 12;
const SUBJECT_CHARS = 50;

export interface HistorySession {
  id: string;
  state: string;
  started_at: string;
  ended_at: string | null;
  duration_s: number | null;
  config_hash: string;
  emp_version: string;
  host: string;
  error: string | null;
  measured_runs: number;
  warmup_runs: number;
}

export interface HistoryCommit {
  sha: string;
  short: string;
  subject: string;
  author: string;
  date: string;
  /** Oldest attempt first; the last one is the commit's current build. */
  prepared: {
    prepare_hash: string;
    state: string;
    worktree: string;
    log_path: string | null;
    error: string | null;
    attempts: number;
    last_attempt_at: string;
  }[];
  runs: { config_hash: string; measured_runs: number; warmup_runs: number; failed_runs: number }[];
}

export interface HistoryFailure {
  id: number;
  session_id: string;
  stage: string;
  group: string;
  commit: string | null;
  run_id: number | null;
  started_at: string;
  ended_at: string | null;
  retries: number;
  error: string | null;
  log_path: string | null;
}

export interface History {
  sessions: HistorySession[];
  commits: HistoryCommit[];
  failures: HistoryFailure[];
}

function durationS(startedAt: string, endedAt: string | null): number | null {
  return endedAt === null ? null : (Date.parse(endedAt) - Date.parse(startedAt)) / 1000;
}

export function buildHistory(ledger: Ledger): History {
  const sessions = ledger.sessions().map((s) => ({
    id: s.id,
    state: s.state,
    started_at: s.startedAt,
    ended_at: s.endedAt,
    duration_s: durationS(s.startedAt, s.endedAt),
    config_hash: s.configHash,
    emp_version: s.empVersion,
    host: s.host,
    error: s.error,
    measured_runs: s.measuredRuns,
    warmup_runs: s.warmupRuns,
  }));
  const prepared = ledger.preparedRows();
  const tallies = ledger.runTallies();
  const commits = ledger.commits().map((c) => ({
    ...c,
    prepared: prepared
      .filter((p) => p.commit === c.sha)
      .map((p) => ({
        prepare_hash: p.prepareHash,
        state: p.state,
        worktree: p.worktree,
        log_path: p.logPath,
        error: p.error,
        attempts: p.attempts,
        last_attempt_at: p.lastAttemptAt,
      })),
    runs: tallies
      .filter((t) => t.commit === c.sha)
      .map((t) => ({
        config_hash: t.configHash,
        measured_runs: t.measuredRuns,
        warmup_runs: t.warmupRuns,
        failed_runs: t.failedRuns,
      })),
  }));
  const failures = ledger.stageExecutions({ status: "failed" }).map((e) => ({
    id: e.id,
    session_id: e.sessionId,
    stage: e.stage,
    group: e.group,
    commit: e.commit,
    run_id: e.runId,
    started_at: e.startedAt,
    ended_at: e.endedAt,
    retries: e.retries,
    error: e.error,
    log_path: e.logPath,
  }));
  return { sessions, commits, failures };
}

/** Stored times are UTC ISO 8601; to the second is what a person compares. */
function formatTime(iso: string | null): string {
  return iso === null ? "-" : iso.slice(0, 19).replace("T", " ");
}

function short(hash: string): string {
  return hash.slice(0, SHORT_HASH_CHARS);
}

function clip(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 3)}...`;
}

function formatSessions(sessions: HistorySession[]): string[] {
  if (sessions.length === 0) return ["sessions: none yet"];
  const rows = sessions.map((s) => [
    s.id,
    formatTime(s.started_at),
    formatTime(s.ended_at),
    s.duration_s === null ? "-" : formatDurationS(s.duration_s),
    s.state,
    short(s.config_hash),
    String(s.measured_runs),
  ]);
  const lines = [
    "sessions (newest first, times UTC)",
    ...formatTable(["id", "started", "ended", "duration", "state", "config", "runs"], rows),
  ];
  for (const s of sessions) if (s.error !== null) lines.push(`  ${s.id} ${s.state}: ${s.error}`);
  return lines;
}

function buildState(c: HistoryCommit): string {
  const current = c.prepared.at(-1);
  if (current === undefined) return "-";
  return current.attempts > 1 ? `${current.state} (${current.attempts} attempts)` : current.state;
}

function formatCommits(commits: HistoryCommit[]): string[] {
  if (commits.length === 0) return ["commits: none yet"];
  const rows: string[][] = [];
  for (const c of commits) {
    const runs = c.runs.map(
      (r) =>
        `${short(r.config_hash)}: ${r.measured_runs}${r.failed_runs > 0 ? ` (${r.failed_runs} failed)` : ""}`,
    );
    rows.push([short(c.sha), clip(c.subject, SUBJECT_CHARS), buildState(c), runs[0] ?? "-"]);
    // One line per further config hash, under the first.
    for (const more of runs.slice(1)) rows.push(["", "", "", more]);
  }
  return [
    "commits (oldest first; runs: measured runs per config hash)",
    ...formatTable(["commit", "subject", "build", "runs"], rows),
  ];
}

function formatFailures(failures: HistoryFailure[]): string[] {
  if (failures.length === 0) return ["failures: none"];
  const lines = ["failures (failed stage executions)"];
  const rows = failures.map((f) => [
    f.stage,
    f.group,
    f.commit === null ? "-" : short(f.commit),
    f.session_id,
    formatTime(f.ended_at),
    String(f.retries),
  ]);
  const [header, ...body] = formatTable(["stage", "group", "commit", "session", "ended", "retries"], rows);
  lines.push(header ?? "");
  body.forEach((row, i) => {
    const f = failures[i];
    lines.push(row);
    // Errors are long and often several lines: under their row, not in a column.
    if (f?.error)
      lines.push(
        ...f.error
          .trimEnd()
          .split("\n")
          .map((l, j) => `    ${j === 0 ? "error: " : "       "}${l}`),
      );
    if (f?.log_path) lines.push(`    log:   ${f.log_path}`);
  });
  return lines;
}

export function formatHistory(h: History): string {
  return `${[...formatSessions(h.sessions), "", ...formatCommits(h.commits), "", ...formatFailures(h.failures)].join("\n")}\n`;
}

// What `emp history` shows of a ledger: sessions (with the time their builds, warmups and runs took
// and what failed in them), commits with their build and runs, and failures (runs whose command
// failed, failed stages); as JSON with snake_case keys, or as plain-text tables for a person.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { formatDurationS, formatTable } from "../util/table.js";
import type { FailedRun, Ledger, SessionRow, SessionTally } from "./ledger.js";
import { slotLogName, slotName } from "./run-name.js";

/** Shas and config hashes are shown this long: enough to be unique in any real history. */
const SHORT_HASH_CHARS = 12;
const SUBJECT_CHARS = 50;

export interface HistorySession {
  id: string;
  /** As recorded, except that a "running" session whose process is gone reads "dead". */
  state: string;
  /** The host of a session running on another machine (its process cannot be asked from here). */
  running_on: string | null;
  started_at: string;
  ended_at: string | null;
  duration_s: number | null;
  config_hash: string;
  emp_version: string;
  host: string;
  /** Why it failed; for a dead session, why its process reads dead. */
  error: string | null;
  measured_runs: number;
  warmup_runs: number;
  /** Wall time summed per kind of work: prepare stages (checkout, build, setup), warmups, measured runs. */
  build_s: number;
  warmup_s: number;
  run_s: number;
  /** Runs whose command failed (exit != 0, a signal, a timeout), warmups apart; failed prepare
   * stages (builds) and other failed stages. */
  failed_runs: number;
  failed_warmups: number;
  failed_builds: number;
  failed_stages: number;
}

/** Runs of one commit in one session whose command failed, measured runs and warmups apart. */
export interface HistoryFailedRuns {
  session_id: string;
  commit: string;
  warmup: boolean;
  count: number;
  /** How they failed, counted: { "exit 127": 9, "SIGKILL": 1, "timed out": 1 }. */
  how: Record<string, number>;
  /** The first of them ("run 2", "warmup 1") and its log, where the log is there. */
  first: string;
  first_log: string | null;
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
  /** Runs whose command failed, per session and commit. */
  failed_runs: HistoryFailedRuns[];
  /** Failed stage executions. */
  failures: HistoryFailure[];
}

function durationS(startedAt: string, endedAt: string | null): number | null {
  return endedAt === null ? null : (Date.parse(endedAt) - Date.parse(startedAt)) / 1000;
}

/** Sums of stored ms times and ns durations, to the ms: more digits are rounding, not time. */
function roundS(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

const NO_TALLY: Omit<SessionTally, "sessionId"> = {
  prepareS: 0,
  warmupS: 0,
  runS: 0,
  failedRuns: 0,
  failedWarmups: 0,
  failedBuilds: 0,
  failedStages: 0,
};

function historySession(
  ledger: Ledger,
  s: SessionRow,
  tally: Omit<SessionTally, "sessionId">,
): HistorySession {
  // A session still "running" in the ledger is asked about its process, read-only: it is marked
  // dead for good by the next session's start (markAbandoned), by the same rule.
  const liveness = s.state === "running" ? ledger.liveness(s) : undefined;
  const dead = liveness !== undefined && !liveness.alive;
  return {
    id: s.id,
    state: dead ? "dead" : s.state,
    running_on: liveness?.alive && !liveness.here ? liveness.host : null,
    started_at: s.startedAt,
    ended_at: s.endedAt,
    duration_s: durationS(s.startedAt, s.endedAt),
    config_hash: s.configHash,
    emp_version: s.empVersion,
    host: s.host,
    error: liveness !== undefined && !liveness.alive ? liveness.why : s.error,
    measured_runs: s.measuredRuns,
    warmup_runs: s.warmupRuns,
    build_s: roundS(tally.prepareS),
    warmup_s: roundS(tally.warmupS),
    run_s: roundS(tally.runS),
    failed_runs: tally.failedRuns,
    failed_warmups: tally.failedWarmups,
    failed_builds: tally.failedBuilds,
    failed_stages: tally.failedStages,
  };
}

function howFailed(r: FailedRun): string {
  if (r.timedOut) return "timed out";
  return r.signal ?? `exit ${r.exitCode}`;
}

/** Failed runs grouped by session, commit and kind (measured or warmup), in the order first seen. */
function failedRunGroups(ledger: Ledger, shorts: Map<string, string>): HistoryFailedRuns[] {
  const groups = new Map<string, HistoryFailedRuns>();
  const logs = join(dirname(ledger.path), "logs");
  for (const r of ledger.failedRuns()) {
    const key = `${r.sessionId}\0${r.commit}\0${r.warmup}`;
    let group = groups.get(key);
    if (group === undefined) {
      // Logs of runs recorded before runs and warmups had names of their own may be absent.
      const log = join(logs, shorts.get(r.commit) ?? r.commit.slice(0, 7), slotLogName(r));
      group = {
        session_id: r.sessionId,
        commit: r.commit,
        warmup: r.warmup,
        count: 0,
        how: {},
        first: slotName(r),
        first_log: existsSync(log) ? log : null,
      };
      groups.set(key, group);
    }
    group.count++;
    const how = howFailed(r);
    group.how[how] = (group.how[how] ?? 0) + 1;
  }
  return [...groups.values()];
}

export function buildHistory(ledger: Ledger): History {
  const tallies = new Map(ledger.sessionTallies().map((t) => [t.sessionId, t]));
  const sessions = ledger.sessions().map((s) => historySession(ledger, s, tallies.get(s.id) ?? NO_TALLY));
  const prepared = ledger.preparedRows();
  const runTallies = ledger.runTallies();
  const recorded = ledger.commits();
  const commits = recorded.map((c) => ({
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
    runs: runTallies
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
  const shorts = new Map(recorded.map((c) => [c.sha, c.short]));
  return { sessions, commits, failed_runs: failedRunGroups(ledger, shorts), failures };
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

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

/** "9 runs, 1 build", or "-" when nothing failed. */
function failedText(s: HistorySession): string {
  const parts = [
    [s.failed_runs, "run"],
    [s.failed_warmups, "warmup"],
    [s.failed_builds, "build"],
    [s.failed_stages, "stage"],
  ] as const;
  const text = parts.filter(([n]) => n > 0).map(([n, what]) => plural(n, what));
  return text.length === 0 ? "-" : text.join(", ");
}

function spent(seconds: number): string {
  return seconds === 0 ? "-" : formatDurationS(seconds);
}

function formatSessions(sessions: HistorySession[]): string[] {
  if (sessions.length === 0) return ["sessions: none yet"];
  const rows = sessions.map((s) => [
    s.id,
    formatTime(s.started_at),
    formatTime(s.ended_at),
    s.duration_s === null ? "-" : formatDurationS(s.duration_s),
    s.running_on === null ? s.state : `${s.state} (on ${s.running_on})`,
    short(s.config_hash),
    String(s.measured_runs),
    spent(s.build_s),
    spent(s.warmup_s),
    spent(s.run_s),
    failedText(s),
  ]);
  const header = ["id", "started", "ended", "duration", "state", "config", "runs", "build", "warmup"];
  const lines = [
    "sessions (newest first, times UTC; build, warmup, measured: wall time summed over them)",
    ...formatTable([...header, "measured", "failed"], rows),
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

function formatFailedRuns(groups: HistoryFailedRuns[]): string[] {
  const rows = groups.map((g) => [
    g.session_id,
    short(g.commit),
    g.warmup ? "warmups" : "runs",
    String(g.count),
    Object.entries(g.how)
      .map(([how, n]) => `${how} ×${n}`)
      .join(", "),
    g.first,
    g.first_log ?? "-",
  ]);
  return [
    "runs whose command failed",
    ...formatTable(["session", "commit", "of", "failed", "how", "first", "its log"], rows),
  ];
}

function formatFailures(groups: HistoryFailedRuns[], failures: HistoryFailure[]): string[] {
  if (groups.length === 0 && failures.length === 0) return ["failures: none"];
  const lines = groups.length > 0 ? formatFailedRuns(groups) : [];
  if (failures.length === 0) return lines;
  if (lines.length > 0) lines.push("");
  lines.push("failed stage executions");
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
  return `${[...formatSessions(h.sessions), "", ...formatCommits(h.commits), "", ...formatFailures(h.failed_runs, h.failures)].join("\n")}\n`;
}

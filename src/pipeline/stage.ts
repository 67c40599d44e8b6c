// The one interface every pipeline stage implements, and the typed contexts they receive: a stage of
// group "pre" or "post" sees the session, "prepare" a commit as well, "run" one run of that commit.
import type { ResolvedStudy } from "../config/resolve.js";
import type { StageGroup } from "../config/study.js";
import type { CommitInfo } from "../git/commit.js";
import type { Mirror } from "../git/repository.js";
import type { Ledger } from "../ledger/ledger.js";
import type { MeasuredRun, Meter } from "../measure/meter.js";

/** What a stage can do to the session besides its own work. */
export interface SessionControl {
  /** Stops the session once the current stage returns; every finished run is kept. */
  abort(reason: string): void;
  readonly aborted: boolean;
  /** Aborted by the user (Ctrl-C) or by a stage; long waits should end early on it. */
  readonly signal: AbortSignal;
  /** A warning for the session's summary. */
  warn(message: string): void;
  /** A line of progress for a person (stderr when it is a terminal). */
  log(message: string): void;
}

export interface SessionContext extends SessionControl {
  readonly sessionId: string;
  readonly study: ResolvedStudy;
  /** The session directory (`out`). */
  readonly out: string;
  readonly ledger: Ledger;
  /** The session's clone of the study's repository, where worktrees are registered. */
  readonly mirror: Mirror;
  /** Measures runs; sampling from just before the pre group on. */
  readonly meter: Meter;
  /** Idle power per domain (W), set by the baseline stage; subtracted from every run. */
  baselineW: Record<string, number>;
  /**
   * Domains whose idle power the baseline stage could not measure (a stalled sensor), with the
   * reason: their runs keep raw energy and have no net energy.
   */
  baselineUnknown: Record<string, string>;
  /** Every commit of the study, oldest first, with what this session did to it. */
  readonly commits: readonly CommitState[];
  /** Runs measured in this session, in order. */
  readonly runs: readonly RunOutcome[];
  /** Values stages leave for later stages (a custom stage's findings); free-form. */
  readonly data: Map<string, unknown>;
}

/** A commit and what happened to it in this session. */
export interface CommitState {
  readonly commit: CommitInfo;
  /** Its worktree, once checked out. */
  worktree?: string;
  /** Set when the commit will not be measured (its build failed, a stage skipped it). */
  skipped?: string;
  /** Measured runs the study still wants for it. */
  remaining: number;
  /** Warmup runs of it in the ledger before this session: the first warmup's number here. */
  readonly warmupsDone: number;
  /**
   * Times its command runs back to back in each run (min_run_ms): from the ledger, or calibrated by
   * the measure stage on its first visit of this session. Unset until then, and without min_run_ms.
   */
  iterations?: number;
}

export interface CommitContext extends SessionContext {
  readonly state: CommitState;
  readonly commit: CommitInfo;
  /** This commit's log folder: prepare.log, run-N.log and warmup-N.log (one per run), post.log. */
  readonly logDir: string;
  /** The log of this commit's prepare stages (build and setup output), in logDir. */
  readonly logPath: string;
  /** Leaves this commit out of the session, with the reason reported. */
  skip(reason: string): void;
}

/** A run's place in the study. */
export interface RunSlot {
  commit: CommitInfo;
  warmup: boolean;
  /** 0-based per commit across sessions, measured runs and warmups each counted apart (see ledger/run-name.ts). */
  repetition: number;
  /** The pass over the commits this run belongs to (interleaved and shuffled orders). */
  cycle: number;
}

export interface RunOutcome {
  slot: RunSlot;
  /** The ledger's id of the run. */
  id: number;
  result: MeasuredRun;
}

export interface RunContext extends CommitContext {
  readonly slot: RunSlot;
  /** Set by the measure stage; stages after it can read it. */
  result?: MeasuredRun;
  /**
   * Keeps a measured run: the ledger, runs.arrow and the hooks; returns its ledger id. `captured`:
   * the study's `metrics` as read from the run's log (null where not found).
   */
  record(result: MeasuredRun, captured?: Record<string, number | null>): number;
}

export interface ContextOf {
  pre: SessionContext;
  prepare: CommitContext;
  run: RunContext;
  post: SessionContext;
}

export interface Stage<G extends StageGroup = StageGroup> {
  /** Unique in the pipeline; the ledger records executions under it. */
  readonly name: string;
  readonly group: G;
  execute(context: ContextOf[G]): Promise<void> | void;
}

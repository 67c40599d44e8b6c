// `runStudy(study)`: one session of the pipeline over a project's commits. Prepares every commit that
// still needs runs (worktree, build, setup; `jobs` at a time), then pre (sensors, steadiness,
// baseline), the runs one at a time in the planned order, and post. The ledger records each stage
// and run as it ends, so a crash or Ctrl-C loses at most the run in progress, and a later session
// into the same directory does only what is left.
import { existsSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { ResolvedStudy } from "../config/resolve.js";
import { selectionDigest, shardSlice, shardText } from "../config/shard.js";
import type { StageGroup } from "../config/study.js";
import { StageFailure, UsageError, WriteError } from "../errors.js";
import { Mirror } from "../git/repository.js";
import { Ledger, type LedgerRun } from "../ledger/ledger.js";
import { manifestProcess } from "../ledger/liveness.js";
import { slotName } from "../ledger/run-name.js";
import type { EnergyBackend } from "../measure/backend.js";
import { type MeasuredRun, Meter, runEnergyJ, runMetrics } from "../measure/meter.js";
import { prepareOutputDir } from "../measure/preflight.js";
import { gatherProvenance, provenanceWarnings } from "../measure/provenance.js";
import type { Provenance } from "../measure/recorder.js";
import { chooseBackend, MEASURE_DEFAULTS } from "../measure/session.js";
import { SUMMARY_RUNS_KEPT } from "../measure/summary-bounds.js";
import { workColumns, workUnit, workValues } from "../measure/work.js";
import { addon, type PerfEventName } from "../native.js";
import { writeJsonAtomic } from "../results/atomic.js";
import { DirectoryLock } from "../results/lock.js";
import { endsWithFooter, repairResults } from "../results/repair.js";
import { SamplesWriter } from "../results/samples-writer.js";
import { heldSession } from "../results/session-files.js";
import { SpaceReserve } from "../results/space-reserve.js";
import { HeadTail } from "../util/head-tail.js";
import { loadCustomStage } from "./custom-stage.js";
import { describeLeftovers, leftoverProcesses } from "./leftovers.js";
import { planRuns } from "./plan.js";
import { buildPipeline, builtinStages, COMMITS_KEY, type Pipeline, type StageRegistry } from "./registry.js";
import { StudyRunsTable } from "./runs-table.js";
import type {
  CommitContext,
  CommitState,
  RunContext,
  RunOutcome,
  RunSlot,
  SessionContext,
  Stage,
} from "./stage.js";
import {
  type CommitSummary,
  comparisonsWarning,
  type ShardSummary,
  type StudySummary,
  studyConfigs,
  summarizeCommits,
} from "./summary.js";

/** Calls at the edges of a session, its commits (their prepare) and its runs, for library users. */
export interface PipelineHooks {
  sessionStart?(context: SessionContext): void | Promise<void>;
  sessionEnd?(context: SessionContext, summary: StudySummary): void | Promise<void>;
  commitStart?(context: CommitContext): void | Promise<void>;
  commitEnd?(context: CommitContext): void | Promise<void>;
  runStart?(context: RunContext): void | Promise<void>;
  runEnd?(context: RunContext): void | Promise<void>;
}

export type StudyProgress =
  | { kind: "prepared"; commit: string; done: number; total: number; skipped?: string; reused: boolean }
  | {
      kind: "run-end";
      commit: string;
      slot: RunSlot;
      done: number;
      total: number;
      etaS: number;
      netJ?: number;
      durationS?: number;
    };

export interface StudyOptions {
  /** Ctrl-C: kills the run in progress, keeps every finished one, marks the session interrupted. */
  signal?: AbortSignal;
  hooks?: PipelineHooks;
  /** Lines of progress for a person. */
  onLog?: (line: string) => void;
  onProgress?: (event: StudyProgress) => void;
  /** The energy backend; default: the sensors where any can be read, else the labelled estimate. */
  backend?: EnergyBackend;
  /** The built-in stages; a library user may register more or fewer. */
  registry?: StageRegistry;
}

export async function runStudy(study: ResolvedStudy, options: StudyOptions = {}): Promise<StudySummary> {
  const { config } = study;
  const out = prepareOutputDir(config.out);
  const lock = DirectoryLock.acquire(out);
  try {
    const held = heldSession(out);
    if (held?.kind === "measure") {
      throw new UsageError(
        `${out} holds an emp measure session (${held.files.join(", ")}); a study there would replace its runs.arrow`,
        { suggestion: "give the study a folder of its own (--out, or `out` in the config)", path: out },
      );
    }
    const ledger = Ledger.open(out);
    try {
      return await new StudySession(study, out, ledger, options).run();
    } finally {
      ledger.close();
    }
  } finally {
    lock.release();
  }
}

class StudySession {
  private readonly sessionId = `${hostname()}-${Date.now().toString(36)}`;
  private readonly abortController = new AbortController();
  private readonly warnings: string[] = [];
  private readonly outcomes: RunOutcome[] = [];
  private readonly states: CommitState[] = [];
  private readonly data = new Map<string, unknown>();
  private readonly hooks: PipelineHooks;
  private readonly log: (line: string) => void;
  private stopReason: string | undefined;
  private failedStages = 0;
  /** Warnings about single runs, kept for the first and last runs only (summary-bounds.ts). */
  private readonly runWarnings = new HeadTail<string[]>(SUMMARY_RUNS_KEPT);
  private runsTable?: StudyRunsTable;
  private shard: ShardSummary | null = null;

  constructor(
    private readonly study: ResolvedStudy,
    private readonly out: string,
    private readonly ledger: Ledger,
    private readonly options: StudyOptions,
  ) {
    this.hooks = options.hooks ?? {};
    this.log = options.onLog ?? (() => {});
    options.signal?.addEventListener("abort", () => this.abort("interrupted"), { once: true });
    if (options.signal?.aborted) this.abort("interrupted");
  }

  private abort(reason: string): void {
    this.stopReason ??= reason;
    this.abortController.abort();
  }

  async run(): Promise<StudySummary> {
    const { config } = this.study;
    const dead = this.ledger.markAbandoned();
    for (const { session, why } of dead) this.log(`session ${session.id} is dead: ${why}`);
    for (const line of repairResults(this.out, { locked: true })) this.log(line);
    // The probe ends what is left in the cgroups of dead emps here: only what survives it is named.
    const reports = addon.probe();
    const backend =
      this.options.backend ??
      chooseBackend({ sources: config.sources, sampleHz: config.sampleHz, tdpW: config.tdpW }, reports);
    const provenance = gatherProvenance(reports, backend, config.sources);
    this.warnings.push(...provenanceWarnings(provenance));
    for (const { session, why } of dead) {
      const left = leftoverProcesses(session);
      if (left === undefined) continue;
      const line = describeLeftovers(session.id, why, left);
      this.log(`warning: ${line}`);
      this.warnings.push(line);
    }
    // Custom stages load before anything costly, so a malformed one costs no build time.
    const registry = this.options.registry ?? builtinStages();
    const taken = new Set(registry.names());
    const custom: Stage[] = [];
    for (const spec of config.stages) {
      const stage = await loadCustomStage(spec, taken);
      taken.add(stage.name);
      custom.push(stage);
    }
    const pipeline = buildPipeline(registry, custom as Parameters<typeof buildPipeline>[1]);

    // The commits and what each still needs come before the session: a rerun with nothing left to
    // measure records no session (and writes no file).
    const mirror = await Mirror.open(config.repo, join(this.out, "repo.git"));
    const selected = await mirror.resolve(config.commits, config.paths);
    const commits = config.shard === undefined ? selected : shardSlice(selected, config.shard);
    if (config.shard !== undefined) {
      this.shard = {
        index: config.shard.index,
        count: config.shard.count,
        study_commits: selected.length,
        selection: selectionDigest(selected.map((c) => c.sha)),
      };
      // In runs.arrow, the samples and the manifest: emp merge checks that the shards agree.
      provenance.shard = this.shard;
      if (commits.length === 0) {
        this.warnings.push(
          `shard ${shardText(config.shard)} holds none of the study's ${selected.length} commits: use at most ${selected.length} shards`,
        );
      }
    }
    for (const commit of commits) {
      this.ledger.upsertCommit(commit);
      const done = this.ledger.runsDone(commit.sha, this.study.hash);
      this.states.push({
        commit,
        remaining: Math.max(0, config.repeat - done),
        warmupsDone: this.ledger.warmupsDone(commit.sha, this.study.hash),
        // A count an earlier session calibrated is kept: its runs and this session's are comparable.
        iterations:
          config.minRunMs === undefined
            ? undefined
            : this.ledger.calibration(commit.sha, this.study.hash)?.iterations,
      });
    }
    if (this.states.every((s) => s.remaining === 0)) {
      // Nothing to measure, but a runs.arrow lost or cut short is written again from the ledger.
      const runsPath = join(this.out, "runs.arrow");
      if (this.ledger.runs().length > 0 && (!existsSync(runsPath) || !endsWithFooter(runsPath))) {
        const domains = backend.domains.map((d) => d.domain);
        new StudyRunsTable(
          runsPath,
          this.ledger,
          provenance,
          this.sessionId,
          domains,
          this.columnUnits(backend),
        ).close();
        this.log(`${runsPath} written again from the ledger`);
      }
      return this.nothingLeft(backend);
    }

    this.ledger.startSession({
      id: this.sessionId,
      configHash: this.study.hash,
      // The whole resolved study, so that `emp resume` continues exactly this one.
      config: this.study,
      origins: this.study.origins,
      empVersion: String(provenance.emp_version),
      host: provenance.host,
    });
    let samples: SamplesWriter;
    // Released before the session's end is recorded, so that a full disk still has room for it.
    let reserve: SpaceReserve | undefined;
    try {
      reserve = SpaceReserve.hold(this.out);
      this.manifest(provenance, "running");
      // Built from the ledger once; each run of this session is appended to it.
      this.runsTable = new StudyRunsTable(
        join(this.out, "runs.arrow"),
        this.ledger,
        provenance,
        this.sessionId,
        backend.domains.map((d) => d.domain),
        this.columnUnits(backend),
      );
      mkdirSync(join(this.out, "samples"), { recursive: true });
      samples = new SamplesWriter(
        join(this.out, "samples", `${this.sessionId}.arrow`),
        backend.channels,
        provenance,
      );
    } catch (error) {
      // A full disk before the first run: the session is recorded as failed, with the reason.
      reserve?.release();
      this.runsTable?.close();
      this.ledger.endSession(this.sessionId, "failed", (error as Error).message);
      throw error;
    }
    const meter = new Meter(backend, {
      sink: samples,
      counters: (config.counters as PerfEventName[] | undefined) ?? MEASURE_DEFAULTS.counters,
      signal: this.abortController.signal,
    });
    let state: "complete" | "interrupted" | "failed" = "complete";
    let failure: unknown;
    let context: SessionContext | undefined;
    // A process that exits now (a second Ctrl-C) still leaves closed files and a recorded state.
    const onForcedExit = () => {
      reserve?.release();
      try {
        samples.close();
        this.runsTable?.close();
        this.ledger.endSession(this.sessionId, "interrupted", "stopped at once by a second signal");
        this.manifest(provenance, "interrupted");
      } catch (error) {
        process.stderr.write(`emp: could not close ${this.out}: ${(error as Error).message}\n`);
      }
    };
    process.once("exit", onForcedExit);
    try {
      context = this.sessionContext(mirror, meter);
      await this.hooks.sessionStart?.(context);
      await this.prepareAll(context, pipeline);
      const slots = planRuns(
        this.states
          .filter((s) => s.skipped === undefined && s.remaining > 0)
          .map((s) => ({
            commit: s.commit,
            done: config.repeat - s.remaining,
            warmupsDone: s.warmupsDone,
          })),
        {
          repeat: config.repeat,
          warmup: config.warmup,
          warmupPolicy: config.warmupPolicy,
          batchSize: config.batchSize,
          order: config.order,
          seed: config.seed,
        },
      );
      if (slots.length > 0 && !context.aborted) {
        // Sampling starts here, not in a stage: every pre and run stage can rely on it, whichever
        // stages a registry holds.
        meter.start();
        for (const stage of pipeline.pre) {
          await this.execute(stage, context, {});
          if (context.aborted) break;
        }
        await this.runAll(context, pipeline, slots);
      }
      for (const stage of pipeline.post) {
        try {
          await this.execute(stage, context, {});
        } catch (error) {
          if (error instanceof WriteError) throw error;
          this.failedStages++;
          this.warnings.push(`post stage ${stage.name} failed: ${(error as Error).message}`);
        }
      }
      if (this.stopReason !== undefined) state = "interrupted";
    } catch (error) {
      // A failed write fails the session even when a signal came too: its files say why.
      state = this.stopReason !== undefined && !(error instanceof WriteError) ? "interrupted" : "failed";
      failure = error;
    }
    // After a failed write each step still runs, so that the ledger and the manifest say so; the
    // first error is the one reported.
    const fail = (error: unknown) => {
      failure ??= error;
      state = "failed";
    };
    process.off("exit", onForcedExit);
    meter.stop();
    reserve.release();
    if (meter.failure !== undefined && failure === undefined) fail(meter.failure);
    for (const close of [() => samples.close(), () => this.runsTable?.close()]) {
      try {
        close();
      } catch (error) {
        fail(error);
      }
    }
    const summary = this.summary(backend, meter, state === "interrupted", context);
    try {
      writeJsonAtomic(join(this.out, "summary.json"), summary);
    } catch (error) {
      fail(error);
    }
    try {
      this.ledger.endSession(
        this.sessionId,
        state,
        failure === undefined ? this.stopReason : (failure as Error).message,
      );
    } catch (error) {
      fail(error);
    }
    try {
      this.manifest(provenance, state, failure);
    } catch (error) {
      fail(error);
    }
    if (context !== undefined) await this.hooks.sessionEnd?.(context, summary);
    if (failure !== undefined && state === "failed") throw failure;
    return summary;
  }

  private sessionContext(mirror: Mirror, meter: Meter): SessionContext {
    const session = this;
    return {
      sessionId: this.sessionId,
      study: this.study,
      out: this.out,
      ledger: this.ledger,
      mirror,
      meter,
      baselineW: {},
      baselineUnknown: {},
      commits: this.states,
      runs: this.outcomes,
      data: this.data,
      signal: this.abortController.signal,
      get aborted() {
        return session.abortController.signal.aborted;
      },
      abort: (reason) => this.abort(reason),
      warn: (message) => this.warnings.push(message),
      log: (message) => this.log(message),
    };
  }

  /** Runs one stage with its ledger record; a throw is recorded and passed on. */
  private async execute<G extends StageGroup>(
    stage: Stage<G>,
    context: Parameters<Stage<G>["execute"]>[0],
    /** `retries`: earlier failed attempts at the same work (a commit's build in earlier sessions). */
    where: { commit?: string; retries?: number },
  ): Promise<void> {
    const id = this.ledger.stageStarted({
      sessionId: this.sessionId,
      stage: stage.name,
      group: stage.group,
      commit: where.commit,
    });
    try {
      await stage.execute(context);
      this.ledger.stageEnded(id, this.abortController.signal.aborted ? "interrupted" : "ok", {
        retries: where.retries,
      });
    } catch (error) {
      const logPath = error instanceof StageFailure ? error.logPath : undefined;
      this.ledger.stageEnded(id, this.abortController.signal.aborted ? "interrupted" : "failed", {
        error: (error as Error).message,
        logPath,
        retries: where.retries,
      });
      throw error;
    }
  }

  /** The commit's context; its log folder is made once, when the commit is prepared (prepareOne). */
  private commitContext(session: SessionContext, state: CommitState): CommitContext {
    const logDir = join(this.out, "logs", state.commit.short);
    return {
      ...session,
      // Getters of the session context do not survive a spread: read the signal itself.
      get aborted() {
        return session.signal.aborted;
      },
      state,
      commit: state.commit,
      logDir,
      logPath: join(logDir, "prepare.log"),
      skip: (reason) => {
        state.skipped ??= reason;
      },
    };
  }

  /** Prepares the commits that still need runs, `jobs` at a time; a failure skips its commit only. */
  private async prepareAll(session: SessionContext, pipeline: Pipeline): Promise<void> {
    const { config } = this.study;
    const queue = this.states.filter((s) => s.remaining > 0);
    let done = 0;
    const worker = async () => {
      for (let state = queue.shift(); state !== undefined && !session.aborted; state = queue.shift()) {
        const reused = await this.prepareOne(session, pipeline, state);
        done++;
        this.options.onProgress?.({
          kind: "prepared",
          commit: state.commit.short,
          done,
          total: done + queue.length,
          skipped: state.skipped,
          reused,
        });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, config.jobs) }, worker));
  }

  /** Returns true when an earlier session's build was reused. */
  private async prepareOne(
    session: SessionContext,
    pipeline: Pipeline,
    state: CommitState,
  ): Promise<boolean> {
    const { prepareHash } = this.study;
    const context = this.commitContext(session, state);
    mkdirSync(context.logDir, { recursive: true });
    const earlier = this.ledger.prepared(state.commit.sha, prepareHash);
    if (earlier?.state === "ok" && existsSync(earlier.worktree)) {
      state.worktree = earlier.worktree;
      return true;
    }
    await this.hooks.commitStart?.(context);
    try {
      for (const stage of pipeline.prepare) {
        await this.execute(stage, context, { commit: state.commit.sha, retries: earlier?.attempts ?? 0 });
        if (state.skipped !== undefined || session.aborted) break;
      }
    } catch (error) {
      if (session.aborted) return false;
      state.skipped = (error as Error).message;
    }
    if (!session.aborted) {
      this.ledger.setPrepared({
        commit: state.commit.sha,
        prepareHash,
        worktree: state.worktree ?? "",
        state: state.skipped === undefined ? "ok" : "failed",
        logPath: context.logPath,
        error: state.skipped,
      });
      if (state.skipped !== undefined) this.log(`${state.commit.short}: skipped: ${state.skipped}`);
    }
    await this.hooks.commitEnd?.(context);
    return false;
  }

  private async runAll(session: SessionContext, pipeline: Pipeline, slots: RunSlot[]): Promise<void> {
    const byCommit = new Map(this.states.map((s) => [s.commit.sha, s]));
    const startedMs = Date.now();
    let done = 0;
    for (const slot of slots) {
      if (session.aborted) break;
      const state = byCommit.get(slot.commit.sha);
      if (state === undefined || state.skipped !== undefined) {
        done++;
        continue;
      }
      const commitContext = this.commitContext(session, state);
      const context: RunContext = {
        ...commitContext,
        get aborted() {
          return session.signal.aborted;
        },
        // The baseline is set by the pre group after the session context was made: read it live.
        get baselineW() {
          return session.baselineW;
        },
        slot,
        record: (result, captured) => this.record(slot, result, captured),
      };
      await this.hooks.runStart?.(context);
      for (const stage of pipeline.run) {
        if (session.aborted || state.skipped !== undefined) break;
        try {
          await this.execute(stage, context, { commit: slot.commit.sha });
        } catch (error) {
          // Results that cannot be written end the session: the next runs could not be kept either.
          if (error instanceof WriteError) throw error;
          if (session.aborted) break;
          this.failedStages++;
          // A shell step's log is not in its message: named here, once.
          const log = error instanceof StageFailure && error.logPath ? ` (log: ${error.logPath})` : "";
          this.runWarnings.push([
            `${slot.commit.short} ${slotName(slot)}: ${stage.name} failed: ${(error as Error).message}${log}`,
          ]);
        }
      }
      await this.hooks.runEnd?.(context);
      done++;
      const perRunMs = (Date.now() - startedMs) / done;
      const domain = context.result ? Object.keys(context.result.energy)[0] : undefined;
      this.options.onProgress?.({
        kind: "run-end",
        commit: slot.commit.short,
        slot,
        done,
        total: slots.length,
        etaS: (perRunMs * (slots.length - done)) / 1000,
        netJ: domain !== undefined ? (context.result?.energy[domain]?.netJ ?? undefined) : undefined,
        durationS: context.result?.durationS,
      });
    }
  }

  /** "J/MB": the unit of energy per unit of work, where the study's `work` or `metrics` give one. */
  private workUnit(): string | null {
    const unit = workUnit(this.study.config.work, this.study.config.metrics?.[0]);
    return unit === undefined ? null : `J/${unit}`;
  }

  /** Units of runs.arrow's columns of the study's `work` and `metrics`. */
  private columnUnits(backend: EnergyBackend): Record<string, string> {
    const { work, metrics } = this.study.config;
    const columns = workColumns(
      backend.domains.map((d) => d.domain),
      work,
      metrics ?? [],
    );
    return Object.fromEntries(columns.map((c) => [c.name, c.unit]));
  }

  /** Keeps a measured run: the ledger first (the durable record), then runs.arrow from it. */
  private record(slot: RunSlot, result: MeasuredRun, captured: Record<string, number | null> = {}): number {
    const { work, metrics } = this.study.config;
    for (const [name, value] of Object.entries(captured)) {
      if (value === null) result.warnings.push(`metrics: ${name} not found in the run's log`);
    }
    const extra = workValues(result, captured, work, metrics);
    const run = {
      sessionId: this.sessionId,
      commit: slot.commit.sha,
      configHash: this.study.hash,
      repetition: slot.repetition,
      ordinal: result.ordinal,
      warmup: slot.warmup,
      startNs: result.startNs,
      endNs: result.endNs,
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut: result.timedOut,
      energy: runEnergyJ(result),
      metrics: { ...runMetrics(result), ...extra },
      warnings: result.warnings,
      iterations: result.iterations,
    } satisfies LedgerRun;
    const id = this.ledger.addRun(run);
    this.outcomes.push({ slot, id, result });
    if (result.warnings.length > 0)
      this.runWarnings.push(result.warnings.map((w) => `${slot.commit.short} ${slotName(slot)}: ${w}`));
    this.runsTable?.append({ ...run, id });
    return id;
  }

  /** The study's statistics as the ledger holds them, from a rerun that had nothing to measure. */
  private nothingLeft(backend: EnergyBackend): StudySummary {
    const infos = this.states.map((s) => s.commit);
    const runs = this.ledger.runs({ configHash: this.study.hash });
    const comparisons = comparisonsWarning(infos, runs);
    return {
      out: this.out,
      session: null,
      config_hash: this.study.hash,
      min_run_ms: this.study.config.minRunMs ?? null,
      work_unit: this.workUnit(),
      configs: studyConfigs(this.ledger.sessions()),
      estimated: backend.estimated,
      commits: summarizeCommits(infos, runs),
      skipped: [],
      failed_runs: 0,
      failed_stages: 0,
      baseline_unknown: {},
      warnings: [...this.warnings, ...(comparisons === null ? [] : [comparisons])],
      interrupted: false,
      shard: this.shard,
    };
  }

  private summary(
    backend: EnergyBackend,
    meter: Meter,
    interrupted: boolean,
    context: SessionContext | undefined,
  ): StudySummary {
    const commits = (this.data.get(COMMITS_KEY) as CommitSummary[] | undefined) ?? [];
    return {
      out: this.out,
      session: this.sessionId,
      config_hash: this.study.hash,
      min_run_ms: this.study.config.minRunMs ?? null,
      work_unit: this.workUnit(),
      configs: studyConfigs(this.ledger.sessions()),
      estimated: backend.estimated,
      commits,
      skipped: this.states
        .filter((s) => s.skipped !== undefined)
        .map((s) => ({
          commit: s.commit.sha,
          reason: s.skipped ?? "",
          log: this.ledger.prepared(s.commit.sha, this.study.prepareHash)?.logPath ?? null,
        })),
      failed_runs: this.outcomes.filter((o) => o.result.exitCode !== 0 || o.result.timedOut).length,
      failed_stages: this.failedStages,
      baseline_unknown: { ...context?.baselineUnknown },
      // A backend warning that a run already carries is listed once, as that run's.
      warnings: [
        ...this.warnings,
        ...this.runWarnings.items().flat(),
        ...(this.runWarnings.omitted > 0
          ? [
              `warnings of ${this.runWarnings.omitted} more runs are left out of this summary: runs.arrow (column warnings) and the ledger hold every run's`,
            ]
          : []),
        ...meter.warnings,
        ...backend.warnings().filter((w) => !this.outcomes.some((o) => o.result.warnings.includes(w))),
      ],
      interrupted,
      shard: this.shard,
    };
  }

  private manifest(provenance: Provenance, state: string, failure?: unknown): void {
    writeJsonAtomic(join(this.out, "manifest.json"), {
      session: this.sessionId,
      config: this.study.config,
      origins: this.study.origins,
      config_path: this.study.configPath,
      config_hash: this.study.hash,
      provenance,
      state,
      // Which process wrote it: a "running" manifest whose process is gone was left by a killed emp.
      process: manifestProcess(),
      ...(failure === undefined ? {} : { error: (failure as Error).message }),
    });
  }
}

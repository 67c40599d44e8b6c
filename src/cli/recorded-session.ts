// The life of a results folder around one measurement session, shared by emp measure and emp
// compare: the folder claimed (lock, never overwriting unasked), a reserve of disk space, the
// manifest's state from `running` to `complete`, `interrupted` or `failed`, Ctrl-C and a second
// signal, and the progress line. The session itself is the caller's.
import { join } from "node:path";
import { manifestProcess } from "../ledger/liveness.js";
import type { EnergyBackend } from "../measure/backend.js";
import { claimOutputDir, prepareOutputDir } from "../measure/preflight.js";
import { gatherProvenance, provenanceWarnings } from "../measure/provenance.js";
import { SessionRecorder } from "../measure/recorder.js";
import { chooseBackend } from "../measure/session.js";
import type { ProgressEvent } from "../measure/session-runner.js";
import { type MetricSpec, type WorkSpec, workColumns } from "../measure/work.js";
import { addon, type SensorReport, type StdioOption } from "../native.js";
import { SpaceReserve } from "../results/space-reserve.js";
import { Interrupts } from "./interrupt.js";
import { MeasureProgress } from "./measure-progress.js";
import { StatusLine } from "./status-line.js";

export interface RecordedSessionOptions {
  outDir: string;
  /** Replace an earlier emp measure session in outDir (otherwise exit 2). */
  force: boolean;
  /** --json: stdout carries the JSON alone, so the commands' output goes to stderr. */
  json: boolean;
  /** What picks the backend: the sensors, or the estimate where none can be read. */
  sampleHz?: number;
  sources?: string[];
  tdpW?: number;
  counters?: readonly string[];
  /** --work and --metric: runs.arrow gains their columns beside the counters. */
  work?: WorkSpec;
  metrics?: readonly MetricSpec[];
  /** What the manifest records as the session's config. */
  config: unknown;
  /** For the progress line: warmups and measured runs in all, and whether to name each run's command. */
  warmups: number;
  runs: number;
  showCommand?: boolean;
}

/** What the session is given to measure with. */
export interface SessionContext {
  out: string;
  backend: EnergyBackend;
  /** Where the commands' stdout goes: emp's stderr with --json. */
  commandStdout: StdioOption | undefined;
  recorder: SessionRecorder;
  signal: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** The provenance's warnings, said before the session's own. */
  warnings: string[];
  /** Where the output of --prepare, --setup and --cleanup goes. */
  shellLog: string;
}

/**
 * Runs `session` in the claimed folder and returns its summary, with the exit code of the signal that
 * interrupted it (if one did). The manifest ends `interrupted` when the summary says so, `complete`
 * otherwise, and `failed` (rethrown) on an error.
 */
export async function recordedSession<S extends { interrupted: boolean }>(
  options: RecordedSessionOptions,
  session: (context: SessionContext) => Promise<S>,
): Promise<{ summary: S; signalExitCode: number | undefined }> {
  const reports = addon.probe();
  const backend = chooseBackend(options, reports);
  const out = prepareOutputDir(options.outDir);
  const lock = claimOutputDir(out, options.force, (line) => process.stderr.write(`emp: ${line}\n`));
  try {
    const reserve = SpaceReserve.hold(out);
    try {
      return await recordInto(out, options, reports, backend, reserve, session);
    } finally {
      reserve.release();
    }
  } finally {
    lock.release();
  }
}

async function recordInto<S extends { interrupted: boolean }>(
  out: string,
  options: RecordedSessionOptions,
  reports: readonly SensorReport[],
  backend: EnergyBackend,
  /** Released when the session fails, so that a full disk still has room to say so. */
  reserve: SpaceReserve,
  session: (context: SessionContext) => Promise<S>,
): Promise<{ summary: S; signalExitCode: number | undefined }> {
  const { config } = options;
  const provenance = gatherProvenance(reports, backend, options.sources);
  const recorder = new SessionRecorder(out, provenance);
  recorder.open(
    backend.channels,
    backend.domains.map((d) => d.domain),
    options.counters ?? [],
    workColumns(
      backend.domains.map((d) => d.domain),
      options.work,
      options.metrics ?? [],
    ),
  );
  // Which process writes the session: a "running" manifest whose process is gone was left by a killed emp.
  const owner = manifestProcess();
  recorder.manifest({ config, provenance, process: owner, state: "running" });
  const interrupts = new Interrupts();
  const status = StatusLine.forStderr();
  const progress =
    status && new MeasureProgress(status, options.warmups, options.runs, options.showCommand ?? false);
  interrupts.signal.addEventListener("abort", () => progress?.interrupted(), { once: true });
  // A second signal exits at once: the files are still closed and the state recorded.
  const onForcedExit = () => {
    reserve.release();
    try {
      recorder.close();
      recorder.manifest({ config, provenance, process: owner, state: "interrupted" });
    } catch (error) {
      process.stderr.write(`emp: could not close ${out}: ${(error as Error).message}\n`);
    }
  };
  process.once("exit", onForcedExit);
  try {
    const summary = await session({
      out,
      backend,
      commandStdout: options.json ? "stderr" : undefined,
      recorder,
      signal: interrupts.signal,
      onProgress: progress?.onProgress,
      warnings: provenanceWarnings(provenance),
      shellLog: join(out, "prepare.log"),
    });
    progress?.end();
    const state = summary.interrupted ? "interrupted" : "complete";
    // How finely each channel resolves energy, as this session saw it.
    recorder.manifest({ config, provenance, process: owner, state, resolution: backend.resolution() });
    return { summary, signalExitCode: summary.interrupted ? (interrupts.exitCode ?? 130) : undefined };
  } catch (error) {
    progress?.end();
    reserve.release();
    try {
      recorder.manifest({
        config,
        provenance,
        process: owner,
        state: "failed",
        error: (error as Error).message,
      });
    } catch (manifestError) {
      process.stderr.write(
        `emp: ${out}/manifest.json still reads "running": ${(manifestError as Error).message}\n`,
      );
    }
    throw error;
  } finally {
    process.off("exit", onForcedExit);
    interrupts.dispose();
  }
}

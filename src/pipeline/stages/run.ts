// Per run, strictly one at a time: wait for the machine to cool below the limit, idle for the
// cooldown, measure the command in the commit's worktree (iterated to min_run_ms, the count calibrated
// once per commit), then the unmeasured post_command.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SpawnError, StageFailure } from "../../errors.js";
import { slotLogName, slotName } from "../../ledger/run-name.js";
import { calibrateIterations } from "../../measure/calibrate.js";
import type { MeasuredRun, RunSpec } from "../../measure/meter.js";
import { failureText, runFailed } from "../../measure/run-failure.js";
import { captureMetric, type MetricSpec } from "../../measure/work.js";
import { readTemperaturesC } from "../../sampling/temperature.js";
import { runShell } from "../../util/shell.js";
import { sleep } from "../../util/sleep.js";
import type { RunContext, Stage } from "../stage.js";

/** How often the temperature gate looks again. */
const GATE_POLL_MS = 1000;

export function temperatureGateStage(): Stage<"run"> {
  let noSensorWarned = false;
  return {
    name: "temperature-gate",
    group: "run",
    async execute(context: RunContext) {
      const limit = context.study.config.temperatureLimit;
      if (limit === undefined) return;
      const deadline = Date.now() + limit.maxWaitS * 1000;
      for (;;) {
        const temperatures = await readTemperaturesC();
        if (temperatures.size === 0) {
          if (!noSensorWarned)
            context.warn("temperature_limit is set but no temperature sensor can be read here");
          noSensorWarned = true;
          return;
        }
        const [hottest, celsius] = [...temperatures].reduce((a, b) => (b[1] > a[1] ? b : a));
        if (celsius <= limit.maxC) return;
        if (Date.now() >= deadline || context.aborted) {
          context.warn(
            `${context.commit.short} ${slotName(context.slot)}: started at ${celsius.toFixed(1)} °C (${hottest}) after waiting ${limit.maxWaitS} s for ${limit.maxC} °C`,
          );
          return;
        }
        context.log(`waiting for ${hottest} at ${celsius.toFixed(1)} °C to fall to ${limit.maxC} °C`);
        await sleep(GATE_POLL_MS, context.signal);
      }
    },
  };
}

export function cooldownStage(): Stage<"run"> {
  let first = true;
  return {
    name: "cooldown",
    group: "run",
    async execute(context: RunContext) {
      // The baseline just before the first run already left the machine idle.
      if (first) {
        first = false;
        return;
      }
      await context.meter.cooldown(context.study.config.cooldownS);
    },
  };
}

export function measureStage(): Stage<"run"> {
  return {
    name: "measure",
    group: "run",
    async execute(context: RunContext) {
      const { config } = context.study;
      const cwd = context.state.worktree;
      if (cwd === undefined) throw new Error("measure needs the commit's worktree");
      const [file, ...args] =
        typeof config.command === "string" ? ["sh", "-c", config.command] : config.command;
      if (file === undefined) throw new Error("the study's command is empty");
      const env = commandEnv(config.env);
      const spec = (logName: string, iterations: number): RunSpec => {
        const log = join(context.logDir, logName);
        return {
          file,
          args,
          cwd,
          env,
          iterations,
          stdout: log,
          stderr: log,
          timeoutS: config.timeoutS,
          waitDescendants: config.waitDescendants,
          // Where `emp resume` looks for what this run left running, should emp be killed.
          onStarted: ({ pid, containment }) =>
            context.ledger.runStarted(context.sessionId, {
              group: pid,
              cgroup: containment.kind === "cgroup" ? (containment.path ?? null) : null,
            }),
        };
      };
      let result: MeasuredRun | undefined;
      try {
        const iterations = await commitIterations(context, (count, pass) =>
          context.meter.measure(spec(`calibration-${pass}.log`, count), true, context.baselineW),
        );
        if (iterations === undefined) return; // interrupted while calibrating
        result = await context.meter.measure(
          spec(slotLogName(context.slot), iterations),
          context.slot.warmup,
          context.baselineW,
        );
      } catch (error) {
        if (!(error instanceof SpawnError)) throw error;
        // The command does not exist at this commit: every other run of it would fail the same way.
        // The stage fails too, so that the session and its history count the failure.
        const reason = `its command cannot be started: ${error.message}`;
        context.skip(reason);
        throw new StageFailure(reason);
      }
      if (result === undefined) return; // interrupted: a run cut short is not kept
      context.result = result;
      context.record(
        result,
        capturedMetrics(config.metrics ?? [], join(context.logDir, slotLogName(context.slot))),
      );
    },
  };
}

/**
 * How many times the command runs in each of the commit's runs: 1 without min_run_ms; else the count
 * kept for the commit (in the ledger, or found on an earlier visit), or one calibrated now, on its
 * first visit of the session, before its warmups, and kept. The calibration runs are measured (their
 * samples are in the session's samples file, as warmups) but not recorded as runs: the ledger keeps
 * what they found and cost. Undefined when the session was interrupted while calibrating.
 */
async function commitIterations(
  context: RunContext,
  measure: (iterations: number, pass: number) => Promise<MeasuredRun | undefined>,
): Promise<number | undefined> {
  const { minRunMs } = context.study.config;
  if (minRunMs === undefined) return 1;
  if (context.state.iterations !== undefined) return context.state.iterations;
  let pass = 0;
  let durationS = 0;
  let last: MeasuredRun | undefined;
  const found = await calibrateIterations(minRunMs, async (count) => {
    const run = await measure(count, ++pass);
    if (run !== undefined) {
      durationS += run.durationS;
      last = run;
    }
    return run;
  });
  if (found === undefined || last === undefined) return undefined;
  context.state.iterations = found.iterations;
  const { commit } = context;
  if (runFailed(last)) {
    // Its runs will most likely fail alike and be counted so; a count found on a failure is not
    // kept for later sessions.
    context.warn(
      `${commit.short}: calibration ${pass} ${failureText(last)} (log: ${join(context.logDir, `calibration-${pass}.log`)}): its runs take ${found.iterations} iteration${found.iterations === 1 ? "" : "s"} in this session`,
    );
    return found.iterations;
  }
  context.ledger.addCalibration({
    commit: commit.sha,
    configHash: context.study.hash,
    iterations: found.iterations,
    passes: found.passes,
    durationS,
    sessionId: context.sessionId,
  });
  context.log(
    `${commit.short}: ${found.iterations} iterations per run (min_run_ms ${minRunMs}, ${found.passes} calibration runs)`,
  );
  return found.iterations;
}

export function postCommandStage(): Stage<"run"> {
  return {
    name: "post-command",
    group: "run",
    async execute(context: RunContext) {
      const { config } = context.study;
      if (config.postCommand === undefined || context.aborted) return;
      const cwd = context.state.worktree;
      if (cwd === undefined) return;
      await runShell(config.postCommand, {
        cwd,
        env: config.env,
        logPath: join(context.logDir, "post.log"),
        signal: context.signal,
        step: "post_command",
      });
    },
  };
}

/** The study's `metrics` as the run's log (its stdout and stderr) shows them; null where not found. */
function capturedMetrics(metrics: readonly MetricSpec[], log: string): Record<string, number | null> {
  if (metrics.length === 0) return {};
  let output = "";
  try {
    output = readFileSync(log, "utf8");
  } catch {
    // no log: the run printed nothing, and every metric is null
  }
  return Object.fromEntries(metrics.map((m) => [m.name, captureMetric(m, output)]));
}

/** The measured command's whole environment: emp's, with the study's `env` on top. */
function commandEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return { ...env, ...extra };
}

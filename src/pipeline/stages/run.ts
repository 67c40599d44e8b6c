// Per run, strictly one at a time: wait for the machine to cool below the limit, idle for the
// cooldown, measure the command in the commit's worktree, then the unmeasured post_command.
import { join } from "node:path";
import { SpawnError } from "../../errors.js";
import { readTemperaturesC } from "../../sampling/temperature.js";
import { sleep } from "../../util/sleep.js";
import { slotLogName, slotName } from "../plan.js";
import { runShell } from "../shell.js";
import { type RunContext, type Stage, StageFailure } from "../stage.js";

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
      const log = join(context.logDir, slotLogName(context.slot));
      let result: Awaited<ReturnType<typeof context.meter.measure>>;
      try {
        result = await context.meter.measure(
          {
            file,
            args,
            cwd,
            env: commandEnv(config.env),
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
          },
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
      context.record(result);
    },
  };
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

/** The measured command's whole environment: emp's, with the study's `env` on top. */
function commandEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return { ...env, ...extra };
}

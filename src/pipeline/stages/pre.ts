// Once per session, right before the first run (after every commit is prepared, so builds neither
// disturb these idle spans nor leave the machine they describe): the sensors give readings, the idle
// machine is steady, and its power is the baseline every run's net energy subtracts.
import { mean, sampleStandardDeviation } from "simple-statistics";
import { StageFailure } from "../../errors.js";
import { unknownIdleWarnings } from "../../measure/backend.js";
import { sleep } from "../../util/sleep.js";
import type { SessionContext, Stage } from "../stage.js";

/** Idle time the sensor check samples: several RAPL updates, short enough to go unnoticed. */
const VERIFY_S = 0.25;

export function verifySensorsStage(): Stage<"pre"> {
  return {
    name: "verify-sensors",
    group: "pre",
    async execute(context: SessionContext) {
      const span = await context.meter.idle(VERIFY_S, "baseline");
      const backend = context.meter.backend;
      const { powerW } = backend.idlePower(span.startNs, span.endNs);
      const silent = backend.domains.filter((d) => !Number.isFinite(powerW[d.domain]));
      if (silent.length > 0) {
        throw new StageFailure(
          `no readings from ${silent.map((d) => `${d.domain} (${d.source})`).join(", ")} in ${VERIFY_S} s; check \`emp probe\``,
        );
      }
      const errors = backend.sampling().read_errors;
      if (errors > 0) throw new StageFailure(`${errors} sensor reads failed while checking the sensors`);
    },
  };
}

export interface StabilityOptions {
  /** Idle windows compared. */
  windows: number;
  windowS: number;
  /** Largest coefficient of variation of the windows' power counted as steady. */
  maxCv: number;
  /** Checks before giving up with a warning, with a pause between. */
  attempts: number;
  pauseS: number;
}

export const STABILITY_DEFAULTS: StabilityOptions = {
  windows: 5,
  windowS: 0.2,
  maxCv: 0.1,
  attempts: 3,
  pauseS: 2,
};

/** The idle machine's power per window must agree: a busy background makes the baseline meaningless. */
export function stabilityStage(options: StabilityOptions = STABILITY_DEFAULTS): Stage<"pre"> {
  return {
    name: "stability",
    group: "pre",
    async execute(context: SessionContext) {
      const backend = context.meter.backend;
      let worst = "";
      for (let attempt = 0; attempt < options.attempts && !context.aborted; attempt++) {
        if (attempt > 0) await sleep(options.pauseS * 1000, context.signal);
        const span = await context.meter.idle(options.windows * options.windowS, "baseline");
        const stepNs = (span.endNs - span.startNs) / BigInt(options.windows);
        // Every domain's power per window, each window read once.
        const windowsW = Array.from({ length: options.windows }, (_, w) => {
          const startNs = span.startNs + stepNs * BigInt(w);
          return backend.idlePower(startNs, startNs + stepNs).powerW;
        });
        const unsteady: string[] = [];
        for (const { domain } of backend.domains) {
          const cv = coefficientOfVariation(windowsW.map((powerW) => powerW[domain] ?? Number.NaN));
          if (cv > options.maxCv) {
            unsteady.push(`${domain} varied ${(cv * 100).toFixed(1)}% between ${options.windowS} s windows`);
          }
        }
        if (unsteady.length === 0) return;
        worst = unsteady.join("; ");
        context.log(`idle machine not steady (${worst}); waiting`);
      }
      if (worst !== "") {
        context.warn(
          `the idle machine was not steady (${worst}): stop background work, or expect noisier baselines`,
        );
      }
    },
  };
}

export function baselineStage(): Stage<"pre"> {
  return {
    name: "baseline",
    group: "pre",
    async execute(context: SessionContext) {
      const seconds = context.study.config.baselineS;
      context.log(`idle baseline ${seconds} s`);
      const span = await context.meter.idle(seconds, "baseline");
      const idle = context.meter.backend.idlePower(span.startNs, span.endNs);
      // A domain left out has no net energy in any run; the runs keep their raw energy.
      context.baselineW = idle.powerW;
      context.baselineUnknown = idle.unknown;
      for (const warning of unknownIdleWarnings("baseline", idle)) context.warn(warning);
    },
  };
}

/** stdev / |mean| of the finite values; 0 when there are too few to tell or the mean is 0. */
function coefficientOfVariation(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return 0;
  const m = Math.abs(mean(finite));
  return m > 0 ? sampleStandardDeviation(finite) / m : 0;
}

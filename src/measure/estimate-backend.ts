// Energy where no real sensor can be read (VMs, CI): the labelled linear-TDP estimate from the
// run's own CPU time (task-clock) or, without it, the system's utilisation from /proc/stat.
import { availableParallelism } from "node:os";
import {
  DEFAULT_TDP_PER_CPU_W,
  estimatedBaselineW,
  estimateEnergy,
  readSystemCpuTimes,
  type SystemCpuTimes,
  systemUtilisation,
} from "../energy/estimate.js";
import { scaledCount } from "../sampling/child.js";
import type { TickBatch } from "../sampling/sampler.js";
import type {
  ChannelResolution,
  DomainEnergy,
  DomainInfo,
  EnergyBackend,
  IdlePower,
  RunSpan,
} from "./backend.js";
import type { SamplingSummary } from "./summary.js";

/** The one domain an estimate has: the whole CPU. */
export const ESTIMATE_DOMAIN = "cpu";

export class EstimateBackend implements EnergyBackend {
  readonly estimated = true;
  readonly domains: readonly DomainInfo[] = [{ domain: ESTIMATE_DOMAIN, source: "estimate" }];
  readonly channels = [];
  private readonly cpuCount = availableParallelism();
  /** /proc/stat when the current run started, for runs without task-clock. */
  private runStart: SystemCpuTimes | undefined;

  constructor(
    private readonly reason: string,
    private readonly tdpW?: number,
  ) {}

  start(): void {}
  drain(): TickBatch | undefined {
    return undefined;
  }
  stop(): void {}

  runStarting(): void {
    this.runStart = readSystemCpuTimes();
  }

  idlePower(): IdlePower {
    return { powerW: { [ESTIMATE_DOMAIN]: estimatedBaselineW(this.tdp()) }, unknown: {} };
  }

  runEnergy(run: RunSpan): Record<string, DomainEnergy> {
    const taskClock = run.counters["task-clock"];
    const utilisation = this.runStart ? safeUtilisation(this.runStart, readSystemCpuTimes()) : 0;
    const estimate = estimateEnergy({
      durationS: Number(run.durationNs) / 1e9,
      // task-clock first (ns, per task); without it, the cgroup's CPU time of the whole tree.
      processCpuS: taskClock
        ? scaledCount(taskClock) / 1e9
        : run.treeCpuNs !== null
          ? Number(run.treeCpuNs) / 1e9
          : undefined,
      systemUtilisation: utilisation,
      cpuCount: this.cpuCount,
      tdpW: this.tdp(),
    });
    return { [ESTIMATE_DOMAIN]: { rawJ: estimate.energyJ, warnings: [] } };
  }

  private tdp(): number {
    return this.tdpW ?? this.cpuCount * DEFAULT_TDP_PER_CPU_W;
  }

  /** An estimate reads no sensor: it has no resolution to report. */
  resolution(): ChannelResolution[] {
    return [];
  }

  updatePeriodMs(): number | null {
    return null;
  }

  sampling(): SamplingSummary {
    return {
      requested_hz: 0,
      achieved_hz: 0,
      samples: 0,
      dropped: 0,
      missed: 0,
      read_errors: 0,
      lateness_us: { p50: 0, p99: 0, max: 0 },
      slow_lag_max_us: null,
    };
  }

  warnings(): string[] {
    return [this.reason];
  }
}

function safeUtilisation(before: SystemCpuTimes, after: SystemCpuTimes): number {
  try {
    return systemUtilisation(before, after);
  } catch {
    return 0; // no clock tick between the two snapshots: a run too short for /proc/stat
  }
}

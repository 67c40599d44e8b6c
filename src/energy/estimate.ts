// The energy ESTIMATE emp falls back to where no real energy sensor can be read (VMs, CI): a
// documented linear model of CPU power over utilisation, labelled `estimated: true` everywhere.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EmpError, InvalidArgumentError } from "../errors.js";
import { gatherHostFacts, type HostFacts } from "../host/facts.js";
import { type Roots, rootsFromEnvironment } from "../host/roots.js";
import type { SensorReport } from "../native.js";
import { nowNs } from "../sampling/sampler.js";
import { raplVerdict } from "./rapl.js";

/**
 * Ticks per second of /proc/stat. The kernel reports these times in USER_HZ, which the Linux ABI
 * fixes at 100 on every architecture (it is what `getconf CLK_TCK` prints), whatever CONFIG_HZ is.
 */
export const USER_HZ = 100;

/** The aggregate `cpu` line of /proc/stat: time of all CPUs together, in USER_HZ ticks. */
export interface SystemCpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  /** Time running guests' vCPUs; already counted in `user` (and `guestNice` in `nice`). */
  guest: number;
  guestNice: number;
  /** CLOCK_MONOTONIC ns when the file was read (the clock of samples and of the measured command). */
  tNs: bigint;
  /** The file read. */
  path: string;
}

/** Busy and total ticks of one snapshot, in USER_HZ ticks. */
export function cpuTicks(times: SystemCpuTimes): { busy: number; total: number } {
  // guest and guest_nice are already inside user and nice, so they are left out, not added twice.
  // steal is wall time our vCPUs wanted but the hypervisor ran something else: it is part of the
  // total (wall time) but not of our busy time, so utilisation stays "share of wall time this
  // machine's CPUs ran work", the same meaning as process CPU time / (duration × cpuCount).
  const busy = times.user + times.nice + times.system + times.irq + times.softirq;
  return { busy, total: busy + times.idle + times.iowait + times.steal };
}

/** Parses the aggregate `cpu` line of /proc/stat text; older kernels omit the trailing fields (0). */
export function parseProcStat(text: string, path = "/proc/stat", tNs = 0n): SystemCpuTimes {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (line === undefined) {
    throw new EmpError("E_IO", `no aggregate "cpu" line in ${path}`, {
      path,
      suggestion: "point EMP_PROCFS_ROOT at a procfs (default /proc)",
    });
  }
  const fields = line.trim().split(/\s+/).slice(1);
  if (fields.length < 4 || !fields.every((f) => /^\d+$/.test(f))) {
    throw new EmpError("E_IO", `malformed "cpu" line in ${path}: ${line}`, { path });
  }
  const tick = (i: number): number => (i < fields.length ? Number(fields[i]) : 0);
  return {
    user: tick(0),
    nice: tick(1),
    system: tick(2),
    idle: tick(3),
    iowait: tick(4),
    irq: tick(5),
    softirq: tick(6),
    steal: tick(7),
    guest: tick(8),
    guestNice: tick(9),
    tNs,
    path,
  };
}

/** Reads `<procfs>/stat` now; throws EmpError E_IO when it cannot be read. */
export function readSystemCpuTimes(roots: Roots = rootsFromEnvironment()): SystemCpuTimes {
  const path = join(roots.procfs, "stat");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new EmpError("E_IO", `cannot read ${path}`, {
      path,
      errno: (error as NodeJS.ErrnoException).errno,
      cause: error,
      suggestion: "point EMP_PROCFS_ROOT at a procfs (default /proc)",
    });
  }
  return parseProcStat(text, path, nowNs());
}

/**
 * Share (0..1) of the CPUs' wall time spent busy between two snapshots of the whole system.
 * Throws when no tick passed between them (snapshots less than 1/USER_HZ s apart, or swapped).
 */
export function systemUtilisation(before: SystemCpuTimes, after: SystemCpuTimes): number {
  const a = cpuTicks(before);
  const b = cpuTicks(after);
  const total = b.total - a.total;
  if (total <= 0) {
    throw new EmpError(
      "E_STATE",
      `no CPU time passed between the two /proc/stat snapshots (${total} ticks)`,
      {
        path: after.path,
        suggestion: `take the snapshots at least 1/${USER_HZ} s apart, the earlier one first`,
      },
    );
  }
  return Math.min(1, Math.max(0, (b.busy - a.busy) / total));
}

// The model's defaults. Both are assumptions, not measurements; pass tdpW / idleShare to override.
//
// TDP per logical CPU: server CPUs' TDP divided by their hardware threads lies around 2-5 W (a 280 W,
// 128-thread EPYC 7763: 2.2 W; a 270 W, 80-thread Xeon 8380: 3.4 W), and Cloud Carbon Footprint's
// AWS coefficients run from 0.74 W (idle) to 3.5 W (full load) per vCPU. 5 W per CPU sits at the top
// of that range, so that on a VM (where a CPU is one hardware thread) the estimate errs high, not low.
/** Assumed TDP of one logical CPU when no TDP is given, in watts. */
export const DEFAULT_TDP_PER_CPU_W = 5;
// Idle share: an idle server draws a sizeable fraction of its peak (the 0.74/3.5 W ratio above is
// 0.21; SPECpower results of recent servers put idle nearer 0.2-0.35 of full-load power). 0.3 is a
// round value in that range.
/** Assumed share of TDP a CPU draws when idle. */
export const DEFAULT_IDLE_SHARE = 0.3;

export const ESTIMATE_MODEL = "linear-tdp: P = TDP × (idleShare + (1 − idleShare) × utilisation)";

export interface EstimateOptions {
  /** Wall time of the run, in seconds. */
  durationS: number;
  /** CPU time of the measured process and its children (task-clock), in seconds, when known. */
  processCpuS?: number;
  /** Whole-system utilisation over the run (0..1), used when the process CPU time is not known. */
  systemUtilisation: number;
  /** Logical CPUs of the machine. */
  cpuCount: number;
  /** TDP of all the machine's CPUs together, in watts; default cpuCount × DEFAULT_TDP_PER_CPU_W. */
  tdpW?: number;
  /** Share of TDP drawn when idle, 0..1; default DEFAULT_IDLE_SHARE. */
  idleShare?: number;
}

/** Everything the estimate was computed from, so that a result can show its working. */
export interface EstimateInputs {
  durationS: number;
  processCpuS: number | null;
  systemUtilisation: number;
  cpuCount: number;
  tdpW: number;
  tdpSource: "given" | "default";
  idleShare: number;
  /** The utilisation the model used, 0..1. */
  utilisation: number;
  /** Where it came from: the process's CPU time, or the whole system's. */
  utilisationSource: "process" | "system";
}

export interface EnergyEstimate {
  estimated: true;
  method: "estimate";
  model: string;
  /** Estimated energy of the run, in joules: powerW × durationS. */
  energyJ: number;
  /** Estimated average power over the run, in watts. */
  powerW: number;
  /** Estimated idle power (idleShare × TDP): the baseline to subtract, as for a real sensor. */
  baselineW: number;
  /** baselineW × durationS. */
  baselineJ: number;
  /** energyJ − baselineJ: the estimated energy above idle. */
  netJ: number;
  inputs: EstimateInputs;
}

function requireFinite(name: string, value: number, min: number, max = Number.POSITIVE_INFINITY): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      "E_INVALID_ARGUMENT",
      `${name} must be a number in [${min}, ${max}], got ${value}`,
    );
  }
}

/** Estimated idle power of a CPU of `tdpW` that idles at `idleShare` of it, in watts. */
export function estimatedBaselineW(tdpW: number, idleShare = DEFAULT_IDLE_SHARE): number {
  return idleShare * tdpW;
}

/**
 * Estimates a run's CPU energy with a linear model of power over utilisation, in the spirit of
 * CodeCarbon (TDP scaled by CPU load) and Cloud Carbon Footprint (min + utilisation × (max − min)):
 *
 *   powerW = idleShare × TDP + (1 − idleShare) × TDP × utilisation
 *
 * where utilisation = processCpuS / (durationS × cpuCount) when the process's CPU time is known
 * (capped at 1: task-clock and wall time are read at slightly different moments), else the
 * system's utilisation. This is an ESTIMATE with unknown error: the TDP and idle share are assumed,
 * real power is not linear in utilisation, and turbo, frequency, memory and other processes are
 * ignored. It exists so that emp runs where nothing can be measured; never present it as a measurement.
 */
export function estimateEnergy(options: EstimateOptions): EnergyEstimate {
  const { durationS, processCpuS, systemUtilisation: systemU, cpuCount } = options;
  requireFinite("durationS", durationS, 0);
  requireFinite("systemUtilisation", systemU, 0, 1);
  if (!Number.isInteger(cpuCount) || cpuCount < 1) {
    throw new InvalidArgumentError(
      "E_INVALID_ARGUMENT",
      `cpuCount must be a positive integer, got ${cpuCount}`,
    );
  }
  if (processCpuS !== undefined) requireFinite("processCpuS", processCpuS, 0);
  const tdpW = options.tdpW ?? cpuCount * DEFAULT_TDP_PER_CPU_W;
  requireFinite("tdpW", tdpW, 0);
  const idleShare = options.idleShare ?? DEFAULT_IDLE_SHARE;
  requireFinite("idleShare", idleShare, 0, 1);

  const fromProcess = processCpuS !== undefined && durationS > 0;
  const utilisation = fromProcess ? Math.min(1, processCpuS / (durationS * cpuCount)) : systemU;
  const baselineW = estimatedBaselineW(tdpW, idleShare);
  const powerW = baselineW + (1 - idleShare) * tdpW * utilisation;
  const energyJ = powerW * durationS;
  const baselineJ = baselineW * durationS;
  return {
    estimated: true,
    method: "estimate",
    model: ESTIMATE_MODEL,
    energyJ,
    powerW,
    baselineW,
    baselineJ,
    netJ: energyJ - baselineJ,
    inputs: {
      durationS,
      processCpuS: processCpuS ?? null,
      systemUtilisation: systemU,
      cpuCount,
      tdpW,
      tdpSource: options.tdpW === undefined ? "default" : "given",
      idleShare,
      utilisation,
      utilisationSource: fromProcess ? "process" : "system",
    },
  };
}

/**
 * The one message to show wherever the estimate stands in for a measurement: that the numbers are
 * estimated, why no real CPU energy sensor (RAPL via powercap, msr or perf-power) can be read, and
 * the fix, all from the probe's reports. Null when RAPL can be read, as then nothing is estimated.
 */
export function estimateWarning(
  reports: readonly SensorReport[],
  host: HostFacts = gatherHostFacts(),
): string | null {
  const verdict = raplVerdict(host, reports);
  if (verdict.status === "available") return null;
  const fix = verdict.fix !== "" ? verdict.fix : "run `emp probe` for what each sensor needs";
  return (
    `energy is ESTIMATED, not measured (model: ${ESTIMATE_MODEL}; error unknown): ` +
    `no CPU energy sensor can be read (${verdict.status}): ${verdict.reason}. Fix: ${fix}.`
  );
}

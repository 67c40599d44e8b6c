// What `emp probe` reports: the host, every sensor the addon knows with its status, and the
// verdict on RAPL with the reason it is missing and what to do about it.
import { type RaplVerdict, raplVerdict } from "../energy/rapl.js";
import { native } from "../errors.js";
import { gatherHostFacts, type HostFacts } from "../host/facts.js";
import { addon, type ContainmentSupport, type SensorReport } from "../native.js";
import type { CrossCheck } from "./cross-check.js";

/** One source kind's verdict, as the addon reports it. */
export type SensorEntry = SensorReport;

export interface ProbeReport {
  host: HostFacts;
  rapl: RaplVerdict;
  /** How a measured command's process tree is held here: a cgroup of emp's own, or a process group and why. */
  containment: ContainmentSupport;
  sensors: SensorEntry[];
  crossCheck?: CrossCheck[];
}

/** Probes every sensor kind the addon has, generically: new kinds appear without changes here. */
export function probeSensors(): SensorEntry[] {
  return native(() => addon.probe()).map((r) => ({
    kind: r.kind,
    status: r.status,
    reason: r.reason,
    fix: r.fix,
    channels: r.channels,
    details: r.details,
  }));
}

export function buildProbeReport(): ProbeReport {
  const host = gatherHostFacts();
  const sensors = probeSensors();
  return { host, rapl: raplVerdict(host, sensors), containment: native(() => addon.containment()), sensors };
}

// What `emp probe` reports: the host, every sensor the addon knows with its status, and the
// verdict on RAPL with the reason it is missing and what to do about it.
import { native } from "../errors.js";
import { gatherHostFacts, type HostFacts } from "../host/facts.js";
import {
  addon,
  type ContainmentSupport,
  type SensorReport,
  type SensorStatus,
  type SourceKind,
} from "../native.js";
import type { CrossCheck } from "./cross-check.js";

/** One source kind's verdict, as the addon reports it. */
export type SensorEntry = SensorReport;

export interface RaplVerdict {
  /** "available" when any RAPL interface (powercap, msr, perf-power) can be read. */
  status: SensorStatus;
  /** The interfaces that can be read, or were looked at. */
  interfaces: SourceKind[];
  reason: string;
  fix: string;
}

export interface ProbeReport {
  host: HostFacts;
  rapl: RaplVerdict;
  /** How a measured command's process tree is held here: a cgroup of emp's own, or a process group and why. */
  containment: ContainmentSupport;
  sensors: SensorEntry[];
  crossCheck?: CrossCheck[];
}

const RAPL_KINDS: readonly SourceKind[] = ["powercap", "msr", "perf-power"];

export function raplVerdict(host: HostFacts, sensors: readonly SensorReport[]): RaplVerdict {
  const rapl = sensors.filter((s) => RAPL_KINDS.includes(s.kind));
  const available = rapl.filter((s) => s.status === "available").map((s) => s.kind);
  if (available.length > 0) return { status: "available", interfaces: available, reason: "", fix: "" };
  const interfaces = rapl.map((s) => s.kind);
  const denied = rapl.filter((s) => s.status === "permission-denied");
  if (denied.length > 0) {
    return {
      status: "permission-denied",
      interfaces,
      reason: `RAPL exists but this process may not read it (${denied.map((s) => s.kind).join(", ")})`,
      fix: denied.map((s) => s.fix).join("; "),
    };
  }
  if (host.virtualisation.virtual) {
    const v = host.virtualisation;
    const evidence = [
      v.hypervisorFlag ? "hypervisor flag set" : null,
      v.systemVendor,
      v.productName,
      v.hypervisorType,
    ]
      .filter(Boolean)
      .join("; ");
    return {
      status: "absent",
      interfaces,
      reason: `virtual machine (${evidence}): the hypervisor does not expose RAPL (no powercap zones, no energy MSRs, no perf power PMU) to guests`,
      fix:
        "measure on bare metal, or on a host whose hypervisor passes RAPL through; inside this VM energy " +
        "cannot be measured, only estimated",
    };
  }
  return {
    status: rapl.some((s) => s.status === "unsupported") ? "unsupported" : "absent",
    interfaces,
    reason:
      rapl.map((s) => `${s.kind}: ${s.reason}`).join("; ") || "no RAPL interface is known to this build",
    fix: [...new Set(rapl.map((s) => s.fix).filter(Boolean))].join("; "),
  };
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

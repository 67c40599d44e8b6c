// Whether RAPL, the CPU's energy counter, can be read here, and if not why and what would fix it:
// `emp probe` reports it, and the estimate backend says it when it stands in for RAPL.
import type { HostFacts } from "../host/facts.js";
import type { SensorReport, SensorStatus, SourceKind } from "../native.js";

export interface RaplVerdict {
  /** "available" when any RAPL interface (powercap, msr, perf-power) can be read. */
  status: SensorStatus;
  /** The interfaces that can be read, or were looked at. */
  interfaces: SourceKind[];
  reason: string;
  fix: string;
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

// The probe report as text for a person: host facts, one block per sensor, the RAPL verdict.
import type { HostFacts } from "../host/facts.js";
import type { ProbeReport, SensorEntry } from "./report.js";

function orUnknown(value: string | number | null, why = "unknown"): string {
  return value === null ? why : String(value);
}

function hostLines(host: HostFacts): [string, string][] {
  const v = host.virtualisation;
  const cpuBits = [
    host.cpuVendorId,
    host.cpuFamily !== null ? `family ${host.cpuFamily} model ${host.cpuModelNumber ?? "?"}` : null,
    host.microcode !== null ? `microcode ${host.microcode}` : null,
  ].filter((x): x is string => x !== null);
  const virt = v.virtual
    ? `virtual machine (${[
        v.hypervisorFlag ? "hypervisor flag" : null,
        [v.systemVendor, v.productName].filter(Boolean).join(" ") || null,
        v.hypervisorType,
      ]
        .filter(Boolean)
        .join("; ")})`
    : "none detected (bare metal)";
  const turbo =
    host.turbo === null
      ? "unknown (no intel_pstate/no_turbo or cpufreq boost)"
      : host.turbo
        ? "enabled"
        : "disabled";
  return [
    [
      "CPU",
      `${orUnknown(host.cpuModel)}${cpuBits.length ? ` (${cpuBits.join(", ")})` : ""}, ${host.cpuCount} CPUs`,
    ],
    ["Kernel", host.kernel],
    ["Virtualisation", virt],
    ["perf_event_paranoid", orUnknown(host.perfEventParanoid)],
    ["Governor", orUnknown(host.governor, "unknown (no cpufreq)")],
    ["Turbo", turbo],
  ];
}

function sensorLines(sensor: SensorEntry): string[] {
  const lines = [`  ${sensor.kind.padEnd(11)} ${sensor.status}`];
  if (sensor.status === "available") {
    for (const c of sensor.channels) {
      lines.push(`      ${c.name.padEnd(28)} ${c.domain.padEnd(12)} ${c.quantity} (${c.unit})`);
    }
  }
  // An available sensor can still leave part out (a refused powercap zone, a perf event the
  // machine lacks): the note says which, rather than the part going missing silently.
  if (sensor.reason) lines.push(`      ${sensor.status === "available" ? "note" : "why"}: ${sensor.reason}`);
  if (sensor.fix) lines.push(`      fix: ${sensor.fix}`);
  for (const [key, value] of Object.entries(sensor.details)) lines.push(`      ${key}: ${value}`);
  return lines;
}

export function formatProbeReport(report: ProbeReport): string {
  const lines: string[] = ["Host"];
  const containment =
    report.containment.kind === "cgroup"
      ? `cgroup v2 (a cgroup per run under ${report.containment.parent})`
      : `process group (no cgroup: ${report.containment.reason})`;
  const host: [string, string][] = [...hostLines(report.host), ["Process tree", containment]];
  const width = Math.max(...host.map(([k]) => k.length)) + 2;
  for (const [key, value] of host) lines.push(`  ${key.padEnd(width)}${value}`);
  lines.push("", "Sensors");
  for (const sensor of report.sensors) lines.push(...sensorLines(sensor));
  lines.push("");
  if (report.rapl.status === "available") {
    lines.push(`RAPL: available through ${report.rapl.interfaces.join(", ")}`);
  } else {
    lines.push(`RAPL: ${report.rapl.status} — ${report.rapl.reason}`);
    if (report.rapl.fix) lines.push(`  fix: ${report.rapl.fix}`);
  }
  if (report.crossCheck && report.crossCheck.length > 0) {
    lines.push("", "Cross-check");
    for (const check of report.crossCheck) {
      const verdict = check.agree ? "agree" : "DISAGREE";
      lines.push(`  ${check.domain}: ${verdict} (spread ${check.spreadW.toFixed(3)} W)`);
      for (const r of check.readings) {
        lines.push(
          `      ${`${r.kind} ${r.channel}`.padEnd(28)} ${r.powerW.toFixed(3)} W over ${r.durationS.toFixed(2)} s`,
        );
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

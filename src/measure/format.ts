// The summary of `emp measure` for a person: one line per domain, then the sampling and warnings.
import { formatTable, joules } from "../util/table.js";
import type { MeasureSummary } from "./summary.js";

export function formatSummary(s: MeasureSummary): string {
  const lines: string[] = [];
  const measured = s.runs.filter((r) => !r.warmup).length;
  lines.push(
    `${s.command.join(" ")}: ${measured} runs${s.label ? ` (${s.label})` : ""}, median ${s.duration.median_s.toFixed(3)} s` +
      (s.estimated ? "  [ESTIMATED: no real energy sensor]" : ""),
  );
  lines.push("");
  const header = ["domain", "source", "net median J", "net 95% CI J", "raw mean J", "cv", "baseline W"];
  // A domain whose baseline is unknown shows "-" for net and baseline; its raw energy still shows.
  const rows = Object.entries(s.domains).map(([domain, d]) => [
    domain,
    d.source,
    d.net_median_j === null ? "-" : joules(d.net_median_j),
    d.net_ci95_j === null ? "-" : `${joules(d.net_ci95_j[0])} .. ${joules(d.net_ci95_j[1])}`,
    joules(d.mean_j),
    d.cv === null ? "-" : `${(d.cv * 100).toFixed(1)} %`,
    d.baseline_w === null ? "-" : d.baseline_w.toFixed(2),
  ]);
  lines.push(...formatTable(header, rows));
  lines.push("");
  const sm = s.sampling;
  if (s.estimated) lines.push("sampling: none (no energy sensor to sample; see the warning below)");
  else
    lines.push(
      `sampling: ${sm.achieved_hz} Hz of ${sm.requested_hz} requested, ${sm.samples} samples, ${sm.dropped} dropped, ` +
        `lateness p50 ${sm.lateness_us.p50} us, p99 ${sm.lateness_us.p99} us, max ${sm.lateness_us.max.toFixed(1)} us`,
    );
  if (s.out) lines.push(`results: ${s.out}`);
  if (s.interrupted) lines.push("interrupted: the runs done so far are kept");
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  return `${lines.join("\n")}\n`;
}

// The summary of `emp measure` for a person: one line per domain, then the sampling and warnings.
import type { MeasureSummary } from "./summary.js";

function joules(j: number): string {
  return Math.abs(j) >= 100 ? j.toFixed(1) : Math.abs(j) >= 1 ? j.toFixed(3) : j.toPrecision(3);
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

export function formatSummary(s: MeasureSummary): string {
  const lines: string[] = [];
  const measured = s.runs.filter((r) => !r.warmup).length;
  lines.push(
    `${s.command.join(" ")}: ${measured} runs${s.label ? ` (${s.label})` : ""}, median ${s.duration.median_s.toFixed(3)} s` +
      (s.estimated ? "  [ESTIMATED: no real energy sensor]" : ""),
  );
  lines.push("");
  const header = ["domain", "source", "net median J", "net 95% CI J", "raw mean J", "cv", "baseline W"];
  const rows = Object.entries(s.domains).map(([domain, d]) => [
    domain,
    d.source,
    joules(d.net_median_j),
    `${joules(d.net_ci95_j[0])} .. ${joules(d.net_ci95_j[1])}`,
    joules(d.mean_j),
    d.cv === null ? "-" : `${(d.cv * 100).toFixed(1)} %`,
    d.baseline_w.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)) + 2);
  lines.push(
    header
      .map((h, i) => pad(h, widths[i] ?? 0))
      .join("")
      .trimEnd(),
  );
  for (const row of rows)
    lines.push(
      row
        .map((c, i) => pad(c, widths[i] ?? 0))
        .join("")
        .trimEnd(),
    );
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

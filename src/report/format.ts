// The report for a person: per domain a table of groups, then the comparisons with regressions and
// improvements marked, then the change points.
import { formatTable, joules, truncate } from "../util/table.js";
import type { Comparison, Report } from "./analyze.js";

/** A p-value readable at a glance: four decimals, or scientific notation when smaller. */
export function formatP(p: number | null): string {
  if (p === null) return "-";
  return p >= 1e-4 ? p.toFixed(4) : p.toExponential(1);
}

function signedPct(pct: number): string {
  return `${pct >= 0 ? "+" : ""}${pct.toFixed(1)} %`;
}

const MARKS: Record<Comparison["verdict"], string> = {
  regression: "REGRESSION (more energy)",
  improvement: "improvement (less energy)",
  higher: "higher",
  lower: "lower",
  unchanged: "",
};

export function formatReport(report: Report): string {
  const lines: string[] = [];
  const what = report.mode === "commits" ? "commits" : "labels";
  const correction = report.correction === "holm" ? "Holm" : "Benjamini-Hochberg";
  lines.push(
    `${report.groups.length} ${what}, ${report.energy} energy per run; significant: Mann-Whitney p after ` +
      `${correction} correction < ${report.alpha}`,
  );
  if (report.estimated)
    lines.push("[ESTIMATED: energy modelled from CPU time where no sensor could be read, not measured]");
  const name = new Map(report.groups.map((g) => [g.id, g.short]));
  for (const domain of report.domains) {
    lines.push("", `${domain}`);
    const unit = report.units[domain] ?? "J";
    const stats = [`median ${unit}`, `mean ${unit}`, `95% CI of mean ${unit}`, "median s"];
    const header =
      report.mode === "commits" ? ["commit", "subject", "runs", ...stats] : ["label", "runs", ...stats];
    const rows = report.groups.flatMap((g) => {
      const d = g.domains[domain];
      if (d === undefined) return [];
      const cells = [
        String(d.n),
        joules(d.median_j),
        joules(d.mean_j),
        `${joules(d.ci95_j[0])} .. ${joules(d.ci95_j[1])}`,
        g.median_duration_s.toFixed(3),
      ];
      return [
        report.mode === "commits" ? [g.short, truncate(g.subject ?? "", 40), ...cells] : [g.short, ...cells],
      ];
    });
    lines.push(...formatTable(header, rows).map((l) => `  ${l}`));

    const comparisons = report.comparisons.filter((c) => c.domain === domain);
    if (comparisons.length > 0) {
      lines.push("");
      const cHeader = [
        "change",
        "median",
        "p (MW)",
        "p (Welch)",
        "p adjusted",
        "Cliff's delta",
        "Cohen's d",
        "",
      ];
      const cRows = comparisons.map((c) => [
        `${name.get(c.from)} -> ${name.get(c.to)}`,
        signedPct(c.change_pct),
        formatP(c.p_value),
        formatP(c.p_welch),
        formatP(c.p_adjusted),
        `${c.effect_size.cliffs_delta.toFixed(2)} ${c.effect_size.cliffs_magnitude}`,
        c.effect_size.cohens_d === null ? "-" : c.effect_size.cohens_d.toFixed(2),
        MARKS[c.verdict],
      ]);
      lines.push(...formatTable(cHeader, cRows).map((l) => `  ${l}`));
    }
    const points = report.change_points.filter((c) => c.domain === domain);
    if (report.mode === "commits") {
      lines.push(
        "",
        points.length === 0
          ? "  change points: none"
          : `  change points: ${points
              .map(
                (c) =>
                  `at ${name.get(c.at)} ${signedPct(c.change_pct)} (${joules(c.median_before_j)} -> ${joules(c.median_after_j)} J, p adjusted ${formatP(c.p_adjusted)})`,
              )
              .join("; ")}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

// emp compare for a person: per command its median net energy (per domain), interval and duration;
// then each command against the reference, energy and time, with the verdict. Warnings go to stderr.

import { samplingLines, workLines } from "../measure/format.js";
import { formatP } from "../report/format.js";
import { formatTable, joules, runSeconds } from "../util/table.js";
import type { CommandComparison, CompareSummary } from "./summary.js";

export function formatRatio(c: Pick<CommandComparison, "ratio" | "ratio_ci95">): string {
  if (c.ratio === null) return "- (reference median not above 0)";
  const ci = c.ratio_ci95 ? ` [${c.ratio_ci95[0].toFixed(3)} .. ${c.ratio_ci95[1].toFixed(3)}]` : "";
  return `${c.ratio.toFixed(3)}x${ci}`;
}

/** "per run", or "per iteration" where any command's runs were iterated (--min-run-ms). */
export function perWhat(s: CompareSummary): "run" | "iteration" {
  return s.commands.some((c) => c.iterations > 1) ? "iteration" : "run";
}

const QUANTITY_LABEL: Record<CommandComparison["quantity"], (domain: string) => string> = {
  energy: (d) => `${d} energy`,
  work: (d) => `${d} J per unit of work`,
  metric: (name) => `metric ${name}`,
  duration: () => "time",
};

export function formatComparison(s: CompareSummary): string {
  const lines: string[] = [];
  const runs = Math.max(
    0,
    ...s.commands.map((c) => (s.failures_included ? c.runs_counted : c.runs_counted + c.failed_runs)),
  );
  const per = perWhat(s);
  const order =
    s.order_policy === "grouped"
      ? "grouped (every run of a command together)"
      : `${s.order_policy} cycles (seed ${s.seed})`;
  lines.push(
    `${s.commands.length} commands, ${runs} run${runs === 1 ? "" : "s"} each, ${order}; reference '${s.reference}'` +
      (s.label ? ` (${s.label})` : "") +
      (s.estimated ? "  [ESTIMATED: no real energy sensor]" : ""),
  );
  if (per === "iteration") {
    lines.push(
      `runs of ${s.min_run_ms} ms at least (--min-run-ms): ` +
        s.commands
          .map((c) => `${c.name} ${c.iterations} iteration${c.iterations === 1 ? "" : "s"}`)
          .join(", ") +
        "; energy and time per iteration",
    );
  }
  for (const c of s.commands) {
    if (c.failed_runs === 0) continue;
    const measured = s.failures_included ? c.runs_counted : c.runs_counted + c.failed_runs;
    const what = s.failures_included
      ? "counted in the statistics (--include-failed)"
      : "left out of the statistics (--include-failed counts them)";
    lines.push(`${c.name}: ${c.failed_runs} of ${measured} runs failed: ${what}`);
  }
  if (s.interrupted) lines.push("interrupted: the runs done so far are kept");
  const domains = [...new Set(s.commands.flatMap((c) => Object.keys(c.domains)))];
  const unit = per === "iteration" ? "J/iter" : "J";
  const header = [
    "command",
    ...domains.flatMap((d) => [`${d} net median ${unit}`, "95% CI of mean"]),
    `median time${per === "iteration" ? "/iter" : ""}`,
  ];
  const rows = s.commands.map((c) => [
    c.name,
    ...domains.flatMap((d) => {
      const x = c.domains[d];
      if (x === undefined || x.net_median_j === null) return ["-", "-"];
      return [
        joules(x.net_median_j),
        // One run has no spread: no interval, as in emp measure's table.
        x.net_ci95_j && c.runs_counted > 1 ? `${joules(x.net_ci95_j[0])} .. ${joules(x.net_ci95_j[1])}` : "-",
      ];
    }),
    c.runs_counted > 0 ? runSeconds(c.duration_s.median) : "-",
  ]);
  lines.push("", ...formatTable(header, rows));
  for (const c of s.commands) {
    const extra = workLines(c.work, c.metrics);
    if (extra.length > 0) lines.push(...extra.map((l) => `${c.name}: ${l}`));
  }
  const correction = s.correction === "holm" ? "Holm" : "Benjamini-Hochberg";
  for (const candidate of s.commands.map((c) => c.name).filter((n) => n !== s.reference)) {
    const mine = s.comparisons.filter((c) => c.candidate === candidate);
    if (mine.length === 0) continue;
    lines.push("", `${candidate} vs ${s.reference}:`);
    lines.push(
      ...formatTable(
        ["", "ratio [95% CI]", "p", `p (${correction})`, "Cliff's delta", "verdict"],
        mine.map((c) => [
          QUANTITY_LABEL[c.quantity](c.domain),
          formatRatio(c),
          formatP(c.p_value),
          formatP(c.p_adjusted),
          `${c.cliffs_delta >= 0 ? "+" : ""}${c.cliffs_delta.toFixed(2)}`,
          c.verdict,
        ]),
      ).map((l) => `  ${l}`),
    );
  }
  lines.push(
    "",
    `significant: Mann-Whitney p after ${correction} over ${s.comparisons.length} comparisons < ${s.alpha}`,
  );
  lines.push(...samplingLines(s));
  if (s.out) lines.push(`results: ${s.out}`);
  return `${lines.join("\n")}\n`;
}

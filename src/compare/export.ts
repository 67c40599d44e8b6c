// emp compare's exports, as hyperfine's: a Markdown table that pastes into a pull request, CSV
// for a spreadsheet (one row per command and quantity), and the JSON summary.
import { writeFileAtomic } from "../results/atomic.js";
import { toWriteError } from "../results/write-error.js";
import { joules, runSeconds } from "../util/table.js";
import { formatRatio, perWhat } from "./format.js";
import type { CommandComparison, CompareSummary } from "./summary.js";

/** `|` would end a cell, and a newline the row. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** "6 runs", "1 run": the most any command counted. */
function runsEach(s: CompareSummary): string {
  const n = Math.max(0, ...s.commands.map((c) => c.runs_counted));
  return `${n} run${n === 1 ? "" : "s"}`;
}

export function markdownTable(s: CompareSummary): string {
  const domains = [...new Set(s.commands.flatMap((c) => Object.keys(c.domains)))];
  const unit = perWhat(s) === "iteration" ? "J/iter" : "J";
  const against = (name: string, domain: string): CommandComparison | undefined =>
    s.comparisons.find((c) => c.candidate === name && c.domain === domain);
  const verdict = (c: CommandComparison | undefined, name: string) =>
    name === s.reference ? "reference" : c === undefined ? "-" : `${formatRatio(c)}, ${c.verdict}`;
  const header = [
    "Command",
    ...domains.flatMap((d) => [`${d} net median [${unit}]`, `${d} vs ${s.reference}`]),
    "Median time",
    `Time vs ${s.reference}`,
  ];
  const rows = s.commands.map((c) => [
    `\`${c.name}\``,
    ...domains.flatMap((d) => {
      const x = c.domains[d];
      return [x?.net_median_j == null ? "-" : joules(x.net_median_j), verdict(against(c.name, d), c.name)];
    }),
    c.runs_counted > 0 ? runSeconds(c.duration_s.median) : "-",
    verdict(against(c.name, "duration"), c.name),
  ]);
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const align = `|${header.map((_, i) => (i === 0 ? ":---" : "---:")).join("|")}|`;
  const note =
    `${runsEach(s)} each, ${s.order_policy} order; ratios with 95 % bootstrap intervals; ` +
    `verdicts at Mann-Whitney p < ${s.alpha} after ${s.correction === "holm" ? "Holm" : "Benjamini-Hochberg"}` +
    (s.estimated ? "; ESTIMATED energy (no sensor)" : "");
  return `${[line(header), align, ...rows.map(line)].join("\n")}\n\n${note}\n`;
}

const CSV_COLUMNS = [
  "name",
  "command",
  "quantity",
  "domain",
  "unit",
  "runs",
  "iterations",
  "median",
  "mean",
  "ci95_lo",
  "ci95_hi",
  "stdev",
  "min",
  "max",
  "ratio",
  "ratio_ci95_lo",
  "ratio_ci95_hi",
  "p_value",
  "p_adjusted",
  "cliffs_delta",
  "verdict",
] as const;

function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One row per command and quantity (each domain's net energy, the duration), with its comparison. */
export function csvTable(s: CompareSummary): string {
  const rows: string[] = [CSV_COLUMNS.join(",")];
  for (const c of s.commands) {
    const quantities = [
      ...Object.entries(c.domains).map(([domain, d]) => ({
        quantity: "energy",
        domain,
        unit: "J",
        values: [
          d.net_median_j,
          d.net_mean_j,
          d.net_ci95_j?.[0],
          d.net_ci95_j?.[1],
          d.stdev_j,
          d.min_j,
          d.max_j,
        ],
      })),
      {
        quantity: "duration",
        domain: "duration",
        unit: "s",
        values: [
          c.duration_s.median,
          c.duration_s.mean,
          c.duration_s.ci95[0],
          c.duration_s.ci95[1],
          c.duration_s.stdev,
          c.duration_s.min,
          c.duration_s.max,
        ],
      },
    ];
    for (const q of quantities) {
      const k = s.comparisons.find((x) => x.candidate === c.name && x.domain === q.domain);
      rows.push(
        [
          c.name,
          c.command,
          q.quantity,
          q.domain,
          q.unit,
          c.runs_counted,
          c.iterations,
          ...q.values,
          k?.ratio,
          k?.ratio_ci95?.[0],
          k?.ratio_ci95?.[1],
          k?.p_value,
          k?.p_adjusted,
          k?.cliffs_delta,
          c.name === s.reference ? "reference" : k?.verdict,
        ]
          .map(csvField)
          .join(","),
      );
    }
  }
  return `${rows.join("\n")}\n`;
}

export interface Exports {
  markdown?: string;
  csv?: string;
  json?: string;
}

/** Writes each export asked for (atomically: a reader never sees half a table). */
export function writeExports(s: CompareSummary, exports: Exports, json: unknown): void {
  const write = (path: string | undefined, text: () => string) => {
    if (path === undefined) return;
    try {
      writeFileAtomic(path, text());
    } catch (error) {
      throw toWriteError(error, path);
    }
  };
  write(exports.markdown, () => markdownTable(s));
  write(exports.csv, () => csvTable(s));
  write(exports.json, () => `${JSON.stringify(json, null, 2)}\n`);
}

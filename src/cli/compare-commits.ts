// `emp compare-commits BASE HEAD`: a pull request's energy gate (pipeline/compare-commits.ts). Exit 3
// when HEAD is significantly costlier or slower than BASE by more than --fail-above percent.
import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { z } from "zod";
import { loadStudy } from "../config/load.js";
import { compareCommits, type GateSummary, gateMarkdown } from "../pipeline/compare-commits.js";
import { formatTable } from "../util/table.js";
import { summaryOf } from "./commands.js";
import { Interrupts } from "./interrupt.js";
import { numberOption, parseOptions } from "./options.js";
import { parseRunFlags, progressPrinter, withStudyOptions } from "./run.js";

/** The exit code of a failed gate: apart from 1 (something failed) and 2 (a usage mistake). */
export const GATE_FAILED_EXIT = 3;

const gateSchema = z.object({
  config: z.string().default("emp.yaml"),
  alpha: numberOption("--alpha", (n) => n > 0 && n < 1, "a significance level in (0, 1)"),
  failAbove: numberOption("--fail-above", (n) => n >= 0 && n < 1000, "a percentage in [0, 1000)"),
  exportMarkdown: z.string().optional(),
});

export function compareCommitsCommand(): Command {
  return withStudyOptions(
    new Command("compare-commits")
      .description(summaryOf("compare-commits"))
      .argument("<base>", "the commit to compare against (a pull request's target)")
      .argument("<head>", "the commit under test (the pull request's head)"),
  )
    .option("--config <file>", "the study config: command, build, repeat (default emp.yaml)")
    .option("--alpha <p>", "significance level (default 0.05)")
    .option(
      "--fail-above <percent>",
      "exit 3 when HEAD is significantly costlier or slower by more than this (default 5)",
    )
    .option("--export-markdown <file>", "also write the table as Markdown, for a pull request comment")
    .action(async (base: string, head: string, raw: unknown) => {
      const o = parseOptions(gateSchema, raw, "compare-commits");
      const { flags, json } = parseRunFlags(raw);
      const study = loadStudy(o.config, flags);
      const interrupts = new Interrupts();
      try {
        const gate = await compareCommits(
          study,
          { base, head, alpha: o.alpha ?? 0.05, failAbovePct: o.failAbove ?? 5 },
          { signal: interrupts.signal, ...progressPrinter() },
        );
        if (o.exportMarkdown !== undefined) writeFileSync(o.exportMarkdown, gateMarkdown(gate));
        if (json) process.stdout.write(`${JSON.stringify(gate, null, 2)}\n`);
        else process.stdout.write(formatGate(gate));
        for (const w of gate.warnings) process.stderr.write(`warning: ${w}\n`);
        if (gate.interrupted) process.exitCode = interrupts.exitCode ?? 130;
        else if (gate.failed) process.exitCode = GATE_FAILED_EXIT;
      } finally {
        interrupts.dispose();
      }
    });
}

function formatGate(g: GateSummary): string {
  if (g.interrupted) return "interrupted: run the same command again to go on\n";
  const rows = g.quantities.map((q) => [
    q.quantity,
    `${q.base_median.toPrecision(4)} ${q.unit}`,
    `${q.head_median.toPrecision(4)} ${q.unit}`,
    q.change_pct === null ? "-" : `${q.change_pct >= 0 ? "+" : ""}${q.change_pct.toFixed(1)} %`,
    q.ratio_ci95 === null ? "-" : `${q.ratio_ci95[0].toFixed(3)} .. ${q.ratio_ci95[1].toFixed(3)}`,
    q.p_value.toPrecision(2),
    `${q.verdict}${q.fails ? " (FAILS)" : ""}`,
  ]);
  const head = `HEAD ${g.head.short} against BASE ${g.base.short}${g.estimated ? "  [ESTIMATED: no real energy sensor]" : ""}`;
  const table = formatTable(
    ["quantity", "BASE median", "HEAD median", "change", "95% CI of ratio", "p", "verdict"],
    rows,
  );
  const verdict = g.failed
    ? `FAILS: HEAD is significantly costlier or slower than BASE by more than ${g.fail_above_pct} %`
    : `passes: nothing significantly costlier or slower than BASE by more than ${g.fail_above_pct} %`;
  return `${head}\n\n${table.join("\n")}\n\n${verdict}\nresults: ${g.out}\n`;
}

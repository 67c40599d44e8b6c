// `emp find CONFIG --good A --bad B`: the commit between A and B that changed the energy (or time),
// by bisection (pipeline/find.ts). The result on stdout (or --json), warnings on stderr.
import { Command } from "commander";
import { z } from "zod";
import { loadStudy } from "../config/load.js";
import { type FindSummary, findChange } from "../pipeline/find.js";
import { summaryOf } from "./commands.js";
import { Interrupts } from "./interrupt.js";
import { numberOption, parseOptions } from "./options.js";
import { parseRunFlags, progressPrinter, withStudyOptions } from "./run.js";

const findSchema = z.object({
  good: z.string({ error: "--good SHA is required: a commit before the change" }),
  bad: z.string({ error: "--bad SHA is required: a commit after the change" }),
  alpha: numberOption("--alpha", (n) => n > 0 && n < 1, "a significance level in (0, 1)"),
  minChange: numberOption("--min-change", (n) => n >= 0 && n < 1000, "a percentage in [0, 1000)"),
  domain: z.string().optional(),
});

export function findCommand(): Command {
  return withStudyOptions(
    new Command("find")
      .description(summaryOf("find"))
      .argument("<config>", "the study config: its command, build and repeat (its commits are not used)"),
  )
    .option("--good <sha>", "a commit before the change")
    .option("--bad <sha>", "a commit after it, with --good in its first-parent history")
    .option("--alpha <p>", "significance level of each decision (default 0.05)")
    .option("--min-change <percent>", "smallest change of the median that counts (default 5)")
    .option("--domain <name>", "what to bisect on: an energy domain or `time` (default: the first domain)")
    .action(async (config: string, raw: unknown) => {
      const o = parseOptions(findSchema, raw, "find");
      const { flags, json } = parseRunFlags(raw);
      const study = loadStudy(config, flags);
      const interrupts = new Interrupts();
      try {
        const summary = await findChange(
          study,
          {
            good: o.good,
            bad: o.bad,
            alpha: o.alpha ?? 0.05,
            minChangePct: o.minChange ?? 5,
            quantity: o.domain,
          },
          { signal: interrupts.signal, ...progressPrinter() },
        );
        if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else process.stdout.write(formatFind(summary));
        for (const w of summary.warnings) process.stderr.write(`warning: ${w}\n`);
        if (summary.interrupted) process.exitCode = interrupts.exitCode ?? 130;
      } finally {
        interrupts.dispose();
      }
    });
}

function formatFind(s: FindSummary): string {
  const short = (sha: string | null) => (sha === null ? "-" : sha.slice(0, 12));
  const lines: string[] = [];
  if (s.estimated) lines.push("[ESTIMATED: no real energy sensor; see the warnings]");
  const c = s.change;
  const ratio =
    c.ratio === null
      ? "no ratio (the earlier median is not above 0)"
      : `${c.ratio.toFixed(3)}x${c.ratio_ci95 ? ` [${c.ratio_ci95[0].toFixed(3)} .. ${c.ratio_ci95[1].toFixed(3)}]` : ""}`;
  if (s.interrupted) lines.push(`interrupted: \`emp find\` again with the same arguments goes on from here`);
  else if (s.first_bad === null)
    lines.push(
      `no change in ${s.quantity} between ${short(s.good)} and ${short(s.bad)}: ${ratio}, p ${c.p_value.toPrecision(2)}`,
    );
  else {
    lines.push(`first bad commit: ${short(s.first_bad)} (last good: ${short(s.last_good)})`);
    lines.push(`  ${s.quantity}: ${ratio} the last good commit's median, p ${c.p_value.toPrecision(2)}`);
  }
  const verdicts = new Map(s.steps.map((step) => [step.commit, step.verdict]));
  const named = s.measured.map((sha) => {
    const verdict = sha === s.good ? "good end" : sha === s.bad ? "bad end" : (verdicts.get(sha) ?? "");
    return `${short(sha)} ${verdict}`;
  });
  lines.push(`measured ${s.measured.length} commits, in order: ${named.join(", ")}`);
  if (s.skipped.length > 0) lines.push(`stepped over (did not build): ${s.skipped.map(short).join(", ")}`);
  lines.push(`results: ${s.out} (emp report, plot and history read it)`);
  return `${lines.join("\n")}\n`;
}

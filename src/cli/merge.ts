// `emp merge DIR... --out DIR`: the directories of several `emp run` sessions (a Slurm array's
// shards) as one study directory that emp report, plot, history and resume read as any other.
import { Command } from "commander";
import { z } from "zod";
import { mergeStudies } from "../pipeline/merge.js";
import { summaryOf } from "./commands.js";
import { parseOptions } from "./options.js";

const flagsSchema = z.object({
  out: z.string({ error: "--out DIR is required: the new directory that receives the merged study" }),
  force: z.boolean().default(false),
  json: z.boolean().default(false),
});

export function mergeCommand(): Command {
  return new Command("merge")
    .description(summaryOf("merge"))
    .argument("<dirs...>", "results directories of `emp run` (the shards' --out)")
    .option("--out <dir>", "the new directory for the merged study (must not hold results)")
    .option(
      "--force",
      "merge sessions of different configs or emp versions, or estimated beside measured energy (recorded in the ledger)",
    )
    .option("--json", "print the merge's summary as JSON on stdout")
    .action(async (dirs: string[], raw: unknown) => {
      const o = parseOptions(flagsSchema, raw, "merge");
      const summary = await mergeStudies({ inputs: dirs, out: o.out, force: o.force });
      if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        for (const i of summary.inputs) {
          const shard = i.shard === null ? "" : ` (shard ${i.shard})`;
          process.stdout.write(
            `${i.dir}${shard}: ${i.sessions} session${i.sessions === 1 ? "" : "s"}, ${i.runs} runs, on ${i.hosts.join(", ")}\n`,
          );
        }
        process.stdout.write(
          `merged into ${summary.out}: ${summary.sessions} sessions, ${summary.runs} runs of ${summary.commits} commits (see \`emp report ${summary.out}\`)\n`,
        );
      }
      for (const w of summary.warnings) process.stderr.write(`warning: ${w}\n`);
    });
}

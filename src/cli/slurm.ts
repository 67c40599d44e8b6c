// `emp slurm CONFIG --shards N`: a study's campaign as two sbatch scripts (a job array of shards and
// the merge after it), written into the campaign's folder and, with --submit, submitted.
import { basename, extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { z } from "zod";
import { loadStudy } from "../config/load.js";
import { writeCampaign } from "../slurm/campaign.js";
import { type Submitted, submitCampaign } from "../slurm/sbatch.js";
import { type CampaignPlan, shardDirs, shardsDir, slurmTimeProblem } from "../slurm/script.js";
import { shellLine } from "../util/table.js";
import { summaryOf } from "./commands.js";
import { numberOption, parseOptions, whole } from "./options.js";

const flagsSchema = z.object({
  shards: numberOption("--shards", whole(1, 100_000), "a whole number of shards from 1 to 100000").pipe(
    z.number({ error: "--shards N is required: the number of array tasks, one shard of the commits each" }),
  ),
  partition: z
    .string()
    .regex(/^[A-Za-z0-9_.,-]+$/, "--partition takes a partition's name (or several, comma-separated)")
    .optional(),
  time: z
    .string()
    .refine((t) => slurmTimeProblem(t) === undefined, {
      error: (i) => `--time ${i.input}: ${slurmTimeProblem(String(i.input))}`,
    })
    .optional(),
  sbatch: z.array(z.string()).default([]),
  out: z.string().optional(),
  submit: z.boolean().default(false),
  json: z.boolean().default(false),
});

export function slurmCommand(): Command {
  return new Command("slurm")
    .description(summaryOf("slurm"))
    .argument("<config>", "the study config; each array task runs `emp run CONFIG --shard K/N`")
    .option("--shards <n>", "array tasks: the study's commits in N balanced slices, one per task")
    .option("--partition <name>", "Slurm partition of the jobs (default: the cluster's default)")
    .option("--time <limit>", "time limit of each task, as sbatch takes it (e.g. 4:00:00, 1-0)")
    .option(
      "--sbatch <option>",
      "one more sbatch option for the array, e.g. --sbatch=--gres=gpu:1 (repeat for several)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      "--out <dir>",
      "the campaign's folder: the merged study, shards/K and slurm/ (default: the config's `out`)",
    )
    .option("--submit", "submit both scripts with sbatch and print the job ids")
    .option("--json", "print what was written (and submitted) as JSON on stdout")
    .action(async (config: string, raw: unknown) => {
      const o = parseOptions(flagsSchema, raw, "slurm");
      const study = loadStudy(config, o.out === undefined ? {} : { out: o.out });
      const plan: CampaignPlan = {
        configPath: study.configPath,
        out: study.config.out,
        shards: o.shards,
        jobName: `emp-${basename(study.configPath, extname(study.configPath))}`,
        // The node this runs on and dist/cli/main.js, beside this file: the same paths on every node of a shared file system.
        emp: [process.execPath, fileURLToPath(new URL("./main.js", import.meta.url))],
        workDir: process.cwd(),
        partition: o.partition,
        time: o.time,
        sbatchOptions: o.sbatch,
      };
      const scripts = writeCampaign(plan);
      const submitted = o.submit ? submitCampaign(scripts) : null;
      if (o.json) {
        const result = {
          out: plan.out,
          config: plan.configPath,
          shards: plan.shards,
          scripts,
          shard_dirs: shardDirs(plan),
          submitted: submitted && { array_job: submitted.arrayJob, merge_job: submitted.mergeJob },
        };
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else process.stdout.write(formatCampaign(plan, scripts, submitted));
    });
}

function formatCampaign(
  plan: CampaignPlan,
  scripts: { array: string; merge: string },
  submitted: Submitted | null,
): string {
  const lines = [
    `${plan.configPath} in ${plan.shards} shard${plan.shards === 1 ? "" : "s"}, into ${plan.out}:`,
    `  ${scripts.array}  the job array: task K runs emp run --shard K/${plan.shards} --out ${shardsDir(plan.out)}/K`,
    `  ${scripts.merge}  the merge, once every task succeeded: emp merge of the shards into ${plan.out}`,
  ];
  if (submitted === null) {
    lines.push(
      "submit them (or run this again with --submit):",
      `  array=$(sbatch --parsable ${shellLine([scripts.array])}) && sbatch --dependency=afterok:$array ${shellLine([scripts.merge])}`,
    );
  } else {
    lines.push(
      `submitted: job array ${submitted.arrayJob} (${plan.shards} task${plan.shards === 1 ? "" : "s"}), merge job ${submitted.mergeJob} after it`,
      `  follow them with squeue -j ${submitted.arrayJob},${submitted.mergeJob}; when both are done: emp report ${shellLine([plan.out])}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

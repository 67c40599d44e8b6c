// A study campaign over Slurm: a job array whose task K runs `emp run CONFIG --shard K/N` into its
// own folder, and a merge job, started once every task has succeeded, that runs `emp merge` over
// them. One folder holds it all: the merged study itself, `shards/K` and `slurm/` (the two scripts
// and their logs). Nodes run emp and the config from the paths given here: the checkout, the config
// and the folder must sit on a file system the nodes share, as a Slurm job's files usually do.
import { join } from "node:path";
import { shellLine } from "../util/table.js";

export interface CampaignPlan {
  /** The study config, absolute. */
  configPath: string;
  /** The campaign's folder, absolute: the merged study, shards/K and slurm/. */
  out: string;
  shards: number;
  /** Slurm's job name, as squeue shows it. */
  jobName: string;
  /** The command line that starts emp on a node: node and emp's main.js, absolute. */
  emp: readonly string[];
  /** The jobs' working directory: where emp slurm was run. */
  workDir: string;
  partition?: string;
  /** Slurm's time limit of each task (and of the merge), in one of its own forms. */
  time?: string;
  /** More `#SBATCH` options for the array, verbatim (`--gres=gpu:1`, `--account=A`). */
  sbatchOptions: readonly string[];
}

/** Where a campaign keeps its scripts and logs: `slurm/` of its folder. */
export function campaignFiles(out: string): { dir: string; array: string; merge: string } {
  const dir = join(out, "slurm");
  return { dir, array: join(dir, "shards.sbatch"), merge: join(dir, "merge.sbatch") };
}

/** The folder of the campaign's shards: shard K's results are in its subfolder K. */
export function shardsDir(out: string): string {
  return join(out, "shards");
}

/** The results folder of shard `index` (1-based) of the campaign in `out`. */
export function shardDir(out: string, index: number): string {
  return join(shardsDir(out), String(index));
}

/** The results folders of every shard of the plan, shard 1 first. */
export function shardDirs(plan: CampaignPlan): string[] {
  return Array.from({ length: plan.shards }, (_, i) => shardDir(plan.out, i + 1));
}

/** The job array's script: one task per shard, each with a node to itself. */
export function arrayScript(plan: CampaignPlan): string {
  const files = campaignFiles(plan.out);
  const run = shellLine([...plan.emp, "run", plan.configPath]);
  return [
    "#!/bin/bash",
    `# Written by emp slurm: shard K of ${plan.shards} of ${plan.configPath} per array task, into`,
    `# ${shardsDir(plan.out)}/K. Submitted again, each shard measures only what it has left.`,
    ...directives([
      `--job-name=${plan.jobName}`,
      `--array=1-${plan.shards}`,
      // A node measures one thing at a time: another job beside a run would be in its energy.
      "--exclusive",
      "--nodes=1",
      "--ntasks=1",
      `--chdir=${plan.workDir}`,
      `--output=${join(files.dir, "shard-%a.log")}`,
      ...limits(plan),
      ...plan.sbatchOptions,
    ]),
    "set -euo pipefail",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's ${VAR:?message}, not a template
    'shard="${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: each of its array tasks is one shard}"',
    `exec ${run} --shard "$shard/${plan.shards}" --out ${shellLine([`${shardsDir(plan.out)}/`])}"$shard"`,
    "",
  ].join("\n");
}

/** The merge job's script: `emp merge` of every shard into the campaign's folder. */
export function mergeScript(plan: CampaignPlan): string {
  const files = campaignFiles(plan.out);
  const merge = shellLine([...plan.emp, "merge", ...shardDirs(plan), "--out", plan.out]);
  return [
    "#!/bin/bash",
    `# Written by emp slurm: the ${plan.shards} shards of ${plan.configPath} merged into`,
    `# ${plan.out}. Submitted with --dependency=afterok on the array, so it runs once every shard succeeded.`,
    ...directives([
      `--job-name=${plan.jobName}-merge`,
      "--ntasks=1",
      // A failed shard makes the dependency one that can never be met: end the job instead of leaving it pending.
      "--kill-on-invalid-dep=yes",
      `--chdir=${plan.workDir}`,
      `--output=${join(files.dir, "merge.log")}`,
      ...limits(plan),
    ]),
    "set -euo pipefail",
    `exec ${merge}`,
    "",
  ].join("\n");
}

function limits(plan: CampaignPlan): string[] {
  return [
    ...(plan.partition === undefined ? [] : [`--partition=${plan.partition}`]),
    ...(plan.time === undefined ? [] : [`--time=${plan.time}`]),
  ];
}

function directives(options: readonly string[]): string[] {
  return options.map((option) => `#SBATCH ${option}`);
}

/** Why `text` is not a time limit sbatch takes, or undefined when it is one. */
export function slurmTimeProblem(text: string): string | undefined {
  // sbatch(1): minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes, days-hours:minutes:seconds.
  const forms = [/^\d+$/, /^\d+:\d+$/, /^\d+:\d+:\d+$/, /^\d+-\d+$/, /^\d+-\d+:\d+$/, /^\d+-\d+:\d+:\d+$/];
  if (text === "UNLIMITED" || text === "INFINITE" || forms.some((form) => form.test(text))) return undefined;
  return "must be one of Slurm's forms: MINUTES, MM:SS, HH:MM:SS, DAYS-HH, DAYS-HH:MM or DAYS-HH:MM:SS";
}

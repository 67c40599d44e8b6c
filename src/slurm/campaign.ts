// Writes a campaign's scripts into its folder, after the checks that would otherwise fail on a node
// hours later: a folder that holds a merged study already, a path sbatch cannot read from a
// `#SBATCH` line, an option that would change the shards.
import { chmodSync, mkdirSync } from "node:fs";
import { UsageError } from "../errors.js";
import { writeFileAtomic } from "../results/atomic.js";
import { heldSession } from "../results/session-files.js";
import { arrayScript, type CampaignPlan, campaignFiles, mergeScript } from "./script.js";

/** Checks the plan and writes its two scripts (executable); their paths. */
export function writeCampaign(plan: CampaignPlan): { array: string; merge: string } {
  checkPlan(plan);
  const files = campaignFiles(plan.out);
  mkdirSync(files.dir, { recursive: true });
  for (const [path, text] of [
    [files.array, arrayScript(plan)],
    [files.merge, mergeScript(plan)],
  ] as const) {
    writeFileAtomic(path, text);
    chmodSync(path, 0o755);
  }
  return { array: files.array, merge: files.merge };
}

function checkPlan(plan: CampaignPlan): void {
  if (heldSession(plan.out) !== undefined) {
    throw new UsageError(`${plan.out} holds results already: the merge would have nowhere to go`, {
      suggestion: "give the campaign a new folder with --out (or the config's `out`)",
      path: plan.out,
    });
  }
  // sbatch splits a #SBATCH line at white space: a path with a space in it would be cut in two.
  for (const [what, path] of [
    ["the campaign's folder", plan.out],
    ["the working directory", plan.workDir],
  ] as const) {
    if (/\s/.test(path)) {
      throw new UsageError(
        `${what} ${JSON.stringify(path)} has white space, which #SBATCH lines cannot hold`,
        {
          suggestion: "use a path without spaces (--out DIR, and run emp slurm from such a folder)",
          path,
        },
      );
    }
  }
  for (const option of plan.sbatchOptions) {
    if (!/^--?[A-Za-z]/.test(option) || /[\r\n]/.test(option)) {
      throw new UsageError(`--sbatch ${JSON.stringify(option)} is not one sbatch option`, {
        suggestion:
          "give each option as sbatch takes it on one line, e.g. --sbatch --gres=gpu:1 --sbatch --account=A",
      });
    }
    if (/^(--array\b|-a)/.test(option)) {
      throw new UsageError(`--sbatch ${option}: the array is one task per shard`, {
        suggestion: "set the number of tasks with --shards N",
      });
    }
  }
}

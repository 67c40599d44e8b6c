// Submitting a campaign's two scripts with sbatch: the array first, then the merge with a dependency
// on the array's id (`afterok`: every task exited 0). `--parsable` makes sbatch print the id alone.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { EmpError, UsageError } from "../errors.js";

export interface Submitted {
  arrayJob: string;
  mergeJob: string;
}

/** The sbatch that `PATH` names, or undefined. */
export function findSbatch(path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "sbatch");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Submits the array, then the merge after it; the job ids. */
export function submitCampaign(scripts: { array: string; merge: string }): Submitted {
  const sbatch = findSbatch();
  if (sbatch === undefined) {
    throw new UsageError("--submit: sbatch is not on PATH", {
      suggestion:
        "run emp slurm where Slurm's client is installed (Debian: apt install slurm-client), or leave out --submit and submit the scripts it writes with sbatch there",
    });
  }
  const arrayJob = submit(sbatch, [scripts.array], "the job array");
  try {
    const mergeJob = submit(sbatch, [`--dependency=afterok:${arrayJob}`, scripts.merge], "the merge job");
    return { arrayJob, mergeJob };
  } catch (error) {
    // The array runs anyway: say which job it is and how to merge its shards by hand.
    const e = error as EmpError;
    throw new EmpError("E_IO", `${e.message}; the job array ${arrayJob} was submitted and runs`, {
      suggestion: `submit the merge by hand: sbatch --dependency=afterok:${arrayJob} ${scripts.merge}`,
      cause: error,
    });
  }
}

function submit(sbatch: string, args: readonly string[], what: string): string {
  const run = spawnSync(sbatch, ["--parsable", ...args], { encoding: "utf8" });
  const said = `${run.stderr ?? ""}`.trim();
  if (run.error !== undefined || run.status !== 0) {
    const why = run.error?.message ?? (said || `sbatch exited with ${run.status ?? run.signal}`);
    throw new EmpError("E_IO", `sbatch refused ${what}: ${why}`, {
      suggestion:
        "check --partition, --time and --sbatch against the cluster (sinfo lists its partitions and limits), and that slurmctld answers (squeue)",
    });
  }
  // `ID` or `ID;CLUSTER`.
  const id = /^(\d+)(;\S+)?$/.exec(run.stdout.trim())?.[1];
  if (id === undefined) {
    throw new EmpError("E_IO", `sbatch submitted ${what} but printed no job id: ${run.stdout.trim()}`, {
      suggestion: "find the job with squeue --me",
    });
  }
  return id;
}

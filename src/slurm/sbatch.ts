// Submitting a campaign's two scripts with sbatch: the array first, then the merge with a dependency
// on the array's id (`afterok`: every task exited 0). `--parsable` makes sbatch print the id alone.
import { spawnSync } from "node:child_process";
import { EmpError, UsageError } from "../errors.js";
import { resolveCommand } from "../measure/preflight.js";

export interface Submitted {
  arrayJob: string;
  mergeJob: string;
}

/** Submits the array, then the merge after it; the job ids. */
export function submitCampaign(scripts: { array: string; merge: string }): Submitted {
  const sbatch = sbatchOnPath();
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

/** The sbatch that PATH names, as execvp finds it; a UsageError with the fix where there is none to run. */
function sbatchOnPath(): string {
  try {
    return resolveCommand("sbatch");
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(`--submit: sbatch is not on PATH (${error.message})`, {
      suggestion:
        "run emp slurm where Slurm's client is installed (Debian: apt install slurm-client), or leave out --submit and submit the scripts it writes with sbatch there",
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

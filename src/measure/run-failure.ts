// A run whose command failed (exit != 0, a signal, a timeout) did not do its work: its energy is
// kept in the results but is not the energy of that work, so statistics leave it out by default.
// One rule for emp measure, emp run and emp report.

export interface RunExit {
  exitCode: number | null;
  signal: string | null;
  timedOut?: boolean;
}

export function runFailed(run: RunExit): boolean {
  return run.exitCode !== 0 || run.signal !== null || run.timedOut === true;
}

/** Why a run failed, for a person: "exited with 127 (command not found)", "ended by SIGKILL". */
export function failureText(run: RunExit): string {
  if (run.timedOut) return "timed out";
  if (run.signal !== null) return `ended by ${run.signal}`;
  if (run.exitCode === null) return "ended by a signal";
  const meaning =
    run.exitCode === 127 ? " (command not found)" : run.exitCode === 126 ? " (cannot execute)" : "";
  return `exited with ${run.exitCode}${meaning}`;
}

// Calibrated runs for short commands (--min-run-ms): a run that ends within a few sensor updates is
// measured with a bias (the counter's steps at its two ends), so a short command is run back to back
// inside one measured run until the run lasts long enough. The count is found once, by calibration
// runs before the warmups, then fixed for every run, as pyperf fixes its loops: runs of different
// lengths would not be comparable.

/** Most passes of calibration before the count is taken as it stands. */
const MAX_PASSES = 10;

/** Most growth of the count in one pass: a first run much faster than the next must not overshoot. */
const MAX_GROWTH = 100;

/** Most iterations in a run: a command that takes no time at all must not loop for ever. */
export const MAX_ITERATIONS = 10_000_000;

/** A little over the target, so that a run a hair faster than the calibration run still reaches it. */
const HEADROOM = 1.1;

/**
 * The count to try after a run of `iterations` lasted `durationMs`, or undefined when the run
 * already reached `minRunMs` (the count is found) or cannot grow.
 */
export function nextIterations(iterations: number, durationMs: number, minRunMs: number): number | undefined {
  if (durationMs >= minRunMs || iterations >= MAX_ITERATIONS) return undefined;
  const wanted = Math.ceil((iterations * minRunMs * HEADROOM) / Math.max(durationMs, 1e-3));
  return Math.min(MAX_ITERATIONS, iterations * MAX_GROWTH, Math.max(iterations * 2, wanted));
}

/** A measured run, as far as calibration reads it. */
export interface CalibrationRun {
  durationS: number;
  exitCode: number | null;
  signal: string | null;
}

/**
 * Finds the count: runs `measure(iterations)` from one iteration up until a run lasts `minRunMs`
 * (or MAX_PASSES were run, or a run failed: every run would fail alike, and the failure shows in the
 * measured runs). Returns the count and how many calibration runs it took; undefined when the
 * session was interrupted.
 */
export async function calibrateIterations(
  minRunMs: number,
  measure: (iterations: number) => Promise<CalibrationRun | undefined>,
): Promise<{ iterations: number; passes: number } | undefined> {
  let iterations = 1;
  for (let pass = 1; ; pass++) {
    const run = await measure(iterations);
    if (run === undefined) return undefined;
    const failed = run.exitCode !== 0 || run.signal !== null;
    const next = failed ? undefined : nextIterations(iterations, run.durationS * 1000, minRunMs);
    if (next === undefined || pass >= MAX_PASSES) return { iterations: next ?? iterations, passes: pass };
    iterations = next;
  }
}

/**
 * The command that runs `file args` `iterations` times back to back, stopping at the first failure
 * with its exit status. A shell loop: each iteration costs the fork and exec that running the command
 * once costs anyway, and the run's process tree, counters and exit stay those of one command.
 */
export function iterated(
  file: string,
  args: readonly string[],
  iterations: number,
): { file: string; args: string[] } {
  if (iterations <= 1) return { file, args: [...args] };
  const loop = `i=0; while [ "$i" -lt ${iterations} ]; do "$@" || exit; i=$((i + 1)); done`;
  return { file: "sh", args: ["-c", loop, "emp-iterations", file, ...args] };
}

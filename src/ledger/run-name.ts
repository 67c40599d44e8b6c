// How progress lines, warnings, log files and history name a run. The ledger numbers a commit's runs
// across sessions, so the name it gives is the one every later reader finds again.

/** A run's place among its commit's runs: warmup or measured, and its 0-based number of that kind. */
export interface RunOrdinal {
  warmup: boolean;
  repetition: number;
}

/**
 * "warmup 3", "run 2". Warmups and measured runs are numbered apart, each from 1, per commit across
 * sessions, so no two runs of a commit share a name (nor a log file).
 */
export function slotName(slot: RunOrdinal): string {
  return `${slot.warmup ? "warmup" : "run"} ${slot.repetition + 1}`;
}

/** The log file of a run's output in its commit's log folder: warmup-3.log, run-2.log. */
export function slotLogName(slot: RunOrdinal): string {
  return `${slotName(slot).replace(" ", "-")}.log`;
}

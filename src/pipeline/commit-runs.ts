// A commit's measured runs as samples per quantity, from the ledger: what `emp find` bisects on and
// `emp compare-commits` gates on. Warmups and failed runs are left out, as in a study's statistics;
// with min_run_ms a run's energy and time are divided by its iterations.
import type { LedgerRunRow } from "../ledger/ledger.js";

/** The quantity of a run's duration, beside its energy domains. */
export const TIME = "time";

/** Per quantity (each energy domain's net J, and `time` in s), the values of `commit`'s good runs. */
export function commitSamples(runs: readonly LedgerRunRow[], commit: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const add = (quantity: string, value: number) => {
    const values = out.get(quantity) ?? [];
    values.push(value);
    out.set(quantity, values);
  };
  for (const run of runs) {
    if (run.commit !== commit || run.warmup || run.timedOut || run.exitCode !== 0) continue;
    for (const [domain, energy] of Object.entries(run.energy)) {
      if (energy.netJ !== null) add(domain, energy.netJ / run.iterations);
    }
    add(TIME, Number(run.endNs - run.startNs) / 1e9 / run.iterations);
  }
  return out;
}

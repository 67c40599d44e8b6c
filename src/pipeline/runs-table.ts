// runs.arrow of a study: every run the ledger holds under the study's config, all sessions, rebuilt
// from the ledger after each run (the ledger is the record; this is its table for notebooks).
import type { Ledger } from "../ledger/ledger.js";
import { counterMetric, RunsWriter } from "../results/runs-writer.js";

export function writeStudyRuns(
  path: string,
  ledger: Ledger,
  configHash: string,
  provenance: unknown,
  session: string,
): void {
  const runs = ledger.runs({ configHash });
  const domains = [...new Set(runs.flatMap((r) => Object.keys(r.energy)))].sort();
  const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const writer = new RunsWriter(path, {
    session,
    domains,
    metrics: metrics.map(counterMetric),
    provenance,
  });
  writer.write(
    runs.map((r) => ({
      session: r.sessionId,
      commit: r.commit,
      label: "",
      index: r.repetition,
      run: r.ordinal,
      warmup: r.warmup,
      startNs: r.startNs,
      endNs: r.endNs,
      exitCode: r.exitCode,
      signal: r.signal,
      energy: r.energy,
      metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [counterMetric(k).name, v])),
      warnings: r.warnings,
    })),
  );
}

// runs.arrow of a study: every run the ledger holds, of every config and session, with the config
// each ran under in `config_hash` (the ledger is the record; this is its table for notebooks and
// for emp report and plot). Built whole from the ledger once, when a session starts; each run
// after that is appended. Its columns are the union of every run's domains and metrics: a run that
// brings one the table lacks has it rebuilt whole from the ledger, which happens at most once per
// new domain or counter, not per run.
import type { Ledger, LedgerRunRow } from "../ledger/ledger.js";
import { isWorkColumn } from "../measure/work.js";
import { counterMetric, type RunMetric, type RunRecord, RunsWriter } from "../results/runs-writer.js";

export class StudyRunsTable {
  private writer: RunsWriter;
  private readonly domains: Set<string>;
  private readonly metrics: Set<string>;

  /**
   * Writes `path` from the ledger's runs. `domains` are those this session measures, so that its
   * first run needs no rebuild (the counters a machine can count show with that run).
   */
  constructor(
    private readonly path: string,
    private readonly ledger: Ledger,
    private readonly provenance: unknown,
    private readonly session: string,
    domains: readonly string[],
    /** Units of the columns of the study's `work` and `metrics`, by column name. */
    private readonly units: Record<string, string> = {},
  ) {
    const runs = ledger.runs();
    this.domains = new Set([...domains, ...runs.flatMap((r) => Object.keys(r.energy))]);
    this.metrics = new Set(runs.flatMap((r) => Object.keys(r.metrics)));
    this.writer = this.rebuild(runs);
  }

  /** Adds a run the ledger has just recorded. */
  append(run: LedgerRunRow): void {
    const before = this.domains.size + this.metrics.size;
    for (const domain of Object.keys(run.energy)) this.domains.add(domain);
    for (const metric of Object.keys(run.metrics)) this.metrics.add(metric);
    if (this.domains.size + this.metrics.size === before) {
      this.writer.append(record(run));
      return;
    }
    this.writer.close();
    this.writer = this.rebuild(this.ledger.runs());
  }

  close(): void {
    this.writer.close();
  }

  private rebuild(runs: readonly LedgerRunRow[]): RunsWriter {
    return new RunsWriter(
      this.path,
      {
        session: this.session,
        configHash: true,
        domains: [...this.domains].sort(),
        metrics: [...this.metrics].sort().map((name) => columnOf(name, this.units)),
        provenance: this.provenance,
      },
      runs.map(record),
    );
  }
}

function record(r: LedgerRunRow): RunRecord {
  return {
    session: r.sessionId,
    configHash: r.configHash,
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
    metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [columnOf(k, {}).name, v])),
    warnings: r.warnings,
    iterations: r.iterations,
  };
}

/**
 * A ledger metric's column: a study metric (`metric_NAME`) or energy per unit of work
 * (`<domain>_net_j_per_unit`) keeps its name, with its unit where the study declares it; a perf
 * counter is named as runs.arrow names counters (`task-clock` becomes `task_clock`).
 */
function columnOf(name: string, units: Record<string, string>): RunMetric {
  if (isWorkColumn(name)) return { name, unit: units[name] ?? "" };
  return counterMetric(name);
}

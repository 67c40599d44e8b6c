// The session directory of a measurement: samples.arrow (every tick, committed after the baseline
// and after each run), runs.arrow (a row appended after each run), manifest.json and summary.json.
// A crash or Ctrl-C loses at most the run in progress; so does a failed write (a full disk),
// which leaves both Arrow files complete as of the last run and is thrown as a WriteError.
import { hostname } from "node:os";
import { join } from "node:path";
import type { SamplerChannelInfo } from "../native.js";
import { writeJsonAtomic } from "../results/atomic.js";
import { counterMetric, type RunMetric, type RunRecord, RunsWriter } from "../results/runs-writer.js";
import { type Phase, SamplesWriter } from "../results/samples-writer.js";
import type { TickBatch } from "../sampling/sampler.js";
import { TREE_CPU_METRIC } from "./meter.js";
import { boundedSummary, type RunsSummary } from "./summary-bounds.js";

export interface Provenance {
  emp_version: string;
  host: string;
  [key: string]: unknown;
}

export class SessionRecorder {
  readonly session: string;
  private samples?: SamplesWriter;
  private runs?: RunsWriter;
  /** The write error that ended the session, so that closing does not hide it behind another. */
  private failure: unknown;
  /** Columns named as given (--metric values, energy per unit of work), not as perf counters. */
  private readonly extraColumns = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly provenance: Provenance,
  ) {
    this.session = `${hostname()}-${Date.now().toString(36)}`;
  }

  /** Opens the Arrow files once the channels and domains are known. */
  open(
    channels: readonly SamplerChannelInfo[],
    domains: readonly string[],
    counters: readonly string[],
    /** More columns beside the counters (--metric, energy per unit of work), named as they are. */
    extra: readonly RunMetric[] = [],
  ): void {
    for (const m of extra) this.extraColumns.add(m.name);
    this.samples = new SamplesWriter(join(this.dir, "samples.arrow"), channels, this.provenance);
    this.runs = new RunsWriter(join(this.dir, "runs.arrow"), {
      session: this.session,
      domains,
      metrics: [...[...counters, TREE_CPU_METRIC].map(counterMetric), ...extra],
      provenance: this.provenance,
    });
  }

  append(batch: TickBatch, phase: Phase, run: number | null): void {
    this.samples?.append(batch, phase, run);
  }

  /** Makes the samples so far part of samples.arrow. */
  commit(): void {
    this.samples?.commit();
  }

  run(record: RunRecord): void {
    try {
      this.runs?.append({
        ...record,
        metrics: Object.fromEntries(
          Object.entries(record.metrics ?? {}).map(([k, v]) => [
            this.extraColumns.has(k) ? k : counterMetric(k).name,
            v,
          ]),
        ),
      });
    } catch (error) {
      this.failure ??= error;
      throw error;
    }
  }

  manifest(value: unknown): void {
    writeJsonAtomic(join(this.dir, "manifest.json"), value);
  }

  /** summary.json, with its per-run details bounded (summary-bounds.ts). */
  summary(summary: RunsSummary): void {
    writeJsonAtomic(join(this.dir, "summary.json"), boundedSummary(summary));
  }

  /** Closes both Arrow files; after a failed write only that first error counts. */
  close(): void {
    try {
      this.samples?.close();
    } catch (error) {
      if (this.failure === undefined) throw error;
    } finally {
      this.runs?.close();
    }
  }
}

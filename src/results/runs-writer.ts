// runs.arrow: one row per run of a session, rewritten whole and atomically after each run (the
// table is small: a row per run), so it always holds every finished run.
import {
  Bool,
  type Data,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { writeFileAtomic } from "./atomic.js";

/** A per-run number other than energy (a perf counter, a temperature), with its unit. */
export interface RunMetric {
  /** Column name, e.g. `task_clock_ns`, `instructions`. */
  name: string;
  unit: string;
}

/** Metrics measured in ns; every other one is a count. */
const NS_METRICS = new Set(["task-clock", "cpu-clock", "tree-cpu-time"]);

/**
 * A metric's column in runs.arrow: a perf counter (`task-clock` → `task_clock` in ns, other events
 * counted) or the tree's cgroup CPU time (`tree-cpu-time` → `tree_cpu_time` in ns).
 */
export function counterMetric(counter: string): RunMetric {
  return { name: counter.replaceAll("-", "_"), unit: NS_METRICS.has(counter) ? "ns" : "count" };
}

export interface RunsWriterOptions {
  session: string;
  /** Energy domains, each giving `<domain>_raw_j`, `<domain>_baseline_j` and `<domain>_net_j`. */
  domains: readonly string[];
  /** Extra Float64 columns, null where a run has no value. */
  metrics?: readonly RunMetric[];
  provenance: unknown;
}

/** A run's energy in one domain; baseline and net are null where the idle baseline is unknown. */
export interface RunEnergyJ {
  rawJ: number;
  baselineJ: number | null;
  netJ: number | null;
}

export interface RunRecord {
  commit?: string | null;
  label: string;
  /** Repetition: the run's number among its commit's (or its measurement's) runs. */
  index: number;
  /** The run's number in its session's samples (the `run` column of samples.arrow). */
  run: number;
  /** The session that measured it, where a table gathers runs of several sessions. */
  session?: string;
  warmup: boolean;
  /** CLOCK_MONOTONIC ns, the clock of samples.arrow. */
  startNs: bigint;
  endNs: bigint;
  exitCode: number | null;
  signal: string | null;
  /** Per domain; a domain left out is null in this row. */
  energy: Readonly<Record<string, RunEnergyJ>>;
  metrics?: Readonly<Record<string, number | null>>;
  warnings?: readonly string[];
}

const NS_PER_S = 1e9;

function meta(unit: string): Map<string, string> {
  return new Map([["unit", unit]]);
}

export class RunsWriter {
  readonly schema: Schema;
  private readonly rows: RunRecord[] = [];

  constructor(
    readonly path: string,
    private readonly options: RunsWriterOptions,
  ) {
    const fields: Field[] = [
      new Field("session", new Utf8(), false),
      new Field("commit", new Utf8(), true),
      new Field("label", new Utf8(), false),
      new Field("index", new Int32(), false),
      new Field("run", new Int32(), false),
      new Field("warmup", new Bool(), false),
      new Field("start_ns", new Int64(), false, meta("ns")),
      new Field("end_ns", new Int64(), false, meta("ns")),
      new Field("duration_s", new Float64(), false, meta("s")),
      new Field("exit_code", new Int32(), true),
      new Field("signal", new Utf8(), true),
    ];
    for (const domain of options.domains) {
      for (const kind of ["raw", "baseline", "net"]) {
        fields.push(
          new Field(`${domain}_${kind}_j`, new Float64(), true, new Map([...meta("J"), ["domain", domain]])),
        );
      }
    }
    for (const metric of options.metrics ?? []) {
      fields.push(new Field(metric.name, new Float64(), true, meta(metric.unit)));
    }
    fields.push(new Field("warnings", new List(new Field("item", new Utf8(), true)), false));
    const names = new Set<string>();
    for (const field of fields) {
      if (names.has(field.name)) throw new Error(`runs.arrow would have two columns named ${field.name}`);
      names.add(field.name);
    }
    this.schema = new Schema(
      fields,
      new Map([
        ["emp.table", "runs"],
        ["emp.provenance", JSON.stringify(options.provenance ?? null)],
      ]),
    );
  }

  get runs(): readonly RunRecord[] {
    return this.rows;
  }

  /** Replaces every row and rewrites runs.arrow once (a table rebuilt from a ledger). */
  write(runs: readonly RunRecord[]): void {
    this.rows.splice(0, this.rows.length, ...runs);
    writeFileAtomic(this.path, this.toIPC());
  }

  /** Adds a finished run and rewrites runs.arrow with every run so far. */
  append(run: RunRecord): void {
    this.rows.push(run);
    writeFileAtomic(this.path, this.toIPC());
  }

  /** The whole table as Arrow IPC file bytes. */
  toIPC(): Uint8Array {
    return tableToIPC(new Table(this.recordBatch()), "file");
  }

  private recordBatch(): RecordBatch {
    const rows = this.rows;
    const columns: Data[] = [];
    const add = (type: Field["type"], values: unknown[]) => {
      const vector = vectorFromArray(values, type);
      const data = vector.data[0];
      if (vector.data.length !== 1 || data === undefined) throw new Error("expected one chunk per column");
      columns.push(data);
    };
    add(
      new Utf8(),
      rows.map((r) => r.session ?? this.options.session),
    );
    add(
      new Utf8(),
      rows.map((r) => r.commit ?? null),
    );
    add(
      new Utf8(),
      rows.map((r) => r.label),
    );
    add(
      new Int32(),
      rows.map((r) => r.index),
    );
    add(
      new Int32(),
      rows.map((r) => r.run),
    );
    add(
      new Bool(),
      rows.map((r) => r.warmup),
    );
    add(
      new Int64(),
      rows.map((r) => r.startNs),
    );
    add(
      new Int64(),
      rows.map((r) => r.endNs),
    );
    add(
      new Float64(),
      rows.map((r) => Number(r.endNs - r.startNs) / NS_PER_S),
    );
    add(
      new Int32(),
      rows.map((r) => r.exitCode),
    );
    add(
      new Utf8(),
      rows.map((r) => r.signal),
    );
    for (const domain of this.options.domains) {
      for (const key of ["rawJ", "baselineJ", "netJ"] as const) {
        // A value that is not a number of joules (unknown: NaN) is stored as null, never as NaN.
        add(
          new Float64(),
          rows.map((r) => finiteOrNull(r.energy[domain]?.[key])),
        );
      }
    }
    for (const metric of this.options.metrics ?? []) {
      add(
        new Float64(),
        rows.map((r) => r.metrics?.[metric.name] ?? null),
      );
    }
    add(
      new List(new Field("item", new Utf8(), true)),
      rows.map((r) => [...(r.warnings ?? [])]),
    );
    const length = rows.length;
    return new RecordBatch(
      this.schema,
      makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children: columns }),
    );
  }
}

function finiteOrNull(value: number | null | undefined): number | null {
  return value !== null && value !== undefined && Number.isFinite(value) ? value : null;
}

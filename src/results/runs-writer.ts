// runs.arrow: one row per run of a session (or of a study: every session), complete and readable
// after every run. Runs are appended, never the whole file rewritten: the rows go in record
// batches of RUNS_PER_BATCH; only the last batch, which is still filling, and the footer after it
// are written again when a run is added. The batches before it are never touched, and the footer
// lists one block per RUNS_PER_BATCH runs, so an append costs the same at run 10 and at run
// 10,000. The tail is replaced through an undo journal (tail-journal.ts), so a crash or a full
// disk mid-append leaves the file as it was after the previous run.
import { closeSync, openSync } from "node:fs";
import {
  Bool,
  type Data,
  type DataType,
  Field,
  Float64,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
} from "apache-arrow";
import { writeFileAtomic } from "./atomic.js";
import { boolData, float64Data, int32Data, int64Data, UTF8_LIST, utf8Data, utf8ListData } from "./columns.js";
import { BlockWriter, type FileBlock, fileTail } from "./ipc-file.js";
import { TailJournal } from "./tail-journal.js";
import { toWriteError } from "./write-error.js";

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
  /** The session of rows that name none. */
  session: string;
  /** A `config_hash` column after `session` (a study's table, which holds every config's runs). */
  configHash?: boolean;
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
  /** The command's name where a session measures several (emp compare); null otherwise. */
  command?: string | null;
  /** Repetition: the run's number among its commit's (or its measurement's) runs. */
  index: number;
  /** The run's number in its session's samples (the `run` column of samples.arrow). */
  run: number;
  /** The session that measured it, where a table gathers runs of several sessions. */
  session?: string;
  /** The study config it was measured under (the `config_hash` column, where the table has one). */
  configHash?: string;
  warmup: boolean;
  /** Times the command ran back to back in the run (--min-run-ms); default 1. Energy and duration are of all of them. */
  iterations?: number;
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

/**
 * Rows of a record batch. The last batch is built and written again at every run, so its size
 * bounds an append's cost; the footer grows by one block per this many runs.
 */
export const RUNS_PER_BATCH = 64;

export class RunsWriter {
  readonly schema: Schema;
  private readonly columns: readonly RunsColumn[];
  private readonly writer = new BlockWriter();
  private readonly journal: TailJournal;
  private fd: number | null;
  /** Full record batches, never written again. */
  private readonly sealed: FileBlock[] = [];
  /** Where the batch still filling starts: the end of the sealed batches. */
  private sealedEnd = 0;
  /** Rows of the batch still filling. */
  private open: RunRecord[] = [];
  /** The file from sealedEnd to its end as last written: the undo of the next append. */
  private tail: Uint8Array = new Uint8Array(0);
  private count = 0;

  /** Writes `path` whole (atomically) holding `runs`, then keeps it open for appends. */
  constructor(
    readonly path: string,
    options: RunsWriterOptions,
    runs: readonly RunRecord[] = [],
  ) {
    this.columns = runsColumns(options);
    this.schema = schemaOf(this.columns, options.provenance);
    // The journal is emptied first: a record of an earlier file must never apply to this one.
    this.journal = new TailJournal(path);
    try {
      writeFileAtomic(path, this.layout(runs));
      this.fd = openSync(path, "r+");
    } catch (error) {
      this.journal.close();
      throw toWriteError(error, path);
    }
  }

  /** Runs in the file. */
  get length(): number {
    return this.count;
  }

  /** Adds a finished run: the last batch gets it, and the file stays complete (see the top of the file). */
  append(run: RunRecord): void {
    const fd = this.fd;
    if (fd === null) throw new Error(`${this.path} is closed`);
    const rows = [...this.open, run];
    const { bytes, block } = this.batchAt(rows, this.sealedEnd);
    const tail = Buffer.concat([...bytes, fileTail(this.schema, [...this.sealed, block])]);
    try {
      this.journal.replace(fd, this.sealedEnd, this.tail, tail);
    } catch (error) {
      throw toWriteError(error, this.path);
    }
    this.count++;
    if (rows.length < RUNS_PER_BATCH) {
      this.open = rows;
      this.tail = tail;
      return;
    }
    const batchBytes = block.metaDataLength + block.bodyLength;
    this.sealed.push(block);
    this.sealedEnd += batchBytes;
    this.open = [];
    this.tail = tail.subarray(batchBytes);
  }

  /** Closes the file and removes its journal. Idempotent. */
  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    this.journal.close();
  }

  /** The whole file for `runs`; sets the writer's state to match it. */
  private layout(runs: readonly RunRecord[]): Uint8Array {
    this.writer.start(this.schema);
    const parts: Uint8Array[] = [...this.writer.take().chunks];
    let at = parts.reduce((n, p) => n + p.byteLength, 0);
    const full = runs.length - (runs.length % RUNS_PER_BATCH);
    for (let from = 0; from < full; from += RUNS_PER_BATCH) {
      const { bytes, block } = this.batchAt(runs.slice(from, from + RUNS_PER_BATCH), at);
      parts.push(...bytes);
      this.sealed.push(block);
      at += block.metaDataLength + block.bodyLength;
    }
    this.sealedEnd = at;
    this.open = runs.slice(full);
    const tailParts: Uint8Array[] = [];
    const blocks = [...this.sealed];
    if (this.open.length > 0) {
      const { bytes, block } = this.batchAt(this.open, at);
      tailParts.push(...bytes);
      blocks.push(block);
    }
    tailParts.push(fileTail(this.schema, blocks));
    this.tail = Buffer.concat(tailParts);
    this.count = runs.length;
    return Buffer.concat([...parts, this.tail]);
  }

  /** The record batch of `rows` as the bytes of its message at `offset` in the file, and its block. */
  private batchAt(rows: readonly RunRecord[], offset: number): { bytes: Uint8Array[]; block: FileBlock } {
    this.writer.position = offset;
    const { chunks, block } = this.writer.writeRecordBatch(this.recordBatch(rows));
    return { bytes: chunks, block };
  }

  private recordBatch(rows: readonly RunRecord[]): RecordBatch {
    return new RecordBatch(
      this.schema,
      makeData({
        type: new Struct(this.schema.fields),
        length: rows.length,
        nullCount: 0,
        children: this.columns.map((column) => column.value(rows)),
      }),
    );
  }
}

/**
 * One column of runs.arrow: its field, and its values for a batch of runs. The schema and every
 * record batch are made from one list of these, so a column's field and its values cannot drift
 * apart.
 */
interface RunsColumn<T extends DataType = DataType> {
  name: string;
  type: T;
  nullable: boolean;
  /** The field's `unit` metadata, first among its keys. */
  unit?: string;
  metadata?: Readonly<Record<string, string>>;
  value: (rows: readonly RunRecord[]) => Data<T>;
}

/** Checks that a column's values are of its type: in the list of columns any Data would pass. */
function column<T extends DataType>(c: RunsColumn<T>): RunsColumn {
  return c;
}

/** runs.arrow's columns, in order: the run, per domain its raw, baseline and net energy, the metrics, the warnings. */
function runsColumns(options: RunsWriterOptions): RunsColumn[] {
  const columns: RunsColumn[] = [
    column({
      name: "session",
      type: new Utf8(),
      nullable: false,
      value: (rows) => utf8Data(rows.map((r) => r.session ?? options.session)),
    }),
  ];
  if (options.configHash) {
    columns.push(
      column({
        name: "config_hash",
        type: new Utf8(),
        nullable: true,
        value: (rows) => utf8Data(rows.map((r) => r.configHash ?? null)),
      }),
    );
  }
  columns.push(
    column({
      name: "commit",
      type: new Utf8(),
      nullable: true,
      value: (rows) => utf8Data(rows.map((r) => r.commit ?? null)),
    }),
    column({
      name: "label",
      type: new Utf8(),
      nullable: false,
      value: (rows) => utf8Data(rows.map((r) => r.label)),
    }),
    column({
      name: "command",
      type: new Utf8(),
      nullable: true,
      value: (rows) => utf8Data(rows.map((r) => r.command ?? null)),
    }),
    column({
      name: "index",
      type: new Int32(),
      nullable: false,
      value: (rows) => int32Data(rows.map((r) => r.index)),
    }),
    column({
      name: "run",
      type: new Int32(),
      nullable: false,
      value: (rows) => int32Data(rows.map((r) => r.run)),
    }),
    column({
      name: "warmup",
      type: new Bool(),
      nullable: false,
      value: (rows) => boolData(rows.map((r) => r.warmup)),
    }),
    column({
      name: "iterations",
      type: new Int32(),
      nullable: false,
      value: (rows) => int32Data(rows.map((r) => r.iterations ?? 1)),
    }),
    column({
      name: "start_ns",
      type: new Int64(),
      nullable: false,
      unit: "ns",
      value: (rows) => int64Data(rows.map((r) => r.startNs)),
    }),
    column({
      name: "end_ns",
      type: new Int64(),
      nullable: false,
      unit: "ns",
      value: (rows) => int64Data(rows.map((r) => r.endNs)),
    }),
    column({
      name: "duration_s",
      type: new Float64(),
      nullable: false,
      unit: "s",
      value: (rows) => float64Data(rows.map((r) => Number(r.endNs - r.startNs) / NS_PER_S)),
    }),
    column({
      name: "exit_code",
      type: new Int32(),
      nullable: true,
      value: (rows) => int32Data(rows.map((r) => r.exitCode)),
    }),
    column({
      name: "signal",
      type: new Utf8(),
      nullable: true,
      value: (rows) => utf8Data(rows.map((r) => r.signal)),
    }),
  );
  for (const domain of options.domains) {
    for (const [kind, key] of [
      ["raw", "rawJ"],
      ["baseline", "baselineJ"],
      ["net", "netJ"],
    ] as const) {
      columns.push(
        column({
          name: `${domain}_${kind}_j`,
          type: new Float64(),
          nullable: true,
          unit: "J",
          metadata: { domain },
          // A value that is not a number of joules (unknown: NaN) is stored as null, never as NaN.
          value: (rows) => float64Data(rows.map((r) => finiteOrNull(r.energy[domain]?.[key]))),
        }),
      );
    }
  }
  for (const metric of options.metrics ?? []) {
    columns.push(
      column({
        name: metric.name,
        type: new Float64(),
        nullable: true,
        unit: metric.unit,
        value: (rows) => float64Data(rows.map((r) => finiteOrNull(r.metrics?.[metric.name]))),
      }),
    );
  }
  columns.push(
    column({
      name: "warnings",
      type: UTF8_LIST,
      nullable: false,
      value: (rows) => utf8ListData(rows.map((r) => r.warnings ?? [])),
    }),
  );
  const names = new Set<string>();
  for (const { name } of columns) {
    if (names.has(name)) throw new Error(`runs.arrow would have two columns named ${name}`);
    names.add(name);
  }
  return columns;
}

/** The columns of runs.arrow for these domains and metrics; the provenance goes into its metadata. */
export function runsSchema(options: RunsWriterOptions): Schema {
  return schemaOf(runsColumns(options), options.provenance);
}

function schemaOf(columns: readonly RunsColumn[], provenance: unknown): Schema {
  const fields = columns.map((c) => {
    const entries = Object.entries(c.metadata ?? {});
    if (c.unit !== undefined) entries.unshift(["unit", c.unit]);
    return new Field(c.name, c.type, c.nullable, entries.length > 0 ? new Map(entries) : undefined);
  });
  return new Schema(
    fields,
    new Map([
      ["emp.table", "runs"],
      ["emp.provenance", JSON.stringify(provenance ?? null)],
    ]),
  );
}

function finiteOrNull(value: number | null | undefined): number | null {
  return value !== null && value !== undefined && Number.isFinite(value) ? value : null;
}

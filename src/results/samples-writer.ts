// samples.arrow: every drained tick with its phase and run and each channel's raw value, written
// so that a crash or Ctrl-C loses at most the run in progress.
//
// Drained batches (500 ticks every 50 ms at 10 kHz) are gathered into record batches of up to
// `batchTicks` rows (default 65536, fewer for wide rows: 4 MiB a batch) before they are written:
// each Arrow batch costs ~600 bytes of
// headers and a footer entry, which at 1 kHz would outweigh the data. Columns are as narrow as
// their values allow: lateness and read time as int32 ns, the read mask as wide as the source
// count needs, and a counter that wraps at or below 2^32 (RAPL MSRs) as uint32.
//
// An Arrow IPC file ends in a footer that lists every block, so it cannot simply be appended to.
// Batches of the run in progress go to a journal beside it (`.samples.arrow.journal`), already
// laid out with the offsets they will have in samples.arrow. `commit()` (the end of each run)
// copies the journal over the old footer, writes the new footer and fsyncs. Between commits
// samples.arrow is a complete file holding every committed run; a crash inside a commit's copy
// (milliseconds) leaves it torn, and `recoverSamples` (recover.ts) repairs it from the journal.
// Cost: every data byte is written twice (journal, then file), so O(data); each commit also
// rewrites the footer, 24 bytes per batch so far, which stays small beside the data unless a
// session has thousands of runs of tiny batches (measured: 30,000 batches, 7 ms a commit).
import { closeSync, fsyncSync, ftruncateSync, openSync, readSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  type Data,
  Dictionary,
  Field,
  Int8,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import type { SamplerChannelInfo } from "../native.js";
import { readMaskBytes, type TickBatch } from "../sampling/sampler.js";
import { fsyncDir, writeAllSync } from "./atomic.js";
import { BlockWriter, writeChunks } from "./ipc-file.js";
import { toWriteError } from "./write-error.js";

/**
 * What the machine was doing at a tick. "cooldown" is only the idle time asked for between runs
 * (--cooldown); "between" is the rest of the time between runs: the settling tail after a run and
 * emp's own work (writing results, the next run's set-up).
 */
export type Phase = "baseline" | "warmup" | "run" | "cooldown" | "post-baseline" | "between";

/**
 * The phase dictionary, fixed so that it is written once and codes are stable across files: a new
 * phase is added at the end.
 */
export const PHASES: readonly Phase[] = ["baseline", "warmup", "run", "cooldown", "post-baseline", "between"];

const PHASE_DICTIONARY_ID = 0;
const phaseType = new Dictionary(new Utf8(), new Int8(), PHASE_DICTIONARY_ID, false);
const phaseDictionary = vectorFromArray([...PHASES], new Utf8());

/** Column name of a channel's raw values. */
export function channelColumn(channel: Pick<SamplerChannelInfo, "source" | "name">): string {
  return `${channel.source}/${channel.name}`;
}

type ChannelStorage = "uint64" | "int64" | "uint32";

/** How a channel's raw values are stored: uint32 only where they can never reach 2^32. */
function channelStorage(channel: SamplerChannelInfo): ChannelStorage {
  if (channel.signed) return "int64";
  return channel.wrap > 0 && channel.wrap <= 2 ** 32 ? "uint32" : "uint64";
}

/** Bytes of the read mask: one bit per source, sources numbered from 0, as the drain has it. */
function maskBytes(channels: readonly SamplerChannelInfo[]): 1 | 2 | 4 {
  return readMaskBytes(channels.reduce((n, c) => Math.max(n, c.sourceIndex + 1), 0));
}

const maskTypes = { 1: new Uint8(), 2: new Uint16(), 4: new Uint32() } as const;

/** The schema of samples.arrow for these channels; `provenance` goes into its metadata as JSON. */
export function samplesSchema(channels: readonly SamplerChannelInfo[], provenance: unknown): Schema {
  const spanMetadata = new Map([
    ["unit", "ns"],
    ["saturates_at", String(2 ** 31 - 1)],
  ]);
  const fields: Field[] = [
    new Field("t_ns", new Int64(), false, new Map([["unit", "ns"]])),
    new Field("phase", phaseType, false),
    new Field("run", new Int32(), true),
    new Field("lateness_ns", new Int32(), false, spanMetadata),
    new Field("read_ns", new Int32(), false, spanMetadata),
    new Field("read_mask", maskTypes[maskBytes(channels)], false, new Map([["bits", "source index"]])),
  ];
  const seen = new Set<string>(fields.map((f) => f.name));
  for (const channel of channels) {
    const name = channelColumn(channel);
    if (seen.has(name)) throw new Error(`two channels share the column name ${name}`);
    seen.add(name);
    const metadata = new Map<string, string>([
      ["unit", channel.unit],
      ["scale", String(channel.scale)],
      ["wrap", String(channel.wrap)],
      ["quantity", channel.quantity],
      ["domain", channel.domain],
      ["source", channel.source],
      ["origin", channel.origin],
      ["counter", String(channel.counter)],
      ["signed", String(channel.signed)],
      ["source_index", String(channel.sourceIndex)],
      ["hz", String(channel.hz)],
    ]);
    const storage = channelStorage(channel);
    const type = storage === "int64" ? new Int64() : storage === "uint32" ? new Uint32() : new Uint64();
    fields.push(new Field(name, type, false, metadata));
  }
  return new Schema(
    fields,
    new Map([
      ["emp.table", "samples"],
      ["emp.provenance", JSON.stringify(provenance ?? null)],
    ]),
  );
}

const COPY_CHUNK_BYTES = 1 << 20;

export interface SamplesWriterOptions {
  /**
   * Rows gathered before a record batch is written (default 65536, fewer where that would pass
   * 4 MiB: many channels). Larger batches spend less on
   * headers; the rows gathered are in memory only until then, part of the run in progress that a
   * crash may lose anyway. 1 writes every append as its own batch.
   */
  batchTicks?: number;
}

export const DEFAULT_BATCH_TICKS = 65_536;
/** Most bytes of rows gathered by default, so a machine with many channels keeps batches small. */
const DEFAULT_BATCH_BYTES = 4 << 20;

/** Bytes one row takes in samples.arrow: 22 of its own, then each channel's value. */
function rowBytes(channels: readonly SamplerChannelInfo[]): number {
  const own = 8 + 1 + 4 + 4 + 4 + maskBytes(channels);
  return own + channels.reduce((n, c) => n + (channelStorage(c) === "uint32" ? 4 : 8), 0);
}

type ChannelColumn = BigUint64Array | BigInt64Array | Uint32Array;

/**
 * The rows of the record batch being gathered, one preallocated array per column of
 * samples.arrow, reused batch after batch.
 */
export class SampleRows {
  length = 0;
  nulls = 0;
  tNs: BigInt64Array;
  phase: Int8Array;
  run: Int32Array;
  /** 1 where run is not null; packed into Arrow's bitmap only for a batch that has nulls. */
  runValid: Uint8Array;
  latenessNs: Int32Array;
  readNs: Int32Array;
  readMask: Uint8Array | Uint16Array | Uint32Array;
  channels: ChannelColumn[];

  /** Room for `capacity` rows of these channels, in samples.arrow's column types. */
  static forChannels(channels: readonly SamplerChannelInfo[], capacity: number): SampleRows {
    return new SampleRows(capacity, channels.map(channelStorage), maskBytes(channels));
  }

  constructor(
    readonly capacity: number,
    private readonly storage: readonly ChannelStorage[],
    private readonly maskWidth: 1 | 2 | 4,
  ) {
    this.tNs = new BigInt64Array(capacity);
    this.phase = new Int8Array(capacity);
    this.run = new Int32Array(capacity);
    this.runValid = new Uint8Array(capacity);
    this.latenessNs = new Int32Array(capacity);
    this.readNs = new Int32Array(capacity);
    this.readMask =
      maskWidth === 1
        ? new Uint8Array(capacity)
        : maskWidth === 2
          ? new Uint16Array(capacity)
          : new Uint32Array(capacity);
    this.channels = storage.map((kind) =>
      kind === "uint32"
        ? new Uint32Array(capacity)
        : kind === "int64"
          ? new BigInt64Array(capacity)
          : new BigUint64Array(capacity),
    );
  }

  /** Copies rows [from, from + n) of `batch` in; the caller makes sure they fit. */
  add(batch: TickBatch, from: number, n: number, phaseCode: number, run: number | null): void {
    const raw = batch.raw;
    const at = this.length;
    const to = from + n;
    // Whole batches (the usual case) are copied without making views of views.
    const whole = from === 0 && n === raw.ticks;
    this.tNs.set(whole ? raw.tNs : raw.tNs.subarray(from, to), at);
    this.phase.fill(phaseCode, at, at + n);
    this.run.fill(run ?? 0, at, at + n);
    this.runValid.fill(run === null ? 0 : 1, at, at + n);
    if (run === null) this.nulls += n;
    this.latenessNs.set(whole ? raw.latenessNs : raw.latenessNs.subarray(from, to), at);
    this.readNs.set(whole ? raw.readNs : raw.readNs.subarray(from, to), at);
    this.readMask.set(whole ? raw.readMask : raw.readMask.subarray(from, to), at);
    for (let c = 0; c < this.channels.length; c++) {
      const series = raw.values.subarray(c * raw.ticks + from, c * raw.ticks + to);
      const column = this.channels[c] as ChannelColumn;
      if (column instanceof Uint32Array) {
        // The low half of each little-endian uint64; the channel's wrap guarantees the high half is 0.
        const words = new Uint32Array(series.buffer, series.byteOffset, series.length * 2);
        for (let i = 0; i < n; i++) column[at + i] = words[2 * i] as number;
      } else if (column instanceof BigInt64Array) {
        // Same element type on both sides, so set() is a plain copy of the bits.
        column.set(new BigInt64Array(series.buffer, series.byteOffset, series.length), at);
      } else {
        column.set(series, at);
      }
    }
    this.length += n;
  }

  /** The rows as a record batch of `schema` (samplesSchema of the same channels); views, no copy. */
  recordBatch(schema: Schema): RecordBatch {
    const data = makeData({
      type: new Struct(schema.fields),
      length: this.length,
      nullCount: 0,
      children: this.children(),
    });
    return new RecordBatch(schema, data);
  }

  children(): Data[] {
    const length = this.length;
    const view = <T extends { subarray(a: number, b: number): T }>(a: T) => a.subarray(0, length);
    const runData =
      this.nulls === 0
        ? makeData({ type: new Int32(), length, nullCount: 0, data: view(this.run) })
        : makeData({
            type: new Int32(),
            length,
            nullCount: this.nulls,
            nullBitmap: packBits(this.runValid, length),
            data: view(this.run),
          });
    const children: Data[] = [
      makeData({ type: new Int64(), length, data: view(this.tNs) }),
      makeData({ type: phaseType, length, data: view(this.phase), dictionary: phaseDictionary }),
      runData,
      makeData({ type: new Int32(), length, data: view(this.latenessNs) }),
      makeData({ type: new Int32(), length, data: view(this.readNs) }),
      makeData({ type: maskTypes[this.maskWidth], length, data: view(this.readMask) }),
    ];
    for (let c = 0; c < this.channels.length; c++) {
      const kind = this.storage[c];
      const type = kind === "uint32" ? new Uint32() : kind === "int64" ? new Int64() : new Uint64();
      children.push(makeData({ type, length, data: view(this.channels[c] as ChannelColumn) }));
    }
    return children;
  }

  clear(): void {
    this.length = 0;
    this.nulls = 0;
  }

  /** The same rows in arrays of `capacity` rows. */
  grown(capacity: number): SampleRows {
    const next = new SampleRows(capacity, this.storage, this.maskWidth);
    const n = this.length;
    next.tNs.set(this.tNs.subarray(0, n));
    next.phase.set(this.phase.subarray(0, n));
    next.run.set(this.run.subarray(0, n));
    next.runValid.set(this.runValid.subarray(0, n));
    next.latenessNs.set(this.latenessNs.subarray(0, n));
    next.readNs.set(this.readNs.subarray(0, n));
    next.readMask.set(this.readMask.subarray(0, n));
    for (let c = 0; c < this.channels.length; c++) {
      const from = this.channels[c] as ChannelColumn;
      const to = next.channels[c] as ChannelColumn;
      // Same element type on both sides.
      (to as Uint32Array).set((from as Uint32Array).subarray(0, n));
    }
    next.length = n;
    next.nulls = this.nulls;
    return next;
  }
}

/** Arrow's validity bitmap (bit i of byte i >> 3, least significant first) of the first `length` flags. */
function packBits(flags: Uint8Array, length: number): Uint8Array {
  const bits = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) if (flags[i]) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
  return bits;
}

export class SamplesWriter {
  readonly schema: Schema;
  readonly path: string;
  readonly journalPath: string;
  private readonly writer = new BlockWriter();
  private readonly channelCount: number;
  private readonly batchTicks: number;
  private readonly storage: ChannelStorage[];
  private readonly maskWidth: 1 | 2 | 4;
  private rows: SampleRows;
  private mainFd: number | null = null;
  private journalFd: number | null = null;
  private journalBytes = 0;
  /** End of the record batches in samples.arrow; its footer starts here. */
  private committedEnd = 0;
  private committed = 0;
  private pending = 0;
  /** The footer written at the last commit, from committedEnd: put back if a write fails. */
  private committedFooter: Uint8Array = new Uint8Array(0);
  /** The write error that ended this writer; nothing is written after it. */
  private failure: unknown;
  /** The file was put back as of the last commit after the failure. */
  private rolledBack = false;

  /** Creates (or replaces) `path` as an empty, complete Arrow file; a WriteError when it cannot. */
  constructor(
    path: string,
    channels: readonly SamplerChannelInfo[],
    provenance: unknown,
    options: SamplesWriterOptions = {},
  ) {
    this.path = path;
    this.journalPath = join(dirname(path), `.${basename(path)}.journal`);
    this.schema = samplesSchema(channels, provenance);
    this.channelCount = channels.length;
    const defaultTicks = Math.min(DEFAULT_BATCH_TICKS, Math.floor(DEFAULT_BATCH_BYTES / rowBytes(channels)));
    this.batchTicks = Math.max(1, Math.floor(options.batchTicks ?? defaultTicks));
    this.storage = channels.map(channelStorage);
    this.maskWidth = maskBytes(channels);
    // Sized for what a batch holds; a larger single append grows it to that append's size.
    this.rows = new SampleRows(Math.min(this.batchTicks, 4096), this.storage, this.maskWidth);
    try {
      this.mainFd = openSync(path, "w+", 0o644);
      this.journalFd = openSync(this.journalPath, "w+", 0o644);
      this.writer.start(this.schema);
      this.flushToJournal();
      this.commit();
      fsyncDir(dirname(path));
    } catch (error) {
      this.failure = toWriteError(error, path);
      this.rolledBack = true; // nothing was committed: no journal is worth keeping
      this.closeFiles();
      throw this.failure;
    }
  }

  /** The write error that stopped this writer, if one did. */
  get failed(): unknown {
    return this.failure;
  }

  /** Ticks in samples.arrow as of the last commit. */
  get committedTicks(): number {
    return this.committed;
  }

  /** Ticks appended since the last commit (in the journal, or gathered for the next batch). */
  get pendingTicks(): number {
    return this.pending;
  }

  /** Appends a drained batch: its rows are copied into the batch being gathered. */
  append(batch: TickBatch, phase: Phase, run: number | null): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.journalFd === null) throw new Error("SamplesWriter is closed");
    const raw = batch.raw;
    if (raw.ticks === 0) return;
    if (raw.channels !== this.channelCount) {
      throw new Error(`batch has ${raw.channels} channels, the schema ${this.channelCount}`);
    }
    const phaseCode = PHASES.indexOf(phase);
    if (phaseCode < 0) throw new Error(`unknown phase ${phase}`);
    try {
      this.gather(batch, phaseCode, run);
    } catch (error) {
      throw this.fail(error);
    }
  }

  private gather(batch: TickBatch, phaseCode: number, run: number | null): void {
    const raw = batch.raw;
    const needed = this.rows.length + raw.ticks;
    if (needed > this.rows.capacity) {
      if (needed <= this.batchTicks) {
        // Doubling up to batchTicks, so a writer at 1 kHz does not hold a full batch's arrays.
        this.rows = this.rows.grown(Math.min(this.batchTicks, Math.max(needed, this.rows.capacity * 2)));
      } else {
        this.flushRows();
        // At most the largest single append, which the drained batch already is in memory.
        if (raw.ticks > this.rows.capacity) this.rows = this.rows.grown(raw.ticks);
      }
    }
    this.rows.add(batch, 0, raw.ticks, phaseCode, run);
    this.pending += raw.ticks;
    if (this.rows.length >= this.batchTicks) this.flushRows();
  }

  /**
   * Makes everything appended so far part of samples.arrow; call it at the end of every run. A
   * failed write puts the file back as of the previous commit and throws a WriteError.
   */
  commit(): void {
    if (this.failure !== undefined) throw this.failure;
    try {
      this.copyJournal();
    } catch (error) {
      throw this.fail(error);
    }
  }

  private copyJournal(): void {
    const mainFd = this.mainFd;
    const journalFd = this.journalFd;
    if (mainFd === null || journalFd === null) throw new Error("SamplesWriter is closed");
    // The rows still gathered go straight to samples.arrow after the journal's batches: a run
    // shorter than batchTicks is written once, not to the journal and then copied.
    const last = this.serializeRows();
    // The journal's bytes carry the offsets they have here, right after the committed batches.
    const buffer = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, Math.max(this.journalBytes, 1)));
    for (let done = 0; done < this.journalBytes; ) {
      const got = readSync(journalFd, buffer, 0, Math.min(buffer.byteLength, this.journalBytes - done), done);
      if (got === 0) throw new Error(`journal ${this.journalPath} is shorter than written`);
      writeAllSync(mainFd, buffer.subarray(0, got), this.committedEnd + done);
      done += got;
    }
    const dataEnd =
      this.committedEnd +
      this.journalBytes +
      writeChunks(mainFd, last, this.committedEnd + this.journalBytes);
    if (dataEnd !== this.writer.position)
      throw new Error("samples.arrow offsets out of step with its journal");
    this.writer.writeFooter(this.schema);
    const footer = this.writer.take();
    const footerBytes = Buffer.concat(footer.chunks);
    writeAllSync(mainFd, footerBytes, dataEnd);
    ftruncateSync(mainFd, dataEnd + footer.bytes);
    fsyncSync(mainFd);
    this.committedFooter = footerBytes;
    // The next batches overwrite this footer.
    this.writer.position = dataEnd;
    this.committedEnd = dataEnd;
    ftruncateSync(journalFd, 0);
    this.journalBytes = 0;
    this.committed += this.pending;
    this.pending = 0;
  }

  /**
   * Commits what is pending and closes both files; the journal is removed. After a write error it
   * only closes them (the file is as of the last commit). Idempotent.
   */
  close(): void {
    try {
      if (this.failure === undefined && this.mainFd !== null && this.journalFd !== null) this.commit();
    } finally {
      this.closeFiles();
    }
  }

  private closeFiles(): void {
    if (this.mainFd !== null) closeSync(this.mainFd);
    if (this.journalFd !== null) closeSync(this.journalFd);
    this.mainFd = null;
    this.journalFd = null;
    // After a failure the journal goes only once the file was put back; else recoverSamples needs it.
    if (this.failure === undefined || this.rolledBack) rmSync(this.journalPath, { force: true });
  }

  /**
   * Stops the writer on a failed write: the run in progress is dropped (emptying the journal
   * frees its space) and samples.arrow cut back to the last commit with that commit's footer, so
   * it stays a complete file of every committed run. Returns the error as a WriteError.
   */
  private fail(error: unknown): unknown {
    this.failure = toWriteError(error, this.path);
    const mainFd = this.mainFd;
    const journalFd = this.journalFd;
    if (mainFd !== null && journalFd !== null) {
      try {
        ftruncateSync(journalFd, 0);
        ftruncateSync(mainFd, this.committedEnd);
        writeAllSync(mainFd, this.committedFooter, this.committedEnd);
        fsyncSync(mainFd);
        this.rolledBack = true;
      } catch {
        // Left for recoverSamples, which emp report, plot and resume run on a torn file.
      }
    }
    return this.failure;
  }

  private flushToJournal(): void {
    if (this.journalFd === null) return;
    const { chunks } = this.writer.take();
    this.journalBytes += writeChunks(this.journalFd, chunks, this.journalBytes);
  }

  /** Writes the gathered rows as one record batch to the journal. */
  private flushRows(): void {
    if (this.rows.length === 0 || this.journalFd === null) return;
    const chunks = this.serializeRows();
    this.journalBytes += writeChunks(this.journalFd, chunks, this.journalBytes);
  }

  /** The gathered rows as one record batch's IPC message, laid out for its place in samples.arrow. */
  private serializeRows(): Uint8Array[] {
    if (this.rows.length === 0) return [];
    this.writer.write(this.rows.recordBatch(this.schema));
    const { chunks } = this.writer.take();
    // The chunks are views of the gathered arrays: the caller writes them before the next append.
    this.rows.clear();
    return chunks;
  }
}

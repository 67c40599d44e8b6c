// samples.arrow: every drained tick with its phase and run and each channel's raw value, written
// so that a crash or Ctrl-C loses at most the run in progress.
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
  Float64,
  Int8,
  Int32,
  Int64,
  Message,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  type TypeMap,
  Uint32,
  Uint64,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import type { ArrayBufferViewInput } from "apache-arrow/util/buffer";
import type { SamplerChannelInfo } from "../native.js";
import type { TickBatch } from "../sampling/sampler.js";
import { fsyncDir, writeAllSync } from "./atomic.js";

export type Phase = "baseline" | "warmup" | "run" | "cooldown" | "post-baseline";

/** The phase dictionary, fixed so that it is written once and codes are stable across files. */
export const PHASES: readonly Phase[] = ["baseline", "warmup", "run", "cooldown", "post-baseline"];

const PHASE_DICTIONARY_ID = 0;
const phaseType = new Dictionary(new Utf8(), new Int8(), PHASE_DICTIONARY_ID, false);
const phaseDictionary = vectorFromArray([...PHASES], new Utf8());

/** Column name of a channel's raw values. */
export function channelColumn(channel: Pick<SamplerChannelInfo, "source" | "name">): string {
  return `${channel.source}/${channel.name}`;
}

/** The schema of samples.arrow for these channels; `provenance` goes into its metadata as JSON. */
export function samplesSchema(channels: readonly SamplerChannelInfo[], provenance: unknown): Schema {
  const fields: Field[] = [
    new Field("t_ns", new Int64(), false, new Map([["unit", "ns"]])),
    new Field("phase", phaseType, false),
    new Field("run", new Int32(), true),
    new Field("lateness_ns", new Float64(), false, new Map([["unit", "ns"]])),
    new Field("read_ns", new Float64(), false, new Map([["unit", "ns"]])),
    new Field("read_mask", new Uint32(), false, new Map([["bits", "source index"]])),
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
    fields.push(new Field(name, channel.signed ? new Int64() : new Uint64(), false, metadata));
  }
  return new Schema(
    fields,
    new Map([
      ["emp.table", "samples"],
      ["emp.provenance", JSON.stringify(provenance ?? null)],
    ]),
  );
}

/**
 * An Arrow file writer whose bytes are collected synchronously instead of going to its async
 * queue, and whose footer can be written without closing it.
 */
class BlockWriter extends RecordBatchFileWriter<TypeMap> {
  private chunks: Uint8Array[] = [];
  private chunkBytes = 0;

  protected override _write(chunk: ArrayBufferViewInput): this {
    if (!this._started || !ArrayBuffer.isView(chunk) || chunk.byteLength === 0) return this;
    this.chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.chunkBytes += chunk.byteLength;
    this._position += chunk.byteLength;
    return this;
  }

  /**
   * Magic, then the schema message the Arrow spec puts at the head of the embedded stream (the
   * JS file writer leaves it out), so the file up to its footer is also a readable stream.
   */
  start(schema: Schema): void {
    this.reset(undefined, schema);
    this._writeMessage(Message.from(schema));
  }

  /** Offset in the file of the next byte written. */
  get position(): number {
    return this._position;
  }

  set position(offset: number) {
    this._position = offset;
  }

  /** Appends EOS, footer, footer length and magic for the blocks written so far. */
  writeFooter(schema: Schema): void {
    this._writeFooter(schema);
  }

  take(): { chunks: Uint8Array[]; bytes: number } {
    const out = { chunks: this.chunks, bytes: this.chunkBytes };
    this.chunks = [];
    this.chunkBytes = 0;
    return out;
  }
}

function writeChunks(fd: number, chunks: readonly Uint8Array[], position: number): number {
  let at = position;
  for (const chunk of chunks) {
    writeAllSync(fd, chunk, at);
    at += chunk.byteLength;
  }
  return at - position;
}

const COPY_CHUNK_BYTES = 1 << 20;

export class SamplesWriter {
  readonly schema: Schema;
  readonly path: string;
  readonly journalPath: string;
  private readonly writer = new BlockWriter();
  private readonly channelCount: number;
  private readonly signed: boolean[];
  private mainFd: number | null;
  private journalFd: number | null;
  private journalBytes = 0;
  /** End of the record batches in samples.arrow; its footer starts here. */
  private committedEnd = 0;
  private committed = 0;
  private pending = 0;

  /** Creates (or replaces) `path` as an empty, complete Arrow file. */
  constructor(path: string, channels: readonly SamplerChannelInfo[], provenance: unknown) {
    this.path = path;
    this.journalPath = join(dirname(path), `.${basename(path)}.journal`);
    this.schema = samplesSchema(channels, provenance);
    this.channelCount = channels.length;
    this.signed = channels.map((c) => c.signed);
    this.mainFd = openSync(path, "w+", 0o644);
    this.journalFd = openSync(this.journalPath, "w+", 0o644);
    this.writer.start(this.schema);
    this.flushToJournal();
    this.commit();
    fsyncDir(dirname(path));
  }

  /** Ticks in samples.arrow as of the last commit. */
  get committedTicks(): number {
    return this.committed;
  }

  /** Ticks appended since the last commit (in the journal only). */
  get pendingTicks(): number {
    return this.pending;
  }

  /** Appends a drained batch; its typed arrays are written as they are (no copy). */
  append(batch: TickBatch, phase: Phase, run: number | null): void {
    if (this.journalFd === null) throw new Error("SamplesWriter is closed");
    const raw = batch.raw;
    if (raw.ticks === 0) return;
    if (raw.channels !== this.channelCount) {
      throw new Error(`batch has ${raw.channels} channels, the schema ${this.channelCount}`);
    }
    const phaseCode = PHASES.indexOf(phase);
    if (phaseCode < 0) throw new Error(`unknown phase ${phase}`);
    this.writer.write(this.recordBatch(batch, phaseCode, run));
    this.flushToJournal();
    this.pending += raw.ticks;
  }

  /** Makes everything appended so far part of samples.arrow; call it at the end of every run. */
  commit(): void {
    const mainFd = this.mainFd;
    const journalFd = this.journalFd;
    if (mainFd === null || journalFd === null) throw new Error("SamplesWriter is closed");
    // The journal's bytes carry the offsets they have here, right after the committed batches.
    const buffer = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, Math.max(this.journalBytes, 1)));
    for (let done = 0; done < this.journalBytes; ) {
      const got = readSync(journalFd, buffer, 0, Math.min(buffer.byteLength, this.journalBytes - done), done);
      if (got === 0) throw new Error(`journal ${this.journalPath} is shorter than written`);
      writeAllSync(mainFd, buffer.subarray(0, got), this.committedEnd + done);
      done += got;
    }
    const dataEnd = this.committedEnd + this.journalBytes;
    if (dataEnd !== this.writer.position)
      throw new Error("samples.arrow offsets out of step with its journal");
    this.writer.writeFooter(this.schema);
    const footer = this.writer.take();
    writeChunks(mainFd, footer.chunks, dataEnd);
    ftruncateSync(mainFd, dataEnd + footer.bytes);
    fsyncSync(mainFd);
    // The next batches overwrite this footer.
    this.writer.position = dataEnd;
    this.committedEnd = dataEnd;
    ftruncateSync(journalFd, 0);
    this.journalBytes = 0;
    this.committed += this.pending;
    this.pending = 0;
  }

  /** Commits what is pending and closes both files; the journal is removed. Idempotent. */
  close(): void {
    if (this.mainFd === null || this.journalFd === null) return;
    this.commit();
    closeSync(this.mainFd);
    closeSync(this.journalFd);
    this.mainFd = null;
    this.journalFd = null;
    rmSync(this.journalPath, { force: true });
  }

  private flushToJournal(): void {
    if (this.journalFd === null) return;
    const { chunks } = this.writer.take();
    this.journalBytes += writeChunks(this.journalFd, chunks, this.journalBytes);
  }

  private recordBatch(batch: TickBatch, phaseCode: number, run: number | null): RecordBatch {
    const raw = batch.raw;
    const length = raw.ticks;
    const runData =
      run === null
        ? makeData({
            type: new Int32(),
            length,
            nullCount: length,
            nullBitmap: new Uint8Array((length + 7) >> 3),
            data: new Int32Array(length),
          })
        : makeData({ type: new Int32(), length, nullCount: 0, data: new Int32Array(length).fill(run) });
    const children: Data[] = [
      makeData({ type: new Int64(), length, data: raw.tNs }),
      makeData({
        type: phaseType,
        length,
        data: new Int8Array(length).fill(phaseCode),
        dictionary: phaseDictionary,
      }),
      runData,
      makeData({ type: new Float64(), length, data: raw.latenessNs }),
      makeData({ type: new Float64(), length, data: raw.readNs }),
      makeData({ type: new Uint32(), length, data: raw.readMask }),
    ];
    for (let c = 0; c < this.channelCount; c++) {
      const values = batch.rawChannel(c);
      children.push(
        this.signed[c]
          ? makeData({
              type: new Int64(),
              length,
              data: new BigInt64Array(values.buffer, values.byteOffset, values.length),
            })
          : makeData({ type: new Uint64(), length, data: values }),
      );
    }
    const data = makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children });
    return new RecordBatch(this.schema, data);
  }
}

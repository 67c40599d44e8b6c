// Arrow IPC files written a piece at a time, for writers that keep a file complete after every
// commit: the messages of record batches as bytes laid out for their offset in the file, and the
// footer (with the end-of-stream marker, its length and the closing magic) for the blocks so far.
import {
  Message,
  MetadataVersion,
  type RecordBatch,
  RecordBatchFileWriter,
  type Schema,
  type TypeMap,
} from "apache-arrow";
import { FileBlock, Footer } from "apache-arrow/ipc/metadata/file";
import type { ArrayBufferViewInput } from "apache-arrow/util/buffer";
import { writeAllSync } from "./atomic.js";

/**
 * An Arrow file writer whose bytes are collected synchronously instead of going to its async
 * queue, and whose footer can be written without closing it.
 */
export class BlockWriter extends RecordBatchFileWriter<TypeMap> {
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

  /**
   * One record batch's message laid out for the current position, and its block; unlike write(),
   * the batch is not listed in this writer's footer (the caller keeps its own list of blocks).
   */
  writeRecordBatch(batch: RecordBatch): { chunks: Uint8Array[]; block: FileBlock } {
    this.write(batch);
    const block = this._recordBatchBlocks.pop();
    const { chunks, bytes } = this.take();
    if (block === undefined || bytes !== block.metaDataLength + block.bodyLength)
      throw new Error("the Arrow writer's block does not match the bytes it wrote");
    return { chunks, block };
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

/** The end of an Arrow file listing `recordBatches`: EOS, the footer, its length and the magic. */
export function fileTail(
  schema: Schema,
  recordBatches: readonly FileBlock[],
  dictionaryBatches: readonly FileBlock[] = [],
): Uint8Array {
  const footer = Footer.encode(
    new Footer(schema, MetadataVersion.V5, [...recordBatches], [...dictionaryBatches]),
  );
  return Buffer.concat([
    new Uint8Array(Int32Array.of(-1, 0).buffer),
    footer,
    new Uint8Array(Int32Array.of(footer.byteLength).buffer),
    Buffer.from("ARROW1"),
  ]);
}

/** Writes `chunks` one after another from `position`; returns the bytes written. */
export function writeChunks(fd: number, chunks: readonly Uint8Array[], position: number): number {
  let at = position;
  for (const chunk of chunks) {
    writeAllSync(fd, chunk, at);
    at += chunk.byteLength;
  }
  return at - position;
}

export { FileBlock };

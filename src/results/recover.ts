// Salvage after a crash: rebuilds samples.arrow's footer from the messages that reached the disk,
// and appends the complete batches of the run that was in progress from its journal.
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Message, MessageHeader, type Schema } from "apache-arrow";
import { writeAllSync } from "./atomic.js";
import { FileBlock, fileTail } from "./ipc-file.js";

interface ScannedMessage {
  offset: number;
  /** Continuation marker, length prefix, flatbuffer and padding. */
  metaDataLength: number;
  bodyLength: number;
  type: MessageHeader;
}

/** The complete IPC messages in `bytes` from `start`, up to an end-of-stream marker or a torn one. */
function scanMessages(
  bytes: Uint8Array,
  start: number,
): { messages: ScannedMessage[]; schema: Schema | null } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messages: ScannedMessage[] = [];
  let schema: Schema | null = null;
  let at = start;
  while (at + 8 <= bytes.byteLength && view.getInt32(at, true) === -1) {
    const length = view.getInt32(at + 4, true);
    const metaEnd = at + 8 + length;
    if (length <= 0 || metaEnd > bytes.byteLength) break;
    let message: Message;
    try {
      message = Message.decode(bytes.subarray(at + 8, metaEnd));
    } catch {
      break;
    }
    const end = metaEnd + message.bodyLength;
    if (end > bytes.byteLength) break;
    if (message.headerType === MessageHeader.Schema)
      schema = (message as Message<MessageHeader.Schema>).header();
    else
      messages.push({
        offset: at,
        metaDataLength: 8 + length,
        bodyLength: message.bodyLength,
        type: message.headerType,
      });
    at = end;
  }
  return { messages, schema };
}

const end = (m: ScannedMessage) => m.offset + m.metaDataLength + m.bodyLength;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

export interface Recovery {
  /** Record batches in the rebuilt file. */
  batches: number;
  /** Of those, taken from the journal of the run in progress. */
  fromJournal: number;
}

/**
 * Makes `path` (a samples.arrow left by a crash) a complete Arrow file again, with every batch
 * that reached the disk whole, the run in progress included; removes its journal. Rewrites only
 * the tail of the file.
 */
export function recoverSamples(path: string): Recovery {
  const journalPath = join(dirname(path), `.${basename(path)}.journal`);
  const bytes = readFileSync(path);
  const main = scanMessages(bytes, 8);
  if (main.schema === null)
    throw new Error(`${path} has no schema message; it is not a samples file emp wrote`);
  const journal = existsSync(journalPath) ? readFileSync(journalPath) : new Uint8Array(0);
  const fromJournal = scanMessages(journal, 0).messages;

  // A crash inside commit() leaves a prefix of the journal copied after the committed batches;
  // those copies are dropped and the journal appended whole instead.
  let base = main.messages.length > 0 ? end(main.messages[main.messages.length - 1] as ScannedMessage) : -1;
  let kept = main.messages;
  const first = fromJournal[0];
  if (first !== undefined) {
    const firstBytes = journal.subarray(0, end(first));
    const copied = main.messages.findIndex((m) => sameBytes(bytes.subarray(m.offset, end(m)), firstBytes));
    if (copied >= 0) {
      kept = main.messages.slice(0, copied);
      base = (main.messages[copied] as ScannedMessage).offset;
    }
  }
  if (base < 0) {
    // No batch at all: the data starts right after the schema message.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    base = 8 + 8 + view.getInt32(12, true);
  }
  const journalEnd = fromJournal.length > 0 ? end(fromJournal[fromJournal.length - 1] as ScannedMessage) : 0;
  const appended = fromJournal.map((m) => ({ ...m, offset: m.offset + base }));
  const all = [...kept, ...appended];
  const block = (m: ScannedMessage) => new FileBlock(m.metaDataLength, m.bodyLength, m.offset);
  const tail = Buffer.concat([
    journal.subarray(0, journalEnd),
    fileTail(
      main.schema,
      all.filter((m) => m.type === MessageHeader.RecordBatch).map(block),
      all.filter((m) => m.type === MessageHeader.DictionaryBatch).map(block),
    ),
  ]);
  const fd = openSync(path, "r+");
  try {
    writeAllSync(fd, tail, base);
    ftruncateSync(fd, base + tail.byteLength);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  rmSync(journalPath, { force: true });
  return {
    batches: all.filter((m) => m.type === MessageHeader.RecordBatch).length,
    fromJournal: fromJournal.filter((m) => m.type === MessageHeader.RecordBatch).length,
  };
}

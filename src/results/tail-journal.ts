// The end of a file replaced in place, so that a crash at any moment leaves either the file as it
// was or the file as it was meant to become, never a mix: runs.arrow's last record batch and its
// footer are rewritten after every run, and a rename of a fresh copy would cost the whole file.
//
// Before the file is touched, an undo record goes to a journal beside it (`.<name>.journal`) and
// is fsynced: where the new tail starts, the bytes it overwrites, and hashes of both old and new.
// Then the new tail is written, the file cut to its new length and fsynced, and the journal
// emptied (without an fsync: a record that survives a crash after its replacement completed is
// recognised by the new tail's hash, and dropped). So after a crash:
// - the journal is empty, or holds a record that is not whole (its hash fails): the file was not
//   touched since its last complete state;
// - the record is whole and the file ends with the new tail it describes: the replacement
//   completed; the record is dropped;
// - the record is whole and the file does not end so: the replacement was cut short, and the old
//   bytes are written back (that needs no more space than the file had before).
// The same undo runs at once when a write fails (a full disk): the file is back to its previous
// complete state before the error is passed on.
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { fsyncDir, writeAllSync } from "./atomic.js";

const MAGIC = Buffer.from("EMPUNDO1");
/** Magic, offset, old and new lengths (u64 each), SHA-256 of old and of new. */
const HEADER_BYTES = 8 + 3 * 8 + 2 * 32;

export function journalPathOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.journal`);
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}

export class TailJournal {
  readonly journalPath: string;
  private journalFd: number | null;

  /**
   * Opens (and empties) the journal of `path`. An empty journal is made durable before anything
   * else is written, so that a record left by an earlier writer of `path` can never be applied to
   * the file written next.
   */
  constructor(readonly path: string) {
    this.journalPath = journalPathOf(path);
    this.journalFd = openSync(this.journalPath, "w+", 0o644);
    fsyncSync(this.journalFd);
    fsyncDir(dirname(path));
  }

  /**
   * Replaces the bytes of the file open as `fd` from `offset` to its end (`oldTail`, as last
   * written) with `newTail`. On a failed write the old tail is put back, then the error thrown.
   */
  replace(fd: number, offset: number, oldTail: Uint8Array, newTail: Uint8Array): void {
    const journalFd = this.journalFd;
    if (journalFd === null) throw new Error(`the journal of ${this.path} is closed`);
    try {
      ftruncateSync(journalFd, 0);
      writeAllSync(journalFd, undoRecord(offset, oldTail, newTail), 0);
      fsyncSync(journalFd);
    } catch (error) {
      // The file is untouched; the incomplete record is dropped (which frees its space).
      emptyQuietly(journalFd);
      throw error;
    }
    try {
      writeAllSync(fd, newTail, offset);
      ftruncateSync(fd, offset + newTail.byteLength);
      fsyncSync(fd);
    } catch (error) {
      // Back to the last complete file: cut first, which frees the space the old tail needs.
      try {
        restore(fd, offset, oldTail);
        emptyQuietly(journalFd);
      } catch {
        // The record stays: recoverTail repairs the file later.
      }
      throw error;
    }
    ftruncateSync(journalFd, 0);
  }

  /** Closes and removes the journal; the file is complete. Idempotent. */
  close(): void {
    if (this.journalFd === null) return;
    closeSync(this.journalFd);
    this.journalFd = null;
    rmSync(this.journalPath, { force: true });
  }
}

/** The journal's record of a replacement of the tail from `offset`: header, then the old bytes. */
export function undoRecord(offset: number, oldTail: Uint8Array, newTail: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeBigUInt64LE(BigInt(offset), 8);
  header.writeBigUInt64LE(BigInt(oldTail.byteLength), 16);
  header.writeBigUInt64LE(BigInt(newTail.byteLength), 24);
  sha256(oldTail).copy(header, 32);
  sha256(newTail).copy(header, 64);
  return Buffer.concat([header, oldTail]);
}

function emptyQuietly(fd: number): void {
  try {
    ftruncateSync(fd, 0);
  } catch {
    // a truncation does not fail for want of space; anything else, recoverTail sorts out later
  }
}

function restore(fd: number, offset: number, oldTail: Uint8Array): void {
  ftruncateSync(fd, offset);
  writeAllSync(fd, oldTail, offset);
  ftruncateSync(fd, offset + oldTail.byteLength);
  fsyncSync(fd);
}

/** What recoverTail found. */
export type TailRecovery = "none" | "completed" | "undone";

/** Whether `path` has a journal with a record in it (a replacement that may not have finished). */
export function tailPending(path: string): boolean {
  const journal = journalPathOf(path);
  return existsSync(journal) && statSync(journal).size > 0;
}

/**
 * After a crash: makes `path` whole again from its journal (see the top of this file) and removes
 * the journal. "undone": a replacement was cut short and the file is as it was before it.
 */
export function recoverTail(path: string): TailRecovery {
  const journalPath = journalPathOf(path);
  if (!existsSync(journalPath)) return "none";
  const journal = readFileSync(journalPath);
  const record = parseRecord(journal);
  let outcome: TailRecovery = "none";
  if (record !== undefined) {
    const fd = openSync(path, "r+");
    try {
      const size = fstatSync(fd).size;
      const newEnd = record.offset + record.newLength;
      let complete = false;
      if (size === newEnd) {
        const tail = Buffer.alloc(record.newLength);
        readSync(fd, tail, 0, record.newLength, record.offset);
        complete = sha256(tail).equals(record.newHash);
      }
      if (!complete) {
        restore(fd, record.offset, record.oldTail);
        outcome = "undone";
      } else {
        outcome = "completed";
      }
    } finally {
      closeSync(fd);
    }
  }
  rmSync(journalPath, { force: true });
  return outcome;
}

interface UndoRecord {
  offset: number;
  newLength: number;
  newHash: Buffer;
  oldTail: Buffer;
}

/** The record in a journal, or undefined where it is empty or was not written whole. */
function parseRecord(journal: Buffer): UndoRecord | undefined {
  if (journal.byteLength < HEADER_BYTES || !journal.subarray(0, 8).equals(MAGIC)) return undefined;
  const offset = Number(journal.readBigUInt64LE(8));
  const oldLength = Number(journal.readBigUInt64LE(16));
  const newLength = Number(journal.readBigUInt64LE(24));
  const oldTail = journal.subarray(HEADER_BYTES, HEADER_BYTES + oldLength);
  if (oldTail.byteLength !== oldLength || !sha256(oldTail).equals(journal.subarray(32, 64))) return undefined;
  return { offset, newLength, newHash: journal.subarray(64, 96), oldTail };
}

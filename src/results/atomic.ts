// Whole-file writes that a crash can never leave half done: a temporary file in the same
// directory, fsynced, then renamed over the target (rename is atomic within a file system).
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { toWriteError } from "./write-error.js";

/** Writes all of `chunk` at `position` (or the current offset), looping over short writes. */
export function writeAllSync(fd: number, chunk: Uint8Array, position: number | null = null): void {
  let done = 0;
  while (done < chunk.byteLength) {
    const at = position === null ? null : position + done;
    done += writeSync(fd, chunk, done, chunk.byteLength - done, at);
  }
}

/** Fsyncs a directory so that a rename in it survives a power cut. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` with `data` atomically: readers see the old file or the new one, never a mix.
 * A failed write (a full disk) leaves the old file and throws a WriteError naming `path`.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  try {
    replaceFile(path, data);
  } catch (error) {
    throw toWriteError(error, path);
  }
}

function replaceFile(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const fd = openSync(temp, "wx", 0o644);
  try {
    writeAllSync(fd, bytes);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  fsyncDir(dir);
}

/** `manifest.json` and other small documents: pretty JSON (bigints as decimal strings), written atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
  writeFileAtomic(path, `${json}\n`);
}

// Reading an Arrow IPC file emp wrote, with one typed error when it cannot be read: "<path> is
// damaged", what is wrong with it in words, and the fix the caller knows.
import { readFileSync } from "node:fs";
import { type Table, tableFromIPC } from "apache-arrow";
import { EmpError } from "../errors.js";

const MAGIC = Buffer.from("ARROW1");

export function readArrowTable(path: string, suggestion: string): Table {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new EmpError("E_IO", `cannot read ${path}: ${(error as Error).message}`, { path, cause: error });
  }
  const damaged = (why: string, cause?: unknown) =>
    new EmpError("E_IO", `${path} is damaged: ${why}`, { path, cause, suggestion });
  // emp writes the file format, magic at both ends; a reader given anything else would make up
  // an empty table, or fail on a null deep inside.
  if (bytes.byteLength < 2 * MAGIC.byteLength || !bytes.subarray(0, MAGIC.byteLength).equals(MAGIC))
    throw damaged(`it is not an Arrow file (${bytes.byteLength} bytes, no Arrow magic at its start)`);
  if (!bytes.subarray(bytes.byteLength - MAGIC.byteLength).equals(MAGIC))
    throw damaged(
      `it ends without its Arrow footer (${bytes.byteLength} bytes): it was cut short, by a crash, a full disk or a copy`,
    );
  try {
    return tableFromIPC(bytes);
  } catch (error) {
    throw damaged("its footer or one of its record batches cannot be decoded", error);
  }
}

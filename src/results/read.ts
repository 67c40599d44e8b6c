// Reading an Arrow IPC file emp wrote, with one typed error (and the fix the caller knows) when it
// cannot be read.
import { readFileSync } from "node:fs";
import { type Table, tableFromIPC } from "apache-arrow";
import { EmpError } from "../errors.js";

export function readArrowTable(path: string, suggestion: string): Table {
  try {
    return tableFromIPC(readFileSync(path));
  } catch (error) {
    throw new EmpError("E_IO", `${path} is not a readable Arrow file: ${(error as Error).message}`, {
      path,
      cause: error,
      suggestion,
    });
  }
}

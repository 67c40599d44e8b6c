// Which files of a results folder make a session, so that none is replaced without being asked:
// an emp measure session (manifest.json, samples.arrow, runs.arrow, summary.json) or an emp run
// study (ledger.sqlite, with its runs.arrow, samples/, worktrees and logs).
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { RESERVE_FILE } from "./space-reserve.js";
import { journalPathOf } from "./tail-journal.js";

/** Any of these in a folder means it holds a session. */
const SESSION_MARKERS = ["manifest.json", "samples.arrow", "runs.arrow", "ledger.sqlite"];

/** An emp measure session's files, each journal before its file. */
const MEASURE_FILES = [
  journalPathOf("runs.arrow"),
  "runs.arrow",
  journalPathOf("samples.arrow"),
  "samples.arrow",
  "summary.json",
  "manifest.json",
  RESERVE_FILE,
];

export interface HeldSession {
  /** `study`: written by emp run (it has a ledger); `measure`: by emp measure. */
  kind: "measure" | "study";
  /** The files that show it, by name. */
  files: string[];
}

/** The session `dir` holds, if any. */
export function heldSession(dir: string): HeldSession | undefined {
  const files = SESSION_MARKERS.filter((name) => existsSync(join(dir, name)));
  if (files.length === 0) return undefined;
  return { kind: files.includes("ledger.sqlite") ? "study" : "measure", files };
}

/** Removes the files of an emp measure session from `dir`; returns the names removed. */
export function removeMeasureSession(dir: string): string[] {
  const removed: string[] = [];
  for (const name of MEASURE_FILES) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    rmSync(path, { force: true });
    removed.push(name);
  }
  return removed;
}

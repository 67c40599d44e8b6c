// What a crash or a failed write can leave half written in a results folder, made whole before the
// folder is read or written again: a samples file with the journal of the run in progress or
// without its footer (recoverSamples), and a runs.arrow whose last append did not finish
// (recoverTail). emp report, emp plot and emp run (so emp resume) call it; a folder another emp is
// writing is left alone, since its files are complete between its runs.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { DirectoryLock } from "./lock.js";
import { recoverSamples } from "./recover.js";
import { journalPathOf, recoverTail, tailPending } from "./tail-journal.js";

const MAGIC = "ARROW1";

/** Whether `path` ends with the Arrow file magic, as a file with its footer does. */
export function endsWithFooter(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (size < 2 * MAGIC.length) return false;
    const end = Buffer.alloc(MAGIC.length);
    readSync(fd, end, 0, MAGIC.length, size - MAGIC.length);
    return end.toString("latin1") === MAGIC;
  } finally {
    closeSync(fd);
  }
}

/** The samples files of a folder: emp measure's samples.arrow, a study's samples/<session>.arrow. */
function samplesFiles(dir: string): string[] {
  const files = [join(dir, "samples.arrow")];
  const perSession = join(dir, "samples");
  if (existsSync(perSession) && statSync(perSession).isDirectory()) {
    for (const name of readdirSync(perSession))
      if (name.endsWith(".arrow")) files.push(join(perSession, name));
  }
  return files.filter((path) => existsSync(path));
}

function samplesTorn(path: string): boolean {
  const journal = journalPathOf(path);
  return (existsSync(journal) && statSync(journal).size > 0) || !endsWithFooter(path);
}

/**
 * Repairs what `dir` holds half written; returns a line per file repaired, for a person. With
 * `locked` the caller holds the folder's lock already; otherwise it is taken for the repair, and
 * nothing is done while another emp holds it or where the folder cannot be written (its files
 * are then read as they are, and a torn one reported as damaged).
 */
export function repairResults(dir: string, options: { locked?: boolean } = {}): string[] {
  const samples = samplesFiles(dir).filter(samplesTorn);
  const runs = join(dir, "runs.arrow");
  const runsPending = tailPending(runs);
  if (samples.length === 0 && !runsPending) return [];
  let lock: DirectoryLock | undefined;
  if (!options.locked) {
    if (DirectoryLock.owner(dir) !== undefined) return [];
    try {
      lock = DirectoryLock.acquire(dir);
    } catch {
      return []; // read-only, or taken just now
    }
  }
  const repaired: string[] = [];
  try {
    if (runsPending) {
      try {
        if (recoverTail(runs) === "undone")
          repaired.push(`${runs}: its last append was cut short; it holds the runs before that one again`);
      } catch {
        // no runs.arrow beside its journal, or not writable: reading it says what is wrong
      }
    }
    for (const path of samples) {
      try {
        const recovery = recoverSamples(path);
        repaired.push(
          `${path}: repaired after a crash or a failed write (${recovery.batches} record batches, ${recovery.fromJournal} of them from the run in progress)`,
        );
      } catch {
        // not a samples file emp can repair: reading it says it is damaged
      }
    }
  } finally {
    lock?.release();
  }
  return repaired;
}

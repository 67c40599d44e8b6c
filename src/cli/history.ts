// `emp history DIR [--json]`: what the ledger of an `emp run` results directory holds, across
// sessions: sessions (time spent, failures), commits with their build and runs, runs whose command
// failed and failed stages with error and log.

import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Command } from "commander";
import { z } from "zod";
import { UsageError } from "../errors.js";
import { buildHistory, formatHistory } from "../ledger/history.js";
import { LEDGER_FILE, Ledger } from "../ledger/ledger.js";
import { summaryOf } from "./commands.js";
import { parseOptions } from "./options.js";

const optionsSchema = z.object({
  dir: z.string().min(1, "DIR is empty: give the results directory of an `emp run`"),
  json: z.boolean().default(false),
});

export type HistoryOptions = z.output<typeof optionsSchema>;

export function parseHistoryOptions(dir: string, raw: unknown): HistoryOptions {
  return parseOptions(optionsSchema, { ...(raw as object), dir }, "history");
}

/** The folders right under `dir` that hold a ledger: a person often passes emp-results/ itself. */
function ledgersBelow(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, LEDGER_FILE)))
      .map((entry) => join(dir, entry.name))
      .sort();
  } catch {
    return [];
  }
}

/** The results directory to read: DIR, or the folder of DIR when it names the ledger file. */
function locateLedger(dir: string): string {
  if (existsSync(dir) && statSync(dir).isFile() && basename(dir) === LEDGER_FILE) return dirname(dir);
  if (existsSync(join(dir, LEDGER_FILE))) return dir;
  const below = ledgersBelow(dir).slice(0, 3);
  throw new UsageError(`no ledger in ${dir}${existsSync(dir) ? "" : " (no such directory)"}`, {
    path: join(dir, LEDGER_FILE),
    suggestion:
      below.length > 0
        ? `give one of the results directories in it: ${below.map((d) => `\`emp history ${d}\``).join(", ")}`
        : "give the results directory of an `emp run` (the `out` of its config, by default emp-results/<config name>)",
  });
}

export function runHistory(options: HistoryOptions): void {
  // Read-only: looking at history never migrates or creates anything, even beside a running session.
  const ledger = Ledger.open(locateLedger(options.dir), { readOnly: true });
  try {
    const history = buildHistory(ledger);
    process.stdout.write(options.json ? `${JSON.stringify(history, null, 2)}\n` : formatHistory(history));
  } finally {
    ledger.close();
  }
}

export function historyCommand(): Command {
  return new Command("history")
    .description(summaryOf("history"))
    .argument("<dir>", "results directory of an `emp run` (the one holding ledger.sqlite)")
    .option("--json", "print one JSON object { sessions, commits, failed_runs, failures } on stdout")
    .action((dir: string, raw: unknown) => runHistory(parseHistoryOptions(dir, raw)));
}

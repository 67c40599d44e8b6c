// `emp resume DIR`: continues the study of a session directory (interrupted, failed, or with runs
// added to it) with exactly the config its last session ran, resolved then and stored in the ledger.

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command } from "commander";
import type { ResolvedStudy } from "../config/resolve.js";
import { UsageError } from "../errors.js";
import { Ledger } from "../ledger/ledger.js";
import { MERGE_FILE } from "../pipeline/merge.js";
import { summaryOf } from "./commands.js";
import { runResolvedStudy } from "./run.js";

/** The study the directory's last session ran, pointed at `dir` (it may have moved since). */
export function storedStudy(dir: string): ResolvedStudy {
  const out = resolve(dir);
  if (!existsSync(join(out, "ledger.sqlite"))) {
    throw new UsageError(`no emp run session in ${out} (no ledger.sqlite)`, {
      suggestion: "give the --out directory of an `emp run`, or start one with `emp run CONFIG`",
      path: out,
    });
  }
  const ledger = Ledger.open(out);
  try {
    const last = ledger.lastSession();
    if (last === undefined) {
      throw new UsageError(`${out} holds no session to resume`, {
        suggestion: "start one with `emp run CONFIG`",
      });
    }
    const study = last.config as ResolvedStudy;
    // The sessions of a merged directory ran its shards: resumed, it continues the whole study.
    const shard = existsSync(join(out, MERGE_FILE)) ? undefined : study.config.shard;
    return { ...study, config: { ...study.config, shard, out } };
  } finally {
    ledger.close();
  }
}

export function resumeCommand(): Command {
  return new Command("resume")
    .description(summaryOf("resume"))
    .argument("<dir>", "the session directory (the --out of `emp run`)")
    .option("--json", "print only the JSON summary on stdout")
    .action(async (dir: string, raw: { json?: boolean }) => {
      await runResolvedStudy(storedStudy(dir), raw.json === true);
    });
}

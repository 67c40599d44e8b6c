// `emp init [FILE] [--force]`: writes a commented starter study config, so that a first `emp run`
// starts from a file that already loads; never overwrites one without --force.

import { writeFileSync } from "node:fs";
import { extname } from "node:path";
import { Command } from "commander";
import { z } from "zod";
import { STARTER_CONFIG } from "../config/starter.js";
import { EmpError, UsageError } from "../errors.js";
import { writeFileAtomic } from "../results/atomic.js";
import { summaryOf } from "./commands.js";

export const DEFAULT_STUDY_FILE = "emp.yaml";

const optionsSchema = z.object({ force: z.boolean().default(false) });

export interface InitOptions {
  file: string;
  force: boolean;
}

export function parseInitOptions(file: string | undefined, raw: unknown): InitOptions {
  const o = optionsSchema.parse(raw);
  const target = file ?? DEFAULT_STUDY_FILE;
  // The starter's comments are its documentation; JSON would have to drop them.
  if (extname(target).toLowerCase() === ".json") {
    throw new UsageError(`emp init writes YAML with comments, not JSON: ${target}`, {
      suggestion: `name it .yaml: \`emp init ${target.replace(/\.json$/i, ".yaml")}\``,
    });
  }
  return { file: target, force: o.force };
}

export function runInit(options: InitOptions): void {
  try {
    // With --force the old file is replaced whole (atomically); without, "wx" refuses an existing
    // file in the same step that creates the new one, so no race can overwrite it.
    if (options.force) writeFileAtomic(options.file, STARTER_CONFIG);
    else writeFileSync(options.file, STARTER_CONFIG, { flag: "wx" });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      throw new UsageError(`${options.file} already exists`, {
        suggestion: `keep it and name another file (\`emp init study.yaml\`), or replace it with \`emp init ${options.file} --force\``,
      });
    }
    if (code === "ENOENT") {
      throw new UsageError(`cannot write ${options.file}: its folder does not exist`, {
        suggestion: "create the folder first, or name a file in an existing one",
      });
    }
    throw new EmpError("E_IO", `cannot write ${options.file}: ${(cause as Error).message}`, {
      path: options.file,
      cause,
    });
  }
  process.stdout.write(
    `wrote ${options.file}\nnext: set commits and command in it, then \`emp run ${options.file}\`\n`,
  );
}

export function initCommand(): Command {
  return new Command("init")
    .description(summaryOf("init"))
    .argument("[file]", `where to write it (default ${DEFAULT_STUDY_FILE})`)
    .option("--force", "overwrite FILE if it exists")
    .action((file: string | undefined, raw: unknown) => {
      runInit(parseInitOptions(file, raw));
    });
}

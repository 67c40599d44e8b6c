// Checks made before a measurement starts, so a mistake costs no baseline time: the command exists
// and can be run, the output directory can be written, and no other session is in it.
import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { DirectoryLock } from "../results/lock.js";
import { heldSession, removeMeasureSession } from "../results/session-files.js";

/**
 * The path the command resolves to, as execvp would find it; throws UsageError naming what is wrong
 * otherwise: empty, not found, a directory, not executable.
 */
export function resolveCommand(file: string, env: NodeJS.ProcessEnv = process.env): string {
  if (file.trim() === "") {
    throw new UsageError("the command to measure is empty", {
      suggestion: "put the command after --: `emp measure -- ./my-benchmark --quick`",
    });
  }
  const candidates = file.includes("/")
    ? [isAbsolute(file) ? file : resolve(file)]
    : (env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter).map((dir) => join(dir || ".", file));
  // What was found under the name but cannot be run, reported where nothing runnable is found.
  let directory: string | undefined;
  let notExecutable: string | undefined;
  for (const path of candidates) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(path);
    } catch {
      continue; // not here: try the next directory
    }
    if (stat.isDirectory()) {
      directory ??= path;
      continue;
    }
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      notExecutable ??= path;
    }
  }
  if (notExecutable !== undefined) {
    throw new UsageError(`not executable: ${notExecutable}`, {
      suggestion: `make it executable (chmod +x ${notExecutable}), or run it through its interpreter (sh ${file})`,
      path: notExecutable,
    });
  }
  if (directory !== undefined && file.includes("/")) {
    throw new UsageError(`${directory} is a directory, not a command`, {
      suggestion: "give the program inside it, for example ./bench/run",
      path: directory,
    });
  }
  throw new UsageError(`command not found: ${file}`, {
    suggestion: file.includes("/")
      ? `check that ${file} exists`
      : "check its spelling, or give its path (./bench), or add its directory to PATH",
  });
}

/** Creates `dir` (and its parents) and checks it can be written; throws UsageError otherwise. */
export function prepareOutputDir(dir: string): string {
  const full = resolve(dir);
  try {
    // One level at a time: Node's recursive mkdir spins forever under /proc (EPERM it keeps retrying).
    let path = "";
    for (const part of full.split("/").filter(Boolean)) {
      path = `${path}/${part}`;
      try {
        mkdirSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    }
    if (!statSync(full).isDirectory()) throw new Error("not a directory");
    accessSync(full, constants.W_OK);
  } catch (error) {
    throw new UsageError(`cannot write results to ${full}: ${(error as Error).message}`, {
      suggestion: "pass a writable directory with --out",
      path: full,
      cause: error,
    });
  }
  return full;
}

/**
 * Checks that `path` can be written (its folder exists and is writable, and it is not a folder),
 * before any measuring: an export that fails at the end would have cost the whole session.
 */
export function checkWritableFile(path: string, flag: string): void {
  const full = resolve(path);
  const fix = {
    suggestion: `give ${flag} a file in a folder that exists and that you can write`,
    path: full,
  };
  let folder: ReturnType<typeof statSync>;
  try {
    folder = statSync(dirname(full));
  } catch {
    throw new UsageError(`${flag} ${path}: no such folder ${dirname(full)}`, fix);
  }
  if (!folder.isDirectory()) throw new UsageError(`${flag} ${path}: ${dirname(full)} is not a folder`, fix);
  try {
    if (statSync(full).isDirectory()) throw new UsageError(`${flag} ${path} is a folder, not a file`, fix);
  } catch (error) {
    if (error instanceof UsageError) throw error;
  }
  try {
    accessSync(dirname(full), constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${path}: cannot write into ${dirname(full)}`, fix);
  }
}

/**
 * Takes the results folder `dir` for one emp measure session and returns its lock: exit 2 when
 * another emp is writing it, or when it holds an earlier session, which is never replaced unasked.
 * With `force` an earlier emp measure session is removed first, and `say` tells which files went.
 * An emp run study is never written into, --force or not.
 */
export function claimOutputDir(dir: string, force: boolean, say: (line: string) => void): DirectoryLock {
  const lock = DirectoryLock.acquire(dir);
  try {
    const held = heldSession(dir);
    if (held?.kind === "study") {
      throw new UsageError(
        `${dir} holds an emp run study (${held.files.join(", ")}); emp measure never writes into one`,
        {
          suggestion: "give emp measure a folder of its own with --out",
          path: dir,
        },
      );
    }
    if (held !== undefined && !force) {
      throw new UsageError(
        `${dir} already holds a session of emp measure or emp compare (${held.files.join(", ")})`,
        {
          suggestion: "pass --force to replace it, or give this measurement another --out",
          path: dir,
        },
      );
    }
    if (held !== undefined)
      say(`replacing the session in ${dir} (--force): removed ${removeMeasureSession(dir).join(", ")}`);
    return lock;
  } catch (error) {
    lock.release();
    throw error;
  }
}

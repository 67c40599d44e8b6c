// One emp process per results folder: two sessions writing the same files (an emp measure's
// runs.arrow and samples.arrow, or a study's ledger, runs.arrow and worktrees) would corrupt or
// replace each other's results. A lock file holds the owner's pid; a lock whose process is gone
// (killed, machine rebooted) is taken over. emp measure and emp run take the same lock.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { processAlive } from "../util/process.js";
import { toWriteError } from "./write-error.js";

export const LOCK_FILE = "emp.lock";

export class DirectoryLock {
  private constructor(private readonly path: string) {}

  static acquire(dir: string): DirectoryLock {
    const path = join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, "wx");
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new DirectoryLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw toWriteError(error, path);
      }
      const owner = DirectoryLock.owner(dir);
      if (owner !== undefined) {
        throw new UsageError(`${dir} is in use by another emp (pid ${owner})`, {
          suggestion: "wait for it to finish, or give this one another --out",
          path: dir,
        });
      }
      rmSync(path, { force: true }); // its owner is gone
    }
    throw new UsageError(`cannot lock ${dir}`, { suggestion: `remove ${path} if no emp is running`, path });
  }

  /** The pid of the live emp (not this process) holding `dir`, if any. */
  static owner(dir: string): number | undefined {
    let text: string;
    try {
      text = readFileSync(join(dir, LOCK_FILE), "utf8");
    } catch {
      return undefined; // no lock
    }
    const pid = Number.parseInt(text, 10);
    return Number.isInteger(pid) && pid !== process.pid && processAlive(pid) ? pid : undefined;
  }

  release(): void {
    rmSync(this.path, { force: true });
  }
}

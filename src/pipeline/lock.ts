// One emp process per session directory: two sessions writing the same ledger, runs.arrow and
// worktrees would corrupt each other's results. A lock file holds the owner's pid; a lock whose
// process is gone (killed, machine rebooted) is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { processAlive } from "../util/process.js";

/** The lock's file in the directory it locks. */
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
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const owner = Number.parseInt(readFileSync(path, "utf8"), 10);
      if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
        throw new UsageError(`${dir} is in use by another emp (pid ${owner})`, {
          suggestion: "wait for it to finish, or give this study another --out",
          path: dir,
        });
      }
      rmSync(path, { force: true }); // its owner is gone
    }
    throw new UsageError(`cannot lock ${dir}`, { suggestion: `remove ${path} if no emp is running`, path });
  }

  release(): void {
    rmSync(this.path, { force: true });
  }
}

// Disk space held back for the end of a session. When a write fails for want of space (a full
// disk, a quota), the run in progress is lost either way, but the session must still record that
// it failed and why: the manifest, summary.json and the ledger need a few pages each. Releasing
// this reserve is what makes room for them, however full the disk was when the failure came.
import { closeSync, fsyncSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeAllSync } from "./atomic.js";
import { toWriteError } from "./write-error.js";

/** Enough for a manifest, a bounded summary.json and the ledger's last transactions. */
export const RESERVE_BYTES = 256 * 1024;

export const RESERVE_FILE = ".emp-reserve";

export class SpaceReserve {
  private constructor(private readonly path: string) {}

  /** Writes the reserve into `dir`; a disk too full for it fails here, before anything is measured. */
  static hold(dir: string): SpaceReserve {
    const path = join(dir, RESERVE_FILE);
    try {
      const fd = openSync(path, "w", 0o600);
      try {
        // Written, not only sized: a sparse file would hold back nothing.
        writeAllSync(fd, new Uint8Array(RESERVE_BYTES));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      rmSync(path, { force: true });
      throw toWriteError(error, dir);
    }
    return new SpaceReserve(path);
  }

  /** Gives the space back to the disk. Idempotent. */
  release(): void {
    rmSync(this.path, { force: true });
  }
}

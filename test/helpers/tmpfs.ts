// A small tmpfs of its own for a test that fills a disk: mounting needs root (CI runs the tests as
// root); elsewhere the test is skipped with the reason printed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SmallDisk {
  path: string;
  remove(): void;
}

/** Mounts a tmpfs of `bytes` (rounded to pages); `skipped` says why when it cannot. */
function mountSmallDisk(bytes: number, options = ""): { disk?: SmallDisk; skipped: string } {
  const path = mkdtempSync(join(tmpdir(), "emp-small-disk-"));
  const mount = spawnSync(
    "mount",
    ["-t", "tmpfs", "-o", `size=${bytes}${options ? `,${options}` : ""}`, "tmpfs", path],
    {
      encoding: "utf8",
    },
  );
  if (mount.status !== 0) {
    rmSync(path, { recursive: true, force: true });
    const why = (mount.stderr || String(mount.error ?? `exit ${mount.status}`)).trim();
    return { skipped: `cannot mount a tmpfs (needs root): ${why}` };
  }
  return {
    skipped: "",
    disk: {
      path,
      remove: () => {
        spawnSync("umount", [path]);
        rmSync(path, { recursive: true, force: true });
      },
    },
  };
}

/** Why a tmpfs cannot be mounted here ("" when it can): mounts one and takes it away again. */
export function smallDiskUnavailable(): string {
  const { disk, skipped } = mountSmallDisk(64 * 1024);
  disk?.remove();
  return skipped;
}

/** Mounts a small disk, or throws where smallDiskUnavailable() said it could be mounted and now cannot. */
export function requireSmallDisk(bytes: number, options = ""): SmallDisk {
  const { disk, skipped } = mountSmallDisk(bytes, options);
  if (disk === undefined) throw new Error(skipped);
  return disk;
}

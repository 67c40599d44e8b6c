// A failed write of results (a full disk, a quota, a read-only or failing disk) as one WriteError
// that names the file, the disk it is on with its free space, and the fix, so that every writer of
// emp reports it the same way instead of a bare `ENOSPC`.
import { existsSync, readFileSync, realpathSync, statfsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { WriteError } from "../errors.js";

/** What `elsewhere` says by default: the results folder is what the commands writing results take. */
export const RESULTS_ELSEWHERE = "write the results to a folder on another disk (--out DIR)";

interface Failure {
  /** The failure in words; `disk` is the mount point with its type and free space. */
  what: (disk: string) => string;
  /** What to do on that disk. */
  fix: (mount: string) => string;
}

const FAILURES: Readonly<Record<string, Failure>> = {
  ENOSPC: { what: (disk) => `no space left on ${disk}`, fix: (mount) => `free space on ${mount}` },
  EDQUOT: {
    what: (disk) => `disk quota exceeded on ${disk}`,
    fix: (mount) => `free space within your quota on ${mount} (quota -s)`,
  },
  EROFS: {
    what: (disk) => `${disk} is mounted read-only`,
    fix: (mount) => `remount ${mount} read-write`,
  },
  EIO: {
    what: (disk) => `input/output error on ${disk}: the disk or its connection may be failing`,
    fix: (mount) => `check the disk of ${mount} (dmesg)`,
  },
  EFBIG: {
    what: (disk) => `the file grew past the largest file allowed on ${disk} or by \`ulimit -f\``,
    fix: () => "raise the file size limit (ulimit -f)",
  },
  EACCES: {
    what: () => "permission denied",
    fix: (mount) => `let this user write there (the permissions of the folder, on ${mount})`,
  },
};
/** The errno name of a failed write emp can explain, or undefined for any other error. */
export function writeFailureCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return undefined;
  if (code in FAILURES || code === "EPERM") return code;
  // better-sqlite3 (the ledger) reports SQLite's result codes rather than errno; SQLITE_IOERR
  // comes with extended codes (SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC, ...).
  if (code === "SQLITE_FULL") return "ENOSPC";
  if (code.startsWith("SQLITE_IOERR")) return "EIO";
  return undefined;
}

/**
 * `error` as a WriteError naming `path` when it is a failed write (ENOSPC, EDQUOT, EROFS, EIO,
 * EFBIG, EACCES, EPERM, SQLite's FULL and IOERR); anything else (and a WriteError) unchanged.
 */
export function toWriteError(error: unknown, path: string, elsewhere = RESULTS_ELSEWHERE): unknown {
  if (error instanceof WriteError) return error;
  const code = writeFailureCode(error);
  if (code === undefined) return error;
  const failure = FAILURES[code === "EPERM" ? "EACCES" : code] as Failure;
  const disk = diskOf(path);
  const described = disk === undefined ? "its disk" : describe(disk);
  const mount = disk?.mount ?? dirname(resolve(path));
  return new WriteError(
    `cannot write ${path}: ${failure.what(described)} (${code})`,
    code,
    failure.fix(mount),
    elsewhere,
    { path, errno: (error as NodeJS.ErrnoException).errno, cause: error },
  );
}

interface Disk {
  mount: string;
  type: string;
  freeBytes: number | null;
  sizeBytes: number | null;
}

/** The mount holding `path` (its nearest existing folder), from /proc/self/mountinfo. */
function diskOf(path: string): Disk | undefined {
  let at = resolve(path);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  let real: string;
  let mounts: string;
  try {
    real = realpathSync(at);
    mounts = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return undefined; // no /proc (or the path vanished): the message names the file alone
  }
  let best: { mount: string; type: string } | undefined;
  for (const line of mounts.split("\n")) {
    // id parent major:minor root MOUNT options [optional...] - TYPE source superoptions
    const fields = line.split(" ");
    const separator = fields.indexOf("-");
    const mount = unescapeMount(fields[4] ?? "");
    if (separator < 0 || mount === "") continue;
    const inside = mount === "/" || real === mount || real.startsWith(`${mount}/`);
    // The last of equal mount points is the one on top.
    if (inside && mount.length >= (best?.mount.length ?? 0))
      best = { mount, type: fields[separator + 1] ?? "?" };
  }
  if (best === undefined) return undefined;
  try {
    const stats = statfsSync(real);
    return { ...best, freeBytes: stats.bavail * stats.bsize, sizeBytes: stats.blocks * stats.bsize };
  } catch {
    return { ...best, freeBytes: null, sizeBytes: null };
  }
}

/** mountinfo writes a space, tab, newline and backslash in a path as octal escapes. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

function describe(disk: Disk): string {
  const space =
    disk.freeBytes === null || disk.sizeBytes === null
      ? ""
      : `, ${formatBytes(disk.freeBytes)} free of ${formatBytes(disk.sizeBytes)}`;
  return `${disk.mount} (${disk.type}${space})`;
}

/** "0 B", "4.0 KiB", "2.0 MiB", "80.3 GiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

// Detached worktrees of the mirror, one per commit, where builds and measured commands run: a
// worktree is only ever registered in emp's mirror, and a half-made one never appears at its path.
import { randomBytes } from "node:crypto";
import { readdir, readFile, realpath, rm, rmdir } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { git, runGit } from "./exec.js";

/** What the worktree functions need from the mirror. */
export interface WorktreeHost {
  /** Absolute path of the bare mirror. */
  readonly gitDir: string;
  /** Runs a task that writes to the mirror (worktree list, refs) while no other such task runs. */
  exclusive<T>(task: () => Promise<T>): Promise<T>;
  /** Makes sure the mirror holds these commits, fetching them from the source if not. */
  ensureCommits(shas: readonly string[]): Promise<void>;
}

type WorktreeState =
  | { kind: "absent" }
  /** A worktree of this mirror; `head` is undefined when git cannot read it (broken). */
  | { kind: "ours"; head: string | undefined }
  | { kind: "foreign" };

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** Marks a worktree still being checked out, beside the path it will be moved to when complete. */
const INCOMPLETE = ".emp-incomplete-";

async function realpathOr(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

/** What `dir` holds: nothing, a worktree of this mirror (at which commit), or something else. */
async function inspect(host: WorktreeHost, dir: string): Promise<WorktreeState> {
  let gitFile: string;
  try {
    gitFile = await readFile(join(dir, ".git"), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      try {
        return (await readdir(dir)).length === 0 ? { kind: "absent" } : { kind: "foreign" };
      } catch (readError) {
        // Nothing at `dir` yet; a file there is in the way and not ours.
        return (readError as NodeJS.ErrnoException).code === "ENOENT"
          ? { kind: "absent" }
          : { kind: "foreign" };
      }
    }
    // .git is a directory (a clone) or unreadable: not one of ours.
    return { kind: "foreign" };
  }
  // A linked worktree's .git is a file "gitdir: <mirror>/worktrees/<id>". It is read here rather
  // than through git, which would otherwise find an enclosing repository (the out folder often
  // lies inside the user's own repository).
  const admin = /^gitdir: (.+)$/m.exec(gitFile)?.[1]?.trim();
  if (!admin || !isAbsolute(admin)) return { kind: "foreign" };
  const owner = await realpathOr(dirname(dirname(admin)));
  if (basename(dirname(admin)) !== "worktrees" || owner !== (await realpathOr(host.gitDir))) {
    return { kind: "foreign" };
  }
  const head = await runGit(["-C", dir, "rev-parse", "--verify", "--quiet", "HEAD"], {
    okExitCodes: [1, 128],
  });
  return { kind: "ours", head: head.exitCode === 0 ? head.stdout.trim() : undefined };
}

function notOurs(dir: string): UsageError {
  return new UsageError(`${dir} exists and is not a worktree of emp's copy of the repository`, {
    suggestion: "move or delete it, or give the study another out folder",
    path: dir,
  });
}

/** Deletes a worktree folder and drops its registration; the caller holds the mirror's lock. */
async function discard(host: WorktreeHost, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  // prune drops registrations whose folder is gone, so the path can be added again.
  await git(["--git-dir", host.gitDir, "worktree", "prune"]);
}

/**
 * A detached worktree of `sha` at `dir`. A worktree already there at `sha` is kept as it is (with
 * its build outputs); one at another commit, or broken, is deleted and made again.
 */
export async function addWorktree(host: WorktreeHost, sha: string, dir: string): Promise<void> {
  if (!FULL_SHA.test(sha)) throw new TypeError(`addWorktree needs a full commit id, got "${sha}"`);
  const path = resolve(dir);
  const state = await inspect(host, path);
  if (state.kind === "ours" && state.head === sha) return;
  if (state.kind === "foreign") throw notOurs(path);
  await host.ensureCommits([sha]);

  const temp = `${path}${INCOMPLETE}${process.pid}-${randomBytes(4).toString("hex")}`;
  await host.exclusive(async () => {
    if (state.kind === "ours") await rm(path, { recursive: true, force: true });
    else await rmdir(path).catch(() => undefined); // an empty folder would make `worktree move` move into it
    await removeIncomplete(path);
    await git(["--git-dir", host.gitDir, "worktree", "prune"]);
    // --no-checkout: registering is quick and holds the lock; the checkout, which can take long on a
    // large tree, runs outside it so that commits are checked out in parallel.
    await git(["--git-dir", host.gitDir, "worktree", "add", "--no-checkout", "--detach", temp, sha]);
  });
  try {
    await git(["-C", temp, "reset", "--hard", "--quiet"]);
    // A rename within one folder: the worktree appears at `path` complete or not at all.
    await host.exclusive(() => git(["--git-dir", host.gitDir, "worktree", "move", temp, path]));
  } catch (error) {
    await host.exclusive(() => discard(host, temp)).catch(() => undefined);
    throw error;
  }
}

/** Folders left by an add that was killed while checking out `path`. */
async function removeIncomplete(path: string): Promise<void> {
  const prefix = `${basename(path)}${INCOMPLETE}`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(prefix)) await rm(join(dirname(path), name), { recursive: true, force: true });
  }
}

/** Deletes the worktree at `dir` and its registration; nothing to do when it is gone already. */
export async function removeWorktree(host: WorktreeHost, dir: string): Promise<void> {
  const path = resolve(dir);
  const state = await inspect(host, path);
  // Never delete a folder emp did not make: the path may be wrong.
  if (state.kind === "foreign") throw notOurs(path);
  await host.exclusive(async () => {
    await removeIncomplete(path);
    await discard(host, path);
  });
}

// emp's own bare copy of the studied repository (the mirror): commits are checked out from it, so
// the user's repository is only ever read, never fetched into, checked out or given a worktree.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { GitError, UsageError } from "../errors.js";
import type { CommitInfo, CommitSelection } from "./commit.js";
import { git, lines, requireGit, runGit, SerialQueue } from "./exec.js";
import { commitInfos, firstParentChain, type SelectionSource, selectCommits } from "./select.js";
import { addWorktree, removeWorktree, type WorktreeHost } from "./worktree.js";

/** Where the commits come from: a repository on this machine, or a URL only the mirror can read. */
export type RepositorySource =
  | {
      kind: "local";
      /** The path from the config. */
      path: string;
      /** Its git folder (for a linked worktree, the worktree's own), where refs like HEAD are read. */
      gitDir: string;
      /** The folder shared by all its worktrees: what the mirror is cloned and fetched from. */
      commonDir: string;
    }
  | { kind: "url"; url: string };

/** `https://`, `ssh://`, `git://`, `file://` and the scp-like `user@host:path`. */
export function isRepositoryUrl(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/@:\s]+@[^/:\s]+:/.test(repo);
}

/** Branches and tags, both forced (a rebased branch, a moved tag) and pruned when gone at the source. */
const MIRROR_REFSPECS = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];
/** Marks a clone in progress, beside the path it is renamed to when complete. */
const INCOMPLETE = ".incomplete-";
/** Commits fetched by id (a detached HEAD, an unpushed branch) keep a ref, so gc never drops them. */
const FETCHED_PREFIX = "refs/emp/commits/";

async function localSource(repo: string): Promise<RepositorySource> {
  const path = resolve(repo);
  const result = await runGit(["-C", path, "rev-parse", "--absolute-git-dir"], { okExitCodes: [128] });
  const gitDir = result.stdout.trim();
  if (result.exitCode !== 0 || !gitDir) {
    throw new UsageError(`${path} is not a git repository: ${result.stderr.trim() || "git found none"}`, {
      suggestion: "set `repo` in the study config to the repository's folder or its URL",
      path,
    });
  }
  // A linked worktree's git folder names the shared one in `commondir` (read here as git does:
  // `rev-parse --git-common-dir` answers relative paths that differ between git versions).
  let commonDir = gitDir;
  try {
    commonDir = resolve(gitDir, (await readFile(join(gitDir, "commondir"), "utf8")).trim());
  } catch {
    // no commondir: the repository's main git folder
  }
  return { kind: "local", path, gitDir, commonDir };
}

async function isBareRepository(dir: string): Promise<boolean> {
  const result = await runGit(["--git-dir", dir, "rev-parse", "--is-bare-repository"], {
    okExitCodes: [128],
  });
  return result.exitCode === 0 && result.stdout.trim() === "true";
}

/** Whether something other than nothing or an empty folder is at `path` (a rename replaces an empty one). */
async function occupied(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length > 0;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

export class Mirror implements WorktreeHost {
  /** Absolute path of the bare mirror. */
  readonly gitDir: string;
  readonly source: RepositorySource;
  private readonly writes = new SerialQueue();

  private constructor(gitDir: string, source: RepositorySource) {
    this.gitDir = gitDir;
    this.source = source;
  }

  /** The path or URL, as error messages name the repository. */
  get label(): string {
    return this.source.kind === "local" ? this.source.path : this.source.url;
  }

  private get origin(): string {
    return this.source.kind === "local" ? this.source.commonDir : this.source.url;
  }

  /**
   * Clones `repo` (a local path or URL) bare into `dir` (e.g. <out>/repo.git) unless it is there,
   * else fetches; for a local repository, a detached HEAD the mirror lacks is fetched by id.
   */
  static async open(repo: string, dir: string): Promise<Mirror> {
    await requireGit();
    const source = isRepositoryUrl(repo) ? ({ kind: "url", url: repo } as const) : await localSource(repo);
    const mirror = new Mirror(resolve(dir), source);
    if (await isBareRepository(mirror.gitDir)) {
      await mirror.fetch();
    } else if (await occupied(mirror.gitDir)) {
      throw new UsageError(`${mirror.gitDir} exists and is not emp's copy of the repository`, {
        suggestion: "move or delete it, or give the study another out folder",
        path: mirror.gitDir,
      });
    } else {
      await mirror.clone();
    }
    if (source.kind === "local") {
      // The user's HEAD is the likeliest commit to measure; an unborn HEAD (no commits) has none.
      const head = await runGit(
        ["--git-dir", source.gitDir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
        {
          okExitCodes: [1],
        },
      );
      if (head.exitCode === 0) await mirror.ensureCommits([head.stdout.trim()]);
    }
    return mirror;
  }

  private async clone(): Promise<void> {
    await mkdir(dirname(this.gitDir), { recursive: true });
    // Cloned beside its final path and renamed: a clone cut short never looks like a mirror. From a
    // local path git hardlinks the objects; not --shared, whose mirror would break when the user's gc
    // drops objects it still needs.
    const prefix = `${basename(this.gitDir)}${INCOMPLETE}`;
    // A clone killed part way leaves its temporary folder: nothing else reads it.
    for (const name of await readdir(dirname(this.gitDir))) {
      if (name.startsWith(prefix))
        await rm(join(dirname(this.gitDir), name), { recursive: true, force: true });
    }
    const temp = `${this.gitDir}${INCOMPLETE}${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await git(["clone", "--bare", "--quiet", "--", this.origin, temp]);
      await rename(temp, this.gitDir);
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw this.unreachable(error);
    }
  }

  /** Brings branches and tags up to date with the source; for a URL, HEAD follows the remote's default branch. */
  private async fetch(): Promise<void> {
    await this.exclusive(async () => {
      // The config may name another path or URL than when the mirror was made.
      await git(["--git-dir", this.gitDir, "config", "remote.origin.url", this.origin]);
      try {
        await git([
          "--git-dir",
          this.gitDir,
          "fetch",
          "--quiet",
          "--prune",
          "--update-head-ok",
          "origin",
          ...MIRROR_REFSPECS,
        ]);
        if (this.source.kind === "url") await this.followRemoteHead();
      } catch (error) {
        throw this.unreachable(error);
      }
    });
  }

  /** HEAD of a URL's mirror is the remote's default branch, which can be renamed after the clone. */
  private async followRemoteHead(): Promise<void> {
    const output = await git(["--git-dir", this.gitDir, "ls-remote", "--symref", "origin", "HEAD"]);
    const branch = /^ref: (refs\/heads\/\S+)\tHEAD$/m.exec(output)?.[1];
    if (!branch) return;
    const known = await runGit(["--git-dir", this.gitDir, "rev-parse", "--verify", "--quiet", branch], {
      okExitCodes: [1],
    });
    if (known.exitCode === 0) await git(["--git-dir", this.gitDir, "symbolic-ref", "HEAD", branch]);
  }

  private unreachable(error: unknown): unknown {
    if (!(error instanceof GitError) || error.suggestion) return error;
    return new GitError(error.message, error.command, error, {
      suggestion: `check \`repo\` in the study config and that \`git ls-remote ${this.origin}\` works here`,
      cause: error,
    });
  }

  /** Runs a task that writes to the mirror while no other such task runs. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.writes.run(task);
  }

  /** Which of `shas` the mirror lacks. */
  private async missing(shas: readonly string[]): Promise<string[]> {
    if (shas.length === 0) return [];
    const output = await git(
      ["--git-dir", this.gitDir, "cat-file", "--batch-check=%(objectname) %(objecttype)"],
      {
        input: `${shas.join("\n")}\n`,
      },
    );
    return lines(output)
      .filter((line) => line.endsWith(" missing"))
      .map((line) => line.split(" ")[0] ?? "");
  }

  /**
   * Fetches commits the mirror lacks by id. Branch and tag fetches miss a commit that exists only
   * on the user's detached HEAD, an unpushed local branch or a remote-tracking ref.
   */
  async ensureCommits(shas: readonly string[]): Promise<void> {
    await this.exclusive(async () => {
      const absent = await this.missing(shas);
      if (absent.length === 0) return;
      try {
        // Protocol v2 serves any commit by id; v0 only advertised refs (a local repository always speaks v2).
        await git([
          "--git-dir",
          this.gitDir,
          "-c",
          "protocol.version=2",
          "fetch",
          "--quiet",
          "--no-tags",
          "origin",
          ...absent.map((sha) => `+${sha}:${FETCHED_PREFIX}${sha}`),
        ]);
      } catch (error) {
        if (!(error instanceof GitError)) throw error;
        throw new GitError(
          `${this.label} did not send commit ${absent.join(", ")}: ${error.message}`,
          error.command,
          error,
          {
            suggestion: "push the commit to a branch of the repository, or select a commit that is on one",
            cause: error,
          },
        );
      }
    });
  }

  private selectionSource(): SelectionSource {
    if (this.source.kind === "local") {
      const path = this.source.path;
      return {
        // The user's git folder without its work tree: commands here cannot touch the index or files.
        at: ["--git-dir", this.source.gitDir],
        label: path,
        listHint: `\`git -C ${path} branch --all\` and \`git -C ${path} tag\` list what exists`,
      };
    }
    const url = this.source.url;
    return {
      at: ["--git-dir", this.gitDir],
      label: url,
      listHint: `\`git ls-remote ${url}\` lists its branches and tags`,
      fetchCommit: (sha) =>
        this.ensureCommits([sha]).then(
          () => true,
          () => false,
        ),
    };
  }

  /**
   * Resolves a selection to commits, oldest first; refs are resolved in the user's repository for a
   * local path (so HEAD is the user's HEAD), in the mirror for a URL. Unknown ref: UsageError naming
   * it. `paths`: keep only commits whose diff against their first parent touches them (for `last: N`:
   * the last N that do).
   */
  async resolve(selection: CommitSelection, paths: readonly string[] = []): Promise<CommitInfo[]> {
    const source = this.selectionSource();
    const shas = await selectCommits(source, selection, paths);
    if (this.source.kind === "local") await this.ensureCommits(shas);
    return commitInfos(source, shas);
  }

  /** firstParentChain (select.ts) resolved where `resolve` resolves, as commits the mirror has. */
  async firstParentChain(good: string, bad: string): Promise<CommitInfo[]> {
    const source = this.selectionSource();
    const shas = await firstParentChain(source, good, bad);
    if (this.source.kind === "local") await this.ensureCommits(shas);
    return commitInfos(source, shas);
  }

  /**
   * A detached worktree of `sha` at `dir`, registered in the mirror only; reused when `dir` already
   * holds a worktree at `sha`, recreated when it is at another commit or broken.
   */
  addWorktree(sha: string, dir: string): Promise<void> {
    return addWorktree(this, sha, dir);
  }

  removeWorktree(dir: string): Promise<void> {
    return removeWorktree(this, dir);
  }
}

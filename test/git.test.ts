// The mirror on throwaway repositories: every selection form, path filters (merges judged by their
// first parent), worktrees equal to the commit, and a user repository left byte for byte as it was.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitError, UsageError } from "../src/errors.js";
import { parseGitVersion, renderCommand, git as runGitCommand } from "../src/git/exec.js";
import { isRepositoryUrl, Mirror } from "../src/git/repository.js";

let scratch: string;
let user: string;
let upstream: string;
let mirrorDir: string;
/** A mirror opened before the later commits existed: resolving them must fetch them by id. */
let earlyMirror: Mirror;
let mirror: Mirror;
const savedEnv: Record<string, string | undefined> = {};
/** Commit ids by name. */
const c: Record<string, string> = {};
let before: RepoSnapshot;
let linked: string;

/** Every commit shares one committer time, as after a rebase: order must come from ancestry. */
const COMMIT_TIME = "2024-03-01T12:00:00Z";

function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync(
    "git",
    ["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", ...args],
    {
      cwd,
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "Ada Tester",
        GIT_AUTHOR_EMAIL: "ada@example.com",
        GIT_COMMITTER_NAME: "Ada Tester",
        GIT_COMMITTER_EMAIL: "ada@example.com",
        GIT_AUTHOR_DATE: COMMIT_TIME,
        GIT_COMMITTER_DATE: COMMIT_TIME,
        // The test's own reads must not refresh the index it compares.
        GIT_OPTIONAL_LOCKS: "0",
      },
    },
  ).trimEnd();
}

function commit(name: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(user, path, ".."), { recursive: true });
    writeFileSync(join(user, path), text);
  }
  gitIn(user, "add", "--all");
  gitIn(user, "commit", "--quiet", "-m", name);
  c[name] = gitIn(user, "rev-parse", "HEAD");
  return c[name];
}

interface RepoSnapshot {
  head: string;
  symbolicHead: string;
  status: string;
  index: string;
  worktrees: string;
  refs: string;
  /** Every file under .git with the hash of its bytes: nothing added, removed or rewritten. */
  files: Record<string, string>;
}

function hashTree(root: string, dir = root, out: Record<string, string> = {}): Record<string, string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) hashTree(root, path, out);
    else out[relative(root, path)] = createHash("sha256").update(readFileSync(path)).digest("hex");
  }
  return out;
}

function snapshot(): RepoSnapshot {
  let symbolicHead: string;
  try {
    symbolicHead = gitIn(user, "symbolic-ref", "--quiet", "HEAD");
  } catch {
    symbolicHead = "(detached)";
  }
  return {
    head: gitIn(user, "rev-parse", "HEAD"),
    symbolicHead,
    status: gitIn(user, "status", "--porcelain", "--untracked-files=all"),
    index: createHash("sha256")
      .update(readFileSync(join(user, ".git", "index")))
      .digest("hex"),
    worktrees: gitIn(user, "worktree", "list", "--porcelain"),
    refs: gitIn(user, "for-each-ref", "--format=%(refname) %(objectname)"),
    files: hashTree(join(user, ".git")),
  };
}

const shas = (commits: { sha: string }[]): string[] => commits.map((info) => info.sha);

async function usageError(promise: Promise<unknown>): Promise<UsageError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "emp-git-"));
  // The user's own git config must not change what these tests see. In its place, settings that
  // change porcelain output or the protocol, which emp's parsing and fetching must withstand.
  const globalConfig = join(scratch, "gitconfig");
  writeFileSync(
    globalConfig,
    "[column]\n\tui = always\n[log]\n\tshowSignature = true\n[protocol]\n\tversion = 0\n",
  );
  for (const name of ["GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"]) savedEnv[name] = process.env[name];
  process.env.GIT_CONFIG_GLOBAL = globalConfig;
  process.env.GIT_CONFIG_NOSYSTEM = "1";

  user = join(scratch, "user");
  mkdirSync(user);
  gitIn(user, "init", "--quiet");
  commit("c1", { README: "one\n" });
  commit("c2", { "src/sub/lib.txt": "a\n" });
  commit("c3", { README: "two\n" });
  gitIn(user, "tag", "v1.0");
  commit("c4", { "src/sub/lib.txt": "b\n", "src/main.txt": "main\n" });
  gitIn(user, "tag", "-a", "-m", "release two", "v2.0");
  gitIn(user, "tag", "v2.0-again"); // a second tag on the same commit
  gitIn(user, "tag", "rel-x", "HEAD~2"); // outside the v* glob
  commit("c5", { README: "three\n" });

  // A side branch merged with --no-ff: the merge brings src/sub/other.txt into the line it joins.
  gitIn(user, "checkout", "--quiet", "-b", "topic");
  commit("t1", { "src/sub/other.txt": "topic\n" });
  gitIn(user, "checkout", "--quiet", "-b", "line", "main");
  commit("m1", { README: "line\n" });
  gitIn(user, "merge", "--quiet", "--no-ff", "-m", "merge topic", "topic");
  c.merge = gitIn(user, "rev-parse", "HEAD");
  gitIn(user, "checkout", "--quiet", "main");

  // A bare upstream, read through a file:// URL.
  upstream = join(scratch, "upstream.git");
  gitIn(scratch, "clone", "--quiet", "--bare", user, upstream);

  mirrorDir = join(scratch, "out", "repo.git");
  await Mirror.open(user, mirrorDir);
  earlyMirror = await Mirror.open(user, join(scratch, "out-early", "repo.git"));

  // Made after the mirror: an unpushed branch, commits only a remote-tracking ref reaches, and a
  // detached HEAD the user leaves the repository on.
  gitIn(user, "checkout", "--quiet", "-b", "unpushed", "main");
  commit("u1", { "src/sub/lib.txt": "unpushed\n" });
  gitIn(user, "checkout", "--quiet", "--detach", "main");
  commit("r1", { README: "remote only\n" });
  // r1 is no ref's tip: only protocol v2 (which the global config below turns off) serves it by id.
  commit("r2", { README: "remote tip\n" });
  gitIn(user, "update-ref", "refs/remotes/origin/elsewhere", "HEAD");
  gitIn(user, "checkout", "--quiet", "--detach", "main");
  commit("d1", { README: "detached\n" });
  // An uncommitted change and an untracked file, which must survive as they are.
  writeFileSync(join(user, "README"), "edited, not committed\n");
  writeFileSync(join(user, "notes.txt"), "untracked\n");
  // The upstream gains a pull-request ref, which a mirror of branches and tags does not fetch.
  gitIn(scratch, "--git-dir", upstream, "fetch", "--quiet", user, "unpushed:refs/pull/1/head");

  // A linked worktree of the user's repository, on another commit than its main one.
  linked = join(scratch, "linked");
  gitIn(user, "worktree", "add", "--quiet", "--detach", linked, c.c3 ?? "");

  before = snapshot();
});

afterAll(() => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe("git exec", () => {
  it("renders commands as a person would type them and reports git's own message", async () => {
    expect(renderCommand(["log", "--format=%H %s", "a..b"])).toBe("git log '--format=%H %s' a..b");
    const error = await runGitCommand(["--git-dir", join(scratch, "nowhere"), "rev-parse", "HEAD"]).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).message).toMatch(/not a git repository/);
    expect((error as GitError).command).toContain("rev-parse HEAD");
    expect((error as GitError).status).toBe(128);
  });

  it("says how to fix a missing git binary", async () => {
    const path = process.env.PATH;
    process.env.PATH = join(scratch, "no-bin");
    try {
      const error = await runGitCommand(["--version"]).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(GitError);
      expect((error as GitError).message).toMatch(/git is not installed/);
      expect((error as GitError).suggestion).toMatch(/install git/);
    } finally {
      process.env.PATH = path;
    }
  });

  it("reads git's version", () => {
    expect(parseGitVersion("git version 2.39.5\n")).toEqual([2, 39]);
    expect(parseGitVersion("git version 2.45.1.windows.1")).toEqual([2, 45]);
    expect(parseGitVersion("not git")).toBeUndefined();
  });

  it("tells URLs from paths", () => {
    for (const url of [
      "https://host/r.git",
      "ssh://git@host/r",
      "git@github.com:org/r.git",
      "file:///tmp/r",
    ]) {
      expect(isRepositoryUrl(url)).toBe(true);
    }
    for (const path of [".", "../repo", "/home/a/repo", "dir:with/colon"])
      expect(isRepositoryUrl(path)).toBe(false);
  });
});

describe("Mirror on a local repository", () => {
  beforeAll(async () => {
    mirror = await Mirror.open(user, mirrorDir);
  });

  it("is a bare clone that does not borrow the user's objects", () => {
    expect(gitIn(scratch, "--git-dir", mirrorDir, "rev-parse", "--is-bare-repository")).toBe("true");
    // --shared would leave an alternates file: the mirror would break when the user's gc prunes.
    expect(existsSync(join(mirrorDir, "objects", "info", "alternates"))).toBe(false);
    // Reopening fetched the new branch, and the detached HEAD by id.
    expect(gitIn(scratch, "--git-dir", mirrorDir, "rev-parse", "refs/heads/unpushed")).toBe(c.u1);
    expect(gitIn(scratch, "--git-dir", mirrorDir, "cat-file", "-t", c.d1 ?? "")).toBe("commit");
  });

  it("resolves a list of refs oldest first, without duplicates, HEAD being the user's HEAD", async () => {
    const commits = await mirror.resolve({
      refs: ["main", "HEAD", "v1.0", "main", (c.c1 ?? "").slice(0, 7)],
    });
    expect(shas(commits)).toEqual([c.c1, c.c3, c.c5, c.d1]);
    const [first] = commits;
    expect(first).toEqual({
      sha: c.c1,
      short: (c.c1 ?? "").slice(0, first?.short.length),
      subject: "c1",
      author: "Ada Tester",
      date: "2024-03-01T12:00:00+00:00",
    });
    expect(first?.short.length).toBeGreaterThanOrEqual(7);
  });

  it("resolves ranges, with an empty end meaning HEAD and three dots the symmetric difference", async () => {
    expect(shas(await mirror.resolve({ range: "v1.0..main" }))).toEqual([c.c4, c.c5]);
    expect(shas(await mirror.resolve({ range: "v2.0.." }))).toEqual([c.c5, c.d1]);
    expect(shas(await mirror.resolve({ range: "topic...line" }))).toEqual([c.m1, c.merge]);
  });

  it("takes the last N commits of a ref, oldest first", async () => {
    expect(shas(await mirror.resolve({ last: 3, ref: "main" }))).toEqual([c.c3, c.c4, c.c5]);
    expect(shas(await mirror.resolve({ last: 100, ref: "v1.0" }))).toEqual([c.c1, c.c2, c.c3]);
    expect(shas(await mirror.resolve({ last: 1, ref: "HEAD" }))).toEqual([c.d1]);
  });

  it("takes matching tags in commit order, one entry per commit", async () => {
    expect(shas(await mirror.resolve({ tags: "v*" }))).toEqual([c.c3, c.c4]);
    expect(shas(await mirror.resolve({ tags: "*" }))).toEqual([c.c2, c.c3, c.c4]);
    expect(shas(await mirror.resolve({ tags: "v2.*" }))).toEqual([c.c4]);
  });

  it("keeps only commits whose diff against their first parent touches the paths", async () => {
    expect(shas(await mirror.resolve({ last: 10, ref: "main" }, ["src/sub"]))).toEqual([c.c2, c.c4]);
    // last N counts the commits that touch the paths.
    expect(shas(await mirror.resolve({ last: 1, ref: "main" }, ["src/sub"]))).toEqual([c.c4]);
    expect(
      shas(await mirror.resolve({ range: `${c.c1}..main` }, ["src/sub/lib.txt", "src/main.txt"])),
    ).toEqual([c.c2, c.c4]);
    expect(shas(await mirror.resolve({ refs: ["v1.0", "v2.0", "main", c.c1 ?? ""] }, ["src/sub"]))).toEqual([
      c.c4,
    ]);
    expect(shas(await mirror.resolve({ tags: "*" }, ["src/sub"]))).toEqual([c.c2, c.c4]);
    // The root commit counts as adding its files.
    expect(shas(await mirror.resolve({ refs: [c.c1 ?? ""] }, ["README"]))).toEqual([c.c1]);
  });

  it("counts a merge when it brings the paths into its first parent's line", async () => {
    // git log's default simplification would drop the merge (it equals its second parent there).
    expect(shas(await mirror.resolve({ range: "main..line" }, ["src/sub"]))).toEqual([c.t1, c.merge]);
    expect(shas(await mirror.resolve({ range: "main..line" }, ["README"]))).toEqual([c.m1]);
    expect(shas(await mirror.resolve({ refs: ["line"] }, ["src/sub/other.txt"]))).toEqual([c.merge]);
  });

  it("names an unknown ref, and says when a selection matches nothing", async () => {
    const unknown = await usageError(mirror.resolve({ refs: ["main", "no-such-branch"] }));
    expect(unknown.message).toContain('"no-such-branch"');
    expect(unknown.suggestion).toContain("git -C");
    expect((await usageError(mirror.resolve({ range: "v1.0..nope" }))).message).toContain('"nope"');
    expect((await usageError(mirror.resolve({ last: 2, ref: "--all" }))).message).toContain('"--all"');
    expect((await usageError(mirror.resolve({ tags: "nothing-*" }))).message).toContain('"nothing-*"');
    const empty = await usageError(mirror.resolve({ range: "main..v1.0" }));
    expect(empty.message).toMatch(/matched no commits/);
    expect(empty.suggestion).toMatch(/older ref first/);
    const untouched = await usageError(mirror.resolve({ last: 5, ref: "main" }, ["no/such/path"]));
    expect(untouched.message).toMatch(/matched no commits touching no\/such\/path/);
  });

  it("keeps commits fetched by id when it fetches branches and tags again", async () => {
    await Mirror.open(user, mirrorDir);
    const ref = `refs/emp/commits/${c.d1}`;
    expect(gitIn(scratch, "--git-dir", mirrorDir, "rev-parse", ref)).toBe(c.d1);
  });

  it("fetches by id the commits the mirror lacks: an unpushed branch, below a remote-tracking ref", async () => {
    // earlyMirror predates these commits; its fetch of branches and tags never ran for them.
    // Siblings with one commit time: either order is oldest first.
    const fetched = shas(await earlyMirror.resolve({ refs: ["unpushed", "origin/elsewhere~1"] }));
    expect(fetched.sort()).toEqual([c.u1, c.r1].sort());
    for (const name of ["u1", "r1"]) {
      const sha = c[name] ?? "";
      expect(gitIn(scratch, "--git-dir", earlyMirror.gitDir, "rev-parse", `refs/emp/commits/${sha}`)).toBe(
        sha,
      );
    }
  });
});

describe("Mirror on a linked worktree of the user's repository", () => {
  it("reads HEAD of that worktree and clones the repository they share", async () => {
    const fromLinked = await Mirror.open(linked, join(scratch, "out-linked", "repo.git"));
    expect(shas(await fromLinked.resolve({ refs: ["HEAD"] }))).toEqual([c.c3]);
    expect(shas(await fromLinked.resolve({ refs: ["main"] }))).toEqual([c.c5]);
    expect(fromLinked.source).toMatchObject({ kind: "local", commonDir: join(user, ".git") });
  });
});

describe("worktrees", () => {
  const worktreeOf = (name: string) => join(scratch, "out", "worktrees", name);

  function expectCheckout(dir: string, sha: string, files: string[]): void {
    expect(gitIn(dir, "rev-parse", "HEAD")).toBe(sha);
    for (const file of files) {
      expect(readFileSync(join(dir, file), "utf8")).toBe(`${gitIn(user, "show", `${sha}:${file}`)}\n`);
    }
    // Nothing else: the tracked files are exactly the commit's.
    expect(gitIn(dir, "ls-files").split("\n").sort()).toEqual(
      gitIn(user, "ls-tree", "-r", "--name-only", sha).split("\n").sort(),
    );
    expect(gitIn(dir, "status", "--porcelain")).toBe("");
  }

  it("checks out a commit detached, registered in the mirror only", async () => {
    const dir = worktreeOf("a");
    await mirror.addWorktree(c.c4 ?? "", dir);
    expectCheckout(dir, c.c4 ?? "", ["README", "src/sub/lib.txt", "src/main.txt"]);
    expect(() => gitIn(dir, "symbolic-ref", "--quiet", "HEAD")).toThrow();
    expect(gitIn(scratch, "--git-dir", mirrorDir, "worktree", "list")).toContain(dir);
    // No half-made sibling left behind.
    expect(readdirSync(join(scratch, "out", "worktrees"))).toEqual(["a"]);
  });

  it("reuses a worktree already at the commit, build outputs and all", async () => {
    const dir = worktreeOf("a");
    writeFileSync(join(dir, "build-output"), "built\n");
    await mirror.addWorktree(c.c4 ?? "", dir);
    expect(readFileSync(join(dir, "build-output"), "utf8")).toBe("built\n");
  });

  it("recreates a worktree at another commit, and one whose folder or registration is gone", async () => {
    const dir = worktreeOf("a");
    await mirror.addWorktree(c.c5 ?? "", dir);
    expect(existsSync(join(dir, "build-output"))).toBe(false);
    expectCheckout(dir, c.c5 ?? "", ["README", "src/sub/lib.txt"]);

    // Deleted by hand: the stale registration is pruned, not in the way.
    rmSync(dir, { recursive: true, force: true });
    await mirror.addWorktree(c.c5 ?? "", dir);
    expectCheckout(dir, c.c5 ?? "", ["README"]);

    // Broken: the .git file points at a registration that no longer exists.
    writeFileSync(join(dir, ".git"), `gitdir: ${join(mirrorDir, "worktrees", "gone")}\n`);
    await mirror.addWorktree(c.c5 ?? "", dir);
    expectCheckout(dir, c.c5 ?? "", ["README"]);
  });

  it("checks out the user's detached HEAD and commits the mirror fetched by id", async () => {
    await mirror.addWorktree(c.d1 ?? "", worktreeOf("detached"));
    expectCheckout(worktreeOf("detached"), c.d1 ?? "", ["README"]);
    await mirror.addWorktree(c.u1 ?? "", worktreeOf("unpushed"));
    expectCheckout(worktreeOf("unpushed"), c.u1 ?? "", ["src/sub/lib.txt"]);
  });

  it("adds several worktrees at once", async () => {
    const names = ["c1", "c2", "c3", "t1", "merge"];
    await Promise.all(names.map((name) => mirror.addWorktree(c[name] ?? "", worktreeOf(`p-${name}`))));
    for (const name of names) expectCheckout(worktreeOf(`p-${name}`), c[name] ?? "", []);
  });

  it("refuses to replace or delete a folder that is not one of its worktrees", async () => {
    const dir = worktreeOf("foreign");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "precious.txt"), "keep me\n");
    expect((await usageError(mirror.addWorktree(c.c4 ?? "", dir))).message).toContain("not a worktree");
    expect((await usageError(mirror.removeWorktree(dir))).message).toContain("not a worktree");
    expect(readFileSync(join(dir, "precious.txt"), "utf8")).toBe("keep me\n");
  });

  it("removes a worktree and its registration; removing again is nothing", async () => {
    const dir = worktreeOf("detached");
    await mirror.removeWorktree(dir);
    expect(existsSync(dir)).toBe(false);
    expect(gitIn(scratch, "--git-dir", mirrorDir, "worktree", "list")).not.toContain(dir);
    await mirror.removeWorktree(dir);
  });
});

describe("Mirror of a URL", () => {
  const url = () => `file://${upstream}`;
  const urlMirrorDir = () => join(scratch, "out-url", "repo.git");

  it("resolves in the mirror, HEAD being the remote's default branch", async () => {
    const remote = await Mirror.open(url(), urlMirrorDir());
    expect(shas(await remote.resolve({ refs: ["HEAD"] }))).toEqual([c.c5]);
    expect(shas(await remote.resolve({ last: 2, ref: "HEAD" }))).toEqual([c.c4, c.c5]);
    expect(shas(await remote.resolve({ tags: "v*" }, ["src/sub"]))).toEqual([c.c4]);
    expect(shas(await remote.resolve({ range: "main..line" }))).toEqual([c.t1, c.m1, c.merge]);
    const unknown = await usageError(remote.resolve({ refs: ["unpushed"] }));
    expect(unknown.suggestion).toContain("git ls-remote");
  });

  it("fetches a full commit id that only a ref outside branches and tags reaches", async () => {
    const remote = await Mirror.open(url(), urlMirrorDir());
    expect(shas(await remote.resolve({ refs: [c.u1 ?? ""] }))).toEqual([c.u1]);
    await remote.addWorktree(c.u1 ?? "", join(scratch, "out-url", "worktrees", "u1"));
    expect(readFileSync(join(scratch, "out-url", "worktrees", "u1", "src/sub/lib.txt"), "utf8")).toBe(
      "unpushed\n",
    );
  });

  it("follows the remote's default branch and its new commits on reopening", async () => {
    gitIn(scratch, "--git-dir", upstream, "update-ref", "refs/heads/trunk", c.merge ?? "");
    gitIn(scratch, "--git-dir", upstream, "symbolic-ref", "HEAD", "refs/heads/trunk");
    gitIn(scratch, "--git-dir", upstream, "tag", "v3.0", c.merge ?? "");
    const remote = await Mirror.open(url(), urlMirrorDir());
    expect(shas(await remote.resolve({ refs: ["HEAD"] }))).toEqual([c.merge]);
    expect(shas(await remote.resolve({ tags: "v*" }))).toEqual([c.c3, c.c4, c.merge]);
  });

  it("says which repository could not be read", async () => {
    const error = await Mirror.open(
      `file://${join(scratch, "missing.git")}`,
      join(scratch, "out-missing", "repo.git"),
    ).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).suggestion).toContain("git ls-remote");
    expect(existsSync(join(scratch, "out-missing", "repo.git"))).toBe(false);
  });
});

describe("the user's repository", () => {
  it("is refused when it is not a repository", async () => {
    const plain = join(scratch, "plain");
    mkdirSync(plain);
    const error = await usageError(Mirror.open(plain, join(scratch, "out-plain", "repo.git")));
    expect(error.message).toContain("not a git repository");
  });

  it("is never replaced by a mirror folder that holds something else", async () => {
    const taken = join(scratch, "out-taken", "repo.git");
    mkdirSync(taken, { recursive: true });
    writeFileSync(join(taken, "mine.txt"), "mine\n");
    expect((await usageError(Mirror.open(user, taken))).message).toContain("not emp's copy");
    expect(readFileSync(join(taken, "mine.txt"), "utf8")).toBe("mine\n");
    // An empty folder is taken as no mirror yet.
    const empty = join(scratch, "out-empty", "repo.git");
    mkdirSync(empty, { recursive: true });
    expect(shas(await (await Mirror.open(user, empty)).resolve({ refs: ["main"] }))).toEqual([c.c5]);
  });

  it("is left exactly as it was: HEAD, status, index, worktrees, refs and every file under .git", () => {
    const after = snapshot();
    expect(after.head).toBe(c.d1);
    expect(after.symbolicHead).toBe("(detached)");
    expect(after.status).toBe(" M README\n?? notes.txt");
    expect(after).toEqual(before);
  });
});

// emp started from a git hook inherits GIT_DIR and friends, which point at the hook's repository:
// every git emp runs (provenance's commit, the report's history order) must still read the one asked.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { gitCommit } from "../src/measure/provenance.js";
import { orderCommits } from "../src/report/history.js";

let scratch: string;
/** The repository emp is asked about, and the one a hook's variables would point at. */
let wanted: string;
let other: string;
const wantedCommits: string[] = [];
let otherHead: string;

function gitIn(cwd: string, ...args: string[]): string {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: "Ada Tester",
    GIT_AUTHOR_EMAIL: "ada@example.com",
    GIT_COMMITTER_NAME: "Ada Tester",
    GIT_COMMITTER_EMAIL: "ada@example.com",
  };
  delete env.GIT_DIR;
  delete env.GIT_OBJECT_DIRECTORY;
  return execFileSync("git", ["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", ...args], {
    cwd,
    env,
    encoding: "utf8",
  }).trim();
}

function commitFile(repo: string, name: string, text: string): string {
  writeFileSync(join(repo, name), text);
  gitIn(repo, "add", name);
  gitIn(repo, "commit", "-q", "-m", `add ${name}`);
  return gitIn(repo, "rev-parse", "HEAD");
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "emp-git-env-"));
  wanted = join(scratch, "wanted");
  other = join(scratch, "other");
  for (const repo of [wanted, other]) {
    execFileSync("mkdir", [repo]);
    gitIn(repo, "init", "-q");
  }
  wantedCommits.push(commitFile(wanted, "a.txt", "first\n"));
  wantedCommits.push(commitFile(wanted, "b.txt", "second\n"));
  otherHead = commitFile(other, "c.txt", "elsewhere\n");
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const saved = { GIT_DIR: process.env.GIT_DIR, GIT_OBJECT_DIRECTORY: process.env.GIT_OBJECT_DIRECTORY };
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe("git run from inside a hook's environment", () => {
  it("provenance names the commit of the directory it was given, not GIT_DIR's", () => {
    process.env.GIT_DIR = join(other, ".git");
    expect(gitCommit(wanted)).toBe(wantedCommits[1]);
    expect(gitCommit(wanted)).not.toBe(otherHead);
  });

  it("orderCommits reads the repository's own objects, not GIT_OBJECT_DIRECTORY's", () => {
    process.env.GIT_DIR = join(other, ".git");
    process.env.GIT_OBJECT_DIRECTORY = join(other, ".git", "objects");
    const newestFirst = [wantedCommits[1], wantedCommits[0]] as string[];
    const order = orderCommits(newestFirst, join(wanted, ".git"));
    expect(order.source).toBe("git");
    expect(order.unknown).toEqual([]);
    expect(order.order).toEqual(wantedCommits);
    expect(order.subjects.get(wantedCommits[0] as string)).toBe("add a.txt");
  });
});

// Turns a study's commit selection into commits, oldest first, with read-only git commands only:
// they run against the user's own repository, which emp must leave exactly as it found it.
import { UsageError } from "../errors.js";
import type { CommitInfo, CommitSelection } from "./commit.js";
import { git, lines, runGit } from "./exec.js";

/** The repository a selection is resolved in. */
export interface SelectionSource {
  /** Arguments that point git at it: `["--git-dir", path]`. */
  at: readonly string[];
  /** How errors name it: the path or URL from the config. */
  label: string;
  /** A fix for an unknown ref: where the user can list what exists. */
  listHint: string;
  /** Asks the remote for a full commit id the repository lacks; true when it arrived. */
  fetchCommit?: (sha: string) => Promise<boolean>;
}

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Resolves `selection` to commit ids, oldest first, without duplicates. */
export async function selectCommits(
  source: SelectionSource,
  selection: CommitSelection,
  paths: readonly string[] = [],
): Promise<string[]> {
  let shas: string[];
  if ("refs" in selection) {
    const resolved = [];
    for (const ref of selection.refs) resolved.push(await verifyCommit(source, ref));
    shas = await keepTouching(source, await oldestFirst(source, resolved), paths);
  } else if ("range" in selection) {
    shas = await keepTouching(
      source,
      await revList(source, await rangeRevisions(source, selection.range), paths),
      paths,
    );
  } else if ("last" in selection) {
    if (!Number.isInteger(selection.last) || selection.last < 1) {
      throw new UsageError(
        `commits.last must be a whole number of commits, 1 or more (got ${selection.last})`,
        {
          suggestion: "write for example `commits: { last: 10 }`",
        },
      );
    }
    const tip = await verifyCommit(source, selection.ref);
    if (paths.length === 0) {
      shas = await revList(source, [tip], paths, selection.last);
    } else {
      // The count applies to the commits that touch the paths: filter the whole walk, then take the tail.
      shas = (await keepTouching(source, await revList(source, [tip], paths), paths)).slice(-selection.last);
    }
  } else {
    shas = await keepTouching(
      source,
      await oldestFirst(source, await tagCommits(source, selection.tags)),
      paths,
    );
  }
  if (shas.length === 0) throw noCommits(selection, paths);
  return shas;
}

/** The full id of the commit `ref` names; UsageError naming it when there is none. */
export async function verifyCommit(source: SelectionSource, ref: string): Promise<string> {
  const found = await peel(source, ref);
  if (found !== undefined) return found;
  // A full id the mirror of a URL lacks may still exist on the remote (a pull request's head).
  if (source.fetchCommit && FULL_SHA.test(ref) && (await source.fetchCommit(ref))) {
    const fetched = await peel(source, ref);
    if (fetched !== undefined) return fetched;
  }
  throw new UsageError(`unknown ref "${ref}" in ${source.label}: no branch, tag or commit has that name`, {
    suggestion: `check its spelling (${source.listHint}); a commit id needs at least 4 hex digits`,
  });
}

async function peel(source: SelectionSource, ref: string): Promise<string | undefined> {
  // No ref name or revision syntax starts with "-"; git would read one that does as an option.
  if (ref.length === 0 || ref.startsWith("-")) return undefined;
  const result = await runGit([...source.at, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`], {
    okExitCodes: [1],
  });
  const sha = result.stdout.trim();
  return result.exitCode === 0 && sha.length > 0 ? sha : undefined;
}

/** `A..B` or `A...B` with both ends checked, so a typo is named rather than reported as git's message. */
async function rangeRevisions(source: SelectionSource, range: string): Promise<string[]> {
  // Ref names cannot contain "..", so the first one is the separator.
  const match = /^(.*?)(\.\.\.?)(.*)$/.exec(range.trim());
  if (!match) {
    throw new UsageError(`commits range "${range}" has no ".."`, {
      suggestion: "write a range as OLDER..NEWER, for example `v1.0..main`",
    });
  }
  const [, from = "", dots = "..", to = ""] = match;
  // An empty end means HEAD, as in git (`v1.0..` is v1.0..HEAD).
  const fromSha = await verifyCommit(source, from || "HEAD");
  const toSha = await verifyCommit(source, to || "HEAD");
  return [`${fromSha}${dots}${toSha}`];
}

/**
 * Commits reachable from `revisions`, oldest first (commit-date order that never puts a commit
 * before its parent). With paths, a superset of the commits that touch them: --full-history keeps
 * every commit that differs from its parent in them, and merges that differ from any parent.
 */
async function revList(
  source: SelectionSource,
  revisions: readonly string[],
  paths: readonly string[],
  maxCount?: number,
): Promise<string[]> {
  const args = [...source.at, "rev-list", "--date-order", "--reverse"];
  if (maxCount !== undefined) args.push(`--max-count=${maxCount}`);
  if (paths.length > 0) args.push("--full-history");
  // The revisions are full commit ids from verifyCommit: none can be read as an option.
  args.push(...revisions, "--", ...paths);
  return lines(await git(args));
}

/** The commits of the tags matching `glob` (as `git tag --list` matches), peeled, without duplicates. */
async function tagCommits(source: SelectionSource, glob: string): Promise<string[]> {
  const format = "%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)";
  // --no-column: column.ui in the user's config would lay the list out in columns.
  const rows = lines(
    await git([...source.at, "tag", "--list", "--no-column", `--format=${format}`, "--", glob]),
  );
  if (rows.length === 0) {
    throw new UsageError(`no tag in ${source.label} matches "${glob}"`, {
      suggestion: `check the pattern (${source.listHint}); \`tags: true\` takes every tag`,
    });
  }
  const shas = new Set<string>();
  for (const row of rows) {
    const [refname = "", type, sha = "", peeledType, peeledSha = ""] = row.split("\0");
    if (type === "commit") shas.add(sha);
    else if (type === "tag" && peeledType === "commit") shas.add(peeledSha);
    else if (type === "tag" && peeledType === "tag") {
      // A tag of a tag: let git peel the whole chain.
      const commit = await peel(source, refname);
      if (commit !== undefined) shas.add(commit);
    }
    // Tags of trees or blobs (the kernel's v2.6.11-tree) name no commit to measure.
  }
  return [...shas];
}

/**
 * Sorts commits oldest first in one walk: commit-date order with parents always before their
 * children (a rebased series shares one commit time, so the time alone cannot order it). The walk
 * stops at the commits' common ancestor, so it covers only the span they lie in.
 */
async function oldestFirst(source: SelectionSource, shas: readonly string[]): Promise<string[]> {
  const unique = [...new Set(shas)];
  if (unique.length <= 1) return unique;
  const base = await runGit([...source.at, "merge-base", "--octopus", ...unique], {
    okExitCodes: [1],
  });
  const baseSha = base.exitCode === 0 ? base.stdout.trim() : "";
  const exclude = baseSha ? [`^${baseSha}`] : [];
  const wanted = new Set(unique);
  const order = lines(
    await git([...source.at, "rev-list", "--date-order", "--reverse", ...unique, ...exclude]),
  ).filter((sha) => wanted.has(sha));
  // The common ancestor is excluded from the walk; when it is selected, it is the oldest.
  return wanted.has(baseSha) ? [baseSha, ...order] : order;
}

/**
 * Keeps the commits whose diff against their first parent (a root commit: against nothing)
 * touches `paths`: for a merge, what it brought into the branch it was merged into.
 */
async function keepTouching(
  source: SelectionSource,
  shas: readonly string[],
  paths: readonly string[],
): Promise<string[]> {
  if (paths.length === 0 || shas.length === 0) return [...shas];
  const parents = lines(await git([...logEach(source), "--format=%H %P"], { input: `${shas.join("\n")}\n` }));
  // diff-tree --stdin compares a line's first commit with the commits after it: "sha firstParent".
  const pairs = parents.map((line) => line.split(" ").filter(Boolean).slice(0, 2).join(" "));
  const output = await git(
    [...source.at, "diff-tree", "--stdin", "-r", "-z", "--name-only", "--root", "--", ...paths],
    {
      input: `${pairs.join("\n")}\n`,
    },
  );
  // The output is each touching commit's id followed by its changed names, all NUL-separated; a
  // path spelled exactly like one of these commit ids is the one case this reading would miss.
  const asked = new Set(shas);
  const touching = new Set(output.split("\0").filter((field) => asked.has(field)));
  return shas.filter((sha) => touching.has(sha));
}

/** `git log` of exactly the commits given on its standard input, in that order. */
function logEach(source: SelectionSource): string[] {
  // log.showSignature in the user's config would print signature checks into the output.
  return [...source.at, "-c", "log.showSignature=false", "log", "--no-walk=unsorted", "--stdin"];
}

/** Subject, author and committer time of each commit, in the order given. */
export async function commitInfos(source: SelectionSource, shas: readonly string[]): Promise<CommitInfo[]> {
  if (shas.length === 0) return [];
  const output = await git([...logEach(source), "--format=%H%x00%h%x00%s%x00%an%x00%cI%x1e"], {
    input: `${shas.join("\n")}\n`,
  });
  const bySha = new Map<string, CommitInfo>();
  for (const record of output.split("\x1e")) {
    const [sha = "", short = "", subject = "", author = "", date = ""] = record
      .replace(/^\n/, "")
      .split("\0");
    if (sha) bySha.set(sha, { sha, short, subject, author, date });
  }
  return shas.map((sha) => {
    const info = bySha.get(sha);
    if (!info) throw new Error(`git log printed nothing for commit ${sha}`);
    return info;
  });
}

function describe(selection: CommitSelection): string {
  if ("refs" in selection) return `refs ${selection.refs.join(", ")}`;
  if ("range" in selection) return `range ${selection.range}`;
  if ("last" in selection) return `the last ${selection.last} commits of ${selection.ref}`;
  return `tags "${selection.tags}"`;
}

function noCommits(selection: CommitSelection, paths: readonly string[]): UsageError {
  const touching = paths.length > 0 ? ` touching ${paths.join(", ")}` : "";
  const suggestion =
    paths.length > 0
      ? "check `paths` (relative to the repository's top folder), or widen the selection"
      : "range" in selection
        ? "A..B lists the commits reachable from B but not from A: put the older ref first"
        : "widen the selection";
  return new UsageError(`the selection (${describe(selection)}) matched no commits${touching}`, {
    suggestion,
  });
}

/**
 * The first-parent chain from `good` (left out) to `bad` (included), oldest first: the commits a
 * bisection walks, as merges of a main branch are one step each. UsageError when `good` is not an
 * ancestor of `bad`, or is `bad`.
 */
export async function firstParentChain(
  source: SelectionSource,
  good: string,
  bad: string,
): Promise<string[]> {
  const [from, to] = [await verifyCommit(source, good), await verifyCommit(source, bad)];
  if (from === to) {
    throw new UsageError(`--good ${good} and --bad ${bad} are the same commit`, {
      suggestion: "give as --good a commit before the change and as --bad one after it",
    });
  }
  const ancestor = await runGit([...source.at, "merge-base", "--is-ancestor", from, to], {
    okExitCodes: [1],
  });
  if (ancestor.exitCode === 1) {
    throw new UsageError(`--good ${good} is not an ancestor of --bad ${bad}`, {
      suggestion: `give as --good a commit in the history of ${bad} (\`git log --first-parent ${bad}\`), or swap the two`,
    });
  }
  const chain = lines(await git([...source.at, "rev-list", "--first-parent", "--reverse", `${from}..${to}`]));
  // A good commit reached only through a merged branch leaves bad's first-parent line before it.
  if (chain.length === 0 || chain.at(-1) !== to) {
    throw new UsageError(`--bad ${bad} cannot be reached from --good ${good} along first parents`, {
      suggestion: `give as --good a commit on the first-parent line of ${bad} (\`git log --first-parent ${bad}\`)`,
    });
  }
  return chain;
}

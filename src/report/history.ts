// Commits in the order of their history (oldest first), not the order they were measured in: a
// study interleaves or shuffles commits, and comparisons are between neighbours in history.
import { gitSync } from "../git/exec.js";

export interface CommitOrder {
  /** The commits given, oldest first. */
  order: string[];
  /** Subject line of each commit git knows. */
  subjects: Map<string, string>;
  /** `git`: ordered by the repository's history; `appearance`: no repository, kept as first seen. */
  source: "git" | "appearance";
  /** Commits the repository does not hold; they follow the others in the order first seen. */
  unknown: string[];
}

/**
 * Orders `commits` (full shas, in the order first seen) by `git rev-list --date-order` of the bare
 * repository `gitDir`: parents before children, otherwise by commit time, as emp run's commit
 * selection lists them, so report, plot and emp run's own summary show one order.
 * Without a repository, or where git fails, the order first seen is kept, said by `source`.
 */
export function orderCommits(commits: readonly string[], gitDir: string | null): CommitOrder {
  const unique = [...new Set(commits)];
  const fallback: CommitOrder = { order: unique, subjects: new Map(), source: "appearance", unknown: [] };
  if (gitDir === null || unique.length === 0) return fallback;
  let listed: string;
  try {
    // --ignore-missing: commits the mirror lacks are left out here and appended below.
    listed = git(gitDir, ["rev-list", "--date-order", "--reverse", "--ignore-missing", ...unique]);
  } catch {
    return fallback;
  }
  const wanted = new Set(unique);
  const order = listed.split("\n").filter((sha) => wanted.has(sha));
  const known = new Set(order);
  const unknown = unique.filter((sha) => !known.has(sha));
  const subjects = new Map<string, string>();
  if (order.length > 0) {
    try {
      const log = git(gitDir, ["log", "--no-walk=unsorted", "--format=%H%x09%s", ...order]);
      for (const line of log.split("\n")) {
        const tab = line.indexOf("\t");
        if (tab > 0) subjects.set(line.slice(0, tab), line.slice(tab + 1));
      }
    } catch {
      // Subjects only decorate the report; the order stands without them.
    }
  }
  return { order: [...order, ...unknown], subjects, source: "git", unknown };
}

function git(gitDir: string, args: string[]): string {
  return gitSync(["--git-dir", gitDir, ...args]);
}

// What git knows of a commit and how a study asks for commits: the selection is resolved here
// (select.ts), and the ledger, the plan and the summaries name commits by this shape.

/** Which commits a study measures, as written in its config. */
export type CommitSelection =
  | { refs: string[] }
  | { range: string }
  | { last: number; ref: string }
  | { tags: string };

export interface CommitInfo {
  sha: string;
  short: string;
  subject: string;
  author: string;
  /** Committer time, ISO 8601. */
  date: string;
}

// Vocabulary shared by the pipeline's parts (config, git, ledger, stages): kept in one small file
// so that none of them has to import another to name a commit or a stage group.

/** How often a stage runs: once per session, per unique commit, per run, or once at the end. */
export type StageGroup = "pre" | "prepare" | "run" | "post";

export const STAGE_GROUPS: readonly StageGroup[] = ["pre", "prepare", "run", "post"];

/** Which commits a study measures, as written in its config. */
export type CommitSelection =
  | { refs: string[] }
  | { range: string }
  | { last: number; ref: string }
  | { tags: string };

/** A stage loaded from a user's file: its module's default export is a factory. */
export interface CustomStageSpec {
  /** Absolute path of the module. */
  module: string;
  group: StageGroup;
  options: Record<string, unknown>;
}

export interface CommitInfo {
  sha: string;
  short: string;
  subject: string;
  author: string;
  /** Committer time, ISO 8601. */
  date: string;
}

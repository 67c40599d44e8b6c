// Once per session, after the last run: the study's statistics per commit over every session's runs.
import type { SessionContext, Stage } from "../stage.js";
import { summarizeCommits } from "../summary.js";

/** Where the aggregate leaves its CommitSummary[] in the context's data. */
export const COMMITS_KEY = "commits";

export function aggregateStage(): Stage<"post"> {
  return {
    name: "aggregate",
    group: "post",
    execute(context: SessionContext) {
      const runs = context.ledger.runs({ configHash: context.study.hash });
      const commits = summarizeCommits(
        context.commits.map((c) => c.commit),
        runs,
      );
      context.data.set(COMMITS_KEY, commits);
    },
  };
}

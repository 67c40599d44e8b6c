// Once per session, after the last run: the study's statistics per commit over every session's runs,
// and whether there are runs enough for emp report's comparisons to find anything.
import type { SessionContext, Stage } from "../stage.js";
import { comparisonsWarning, summarizeCommits } from "../summary.js";

/** Where the aggregate leaves its CommitSummary[] in the context's data. */
export const COMMITS_KEY = "commits";

export function aggregateStage(): Stage<"post"> {
  return {
    name: "aggregate",
    group: "post",
    execute(context: SessionContext) {
      const runs = context.ledger.runs({ configHash: context.study.hash });
      const infos = context.commits.map((c) => c.commit);
      context.data.set(COMMITS_KEY, summarizeCommits(infos, runs));
      // Too few runs for any comparison to be significant is said once, with the repeat that would do.
      // Not when interrupted: the runs are not all there yet, and emp resume's summary judges them.
      const warning = context.aborted ? null : comparisonsWarning(infos, runs);
      if (warning !== null) context.warn(warning);
    },
  };
}

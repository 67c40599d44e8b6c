// The result of `emp run` for a person: failed runs first, one line per commit and domain, then
// skipped commits; or the one line of a rerun that found nothing left to measure. Warnings are not
// here: the CLI writes them to stderr (they are in the JSON too).
import { formatTable, joules, truncate } from "../util/table.js";
import type { StudySummary } from "./summary.js";

/** The first failed run of the study, named with its commit; undefined when none failed. */
export function firstStudyFailure(s: StudySummary): string | undefined {
  const c = s.commits.find((c) => c.first_failure !== null);
  return c === undefined ? undefined : `${c.short} ${c.first_failure}`;
}

/** Runs were measured and every one failed: there is no energy of the command's work to show. */
export function everyStudyRunFailed(s: StudySummary): boolean {
  return s.commits.some((c) => c.failed_runs > 0) && s.commits.every((c) => c.runs === 0);
}

export function formatStudy(s: StudySummary): string {
  const lines: string[] = [];
  if (s.session === null) {
    const n = s.commits.length;
    return `nothing left to measure: ${n} commit${n === 1 ? "" : "s"} complete (see \`emp report ${s.out}\`)\n`;
  }
  if (s.estimated) lines.push("[ESTIMATED: no real energy sensor; see the warnings]");
  if (s.shard !== null) {
    lines.push(
      `shard ${s.shard.index}/${s.shard.count}: ${s.commits.length} of the study's ${s.shard.study_commits} commits (\`emp merge\` joins the shards' directories)`,
    );
  }
  const failed = s.commits.reduce((n, c) => n + c.failed_runs, 0);
  if (failed > 0) {
    const total = failed + s.commits.reduce((n, c) => n + c.runs, 0);
    lines.push(
      `${failed} of ${total} runs failed (first: ${firstStudyFailure(s)}): left out of the statistics; their logs are in ${s.out}/logs`,
    );
  }
  // With min_run_ms each run iterated the command: the columns are of one iteration, and say so.
  const iterated = s.min_run_ms !== null;
  if (iterated)
    lines.push(
      `runs of ${s.min_run_ms} ms at least (min_run_ms): the command iterated in each run; energy and time per iteration`,
    );
  const header = [
    "commit",
    "subject",
    "domain",
    "runs",
    ...(iterated ? ["iterations"] : []),
    "failed",
    "net median J",
    "net mean 95% CI J",
    "raw median J",
    ...(s.work_unit ? [`net median ${s.work_unit}`] : []),
    "median s",
  ];
  const rows: string[][] = [];
  for (const c of s.commits) {
    const subject = truncate(c.subject, 40);
    const domains = Object.entries(c.domains);
    const counts = [String(c.runs), ...(iterated ? [String(c.iterations)] : []), String(c.failed_runs)];
    const work = s.work_unit ? ["-"] : [];
    if (domains.length === 0) rows.push([c.short, subject, "-", ...counts, "-", "-", "-", ...work, "-"]);
    for (const [domain, d] of domains) {
      rows.push([
        c.short,
        subject,
        domain,
        ...counts,
        // Net is "-" where the baseline was unknown; the raw median still shows.
        d.net_median_j === null ? "-" : joules(d.net_median_j),
        d.ci95_j === null ? "-" : `${joules(d.ci95_j[0])} .. ${joules(d.ci95_j[1])}`,
        joules(d.raw_median_j),
        ...(s.work_unit
          ? [c.work[domain] === undefined ? "-" : (c.work[domain] as number).toPrecision(4)]
          : []),
        d.median_s.toFixed(3),
      ]);
    }
  }
  lines.push(...formatTable(header, rows), "");
  for (const c of s.commits) {
    const metrics = Object.entries(c.metrics);
    if (metrics.length > 0)
      lines.push(
        `${c.short} metrics (median): ${metrics.map(([name, v]) => `${name} ${v.toPrecision(4)}`).join(", ")}`,
      );
  }
  for (const k of s.skipped)
    lines.push(`skipped ${k.commit.slice(0, 12)}: ${k.reason}${k.log ? ` (log: ${k.log})` : ""}`);
  lines.push(`results: ${s.out}`);
  if (s.interrupted) lines.push(`interrupted: the runs done are kept; continue with \`emp resume ${s.out}\``);
  return `${lines.join("\n")}\n`;
}

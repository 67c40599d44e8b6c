// The result of `emp run` for a person: one line per commit and domain, then skipped commits and
// warnings.
import { formatTable, joules, truncate } from "../util/table.js";
import type { StudySummary } from "./summary.js";

export function formatStudy(s: StudySummary): string {
  const lines: string[] = [];
  const header = [
    "commit",
    "subject",
    "domain",
    "runs",
    "net median J",
    "net mean 95% CI J",
    "raw median J",
    "median s",
  ];
  const rows: string[][] = [];
  for (const c of s.commits) {
    const subject = truncate(c.subject, 40);
    const domains = Object.entries(c.domains);
    if (domains.length === 0) rows.push([c.short, subject, "-", String(c.runs), "-", "-", "-", "-"]);
    for (const [domain, d] of domains) {
      rows.push([
        c.short,
        subject,
        domain,
        String(c.runs),
        // Net is "-" where the baseline was unknown; the raw median still shows.
        d.net_median_j === null ? "-" : joules(d.net_median_j),
        d.ci95_j === null ? "-" : `${joules(d.ci95_j[0])} .. ${joules(d.ci95_j[1])}`,
        joules(d.raw_median_j),
        d.median_s.toFixed(3),
      ]);
    }
  }
  if (s.estimated) lines.push("[ESTIMATED: no real energy sensor; see the warnings]");
  lines.push(...formatTable(header, rows), "");
  for (const k of s.skipped)
    lines.push(`skipped ${k.commit.slice(0, 12)}: ${k.reason}${k.log ? ` (log: ${k.log})` : ""}`);
  lines.push(`results: ${s.out}`);
  if (s.interrupted) lines.push(`interrupted: the runs done are kept; continue with \`emp resume ${s.out}\``);
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  return `${lines.join("\n")}\n`;
}

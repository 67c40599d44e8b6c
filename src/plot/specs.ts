// Vega-Lite specifications of emp's three pictures, data inline: power traces of sessions, energy
// per commit along history with confidence intervals, and distributions of energy per run per group.
// Specs only; render.ts turns them into SVG, PNG or an HTML page.
import type { Report } from "../report/analyze.js";
import type { PowerTrace } from "./power.js";

/** A Vega-Lite specification (a JSON object; vega-lite checks it when compiling). */
export type VegaLiteSpec = Record<string, unknown>;

const WIDTH_PX = 720;
const TRACE_HEIGHT_PX = 220;
export const FACET_HEIGHT_PX = 200;
/** The phases of samples.arrow with light shades, so the power line stays the thing to read. */
const PHASE_COLOURS: Record<string, string> = {
  baseline: "#c6dbef",
  warmup: "#fdd0a2",
  run: "#c7e9c0",
  cooldown: "#e0e0e0",
  "post-baseline": "#dadaeb",
  between: "#f0f0f0",
};
const VERDICT_COLOURS = { unchanged: "#4c78a8", regression: "#d62728", improvement: "#2ca02c" } as const;

/**
 * A chart's title; over estimated energy it carries the same ESTIMATED mark as the tables, in red,
 * so that a picture passed around without its table cannot pass for a measurement.
 */
export function chartTitle(text: string, estimated: boolean): string | Record<string, unknown> {
  return estimated
    ? {
        text,
        subtitle: "ESTIMATED: no real energy sensor (a model, not a measurement)",
        subtitleColor: "#d62728",
      }
    : text;
}

/** How a group is named on an axis: short sha and subject for a commit, else its label. */
export function groupLabel(group: Report["groups"][number]): string {
  if (group.commit === null) return group.short;
  const subject = group.subject ?? "";
  return subject === ""
    ? group.short
    : `${group.short} ${subject.length > 28 ? `${subject.slice(0, 27)}…` : subject}`;
}

/**
 * One chart per session: power per domain over time (a line per domain), the phases as shaded
 * spans behind it, and each domain's idle baseline power as a dashed rule.
 */
export function traceSpec(
  traces: readonly PowerTrace[],
  baselineW: ReadonlyMap<string, Record<string, number>>,
) {
  const charts = traces.map((trace, index) => {
    const baselines = Object.entries(baselineW.get(trace.session) ?? {}).map(([domain, power_w]) => ({
      domain,
      power_w,
    }));
    return {
      title: `power, session ${trace.session}`,
      width: WIDTH_PX,
      height: TRACE_HEIGHT_PX,
      layer: [
        {
          name: `trace${index}_phases`,
          data: { values: trace.phases },
          mark: { type: "rect", opacity: 0.6 },
          encoding: {
            x: { field: "start_s", type: "quantitative", title: "time since the session began, s" },
            x2: { field: "end_s" },
            color: {
              field: "phase",
              type: "nominal",
              title: "phase",
              scale: { domain: Object.keys(PHASE_COLOURS), range: Object.values(PHASE_COLOURS) },
            },
          },
        },
        {
          name: `trace${index}_power`,
          data: { values: trace.points },
          mark: { type: "line", strokeWidth: 1.2 },
          encoding: {
            x: { field: "t_s", type: "quantitative" },
            y: { field: "power_w", type: "quantitative", title: "power, W" },
            color: { field: "domain", type: "nominal", title: "domain" },
            tooltip: [
              { field: "domain" },
              { field: "t_s", format: ".3f", title: "s" },
              { field: "power_w", format: ".2f", title: "W" },
            ],
          },
        },
        {
          name: `trace${index}_baseline`,
          data: { values: baselines },
          mark: { type: "rule", strokeDash: [6, 4] },
          encoding: {
            y: { field: "power_w", type: "quantitative" },
            // The line's legend already names the domains' colours.
            color: { field: "domain", type: "nominal", legend: null },
            tooltip: [{ field: "domain" }, { field: "power_w", format: ".2f", title: "baseline W" }],
          },
        },
      ],
      resolve: { scale: { color: "independent" } },
    };
  });
  return charts.length === 1 ? (charts[0] as VegaLiteSpec) : { vconcat: charts };
}

/**
 * Mean energy per run of each group in history order with its 95 % confidence interval, one row per
 * domain (each its own scale, from 0 so heights compare as ratios); points coloured by the verdict
 * of the comparison that leads to them.
 */
export function historySpec(report: Report): VegaLiteSpec {
  const verdicts = new Map(report.comparisons.map((c) => [`${c.domain}\u0000${c.to}`, c.verdict]));
  const labels = report.groups.map(groupLabel);
  const values = report.groups.flatMap((g, order) =>
    report.domains.flatMap((domain) => {
      const d = g.domains[domain];
      if (d === undefined) return [];
      return [
        {
          order,
          group: groupLabel(g),
          domain,
          n: d.n,
          mean_j: d.mean_j,
          median_j: d.median_j,
          ci_lo_j: d.ci95_j[0],
          ci_hi_j: d.ci95_j[1],
          verdict: verdicts.get(`${domain}\u0000${g.id}`) ?? "unchanged",
        },
      ];
    }),
  );
  const x = {
    field: "group",
    type: "ordinal",
    sort: labels,
    title: report.mode === "commits" ? "commit (oldest first)" : "label",
    axis: { labelAngle: -30, labelLimit: 220 },
  };
  return {
    title: chartTitle(`${report.energy} energy per run: mean and 95 % CI`, report.estimated),
    data: { values },
    facet: { row: { field: "domain", type: "nominal", title: null } },
    spec: {
      width: WIDTH_PX,
      height: FACET_HEIGHT_PX,
      layer: [
        {
          name: "trend",
          mark: { type: "line", color: "#9e9e9e" },
          encoding: { x, y: { field: "mean_j", type: "quantitative" } },
        },
        {
          name: "ci",
          mark: { type: "errorbar", ticks: true, size: 14, thickness: 1.5, color: "#555555" },
          encoding: {
            x,
            y: { field: "ci_lo_j", type: "quantitative", title: "energy per run, J", scale: { zero: true } },
            y2: { field: "ci_hi_j" },
          },
        },
        {
          name: "means",
          mark: { type: "point", filled: true, size: 60 },
          encoding: {
            x,
            y: { field: "mean_j", type: "quantitative", scale: { zero: true } },
            color: {
              field: "verdict",
              type: "nominal",
              title: "change",
              scale: { domain: Object.keys(VERDICT_COLOURS), range: Object.values(VERDICT_COLOURS) },
            },
            tooltip: [
              { field: "group" },
              { field: "n", title: "runs" },
              { field: "mean_j", format: ".4f", title: "mean J" },
              { field: "median_j", format: ".4f", title: "median J" },
              { field: "ci_lo_j", format: ".4f", title: "CI low J" },
              { field: "ci_hi_j", format: ".4f", title: "CI high J" },
            ],
          },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  };
}

export interface RunEnergy {
  group: string;
  domain: string;
  energy_j: number;
}

/** Every run's energy as a tick over a box plot (quartiles, whiskers to min and max), per group and domain. */
export function distributionSpec(report: Report, runs: readonly RunEnergy[]): VegaLiteSpec {
  const labels = report.groups.map(groupLabel);
  const x = {
    field: "group",
    type: "nominal",
    sort: labels,
    title: report.mode === "commits" ? "commit (oldest first)" : "label",
    axis: { labelAngle: -30, labelLimit: 220 },
  };
  return {
    title: chartTitle(`${report.energy} energy per run: distribution`, report.estimated),
    data: { values: runs },
    facet: { row: { field: "domain", type: "nominal", title: null } },
    spec: {
      width: WIDTH_PX,
      height: FACET_HEIGHT_PX,
      layer: [
        {
          name: "box",
          mark: { type: "boxplot", extent: "min-max", size: 40, opacity: 0.5 },
          encoding: {
            x,
            // Not from 0: the spread of the runs is what this picture shows.
            y: {
              field: "energy_j",
              type: "quantitative",
              title: "energy per run, J",
              scale: { zero: false },
            },
          },
        },
        {
          name: "runs",
          mark: { type: "tick", color: "#333333", thickness: 1, size: 28 },
          encoding: {
            x,
            y: { field: "energy_j", type: "quantitative" },
            tooltip: [{ field: "group" }, { field: "energy_j", format: ".4f", title: "J" }],
          },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  };
}

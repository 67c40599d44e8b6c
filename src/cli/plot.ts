// `emp plot DIR... -o FILE`: power traces, energy along history and distributions, as SVG, PNG or a
// self-contained HTML page, picked by FILE's extension.

import { existsSync, statSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { Command } from "commander";
import { z } from "zod";
import { UsageError, WriteError } from "../errors.js";
import { buildPlot, PLOT_KINDS, type PlotKind } from "../plot/build.js";
import { type PlotFormat, renderHtml, renderPng, renderSvg } from "../plot/render.js";
import { configNote, ENERGY_KINDS, type EnergyKind, loadResults } from "../report/load.js";
import { writeFileAtomic } from "../results/atomic.js";
import { summaryOf } from "./commands.js";
import { collectList, configOption, numberOption, parseOptions } from "./options.js";

const FORMATS: Record<string, PlotFormat> = { ".svg": "svg", ".png": "png", ".html": "html", ".htm": "html" };

const optionsSchema = z.object({
  output: z
    .string({ error: "no output file: name one with -o FILE.svg, FILE.png or FILE.html" })
    .min(1, "no output file: name one with -o FILE.svg, FILE.png or FILE.html")
    .superRefine((path, ctx) => {
      if (FORMATS[extname(path).toLowerCase()] === undefined) {
        ctx.addIssue({
          code: "custom",
          message: `-o ${path}: the extension picks the format and must be .svg, .png or .html`,
        });
      }
    }),
  kind: z
    .enum(PLOT_KINDS as [PlotKind, ...PlotKind[]], {
      error: (issue) => `--kind takes ${PLOT_KINDS.join(", ")}, got '${String(issue.input)}'`,
    })
    .default("all"),
  domain: z.array(z.string()).optional(),
  session: z.array(z.string()).optional(),
  energy: z
    .enum(ENERGY_KINDS as [EnergyKind, ...EnergyKind[]], {
      error: (issue) => `--energy takes ${ENERGY_KINDS.join(" or ")}, got '${String(issue.input)}'`,
    })
    .default("net"),
  scale: numberOption("--scale", (n) => n > 0 && n <= 8, "a factor in (0, 8]"),
  config: configOption(),
});

export interface PlotCliOptions {
  dirs: string[];
  output: string;
  format: PlotFormat;
  kind: PlotKind;
  energy: EnergyKind;
  domains?: string[];
  sessions?: string[];
  /** PNG only: pixels per SVG pixel. */
  scale: number;
  /** A study config's hash or prefix; default: the one measured last. */
  config?: string;
}

export function parsePlotOptions(dirs: string[], raw: unknown): PlotCliOptions {
  const o = parseOptions(optionsSchema, raw, "plot");
  if (dirs.length === 0) {
    throw new UsageError("no results directory given", {
      suggestion: "name one or more: `emp plot emp-results/<run> -o plot.html`",
    });
  }
  const parent = dirname(resolve(o.output));
  if (!existsSync(parent) || !statSync(parent).isDirectory()) {
    throw new UsageError(`-o ${o.output}: the directory ${parent} does not exist`, {
      suggestion: `create it first (mkdir -p ${parent}) or write the plot elsewhere`,
    });
  }
  return {
    dirs,
    output: o.output,
    format: FORMATS[extname(o.output).toLowerCase()] as PlotFormat,
    kind: o.kind,
    energy: o.energy,
    domains: o.domain,
    sessions: o.session,
    scale: o.scale ?? 2,
    config: o.config,
  };
}

export async function runPlot(options: PlotCliOptions): Promise<void> {
  const results = loadResults(options.dirs, { config: options.config });
  for (const line of results.repaired) process.stderr.write(`emp: ${line}\n`);
  for (const dir of results.dirs) {
    const note = configNote(dir, options.config !== undefined);
    if (note !== undefined) process.stderr.write(`note: ${note}\n`);
  }
  const plot = buildPlot(results, options);
  for (const warning of plot.warnings) process.stderr.write(`warning: ${warning}\n`);
  let bytes: string | Uint8Array;
  if (options.format === "html") {
    bytes = renderHtml(plot.spec, `emp plot: ${plot.parts.join(", ")} of ${options.dirs.join(" ")}`);
  } else {
    const svg = await renderSvg(plot.spec);
    bytes = options.format === "svg" ? svg : renderPng(svg, options.scale);
  }
  try {
    writeFileAtomic(resolve(options.output), bytes);
  } catch (error) {
    throw error instanceof WriteError ? error.elsewhere("write the plot elsewhere (-o FILE)") : error;
  }
  process.stdout.write(`${options.output}: ${plot.parts.join(", ")}\n`);
}

export function plotCommand(): Command {
  return new Command("plot")
    .description(summaryOf("plot"))
    .argument("[dirs...]", "results directories written by emp measure or emp run")
    .option("-o, --output <file>", "the picture to write; .svg, .png or .html picks the format")
    .option("--kind <kind>", "trace, history, distribution or all (default all)")
    .option("--domain <name>", "only this energy domain (repeat or comma-separate for several)", collectList)
    .option("--session <id>", "trace only this session's power (repeat for several)", collectList)
    .option("--energy <kind>", "net (idle baseline subtracted) or raw energy per run (default net)")
    .option("--scale <factor>", "PNG only: pixels per SVG pixel (default 2)")
    .option(
      "--config <hash>",
      "of a study run with several configs, this one (a unique prefix will do; default: the one measured last)",
    )
    .action(async (dirs: string[], raw: unknown) => {
      await runPlot(parsePlotOptions(dirs, raw));
    });
}

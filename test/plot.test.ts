// emp plot on the 3-commit fixture study: SVG marks that carry the real numbers at the right
// coordinates, a PNG of the right size, an HTML page with everything inline, and (where Chromium is
// installed) that page opened headless with no network and screenshotted.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { median } from "simple-statistics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPlot } from "../src/plot/build.js";
import { readPowerTrace } from "../src/plot/power.js";
import { renderHtml, renderPng, renderSvg } from "../src/plot/render.js";
import { FACET_HEIGHT_PX } from "../src/plot/specs.js";
import { buildReport, REPORT_DEFAULTS } from "../src/report/analyze.js";
import { loadResults } from "../src/report/load.js";
import { mulberry32 } from "../src/stats/random.js";
import {
  FIXTURE_BASELINE_W,
  FIXTURE_RUN_S,
  noisy,
  scratchDir,
  writeResults,
  writeThreeCommitStudy,
} from "./fixtures/study.js";
import { runEmp } from "./helpers/emp-cli.js";
import { decodePng, PNG_SIGNATURE, pngSize } from "./helpers/png.js";

let scratch: string;
let study: string;
let shas: string[];

beforeAll(() => {
  scratch = scratchDir("emp-plot-");
  study = join(scratch, "study");
  shas = writeThreeCommitStudy(study);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The items (paths, lines, rects) inside the mark group whose class names `name`. */
function markItems(svg: string, name: string): string[] {
  const start = svg.indexOf(`role-mark ${name}"`);
  if (start < 0) return [];
  const open = svg.indexOf(">", start) + 1;
  const close = svg.indexOf("</g>", open);
  return svg.slice(open, close).match(/<(path|line|rect)\b[^>]*\/>/g) ?? [];
}

function translateY(item: string): number {
  const match = /transform="translate\(([-\d.e]+),([-\d.e]+)\)"/.exec(item);
  if (!match) throw new Error(`no translate in ${item}`);
  return Number(match[2]);
}

function ariaNumber(item: string, field: string): number {
  const match = new RegExp(`${field}: ([-\\d.e]+)`).exec(item);
  if (!match) throw new Error(`no ${field} in ${item}`);
  return Number(match[1]);
}

describe("SVG", () => {
  it("history: one point per commit, at the mean of its runs, heights in proportion to it", async () => {
    const results = loadResults([study]);
    const report = buildReport(results, { ...REPORT_DEFAULTS, domains: ["package-0"] });
    const plot = buildPlot(results, { kind: "history", energy: "net", domains: ["package-0"] });
    const svg = await renderSvg(plot.spec);
    const points = markItems(svg, "means_marks");
    expect(points).toHaveLength(3);
    const means = report.groups.map((g) => g.domains["package-0"]?.mean_j as number);
    points.forEach((p, i) => {
      expect(ariaNumber(p, "mean_j")).toBeCloseTo(means[i] as number, 9);
    });
    // The y scale starts at 0 at the bottom of the facet: height above it is proportional to J.
    const heights = points.map((p) => FACET_HEIGHT_PX - translateY(p));
    expect((heights[1] as number) / (heights[0] as number)).toBeCloseTo(
      (means[1] as number) / (means[0] as number),
      6,
    );
    expect((heights[2] as number) / (heights[0] as number)).toBeCloseTo(
      (means[2] as number) / (means[0] as number),
      6,
    );
    // In history order, the middle commit (twice the energy) is the highest point.
    expect(points[1]).toMatch(/change: regression/);
    expect(points[2]).toMatch(/change: improvement/);
    expect(svg).toContain(shas[1]?.slice(0, 7));
  });

  it("distribution: one tick per measured run, at that run's energy", async () => {
    const results = loadResults([study]);
    const plot = buildPlot(results, { kind: "distribution", energy: "net", domains: ["package-0"] });
    const svg = await renderSvg(plot.spec);
    const ticks = markItems(svg, "runs_marks");
    const measured = results.rows.filter((r) => !r.warmup).map((r) => r.netJ["package-0"] as number);
    expect(ticks).toHaveLength(24);
    const drawn = ticks.map((t) => ariaNumber(t, "J")).sort((a, b) => a - b);
    const expected = measured.map((j) => Number(j.toFixed(4))).sort((a, b) => a - b);
    expect(drawn).toEqual(expected);
  });

  it("trace: power from the wrapping counters, runs at their power, the baseline level drawn", async () => {
    const results = loadResults([study]);
    const session = "study-a-0";
    const path = results.dirs[0]?.samples.get(session) as string;
    const trace = readPowerTrace(path, session, { domains: ["package-0"] });
    // Power inside each run span: net / duration + baseline. The middle commit's runs are every
    // third, at 8 J: 21 W; the others at 4 J: 13 W; the warmup at 40 J: 85 W; baseline 5 W.
    const inside = (from: number, to: number) =>
      trace.points.filter((p) => p.t_s > from + 0.05 && p.t_s < to - 0.05).map((p) => p.power_w);
    const runs = trace.phases.filter((p) => p.phase === "run");
    expect(runs).toHaveLength(12);
    const runPowers = runs.map((r) => median(inside(r.start_s, r.end_s)));
    const baselineW = FIXTURE_BASELINE_W["package-0"] as number;
    runPowers.forEach((w, i) => {
      const level = i % 3 === 2 ? 8 : 4;
      expect(w).toBeGreaterThan((level * 0.97) / FIXTURE_RUN_S + baselineW);
      expect(w).toBeLessThan((level * 1.03) / FIXTURE_RUN_S + baselineW);
    });
    const warmup = trace.phases.find((p) => p.phase === "warmup");
    expect(median(inside(warmup?.start_s ?? 0, warmup?.end_s ?? 0))).toBeCloseTo(
      40 / FIXTURE_RUN_S + baselineW,
      6,
    );
    const baseline = trace.phases.find((p) => p.phase === "baseline");
    expect(median(inside(baseline?.start_s ?? 0, baseline?.end_s ?? 0))).toBeCloseTo(baselineW, 6);
    // The counter wrapped (it started 60 J below its range) without a spike or a dip.
    expect(Math.max(...trace.points.map((p) => p.power_w))).toBeLessThan(86);
    expect(Math.min(...trace.points.map((p) => p.power_w))).toBeGreaterThan(4.9);

    const plot = buildPlot(results, {
      kind: "trace",
      energy: "net",
      domains: ["package-0"],
      sessions: [session],
    });
    const svg = await renderSvg(plot.spec);
    expect(markItems(svg, "trace0_phases_marks")).toHaveLength(trace.phases.length);
    const rules = markItems(svg, "trace0_baseline_marks");
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatch(/baseline W: 5\.00/);
    expect(markItems(svg, "trace0_power_marks")).toHaveLength(1);
  });
});

describe("PNG and HTML", () => {
  it("PNG: the signature, and the SVG's size times the scale", async () => {
    const plot = buildPlot(loadResults([study]), { kind: "history", energy: "net" });
    const svg = await renderSvg(plot.spec);
    const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)?.[1]);
    const height = Number(/<svg[^>]* height="(\d+)"/.exec(svg)?.[1]);
    const png = renderPng(svg, 2);
    expect(Array.from(png.subarray(0, 8))).toEqual(Array.from(PNG_SIGNATURE));
    expect(pngSize(png)).toEqual({ width: 2 * width, height: 2 * height });
    const image = decodePng(png);
    expect(nonWhiteShare(image.pixels, image.channels)).toBeGreaterThan(0.01);
  });

  it("HTML: the spec embedded, vega, vega-lite and vega-embed inline, no http(s) script or link", () => {
    const plot = buildPlot(loadResults([study]), { kind: "all", energy: "net" });
    const html = renderHtml(plot.spec, "test");
    expect(html).not.toMatch(/<script[^>]*\bsrc=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<(img|iframe)[^>]*\bsrc="?https?:/i);
    const embedded = /<script id="spec" type="application\/json">([\s\S]*?)<\/script>/.exec(html)?.[1];
    expect(JSON.parse(embedded as string)).toEqual(JSON.parse(JSON.stringify(plot.spec)));
    expect(html).toContain("vegaEmbed(");
    // One inline script per library, each closed once.
    expect(html.match(/<script>\/\* (vega|vega-lite|vega-embed) \*\//g)).toHaveLength(3);
  });
});

function nonWhiteShare(pixels: Uint8Array, channels: number): number {
  let nonWhite = 0;
  const count = pixels.length / channels;
  for (let i = 0; i < pixels.length; i += channels) {
    if ((pixels[i] as number) < 240 || (pixels[i + 1] as number) < 240 || (pixels[i + 2] as number) < 240)
      nonWhite++;
  }
  return nonWhite / count;
}

function findChromium(): string | null {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    const found = spawnSync("which", [name], { encoding: "utf8" });
    if (found.status === 0 && found.stdout.trim() !== "") return found.stdout.trim();
  }
  return null;
}

const chromium = findChromium();
if (chromium === null) {
  console.log(
    "skipped: the headless Chromium test needs chromium on PATH (Debian: apt-get install chromium)",
  );
}

describe("HTML in headless Chromium", () => {
  it.skipIf(chromium === null)("opens from file:// with no network and draws the plot", () => {
    const out = join(scratch, "chromium");
    mkdirSync(out, { recursive: true });
    const page = join(out, "plot.html");
    const result = runEmp(["plot", study, "-o", page]);
    expect(result.status).toBe(0);
    // No network at all: every request but file:// would fail, so a drawn plot used none.
    const flags = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--proxy-server=127.0.0.1:9",
      "--host-resolver-rules=MAP * ~NOTFOUND",
      "--window-size=1100,1900",
    ];
    const dom = execFileSync(
      chromium as string,
      [...flags, "--virtual-time-budget=10000", "--dump-dom", `file://${page}`],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        timeout: 60_000,
        // The DOM holds the inlined libraries: about a megabyte.
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    // Booleans, not the DOM itself: a failure would print a megabyte of inlined library.
    expect(dom.includes("means_marks")).toBe(true);
    expect(dom.includes("runs_marks")).toBe(true);
    expect(dom.includes("trace0_power_marks")).toBe(true);
    // vega-embed's error, if any, lands in the #error div.
    expect(dom.includes('<div id="error"></div>')).toBe(true);
    const shot = join(out, "screenshot.png");
    execFileSync(
      chromium as string,
      [...flags, "--virtual-time-budget=10000", `--screenshot=${shot}`, `file://${page}`],
      {
        stdio: "ignore",
        timeout: 60_000,
      },
    );
    const image = decodePng(readFileSync(shot));
    expect(image.width).toBe(1100);
    expect(nonWhiteShare(image.pixels, image.channels)).toBeGreaterThan(0.02);
  });
});

describe("emp plot on the command line", () => {
  it("writes SVG, PNG and HTML picked by the extension", () => {
    for (const ext of ["svg", "png", "html"]) {
      const file = join(scratch, `cli.${ext}`);
      const result = runEmp(["plot", study, "-o", file, "--kind", "all"]);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain("history, distribution, trace");
      const bytes = readFileSync(file);
      if (ext === "png") expect(Array.from(bytes.subarray(0, 8))).toEqual(Array.from(PNG_SIGNATURE));
      if (ext === "svg") expect(bytes.toString("utf8")).toMatch(/^<svg /);
      if (ext === "html") expect(bytes.toString("utf8")).toMatch(/^<!doctype html>/);
    }
  });

  it("plots labels of emp measure sessions", () => {
    const random = mulberry32(3);
    const dirs = ["before", "after"].map((label, i) => {
      const dir = join(scratch, `label-${label}`);
      const runs = Array.from({ length: 5 }, () => ({
        label,
        netJ: { "package-0": noisy(random, 4 + i), "dram-0": noisy(random, 0.5) },
      }));
      writeResults(dir, [{ id: `s-${label}`, runs }], "session");
      return dir;
    });
    const file = join(scratch, "labels.svg");
    const result = runEmp(["plot", ...dirs, "-o", file, "--kind", "distribution"]);
    expect(result.status).toBe(0);
    const svg = readFileSync(file, "utf8");
    expect(markItems(svg, "runs_marks")).toHaveLength(5 * 2);
    expect(svg).toContain("before");
    expect(svg).toContain("after");
  });

  const cases: [string, string[], RegExp][] = [
    ["an unknown extension", ["plot", "STUDY", "-o", "OUT/plot.pdf"], /extension picks the format/],
    ["no output file", ["plot", "STUDY"], /no output file/],
    ["a missing directory", ["plot", "/nonexistent/results", "-o", "OUT/x.svg"], /no such directory/],
    [
      "an output folder that does not exist",
      ["plot", "STUDY", "-o", "/nonexistent/dir/x.svg"],
      /does not exist/,
    ],
    ["an unknown kind", ["plot", "STUDY", "-o", "OUT/x.svg", "--kind", "pie"], /--kind takes trace/],
    [
      "an unknown session",
      ["plot", "STUDY", "-o", "OUT/x.svg", "--session", "nope"],
      /no samples of session/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: exit 2 with the fix, no stack trace`, () => {
      const result = runEmp(args.map((a) => a.replace("STUDY", study).replace("OUT", scratch)));
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/fix: /);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it("a trace of results without samples is a usage error; `all` leaves the trace out and says so", () => {
    const bare = join(scratch, "runs-only");
    mkdirSync(bare, { recursive: true });
    copyFileSync(join(study, "runs.arrow"), join(bare, "runs.arrow"));
    const trace = runEmp(["plot", bare, "-o", join(scratch, "t.svg"), "--kind", "trace"]);
    expect(trace.status).toBe(2);
    expect(trace.stderr).toMatch(/no power to trace/);
    const all = runEmp(["plot", bare, "-o", join(scratch, "a.svg")]);
    expect(all.status).toBe(0);
    expect(all.stdout).toContain("history, distribution");
    expect(all.stderr).toMatch(/power trace is left out/);
  });
});

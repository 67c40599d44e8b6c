// Vega-Lite specs rendered without a browser: SVG through Vega's headless View, PNG by rasterising
// that SVG with resvg, and an HTML page that carries Vega, Vega-Lite and vega-embed inline so it
// opens with no network.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { VegaLiteSpec } from "./specs.js";

export type PlotFormat = "svg" | "png" | "html";

export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const vega = compile(spec as unknown as TopLevelSpec).spec;
  const view = new View(parse(vega), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG of the SVG at `scale` times its size in pixels (2 suits a high-density screen or print). */
export function renderPng(svg: string, scale: number): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    // Vega asks for the generic sans-serif; resvg's default for it (Arial) is missing on most Linux.
    font: { loadSystemFonts: true, sansSerifFamily: "DejaVu Sans", defaultFontFamily: "DejaVu Sans" },
  });
  return resvg.render().asPng();
}

/**
 * The browser build a package names for script tags (its `jsdelivr` or `unpkg` field), found from
 * its module entry: the packages' exports maps hide their build folders from plain resolution.
 */
function browserBuild(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as {
        name?: string;
        jsdelivr?: string;
        unpkg?: string;
      };
      const build = pkg.jsdelivr ?? pkg.unpkg;
      if (pkg.name === name && build !== undefined) return readFileSync(join(dir, build), "utf8");
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the browser build of ${name}`);
    dir = parent;
  }
}

/** Script text safe inside <script>...</script>: the HTML parser must not see an end tag or comment. */
function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string,
  );
}

/** A page that renders the spec with vega-embed from inlined libraries; nothing is fetched. */
export function renderHtml(spec: VegaLiteSpec, title: string): string {
  // JSON with "<" escaped is still the same JSON to JavaScript and can never close the script.
  const json = JSON.stringify(spec).replace(/</g, "\\u003c");
  const scripts = ["vega", "vega-lite", "vega-embed"]
    .map((name) => `<script>/* ${name} */\n${inlineScript(browserBuild(name))}\n</script>`)
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>body { font-family: sans-serif; margin: 16px; } #error { color: #b00020; white-space: pre-wrap; }</style>
${scripts}
</head>
<body>
<div id="plot"></div>
<div id="error"></div>
<script id="spec" type="application/json">${json}</script>
<script>
const spec = JSON.parse(document.getElementById("spec").textContent);
vegaEmbed("#plot", spec, { mode: "vega-lite", renderer: "svg", actions: false }).catch((error) => {
  document.getElementById("error").textContent = "the plot could not be drawn: " + error.message;
});
</script>
</body>
</html>
`;
}

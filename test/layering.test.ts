// Every import in src/ points down: a folder may import its own files, its peers on the same tier
// and the tiers below it, never one above. The table below is the one place the layer order is kept.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

/**
 * src's folders, bottom tier first; folders on one tier are peers. errors, native and index are the
 * files src/errors.ts, src/native.ts and src/index.ts (index, the package's entry, re-exports all).
 */
const TIERS: readonly (readonly string[])[] = [
  ["errors"],
  ["native", "util"],
  ["stats", "host"],
  ["analysis", "sampling"],
  ["energy", "results"],
  ["git"],
  ["measure"],
  ["config"],
  ["ledger"],
  ["probe", "report"],
  ["compare", "plot", "slurm"],
  ["pipeline"],
  ["cli"],
  ["index"],
];

const TIER_OF = new Map(TIERS.flatMap((tier, i) => tier.map((name) => [name, i] as const)));

/** The layer a path under src/ belongs to: its top folder, or the file's name for src/*.ts. */
function layerOf(path: string): string {
  const parts = relative(SRC, path).split(sep);
  return parts.length > 1 ? (parts[0] as string) : (parts[0] as string).replace(/\.[jt]s$/, "");
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** `from "./x.js"` (imports and re-exports), `import("./x.js")` and `import "./x.js"`: relative only. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)"(\.{1,2}\/[^"]+)"/gm;

interface Violation {
  file: string;
  line: number;
  specifier: string;
  why: string;
}

function violations(): Violation[] {
  const found: Violation[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, "utf8");
    const from = layerOf(file);
    const fromTier = TIER_OF.get(from);
    const name = relative(join(SRC, ".."), file);
    if (fromTier === undefined) {
      found.push({ file: name, line: 1, specifier: "", why: `layer "${from}" is not in the table` });
      continue;
    }
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] as string;
      const target = resolve(dirname(file), specifier);
      if (relative(SRC, target).startsWith("..")) continue;
      const to = layerOf(target);
      const toTier = TIER_OF.get(to);
      const line = text.slice(0, match.index).split("\n").length;
      if (toTier === undefined) {
        found.push({ file: name, line, specifier, why: `layer "${to}" is not in the table` });
      } else if (toTier > fromTier) {
        found.push({
          file: name,
          line,
          specifier,
          why: `${from} (tier ${fromTier}) imports ${to} (tier ${toTier})`,
        });
      }
    }
  }
  return found;
}

describe("layering", () => {
  it("finds the imports it checks", () => {
    // A regex that matched nothing would pass every tree: the pipeline imports several layers.
    const text = readFileSync(join(SRC, "pipeline", "session.ts"), "utf8");
    expect([...text.matchAll(IMPORT)].length).toBeGreaterThan(10);
  });

  it("has no import from a higher layer", () => {
    const lines = violations().map((v) => `${v.file}:${v.line} imports "${v.specifier}": ${v.why}`);
    expect(lines, `upward imports:\n${lines.join("\n")}`).toEqual([]);
  });
});

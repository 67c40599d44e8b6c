// `npm run bench`: runs every bench/*.bench.mjs in turn, then prints their headline figures in
// one table, each next to its target.
// usage: npm run bench -- [--quick] [--only a,b] [--skip a,b] [--markdown FILE]
//   --quick      short durations (about 3 minutes in all); without it, full durations (about
//                25 minutes, the 10-minute soak included)
//   --only/--skip  bench names without .bench.mjs: sampler, overhead, arrow, soak, runs-append, startup,
//                  slow-sources
//   --markdown   also writes the table, the machine and the command as Markdown (for RESULTS.md)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { machine } from "./lib.mjs";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    skip: { type: "string" },
    markdown: { type: "string" },
  },
});
const list = (s) => (s ? s.split(",").map((x) => x.trim()) : null);
const only = list(args.only);
const skip = list(args.skip) ?? [];

const dir = fileURLToPath(new URL(".", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "emp-bench-summary-"));
const started = new Date();
const figures = [];
let failed = 0;
try {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".bench.mjs"))
    .sort()) {
    const name = file.replace(".bench.mjs", "");
    if ((only && !only.includes(name)) || skip.includes(name)) continue;
    console.log(`\n== ${file}`);
    const summary = join(scratch, `${name}.json`);
    const result = spawnSync(
      process.execPath,
      [`${dir}${file}`, ...(args.quick ? ["--quick"] : []), "--summary", summary],
      { stdio: "inherit" },
    );
    if (result.status !== 0) {
      failed++;
      continue;
    }
    try {
      for (const f of JSON.parse(readFileSync(summary, "utf8"))) figures.push({ bench: name, ...f });
    } catch {
      // a bench that skipped itself (no compiler, no perf) leaves no figures
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const met = (ok) => (ok === true ? "yes" : ok === false ? "NO" : "");
const rows = figures.map((f) => ({ ...f, met: met(f.ok), value: String(f.value) }));
const columns = {
  bench: "bench",
  figure: "figure",
  value: "value",
  unit: "unit",
  target: "target",
  met: "met",
};
console.log(`\n== summary (${args.quick ? "quick" : "full"})`);
const widths = Object.entries(columns).map(([k, h]) =>
  Math.max(h.length, ...rows.map((r) => String(r[k]).length)),
);
const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join("  ");
console.log(line(Object.values(columns)));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(Object.keys(columns).map((k) => r[k])));

if (args.markdown) {
  const m = machine();
  const command = `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim();
  const md = [
    `Run ${started.toISOString()} with \`${command}\`.`,
    "",
    `Machine: ${m.cpuModel}, ${m.cores} CPUs, Linux ${m.kernel}, virtualisation: ${m.virt}, Node ${m.node}, ` +
      `load average at the end ${m.load}.`,
    "",
    `| ${Object.values(columns).join(" | ")} |`,
    `| ${Object.keys(columns)
      .map(() => "---")
      .join(" | ")} |`,
    ...rows.map(
      (r) =>
        `| ${Object.keys(columns)
          .map((k) => r[k])
          .join(" | ")} |`,
    ),
    "",
  ].join("\n");
  writeFileSync(args.markdown, md);
  console.log(`\nwrote ${args.markdown}`);
}
process.exitCode = failed === 0 ? 0 : 1;

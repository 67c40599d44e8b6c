// How long emp takes to start, against Node itself: `emp --help`, `emp --version` and `emp report`
// of a small session, each against `node -e 0`, medians of 7 in one run of this script (a loaded
// machine slows both sides alike, so the ratio is what is compared). Target: --help and --version
// within 2.5x of `node -e 0`.
// usage: node bench/startup.bench.mjs [--runs N] [--json] [--summary FILE]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs, machine, median, round, table, writeSummary } from "./lib.mjs";

const args = benchArgs({ runs: { type: "string" } });
const RUNS = Number(args.runs ?? 7);
const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

/** Wall time of one start of `node argv`, ms. */
function once(argv) {
  const t0 = process.hrtime.bigint();
  const result = spawnSync(process.execPath, argv, { stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (result.status !== 0)
    throw new Error(`node ${argv.join(" ")} exited with ${result.status}: ${result.stderr}`);
  return ms;
}

const scratch = mkdtempSync(join(tmpdir(), "emp-startup-"));
try {
  // A session to report on, measured on the labelled estimate.
  const session = join(scratch, "session");
  once([
    main,
    "measure",
    "--baseline",
    "0.2",
    "--repeat",
    "3",
    "--counters",
    "task-clock",
    "--out",
    session,
    "--",
    "true",
  ]);
  const commands = {
    "node -e 0": ["-e", "0"],
    "emp --help": [main, "--help"],
    "emp --version": [main, "--version"],
    "emp report DIR": [main, "report", session],
  };
  const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  // Interleaved, so drift in the machine's load spreads over every command alike.
  for (let i = 0; i < RUNS; i++)
    for (const [name, argv] of Object.entries(commands)) times[name].push(once(argv));
  const node = median(times["node -e 0"]);
  const rows = Object.entries(times).map(([what, ms]) => ({
    what,
    ms: round(median(ms), 1),
    ratio: round(median(ms) / node, 2),
  }));
  const ratioOf = (what) => rows.find((r) => r.what === what)?.ratio ?? Number.NaN;
  const summary = ["emp --help", "emp --version"].map((what) => ({
    figure: `${what} start-up vs node -e 0`,
    value: ratioOf(what),
    unit: "x",
    target: "<= 2.5",
    ok: ratioOf(what) <= 2.5,
  }));
  const m = machine();
  if (args.json) console.log(JSON.stringify({ machine: m, runs: RUNS, rows }, null, 2));
  else {
    console.log(
      `startup: medians of ${RUNS} starts, interleaved; ${m.cpuModel} x${m.cores}, load ${m.load}\n`,
    );
    table(rows, { what: "command", ms: "median ms", ratio: "vs node -e 0" });
  }
  writeSummary(args.summary, summary);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// The cost of keeping one more run, at 10, 1,000 and 10,000 runs: it must not grow with the runs
// already kept. Two parts:
// - runs.arrow: one append through RunsWriter (its last record batch and footer rewritten behind
//   an undo journal, two fsyncs), timed append by append up to 10,000 runs, on disk and on tmpfs;
//   beside it, writing the whole table of that many runs at once (atomically), which is what an
//   append cost when runs.arrow was rewritten after every run.
// - emp measure as a whole: `true` measured on the labelled estimate into a results folder on
//   disk, the time from one run's end to the next's (emp's whole per-run overhead: the settling
//   tail, the drain and commit of samples.arrow, the runs.arrow append, the command's start).
// Each figure is the median over the 50 runs before the count (the 10 before 10), and the
// ratios compare counts measured in the same run of this script.
// usage: node bench/runs-append.bench.mjs [--quick] [--runs N] [--measure-runs N] [--json] [--summary FILE]
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measure, RunsWriter } from "../dist/index.js";
import { EstimateBackend } from "../dist/measure/estimate-backend.js";
import { SessionRecorder } from "../dist/measure/recorder.js";
import { benchArgs, machine, median, round, table, writeSummary } from "./lib.mjs";

const args = benchArgs({ runs: { type: "string" }, "measure-runs": { type: "string" } });
const writerRuns = Number(args.runs ?? 10_000);
// emp measure takes ~40 ms a run here: 10,000 runs are about 7 minutes.
const measureRuns = Number(args["measure-runs"] ?? (args.quick ? 1000 : 10_000));
const POINTS = [10, 1000, 10_000];
const WINDOW = 50;

const DOMAINS = ["package-0", "core-0", "dram-0"];
const METRICS = ["task_clock", "context_switches", "page_faults", "cycles", "instructions", "tree_cpu_time"];
const options = {
  session: "bench",
  domains: DOMAINS,
  metrics: METRICS.map((name) => ({
    name,
    unit: name.endsWith("clock") || name.endsWith("time") ? "ns" : "count",
  })),
  provenance: { emp_version: "bench", host: "bench" },
};

/** A run as emp measure records it: three domains, six metrics, now and then a warning. */
function run(i) {
  const startNs = BigInt(i) * 50_000_000n;
  return {
    label: "",
    index: i,
    run: i,
    warmup: false,
    startNs,
    endNs: startNs + 1_200_000n,
    exitCode: 0,
    signal: null,
    energy: Object.fromEntries(
      DOMAINS.map((d) => [d, { rawJ: 0.01 + i * 1e-6, baselineJ: 0.004, netJ: 0.006 }]),
    ),
    metrics: Object.fromEntries(METRICS.map((m, k) => [m, 1000 * (k + 1) + i])),
    warnings: i % 10 === 0 ? ["exited with 1: its energy is kept but may not be comparable"] : [],
  };
}

/**
 * Per point n, the median of samples[n - WINDOW .. n - 1] (samples[i] belongs to run i + 1), of
 * those that are numbers; points past the samples are left out.
 */
function atPoints(samples, points) {
  return Object.fromEntries(
    points
      .filter((n) => n <= samples.length)
      .map((n) => [n, median(samples.slice(Math.max(0, n - WINDOW), n).filter(Number.isFinite))]),
  );
}

function timeAppends(dir) {
  // A first writer warms the JIT up, so that the figure at 10 runs is not the compiler's.
  const warm = new RunsWriter(join(dir, "warm-up.arrow"), options);
  for (let i = 0; i < 500; i++) warm.append(run(i));
  warm.close?.();
  const writer = new RunsWriter(join(dir, "runs.arrow"), options);
  const ns = [];
  for (let i = 0; i < writerRuns; i++) {
    const record = run(i);
    const started = process.hrtime.bigint();
    writer.append(record);
    ns.push(Number(process.hrtime.bigint() - started));
  }
  writer.close?.();
  return atPoints(ns, POINTS);
}

/** One whole, atomic write of a table of n runs: the per-run cost when every run rewrote the file. */
function timeWholeWrites(dir) {
  const out = {};
  for (const n of POINTS.filter((p) => p <= writerRuns)) {
    const rows = Array.from({ length: n }, (_, i) => run(i));
    const reps = n >= 10_000 ? 3 : 10;
    const ns = [];
    for (let r = 0; r < reps; r++) {
      const started = process.hrtime.bigint();
      new RunsWriter(join(dir, `whole-${n}.arrow`), options, rows).close();
      ns.push(Number(process.hrtime.bigint() - started));
    }
    out[n] = median(ns);
  }
  return out;
}

/** emp measure of `true` on the estimate: ms from each run's end to the next's. */
async function timeMeasure(dir) {
  const backend = new EstimateBackend("energy is ESTIMATED: benchmark", 10);
  const recorder = new SessionRecorder(dir, { emp_version: "bench", host: "bench" });
  recorder.open(
    backend.channels,
    backend.domains.map((d) => d.domain),
    ["task-clock"],
  );
  const ends = [];
  await measure({
    command: ["true"],
    repeat: measureRuns,
    warmup: 0,
    baselineS: 0.1,
    counters: ["task-clock"],
    backend,
    recorder,
    onProgress: (event) => {
      if (event.kind === "run-end") ends.push(performance.now());
    },
  });
  // The first run has no run before it: its entry is not a number.
  const gaps = ends.map((t, i) => (i === 0 ? Number.NaN : t - ends[i - 1]));
  return atPoints(gaps, POINTS);
}

const diskDir = mkdtempSync(join(tmpdir(), "emp-bench-runs-"));
const tmpfsDir = mkdtempSync("/dev/shm/emp-bench-runs-");
const rows = [];
const summary = [];
try {
  const results = {
    "append, disk": timeAppends(diskDir),
    "append, tmpfs": timeAppends(tmpfsDir),
    "whole rewrite, disk": timeWholeWrites(diskDir),
  };
  for (const [what, byN] of Object.entries(results)) {
    const first = byN[POINTS[0]];
    for (const [n, ns] of Object.entries(byN)) {
      rows.push({ what, runs: n, ms: round(ns / 1e6, 3), ratio: round(ns / first, 2) });
    }
  }
  const measureDir = join(diskDir, "measure");
  mkdirSync(measureDir);
  const gaps = await timeMeasure(measureDir);
  const firstGap = gaps[POINTS[0]];
  for (const [n, ms] of Object.entries(gaps)) {
    rows.push({
      what: "emp measure, run end to run end",
      runs: n,
      ms: round(ms, 2),
      ratio: round(ms / firstGap, 2),
    });
  }
  const last = (byN) => byN[Math.max(...Object.keys(byN).map(Number))];
  const appendRatio = last(results["append, disk"]) / results["append, disk"][POINTS[0]];
  summary.push({
    figure: `runs.arrow append on disk at ${writerRuns} runs vs at 10`,
    value: round(appendRatio, 2),
    unit: "x",
    target: "<= 1.5",
    ok: appendRatio <= 1.5,
  });
  summary.push({
    figure: "runs.arrow append on disk at 10 runs",
    value: round(results["append, disk"][POINTS[0]] / 1e6, 2),
    unit: "ms",
    target: "",
    ok: null,
  });
  const measuredLast = Math.max(...Object.keys(gaps).map(Number));
  const gapRatio = gaps[measuredLast] / firstGap;
  summary.push({
    figure: `emp measure per-run gap at ${measuredLast} runs vs at 10`,
    value: round(gapRatio, 2),
    unit: "x",
    target: "<= 1.2",
    ok: gapRatio <= 1.2,
  });
  const m = machine();
  if (args.json) {
    console.log(JSON.stringify({ machine: m, writerRuns, measureRuns, window: WINDOW, rows }, null, 2));
  } else {
    console.log(
      `runs-append: ${writerRuns} appends (median of the ${WINDOW} before each count), emp measure of \`true\` ${measureRuns} times; ` +
        `${m.cpuModel} x${m.cores}, load ${m.load}\n`,
    );
    table(rows, { what: "what", runs: "runs", ms: "ms per run", ratio: "vs 10 runs" });
  }
  writeSummary(args.summary, summary);
} finally {
  rmSync(diskDir, { recursive: true, force: true });
  rmSync(tmpfsDir, { recursive: true, force: true });
}

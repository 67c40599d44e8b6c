// Overhead on the measured work: a fixed CPU-bound program (~0.5 s) timed with no sampler, with
// the sampler at 1 kHz and at 10 kHz (5 powercap fixture channels, drained every 50 ms as emp
// measure does), the three interleaved in a shuffled order per repetition. The slowdown is the
// mean of per-repetition ratios to the neighbouring unsampled run, with a bootstrap CI.
// usage: node bench/overhead.bench.mjs [--quick] [--reps N] [--json] [--summary FILE]
import { spawnSync } from "node:child_process";
import { Sampler, summarize } from "../dist/index.js";
import { mulberry32 } from "../dist/stats/random.js";
import {
  benchArgs,
  compileReference,
  machine,
  powercapFixture,
  round,
  sleep,
  table,
  withEnv,
  writeSummary,
} from "./lib.mjs";

const args = benchArgs({ reps: { type: "string" }, "target-ms": { type: "string" } });
const reps = Number(args.reps ?? (args.quick ? 12 : 60));
const targetMs = Number(args["target-ms"] ?? 500);
const DRAIN_MS = 50;

const workload = compileReference("workload");
if (workload === null) {
  console.log("overhead: skipped, no C compiler to build the workload");
  process.exit(0);
}

function runWorkload(iterations) {
  const out = spawnSync(workload, [String(iterations)], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`workload failed: ${out.stderr}`);
  return Number(out.stdout.split(" ")[0]);
}

/** Iterations that take about targetMs here (the best of three, so a noisy moment does not inflate it). */
function calibrate() {
  const probe = 20_000_000;
  const ns = Math.min(runWorkload(probe), runWorkload(probe), runWorkload(probe));
  return Math.round((probe * targetMs * 1e6) / ns);
}

/** Times the workload with a sampler at `hz` running (none when hz is 0). */
async function timed(iterations, hz, fixture) {
  if (hz === 0) {
    await sleep(100); // the same settling pause as the sampled conditions
    return runWorkload(iterations);
  }
  const sampler = withEnv(fixture.env, () => new Sampler({ sampleHz: hz, sources: fixture.sources }));
  sampler.start();
  const timer = setInterval(() => sampler.drain(), DRAIN_MS);
  await sleep(100);
  // spawnSync blocks this thread, as a measuring process waiting for its child would; the native
  // sampler thread keeps running. The drain timer catches up afterwards (the ring holds 6.5 s).
  const ns = runWorkload(iterations);
  clearInterval(timer);
  sampler.stop();
  sampler.drain();
  if (sampler.stats().dropped > 0) throw new Error("the sampler dropped ticks during the workload");
  return ns;
}

const fixture = powercapFixture();
try {
  const iterations = calibrate();
  const random = mulberry32(0x0b5e55ed);
  const conditions = [0, 1000, 10000];
  const times = new Map(conditions.map((c) => [c, []]));
  for (let r = 0; r < reps; r++) {
    const order = [...conditions];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const hz of order) times.get(hz).push(await timed(iterations, hz, fixture));
  }
  const base = times.get(0);
  const rows = [];
  const summary = [];
  for (const hz of conditions) {
    const t = times.get(hz);
    const medianMs = [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)] / 1e6;
    if (hz === 0) {
      rows.push({ condition: "no sampling", median: round(medianMs, 1), slowdown: "", ci: "" });
      continue;
    }
    // Paired by repetition: each ratio compares runs seconds apart, so slow drifts of the
    // machine's load cancel.
    const ratios = t.map((ns, i) => (ns / base[i] - 1) * 100);
    const s = summarize(ratios);
    rows.push({
      condition: `sampler ${hz / 1000} kHz`,
      median: round(medianMs, 1),
      slowdown: round(s.mean, 2),
      ci: `[${round(s.ci[0], 2)}, ${round(s.ci[1], 2)}]`,
    });
    const target = hz === 1000 ? 0.5 : null;
    summary.push({
      figure: `workload slowdown, sampler at ${hz / 1000} kHz (5 ch)`,
      value: round(s.mean, 2),
      unit: `% (95 % CI ${round(s.ci[0], 2)} to ${round(s.ci[1], 2)}, n=${s.n})`,
      target: target === null ? "" : `<= ${target} %`,
      // Judged on the mean; the interval beside it says how sure that is on this machine.
      ok: target === null ? null : s.mean <= target,
    });
  }
  const m = machine();
  if (args.json) {
    console.log(
      JSON.stringify({ machine: m, reps, iterations, rows, times: Object.fromEntries(times) }, null, 2),
    );
  } else {
    console.log(
      `overhead: ${reps} repetitions of a ${targetMs} ms CPU-bound program (${iterations} iterations), ` +
        `conditions shuffled per repetition; ${m.cpuModel} x${m.cores}, load ${m.load}\n`,
    );
    table(rows, {
      condition: "condition",
      median: "median ms",
      slowdown: "slowdown % (mean of paired ratios)",
      ci: "95 % bootstrap CI",
    });
  }
  writeSummary(args.summary, summary);
} finally {
  fixture.remove();
}

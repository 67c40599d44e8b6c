// Soak: the sampler at 10 kHz on 5 powercap fixture channels for minutes, drained every 50 ms into
// samples.arrow (committed every 10 s, as runs end) the way emp measure does, with this process's
// RSS sampled every few seconds. Shows the 10 kHz rate held with no drops, and memory that stays
// flat: the ring, the batch being gathered and the heap's churn, nothing that grows with time.
// usage: node bench/soak.bench.mjs [--quick] [--seconds N] [--json] [--summary FILE]
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sampler, SamplesWriter } from "../dist/index.js";
import { benchArgs, machine, powercapFixture, round, sleep, table, withEnv, writeSummary } from "./lib.mjs";

const args = benchArgs({ seconds: { type: "string" }, hz: { type: "string" } });
const seconds = Number(args.seconds ?? (args.quick ? 30 : 600));
const sampleHz = Number(args.hz ?? 10_000);
const DRAIN_MS = 50;
const COMMIT_MS = 10_000;
const rssEveryMs = seconds >= 120 ? 5000 : 2000;

/** Resident set size of this process in MiB, from /proc (what the kernel holds for it). */
function rssMiB() {
  const status = readFileSync("/proc/self/status", "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** Least-squares slope of y over x. */
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const fixture = powercapFixture();
const dir = mkdtempSync(join(tmpdir(), "emp-bench-soak-"));
try {
  const sampler = withEnv(fixture.env, () => new Sampler({ sampleHz, sources: fixture.sources }));
  const path = join(dir, "samples.arrow");
  const writer = new SamplesWriter(path, sampler.channels, { bench: "soak" });
  let run = 0;
  let maxPending = 0;
  const drain = () => {
    maxPending = Math.max(maxPending, sampler.stats().pending);
    writer.append(sampler.drain(), "run", run);
  };
  const samples = [];
  sampler.start();
  const t0 = Date.now();
  const drainTimer = setInterval(drain, DRAIN_MS);
  const commitTimer = setInterval(() => {
    drain();
    writer.commit();
    run++;
  }, COMMIT_MS);
  while (Date.now() - t0 < seconds * 1000) {
    await sleep(rssEveryMs);
    samples.push({
      s: (Date.now() - t0) / 1000,
      rss: rssMiB(),
      heap: process.memoryUsage().heapUsed / 2 ** 20,
    });
    if (!args.json && (samples.length % 12 === 0 || seconds < 120)) {
      const last = samples.at(-1);
      console.log(`  ${round(last.s, 0)} s: RSS ${round(last.rss, 1)} MiB, heap ${round(last.heap, 1)} MiB`);
    }
  }
  clearInterval(drainTimer);
  clearInterval(commitTimer);
  sampler.stop();
  drain();
  writer.close();
  const stats = sampler.stats();
  const elapsedS = (Date.now() - t0) / 1000;
  const bytes = statSync(path).size;
  const channels = sampler.channels.length;

  // The first fifth warms up (JIT, heap sizing, the ring and batch arrays touched for the first time).
  const warm = samples.filter((x) => x.s >= seconds / 5);
  const third = Math.max(1, Math.floor(warm.length / 3));
  const early = Math.max(...warm.slice(0, third).map((x) => x.rss));
  const late = Math.max(...warm.slice(-third).map((x) => x.rss));
  const growthMiB = late - early;
  const slopeMiBPerMin = slope(
    warm.map((x) => x.s / 60),
    warm.map((x) => x.rss),
  );
  const ringMiB = (stats.ringTicks * (32 + 8 * channels)) / 2 ** 20;
  const batchMiB = (65_536 * (22 + 8 * channels)) / 2 ** 20;
  const result = {
    seconds: round(elapsedS, 1),
    sampleHz,
    achievedHz: round(stats.ticks / elapsedS, 1),
    ticks: stats.ticks,
    dropped: stats.dropped,
    missed: stats.missed,
    maxPending,
    runs: run + 1,
    fileMiB: round(bytes / 2 ** 20, 1),
    bytesPerValue: round(bytes / (stats.ticks * channels), 2),
    rssFirst: round(samples[0]?.rss ?? Number.NaN, 1),
    rssEarlyMax: round(early, 1),
    rssLateMax: round(late, 1),
    rssMax: round(Math.max(...samples.map((x) => x.rss)), 1),
    growthMiB: round(growthMiB, 1),
    slopeMiBPerMin: round(slopeMiBPerMin, 2),
    ringMiB: round(ringMiB, 1),
    batchMiB: round(batchMiB, 1),
  };
  const m = machine();
  if (args.json) {
    console.log(JSON.stringify({ machine: m, result, samples }, null, 2));
  } else {
    console.log(
      `\nsoak: ${result.seconds} s at ${sampleHz} Hz, ${channels} channels, drained every ${DRAIN_MS} ms, ` +
        `committed every ${COMMIT_MS / 1000} s; ${m.cpuModel} x${m.cores}, load ${m.load}\n`,
    );
    table(
      Object.entries(result).map(([k, v]) => ({ figure: k, value: v })),
      { figure: "figure", value: "value" },
    );
  }
  const minutes = round(elapsedS / 60, 1);
  writeSummary(args.summary, [
    {
      figure: `${sampleHz / 1000} kHz for ${minutes} min: dropped ticks`,
      value: stats.dropped,
      unit: `(missed deadlines ${stats.missed}, got ${result.achievedHz} Hz)`,
      target: "0",
      ok: stats.dropped === 0,
    },
    {
      figure: `RSS growth over ${minutes} min after warm-up`,
      value: result.growthMiB,
      unit: `MiB (slope ${result.slopeMiBPerMin} MiB/min; ring ${result.ringMiB}, batch ${result.batchMiB} MiB)`,
      target: "no growth (< 8 MiB)",
      ok: growthMiB < 8,
    },
  ]);
} finally {
  fixture.remove();
  rmSync(dir, { recursive: true, force: true });
}

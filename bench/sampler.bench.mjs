// Sampler benchmark: achieved rate, lateness, read latency and the sampling thread's own CPU
// share at 1 kHz and 10 kHz, on the sources this machine has (fixtures standing in for RAPL).
// usage: node bench/sampler.bench.mjs [--seconds N] [--json]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Sampler } from "../dist/index.js";
import { addon } from "../dist/native.js";

const { values: args } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, json: { type: "boolean", default: false } },
});
const seconds = Number(args.seconds);

/** A powercap tree with the five RAPL domains of a client Intel part, values held still. */
function powercapFixture() {
  const root = mkdtempSync("/dev/shm/emp-bench-");
  const zones = [
    ["intel-rapl:0", "package-0"],
    ["intel-rapl:0:0", "core"],
    ["intel-rapl:0:1", "uncore"],
    ["intel-rapl:0:2", "dram"],
    ["intel-rapl:1", "psys"],
  ];
  for (const [id, name] of zones) {
    const dir = join(root, "class/powercap", id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "name"), `${name}\n`);
    writeFileSync(join(dir, "energy_uj"), "123456789\n");
    writeFileSync(join(dir, "max_energy_range_uj"), "262143328850\n");
  }
  return root;
}

/** CPU time (ns) of the thread named emp-sampler, from the scheduler's own accounting. */
function samplerCpuNs() {
  for (const tid of readdirSync("/proc/self/task")) {
    if (readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim() === "emp-sampler") {
      return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    }
  }
  return Number.NaN;
}

function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function run(label, sampleHz, sources, sysfsRoot) {
  // The roots are read when the sampler is built, so only this row sees the fixture.
  if (sysfsRoot) process.env.EMP_SYSFS_ROOT = sysfsRoot;
  const sampler = new Sampler({ sampleHz, sources });
  delete process.env.EMP_SYSFS_ROOT;
  const lateness = [];
  const read = [];
  sampler.start();
  const cpuStart = samplerCpuNs();
  const wallStart = process.hrtime.bigint();
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    await sleep(50);
    const batch = sampler.drain();
    for (const v of batch.raw.latenessNs) lateness.push(v);
    for (const v of batch.raw.readNs) read.push(v);
  }
  const cpuNs = samplerCpuNs() - cpuStart;
  const wallNs = Number(process.hrtime.bigint() - wallStart);
  sampler.stop();
  const last = sampler.drain();
  for (const v of last.raw.latenessNs) lateness.push(v);
  for (const v of last.raw.readNs) read.push(v);
  const stats = sampler.stats();
  lateness.sort((a, b) => a - b);
  read.sort((a, b) => a - b);
  const us = (ns) => Math.round(ns / 100) / 10;
  return {
    label,
    channels: sampler.channels.length,
    requestedHz: sampleHz,
    achievedHz: Math.round((stats.ticks / (wallNs / 1e9)) * 10) / 10,
    ticks: stats.ticks,
    missed: stats.missed,
    dropped: stats.dropped,
    latenessUs: {
      p50: us(quantile(lateness, 0.5)),
      p99: us(quantile(lateness, 0.99)),
      max: us(lateness.at(-1)),
    },
    readUs: { p50: us(quantile(read, 0.5)), p99: us(quantile(read, 0.99)), max: us(read.at(-1)) },
    cpuPctOfCore: Math.round((cpuNs / wallNs) * 10000) / 100,
  };
}

const fixture = powercapFixture();
const results = [];
try {
  for (const hz of [1000, 10000]) {
    results.push(await run("no sources", hz, []));
    results.push(await run("powercap fixture x5", hz, [{ kind: "powercap" }], fixture));
    if (addon.sourceKinds().includes("perf")) {
      results.push(
        await run("perf task-clock,cpu-clock (system)", hz, [
          { kind: "perf", select: ["task-clock", "cpu-clock"] },
        ]),
      );
    }
  }
} finally {
  rmSync(fixture, { recursive: true, force: true });
}

if (args.json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  console.log(`sampler benchmark: ${seconds} s per row, ${process.arch}, node ${process.version}`);
  console.table(
    results.map((r) => ({
      source: r.label,
      ch: r.channels,
      "req Hz": r.requestedHz,
      "got Hz": r.achievedHz,
      missed: r.missed,
      dropped: r.dropped,
      "late p50 us": r.latenessUs.p50,
      "late p99 us": r.latenessUs.p99,
      "late max us": r.latenessUs.max,
      "read p50 us": r.readUs.p50,
      "read p99 us": r.readUs.p99,
      "CPU % core": r.cpuPctOfCore,
    })),
  );
}

// Sampler benchmark: achieved rate, lateness, read latency and the sampler thread's CPU share at
// 1 kHz, 10 kHz and the highest rate without loss, on real perf software counters and on powercap
// and MSR fixtures; side by side with a bare C loop, `perf stat -I 1` and a plain Node loop.
// usage: node bench/sampler.bench.mjs [--quick] [--seconds N] [--json] [--summary FILE]
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Sampler } from "../dist/index.js";
import { addon } from "../dist/native.js";
import {
  benchArgs,
  benchDir,
  compileReference,
  machine,
  msrFixture,
  perfSource,
  powercapFixture,
  processCpuNs,
  quantile,
  round,
  sleep,
  table,
  threadCpuNs,
  threadId,
  us,
  withEnv,
  writeSummary,
} from "./lib.mjs";

const args = benchArgs({
  seconds: { type: "string" },
});
// Per tool and configuration, in chunks that alternate between emp and the C loop so both see the
// same (shared, noisy) machine; quantiles are taken over the pooled ticks.
const seconds = Number(args.seconds ?? (args.quick ? 2 : 12));
const chunkSeconds = Math.min(seconds, args.quick ? 1 : 2);
const chunks = Math.max(1, Math.round(seconds / chunkSeconds));
const searchSeconds = args.quick ? 1 : 3;
const DRAIN_MS = 50;

/** One sampler run: figures in the shape the C and Node loops print. */
async function runSampler(source, sampleHz, runSeconds, options = {}) {
  const sampler = withEnv(source.env, () => new Sampler({ sampleHz, sources: source.sources, ...options }));
  const lateness = [];
  const read = [];
  const take = () => {
    const batch = sampler.drain();
    for (const v of batch.raw.latenessNs) lateness.push(v);
    for (const v of batch.raw.readNs) read.push(v);
  };
  sampler.start();
  const tid = threadId("emp-sampler");
  const cpuStart = threadCpuNs(tid);
  const wallStart = process.hrtime.bigint();
  const end = Date.now() + runSeconds * 1000;
  while (Date.now() < end) {
    await sleep(options.drainMs ?? DRAIN_MS);
    take();
  }
  const cpuNs = threadCpuNs(tid) - cpuStart;
  const wallNs = Number(process.hrtime.bigint() - wallStart);
  sampler.stop();
  take();
  const stats = sampler.stats();
  return withQuantiles({
    ticks: stats.ticks,
    missed: stats.missed,
    dropped: stats.dropped,
    wall_ns: wallNs,
    cpu_ns: cpuNs,
    wake_margin_ns: stats.wakeMarginNs,
    lateness,
    read,
  });
}

/** Adds lateness and read quantiles from the raw per-tick arrays. */
function withQuantiles(r) {
  const lateness = Float64Array.from(r.lateness).sort();
  const read = r.read ? Float64Array.from(r.read).sort() : null;
  return {
    ...r,
    lateness_ns: {
      p50: quantile(lateness, 0.5),
      p99: quantile(lateness, 0.99),
      p999: quantile(lateness, 0.999),
      max: lateness.at(-1),
    },
    read_ns: read ? { p50: quantile(read, 0.5), p99: quantile(read, 0.99), max: read.at(-1) } : r.read_ns,
  };
}

/** Runs pooled into one: ticks, time and CPU added, quantiles over every tick of every chunk. */
function pool(runs) {
  const sum = (k) => runs.reduce((a, r) => a + (r[k] ?? 0), 0);
  return withQuantiles({
    ticks: sum("ticks"),
    missed: sum("missed"),
    dropped: runs[0].dropped === undefined ? undefined : sum("dropped"),
    wall_ns: sum("wall_ns"),
    cpu_ns: sum("cpu_ns"),
    wake_margin_ns: runs.at(-1).wake_margin_ns,
    lateness: runs.flatMap((r) => Array.from(r.lateness)),
    read: runs.every((r) => r.read) ? runs.flatMap((r) => Array.from(r.read)) : null,
    read_ns: runs[0].read_ns,
  });
}

function runReference(binary, source, hz, runSeconds) {
  const dump = `/dev/shm/emp-bench-lateness-${process.pid}.bin`;
  const out = spawnSync(
    binary,
    ["--hz", String(hz), "--seconds", String(runSeconds), "--dump", dump, ...source.referenceArgs],
    { encoding: "utf8" },
  );
  if (out.status !== 0) throw new Error(`reference loop failed: ${out.stderr}`);
  const bytes = readFileSync(dump);
  rmSync(dump, { force: true });
  const lateness = Array.from(
    new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8),
    Number,
  );
  return { ...JSON.parse(out.stdout), lateness, read: null };
}

function runNodeLoop(source, hz, runSeconds, mode) {
  const out = spawnSync(
    process.execPath,
    [
      join(benchDir, "reference/node_loop.mjs"),
      String(hz),
      String(runSeconds),
      mode,
      JSON.stringify(source.nodeFiles),
    ],
    { encoding: "utf8" },
  );
  if (out.status !== 0) throw new Error(`node loop failed: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

/** `perf stat -I 1` on the same events, system-wide, for runSeconds; its CPU from /proc. */
async function runPerfStat(events, runSeconds) {
  const output = `/dev/shm/emp-bench-perf-stat-${process.pid}.txt`;
  const child = spawn("perf", ["stat", "-I", "1", "-a", "-e", events.join(","), "-o", output], {
    stdio: "ignore",
  });
  const spawned = await new Promise((resolve) => {
    child.once("spawn", () => resolve(true));
    child.once("error", () => resolve(false));
  });
  if (!spawned) return null;
  await sleep(300); // past its start-up (event setup), as the sampler's figures start after start()
  const cpu0 = processCpuNs(child.pid);
  const t0 = process.hrtime.bigint();
  const linesBefore = countLines(output);
  await sleep(runSeconds * 1000);
  const cpuNs = processCpuNs(child.pid) - cpu0;
  const wallNs = Number(process.hrtime.bigint() - t0);
  const intervals = (countLines(output) - linesBefore) / events.length;
  child.kill("SIGINT");
  await new Promise((resolve) => child.once("exit", resolve));
  rmSync(output, { force: true });
  return { ticks: intervals, wall_ns: wallNs, cpu_ns: cpuNs };
}

function countLines(path) {
  try {
    return readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => /^\s*\d+\.\d+\s/.test(l)).length;
  } catch {
    return 0;
  }
}

function perfUsable() {
  if (!addon.sourceKinds().includes("perf")) return false;
  try {
    new Sampler({ sampleHz: 10, sources: perfSource().sources });
    return true;
  } catch (e) {
    console.warn(`perf counters skipped: ${e.message}`);
    return false;
  }
}

const cpuPct = (r) => (100 * r.cpu_ns) / r.wall_ns;
const rateHz = (r) => r.ticks / (r.wall_ns / 1e9);

function row(tool, source, hz, r) {
  return {
    tool,
    source: source.label,
    hz,
    got: round(rateHz(r), 1),
    missed: r.missed ?? "",
    dropped: r.dropped ?? "",
    p50: r.lateness_ns ? us(r.lateness_ns.p50) : "",
    p99: r.lateness_ns ? us(r.lateness_ns.p99) : "",
    p999: r.lateness_ns ? us(r.lateness_ns.p999) : "",
    max: r.lateness_ns ? us(r.lateness_ns.max) : "",
    read50: r.read_ns ? us(r.read_ns.p50) : "",
    read99: r.read_ns ? us(r.read_ns.p99) : "",
    cpu: round(cpuPct(r), 2),
    cpuPerTickUs: round(r.cpu_ns / r.ticks / 1000, 1),
    margin: r.wake_margin_ns === undefined ? "" : us(r.wake_margin_ns),
  };
}

const reference = compileReference("sample_loop");
const sources = [powercapFixture(), msrFixture()];
if (perfUsable()) sources.unshift(perfSource());
const rows = [];
const ratios = []; // per round, per source and rate: ours / reference
const summary = [];

try {
  for (const source of sources) {
    for (const hz of [1000, 10000]) {
      const emp = [];
      const c = [];
      for (let k = 0; k < chunks; k++) {
        const order = k % 2 === 0 ? ["emp", "c"] : ["c", "emp"];
        for (const who of order) {
          if (who === "emp") emp.push(await runSampler(source, hz, chunkSeconds));
          else if (reference) c.push(runReference(reference, source, hz, chunkSeconds));
        }
      }
      const e = pool(emp);
      rows.push(row("emp", source, hz, e));
      if (c.length > 0) {
        const ref = pool(c);
        rows.push(row("C loop", source, hz, ref));
        ratios.push({
          source: source.label,
          hz,
          fiveChannels: !source.perfEvents,
          lateP99: e.lateness_ns.p99 / ref.lateness_ns.p99,
          cpu: cpuPct(e) / cpuPct(ref),
          empCpu: cpuPct(e),
          cCpu: cpuPct(ref),
          dropped: e.dropped,
        });
      }
    }
  }

  // Interpreted tools: the Node loop on the fixtures, next to a fresh emp run of the same.
  const nodeRatios = [];
  for (const source of sources.filter((s) => s.nodeFiles)) {
    for (const hz of [1000, 10000]) {
      for (const mode of ["poll", "timer"]) {
        const node = runNodeLoop(source, hz, chunkSeconds, mode);
        const emp = await runSampler(source, hz, chunkSeconds);
        rows.push(row(`Node ${mode}`, source, hz, node));
        rows.push(row("emp", source, hz, emp));
        nodeRatios.push({
          source: source.label,
          hz,
          mode,
          lateP99: emp.lateness_ns.p99 / node.lateness_ns.p99,
          cpu: cpuPct(emp) / cpuPct(node),
          nodeRate: rateHz(node),
        });
      }
    }
  }

  // perf stat -I 1 against the sampler on the same events at the same nominal 1 kHz.
  let perfStat = null;
  const perf = sources.find((s) => s.perfEvents);
  if (perf) {
    const stat = await runPerfStat(perf.perfEvents, chunkSeconds);
    if (stat === null) {
      console.warn("perf is not installed: the perf stat comparison is skipped");
    } else {
      const emp = await runSampler(perf, 1000, chunkSeconds);
      rows.push(row("perf stat -I 1", perf, 1000, stat));
      rows.push(row("emp", perf, 1000, emp));
      perfStat = {
        cpuRatio: cpuPct(emp) / cpuPct(stat),
        cpuPerTickRatio: emp.cpu_ns / emp.ticks / (stat.cpu_ns / stat.ticks),
        statRate: rateHz(stat),
      };
    }
  }

  // The highest rate each source keeps with no drops, no more than 1 % of deadlines missed.
  const ceilings = [];
  for (const source of sources) {
    let best = 0;
    for (const hz of [10000, 20000, 50000, 100000, 200000, 500000]) {
      const r = await runSampler(source, hz, searchSeconds, { drainMs: 20 });
      rows.push(row("emp (search)", source, hz, r));
      if (r.dropped > 0 || rateHz(r) < 0.99 * hz) break;
      best = hz;
    }
    ceilings.push({ source: source.label, hz: best });
  }

  const m = machine();
  if (args.json) {
    console.log(
      JSON.stringify({ machine: m, seconds, rows, ratios, nodeRatios, perfStat, ceilings }, null, 2),
    );
  } else {
    console.log(
      `sampler: emp and C loop ${seconds} s each per row in ${chunks} alternating chunks; others ${chunkSeconds} s; ` +
        `${m.cpuModel} x${m.cores}, ${m.kernel}, ${m.virt}, load ${m.load}`,
    );
    console.log(
      "lateness (p50 p99 p999 max), read latency and emp's wake margin in us; cpu in % of one core and us per tick\n",
    );
    table(rows, {
      tool: "tool",
      source: "source",
      hz: "req Hz",
      got: "got Hz",
      missed: "missed",
      dropped: "drop",
      p50: "late p50",
      p99: "p99",
      p999: "p99.9",
      max: "max",
      read50: "read p50",
      read99: "read p99",
      cpu: "cpu %",
      cpuPerTickUs: "us/tick",
      margin: "margin",
    });
  }

  for (const x of ratios) {
    const where = `${x.source}, ${x.hz / 1000} kHz`;
    const cpuTarget = x.hz === 1000 ? 1 : 5;
    summary.push({
      figure: `sampler CPU, ${where}`,
      value: round(x.empCpu, 2),
      unit: `% core (C loop ${round(x.cCpu, 2)} %, ratio ${round(x.cpu, 2)})`,
      target: x.fiveChannels ? `<= ${cpuTarget} %` : "",
      ok: x.fiveChannels ? x.empCpu <= cpuTarget : null,
    });
    summary.push({
      figure: `lateness p99 / C loop, ${where}`,
      value: round(x.lateP99, 2),
      unit: "x",
      target: "<= 1.2",
      ok: x.lateP99 <= 1.2,
    });
  }
  for (const x of nodeRatios) {
    summary.push({
      figure: `emp / Node ${x.mode} loop, ${x.source}, ${x.hz / 1000} kHz: lateness p99, CPU`,
      value: `${round(x.lateP99, 3)} / ${round(x.cpu, 3)}`,
      unit: `x (Node got ${round(x.nodeRate, 0)} Hz)`,
      target: "",
      ok: null,
    });
  }
  if (perfStat) {
    summary.push({
      figure: "CPU vs perf stat -I 1 (same events, 1 kHz)",
      value: `${round(perfStat.cpuRatio, 3)} (${round(perfStat.cpuPerTickRatio, 3)} per tick)`,
      unit: `x (perf stat got ${round(perfStat.statRate, 0)} Hz)`,
      target: "",
      ok: null,
    });
  }
  for (const c of ceilings) {
    summary.push({
      figure: `highest rate, 0 drops, ${c.source}`,
      value: c.hz,
      unit: "Hz",
      target: ">= 1000",
      ok: c.hz >= 1000,
    });
  }
  writeSummary(args.summary, summary);
} finally {
  for (const s of sources) s.remove();
}

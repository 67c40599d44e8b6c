// Drain and Arrow benchmark: ticks per second from the ring into typed arrays, into samples.arrow
// on tmpfs (the CPU cost of building and serialising record batches and the journal) and on disk
// (with each commit's fsync), and the bytes samples.arrow spends per stored channel value.
// The default ring (65536 ticks) is filled by the real sampler running flat out on a 5-channel
// fixture, then drained in the slices emp measure drains at 10 kHz (500 ticks every 50 ms), again
// and again; only the draining is timed. Committed every 100,000 ticks.
// usage: node bench/arrow.bench.mjs [--quick] [--ticks N] [--reps N] [--slice-ticks N] [--json] [--summary FILE]
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RecordBatchStreamWriter } from "apache-arrow";
import * as emp from "../dist/index.js";

const { DEFAULT_BATCH_TICKS, SampleRows, Sampler, SamplesWriter, samplesSchema } = emp;

import {
  benchArgs,
  machine,
  msrFixture,
  powercapFixture,
  round,
  sleep,
  table,
  withEnv,
  writeSummary,
} from "./lib.mjs";

const args = benchArgs({
  ticks: { type: "string" },
  "slice-ticks": { type: "string" },
  reps: { type: "string" },
});
const ringTicks = 2 ** 16;
const totalTicks = Number(args.ticks ?? (args.quick ? 2 ** 19 : 2 ** 21));
const sliceTicks = Number(args["slice-ticks"] ?? 500);
const COMMIT_TICKS = 100_000;

/** A stopped sampler whose ring is full of real ticks from `fixture`. */
async function filledSampler(fixture) {
  const sampler = withEnv(
    fixture.env,
    () => new Sampler({ sampleHz: 1e6, ringTicks, sources: fixture.sources }),
  );
  sampler.start();
  while (sampler.stats().pending < ringTicks) await sleep(20);
  sampler.stop();
  return sampler;
}

/**
 * Fills the ring and drains it in slices, handing each batch to `sink`, until totalTicks have
 * gone through; returns the ticks and the seconds spent draining (filling is not timed).
 */
async function drainAll(fixture, sink) {
  let ticks = 0;
  let ns = 0n;
  while (ticks < totalTicks) {
    const sampler = await filledSampler(fixture);
    const started = process.hrtime.bigint();
    for (;;) {
      const batch = sampler.drain(sliceTicks);
      if (batch.ticks === 0) break;
      sink(batch, sampler);
      ticks += batch.ticks;
    }
    ns += process.hrtime.bigint() - started;
  }
  const seconds = Number(ns) / 1e9;
  return { ticks, seconds, ticksPerS: ticks / seconds };
}

/** An IPC stream writer that counts the bytes it would write and keeps none (no file, no copy). */
class CountingWriter extends RecordBatchStreamWriter {
  bytes = 0;
  _write(chunk) {
    if (this._started && ArrayBuffer.isView(chunk)) {
      this.bytes += chunk.byteLength;
      this._position += chunk.byteLength;
    }
    return this;
  }
}

/** Ring -> record batches of DEFAULT_BATCH_TICKS rows as SamplesWriter gathers them, IPC-encoded in memory. */
async function toRecordBatches(fixture, channels) {
  const schema = samplesSchema(channels, { bench: true });
  const rows = SampleRows.forChannels(channels, DEFAULT_BATCH_TICKS);
  const writer = new CountingWriter();
  writer.reset(undefined, schema);
  const flush = () => {
    writer.write(rows.recordBatch(schema));
    rows.clear();
  };
  const result = await drainAll(fixture, (batch) => {
    if (rows.length + batch.ticks > rows.capacity) flush();
    rows.add(batch, 0, batch.ticks, 2, 0);
  });
  const started = process.hrtime.bigint();
  flush();
  const seconds = result.seconds + Number(process.hrtime.bigint() - started) / 1e9;
  return { ...result, seconds, ticksPerS: result.ticks / seconds };
}

async function stage(fixture, name, dir) {
  const channels = (await filledSampler(fixture)).channels;
  if (dir === null) return { name, ...(await drainAll(fixture, () => {})) };
  if (dir === "memory") return { name, ...(await toRecordBatches(fixture, channels)) };
  const path = join(dir, "samples.arrow");
  const writer = new SamplesWriter(path, channels, { bench: true });
  let sinceCommit = 0;
  let run = 0;
  const result = await drainAll(fixture, (batch) => {
    writer.append(batch, "run", run);
    sinceCommit += batch.ticks;
    if (sinceCommit >= COMMIT_TICKS) {
      writer.commit();
      sinceCommit = 0;
      run++;
    }
  });
  const started = process.hrtime.bigint();
  writer.close();
  const closeS = Number(process.hrtime.bigint() - started) / 1e9;
  const seconds = result.seconds + closeS;
  const bytes = statSync(path).size;
  rmSync(path, { force: true });
  return {
    name,
    ticks: result.ticks,
    seconds,
    ticksPerS: result.ticks / seconds,
    bytes,
    bytesPerValue: bytes / (result.ticks * channels.length),
    bytesPerTick: bytes / result.ticks,
  };
}

const fixtures = [powercapFixture(), msrFixture()];
const tmpfsDir = mkdtempSync("/dev/shm/emp-bench-arrow-");
const diskDir = mkdtempSync(join(tmpdir(), "emp-bench-arrow-"));
const stages = [
  ["ring -> typed arrays (drain)", null],
  // Builds without SampleRows (before it was exported) have no in-memory stage to time.
  ...(SampleRows ? [["ring -> Arrow record batches (IPC in memory)", "memory"]] : []),
  ["ring -> samples.arrow on tmpfs", tmpfsDir],
  [`ring -> samples.arrow on disk (${tmpdir()})`, diskDir],
];
// Repetitions interleave the stages, and the median is reported: this machine is shared.
const reps = Number(args.reps ?? (args.quick ? 3 : 5));
const rows = [];
const summary = [];
try {
  const results = new Map();
  for (let r = 0; r < reps; r++) {
    for (const fixture of fixtures) {
      for (const [name, dir] of stages) {
        const key = `${fixture.label}|${name}`;
        if (!results.has(key)) results.set(key, { fixture, name, dir, runs: [] });
        results.get(key).runs.push(await stage(fixture, name, dir));
      }
    }
  }
  for (const { fixture, name, dir, runs } of results.values()) {
    const rates = runs.map((x) => x.ticksPerS).sort((a, b) => a - b);
    const medianRate = rates[Math.floor(rates.length / 2)];
    const r = runs[0];
    rows.push({
      source: `${fixture.label} (5 ch)`,
      stage: name,
      ticks: r.ticks,
      mticks: round(medianRate / 1e6, 2),
      range: `${round(rates[0] / 1e6, 1)}-${round(rates.at(-1) / 1e6, 1)}`,
      bytesPerValue: r.bytesPerValue === undefined ? "" : round(r.bytesPerValue, 2),
      bytesPerTick: r.bytesPerTick === undefined ? "" : round(r.bytesPerTick, 1),
    });
    if (dir === "memory") {
      summary.push({
        figure: `ring -> Arrow record batches, ${fixture.label}`,
        value: round(medianRate / 1e6, 2),
        unit: "M ticks/s (median)",
        target: ">= 20",
        ok: medianRate >= 20e6,
      });
    } else if (dir === tmpfsDir) {
      summary.push({
        figure: `ring -> samples.arrow on tmpfs (journal, commit), ${fixture.label}`,
        value: round(medianRate / 1e6, 2),
        unit: "M ticks/s (median)",
        target: "",
        ok: null,
      });
      summary.push({
        figure: `bytes per stored channel value, ${fixture.label} (5 ch)`,
        value: round(r.bytesPerValue, 2),
        unit: "B",
        target: "<= 10",
        ok: r.bytesPerValue <= 10,
      });
    } else if (dir === diskDir) {
      summary.push({
        figure: `ring -> samples.arrow on disk, ${fixture.label}`,
        value: round(medianRate / 1e6, 2),
        unit: "M ticks/s (median)",
        target: "",
        ok: null,
      });
    }
  }
  const m = machine();
  if (args.json) {
    console.log(JSON.stringify({ machine: m, ringTicks, totalTicks, sliceTicks, reps, rows }, null, 2));
  } else {
    console.log(
      `arrow: ${totalTicks} ticks per stage through a ${ringTicks}-tick ring, drained ${sliceTicks} at a time, ` +
        `committed every ${COMMIT_TICKS}; median of ${reps}; ` +
        `${m.cpuModel} x${m.cores}, load ${m.load}\n`,
    );
    table(rows, {
      source: "source",
      stage: "stage",
      ticks: "ticks",
      mticks: "M ticks/s",
      range: "range",
      bytesPerValue: "B/value",
      bytesPerTick: "B/tick",
    });
  }
  writeSummary(args.summary, summary);
} finally {
  for (const f of fixtures) f.remove();
  rmSync(tmpfsDir, { recursive: true, force: true });
  rmSync(diskDir, { recursive: true, force: true });
}

// Results files: samples.arrow written incrementally (complete after each committed run, intact
// after a crash), runs.arrow and manifest.json written atomically; read back with apache-arrow
// and, where installed, pyarrow.
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RecordBatchFileReader, type Table, Type, tableFromIPC } from "apache-arrow";
import { Footer } from "apache-arrow/ipc/metadata/file";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WriteError } from "../src/errors.js";
import type { DrainResult, SamplerChannelInfo } from "../src/native.js";
import { writeAllSync, writeJsonAtomic } from "../src/results/atomic.js";
import { BlockWriter } from "../src/results/ipc-file.js";
import { recoverSamples } from "../src/results/recover.js";
import { RUNS_PER_BATCH, type RunRecord, RunsWriter } from "../src/results/runs-writer.js";
import { type Phase, SamplesWriter } from "../src/results/samples-writer.js";
import { recoverTail, tailPending, undoRecord } from "../src/results/tail-journal.js";
import { Sampler, TickBatch } from "../src/sampling/sampler.js";
import { sleep } from "./fixtures/counters.js";
import { EnergyWriter, powercapZone } from "./fixtures/energy.js";
import { FixtureTree, withRoots, writeCpuTopology } from "./fixtures/tree.js";
import { requireSmallDisk, type SmallDisk, smallDiskUnavailable } from "./helpers/tmpfs.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "emp-results-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const provenance = { emp: "0.1.0", host: "test-host", kernel: "6.1.0" };

function channel(name: string, overrides: Partial<SamplerChannelInfo> = {}): SamplerChannelInfo {
  return {
    source: "powercap",
    sourceIndex: 0,
    everyTicks: 1,
    hz: 1000,
    name,
    domain: name,
    quantity: "energy",
    unit: "uJ",
    scale: 1e-6,
    wrap: 262_143_328_850,
    counter: true,
    signed: false,
    origin: `/sys/class/powercap/${name}/energy_uj`,
    ...overrides,
  };
}

const CHANNELS: SamplerChannelInfo[] = [
  channel("package-0"),
  channel("dram-0", { wrap: 65_532_610_988 }),
  channel("package-0-temp", {
    source: "thermal",
    sourceIndex: 1,
    quantity: "temperature",
    unit: "mC",
    scale: 1e-3,
    wrap: 0,
    counter: false,
    signed: true,
    origin: "/sys/class/thermal/thermal_zone0/temp",
  }),
];

/** A batch as the sampler drains it, with values that exercise the whole 64-bit range. */
function syntheticBatch(firstTick: number, ticks: number, channels = CHANNELS.length): TickBatch {
  const values = new BigUint64Array(ticks * channels);
  const signedView = new BigInt64Array(values.buffer);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < ticks; i++) {
      const k = BigInt(firstTick + i);
      if (CHANNELS[c]?.signed) signedView[c * ticks + i] = -5000n + k;
      else values[c * ticks + i] = c === 0 ? 2n ** 64n - 1n - k : k * 1_000_003n + BigInt(c);
    }
  }
  const raw: DrainResult = {
    ticks,
    channels,
    tNs: BigInt64Array.from({ length: ticks }, (_, i) => 1_000_000_000n + BigInt(firstTick + i) * 1_000_000n),
    latenessNs: Int32Array.from({ length: ticks }, (_, i) => Math.floor((firstTick + i) / 2)),
    readNs: Int32Array.from({ length: ticks }, (_, i) => 1000 + i),
    readMask: Uint32Array.from({ length: ticks }, (_, i) => (i % 2 === 0 ? 3 : 1)),
    values,
  };
  return new TickBatch(raw);
}

function readFile(path: string): Table {
  const bytes = readFileSync(path);
  // The IPC *file* format: magic at both ends, a footer the file reader needs.
  expect(bytes.subarray(0, 6).toString()).toBe("ARROW1");
  expect(bytes.subarray(bytes.byteLength - 6).toString()).toBe("ARROW1");
  const reader = RecordBatchFileReader.from(bytes);
  expect(reader.isFile()).toBe(true);
  const table = tableFromIPC(bytes);
  // samples.arrow: what follows the magic is a complete IPC stream too, schema message first.
  if (path.endsWith("samples.arrow")) expect(tableFromIPC(bytes.subarray(8)).numRows).toBe(table.numRows);
  return table;
}

function column<T>(table: Table, name: string): T[] {
  const vector = table.getChild(name);
  if (vector === null) throw new Error(`no column ${name}`);
  return [...vector] as T[];
}

describe("SamplesWriter", () => {
  it("writes the raw values, types and metadata of every channel", () => {
    const path = join(dir, "samples.arrow");
    const writer = new SamplesWriter(path, CHANNELS, provenance);
    const batches = [syntheticBatch(0, 100), syntheticBatch(100, 37), syntheticBatch(137, 0)];
    writer.append(batches[0] as TickBatch, "baseline", null);
    writer.append(batches[1] as TickBatch, "run", 0);
    writer.append(batches[2] as TickBatch, "run", 0);
    writer.close();
    writer.close();

    const table = readFile(path);
    expect(table.numRows).toBe(137);
    expect(table.schema.fields.map((f) => f.name)).toEqual([
      "t_ns",
      "phase",
      "run",
      "lateness_ns",
      "read_ns",
      "read_mask",
      "powercap/package-0",
      "powercap/dram-0",
      "thermal/package-0-temp",
    ]);
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, f.type.typeId]));
    expect(types).toMatchObject({
      t_ns: Type.Int,
      phase: Type.Dictionary,
      run: Type.Int,
      lateness_ns: Type.Int,
      "powercap/package-0": Type.Int,
    });
    const field = (name: string) => table.schema.fields.find((f) => f.name === name);
    // Spans in int32 ns; one byte of read mask for two sources.
    expect(String(field("lateness_ns")?.type)).toBe("Int32");
    expect(String(field("read_ns")?.type)).toBe("Int32");
    expect(String(field("read_mask")?.type)).toBe("Uint8");
    expect(String(field("powercap/package-0")?.type)).toBe("Uint64");
    expect(String(field("thermal/package-0-temp")?.type)).toBe("Int64");
    expect(Object.fromEntries(field("powercap/dram-0")?.metadata ?? [])).toMatchObject({
      unit: "uJ",
      scale: "0.000001",
      wrap: "65532610988",
      quantity: "energy",
      domain: "dram-0",
      source: "powercap",
      origin: "/sys/class/powercap/dram-0/energy_uj",
    });
    expect(field("thermal/package-0-temp")?.metadata.get("unit")).toBe("mC");
    expect(field("t_ns")?.metadata.get("unit")).toBe("ns");
    expect(JSON.parse(table.schema.metadata.get("emp.provenance") ?? "null")).toEqual(provenance);

    // Every raw value back bit for bit, including 2^64 - 1 and negative temperatures.
    for (let c = 0; c < CHANNELS.length; c++) {
      const info = CHANNELS[c] as SamplerChannelInfo;
      const expected = batches.flatMap((b) =>
        info.signed ? [...new BigInt64Array(b.rawChannel(c).slice().buffer)] : [...b.rawChannel(c)],
      );
      expect(column<bigint>(table, `${info.source}/${info.name}`)).toEqual(expected);
    }
    expect(column<bigint>(table, "powercap/package-0")[0]).toBe(18_446_744_073_709_551_615n);
    expect(column<bigint>(table, "thermal/package-0-temp")[0]).toBe(-5000n);
    expect(column<bigint>(table, "t_ns")).toEqual(batches.flatMap((b) => [...b.raw.tNs]));
    expect(column<number>(table, "lateness_ns")[136]).toBe(68);
    expect(column<number>(table, "read_mask").slice(0, 3)).toEqual([3, 1, 3]);
    const phases = column<string>(table, "phase");
    expect(phases.slice(98, 102)).toEqual(["baseline", "baseline", "run", "run"]);
    const runs = column<number | null>(table, "run");
    expect(runs.slice(98, 102)).toEqual([null, null, 0, 0]);
    expect(table.getChild("run")?.nullCount).toBe(100);
    expect(existsSync(writer.journalPath)).toBe(false);
  });

  it("is a complete file after each run and keeps the committed runs through a crash", async () => {
    const tree = FixtureTree.create();
    try {
      writeCpuTopology(tree, 1, 2);
      const pkg = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: 1_999_999 });
      const energy = await EnergyWriter.start(tree, [
        { format: "text", path: pkg, unitJ: 1e-6, wrap: 2_000_000, idleW: 25 },
      ]);
      const sampler = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => {
        return new Sampler({ sampleHz: 1000, sources: [{ kind: "powercap" }] });
      });
      const path = join(dir, "samples.arrow");
      // One batch per append, so the run in progress reaches the journal as it goes.
      const writer = new SamplesWriter(path, sampler.channels, provenance, { batchTicks: 1 });
      const written: { phase: Phase; run: number | null; batch: TickBatch }[] = [];
      const phase = async (name: Phase, run: number | null, ms: number) => {
        await sleep(ms);
        const batch = sampler.drain();
        writer.append(batch, name, run);
        written.push({ phase: name, run, batch });
      };
      // An empty, complete file exists before the first tick.
      expect(readFile(path).numRows).toBe(0);
      try {
        sampler.start();
        await phase("baseline", null, 60);
        writer.commit();
        for (let run = 0; run < 2; run++) {
          await phase("run", run, 40);
          await phase("run", run, 40);
          await phase("cooldown", run, 20);
          writer.commit();
        }
        // After run 2 of 3: samples.arrow holds the baseline and both runs, nothing more.
        const afterTwo = readFile(path);
        const committed = written.reduce((n, w) => n + w.batch.ticks, 0);
        expect(afterTwo.numRows).toBe(committed);
        expect(afterTwo.numRows).toBeGreaterThan(150);
        expect(new Set(column<number | null>(afterTwo, "run"))).toEqual(new Set([null, 0, 1]));

        // Run 3 is under way, then the process "dies": no commit, no close.
        await phase("run", 2, 40);
        await phase("run", 2, 40);
        expect(writer.pendingTicks).toBeGreaterThan(0);
        expect(statSync(writer.journalPath).size).toBeGreaterThan(0);
      } finally {
        sampler.stop();
        await energy.stop();
      }
      const afterCrash = readFile(path);
      expect(afterCrash.numRows).toBe(writer.committedTicks);
      const name = `powercap/${sampler.channels[0]?.name}`;
      // This zone wraps at 2,000,000 uJ, so its values are stored as uint32 (read back as numbers).
      expect(String(afterCrash.schema.fields.find((f) => f.name === name)?.type)).toBe("Uint32");
      const expected = written
        .filter((w) => w.run !== 2)
        .flatMap((w) => [...w.batch.rawChannel(0)].map(Number));
      expect(column<number>(afterCrash, name)).toEqual(expected);
      expect(column<bigint>(afterCrash, "t_ns")).toEqual(
        written.filter((w) => w.run !== 2).flatMap((w) => [...w.batch.raw.tNs]),
      );
      expect(afterCrash.schema.fields.find((f) => f.name === name)?.metadata.get("wrap")).toBe("2000000");
      // Had it not crashed, close() would add run 3.
      writer.close();
      expect(readFile(path).numRows).toBe(written.reduce((n, w) => n + w.batch.ticks, 0));
    } finally {
      tree.remove();
    }
  });

  it("writes in O(data): throughput and bytes per value", () => {
    const channels = 8;
    const infos = Array.from({ length: channels }, (_, c) => channel(`zone-${c}`));
    const path = join(dir, "samples.arrow");
    const writer = new SamplesWriter(path, infos, provenance);
    const ticksPerBatch = 1000;
    const batchesPerRun = 20;
    const runs = 25;
    const batch = (() => {
      const b = syntheticBatch(0, ticksPerBatch, channels);
      return b;
    })();
    const started = process.hrtime.bigint();
    for (let run = 0; run < runs; run++) {
      for (let i = 0; i < batchesPerRun; i++) writer.append(batch, "run", run);
      writer.commit();
    }
    writer.close();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const ticks = ticksPerBatch * batchesPerRun * runs;
    const bytes = statSync(path).size;
    // Per tick: t_ns 8, phase 1, run 4 (+ no bitmap), lateness 4, read_ns 4, read_mask 1 = 22 bytes,
    // padded per batch to 8; then 8 bytes a channel value. The rest is headers and footer: the
    // appends of a run are gathered into one batch (its 20,000 rows are under batchTicks).
    const perTick = 8 + 1 + 4 + 4 + 4 + 1 + 8 * channels;
    const overhead = bytes - perTick * ticks;
    console.log(
      `samples.arrow: ${ticks} ticks x ${channels} channels in ${seconds.toFixed(3)} s = ` +
        `${Math.round(ticks / seconds)} ticks/s; ${(bytes / (ticks * channels)).toFixed(2)} bytes per channel value ` +
        `(${bytes} bytes, ${overhead} of headers and footer for ${runs} batches)`,
    );
    expect(readFile(path).numRows).toBe(ticks);
    expect(overhead).toBeGreaterThan(0);
    // Per batch: its message header (~600 bytes) and footer entry; the schema message at the head
    // (2 KB of field metadata here) is spread over the 25 batches too.
    expect(overhead / runs).toBeLessThan(1500);
    expect(bytes / (ticks * channels)).toBeLessThan(8 + 22 / channels + 0.01);
  });
});

describe("SamplesWriter layout", () => {
  it("gathers appends into batches of batchTicks rows, and stores 32-bit counters as uint32", () => {
    const infos = [
      channel("package-0", { source: "msr", unit: "esu", wrap: 2 ** 32 }),
      channel("psys", { source: "msr", wrap: 2 ** 32 }),
      channel("dram-0"),
    ];
    const path = join(dir, "samples.arrow");
    const writer = new SamplesWriter(path, infos, provenance, { batchTicks: 250 });
    const batches = Array.from({ length: 7 }, (_, i) => {
      const b = syntheticBatch(i * 100, 100, 3);
      // RAPL MSR values: 32 bits, the last just below the wrap.
      for (let t = 0; t < 100; t++) {
        b.raw.values[t] = BigInt((i * 100 + t) * 40_000_000) % 2n ** 32n;
        b.raw.values[100 + t] = 2n ** 32n - 1n - BigInt(t);
      }
      return b;
    });
    for (const [i, b] of batches.entries()) writer.append(b, "run", i < 3 ? 0 : 1);
    // 700 rows: batches of 200 (the next 100 would pass 250), 200, 200, then 100 at commit.
    writer.close();
    const bytes = readFileSync(path);
    const reader = RecordBatchFileReader.from(bytes);
    reader.open();
    expect(reader.numRecordBatches).toBe(4);
    const table = readFile(path);
    expect(table.numRows).toBe(700);
    const field = (name: string) => table.schema.fields.find((f) => f.name === name);
    expect(String(field("msr/package-0")?.type)).toBe("Uint32");
    expect(String(field("msr/psys")?.type)).toBe("Uint32");
    expect(String(field("powercap/dram-0")?.type)).toBe("Uint64");
    expect(field("msr/package-0")?.metadata.get("wrap")).toBe(String(2 ** 32));
    expect(column<number>(table, "msr/package-0")).toEqual(
      batches.flatMap((b) => [...b.rawChannel(0)].map(Number)),
    );
    expect(column<number>(table, "msr/psys")[0]).toBe(2 ** 32 - 1);
    expect(column<bigint>(table, "powercap/dram-0")).toEqual(batches.flatMap((b) => [...b.rawChannel(2)]));
    expect(column<number | null>(table, "run").slice(298, 302)).toEqual([0, 0, 1, 1]);
  });

  it("keeps a default batch within 4 MiB when rows are wide", () => {
    // 100 uint64 channels: 822 bytes a row, so 5102 rows a batch instead of 65536.
    const infos = Array.from({ length: 100 }, (_, i) => channel(`zone-${i}`));
    const path = join(dir, "samples.arrow");
    const writer = new SamplesWriter(path, infos, provenance);
    for (let i = 0; i < 12; i++) writer.append(syntheticBatch(i * 500, 500, 100), "run", 0);
    writer.close();
    const reader = RecordBatchFileReader.from(readFileSync(path));
    reader.open();
    expect(reader.numRecordBatches).toBe(2);
    expect(readFile(path).numRows).toBe(6000);
  });

  it("widens the read mask past eight sources", () => {
    const infos = Array.from({ length: 10 }, (_, i) => channel(`zone-${i}`, { sourceIndex: i }));
    const writer = new SamplesWriter(join(dir, "samples.arrow"), infos, provenance);
    writer.close();
    expect(String(writer.schema.fields.find((f) => f.name === "read_mask")?.type)).toBe("Uint16");
  });
});

describe("recoverSamples", () => {
  function crashedMidRun(path: string): { writer: SamplesWriter; committed: number; total: number } {
    const writer = new SamplesWriter(path, CHANNELS, provenance, { batchTicks: 1 });
    writer.append(syntheticBatch(0, 40), "baseline", null);
    writer.append(syntheticBatch(40, 30), "run", 0);
    writer.commit();
    writer.append(syntheticBatch(70, 20), "run", 1);
    writer.append(syntheticBatch(90, 10), "run", 1);
    return { writer, committed: 70, total: 100 };
  }

  it("adds the complete batches of the run in progress from its journal", () => {
    const path = join(dir, "samples.arrow");
    const { writer, committed, total } = crashedMidRun(path);
    expect(readFile(path).numRows).toBe(committed);
    // The last batch reached the journal only in part.
    const journalBytes = statSync(writer.journalPath).size;
    const fd = openSync(writer.journalPath, "r+");
    ftruncateSync(fd, journalBytes - 16);
    closeSync(fd);
    expect(recoverSamples(path)).toEqual({ batches: 3, fromJournal: 1 });
    const table = readFile(path);
    expect(table.numRows).toBe(total - 10);
    expect(column<bigint>(table, "t_ns")).toEqual(
      [0, 40, 70].flatMap((first, i) => [...syntheticBatch(first, [40, 30, 20][i] as number).raw.tNs]),
    );
    expect(column<number | null>(table, "run").slice(68, 72)).toEqual([0, 0, 1, 1]);
    expect(existsSync(writer.journalPath)).toBe(false);
  });

  it("repairs a file torn inside commit()", () => {
    const path = join(dir, "samples.arrow");
    const { writer, total } = crashedMidRun(path);
    // commit() had copied half the journal over the footer when the power went.
    const bytes = readFileSync(path);
    const footerLength = bytes.readInt32LE(bytes.byteLength - 10);
    const committedEnd = bytes.byteLength - 6 - 4 - footerLength - 8;
    const journal = readFileSync(writer.journalPath);
    const fd = openSync(path, "r+");
    writeAllSync(fd, journal.subarray(0, Math.floor(journal.byteLength * 0.75)), committedEnd);
    ftruncateSync(fd, committedEnd + Math.floor(journal.byteLength * 0.75));
    closeSync(fd);
    expect(() => tableFromIPC(readFileSync(path))).toThrow();
    expect(recoverSamples(path)).toEqual({ batches: 4, fromJournal: 2 });
    const table = readFile(path);
    expect(table.numRows).toBe(total);
    expect(column<bigint>(table, "powercap/package-0").at(-1)).toBe(2n ** 64n - 1n - 99n);
  });

  it("rebuilds a file with no batches", () => {
    const path = join(dir, "samples.arrow");
    new SamplesWriter(path, CHANNELS, provenance);
    expect(recoverSamples(path)).toEqual({ batches: 0, fromJournal: 0 });
    expect(readFile(path).numRows).toBe(0);
  });
});

describe("RunsWriter", () => {
  it("appends every finished run; runs.arrow is complete after each, the journal empty between", () => {
    const path = join(dir, "runs.arrow");
    const writer = new RunsWriter(path, {
      session: "s-1",
      domains: ["package-0", "dram-0"],
      metrics: [
        { name: "task_clock_ns", unit: "ns" },
        { name: "instructions", unit: "count" },
      ],
      provenance,
    });
    writer.append({
      commit: "abc123",
      label: "sort",
      index: 0,
      run: 0,
      session: "s-0",
      warmup: true,
      startNs: 5_000_000_000n,
      endNs: 6_500_000_000n,
      exitCode: 0,
      signal: null,
      energy: {
        "package-0": { rawJ: 30, baselineJ: 7.5, netJ: 22.5 },
        "dram-0": { rawJ: 3, baselineJ: 1, netJ: 2 },
      },
      metrics: { task_clock_ns: 1.4e9, instructions: null },
    });
    const first = readFile(path);
    expect(first.numRows).toBe(1);
    writer.append({
      label: "sort",
      index: 1,
      run: 7,
      warmup: false,
      startNs: 7_000_000_000n,
      endNs: 7_250_000_000n,
      exitCode: null,
      signal: "SIGKILL",
      energy: { "package-0": { rawJ: 5, baselineJ: 1.25, netJ: 3.75 } },
      warnings: ["drift 12%", "short run"],
    });
    const table = readFile(path);
    expect(table.numRows).toBe(2);
    expect(table.schema.fields.map((f) => f.name)).toEqual([
      "session",
      "commit",
      "label",
      "command",
      "index",
      "run",
      "warmup",
      "iterations",
      "start_ns",
      "end_ns",
      "duration_s",
      "exit_code",
      "signal",
      "package-0_raw_j",
      "package-0_baseline_j",
      "package-0_net_j",
      "dram-0_raw_j",
      "dram-0_baseline_j",
      "dram-0_net_j",
      "task_clock_ns",
      "instructions",
      "warnings",
    ]);
    // A row's own session wins over the writer's (a study's table gathers several sessions).
    expect(column(table, "session")).toEqual(["s-0", "s-1"]);
    expect(column(table, "run")).toEqual([0, 7]);
    expect(column(table, "commit")).toEqual(["abc123", null]);
    expect(column(table, "warmup")).toEqual([true, false]);
    expect(column(table, "start_ns")).toEqual([5_000_000_000n, 7_000_000_000n]);
    expect(column(table, "duration_s")).toEqual([1.5, 0.25]);
    expect(column(table, "exit_code")).toEqual([0, null]);
    expect(column(table, "signal")).toEqual([null, "SIGKILL"]);
    expect(column(table, "package-0_net_j")).toEqual([22.5, 3.75]);
    expect(column(table, "dram-0_raw_j")).toEqual([3, null]);
    expect(column(table, "task_clock_ns")).toEqual([1.4e9, null]);
    expect(column(table, "instructions")).toEqual([null, null]);
    const warnings = table.getChild("warnings");
    expect([...(warnings?.get(0) ?? [])]).toEqual([]);
    expect([...(warnings?.get(1) ?? [])]).toEqual(["drift 12%", "short run"]);
    const unit = (name: string) => table.schema.fields.find((f) => f.name === name)?.metadata.get("unit");
    expect([unit("package-0_raw_j"), unit("duration_s"), unit("start_ns"), unit("task_clock_ns")]).toEqual([
      "J",
      "s",
      "ns",
      "ns",
    ]);
    expect(JSON.parse(table.schema.metadata.get("emp.provenance") ?? "null")).toEqual(provenance);
    // Between appends the undo journal holds nothing: there is no append in flight to undo.
    expect(readdirSync(dir)).toEqual([".runs.arrow.journal", "runs.arrow"]);
    expect(statSync(join(dir, ".runs.arrow.journal")).size).toBe(0);
    writer.close();
    expect(readdirSync(dir)).toEqual(["runs.arrow"]);
  });

  it("fills record batches of RUNS_PER_BATCH runs and never writes a full one again", () => {
    const path = join(dir, "runs.arrow");
    const options = { session: "s", domains: ["package-0"], provenance };
    const writer = new RunsWriter(path, options);
    const total = 2 * RUNS_PER_BATCH + 22;
    let sealed: Buffer | undefined;
    for (let i = 0; i < total; i++) {
      writer.append(run(i));
      const table = readFile(path);
      expect(table.numRows).toBe(i + 1);
      expect(table.batches.length).toBe(Math.ceil((i + 1) / RUNS_PER_BATCH));
      // The bytes up to the end of the first full batch, once it is full.
      if (i + 1 === RUNS_PER_BATCH + 1) {
        const bytes = readFileSync(path);
        sealed = bytes.subarray(0, lastBatchOffset(bytes));
      }
    }
    const bytes = readFileSync(path);
    expect(sealed && bytes.subarray(0, sealed.byteLength).equals(sealed)).toBe(true);
    const table = readFile(path);
    expect(column<number>(table, "index")).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(column<number>(table, "package-0_net_j")).toEqual(Array.from({ length: total }, (_, i) => i / 4));
    writer.close();
    // A table written whole from runs (a study's, rebuilt from its ledger) has the same rows and appends on.
    const rebuilt = new RunsWriter(
      path,
      options,
      Array.from({ length: total }, (_, i) => run(i)),
    );
    rebuilt.append(run(total));
    expect(column<number>(readFile(path), "index")).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
    rebuilt.close();
  });

  it("after a crash mid-append, holds the runs before it or the run appended, never a mix", () => {
    const path = join(dir, "runs.arrow");
    const writer = new RunsWriter(path, { session: "s", domains: ["package-0"], provenance });
    for (let i = 0; i < RUNS_PER_BATCH + 6; i++) writer.append(run(i));
    const before = readFileSync(path);
    writer.append(run(RUNS_PER_BATCH + 6));
    const after = readFileSync(path);
    writer.close();
    let offset = 0;
    while (before[offset] === after[offset]) offset++;
    const record = undoRecord(offset, before.subarray(offset), after.subarray(offset));
    const journal = join(dir, ".runs.arrow.journal");
    const crashed = (file: Uint8Array, journalBytes: Uint8Array) => {
      writeFileSync(path, file);
      writeFileSync(journal, journalBytes);
    };
    // The new tail half written over the old: undone.
    const half = Math.floor((after.byteLength - offset) / 2);
    crashed(Buffer.concat([after.subarray(0, offset + half), before.subarray(offset + half)]), record);
    expect(tailPending(path)).toBe(true);
    expect(recoverTail(path)).toBe("undone");
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readFile(path).numRows).toBe(RUNS_PER_BATCH + 6);
    expect(existsSync(journal)).toBe(false);
    // The new tail written whole, the journal not yet emptied: kept.
    crashed(after, record);
    expect(recoverTail(path)).toBe("completed");
    expect(readFileSync(path).equals(after)).toBe(true);
    // The record itself cut short: the file was not touched yet, and stays.
    crashed(before, record.subarray(0, record.byteLength - 5));
    expect(recoverTail(path)).toBe("none");
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

/** A run with a known index and energy, for RunsWriter tests. */
function run(i: number): RunRecord {
  return {
    label: "l",
    index: i,
    run: i,
    warmup: false,
    startNs: BigInt(i) * 1_000_000_000n,
    endNs: BigInt(i) * 1_000_000_000n + 500_000_000n,
    exitCode: 0,
    signal: null,
    energy: { "package-0": { rawJ: i / 2, baselineJ: i / 4, netJ: i / 4 } },
    warnings: i % 7 === 0 ? [`warning of run ${i}`] : [],
  };
}

/** Where the last record batch of an Arrow file starts, from its footer. */
function lastBatchOffset(bytes: Buffer): number {
  const footerLength = bytes.readInt32LE(bytes.byteLength - 10);
  const footer = Footer.decode(bytes.subarray(bytes.byteLength - 10 - footerLength, bytes.byteLength - 10));
  const last = footer.getRecordBatch(footer.numRecordBatches - 1);
  if (last === null) throw new Error("no record batch in the footer");
  return last.offset;
}

const noSmallDisk = smallDiskUnavailable();
if (noSmallDisk) console.log(`skipping the full-disk writer tests: ${noSmallDisk}`);

describe.skipIf(noSmallDisk !== "")("writers on a full disk (a 64 KiB tmpfs)", () => {
  let disk: SmallDisk;
  beforeEach(() => {
    disk = requireSmallDisk(64 * 1024);
  });
  afterEach(() => disk.remove());

  it("RunsWriter: the append that finds no space throws a WriteError and leaves every run before it", () => {
    const path = join(disk.path, "runs.arrow");
    const writer = new RunsWriter(path, { session: "s", domains: ["package-0"], provenance });
    let appended = 0;
    let failure: unknown;
    // Long warnings fill the disk in a few dozen runs.
    const long = (i: number) => ({ ...run(i), warnings: ["x".repeat(900 + i)] });
    for (let i = 0; i < 1000 && failure === undefined; i++) {
      try {
        writer.append(long(i));
        appended++;
      } catch (error) {
        failure = error;
      }
    }
    expect(failure).toBeInstanceOf(WriteError);
    expect((failure as WriteError).reason).toBe("ENOSPC");
    expect((failure as WriteError).message).toContain(
      `cannot write ${path}: no space left on ${disk.path} (tmpfs`,
    );
    expect((failure as WriteError).suggestion).toMatch(
      /^free space on .*, or write the results to a folder on another disk \(--out DIR\)$/,
    );
    expect(appended).toBeGreaterThan(10);
    const table = readFile(path);
    expect(column<number>(table, "index")).toEqual(Array.from({ length: appended }, (_, i) => i));
    expect(column<string[]>(table, "warnings").map((w) => [...w][0])).toEqual(
      Array.from({ length: appended }, (_, i) => long(i).warnings[0]),
    );
    expect(statSync(join(disk.path, ".runs.arrow.journal")).size).toBe(0);
    writer.close();
  });

  it("SamplesWriter: the commit that finds no space throws a WriteError; the file holds every committed run", () => {
    const path = join(disk.path, "samples.arrow");
    const writer = new SamplesWriter(path, CHANNELS, provenance);
    let failure: unknown;
    let committedRuns = 0;
    for (let i = 0; i < 1000 && failure === undefined; i++) {
      try {
        writer.append(syntheticBatch(i * 100, 100), "run", i);
        writer.commit();
        committedRuns++;
      } catch (error) {
        failure = error;
      }
    }
    expect(failure).toBeInstanceOf(WriteError);
    expect((failure as WriteError).message).toContain(`cannot write ${path}: no space left on ${disk.path}`);
    // Nothing more is written once it has failed.
    expect(() => writer.commit()).toThrow(WriteError);
    writer.close();
    const table = readFile(path);
    expect(table.numRows).toBe(committedRuns * 100);
    expect(new Set(column<number>(table, "run"))).toEqual(
      new Set(Array.from({ length: committedRuns }, (_, i) => i)),
    );
    expect(existsSync(writer.journalPath)).toBe(false);
  });
});

describe("writeJsonAtomic", () => {
  it("replaces manifest.json whole, bigints as strings", () => {
    const path = join(dir, "manifest.json");
    writeJsonAtomic(path, { state: "running", startedNs: 12n });
    writeJsonAtomic(path, { state: "done", startedNs: 2n ** 63n });
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({
      state: "done",
      startedNs: "9223372036854775808",
    });
    expect(readdirSync(dir)).toEqual(["manifest.json"]);
  });
});

const pyarrow = spawnSync("python3", ["-c", "import pyarrow; print(pyarrow.__version__)"], {
  encoding: "utf8",
});
const pyarrowMissing =
  pyarrow.status === 0
    ? ""
    : `python3 cannot import pyarrow (${(pyarrow.stderr || String(pyarrow.error)).trim().split("\n").pop()})`;
if (pyarrowMissing) console.log(`skipping the pyarrow cross-check: ${pyarrowMissing}`);

describe.skipIf(pyarrowMissing !== "")("independent reader (pyarrow)", () => {
  it("reads samples.arrow and runs.arrow with the same values", () => {
    const samplesPath = join(dir, "samples.arrow");
    const samples = new SamplesWriter(samplesPath, CHANNELS, provenance);
    samples.append(syntheticBatch(0, 50), "baseline", null);
    samples.commit();
    samples.append(syntheticBatch(50, 25), "run", 0);
    samples.commit();
    // Left unclosed: pyarrow reads what a crash would leave.
    const runsPath = join(dir, "runs.arrow");
    const runs = new RunsWriter(runsPath, { session: "s", domains: ["package-0"], provenance });
    runs.append({
      label: "x",
      index: 0,
      run: 0,
      warmup: false,
      startNs: 1n,
      endNs: 2_000_000_001n,
      exitCode: 0,
      signal: null,
      energy: { "package-0": { rawJ: 4, baselineJ: 1, netJ: 3 } },
      warnings: ["w"],
    });
    const script = `
import json, sys, pyarrow as pa
s = pa.ipc.open_file(sys.argv[1]).read_all()
r = pa.ipc.open_file(sys.argv[2]).read_all()
f = s.schema.field("powercap/package-0")
print(json.dumps({
  "rows": s.num_rows, "type": str(f.type), "unit": f.metadata[b"unit"].decode(),
  "first": str(s.column("powercap/package-0")[0].as_py()), "temp": s.column("thermal/package-0-temp")[0].as_py(),
  "phases": sorted(set(s.column("phase").to_pylist())), "run": s.column("run").to_pylist()[49:51],
  "runs": r.num_rows, "net": r.column("package-0_net_j").to_pylist(), "duration": r.column("duration_s").to_pylist(),
  "warnings": r.column("warnings").to_pylist(), "prov": json.loads(s.schema.metadata[b"emp.provenance"]),
}))`;
    const out = spawnSync("python3", ["-c", script, samplesPath, runsPath], { encoding: "utf8" });
    expect(out.stderr).toBe("");
    expect(JSON.parse(out.stdout)).toEqual({
      rows: 75,
      type: "uint64",
      unit: "uJ",
      first: "18446744073709551615",
      temp: -5000,
      phases: ["baseline", "run"],
      run: [null, 0],
      runs: 1,
      net: [3],
      duration: [2],
      warnings: [["w"]],
      prov: provenance,
    });
  });
});

describe("BlockWriter and the apache-arrow it subclasses", () => {
  it("is pinned to the one version whose protected members it overrides, and those members are there", () => {
    // ipc-file.ts overrides _write and drives _position, _started, _writeMessage, _writeFooter and
    // _recordBatchBlocks: members a minor release may rename. package.json pins the exact version.
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const installed = JSON.parse(
      readFileSync(new URL("../node_modules/apache-arrow/package.json", import.meta.url), "utf8"),
    ) as { version: string };
    expect(pkg.dependencies["apache-arrow"]).toBe(installed.version);
    const writer = new BlockWriter() as unknown as Record<string, unknown>;
    for (const member of ["_write", "_writeMessage", "_writeFooter"])
      expect(typeof writer[member]).toBe("function");
    expect(Array.isArray(writer._recordBatchBlocks)).toBe(true);
    expect(typeof writer._position).toBe("number");
    expect(typeof writer._started).toBe("boolean");
  });
});

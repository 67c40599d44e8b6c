// `emp measure` through MSR fixtures whose 32-bit counter wraps during the session, and its Arrow
// files read back with flechette, an Arrow implementation independent of the apache-arrow that
// wrote them: the documented columns, their units, row counts and values equal to the summary.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Column, type Field, type Table, Type, tableFromIPC } from "@uwdata/flechette";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MeasureSummary } from "../src/measure/summary.js";
import { type CounterLog, EnergyWriter, msrDevice, WrittenEnergy, wrapTimesNs } from "./fixtures/energy.js";
import { FixtureTree, writeCpuTopology } from "./fixtures/tree.js";
import { runEmp } from "./helpers/emp-cli.js";

const WRAP = 2 ** 32;
const INTEL = { powerUnit: 0x606, pkg: 0x611 } as const;
const AMD = { powerUnit: 0xc0010299, pkg: 0xc001029b } as const;
// 0x606 as a Skylake server reports it: energy status unit 14 (2^-14 J).
const INTEL_POWER_UNIT = 0x000a0e03n;
const INTEL_UNIT_J = 2 ** -14;
// 0xC0010299 as Zen reports it: energy status unit 16 (2^-16 J).
const AMD_POWER_UNIT = 0x000a1003n;
const AMD_UNIT_J = 2 ** -16;
/** The driven counter's power: idle, and while the measured command holds the flag. */
const IDLE_W = 1;
const BUSY_W = 25;
/** Each run holds the flag for 0.3 s: about (25 - 1) W x 0.3 s net. */
const NET_J = (BUSY_W - IDLE_W) * 0.3;
/**
 * Joules left before the driven counter wraps. The writer spends IDLE_W from its start: CLI
 * start-up (s seconds before the sampler's first reading; 0.5 s on a quiet machine, 4.6 s seen
 * beside a CPU hog) uses s J, the 1 s baseline 1 J, and the warmup and three runs at least 7.2 J
 * each, about 30 J after start-up in all. The wrap is seen while s < 15 J < s + 30 J: in the
 * first runs on a quiet machine, and still in the session for start-ups up to 15 s.
 */
const HEADROOM_J = 15;

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "emp-measure-results-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Measured {
  out: string;
  summary: MeasureSummary;
  /** What the writer put into the driven package counter. */
  written: WrittenEnergy;
  /** When the writer's raw value wrapped. */
  writerWrapsNs: bigint[];
}

/**
 * One package of two CPUs; each CPU's MSR file holds both vendors' RAPL registers (at distinct
 * addresses). The writer drives the package counter of `vendor`; the other vendor's registers hold
 * fixed values, which emp must not read.
 */
async function measureMsr(vendor: "GenuineIntel" | "AuthenticAMD", name: string): Promise<Measured> {
  const tree = FixtureTree.create();
  try {
    writeCpuTopology(tree, 1, 2);
    const family = vendor === "GenuineIntel" ? 6 : 0x19;
    const model = vendor === "GenuineIntel" ? 85 : 1;
    tree.file(
      "cpuinfo",
      [0, 1]
        .map((cpu) =>
          [
            `processor\t: ${cpu}`,
            `vendor_id\t: ${vendor}`,
            `cpu family\t: ${family}`,
            `model\t\t: ${model}`,
            "model name\t: Fixture CPU",
          ].join("\n"),
        )
        .join("\n\n"),
    );
    const unitJ = vendor === "GenuineIntel" ? INTEL_UNIT_J : AMD_UNIT_J;
    const startRaw = WRAP - Math.round(HEADROOM_J / unitJ);
    // AMD's unit register and package counter are two addresses apart and overlap in the file:
    // the counter's bytes replace the unit's upper bytes, leaving the ESU field (bits 12:8) intact.
    const registers = {
      [INTEL.powerUnit]: INTEL_POWER_UNIT,
      [INTEL.pkg]: vendor === "GenuineIntel" ? BigInt(startRaw) : 123_456n,
      [AMD.powerUnit]: AMD_POWER_UNIT,
      [AMD.pkg]: vendor === "AuthenticAMD" ? BigInt(startRaw) : 654_321n,
    };
    const cpu0 = msrDevice(tree, 0, registers);
    msrDevice(tree, 1, registers);
    const flag = tree.path("busy.flag");
    const writer = await EnergyWriter.start(tree, [
      {
        format: "msr",
        path: cpu0,
        offset: vendor === "GenuineIntel" ? INTEL.pkg : AMD.pkg,
        unitJ,
        wrap: WRAP,
        startRaw,
        idleW: IDLE_W,
        busyW: BUSY_W,
        flagPath: flag,
      },
    ]);
    const out = join(scratch, name);
    let result: ReturnType<typeof runEmp>;
    let logs: CounterLog[] = [];
    try {
      result = runEmp(
        [
          "measure",
          "--sources",
          "msr",
          "--repeat",
          "3",
          "--baseline",
          "1",
          "--json",
          "--out",
          out,
          "--",
          "sh",
          "-c",
          `touch ${flag}; sleep 0.3; rm ${flag}`,
        ],
        { EMP_SYSFS_ROOT: tree.root, EMP_DEV_ROOT: tree.root, EMP_PROCFS_ROOT: tree.root },
      );
    } finally {
      logs = await writer.stop();
    }
    expect(result.status, result.stderr).toBe(0);
    const [log] = logs;
    if (log === undefined) throw new Error("the writer logged no counter");
    return {
      out,
      summary: JSON.parse(result.stdout) as MeasureSummary,
      written: WrittenEnergy.of(log, { unitJ, wrap: WRAP }),
      writerWrapsNs: wrapTimesNs(log),
    };
  } finally {
    tree.remove();
  }
}

function readArrow(path: string): Table {
  return tableFromIPC(readFileSync(path), { useBigInt: true });
}

function column(table: Table, name: string): Column<unknown> {
  const c = table.getChild(name);
  expect(c, `column ${name}`).toBeDefined();
  return c;
}

function field(table: Table, name: string): Field {
  const f = table.schema.fields.find((x) => x.name === name);
  expect(f, `field ${name}`).toBeDefined();
  return f as Field;
}

/**
 * Checks the numbers the 1 W idle / 25 W busy fixture gives; returns a line for the log. Each run's
 * energy must be what the writer put into the counter over the run's span; the nominal 7.2 J net
 * only roughly, since a loaded machine lets the writer step late across the flag's edges.
 */
function expectFixtureNumbers({ out, summary, written }: Measured): string {
  expect(summary.estimated).toBe(false);
  expect(summary.domains["package-0"]?.source).toBe("msr");
  expect(summary.sampling.dropped).toBe(0);
  // Whatever rate a loaded machine allowed, every deadline is a tick or a counted miss.
  const deadlines = (summary.sampling.samples * summary.sampling.requested_hz) / summary.sampling.achieved_hz;
  expect(Math.abs(summary.sampling.samples + summary.sampling.missed - deadlines)).toBeLessThan(
    0.01 * deadlines + 3,
  );
  const baselineW = summary.baseline.power_w["package-0"] ?? Number.NaN;
  expect(Math.abs(baselineW - IDLE_W) / IDLE_W, `baseline ${baselineW} W`).toBeLessThan(0.05);
  const netMedianJ = summary.domains["package-0"]?.net_median_j ?? Number.NaN;
  expect(Math.abs(netMedianJ - NET_J) / NET_J, `net median ${netMedianJ} J`).toBeLessThan(0.15);
  expect(summary.runs).toHaveLength(4);
  const runs = readArrow(join(out, "runs.arrow"));
  const start = column(runs, "start_ns").toArray() as ArrayLike<bigint>;
  const end = column(runs, "end_ns").toArray() as ArrayLike<bigint>;
  const raw = column(runs, "package-0_raw_j").toArray() as ArrayLike<number>;
  for (let i = 0; i < runs.numRows; i++) {
    const writtenJ = written.between(start[i] as bigint, end[i] as bigint);
    expect(
      Math.abs((raw[i] as number) / writtenJ - 1),
      `run ${i}: ${raw[i]} J, written ${writtenJ} J`,
    ).toBeLessThan(0.02);
  }
  return (
    `baseline ${baselineW.toFixed(4)} W, net median ${netMedianJ.toFixed(4)} J, ` +
    `nets ${summary.runs.map((r) => r.net_energy_j["package-0"]?.toFixed(4)).join(", ")} J, ` +
    `${summary.sampling.achieved_hz.toFixed(1)} Hz, ${summary.sampling.samples} samples, dropped ${summary.sampling.dropped}`
  );
}

/** When the writer wrapped the counter, against the sampler's first and last tick: for the log. */
function writerWrapLine(measured: Measured, samples: Table): string {
  const t = column(samples, "t_ns").toArray() as ArrayLike<bigint>;
  const firstNs = t[0] as bigint;
  const lastNs = t[t.length - 1] as bigint;
  const at = measured.writerWrapsNs.map((w) => `${(Number(w - firstNs) / 1e9).toFixed(3)} s`);
  return `writer wrapped at ${at.join(", ")} after the first tick (session ${(Number(lastNs - firstNs) / 1e9).toFixed(3)} s)`;
}

/** Phases of the samples where the raw package counter went down (wrapped). */
function wrapPhases(samples: Table, channel: string): string[] {
  const raw = column(samples, channel).toArray() as ArrayLike<bigint>;
  const phase = column(samples, "phase").toArray() as ArrayLike<string>;
  const run = column(samples, "run").toArray() as ArrayLike<number | null>;
  const wraps: string[] = [];
  for (let i = 1; i < raw.length; i++) {
    if ((raw[i] as bigint) < (raw[i - 1] as bigint)) wraps.push(`${phase[i]} ${run[i]}`);
  }
  return wraps;
}

describe("emp measure through an Intel MSR fixture (Intel and AMD registers present) that wraps", () => {
  let measured: Measured;
  beforeAll(async () => {
    measured = await measureMsr("GenuineIntel", "msr-intel");
  }, 60_000);

  it("reports about 1 W idle and 7.2 J net across the 32-bit wrap", () => {
    const line = expectFixtureNumbers(measured);
    const samples = readArrow(join(measured.out, "samples.arrow"));
    const wraps = wrapPhases(samples, "msr/package-0");
    console.log(
      `msr Intel: ${line}; raw counter wrapped in: ${wraps.join("; ")}; ${writerWrapLine(measured, samples)}`,
    );
    expect(wraps.length).toBeGreaterThanOrEqual(1);
    const f = field(samples, "msr/package-0");
    expect(f.metadata.get("unit")).toBe("esu");
    expect(Number(f.metadata.get("scale"))).toBe(INTEL_UNIT_J);
    expect(Number(f.metadata.get("wrap"))).toBe(WRAP);
    expect(f.metadata.get("origin")).toBe("msr 0x611 on cpu 0");
  });

  it("writes runs.arrow and samples.arrow that an independent reader (flechette) reads as documented", () => {
    const { out, summary } = measured;
    const runs = readArrow(join(out, "runs.arrow"));
    const domains = Object.keys(summary.domains);
    expect(domains).toContain("package-0");
    const runColumns = [
      "session",
      "label",
      "index",
      "warmup",
      "start_ns",
      "end_ns",
      "duration_s",
      "exit_code",
    ];
    for (const domain of domains)
      runColumns.push(`${domain}_raw_j`, `${domain}_baseline_j`, `${domain}_net_j`);
    runColumns.push("warnings");
    const runNames = runs.schema.fields.map((f) => f.name);
    for (const name of runColumns) expect(runNames, name).toContain(name);
    expect(runs.schema.metadata?.get("emp.table")).toBe("runs");

    expect(runs.numRows).toBe(summary.runs.length);
    const session = column(runs, "session").toArray() as string[];
    expect(new Set(session).size).toBe(1);
    expect(session[0]).toMatch(/\S/);
    expect(column(runs, "label").toArray()).toEqual(summary.runs.map(() => summary.label ?? ""));
    expect(Array.from(column(runs, "index").toArray() as ArrayLike<number>)).toEqual(
      summary.runs.map((r) => r.index),
    );
    expect(column(runs, "warmup").toArray()).toEqual(summary.runs.map((r) => r.warmup));
    expect(Array.from(column(runs, "exit_code").toArray() as ArrayLike<number>)).toEqual(
      summary.runs.map((r) => r.exit_code),
    );
    const start = column(runs, "start_ns").toArray() as ArrayLike<bigint>;
    const end = column(runs, "end_ns").toArray() as ArrayLike<bigint>;
    const duration = column(runs, "duration_s").toArray() as ArrayLike<number>;
    for (const [i, run] of summary.runs.entries()) {
      expect(duration[i]).toBeCloseTo(run.duration_s, 9);
      expect(Number((end[i] as bigint) - (start[i] as bigint)) / 1e9).toBeCloseTo(duration[i] as number, 9);
      for (const domain of domains) {
        const net = column(runs, `${domain}_net_j`).at(i) as number;
        const raw = column(runs, `${domain}_raw_j`).at(i) as number;
        const baseline = column(runs, `${domain}_baseline_j`).at(i) as number;
        expect(net).toBeCloseTo(run.net_energy_j[domain] as number, 9);
        expect(raw).toBeCloseTo(run.energy_j[domain] as number, 9);
        expect(raw - baseline).toBeCloseTo(net, 9);
      }
    }
    // Each run's own warnings, the same in runs.arrow as in the summary.
    const warnings = column(runs, "warnings").toArray() as ArrayLike<string>[];
    expect(warnings.map((w) => Array.from(w))).toEqual(summary.runs.map((r) => r.warnings));
    for (const name of ["start_ns", "end_ns"]) expect(field(runs, name).metadata.get("unit")).toBe("ns");
    expect(field(runs, "duration_s").metadata.get("unit")).toBe("s");
    for (const domain of domains) {
      for (const kind of ["raw", "baseline", "net"]) {
        const f = field(runs, `${domain}_${kind}_j`);
        expect(f.metadata.get("unit")).toBe("J");
        expect(f.metadata.get("domain")).toBe(domain);
      }
    }

    const samples = readArrow(join(out, "samples.arrow"));
    expect(samples.schema.metadata?.get("emp.table")).toBe("samples");
    const sampleNames = samples.schema.fields.map((f) => f.name);
    expect(sampleNames.slice(0, 6)).toEqual(["t_ns", "phase", "run", "lateness_ns", "read_ns", "read_mask"]);
    const channels = sampleNames.slice(6);
    expect(channels).toContain("msr/package-0");
    for (const name of channels) {
      expect(name).toMatch(/^msr\//);
      const f = field(samples, name);
      expect(f.metadata.get("unit")).toBe("esu");
      expect(f.metadata.get("source")).toBe("msr");
      // RAPL MSRs are 32-bit counters (wrap 2^32), so samples.arrow stores them as uint32.
      expect(f.type).toMatchObject({ typeId: Type.Int, bitWidth: 32, signed: false });
    }
    for (const name of ["lateness_ns", "read_ns"])
      expect(field(samples, name).type).toMatchObject({ typeId: Type.Int, bitWidth: 32, signed: true });
    expect(samples.numRows).toBe(summary.sampling.samples);
    for (const name of ["t_ns", "lateness_ns", "read_ns"])
      expect(field(samples, name).metadata.get("unit")).toBe("ns");
    expect(field(samples, "t_ns").type).toMatchObject({ typeId: Type.Int, bitWidth: 64, signed: true });

    // Time runs forward; every run's samples lie within its start and end, which come from the same clock.
    const t = column(samples, "t_ns").toArray() as ArrayLike<bigint>;
    for (let i = 1; i < t.length; i++)
      if ((t[i] as bigint) <= (t[i - 1] as bigint)) expect.fail(`t_ns not increasing at ${i}`);
    const phase = column(samples, "phase").toArray() as ArrayLike<string>;
    const run = column(samples, "run").toArray() as ArrayLike<number | null>;
    expect([...new Set(Array.from(phase))].sort()).toEqual(["baseline", "between", "run", "warmup"]);
    // A run's samples cover its span from start_ns to end_ns. They are labelled by the drain that
    // took them, so a few from just before the child started (the drain before its spawn) and from
    // the settling tail after it ended carry the run's label too: they stay between the neighbours.
    // "Cover" is to within the longest time the machine left between two ticks, and at least one
    // tick per such time lies in the run.
    let longestGapNs = 0n;
    for (let i = 1; i < t.length; i++) {
      const gapNs = (t[i] as bigint) - (t[i - 1] as bigint);
      if (gapNs > longestGapNs) longestGapNs = gapNs;
    }
    const spans: string[] = [`longest gap between ticks ${Number(longestGapNs) / 1e6} ms`];
    for (const [i, r] of summary.runs.entries()) {
      const ks: number[] = [];
      for (let k = 0; k < t.length; k++) if (run[k] === r.index) ks.push(k);
      for (const k of ks) expect(phase[k]).toBe(r.warmup ? "warmup" : "run");
      const first = t[ks[0] as number] as bigint;
      const last = t[ks[ks.length - 1] as number] as bigint;
      spans.push(
        `run ${r.index}: ${ks.length} samples from ${Number((start[i] as bigint) - first) / 1e6} ms before start to ${Number(last - (end[i] as bigint)) / 1e6} ms after end`,
      );
      expect(first).toBeLessThanOrEqual((start[i] as bigint) + longestGapNs);
      expect(last).toBeGreaterThanOrEqual((end[i] as bigint) - longestGapNs);
      if (i > 0) expect(first).toBeGreaterThan(end[i - 1] as bigint);
      if (i + 1 < summary.runs.length) expect(last).toBeLessThan(start[i + 1] as bigint);
      expect(ks.length, `samples of run ${r.index}`).toBeGreaterThanOrEqual(
        Math.floor((r.duration_s * 1e9) / Number(longestGapNs)),
      );
    }
    console.log(spans.join("\n"));
    for (let k = 0; k < t.length; k++)
      if (phase[k] === "baseline" && run[k] !== null) expect.fail(`baseline sample ${k} has a run`);
  });
});

describe("emp measure through an AMD MSR fixture (Intel and AMD registers present) that wraps", () => {
  it("reads the AMD registers with the unit of 0xC0010299 and reports about 1 W idle and 7.2 J net", async () => {
    const measured = await measureMsr("AuthenticAMD", "msr-amd");
    const line = expectFixtureNumbers(measured);
    const samples = readArrow(join(measured.out, "samples.arrow"));
    const wraps = wrapPhases(samples, "msr/package-0");
    console.log(
      `msr AMD: ${line}; raw counter wrapped in: ${wraps.join("; ")}; ${writerWrapLine(measured, samples)}`,
    );
    expect(wraps.length).toBeGreaterThanOrEqual(1);
    const f = field(samples, "msr/package-0");
    expect(Number(f.metadata.get("scale"))).toBe(AMD_UNIT_J);
    expect(f.metadata.get("origin")).toBe("msr 0xc001029b on cpu 0");
  }, 60_000);
});

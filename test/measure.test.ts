// emp measure end to end against a powercap fixture: 5 W idle, 25 W while the measured command
// holds a flag file, a counter that wraps every 80 ms.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SessionRecorder } from "../src/measure/recorder.js";
import { measure } from "../src/measure/session.js";
import type { MeasureSummary, SamplingSummary } from "../src/measure/summary.js";
import type { RunRecord } from "../src/results/runs-writer.js";
import { type CounterLog, EnergyWriter, powercapZone, WrittenEnergy } from "./fixtures/energy.js";
import { FixtureTree, withRoots, writeCpuTopology } from "./fixtures/tree.js";

const IDLE_W = 5;
const BUSY_W = 25;
const RANGE_UJ = 1_999_999; // 2 J: wraps every 80 ms at 25 W

let tree: FixtureTree;
beforeEach(() => {
  tree = FixtureTree.create();
  writeCpuTopology(tree, 1, 2);
});
afterEach(() => tree.remove());

describe("measure", () => {
  it("subtracts the idle baseline: 0.3 s at 25 W over 5 W idle is 6 J net", async () => {
    const energy = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: RANGE_UJ });
    const flag = tree.path("busy.flag");
    const writer = await EnergyWriter.start(tree, [
      {
        format: "text",
        path: energy,
        unitJ: 1e-6,
        wrap: RANGE_UJ + 1,
        idleW: IDLE_W,
        busyW: BUSY_W,
        flagPath: flag,
      },
    ]);
    const recorder = new RunRecords(tree.root);
    let summary: MeasureSummary;
    let logs: CounterLog[] = [];
    try {
      summary = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
        measure({
          command: ["sh", "-c", `touch ${flag}; sleep 0.3; rm ${flag}`],
          sampleHz: 1000,
          repeat: 3,
          warmup: 1,
          baselineS: 1,
          counters: ["task-clock"],
          recorder,
        }),
      );
    } finally {
      logs = await writer.stop();
    }
    const [log] = logs;
    if (log === undefined) throw new Error("the writer logged no counter");
    const written = WrittenEnergy.of(log, { unitJ: 1e-6, wrap: RANGE_UJ + 1 });
    expect(summary.estimated).toBe(false);
    expect(summary.sampling.dropped).toBe(0);
    expectEveryDeadlineAccounted(summary.sampling);
    expect(summary.baseline.power_w["package-0"]).toBeCloseTo(IDLE_W, 1);
    const domain = summary.domains["package-0"];
    expect(domain?.source).toBe("powercap");
    expect(summary.runs).toHaveLength(4);
    // Each run's raw energy is what the writer put into the counter over the run's span, and its
    // net energy that less the idle baseline; the nominal 6 J only roughly, since a loaded machine
    // lets the writer step late across the flag's edges.
    const baselineW = summary.baseline.power_w["package-0"] ?? Number.NaN;
    expect(recorder.records).toHaveLength(4);
    for (const [i, record] of recorder.records.entries()) {
      const writtenJ = written.between(record.startNs, record.endNs);
      const run = summary.runs[i];
      const rawJ = run?.energy_j["package-0"] ?? Number.NaN;
      expect(Math.abs(rawJ / writtenJ - 1), `run ${i}: ${rawJ} J, written ${writtenJ} J`).toBeLessThan(0.02);
      const writtenNetJ = writtenJ - baselineW * (run?.duration_s ?? 0);
      expect(Math.abs((run?.net_energy_j["package-0"] ?? Number.NaN) / writtenNetJ - 1)).toBeLessThan(0.03);
    }
    expect(Math.abs((domain?.net_median_j ?? 0) - 6) / 6).toBeLessThan(0.15);
    console.log(
      JSON.stringify({
        baseline: summary.baseline,
        domain,
        sampling: summary.sampling,
        warnings: summary.warnings,
      }),
    );
  });
});

/** Keeps each run's record (its start and end on the sampler's clock) instead of writing runs.arrow. */
class RunRecords extends SessionRecorder {
  readonly records: RunRecord[] = [];

  constructor(dir: string) {
    super(dir, { emp_version: "test", host: "test" });
  }

  override run(record: RunRecord): void {
    this.records.push(record);
  }
}

describe("measure warnings", () => {
  /** Measures `command` at `sampleHz` against a 5 W powercap fixture that updates every 0.5 ms. */
  async function measureIdle(command: string[], sampleHz: number) {
    const tree = FixtureTree.create();
    try {
      writeCpuTopology(tree, 1, 1);
      const energy = powercapZone(tree, {
        id: "intel-rapl:0",
        name: "package-0",
        maxEnergyRangeUj: RANGE_UJ,
      });
      const writer = await EnergyWriter.start(tree, [
        { format: "text", path: energy, unitJ: 1e-6, wrap: RANGE_UJ + 1, idleW: IDLE_W },
      ]);
      try {
        return await withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
          measure({ command, sampleHz, repeat: 1, warmup: 0, baselineS: 0.3, counters: [] }),
        );
      } finally {
        await writer.stop();
      }
    } finally {
      tree.remove();
    }
  }

  it("a run of about 100 ms at 100 Hz: too few readings, on that run and in the session", async () => {
    const summary = await measureIdle(["sleep", "0.1"], 100);
    const [run] = summary.runs;
    const few = run?.warnings.find((w) => /too few readings/.test(w)) ?? "";
    console.log(`100 Hz, ${run?.duration_s.toFixed(3)} s: ${few}`);
    // The readings around each end are 10 ms apart (more where the machine was slow), so the bound
    // (start gap + end gap) / (4 x duration) is about 5 % for 100 ms; it must be what the numbers say.
    const match =
      /ends are ([\d.]+) and ([\d.]+) ms apart, about (\d+) sensor updates over its ([\d.]+) ms: .* up to ([\d.]+) %/.exec(
        few,
      );
    const [startGapMs, endGapMs, updates, durationMs, boundPct] = (match?.slice(1) ?? []).map(Number);
    expect(updates).toBeLessThan(50);
    expect(durationMs).toBeCloseTo((run?.duration_s ?? 0) * 1000, 0);
    const expectedPct = (((startGapMs ?? 0) + (endGapMs ?? 0)) / (4 * (durationMs ?? 1))) * 100;
    expect(Math.abs((boundPct ?? 0) - expectedPct)).toBeLessThan(0.06);
    expect(boundPct).toBeGreaterThan(1);
    expect(summary.warnings).toContain(`run 1: ${few}`);
    // The energy is kept: 5 W over the run, within the bound the warning states (and the writer's steps).
    const rawJ = run?.energy_j["package-0"] ?? Number.NaN;
    expect(Math.abs(rawJ / (IDLE_W * (run?.duration_s ?? 0)) - 1)).toBeLessThan(0.05);
  });

  it("a run of about 1 s at 1 kHz: no warning about too few readings", async () => {
    const summary = await measureIdle(["sleep", "1"], 1000);
    const [run] = summary.runs;
    console.log(`1 kHz, ${run?.duration_s.toFixed(3)} s: warnings ${JSON.stringify(summary.warnings)}`);
    expect(run?.duration_s).toBeGreaterThan(0.99);
    expect(run?.warnings.filter((w) => /too few readings/.test(w))).toEqual([]);
    expect(summary.warnings.filter((w) => /too few readings/.test(w))).toEqual([]);
  });

  it("a run shorter than 5 sensor updates says so", async () => {
    // At 100 Hz the sensor is seen to update every 10 ms: `true` ends far inside 50 ms.
    const summary = await measureIdle(["true"], 100);
    const [, periodMs] =
      /lasts fewer than 5 sensor updates \(([\d.]+) ms each\)/.exec(summary.warnings.join("\n")) ?? [];
    // Changes cannot be seen more often than the sampler reads, every 10 ms (a late tick aside).
    expect(Number(periodMs)).toBeGreaterThan(9);
  });
});

/** Every deadline of the sampler was a tick or a counted miss, whatever rate the machine allowed. */
function expectEveryDeadlineAccounted(sampling: SamplingSummary): void {
  const deadlines = (sampling.samples * sampling.requested_hz) / sampling.achieved_hz;
  expect(Math.abs(sampling.samples + sampling.missed - deadlines)).toBeLessThan(0.01 * deadlines + 3);
}

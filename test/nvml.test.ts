// The NVML source against the fake libnvidia-ml: probing, the capped read rate, and energy that
// must equal the fake's power times the time between the sampler's own timestamps.
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, PermissionError, SensorAbsentError, UnsupportedError } from "../src/errors.js";
import { addon, type SensorReport } from "../src/native.js";
import { Sampler, type TickBatch } from "../src/sampling/sampler.js";
import { powercapZone } from "./fixtures/energy.js";
import { withFakeNvml } from "./fixtures/nvml.js";
import { FixtureTree, withRoots } from "./fixtures/tree.js";

function probeNvml(): SensorReport {
  const [report] = addon.probe(["nvml"]);
  if (report === undefined) throw new Error("probe returned no nvml report");
  return report;
}

function channelIndex(sampler: Sampler, name: string): number {
  const index = sampler.channels.findIndex((c) => c.name === name);
  if (index < 0) throw new Error(`no channel ${name} in ${sampler.channels.map((c) => c.name).join(", ")}`);
  return index;
}

/** Indices of the ticks in which source 0 was read. */
function readTicks(batch: TickBatch): number[] {
  const ticks: number[] = [];
  for (let i = 0; i < batch.ticks; i++) if (batch.wasRead(i, 0)) ticks.push(i);
  return ticks;
}

async function sample(sampler: Sampler, ms: number): Promise<TickBatch> {
  sampler.start();
  await sleep(ms);
  sampler.stop();
  return sampler.drain();
}

describe("nvml probe", () => {
  it("reports a missing library as absent, with the reason and the fix", async () => {
    const lib = "/nonexistent/emp/libnvidia-ml.so.1";
    await withRoots({ EMP_NVML_LIB: lib }, () => {
      const report = probeNvml();
      expect(report.status).toBe("absent");
      expect(report.reason).toBe(`${lib} not found (no NVIDIA driver)`);
      expect(report.fix).toContain("install the NVIDIA driver");
      expect(report.channels).toEqual([]);
      let error: unknown;
      try {
        new Sampler({ sampleHz: 1000, sources: [{ kind: "nvml" }] });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SensorAbsentError);
      expect((error as SensorAbsentError).suggestion).toContain("EMP_NVML_LIB");
    });
  });

  it("lists each GPU's supported channels and closes what it opened", async () => {
    await withFakeNvml(
      { gpus: 2, names: ["NVIDIA H100 80GB HBM3", "Tesla P4"], noEnergy: [1], powerMw: [150_000, 60_000] },
      (fake) => {
        const report = probeNvml();
        expect(report.status).toBe("available");
        expect(report.reason).toBe("");
        expect(report.channels.map((c) => c.name)).toEqual([
          "gpu-0-energy",
          "gpu-0-power",
          "gpu-0-temperature",
          "gpu-1-power",
          "gpu-1-temperature",
        ]);
        const [energy, power, temperature] = report.channels;
        expect(energy).toMatchObject({ domain: "gpu-0", quantity: "energy", unit: "mJ", scale: 1e-3 });
        expect(energy).toMatchObject({ counter: true, wrap: 0, signed: false });
        expect(power).toMatchObject({
          domain: "gpu-0",
          quantity: "power",
          unit: "mW",
          scale: 1e-3,
          counter: false,
        });
        expect(temperature).toMatchObject({ quantity: "temperature", unit: "C", scale: 1, counter: false });
        expect(report.details.gpus).toBe("2");
        expect(report.details["gpu-0"]).toBe("NVIDIA H100 80GB HBM3");
        expect(report.details["gpu-1"]).toBe("Tesla P4");
        expect(report.details["gpu-0-channels"]).toBe("energy, power, temperature");
        expect(report.details["gpu-1-channels"]).toBe("power, temperature");
        expect(report.details["gpu-1-energy"]).toContain("Not Supported (NVML error 3)");
        expect(report.details["power-sensor-coverage"]).toContain("Yang et al., SC24");
        // RAII: the probe's NvmlLibrary shut NVML down again before it closed the library.
        expect(fake.calls()).toEqual(["init 0", "shutdown 0"]);
      },
    );
  });

  it("adds the partial-coverage note only for A100 and H100", async () => {
    await withFakeNvml({ gpus: 1, names: ["Tesla V100-SXM2-16GB"] }, () => {
      const report = probeNvml();
      expect(report.details["gpu-0"]).toBe("Tesla V100-SXM2-16GB");
      expect(report.details["power-sensor-coverage"]).toBeUndefined();
    });
  });

  it("says why when nvmlInit fails, and never shuts down what did not start", async () => {
    await withFakeNvml({ initFail: 9 }, (fake) => {
      const report = probeNvml();
      expect(report.status).toBe("absent");
      expect(report.reason).toBe("nvmlInit_v2 failed: Driver Not Loaded (NVML error 9)");
      expect(report.fix).toContain("modprobe nvidia");
      expect(report.channels).toEqual([]);
      expect(fake.calls()).toEqual(["init 9"]);
    });
    await withFakeNvml({ initFail: 4 }, () => {
      const report = probeNvml();
      expect(report.status).toBe("permission-denied");
      expect(report.reason).toBe("nvmlInit_v2 failed: Insufficient Permissions (NVML error 4)");
      expect(() => new Sampler({ sampleHz: 1000, sources: [{ kind: "nvml" }] })).toThrow(PermissionError);
    });
  });

  it("reports NVML without GPUs as absent", async () => {
    await withFakeNvml({ gpus: 0 }, () => {
      const report = probeNvml();
      expect(report.status).toBe("absent");
      expect(report.reason).toBe("NVML loaded but reports no GPU");
      expect(report.details.gpus).toBe("0");
    });
  });
});

describe("nvml sampling", () => {
  it("reads NVML at 50 Hz at most while the sampler ticks at 1000 Hz", async () => {
    await withFakeNvml({ gpus: 1 }, async () => {
      const sampler = new Sampler({ sampleHz: 1000, sources: [{ kind: "nvml" }] });
      for (const c of sampler.channels) {
        expect(c.source).toBe("nvml");
        expect(c.everyTicks).toBe(20);
        expect(c.hz).toBe(50);
      }
      const batch = await sample(sampler, 1000);
      const reads = readTicks(batch);
      const first = reads[0] ?? 0;
      const last = reads[reads.length - 1] ?? 0;
      const spanS = Number((batch.raw.tNs[last] ?? 0n) - (batch.raw.tNs[first] ?? 0n)) / 1e9;
      const readsPerS = (reads.length - 1) / spanS;
      expect(batch.ticks).toBeGreaterThan(800);
      expect(reads.length).toBeGreaterThan(40);
      expect(readsPerS).toBeLessThanOrEqual(50.5);
      expect(readsPerS).toBeGreaterThan(40);
      // Between reads the record carries the last value: the counter changes only on read ticks.
      const energy = batch.rawChannel(channelIndex(sampler, "gpu-0-energy"));
      let changes = 0;
      for (let i = 1; i < batch.ticks; i++) {
        if (energy[i] !== energy[i - 1]) {
          changes++;
          expect(batch.wasRead(i, 0)).toBe(true);
        }
      }
      expect(changes).toBe(reads[0] === 0 ? reads.length - 1 : reads.length);
      expect(sampler.stats().readErrors).toEqual([0]);
    });
  });

  it("never reads faster than 50 Hz, whatever the rate asked or the rounding", async () => {
    await withFakeNvml({ gpus: 1 }, () => {
      const asked = new Sampler({ sampleHz: 1000, sources: [{ kind: "nvml", hz: 200 }] });
      expect(asked.channels[0]?.hz).toBe(50);
      const slower = new Sampler({ sampleHz: 1000, sources: [{ kind: "nvml", hz: 10 }] });
      expect(slower.channels[0]?.everyTicks).toBe(100);
      expect(slower.channels[0]?.hz).toBe(10);
      // 1010 / 50 = 20.2 rounds to 20 ticks, which would be 50.5 Hz.
      const odd = new Sampler({ sampleHz: 1010, sources: [{ kind: "nvml" }] });
      expect(odd.channels[0]?.everyTicks).toBe(21);
      expect(odd.channels[0]?.hz).toBeLessThanOrEqual(50);
    });
  });

  it("measures energy equal to the fake's power times the sampler's elapsed time", async () => {
    const powerMw = 150_000;
    const baseMj = 5_000_000_000;
    await withFakeNvml(
      { gpus: 1, powerMw: [powerMw], temperatureC: [63], energyBaseMj: baseMj },
      async () => {
        const beforeNs = addon.now();
        const sampler = new Sampler({ sampleHz: 1000, sources: [{ kind: "nvml" }] });
        const afterNs = addon.now();
        const batch = await sample(sampler, 500);
        const energy = batch.rawChannel(channelIndex(sampler, "gpu-0-energy"));
        const power = batch.rawChannel(channelIndex(sampler, "gpu-0-power"));
        const temperature = batch.rawChannel(channelIndex(sampler, "gpu-0-temperature"));
        const reads = readTicks(batch);
        expect(reads.length).toBeGreaterThanOrEqual(20);

        // NVML blocks, so it is read on its own thread and each reading stamped with the tick that
        // took it: the read lies inside [tNs - slowLagMaxNs, tNs + readNs]. The counter truncates to
        // whole mJ.
        const lagNs = sampler.stats().slowLagMaxNs;
        expect(lagNs).toBeGreaterThan(0);
        const window = (i: number): [number, number] => {
          const t = Number(batch.raw.tNs[i] ?? 0n);
          return [t - lagNs, t + (batch.raw.readNs[i] ?? 0)];
        };
        const mjOver = (ns: number): number => (powerMw * ns) / 1e9;

        // The counter's origin is the first nvmlInit, somewhere inside the Sampler constructor.
        const first = reads[0] ?? 0;
        const [firstStart, firstEnd] = window(first);
        const sinceInit = Number(energy[first] ?? 0n) - baseMj;
        expect(sinceInit).toBeGreaterThanOrEqual(Math.floor(mjOver(firstStart - Number(afterNs))));
        expect(sinceInit).toBeLessThanOrEqual(Math.ceil(mjOver(firstEnd - Number(beforeNs))));

        // Every interval between two reads, and the whole span, holds exactly P x dt.
        const check = (a: number, b: number): void => {
          const [aStart, aEnd] = window(a);
          const [bStart, bEnd] = window(b);
          const delta = Number((energy[b] ?? 0n) - (energy[a] ?? 0n));
          expect(delta).toBeGreaterThanOrEqual(Math.floor(mjOver(bStart - aEnd)) - 1);
          expect(delta).toBeLessThanOrEqual(Math.ceil(mjOver(bEnd - aStart)) + 1);
        };
        for (let k = 1; k < reads.length; k++) check(reads[k - 1] ?? 0, reads[k] ?? 0);
        const last = reads[reads.length - 1] ?? 0;
        check(first, last);
        const spanMj = mjOver(Number((batch.raw.tNs[last] ?? 0n) - (batch.raw.tNs[first] ?? 0n)));
        const deltaMj = Number((energy[last] ?? 0n) - (energy[first] ?? 0n));
        expect(spanMj).toBeGreaterThan(60_000); // at least ~0.4 s at 150 W
        expect(Math.abs(deltaMj - spanMj)).toBeLessThanOrEqual(Math.ceil(mjOver(lagNs)) + 1);

        for (const i of reads) {
          expect(Number(power[i] ?? 0n)).toBe(powerMw);
          expect(Number(temperature[i] ?? 0n)).toBe(63);
        }
        // As SI units: 150 W and 63 degrees C.
        const powerChannel = sampler.channels[channelIndex(sampler, "gpu-0-power")];
        expect(Number(power[first] ?? 0n) * (powerChannel?.scale ?? 0)).toBeCloseTo(150, 9);
      },
    );
  });

  it("reads a blocking NVML on its own thread, so that the other sources are never held up", async () => {
    const tree = FixtureTree.create();
    try {
      powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: 262_143_328_850 });
      // Each of the GPU's three calls (energy, power, temperature) blocks 20 ms, as a busy driver can.
      await withFakeNvml({ gpus: 1, readDelayUs: 20_000 }, () =>
        withRoots({ EMP_SYSFS_ROOT: tree.root }, async () => {
          const sampler = new Sampler({
            sampleHz: 1000,
            sources: [{ kind: "powercap" }, { kind: "nvml", hz: 10 }],
          });
          const batch = await sample(sampler, 1500);
          const nvmlTicks: number[] = [];
          for (let i = 0; i < batch.ticks; i++) if (batch.wasRead(i, 1)) nvmlTicks.push(i);
          // The read at start-up and at least one more.
          expect(nvmlTicks.length).toBeGreaterThanOrEqual(2);
          // Read inline, every tick that read NVML would have spent at least 60 ms reading; the
          // sampler thread only copies the reading (the median, so that one preempted tick cannot
          // decide it).
          const readMs = nvmlTicks.map((i) => (batch.raw.readNs[i] ?? 0) / 1e6).sort((a, b) => a - b);
          expect(readMs[Math.floor(readMs.length / 2)]).toBeLessThan(60);
          // The powercap zone is still read on every tick.
          for (let i = 0; i < batch.ticks; i++) expect(batch.wasRead(i, 0)).toBe(true);
          const stats = sampler.stats();
          // Each reading was stamped after a read that took at least the fake's 60 ms.
          expect(stats.slowLagMaxNs).toBeGreaterThanOrEqual(60e6);
          expect(stats.readErrors).toEqual([0, 0]);
        }),
      );
    } finally {
      tree.remove();
    }
  });

  it("falls back to power on a GPU without the energy counter", async () => {
    await withFakeNvml(
      { gpus: 2, noEnergy: [1], powerMw: [150_000, 60_000], temperatureC: [50, 71] },
      async () => {
        const sampler = new Sampler({ sampleHz: 1000, sources: [{ kind: "nvml" }] });
        expect(sampler.channels.map((c) => c.name)).toEqual([
          "gpu-0-energy",
          "gpu-0-power",
          "gpu-0-temperature",
          "gpu-1-power",
          "gpu-1-temperature",
        ]);
        const batch = await sample(sampler, 200);
        const reads = readTicks(batch);
        expect(reads.length).toBeGreaterThan(0);
        const power1 = batch.rawChannel(channelIndex(sampler, "gpu-1-power"));
        const temperature1 = batch.rawChannel(channelIndex(sampler, "gpu-1-temperature"));
        for (const i of reads) {
          expect(Number(power1[i] ?? 0n)).toBe(60_000);
          expect(Number(temperature1[i] ?? 0n)).toBe(71);
        }
        expect(sampler.stats().readErrors).toEqual([0]);
      },
    );
  });

  it("reads only the selected channels, and explains one it cannot read", async () => {
    await withFakeNvml({ gpus: 2, noEnergy: [1] }, () => {
      const one = new Sampler({ sampleHz: 1000, sources: [{ kind: "nvml", select: ["gpu-1-power"] }] });
      expect(one.channels.map((c) => c.name)).toEqual(["gpu-1-power"]);
      let error: unknown;
      try {
        new Sampler({ sampleHz: 1000, sources: [{ kind: "nvml", select: ["gpu-1-energy"] }] });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UnsupportedError);
      expect((error as UnsupportedError).message).toContain("gpu-1-energy (Not Supported (NVML error 3))");
      expect((error as UnsupportedError).suggestion).toContain("select gpu-1-power instead");
      expect(
        () => new Sampler({ sampleHz: 1000, sources: [{ kind: "nvml", select: ["gpu-7-power"] }] }),
      ).toThrow(InvalidArgumentError);
    });
  });
});

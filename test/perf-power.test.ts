// RAPL through the perf power PMU. A fixture sysfs tree describes the PMU; the running kernel
// has no PMU of the fixture's type, so opening must fail cleanly with the reason, while the probe
// still shows what sysfs describes.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmpError } from "../src/errors.js";
import { addon, type SensorReport } from "../src/native.js";
import { Sampler } from "../src/sampling/sampler.js";
import { FixtureTree, withRoots, writeCpuTopology } from "./fixtures/tree.js";

// Dynamic PMU types are allocated upwards from 6; no kernel hands out one this large.
const FIXTURE_TYPE = 2_147_483_000;
const PMU = "bus/event_source/devices/power";

let tree: FixtureTree;
beforeEach(() => {
  tree = FixtureTree.create();
  writeCpuTopology(tree, 2, 2);
});
afterEach(() => tree.remove());

function powerPmu(format = "config:0-7"): void {
  tree.file(`${PMU}/type`, String(FIXTURE_TYPE));
  tree.file(`${PMU}/cpumask`, "0,2");
  tree.file(`${PMU}/format/event`, format);
  const event = (name: string, terms: string, scale: string, unit = "Joules") => {
    tree.file(`${PMU}/events/${name}`, terms);
    tree.file(`${PMU}/events/${name}.scale`, scale);
    tree.file(`${PMU}/events/${name}.unit`, unit);
  };
  // As a Skylake server's kernel writes them.
  event("energy-pkg", "event=0x02", "2.3283064365386962890625e-10");
  event("energy-ram", "event=0x03", "1.52587890625e-05");
  event("energy-psys", "event=0x05", "2.3283064365386962890625e-10");
  event("energy-gpu", "event=zz", "2.3283064365386962890625e-10"); // malformed: skipped, and said so
}

async function probe(): Promise<SensorReport> {
  const [report] = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => addon.probe(["perf-power"]));
  if (report === undefined) throw new Error("probe returned no perf-power report");
  return report;
}

describe("perf-power source", () => {
  it("parses the sysfs description and shows it even though the kernel has no such PMU", async () => {
    powerPmu();
    const report = await probe();
    expect(report.details).toMatchObject({
      type: String(FIXTURE_TYPE),
      cpumask: "0,2",
      events: "energy-pkg,energy-ram,energy-psys",
      "energy-pkg.event": "event=0x02",
      "energy-pkg.config": "0x2",
      "energy-pkg.unit": "Joules",
      "energy-ram.config": "0x3",
      "energy-psys.config": "0x5",
    });
    expect(Number(report.details["energy-pkg.scale"])).toBe(2 ** -32);
    expect(Number(report.details["energy-ram.scale"])).toBe(2 ** -16);
    expect(report.details["skipped.1"]).toContain("energy-gpu");
    // Root (or CAP_PERFMON) reaches the PMU lookup and learns the type does not exist; an
    // unprivileged process under perf_event_paranoid 2 is refused before that.
    expect(["unsupported", "permission-denied"]).toContain(report.status);
    expect(report.channels).toEqual([]);
    if (report.status === "unsupported") {
      expect(report.reason).toContain(
        `perf_event_open(perf power type ${FIXTURE_TYPE} config 0x2 (energy-pkg) on cpu 0)`,
      );
      expect(report.reason).toContain("no such PMU type");
    } else {
      expect(report.fix).toContain("perf_event_paranoid");
    }
  });

  it("places event terms into config through the PMU's format bits", async () => {
    powerPmu("config:0-3,8-11");
    tree.file(`${PMU}/events/energy-pkg`, "event=0xab");
    const report = await probe();
    // Low nibble to bits 0-3, high nibble to bits 8-11.
    expect(report.details["energy-pkg.config"]).toBe("0xa0b");
  });

  it("fails to build a sampler with a typed error, without crashing", async () => {
    powerPmu();
    const error = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => {
      try {
        new Sampler({ sampleHz: 1000, sources: [{ kind: "perf-power" }] });
      } catch (e) {
        return e;
      }
      return undefined;
    });
    expect(error).toBeInstanceOf(EmpError);
    expect(["E_UNSUPPORTED", "E_PERMISSION"]).toContain((error as EmpError).code);
  });

  it("opens and reads a real kernel counter through the same path (software cpu-clock posing as the PMU)", async () => {
    // PERF_TYPE_SOFTWARE (1), PERF_COUNT_SW_CPU_CLOCK (0): a system-wide event every kernel has,
    // counting nanoseconds, so the open, the read and the sampler loop run against the kernel.
    tree.file(`${PMU}/type`, "1");
    tree.file(`${PMU}/cpumask`, "0");
    tree.file(`${PMU}/events/energy-pkg`, "event=0x0");
    tree.file(`${PMU}/events/energy-pkg.scale`, "1e-9");
    tree.file(`${PMU}/events/energy-pkg.unit`, "Joules");
    const report = await probe();
    if (report.status === "permission-denied") {
      console.log(`system-wide perf events refused here, skipping the read check: ${report.reason}`);
      return;
    }
    expect(report.status).toBe("available");
    expect(report.channels.map((c) => [c.name, c.unit, c.scale, c.wrap])).toEqual([
      ["package-0", "count", 1e-9, 0],
    ]);
    const sampler = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => {
      return new Sampler({ sampleHz: 1000, sources: [{ kind: "perf-power" }] });
    });
    sampler.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    sampler.stop();
    const batch = sampler.drain();
    expect(sampler.stats().readErrors).toEqual([0]);
    const counts = batch.rawChannel(0);
    for (let i = 1; i < counts.length; i++)
      expect(counts[i] ?? 0n).toBeGreaterThanOrEqual(counts[i - 1] ?? 0n);
    const countedNs = Number((counts[counts.length - 1] ?? 0n) - (counts[0] ?? 0n));
    const elapsedNs = Number((batch.raw.tNs[batch.ticks - 1] ?? 0n) - (batch.raw.tNs[0] ?? 0n));
    // cpu-clock of a CPU-wide event runs with wall time; a tick's read lands within its latency.
    console.log(`cpu-clock counted ${countedNs} ns over ${elapsedNs} ns of ticks (${batch.ticks} ticks)`);
    expect(countedNs / elapsedNs).toBeGreaterThan(0.9);
    expect(countedNs / elapsedNs).toBeLessThan(1.1);
  });

  it("is absent without a power PMU", async () => {
    const report = await probe();
    expect(report.status).toBe("absent");
    expect(report.reason).toContain("no perf power PMU: kernel without RAPL perf support, or a VM");
  });

  it("names perf_event_paranoid when an unprivileged process is refused", async (context) => {
    const paranoidPath = "/proc/sys/kernel/perf_event_paranoid";
    const paranoid = existsSync(paranoidPath) ? Number(readFileSync(paranoidPath, "utf8")) : Number.NaN;
    if (process.getuid?.() !== 0 || !(paranoid >= 2)) {
      context.skip(
        `needs root to drop to nobody and perf_event_paranoid >= 2 (uid ${process.getuid?.()}, ${paranoid})`,
      );
    }
    powerPmu();
    chmodSync(tree.root, 0o755);
    const script = `const a=require(${JSON.stringify(`${process.cwd()}/build/Release/emp.node`)});
      process.stdout.write(JSON.stringify(a.probe(["perf-power"])[0]));`;
    const child = spawnSync(process.execPath, ["-e", script], {
      uid: 65534,
      gid: 65534,
      env: { ...process.env, EMP_SYSFS_ROOT: tree.root },
      encoding: "utf8",
    });
    if (child.status !== 0) context.skip(`the unprivileged child could not run: ${child.stderr}`);
    const report = JSON.parse(child.stdout) as SensorReport;
    expect(report.status).toBe("permission-denied");
    expect(report.fix).toContain("sudo sysctl kernel.perf_event_paranoid=0");
    expect(report.fix).toContain("CAP_PERFMON");
  });

  it("matches this machine: absent where sysfs has no power PMU", async () => {
    const [report] = addon.probe(["perf-power"]);
    if (existsSync(`/sys/${PMU}/type`)) {
      console.log(`this machine has a perf power PMU: probe says ${report?.status} ${report?.reason}`);
      expect(["available", "permission-denied"]).toContain(report?.status);
    } else {
      expect(report?.status).toBe("absent");
    }
  });
});

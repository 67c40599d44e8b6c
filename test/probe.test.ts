// `emp probe` end to end: the CLI in a child process, on this machine and on fixture trees.
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { handleError } from "../src/cli/handle-error.js";
import { UsageError } from "../src/errors.js";
import { agreement, type InterfaceReading, measurePower, sharedDomains } from "../src/probe/cross-check.js";
import type { ProbeReport, SensorEntry } from "../src/probe/report.js";
import { FixtureTree, withRoots } from "./fixtures/tree.js";
import { runEmp } from "./helpers/emp-cli.js";

function probeJson(args: string[] = [], env: Record<string, string> = {}): ProbeReport {
  const result = runEmp(["probe", "--json", ...args], env);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as ProbeReport;
}

function sensor(report: ProbeReport, kind: string): SensorEntry | undefined {
  return report.sensors.find((s) => s.kind === kind);
}

/** A powercap tree with one package zone whose counter stands at `energyUj`. */
function powercapTree(tree: FixtureTree, energyUj: string, maxEnergyRangeUj = "262143328850"): void {
  tree.file("class/powercap/intel-rapl:0/name", "package-0");
  tree.file("class/powercap/intel-rapl:0/energy_uj", energyUj);
  tree.file("class/powercap/intel-rapl:0/max_energy_range_uj", maxEnergyRangeUj);
}

describe("emp probe on this machine", () => {
  const hasRapl = existsSync("/sys/class/powercap/intel-rapl:0");

  it("reports powercap with its status, a reason when absent, and the host", () => {
    const report = probeJson();
    const powercap = sensor(report, "powercap");
    if (hasRapl) {
      expect(powercap?.status).not.toBe("absent");
    } else {
      expect(powercap?.status).toBe("absent");
      expect(powercap?.reason).toMatch(/intel-rapl/);
      expect(powercap?.fix).not.toBe("");
    }
    expect(report.host.kernel).not.toBe("");
    expect(report.host.cpuCount).toBeGreaterThan(0);
    expect(typeof report.host.virtualisation.virtual).toBe("boolean");
  });

  it("says why RAPL is absent in a virtual machine", () => {
    const report = probeJson();
    if (report.rapl.status === "available" || !report.host.virtualisation.virtual) {
      console.log("skipped: not a virtual machine without RAPL");
      return;
    }
    expect(report.rapl.status).toBe("absent");
    expect(report.rapl.reason).toMatch(/virtual machine.*hypervisor does not expose RAPL/);
    expect(report.rapl.fix).toMatch(/bare metal/);
  });

  it("lists the working software counters when the perf source exists", () => {
    const perf = sensor(probeJson(), "perf");
    if (perf === undefined) {
      console.log("skipped: this build has no perf source");
      return;
    }
    expect(perf.status).toBe("available");
    expect(perf.channels.map((c) => c.name).join(" ")).toMatch(
      /task-clock|context-switches|page-faults|cpu-clock/,
    );
  });

  it("prints a readable list without --json", () => {
    const result = runEmp(["probe"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Host\n/);
    expect(result.stdout).toMatch(/\n {2}powercap +\w/);
    expect(result.stdout).toMatch(/\nRAPL: /);
  });
});

describe("emp probe on fixture trees", () => {
  let tree: FixtureTree;
  beforeEach(() => {
    tree = FixtureTree.create();
  });
  afterEach(() => tree.remove());

  it("lists package-0 as available from a powercap tree", () => {
    powercapTree(tree, "123456789");
    const report = probeJson([], { EMP_SYSFS_ROOT: tree.root });
    const powercap = sensor(report, "powercap");
    expect(powercap?.status).toBe("available");
    expect(powercap?.channels.map((c) => c.name)).toEqual(["package-0"]);
    expect(report.rapl).toMatchObject({ status: "available", interfaces: ["powercap"] });
  });

  it("reads host facts from EMP_PROCFS_ROOT and EMP_SYSFS_ROOT", () => {
    const proc = FixtureTree.create();
    try {
      proc.file(
        "cpuinfo",
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\nmodel name\t: Xeon Test\n" +
          "microcode\t: 0x2b000590\nflags\t\t: fpu msr\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\n",
      );
      proc.file("sys/kernel/osrelease", "6.1.0-test");
      proc.file("sys/kernel/perf_event_paranoid", "-1");
      tree.file("devices/system/cpu/cpu0/cpufreq/scaling_governor", "performance");
      tree.file("devices/system/cpu/intel_pstate/no_turbo", "1");
      const { host, rapl } = probeJson([], { EMP_SYSFS_ROOT: tree.root, EMP_PROCFS_ROOT: proc.root });
      expect(host).toMatchObject({
        cpuModel: "Xeon Test",
        cpuVendor: "intel",
        cpuFamily: 6,
        cpuModelNumber: 143,
        microcode: "0x2b000590",
        cpuCount: 2,
        kernel: "6.1.0-test",
        perfEventParanoid: -1,
        governor: "performance",
        turbo: false,
      });
      expect(host.virtualisation.virtual).toBe(false);
      // Bare metal without RAPL: the reason is the interfaces' own, not "virtual machine".
      expect(rapl.status).toBe("absent");
      expect(rapl.reason).not.toMatch(/virtual machine/);
      expect(rapl.fix).toMatch(/modprobe/);
    } finally {
      proc.remove();
    }
  });

  it("skips the cross-check silently when no domain is shared", () => {
    powercapTree(tree, "5000");
    const report = probeJson(["--cross-check", "0.2"], { EMP_SYSFS_ROOT: tree.root });
    expect(report.crossCheck).toEqual([]);
  });

  it("measures 0 W from a counter that stands still", async () => {
    powercapTree(tree, "987654321");
    const [reading] = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
      measurePower([{ kind: "powercap", channel: "package-0", domain: "package-0" }], 0.3),
    );
    expect(reading?.powerW).toBe(0);
    expect(reading?.energyJ).toBe(0);
    expect(reading?.readings).toBeGreaterThan(10);
    expect(reading?.durationS).toBeGreaterThan(0.1);
  });

  it("corrects a wrap at max_energy_range_uj", async () => {
    // The counter runs 0..999999 uJ: 999000 -> 1000 is 999 uJ to the top, 1 back to zero and 1000 after it.
    powercapTree(tree, "999000", "999999");
    const done = withRoots({ EMP_SYSFS_ROOT: tree.root }, () =>
      measurePower([{ kind: "powercap", channel: "package-0", domain: "package-0" }], 0.4),
    );
    await sleep(200);
    tree.file("class/powercap/intel-rapl:0/energy_uj", "1000");
    const [reading] = await done;
    expect(reading?.wraps).toBe(1);
    expect(reading?.energyJ).toBeCloseTo(2000e-6, 12);
  });
});

describe("emp command line errors", () => {
  it("exits 2 with one line and no stack on an unknown option", () => {
    const result = runEmp(["probe", "--bogus"]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^emp: unknown option '--bogus'/),
    ]);
    expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it("exits 2 on an unknown command", () => {
    const result = runEmp(["nonsense"]);
    expect(result.status).toBe(2);
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^emp: unknown command 'nonsense'/),
    ]);
  });

  it("exits 2 with the fix on a malformed --cross-check", () => {
    const result = runEmp(["probe", "--cross-check", "-3"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^emp: --cross-check takes seconds/);
    expect(result.stderr).toMatch(/\n {2}fix: /);
  });

  it("prints the version from package.json", () => {
    const result = runEmp(["--version"]);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("cross-check grouping", () => {
  const energy = (name: string, domain: string) => ({
    name,
    domain,
    quantity: "energy" as const,
    unit: "uJ",
    scale: 1e-6,
    wrap: 0,
    counter: true,
    signed: false,
    origin: "",
  });
  const report = (
    kind: SensorEntry["kind"],
    status: SensorEntry["status"],
    channels: SensorEntry["channels"],
  ) => ({
    kind,
    status,
    reason: "",
    fix: "",
    channels,
    details: {},
  });

  it("keeps only energy domains that two available kinds share", () => {
    const domains = sharedDomains([
      report("powercap", "available", [energy("package-0", "package-0"), energy("dram-0", "dram-0")]),
      report("msr", "available", [energy("package-0", "package-0"), energy("core-0", "core-0")]),
      report("perf-power", "permission-denied", [energy("energy-pkg", "package-0")]),
    ]);
    expect([...domains.keys()]).toEqual(["package-0"]);
    expect(domains.get("package-0")?.map((c) => c.kind)).toEqual(["powercap", "msr"]);
  });

  it("agrees within 5 % or 0.5 W", () => {
    const at = (powerW: number): InterfaceReading => ({
      kind: "powercap",
      channel: "package-0",
      energyJ: powerW,
      durationS: 1,
      powerW,
      readings: 2,
      wraps: 0,
    });
    expect(agreement([at(100), at(104.9)]).agree).toBe(true);
    expect(agreement([at(100), at(106)]).agree).toBe(false);
    expect(agreement([at(2), at(2.4)]).agree).toBe(true);
    expect(agreement([at(0), at(0)])).toEqual({ spreadW: 0, agree: true });
  });
});

describe("the error handler", () => {
  const capture = () => {
    let text = "";
    return { write: (chunk: string) => (text += chunk), text: () => text };
  };

  it("prints an EmpError with its fix and its exit code", () => {
    const out = capture();
    expect(handleError(new UsageError("bad value", { suggestion: "pass a number" }), out)).toBe(2);
    expect(out.text()).toBe("emp: bad value\n  fix: pass a number\n");
  });

  it("keeps the stack of an unexpected error for EMP_DEBUG=1", async () => {
    const quiet = capture();
    expect(handleError(new TypeError("boom"), quiet)).toBe(1);
    expect(quiet.text()).not.toMatch(/\bat /);
    const loud = capture();
    process.env.EMP_DEBUG = "1";
    try {
      handleError(new TypeError("boom"), loud);
    } finally {
      delete process.env.EMP_DEBUG;
    }
    expect(loud.text()).toMatch(/^emp: unexpected error: boom\nTypeError: boom\n {4}at /);
  });
});

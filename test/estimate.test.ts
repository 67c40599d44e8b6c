// The labelled energy estimate: /proc/stat utilisation from fixture snapshots, the linear model's
// arithmetic, a real spinning command on this machine, and the warning that names the fix.
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_IDLE_SHARE,
  DEFAULT_TDP_PER_CPU_W,
  estimatedBaselineW,
  estimateEnergy,
  estimateWarning,
  parseProcStat,
  readSystemCpuTimes,
  systemUtilisation,
} from "../src/energy/estimate.js";
import { EmpError, InvalidArgumentError } from "../src/errors.js";
import { gatherHostFacts, type HostFacts } from "../src/host/facts.js";
import { rootsFromEnvironment } from "../src/host/roots.js";
import { addon, type SensorReport } from "../src/native.js";
import { runCommand, scaledCount } from "../src/sampling/child.js";
import { FixtureTree } from "./fixtures/tree.js";

// Two snapshots of /proc/stat as the kernel writes them (aggregate line, per-CPU lines, the rest).
// Between them: busy (user+nice+system+irq+softirq) +440 ticks, idle+iowait+steal +440 ticks, and
// guest +100, already inside user: counting it again would give 540/980 instead of exactly 0.5.
const STAT_BEFORE = `cpu  1000 50 300 8000 100 10 40 20 30 5
cpu0 500 25 150 4000 50 5 20 10 15 2
cpu1 500 25 150 4000 50 5 20 10 15 3
intr 123456 0 0
ctxt 987654
btime 1700000000
processes 4242
procs_running 1
procs_blocked 0
softirq 1000 0 0`;
const STAT_AFTER = `cpu  1300 60 400 8400 120 20 60 40 130 15
cpu0 650 30 200 4200 60 10 30 20 65 7
cpu1 650 30 200 4200 60 10 30 20 65 8
intr 223456 0 0
ctxt 1987654
btime 1700000000
processes 4300
procs_running 2
procs_blocked 0
softirq 2000 0 0`;

function hostFacts(virtual: boolean): HostFacts {
  return {
    ...gatherHostFacts(),
    virtualisation: {
      virtual,
      hypervisorFlag: virtual,
      systemVendor: virtual ? "QEMU" : "Dell Inc.",
      productName: virtual ? "Standard PC (Q35 + ICH9, 2009)" : "PowerEdge R650",
      hypervisorType: null,
    },
  };
}

function report(kind: SensorReport["kind"], status: SensorReport["status"], fix = ""): SensorReport {
  return { kind, status, reason: `${kind} is ${status}`, fix, channels: [], details: {} };
}

describe("system CPU times from <procfs>/stat", () => {
  let tree: FixtureTree | undefined;
  afterEach(() => {
    tree?.remove();
    tree = undefined;
  });

  it("reads the aggregate cpu line under EMP_PROCFS_ROOT and gives utilisation 0.5 exactly", () => {
    tree = FixtureTree.create();
    tree.file("stat", STAT_BEFORE);
    const roots = { ...rootsFromEnvironment(), procfs: tree.root };
    const before = readSystemCpuTimes(roots);
    tree.file("stat", STAT_AFTER);
    const after = readSystemCpuTimes(roots);
    expect(before).toMatchObject({ user: 1000, nice: 50, system: 300, idle: 8000, iowait: 100 });
    expect(before).toMatchObject({ irq: 10, softirq: 40, steal: 20, guest: 30, guestNice: 5 });
    expect(before.path).toBe(tree.path("stat"));
    expect(after.tNs).toBeGreaterThanOrEqual(before.tNs);
    expect(systemUtilisation(before, after)).toBe(0.5);
  });

  it("counts steal as wall time but not as busy time", () => {
    // 100 busy ticks and 100 stolen: the vCPUs ran our work for half of the wall time.
    const a = parseProcStat("cpu  0 0 0 0 0 0 0 0 0 0");
    const b = parseProcStat("cpu  100 0 0 0 0 0 0 100 0 0");
    expect(systemUtilisation(a, b)).toBe(0.5);
  });

  it("takes the four fields of old kernels, with the rest as zero", () => {
    const old = parseProcStat("cpu  10 20 30 40\ncpu0 10 20 30 40");
    expect(old).toMatchObject({ user: 10, nice: 20, system: 30, idle: 40, iowait: 0, steal: 0, guest: 0 });
  });

  it("rejects a file without a cpu line, a missing file, and snapshots with no tick between them", () => {
    expect(() => parseProcStat("intr 1 2 3", "/x/stat")).toThrow(EmpError);
    tree = FixtureTree.create();
    const roots = { ...rootsFromEnvironment(), procfs: tree.root };
    expect(() => readSystemCpuTimes(roots)).toThrow(/cannot read .*stat/);
    const same = parseProcStat(STAT_BEFORE);
    expect(() => systemUtilisation(same, same)).toThrow(/no CPU time passed/);
  });
});

describe("estimateEnergy", () => {
  it("uses the process's CPU time when it is known: 1 CPU-s over 2 s on 4 CPUs at 40 W", () => {
    const e = estimateEnergy({
      durationS: 2,
      processCpuS: 1,
      systemUtilisation: 0.9,
      cpuCount: 4,
      tdpW: 40,
      idleShare: 0.25,
    });
    // utilisation 1 / (2 × 4) = 0.125; P = 0.25 × 40 + 0.75 × 40 × 0.125 = 10 + 3.75 W.
    expect(e.inputs.utilisation).toBe(0.125);
    expect(e.inputs.utilisationSource).toBe("process");
    expect(e.powerW).toBe(13.75);
    expect(e.energyJ).toBe(27.5);
    expect(e.baselineW).toBe(10);
    expect(e.baselineJ).toBe(20);
    expect(e.netJ).toBe(7.5);
    expect(e).toMatchObject({ estimated: true, method: "estimate" });
    expect(e.model).toMatch(/linear/);
    expect(e.inputs.tdpSource).toBe("given");
  });

  it("falls back to system utilisation, with the defaults: 5 W per CPU, idle share 0.3", () => {
    const e = estimateEnergy({ durationS: 10, systemUtilisation: 0.5, cpuCount: 2 });
    expect(DEFAULT_TDP_PER_CPU_W).toBe(5);
    expect(DEFAULT_IDLE_SHARE).toBe(0.3);
    // TDP 10 W; P = 0.3 × 10 + 0.7 × 10 × 0.5 = 3 + 3.5 = 6.5 W; 65 J over 10 s, 30 J of it idle.
    expect(e.inputs).toMatchObject({ tdpW: 10, tdpSource: "default", idleShare: 0.3 });
    expect(e.inputs).toMatchObject({ utilisation: 0.5, utilisationSource: "system", processCpuS: null });
    expect(e.powerW).toBeCloseTo(6.5, 12);
    expect(e.energyJ).toBeCloseTo(65, 12);
    expect(e.baselineJ).toBeCloseTo(30, 12);
    expect(e.netJ).toBeCloseTo(35, 12);
    expect(estimatedBaselineW(10)).toBeCloseTo(3, 12);
  });

  it("caps process utilisation at 1 and spans idle to TDP", () => {
    const full = estimateEnergy({
      durationS: 1,
      processCpuS: 2.1,
      systemUtilisation: 0,
      cpuCount: 2,
      tdpW: 20,
    });
    expect(full.inputs.utilisation).toBe(1);
    expect(full.powerW).toBeCloseTo(20, 12);
    const idle = estimateEnergy({
      durationS: 1,
      processCpuS: 0,
      systemUtilisation: 1,
      cpuCount: 2,
      tdpW: 20,
    });
    expect(idle.powerW).toBeCloseTo(6, 12);
    expect(idle.netJ).toBeCloseTo(0, 12);
  });

  it("rejects inputs outside their ranges", () => {
    const ok = { durationS: 1, systemUtilisation: 0.5, cpuCount: 2 };
    expect(() => estimateEnergy({ ...ok, durationS: -1 })).toThrow(InvalidArgumentError);
    expect(() => estimateEnergy({ ...ok, systemUtilisation: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => estimateEnergy({ ...ok, cpuCount: 0 })).toThrow(InvalidArgumentError);
    expect(() => estimateEnergy({ ...ok, idleShare: Number.NaN })).toThrow(InvalidArgumentError);
  });
});

describe("the estimate of a real command on this machine", () => {
  it("gives a one-CPU spin a utilisation of 1/cpuCount and the model's energy for what was measured", async () => {
    const { cpuCount } = gatherHostFacts();
    const before = readSystemCpuTimes();
    const result = await runCommand({
      file: "timeout",
      args: ["0.3", "sh", "-c", "while :; do :; done"],
      counters: ["task-clock"],
    });
    const after = readSystemCpuTimes();
    const task = result.counters["task-clock"];
    expect(task).toBeDefined();
    if (task === undefined) return;
    const processCpuS = scaledCount(task) / 1e9;
    const durationS = Number(result.durationNs) / 1e9;
    const systemU = systemUtilisation(before, after);
    const e = estimateEnergy({ durationS, processCpuS, systemUtilisation: systemU, cpuCount });
    const tdpW = cpuCount * DEFAULT_TDP_PER_CPU_W;
    const expectedW = 0.3 * tdpW + 0.7 * tdpW * Math.min(1, processCpuS / (durationS * cpuCount));
    console.log(
      `spin: ${durationS.toFixed(3)} s wall, ${processCpuS.toFixed(3)} CPU-s on ${cpuCount} CPUs: ` +
        `process utilisation ${e.inputs.utilisation.toFixed(3)}, system ${systemU.toFixed(3)}; ` +
        `estimate ${e.powerW.toFixed(2)} W, ${e.energyJ.toFixed(3)} J (net ${e.netJ.toFixed(3)} J)`,
    );
    expect(e.inputs).toEqual({
      durationS,
      processCpuS,
      systemUtilisation: systemU,
      cpuCount,
      tdpW,
      tdpSource: "default",
      idleShare: DEFAULT_IDLE_SHARE,
      utilisation: Math.min(1, processCpuS / (durationS * cpuCount)),
      utilisationSource: "process",
    });
    expect(durationS).toBeGreaterThanOrEqual(0.3);
    expect(durationS).toBeLessThan(0.45);
    expect(e.inputs.utilisation).toBeGreaterThan(0.8 / cpuCount);
    expect(e.inputs.utilisation).toBeLessThanOrEqual(Math.min(1, 1.05 / cpuCount));
    // The system snapshots bracket the command, and the spin is part of the system's busy time.
    expect(systemU).toBeGreaterThan(0.7 * e.inputs.utilisation);
    expect(e.powerW).toBeCloseTo(expectedW, 9);
    expect(e.energyJ).toBeCloseTo(expectedW * durationS, 9);
    // One busy CPU of cpuCount: about 0.3 + 0.7 / cpuCount of TDP.
    expect(e.powerW / tdpW).toBeGreaterThan(0.3 + (0.7 * 0.8) / cpuCount);
  });
});

describe("estimateWarning", () => {
  it("names the virtual machine and the fix when RAPL is absent in a VM", () => {
    const reports = [report("powercap", "absent"), report("msr", "absent"), report("perf-power", "absent")];
    const text = estimateWarning(reports, hostFacts(true));
    expect(text).toMatch(/^energy is ESTIMATED, not measured/);
    expect(text).toMatch(/virtual machine \(hypervisor flag set; QEMU/);
    expect(text).toMatch(/Fix: measure on bare metal/);
  });

  it("carries the sensors' own fix when RAPL exists but may not be read", () => {
    const reports = [
      report("powercap", "permission-denied", "sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj"),
      report("msr", "absent", "sudo modprobe msr"),
      report("perf-power", "absent"),
    ];
    const text = estimateWarning(reports, hostFacts(false));
    expect(text).toMatch(/\(permission-denied\): RAPL exists but this process may not read it \(powercap\)/);
    expect(text).toMatch(/Fix: sudo chmod o\+r/);
  });

  it("is null when a RAPL interface can be read: nothing is estimated", () => {
    const reports = [report("powercap", "available"), report("msr", "absent")];
    expect(estimateWarning(reports, hostFacts(false))).toBeNull();
  });

  const host = gatherHostFacts();
  const reports = addon.probe();
  const raplReadable = reports.some(
    (r) => ["powercap", "msr", "perf-power"].includes(r.kind) && r.status === "available",
  );
  const vmWithoutRapl = host.virtualisation.virtual && !raplReadable;
  if (!vmWithoutRapl) {
    console.log(
      `skipping the live warning test: ${raplReadable ? "RAPL can be read here" : "this machine is not a VM"}`,
    );
  }
  it.runIf(vmWithoutRapl)("on this VM, says RAPL is absent because of the VM, and how to fix it", () => {
    const text = estimateWarning(reports, host);
    console.log(text);
    expect(text).toMatch(/ESTIMATED/);
    expect(text).toMatch(/virtual machine/);
    expect(text).toMatch(/does not expose RAPL/);
    expect(text).toMatch(/Fix: measure on bare metal/);
  });
});

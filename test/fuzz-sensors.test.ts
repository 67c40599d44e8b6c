// Malformed sensor trees against the real CLI: whatever sysfs, /dev and /proc hold, `emp probe`
// and `emp measure` end with exit 0, 1 or 2 and at most one message, never an abort, a stack
// trace or an "unexpected error". Faults are listed cases, batched several to a tree (each CLI
// run costs most of a second); garbage bytes come from a seeded generator so a failure replays.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SourceKind } from "../src/native.js";
import type { ProbeReport, SensorEntry } from "../src/probe/report.js";
import { formatTable, truncate } from "../src/util/table.js";
import { FixtureTree } from "./fixtures/tree.js";
import { type CliResult, runEmp } from "./helpers/emp-cli.js";

/** Mulberry32: a small seeded generator, so the garbage is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function garbage(random: () => number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Math.floor(random() * 256);
  return out;
}

const MIB = 1 << 20;
const OVER_U64 = "99999999999999999999999"; // > 2^64
const TWENTY_DIGITS = "99999999999999999999"; // > 2^64 too, as a directory name's digit run

/** The fixture's three roots side by side, and the ways a file can be there yet give no text. */
class FaultTree {
  readonly tree = FixtureTree.create("emp-fuzz-");
  readonly random: () => number;

  constructor(seed: number) {
    this.random = seeded(seed);
    for (const root of ["sys", "dev", "proc"]) this.tree.dir(root);
  }

  get env(): Record<string, string> {
    return {
      EMP_SYSFS_ROOT: this.tree.path("sys"),
      EMP_DEV_ROOT: this.tree.path("dev"),
      EMP_PROCFS_ROOT: this.tree.path("proc"),
      EMP_NVML_LIB: this.tree.path("no-libnvidia-ml.so"),
    };
  }

  file(relative: string, content: string | Uint8Array): string {
    return this.tree.file(relative, content);
  }

  private parent(relative: string): string {
    const full = this.tree.path(relative);
    mkdirSync(dirname(full), { recursive: true });
    return full;
  }

  /** A directory where the file should be: open works, read fails with EISDIR. */
  directory(relative: string): void {
    mkdirSync(this.tree.path(relative), { recursive: true });
  }

  /** A symlink to nothing: the name is listed, open fails with ENOENT. */
  dangling(relative: string): void {
    symlinkSync(this.tree.path("nowhere"), this.parent(relative));
  }

  /** A symlink to itself: open fails with ELOOP. */
  loop(relative: string): void {
    const full = this.parent(relative);
    symlinkSync(full, full);
  }

  /** Opens, then every read fails with EIO (offset 0 of a process's memory is never mapped), even for root. */
  ioError(relative: string): void {
    symlinkSync("/proc/self/mem", this.parent(relative));
  }

  /** Mode 000: unreadable for a user, though root still reads it. */
  modeZero(relative: string, content: string): void {
    chmodSync(this.file(relative, content), 0);
  }

  garbage(relative: string, bytes = 4096): void {
    this.file(relative, garbage(this.random, bytes));
  }

  /** An MSR device as the msr driver shows it: 64-bit registers at their addresses, `bytes` long. */
  msr(cpu: number, registers: Record<number, bigint>, bytes: number): void {
    const content = Buffer.alloc(bytes);
    for (const [address, value] of Object.entries(registers)) {
      content.writeBigUInt64LE(value, Number(address));
    }
    this.file(`dev/cpu/${cpu}/msr`, content);
  }

  remove(): void {
    this.tree.remove();
  }
}

const INTEL_CPUINFO = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n\n";
const MSR = { powerUnit: 0x606, package: 0x611, psys: 0x64d } as const;
// 0x606 as a Skylake server reports it: energy status unit 14.
const INTEL_POWER_UNIT = 0x000a0e03n;

interface FuzzCase {
  name: string;
  /** The source kind the tree is malformed for (hwmon is read by the thermal source). */
  kind: SourceKind;
  build(t: FaultTree): void;
  /**
   * The energy source `emp measure --sources` is asked for. Absent for thermal and hwmon (measure
   * reads energy sources only), and where measure would only repeat the probe's refusal.
   */
  measure?: string;
  /** What the probe must say about the tree beyond "did not crash". */
  probe?(sensors: SensorEntry[]): void;
}

function sensor(sensors: SensorEntry[], kind: string): SensorEntry {
  const found = sensors.find((s) => s.kind === kind);
  if (found === undefined) throw new Error(`probe has no ${kind} report`);
  return found;
}

/** A powercap zone directory with its three files; an undefined name leaves the name file out. */
function zone(
  t: FaultTree,
  id: string,
  name: string | undefined,
  energyUj = "1000",
  maxUj = "262143328850",
): string {
  const dir = `sys/class/powercap/${id}`;
  t.tree.dir(dir);
  if (name !== undefined) t.file(`${dir}/name`, name);
  t.file(`${dir}/energy_uj`, energyUj);
  t.file(`${dir}/max_energy_range_uj`, maxUj);
  return dir;
}

const cases: FuzzCase[] = [
  {
    name: "powercap: zone directories out of pattern",
    kind: "powercap",
    measure: "powercap",
    build(t) {
      zone(t, "intel-rapl:0", "package-0");
      zone(t, "intel-rapl:x", "package-1");
      zone(t, `intel-rapl:${TWENTY_DIGITS}`, "package-2");
      zone(t, `intel-rapl:0:${TWENTY_DIGITS}`, "dram");
      zone(t, "intel-rapl:4294967296", "core");
      zone(t, "intel-rapl:", "package-3");
      zone(t, "intel-rapl:-1", "package-4");
      zone(t, "amd-rapl:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0", "core");
    },
    probe(sensors) {
      const powercap = sensor(sensors, "powercap");
      expect(powercap.status).toBe("available");
      expect(powercap.channels.map((c) => c.name)).toContain("package-0");
      expect(powercap.channels.map((c) => c.name)).not.toContain("core-4294967296");
    },
  },
  {
    name: "powercap: zone names out of pattern",
    kind: "powercap",
    measure: "powercap",
    build(t) {
      zone(t, "intel-rapl:0", "package-x");
      zone(t, "intel-rapl:1", "package-");
      zone(t, "intel-rapl:2", "package-99999999999");
      zone(t, "intel-rapl:3", "package--1");
      zone(t, "intel-rapl:4", "");
      zone(t, "intel-rapl:5", "p".repeat(MIB));
      zone(t, "intel-rapl:6", undefined);
      const odd = zone(t, "intel-rapl:7", undefined);
      t.garbage(`${odd}/name`, 64);
      zone(t, "intel-rapl:8", "package-8\npackage-9");
    },
    probe(sensors) {
      const powercap = sensor(sensors, "powercap");
      expect(powercap.status).toBe("unsupported");
      expect(powercap.reason).toMatch(/package-x/);
    },
  },
  {
    name: "powercap: energy_uj malformed",
    kind: "powercap",
    measure: "powercap",
    build(t) {
      zone(t, "intel-rapl:0", "package-0", "garbage");
      zone(t, "intel-rapl:1", "package-1", "");
      zone(t, "intel-rapl:2", "package-2", OVER_U64);
      zone(t, "intel-rapl:3", "package-3", "-5");
      const dir = zone(t, "intel-rapl:4", "package-4");
      rmSync(t.tree.path(`${dir}/energy_uj`));
      t.directory(`${dir}/energy_uj`);
      const dangling = zone(t, "intel-rapl:5", "package-5");
      rmSync(t.tree.path(`${dangling}/energy_uj`));
      t.dangling(`${dangling}/energy_uj`);
      const eio = zone(t, "intel-rapl:6", "package-6");
      rmSync(t.tree.path(`${eio}/energy_uj`));
      t.ioError(`${eio}/energy_uj`);
      const loop = zone(t, "intel-rapl:7", "package-7");
      rmSync(t.tree.path(`${loop}/energy_uj`));
      t.loop(`${loop}/energy_uj`);
      zone(t, "intel-rapl:8", "package-8", "7".repeat(MIB));
      const locked = zone(t, "intel-rapl:9", "package-9");
      t.modeZero(`${locked}/energy_uj`, "1000");
      zone(t, "intel-rapl:10", "package-10", "123456");
    },
    probe(sensors) {
      const powercap = sensor(sensors, "powercap");
      expect(powercap.status).toBe("available");
      expect(powercap.channels.map((c) => c.name)).toContain("package-10");
      for (const refused of ["package-0", "package-1", "package-2", "package-3", "package-4", "package-8"]) {
        expect(powercap.channels.map((c) => c.name)).not.toContain(refused);
      }
    },
  },
  {
    name: "powercap: max_energy_range_uj malformed",
    kind: "powercap",
    measure: "powercap",
    build(t) {
      const missing = zone(t, "intel-rapl:0", "package-0");
      rmSync(t.tree.path(`${missing}/max_energy_range_uj`));
      zone(t, "intel-rapl:1", "package-1", "1000", "0");
      zone(t, "intel-rapl:2", "package-2", "1000", "1");
      zone(t, "intel-rapl:3", "package-3", "1000", "garbage");
      zone(t, "intel-rapl:4", "package-4", "1000", "");
      zone(t, "intel-rapl:5", "package-5", "1000", "-5");
      zone(t, "intel-rapl:6", "package-6", "1000", OVER_U64);
      zone(t, "intel-rapl:7", "package-7", "1000", "18446744073709551615");
      const dir = zone(t, "intel-rapl:8", "package-8");
      rmSync(t.tree.path(`${dir}/max_energy_range_uj`));
      t.directory(`${dir}/max_energy_range_uj`);
      const eio = zone(t, "intel-rapl:9", "package-9");
      rmSync(t.tree.path(`${eio}/max_energy_range_uj`));
      t.ioError(`${eio}/max_energy_range_uj`);
    },
    probe(sensors) {
      const powercap = sensor(sensors, "powercap");
      expect(powercap.status).toBe("unsupported");
      expect(powercap.channels).toEqual([]);
      expect(powercap.reason).toMatch(/max_energy_range_uj/);
    },
  },
  {
    name: "msr: cpuinfo random bytes",
    kind: "msr",
    measure: "msr",
    build(t) {
      t.garbage("proc/cpuinfo", 16 * 1024);
      t.tree.dir("dev/cpu");
    },
  },
  {
    name: "msr: cpuinfo empty, online list garbage",
    kind: "msr",
    build(t) {
      t.file("proc/cpuinfo", "");
      t.file("sys/devices/system/cpu/online", "x-y,,-,3-");
    },
  },
  {
    name: "msr: cpuinfo huge numbers, online range of billions",
    kind: "msr",
    build(t) {
      const block = `vendor_id\t: GenuineIntel\ncpu family\t: ${OVER_U64}\nmodel\t\t: -1\nflags\t\t: ${"x ".repeat(4096)}\n\n`;
      t.file("proc/cpuinfo", block.repeat(Math.ceil(MIB / block.length)));
      t.file("sys/devices/system/cpu/online", "0-2000000000");
      t.file("sys/devices/system/cpu/cpu0/topology/physical_package_id", "0");
      t.msr(0, {}, 0);
    },
  },
  {
    name: "msr: topology values negative, huge, garbage; msr files short and empty",
    kind: "msr",
    measure: "msr",
    build(t) {
      t.file("proc/cpuinfo", INTEL_CPUINFO);
      t.file("sys/devices/system/cpu/online", "0-3,x,7-,-2,4294967296,3-1");
      const topology = (cpu: number, file: string, value: string) =>
        t.file(`sys/devices/system/cpu/cpu${cpu}/topology/${file}`, value);
      topology(0, "physical_package_id", "-7");
      topology(0, "core_id", "garbage");
      topology(1, "physical_package_id", "99999999999");
      topology(1, "core_id", OVER_U64);
      topology(2, "physical_package_id", "");
      t.ioError("sys/devices/system/cpu/cpu2/topology/core_id");
      t.msr(0, { [MSR.powerUnit]: INTEL_POWER_UNIT }, MSR.powerUnit + 8);
      t.msr(1, {}, 0);
    },
  },
  {
    name: "msr: cpu directories out of pattern, one valid package",
    kind: "msr",
    measure: "msr",
    build(t) {
      t.file("proc/cpuinfo", INTEL_CPUINFO);
      for (const name of [
        "cpu0",
        `cpu${TWENTY_DIGITS}`,
        "cpu4294967296",
        "cpu2147483648",
        "cpux",
        "cpu-1",
        "cpu",
      ]) {
        t.tree.dir(`sys/devices/system/cpu/${name}`);
      }
      t.file("sys/devices/system/cpu/cpu0/topology/physical_package_id", "0");
      t.file("sys/devices/system/cpu/cpu2147483648/topology/physical_package_id", "1");
      t.msr(0, { [MSR.powerUnit]: INTEL_POWER_UNIT, [MSR.package]: 1000n }, MSR.psys + 8);
    },
    probe(sensors) {
      const msr = sensor(sensors, "msr");
      expect(msr.status, msr.reason).toBe("available");
      expect(msr.channels.map((c) => c.name)).toEqual(["package-0"]);
    },
  },
  {
    name: "perf-power: type not a number",
    kind: "perf-power",
    build(t) {
      t.file("sys/bus/event_source/devices/power/type", "garbage");
    },
  },
  {
    name: "perf-power: type negative",
    kind: "perf-power",
    build(t) {
      t.file("sys/bus/event_source/devices/power/type", "-1");
      t.file("sys/bus/event_source/devices/power/events/energy-pkg", "event=0x02");
    },
  },
  {
    name: "perf-power: type above 2^32 (would truncate to 0, the hardware type)",
    kind: "perf-power",
    measure: "perf-power",
    build(t) {
      const pmu = "sys/bus/event_source/devices/power";
      t.file(`${pmu}/type`, "4294967296");
      t.file(`${pmu}/events/energy-pkg`, "event=0x02");
      t.file(`${pmu}/events/energy-pkg.scale`, "2.3283064365386962890625e-10");
      t.file(`${pmu}/events/energy-pkg.unit`, "Joules");
      t.file("sys/devices/system/cpu/online", "0");
    },
    probe(sensors) {
      expect(sensor(sensors, "perf-power").channels).toEqual([]);
    },
  },
  {
    name: "perf-power: type above 2^64",
    kind: "perf-power",
    build(t) {
      const pmu = "sys/bus/event_source/devices/power";
      t.file(`${pmu}/type`, OVER_U64);
      t.file(`${pmu}/events/energy-pkg`, "event=0x02");
      t.file(`${pmu}/events/energy-pkg.scale`, "1e-9");
      t.file(`${pmu}/events/energy-pkg.unit`, "Joules");
    },
  },
  {
    name: "perf-power: events, scales, units and formats malformed",
    kind: "perf-power",
    measure: "perf-power",
    build(t) {
      const pmu = "sys/bus/event_source/devices/power";
      t.file(`${pmu}/type`, "2147483000");
      t.file(`${pmu}/cpumask`, `0-4000000000,x,${TWENTY_DIGITS}`);
      t.file(`${pmu}/format/event`, `config:0-${TWENTY_DIGITS}`);
      t.file(`${pmu}/format/umask`, "config:99-1");
      t.garbage(`${pmu}/format/junk`, 256);
      const event = (name: string, terms: string, scale?: string, unit?: string) => {
        t.file(`${pmu}/events/${name}`, terms);
        if (scale !== undefined) t.file(`${pmu}/events/${name}.scale`, scale);
        if (unit !== undefined) t.file(`${pmu}/events/${name}.unit`, unit);
      };
      event("energy-pkg", "event=zz", "2.3e-10", "Joules");
      event("energy-cores", `event=0x${TWENTY_DIGITS}`, "-1", "Joules");
      event("energy-ram", "event=,umask=0x1", "NaN", "Joules");
      event("energy-gpu", "=,,,=5", "", "Joules");
      event("energy-psys", "event=0x05", "2.3e-10");
      t.ioError(`${pmu}/events/energy-psys.unit`);
      t.file("sys/devices/system/cpu/online", "0-1");
      t.file("sys/devices/system/cpu/cpu0/topology/physical_package_id", OVER_U64);
    },
  },
  {
    name: "perf-power: one well-formed event on a PMU the kernel lacks, cpumask huge",
    kind: "perf-power",
    measure: "perf-power",
    build(t) {
      const pmu = "sys/bus/event_source/devices/power";
      t.file(`${pmu}/type`, "2147483000");
      t.file(`${pmu}/cpumask`, "0-2000000000");
      t.file(`${pmu}/format/event`, "config:0-7");
      t.file(`${pmu}/events/energy-pkg`, "event=0x02");
      t.file(`${pmu}/events/energy-pkg.scale`, "2.3283064365386962890625e-10");
      t.file(`${pmu}/events/energy-pkg.unit`, "Joules");
      t.file("sys/devices/system/cpu/online", "0");
    },
  },
  {
    name: "hwmon: names, inputs and labels malformed",
    kind: "thermal",
    build(t) {
      const hw = "sys/class/hwmon";
      t.file(`${hw}/hwmon0/name`, "k10temp");
      t.file(`${hw}/hwmon0/temp1_input`, "garbage");
      t.file(`${hw}/hwmon0/temp1_label`, "L".repeat(MIB));
      t.file(`${hw}/hwmon0/temp2_input`, `-${OVER_U64}`);
      t.file(`${hw}/hwmon0/temp2_label`, "\n\n");
      t.file(`${hw}/hwmon0/temp3_input`, OVER_U64);
      t.garbage(`${hw}/hwmon0/temp3_label`, 64);
      t.file(`${hw}/hwmon0/temp4_input`, "");
      t.directory(`${hw}/hwmon0/temp5_input`);
      t.dangling(`${hw}/hwmon0/temp6_input`);
      t.ioError(`${hw}/hwmon0/temp7_input`);
      t.file(`${hw}/hwmon0/temp${TWENTY_DIGITS}_input`, "45000");
      t.file(`${hw}/hwmon0/temp8_input`, "45000");
      t.ioError(`${hw}/hwmon0/temp8_label`);
      t.loop(`${hw}/hwmon0/device`);
      t.file(`${hw}/hwmon${TWENTY_DIGITS}/name`, "coretemp");
      t.file(`${hw}/hwmon${TWENTY_DIGITS}/temp1_input`, "50000");
      t.file(`${hw}/hwmon${TWENTY_DIGITS}/temp1_label`, `Package id ${TWENTY_DIGITS}`);
      t.dangling(`${hw}/hwmon${TWENTY_DIGITS}/device`);
      t.file(`${hw}/hwmonx/name`, "coretemp");
      t.ioError(`${hw}/hwmon2/name`);
      t.garbage(`${hw}/hwmon3/name`, 64);
      t.directory(`${hw}/hwmon4/name`);
      t.file("sys/devices/system/cpu/online", "0-4000000000");
    },
    probe(sensors) {
      const channels = sensor(sensors, "thermal").channels;
      expect(channels.map((c) => c.name)).toContain("k10temp-temp8");
      // No topology has a package numbered past 2^64: the label names none.
      expect(channels.map((c) => c.domain)).not.toContain(`package-${TWENTY_DIGITS}`);
    },
  },
  {
    name: "thermal: zones malformed",
    kind: "thermal",
    build(t) {
      const th = "sys/class/thermal";
      t.file(`${th}/thermal_zone0/temp`, "garbage");
      t.file(`${th}/thermal_zone1/temp`, "");
      t.file(`${th}/thermal_zone2/temp`, "-273150");
      t.file(`${th}/thermal_zone3/temp`, "41000");
      t.garbage(`${th}/thermal_zone3/type`, 64);
      t.file(`${th}/thermal_zone4/temp`, "42000");
      t.file(`${th}/thermal_zone4/type`, "t".repeat(MIB));
      t.directory(`${th}/thermal_zone5/temp`);
      t.ioError(`${th}/thermal_zone6/temp`);
      t.ioError(`${th}/thermal_zone7/type`);
      t.file(`${th}/thermal_zone7/temp`, "43000");
      t.file(`${th}/thermal_zone${TWENTY_DIGITS}/temp`, "44000");
      t.file(`${th}/thermal_zone-1/temp`, "45000");
      t.file(`${th}/thermal_zonex/temp`, "46000");
      t.dangling(`${th}/thermal_zone8`);
    },
    probe(sensors) {
      const thermal = sensor(sensors, "thermal");
      expect(thermal.status).toBe("available");
      expect(thermal.channels.length).toBeGreaterThanOrEqual(4);
    },
  },
  {
    name: "every root a regular file",
    kind: "powercap",
    measure: "powercap",
    build(t) {
      for (const root of ["sys", "dev", "proc"]) {
        rmSync(t.tree.path(root), { recursive: true });
        t.file(root, "not a directory");
      }
    },
  },
];

/** One CLI run for the table printed at the end: what was tried, its exit and its message. */
interface Row {
  name: string;
  command: string;
  exit: string;
  message: string;
}

const rows: Row[] = [];
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "emp-fuzz-out-"));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  const header = [
    "case",
    "command",
    "exit",
    "message (stderr's first line; for probe, its verdict on the kind)",
  ];
  console.log(
    formatTable(
      header,
      rows.map((r) => [r.name, r.command, r.exit, r.message]),
    ).join("\n"),
  );
});

function record(t: FaultTree, name: string, command: string, result: CliResult, verdict?: string): void {
  const firstLine = result.stderr.split("\n").find((l) => l.trim() !== "") ?? "(nothing on stderr)";
  rows.push({
    name,
    command,
    exit: result.status === null ? String(result.signal) : String(result.status),
    message: truncate((verdict ?? firstLine).replaceAll(t.tree.root, "<tree>"), 160),
  });
}

/** The contract every run keeps, whatever the tree held. */
function expectOrderlyEnd(result: CliResult): void {
  const context = `exit ${result.status ?? result.signal}\n${result.stderr.slice(0, 2000)}`;
  expect([0, 1, 2], context).toContain(result.status);
  expect(result.stderr, context).not.toMatch(/Aborted|terminate called|core dumped|Segmentation fault/);
  expect(result.stderr, context).not.toMatch(/unexpected error/);
  expect(result.stderr, context).not.toMatch(/\n\s+at /);
  expect((result.stderr.match(/^emp: /gm) ?? []).length, context).toBeLessThanOrEqual(1);
}

describe("malformed sensor trees", () => {
  for (const [index, fuzz] of cases.entries()) {
    it(fuzz.name, () => {
      const t = new FaultTree(0x5eed + index);
      try {
        fuzz.build(t);
        const probe = runEmp(["probe", "--json"], t.env);
        let verdict: SensorEntry | undefined;
        try {
          expectOrderlyEnd(probe);
          expect(probe.status, probe.stderr).toBe(0);
          const report = JSON.parse(probe.stdout) as ProbeReport;
          verdict = sensor(report.sensors, fuzz.kind);
          fuzz.probe?.(report.sensors);
        } finally {
          const said =
            verdict && `${verdict.kind} ${verdict.status}${verdict.reason ? `: ${verdict.reason}` : ""}`;
          record(t, fuzz.name, "probe --json", probe, said);
        }

        if (fuzz.measure === undefined) return;
        const out = join(scratch, String(index));
        const args = ["--baseline", "0.1", "--repeat", "1", "--warmup", "0", "--sources", fuzz.measure];
        const measure = runEmp(["measure", ...args, "--out", out, "--", "true"], t.env);
        record(t, fuzz.name, `measure --sources ${fuzz.measure}`, measure);
        expectOrderlyEnd(measure);
      } finally {
        t.remove();
      }
    });
  }
});

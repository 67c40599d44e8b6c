// `emp probe --cross-check` end to end: the CLI in a child process against one fixture that holds
// both a powercap zone package-0 and Intel MSR registers for package 0, each advanced by a writer
// process at a known power.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CrossCheck } from "../src/probe/cross-check.js";
import type { ProbeReport } from "../src/probe/report.js";
import { EnergyWriter, msrDevice, powercapZone } from "./fixtures/energy.js";
import { FixtureTree, writeCpuTopology } from "./fixtures/tree.js";
import { runEmp } from "./helpers/emp-cli.js";

const MSR_WRAP = 2 ** 32;
const MSR_UNIT_J = 2 ** -14;
// 0x606 as a Skylake server reports it: energy status unit 14 (2^-14 J).
const INTEL_POWER_UNIT = 0x000a0e03n;
const INTEL = { powerUnit: 0x606, pkg: 0x611 } as const;
// Small enough that the powercap counter wraps every 100 ms at 20 W: the check must correct wraps.
const POWERCAP_MAX_UJ = 1_999_999;
/** Relative tolerance on the measured power: the writer ticks every 0.5 ms over a ~1 s window. */
const TOLERANCE = 0.03;

let tree: FixtureTree;
let writer: EnergyWriter | undefined;
beforeEach(() => {
  tree = FixtureTree.create();
});
afterEach(async () => {
  await writer?.stop();
  writer = undefined;
  tree.remove();
});

/** One package of two CPUs, an Intel family 6 cpuinfo, a powercap zone and CPU 0's MSRs. */
async function startFixture(powercapW: number, msrW: number): Promise<Record<string, string>> {
  writeCpuTopology(tree, 1, 2);
  tree.file(
    "cpuinfo",
    [0, 1]
      .map((cpu) =>
        [
          `processor\t: ${cpu}`,
          "vendor_id\t: GenuineIntel",
          "cpu family\t: 6",
          "model\t\t: 85",
          "model name\t: Fixture CPU",
        ].join("\n"),
      )
      .join("\n\n"),
  );
  const energyUj = powercapZone(tree, {
    id: "intel-rapl:0",
    name: "package-0",
    maxEnergyRangeUj: POWERCAP_MAX_UJ,
  });
  const msr = msrDevice(tree, 0, { [INTEL.powerUnit]: INTEL_POWER_UNIT, [INTEL.pkg]: 0n });
  writer = await EnergyWriter.start(tree, [
    { format: "text", path: energyUj, unitJ: 1e-6, wrap: POWERCAP_MAX_UJ + 1, idleW: powercapW },
    { format: "msr", path: msr, offset: INTEL.pkg, unitJ: MSR_UNIT_J, wrap: MSR_WRAP, idleW: msrW },
  ]);
  return { EMP_SYSFS_ROOT: tree.root, EMP_DEV_ROOT: tree.root, EMP_PROCFS_ROOT: tree.root };
}

function crossCheckJson(env: Record<string, string>): CrossCheck[] {
  const result = runEmp(["probe", "--json", "--cross-check", "1"], env);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const report = JSON.parse(result.stdout) as ProbeReport;
  expect(report.rapl).toMatchObject({ status: "available", interfaces: ["powercap", "msr"] });
  return report.crossCheck ?? [];
}

function packageCheck(checks: CrossCheck[]): CrossCheck {
  expect(checks.map((c) => c.domain)).toEqual(["package-0"]);
  const check = checks[0] as CrossCheck;
  const line = check.readings.map(
    (r) => `${r.kind} ${r.powerW.toFixed(4)} W (${r.readings} reads, ${r.wraps} wraps)`,
  );
  console.log(`package-0: ${line.join(", ")}; spread ${check.spreadW.toFixed(4)} W, agree ${check.agree}`);
  return check;
}

function expectPower(check: CrossCheck, kind: "powercap" | "msr", powerW: number): void {
  const reading = check.readings.find((r) => r.kind === kind);
  expect(reading, kind).toBeDefined();
  expect(reading?.channel).toBe("package-0");
  expect(reading?.durationS).toBeGreaterThan(0.8);
  expect(reading?.readings).toBeGreaterThan(50);
  expect(Math.abs((reading?.powerW ?? 0) - powerW), `${kind}: ${reading?.powerW} W`).toBeLessThan(
    TOLERANCE * powerW,
  );
}

describe("emp probe --cross-check on powercap and msr package-0", () => {
  it("agrees when both interfaces count 20 W", async () => {
    const env = await startFixture(20, 20);
    const check = packageCheck(crossCheckJson(env));
    expect(check.readings.map((r) => r.kind).sort()).toEqual(["msr", "powercap"]);
    expectPower(check, "powercap", 20);
    expectPower(check, "msr", 20);
    // 20 W through a 2 J powercap range over a second: several wraps corrected.
    expect(check.readings.find((r) => r.kind === "powercap")?.wraps).toBeGreaterThanOrEqual(5);
    expect(check.spreadW).toBeLessThan(1);
    expect(check.agree).toBe(true);
  });

  it("disagrees when powercap counts 20 W and msr 30 W", async () => {
    const env = await startFixture(20, 30);
    const check = packageCheck(crossCheckJson(env));
    expectPower(check, "powercap", 20);
    expectPower(check, "msr", 30);
    expect(check.spreadW).toBeGreaterThan(9);
    expect(check.spreadW).toBeLessThan(11);
    expect(check.agree).toBe(false);
  });

  it("prints the verdict in the human report", async () => {
    const env = await startFixture(20, 30);
    const result = runEmp(["probe", "--cross-check", "1"], env);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\nCross-check\n {2}package-0: DISAGREE \(spread \d+\.\d{3} W\)\n/);
    expect(result.stdout).toMatch(/\n {6}powercap package-0 +\d+\.\d{3} W over \d\.\d{2} s\n/);
    expect(result.stdout).toMatch(/\n {6}msr package-0 +\d+\.\d{3} W over \d\.\d{2} s\n/);
  });

  it("prints agreement in the human report", async () => {
    const env = await startFixture(20, 20);
    const result = runEmp(["probe", "--cross-check", "1"], env);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\nCross-check\n {2}package-0: agree \(spread \d+\.\d{3} W\)\n/);
  });
});

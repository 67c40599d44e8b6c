// `emp measure` as a user runs it: bad input gets exit 2 and one line; this VM without sensors
// measures on the labelled estimate; a powercap fixture gives the energy it produced; Ctrl-C keeps
// the runs already done.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatSummary } from "../src/measure/format.js";
import { type CounterLog, EnergyWriter, powercapZone, WrittenEnergy } from "./fixtures/energy.js";
import { fakeNvml } from "./fixtures/nvml.js";
import { FixtureTree, writeCpuTopology } from "./fixtures/tree.js";
import { runEmp } from "./helpers/emp-cli.js";

const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "emp-measure-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function readArrow(path: string) {
  return tableFromIPC(readFileSync(path));
}

describe("emp measure: bad input", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["non-numeric rate", ["--sample-hz", "abc", "--", "true"], /--sample-hz takes/],
    ["zero rate", ["--sample-hz", "0", "--", "true"], /--sample-hz takes/],
    ["negative repeat", ["--repeat", "-1", "--", "true"], /--repeat takes/],
    ["fractional repeat", ["--repeat", "1.5", "--", "true"], /--repeat takes/],
    ["zero baseline", ["--baseline", "0", "--", "true"], /--baseline takes/],
    ["negative cooldown", ["--cooldown", "-2", "--", "true"], /--cooldown takes/],
    ["zero TDP", ["--tdp", "0", "--", "true"], /--tdp takes/],
    ["missing command", [], /no command to measure/],
    ["unknown source", ["--sources", "rapl9", "--", "true"], /unknown energy source 'rapl9'/],
    ["source not here", ["--sources", "msr", "--", "true"], /energy source 'msr' cannot be read here/],
    ["unknown counter", ["--counters", "bogus", "--", "true"], /unknown counter 'bogus'/],
    ["command that does not exist", ["--", "emp-no-such-command"], /command not found: emp-no-such-command/],
    ["unwritable out dir", ["--out", "/proc/emp-cannot", "--", "true"], /cannot write results to/],
    ["unknown option", ["--bogus", "--", "true"], /unknown option '--bogus'/],
    [
      "repeat past the bound",
      ["--repeat", "1e99", "--", "true"],
      /--repeat takes a whole number of runs from 1 to 1000000/,
    ],
    [
      "warmup past the bound",
      ["--warmup", "1e7", "--", "true"],
      /--warmup takes a whole number of runs from 0 to 1000000/,
    ],
    ["a directory as the command", ["--", "test/fixtures"], /test\/fixtures is a directory, not a command/],
    [
      "a file that is not executable",
      ["--", "test/fixtures/energy.ts"],
      /not executable: .*energy\.ts[\s\S]*chmod \+x/,
    ],
    ["an empty command", ["--", ""], /the command to measure is empty/],
  ];
  for (const [name, args, message] of cases) {
    it(`${name}: exit 2, one message with a fix, no stack trace`, () => {
      const result = runEmp(["measure", "--baseline", "0.1", ...args]);
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe("");
    });
  }
});

describe("emp measure on this VM", () => {
  it("completes on the labelled estimate when no energy sensor can be read", () => {
    const out = join(scratch, "estimate");
    const result = runEmp([
      "measure",
      "--repeat",
      "3",
      "--warmup",
      "1",
      "--baseline",
      "0.3",
      "--tdp",
      "40",
      "--out",
      out,
      "--json",
      "--",
      "sh",
      "-c",
      "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done",
    ]);
    expect(result.status, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.estimated).toBe(true);
    expect(summary.out).toBe(out);
    expect(summary.domains.cpu.source).toBe("estimate");
    expect(summary.domains.cpu.net_mean_j).toBeGreaterThan(0);
    expect(summary.baseline.power_w.cpu).toBeCloseTo(0.3 * 40, 9); // the idle share of the given TDP
    expect(summary.warnings.join("\n")).toMatch(/ESTIMATED, not measured.*Fix:/s);
    expect(summary.runs).toHaveLength(4);
    // The estimate rests on the run's own CPU time: a spinning shell uses about its wall time
    // (a good share of it on a shared machine where other work competes for the cores).
    for (const run of summary.runs)
      expect(run.counters["task-clock"]).toBeGreaterThan(0.2 * run.duration_s * 1e9);

    const runs = readArrow(join(out, "runs.arrow"));
    expect(runs.numRows).toBe(4);
    expect(runs.getChild("cpu_net_j")?.toArray()[1]).toBeCloseTo(summary.runs[1].net_energy_j.cpu, 12);
    expect(runs.schema.fields.find((f) => f.name === "cpu_raw_j")?.metadata.get("unit")).toBe("J");
    expect(readArrow(join(out, "samples.arrow")).numRows).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.state).toBe("complete");
    expect(manifest.provenance.estimated).toBe(true);
  });
});

describe("emp measure against a powercap fixture", () => {
  let tree: FixtureTree;
  beforeAll(() => {
    tree = FixtureTree.create();
    writeCpuTopology(tree, 1, 2);
  });
  afterAll(() => tree.remove());

  it("reports about 5 W idle and 6 J net for 0.3 s at 25 W, and writes Arrow files with units", async () => {
    const range = 1_999_999; // wraps every 80 ms at 25 W
    const energy = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: range });
    const flag = tree.path("busy.flag");
    const writer = await EnergyWriter.start(tree, [
      { format: "text", path: energy, unitJ: 1e-6, wrap: range + 1, idleW: 5, busyW: 25, flagPath: flag },
    ]);
    const out = join(scratch, "fixture");
    let result: ReturnType<typeof runEmp>;
    let logs: CounterLog[] = [];
    try {
      result = await new Promise((resolve) =>
        setImmediate(() =>
          resolve(
            runEmp(
              [
                "measure",
                "--repeat",
                "3",
                "--baseline",
                "1",
                "--out",
                out,
                "--json",
                "--",
                "sh",
                "-c",
                `touch ${flag}; sleep 0.3; rm ${flag}`,
              ],
              { EMP_SYSFS_ROOT: tree.root },
            ),
          ),
        ),
      );
    } finally {
      logs = await writer.stop();
    }
    expect(result.status, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.estimated).toBe(false);
    expect(summary.sampling.dropped).toBe(0);
    // Whatever rate a loaded machine allowed, every deadline is a tick or a counted miss.
    const deadlines =
      (summary.sampling.samples * summary.sampling.requested_hz) / summary.sampling.achieved_hz;
    expect(Math.abs(summary.sampling.samples + summary.sampling.missed - deadlines)).toBeLessThan(
      0.01 * deadlines + 3,
    );
    expect(summary.baseline.power_w["package-0"]).toBeGreaterThan(4.75);
    expect(summary.baseline.power_w["package-0"]).toBeLessThan(5.25);
    // Nominally 6 J; roughly, since a loaded machine lets the writer step late across the flag's edges.
    expect(Math.abs(summary.domains["package-0"].net_median_j - 6) / 6).toBeLessThan(0.15);

    const runs = readArrow(join(out, "runs.arrow"));
    expect(runs.numRows).toBe(4);
    // Each run's energy is what the writer put into the counter over the run's span.
    const [log] = logs;
    if (log === undefined) throw new Error("the writer logged no counter");
    const written = WrittenEnergy.of(log, { unitJ: 1e-6, wrap: range + 1 });
    for (let i = 0; i < 4; i++) {
      const writtenJ = written.between(runs.getChild("start_ns")?.get(i), runs.getChild("end_ns")?.get(i));
      expect(Math.abs(summary.runs[i].energy_j["package-0"] / writtenJ - 1)).toBeLessThan(0.02);
    }
    expect(runs.getChild("package-0_net_j")?.get(1)).toBeCloseTo(
      summary.runs[1].net_energy_j["package-0"],
      9,
    );
    const samples = readArrow(join(out, "samples.arrow"));
    expect(samples.numRows).toBe(summary.sampling.samples);
    const field = samples.schema.fields.find((f) => f.name === "powercap/package-0");
    expect(field?.metadata.get("unit")).toBe("uJ");
    const phases = new Set(samples.getChild("phase")?.toArray());
    expect([...phases].sort()).toEqual(["baseline", "between", "run", "warmup"]);
    // The resolution the user can see: the writer's 0.5 ms steps, seen at most every 1 ms at 1 kHz.
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.resolution).toEqual(summary.resolution);
    expect(summary.resolution[0].channel).toBe("package-0");
    expect(summary.resolution[0].update_period_ms).toBeGreaterThan(0.9);
    expect(summary.resolution[0].update_period_ms).toBeLessThan(1.5);
    // A 0.3 s run spans at most 600 of the writer's steps, and most of the 300 the sampler sees.
    expect(summary.runs[1].sensor_updates["package-0"]).toBeLessThanOrEqual(650);
    expect(summary.runs[1].sensor_updates["package-0"]).toBeGreaterThan(150);
  });
});

describe("emp measure at the counters' edges", () => {
  it("a GPU counter reset in a run: 0 J across it and a warning on that run, never 1.8e16 J", async () => {
    const flag = join(scratch, "nvml-reset.flag");
    const powerW = 100;
    const fake = fakeNvml({ powerMw: [powerW * 1000], resetFlag: flag });
    const out = join(scratch, "nvml-reset");
    let result: ReturnType<typeof runEmp>;
    try {
      // The driver "reloads" 0.2 s into the run: the fake's counter restarts from 0 at its next read.
      result = runEmp(
        [
          "measure",
          "--sources",
          "nvml",
          "--repeat",
          "1",
          "--warmup",
          "0",
          "--baseline",
          "0.3",
          "--counters",
          "task-clock",
          "--out",
          out,
          "--json",
          "--",
          "sh",
          "-c",
          `sleep 0.2; touch ${flag}; sleep 0.3`,
        ],
        fake.env,
      );
    } finally {
      fake.remove();
    }
    expect(result.status, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    const [run] = summary.runs;
    const reset = (run.warnings as string[]).find((w) => /counter reset/.test(w)) ?? "";
    console.log(`nvml reset: ${run.energy_j["gpu-0"]} J over ${run.duration_s} s; ${reset}`);
    expect(reset).toMatch(/gpu-0-energy: counter reset: it never wraps but went down/);
    const lostS = Number(/the ([\d.]+) ms between those two readings count as 0 J/.exec(reset)?.[1]) / 1000;
    // NVML is read at 50 Hz: one gap of about 20 ms (more on a loaded machine) is lost, no more.
    expect(lostS).toBeGreaterThan(0);
    expect(lostS).toBeLessThan(run.duration_s / 2);
    const rawJ = run.energy_j["gpu-0"];
    expect(Math.abs(rawJ - powerW * (run.duration_s - lostS))).toBeLessThan(0.01 * powerW * run.duration_s);
    // Against the 100 W idle baseline, the run is short by the lost gap: negative net, not clamped.
    expect(summary.domains["gpu-0"].baseline_w).toBeCloseTo(powerW, 0);
    expect(Math.abs(run.net_energy_j["gpu-0"] + powerW * lostS)).toBeLessThan(0.01 * powerW * run.duration_s);
    // The session lists it once, as the run's.
    expect(summary.warnings.filter((w: string) => w.includes(reset))).toEqual([`run 1: ${reset}`]);
    const runs = readArrow(join(out, "runs.arrow"));
    expect([...(runs.getChild("warnings")?.get(0) ?? [])]).toEqual(run.warnings);
  });

  it("a stalled machine in a run: a possible hidden wrap on that run, and whole ranges lost, as it warns", async () => {
    const tree = FixtureTree.create();
    try {
      writeCpuTopology(tree, 1, 1);
      const range = 1_999_999; // 2 J: at 25 W it wraps every 80 ms
      const energy = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: range });
      const flag = tree.path("busy.flag");
      const writer = await EnergyWriter.start(tree, [
        { format: "text", path: energy, unitJ: 1e-6, wrap: range + 1, idleW: 5, busyW: 25, flagPath: flag },
      ]);
      const out = join(scratch, "stalled-machine");
      let result: ReturnType<typeof runEmp>;
      let logs: CounterLog[] = [];
      try {
        // The second run stops emp (its parent: the sampler thread with it) for 150 ms while drawing
        // 25 W: 3.75 J pass between two readings, more than the range.
        result = runEmp(
          [
            "measure",
            "--repeat",
            "2",
            "--warmup",
            "0",
            "--baseline",
            "0.3",
            "--counters",
            "task-clock",
            "--out",
            out,
            "--json",
            "--",
            "sh",
            "-c",
            `touch ${flag}; sleep 0.1; if [ -e ${flag}.stall ]; then kill -STOP $PPID; sleep 0.15; kill -CONT $PPID; fi; touch ${flag}.stall; sleep 0.1; rm ${flag}`,
          ],
          { EMP_SYSFS_ROOT: tree.root },
        );
      } finally {
        logs = await writer.stop();
      }
      expect(result.status, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout);
      const wrapWarning = (warnings: string[]) =>
        warnings.filter((w) => /a second wrap could have gone unseen/.test(w));
      expect(wrapWarning(summary.runs[0].warnings)).toEqual([]);
      const [wrap] = wrapWarning(summary.runs[1].warnings);
      console.log(`stalled machine: ${wrap}`);
      const gapMs = Number(/([\d.]+) ms passed between two readings/.exec(wrap ?? "")?.[1]);
      expect(gapMs).toBeGreaterThanOrEqual(150);
      expect(summary.warnings).toContain(`run 2: ${wrap}`);
      const runs = readArrow(join(out, "runs.arrow"));
      expect([...(runs.getChild("warnings")?.get(1) ?? [])]).toEqual(summary.runs[1].warnings);
      // The warning is right: the run is short of what the writer put in by whole 2 J ranges.
      const [log] = logs;
      if (log === undefined) throw new Error("the writer logged no counter");
      const written = WrittenEnergy.of(log, { unitJ: 1e-6, wrap: range + 1 });
      const shortJ = (i: number) =>
        written.between(runs.getChild("start_ns")?.get(i), runs.getChild("end_ns")?.get(i)) -
        summary.runs[i].energy_j["package-0"];
      const lostRanges = shortJ(1) / (range * 1e-6);
      console.log(
        `run 0 short by ${shortJ(0).toFixed(4)} J, run 1 by ${shortJ(1).toFixed(4)} J (${lostRanges.toFixed(3)} ranges)`,
      );
      expect(Math.abs(shortJ(0))).toBeLessThan(0.1);
      expect(Math.round(lostRanges)).toBeGreaterThanOrEqual(1);
      expect(Math.abs(lostRanges - Math.round(lostRanges))).toBeLessThan(0.05);
    } finally {
      tree.remove();
    }
  });

  it("a sensor that stays still across the baseline's end: exit 1, raw energy and its statistics, no net, a warning", async () => {
    const tree = FixtureTree.create();
    try {
      writeCpuTopology(tree, 1, 1);
      const range = 1_999_999;
      const energy = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: range });
      const flag = tree.path("busy.flag");
      // The counter does not move from the sampler's first reading through the baseline and past its
      // end, as a stalled sensor's; from the first run on it counts 5 W idle, 25 W while a run holds the flag.
      const writer = await EnergyWriter.start(tree, [
        {
          format: "text",
          path: energy,
          unitJ: 1e-6,
          wrap: range + 1,
          idleW: 5,
          busyW: 25,
          flagPath: flag,
          stillUntilFlag: true,
        },
      ]);
      const out = join(scratch, "stalled-baseline");
      let result: ReturnType<typeof runEmp>;
      try {
        result = runEmp(
          [
            "measure",
            "--repeat",
            "2",
            "--warmup",
            "0",
            "--baseline",
            "0.3",
            "--counters",
            "task-clock",
            "--out",
            out,
            "--json",
            "--",
            "sh",
            "-c",
            `touch ${flag}; sleep 0.3; rm ${flag}`,
          ],
          { EMP_SYSFS_ROOT: tree.root },
        );
      } finally {
        await writer.stop();
      }
      expect(result.status, result.stderr).toBe(1);
      const summary = JSON.parse(result.stdout);
      console.log(
        `stalled baseline: exit ${result.status}, ${JSON.stringify(summary.domains)}, ${JSON.stringify(summary.warnings)}`,
      );
      expect(summary.baseline.power_w).toEqual({ "package-0": null });
      const domain = summary.domains["package-0"];
      expect(domain.baseline_w).toBeNull();
      expect([domain.net_mean_j, domain.net_median_j, domain.net_ci95_j]).toEqual([null, null, null]);
      expect(summary.warnings).toContainEqual(
        expect.stringMatching(
          /^package-0: the idle baseline's power is unknown \(.*after the last fresh reading.*\); the runs keep their raw energy but have no net energy$/,
        ),
      );
      const rawJ = summary.runs.map((r: { energy_j: Record<string, number> }) => r.energy_j["package-0"]);
      summary.runs.forEach(
        (r: { duration_s: number; net_energy_j: object; warnings: string[] }, i: number) => {
          // 25 W while the run held the flag, which is all of it but the shell's start and exit: at
          // most 25 W x its length (and a 12.5 mJ step of the writer), not 10 % less, whatever the baseline.
          const share = rawJ[i] / (25 * r.duration_s);
          expect(share).toBeGreaterThan(0.9);
          expect(share).toBeLessThan(1.01);
          expect(r.net_energy_j).toEqual({ "package-0": null });
          expect(r.warnings).toContain(
            "package-0: raw energy only: the idle baseline's power is unknown, so no net energy",
          );
        },
      );
      expect(domain.mean_j).toBeCloseTo((rawJ[0] + rawJ[1]) / 2, 9);
      // The table for a person prints the raw statistics and "-" for what is unknown.
      const text = formatSummary(summary);
      expect(text).toMatch(
        new RegExp(`package-0 +powercap +- +- +${domain.mean_j.toFixed(3)} +[\\d.]+ % +-`),
      );
      expect(text).not.toMatch(/NaN/);
      const runs = readArrow(join(out, "runs.arrow"));
      const rows = (name: string) => [0, 1].map((i) => runs.getChild(name)?.get(i));
      // Null, not NaN and not 0 (toArray would show a null slot's 0: read each row).
      expect(rows("package-0_net_j")).toEqual([null, null]);
      expect(rows("package-0_baseline_j")).toEqual([null, null]);
      expect(rows("package-0_raw_j")).toEqual(rawJ);
      expect([...(runs.getChild("warnings")?.get(1) ?? [])]).toEqual(summary.runs[1].warnings);
    } finally {
      tree.remove();
    }
  });
});

describe("emp measure interrupted", () => {
  it("Ctrl-C during run 3 of 5 keeps runs 1-2, writes the summary so far and exits non-zero", async () => {
    const out = join(scratch, "interrupted");
    const child = spawn(
      process.execPath,
      [
        main,
        "measure",
        "--repeat",
        "5",
        "--warmup",
        "0",
        "--baseline",
        "0.2",
        "--out",
        out,
        "--json",
        "--",
        "sleep",
        "0.4",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    const runsFile = join(out, "runs.arrow");
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (existsSync(runsFile) && readArrow(runsFile).numRows === 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 100)); // run 3 is under way
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(130);
    const runs = readArrow(runsFile);
    expect(runs.numRows).toBe(2);
    expect([...(runs.getChild("index")?.toArray() ?? [])]).toEqual([0, 1]);
    const summary = JSON.parse(stdout);
    expect(summary.interrupted).toBe(true);
    expect(summary.runs).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).interrupted).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).state).toBe("interrupted");
  });

  it("SIGTERM during run 2 keeps run 1: manifest interrupted, the summary of that run, exit 143", async () => {
    const out = join(scratch, "terminated");
    const started = join(scratch, "terminated-runs");
    // Run 1 ends at once; run 2 waits until it is ended.
    const script = `echo x >> ${started}; [ $(wc -l < ${started}) -ge 2 ] && sleep 60; exit 0`;
    const child = spawn(
      process.execPath,
      [main, "measure", "--repeat", "3", "--warmup", "0", "--baseline", "0.2", "--out", out, "--json"].concat(
        ["--", "sh", "-c", script],
      ),
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const count = () => (existsSync(started) ? readFileSync(started, "utf8").trim().split("\n").length : 0);
    const deadline = Date.now() + 20_000;
    while (count() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.state).toBe("interrupted");
    expect(manifest.process.pid).toBe(child.pid);
    for (const summary of [JSON.parse(stdout), JSON.parse(readFileSync(join(out, "summary.json"), "utf8"))]) {
      expect(summary.interrupted).toBe(true);
      expect(summary.runs.map((r: { index: number; exit_code: number }) => [r.index, r.exit_code])).toEqual([
        [0, 0],
      ]);
    }
    expect(readArrow(join(out, "runs.arrow")).numRows).toBe(1);
  });
});

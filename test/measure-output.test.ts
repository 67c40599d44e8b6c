// Output a script can trust, and a person can follow: --json stdout is JSON alone, the table starts
// on a line of its own, warnings go to stderr, failed runs are not energy, warmups and runs are
// numbered apart, the cooldown phase is only the cooldown asked for, a plot of the estimate says
// ESTIMATED, and a terminal shows a countdown, the run's elapsed time and a wait on stdin.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnergyWriter, powercapZone } from "./fixtures/energy.js";
import { FixtureTree, writeCpuTopology } from "./fixtures/tree.js";
import { runEmp } from "./helpers/emp-cli.js";

const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "emp-output-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `emp measure` on the estimate, short: no warmup unless given, a 0.1 s baseline. */
function measure(name: string, args: string[], command: string[]) {
  const out = join(scratch, name);
  return {
    out,
    ...runEmp(["measure", "--baseline", "0.1", "--warmup", "0", "--out", out, ...args, "--", ...command]),
  };
}

/** A shell command whose first run succeeds and whose later runs exit 1 (a count kept in a file). */
function failsAfterFirst(name: string): string[] {
  const count = join(scratch, `${name}.count`);
  return ["sh", "-c", `n=$(cat ${count} 2>/dev/null || echo 0); echo $((n+1)) > ${count}; [ "$n" -eq 0 ]`];
}

describe("emp measure's stdout", () => {
  it("--json: stdout is the JSON alone; the command's output goes to stderr", () => {
    const r = measure("json", ["--repeat", "2", "--json"], ["sh", "-c", "echo hi; echo oops >&2"]);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.runs).toHaveLength(2);
    expect(r.stderr.match(/^hi$/gm)).toHaveLength(2);
    expect(r.stderr.match(/^oops$/gm)).toHaveLength(2);
  });

  it("the table starts on a line of its own after output without a newline; warnings go to stderr", () => {
    const r = measure("fresh-line", ["--repeat", "2"], ["sh", "-c", "printf hi"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^hihi\nsh -c 'printf hi': 2 runs {2}\[ESTIMATED/);
    expect(r.stdout).not.toMatch(/warning:/);
    expect(r.stderr).toMatch(/^warning: energy is ESTIMATED/m);
  });

  it("into a file: a newline only where the command's output lacks one", () => {
    for (const [name, printed, expected] of [
      ["no-newline", "printf hi", "hi\n"],
      ["newline", "echo hi", "hi\n"],
    ] as const) {
      const file = join(scratch, `${name}.txt`);
      const emp = [process.execPath, main, "measure", "--baseline", "0.1", "--warmup", "0", "--repeat", "1"];
      const line = `${emp.join(" ")} --out ${join(scratch, name)} -- sh -c '${printed}' > ${file} 2>/dev/null`;
      spawnSync("sh", ["-c", line], { encoding: "utf8" });
      expect(readFileSync(file, "utf8").startsWith(`${expected}sh -c '${printed}': 1 run`)).toBe(true);
    }
  });
});

describe("runs whose command failed", () => {
  it("are left out of the statistics, counted, and named first; exit 1", () => {
    const r = measure("some-fail", ["--repeat", "3", "--json"], failsAfterFirst("some-fail"));
    expect(r.status).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s.failed_runs).toBe(2);
    expect(s.runs_counted).toBe(1);
    expect(s.failures_included).toBe(false);
    // The statistics are of the one run that did its work.
    expect(s.domains.cpu.mean_j).toBe(s.runs[0].energy_j.cpu);
    expect(s.duration.median_s).toBe(s.runs[0].duration_s);
    expect(s.warnings).toContain("run 2: exited with 1: a failed run, kept in runs.arrow");
    // The whole record is kept.
    const runs = tableFromIPC(readFileSync(join(r.out, "runs.arrow")));
    expect([...(runs.getChild("exit_code")?.toArray() ?? [])]).toEqual([0, 1, 1]);

    const text = measure("some-fail-text", ["--repeat", "3"], failsAfterFirst("some-fail-text"));
    // The header, then what failed.
    expect(text.stdout).toMatch(
      /: 3 runs {2}\[ESTIMATED[^\n]*\n2 of 3 runs failed \(first: run 2 exited with 1\): left out of the statistics \(--include-failed counts them\)\n/,
    );
    // One run: no interval, no spread.
    expect(text.stdout).toMatch(/duration: .* \(one run: no spread\)/);
    expect(text.stdout).toMatch(/^cpu +estimate +\S+ +- +/m);
  });

  it("--include-failed counts them", () => {
    const r = measure(
      "include-failed",
      ["--repeat", "3", "--json", "--include-failed"],
      failsAfterFirst("inc"),
    );
    const s = JSON.parse(r.stdout);
    expect(s.failed_runs).toBe(2);
    expect(s.runs_counted).toBe(3);
    expect(s.failures_included).toBe(true);
    const mean = (s.runs[0].energy_j.cpu + s.runs[1].energy_j.cpu + s.runs[2].energy_j.cpu) / 3;
    expect(s.domains.cpu.mean_j).toBeCloseTo(mean, 12);
  });

  it("every run failed: exit 1, 'every run failed' with the first error, no energy table", () => {
    const r = measure("all-fail", ["--repeat", "2", "--warmup", "1"], ["sh", "-c", "exit 127"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^emp: every run failed: run 1 exited with 127 \(command not found\)$/m);
    expect(r.stderr).toMatch(/^ {2}fix: run `sh -c 'exit 127'` by hand/m);
    // Warmups and runs are numbered apart, each from 1.
    expect(r.stderr).toMatch(/^warning: warmup 1: exited with 127/m);
    expect(r.stderr).toMatch(/^warning: run 1: exited with 127/m);
    expect(r.stderr).toMatch(/^warning: run 2: exited with 127/m);

    const json = measure("all-fail-json", ["--repeat", "2", "--json"], ["sh", "-c", "exit 127"]);
    expect(json.status).toBe(1);
    const s = JSON.parse(json.stdout);
    expect(s.domains).toEqual({});
    expect(s.runs_counted).toBe(0);
    expect(json.stderr).toMatch(/every run failed/);
  });

  it("emp report leaves them out and says so; every run failed is exit 1", () => {
    const some = measure("report-some", ["--repeat", "3", "--label", "a"], failsAfterFirst("report-some"));
    const r = runEmp(["report", "--json", some.out]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.groups[0].runs).toBe(1);
    expect(report.warnings).toContain(
      "2 of 3 runs failed (exit != 0 or a signal): left out of the statistics (--include-failed counts them)",
    );
    const included = JSON.parse(runEmp(["report", "--json", "--include-failed", some.out]).stdout);
    expect(included.groups[0].runs).toBe(3);

    const none = measure("report-none", ["--repeat", "2"], ["sh", "-c", "exit 127"]);
    const failed = runEmp(["report", none.out]);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(
      /every run in .* failed \(the first exited with 127 \(command not found\)\)/,
    );
    expect(failed.stderr).toMatch(/fix: .*--include-failed/);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
  });

  it("emp run of the starter config where ./bench does not exist: exit 1, no table of energies", () => {
    const repo = join(scratch, "starter-repo");
    mkdirSync(repo);
    const git = (...args: string[]) =>
      execFileSync(
        "git",
        ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", ...args],
        {
          cwd: repo,
        },
      );
    git("init", "-q", "-b", "main");
    writeFileSync(join(repo, "README"), "no benchmark here\n");
    git("add", "-A");
    git("commit", "-q", "-m", "first");
    const config = join(repo, "emp.yaml");
    expect(runEmp(["init", config]).status).toBe(0);
    const out = join(scratch, "starter-out");
    const r = runEmp(["run", config, "--repeat", "2", "--warmup", "0", "--baseline", "0.1", "--out", out]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^emp: every run failed: [0-9a-f]{7} run 1 exited with 127 \(command not found\)$/m,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("the phases of samples.arrow", () => {
  let tree: FixtureTree;
  let writer: EnergyWriter;
  beforeAll(async () => {
    tree = FixtureTree.create();
    writeCpuTopology(tree, 1, 2);
    const energy = powercapZone(tree, {
      id: "intel-rapl:0",
      name: "package-0",
      maxEnergyRangeUj: 2 ** 32 - 1,
    });
    writer = await EnergyWriter.start(tree, [
      { format: "text", path: energy, unitJ: 1e-6, wrap: 2 ** 32, idleW: 5 },
    ]);
  });
  afterAll(async () => {
    await writer.stop();
    tree.remove();
  });

  function phases(name: string, cooldown: string) {
    const out = join(scratch, name);
    const r = runEmp(
      [
        "measure",
        "--repeat",
        "3",
        "--warmup",
        "0",
        "--baseline",
        "0.2",
        "--cooldown",
        cooldown,
        "--out",
        out,
        "--",
        "sleep",
        "0.05",
      ],
      { EMP_SYSFS_ROOT: tree.root },
    );
    expect(r.status, r.stderr).toBe(0);
    const samples = tableFromIPC(readFileSync(join(out, "samples.arrow")));
    const phase = samples.getChild("phase")?.toArray() as string[];
    const t = samples.getChild("t_ns")?.toArray() as BigInt64Array;
    const count = (p: string) => phase.filter((x) => x === p).length;
    const cooldownTicks = phase.flatMap((x, i) => (x === "cooldown" ? [t[i] as bigint] : []));
    return { count, cooldownTicks };
  }

  it("--cooldown 0 tags no tick cooldown: the time between runs is `between`", () => {
    const { count } = phases("no-cooldown", "0");
    expect(count("cooldown")).toBe(0);
    expect(count("between")).toBeGreaterThan(0);
    expect(count("run")).toBeGreaterThan(0);
  });

  it("--cooldown 0.3: the ticks tagged cooldown lie within the two 0.3 s cooldowns", () => {
    const { count, cooldownTicks } = phases("cooldown", "0.3");
    expect(count("cooldown")).toBeGreaterThan(0);
    // Two gaps between three runs; each cooldown's ticks span at most its sleep (a timer fires late,
    // never early) plus a drain interval on either side.
    const spanS = Number((cooldownTicks.at(-1) ?? 0n) - (cooldownTicks[0] ?? 0n)) / 1e9;
    expect(spanS).toBeGreaterThan(0.3);
  });
});

describe("plots of the estimate", () => {
  it("carry the ESTIMATED mark", () => {
    const r = measure("plot-estimate", ["--repeat", "3", "--label", "a"], ["true"]);
    expect(r.status, r.stderr).toBe(0);
    const svg = join(scratch, "estimate.svg");
    const p = runEmp(["plot", r.out, "-o", svg, "--kind", "distribution"]);
    expect(p.status, p.stderr).toBe(0);
    expect(readFileSync(svg, "utf8")).toMatch(/ESTIMATED/);
  });
});

// A pseudo-terminal from util-linux's script(1), so that emp's stderr is a terminal.
const script = ["/usr/bin/script", "/bin/script"].find(existsSync);

describe.skipIf(script === undefined)("progress on a terminal", () => {
  if (script === undefined) console.log("skipped: no script(1) here to give emp a terminal");

  function inTerminal(line: string): string {
    return spawnSync(script as string, ["-qefc", line, "/dev/null"], { encoding: "utf8", timeout: 60_000 })
      .stdout;
  }

  it("counts the baseline down, shows each run's elapsed time, and starts the table on a line of its own", () => {
    const out = join(scratch, "tty");
    const text = inTerminal(
      `${process.execPath} ${main} measure --baseline 1 --repeat 2 --warmup 1 --out ${out} -- sleep 0.6`,
    );
    expect(text).toMatch(/baseline: 0\.\d s left/);
    expect(text).toMatch(/warmup 1\/1 {2}0\.\d s/);
    expect(text).toMatch(/run 1\/2 {2}0\.\d s {2}ETA/);
    expect(text).toMatch(/run 2\/2 {2}0\.6\d\d s {2}exit 0/);
    // The status line ends before the table: its header is at the start of a line.
    expect(text.replaceAll("\u001b[K", "")).toMatch(/\n(?: *\r)?sleep 0\.6: 2 runs/);
  });

  it("says so when the run waits on a standard input that is not the terminal", async () => {
    // The pipe's writer is a sleep that ends only when the test, having seen the message, kills it:
    // no timing to guess on a loaded machine. Its odd length names it for pkill (anchored: the
    // shell and script(1) have it in their command lines too).
    const writer = "sleep 59.123";
    const out = join(scratch, "stdin");
    const child = spawn(
      script as string,
      [
        "-qefc",
        `${writer} | ${process.execPath} ${main} measure --baseline 0.1 --repeat 1 --warmup 0 --out ${out} -- head -c 1`,
        "/dev/null",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let text = "";
    const done = new Promise<number | null>((resolve) => child.on("close", resolve));
    child.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (/waiting on standard input/.test(text)) spawnSync("pkill", ["-f", `^${writer}`]);
    });
    expect(await done).toBe(0);
    expect(text).toMatch(/run 1\/1 {2}\d+\.\d s {2}waiting on standard input/);
    expect(text).toMatch(/head -c 1: 1 run/);
  }, 70_000);
});

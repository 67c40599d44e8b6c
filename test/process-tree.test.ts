// The measured command's whole process tree belongs to its run: descendants still alive when the
// command exits are ended and counted (or waited for), a timeout or a signal to emp ends the tree,
// and the tree is held in a cgroup of emp's own where one can be made, else in a process group.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EstimateBackend } from "../src/measure/estimate-backend.js";
import { Meter } from "../src/measure/meter.js";
import { addon, type ContainmentMode } from "../src/native.js";
import { MeasuredChild, scaledCount } from "../src/sampling/child.js";
import { runEmp } from "./helpers/emp-cli.js";
import { alive } from "./helpers/proc.js";

const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const addonPath = fileURLToPath(new URL("../build/Release/emp.node", import.meta.url));
const support = addon.containment();
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "emp-tree-"));
  if (support.kind !== "cgroup")
    console.log(`skipped: the cgroup cases need a writable cgroup v2: ${support.reason}`);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Waits (up to 10 s, for a loaded machine) until none of `pids` is alive; returns those still alive. */
async function survivors(pids: number[]): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return pids.filter(alive);
}

function pidsIn(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split(/\s+/).filter(Boolean).map(Number);
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const modes: ContainmentMode[] = support.kind === "cgroup" ? ["cgroup", "process-group"] : ["process-group"];

describe.each(modes)("a command's process tree, held in a %s", (containment) => {
  it("ends a grandchild still running when the command exits, and counts it", async () => {
    const pidFile = join(scratch, `grandchild-${containment}`);
    const child = MeasuredChild.start({
      file: "sh",
      args: ["-c", `sleep 77 & echo $! > ${pidFile}`],
      containment,
      killGraceMs: 200,
    });
    expect(child.containment.kind).toBe(containment);
    const exit = await child.wait();
    expect(exit.exitCode).toBe(0);
    expect(exit.descendants).toBe(1);
    expect(exit.treeLeft).toBe(false);
    const [grandchild] = pidsIn(pidFile);
    expect(grandchild).toBeGreaterThan(0);
    // Ended before wait() resolved: no waiting needed.
    expect(alive(grandchild as number)).toBe(false);
  });

  it("ends with SIGKILL a descendant that ignores SIGTERM, after the grace period", async () => {
    const pidFile = join(scratch, `stubborn-${containment}`);
    const child = MeasuredChild.start({
      file: "sh",
      args: ["-c", `trap '' TERM; sleep 77 & echo $! > ${pidFile}`],
      containment,
      killGraceMs: 100,
    });
    const exit = await child.wait();
    expect(exit.descendants).toBe(1);
    expect(exit.treeLeft).toBe(false);
    expect(alive(pidsIn(pidFile)[0] as number)).toBe(false);
  });

  it("waits for the whole tree with waitDescendants, and its counters count every process", async () => {
    // The grandchild's busy loop runs after the command has exited.
    const busy = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done";
    const child = MeasuredChild.start({
      file: "sh",
      args: ["-c", `sh -c '${busy}' & exit 0`],
      containment,
      waitDescendants: true,
      counters: ["task-clock"],
    });
    const exit = await child.wait();
    expect(exit.descendants).toBeGreaterThanOrEqual(1);
    const taskClock = exit.counters["task-clock"];
    expect(taskClock).toBeDefined();
    // The loop costs ~100-300 ms of CPU (CPU time, so a loaded machine does not change it): the
    // run lasted at least that, and the inherited counter holds the grandchild's share.
    const cpuS = scaledCount(taskClock ?? { value: 0n, enabledNs: 0n, runningNs: 0n }) / 1e9;
    expect(cpuS).toBeGreaterThan(0.03);
    expect(Number(exit.endNs - exit.startNs) / 1e9).toBeGreaterThanOrEqual(cpuS * 0.9);
    if (containment === "cgroup") {
      expect(exit.treeCpuNs).not.toBeNull();
      // The cgroup's usage covers the same processes (to its microsecond resolution).
      expect(Number(exit.treeCpuNs) / 1e9).toBeGreaterThanOrEqual(cpuS * 0.9);
    } else {
      expect(exit.treeCpuNs).toBeNull();
    }
  });

  it("a timeout ends the whole tree, not just the shell", async () => {
    const pidFile = join(scratch, `timeout-${containment}`);
    const meter = new Meter(new EstimateBackend("estimated for a test"), { counters: [], containment });
    meter.start();
    const run = await meter.measure(
      { file: "sh", args: ["-c", `sleep 77 & echo $! > ${pidFile}; sleep 60`], timeoutS: 0.3 },
      false,
      {},
    );
    meter.stop();
    expect(run?.timedOut).toBe(true);
    expect(run?.containment.kind).toBe(containment);
    expect(await survivors(pidsIn(pidFile))).toEqual([]);
  });
});

describe.runIf(support.kind === "cgroup")("the cgroup emp makes", () => {
  const parent = support.kind === "cgroup" ? support.parent : "";
  const cgroups = () =>
    readdirSync(parent, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();

  it("holds the command, is its own, and is removed after the run; no other cgroup changes", async () => {
    const before = cgroups();
    const child = MeasuredChild.start({
      file: "sh",
      args: ["-c", "cat /proc/self/cgroup; sleep 0.2"],
      containment: "cgroup",
      stdout: join(scratch, "cgroup.txt"),
    });
    const path = child.containment.path ?? "";
    expect(path.startsWith(`${parent}/emp-`)).toBe(true);
    expect(existsSync(path)).toBe(true);
    await child.wait();
    const inside = readFileSync(join(scratch, "cgroup.txt"), "utf8");
    expect(inside).toContain(`0::`);
    expect(inside.trim().endsWith(path.slice(path.lastIndexOf("/")))).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect(cgroups()).toEqual(before);
  });
});

describe.runIf(support.kind === "cgroup")("cgroups left by an emp that was killed outright", () => {
  const parent = support.kind === "cgroup" ? support.parent : "";

  it("are emptied and removed before the next session's baseline; no other cgroup is touched", async () => {
    // A pid that no longer lives names the killed emp; a live one (this test's sleep) another emp.
    const gone = spawnSync("true").pid as number;
    const orphan = join(parent, `emp-${gone}-1`);
    const living = spawn("sleep", ["60"]);
    const keptEmp = join(parent, `emp-${living.pid}-1`);
    const notEmp = join(parent, `emp-test-${process.pid}`);
    const leftover = spawn("sleep", ["77"]);
    try {
      for (const dir of [orphan, keptEmp, notEmp]) mkdirSync(dir);
      writeFileSync(join(orphan, "cgroup.procs"), String(leftover.pid));
      const found = addon.containment();
      expect(found.kind === "cgroup" && found.orphansEnded).toBe(1);
      expect(await survivors([leftover.pid as number])).toEqual([]);
      expect(existsSync(orphan)).toBe(false);
      expect(existsSync(keptEmp)).toBe(true);
      expect(existsSync(notEmp)).toBe(true);
    } finally {
      living.kill("SIGKILL");
      leftover.kill("SIGKILL");
      for (const dir of [orphan, keptEmp, notEmp]) if (existsSync(dir)) rmdirSync(dir);
    }
  });
});

describe("the measured command's file descriptors", () => {
  it("inherits none of emp's own beyond stdin, stdout and stderr", () => {
    // A Node process whose fd 3 is open without close-on-exec (as spawn passes extra stdio), like
    // a descriptor some library opened carelessly: the command must not see it.
    const marker = join(scratch, "leaked-fd-marker");
    const script = `
      const addon = require(${JSON.stringify(addonPath)});
      const child = new addon.Child({ file: "ls", args: ["-l", "/proc/self/fd"], stdout: ${JSON.stringify(join(scratch, "fds.txt"))} });
      child.wait().then(() => process.exit(0));`;
    const result = spawnSync(process.execPath, ["-e", script], {
      stdio: ["ignore", "pipe", "pipe", openSync(marker, "w")],
      encoding: "utf8",
    });
    expect(result.status, result.stderr).toBe(0);
    const listing = readFileSync(join(scratch, "fds.txt"), "utf8");
    expect(listing).toContain("/proc/"); // ls's own descriptor of the listed directory
    expect(listing).not.toContain(marker);
  });
});

describe("emp measure and its signals", () => {
  it("ends the grandchildren of every run before the next, and warns on each run", () => {
    const pidFile = join(scratch, "measure-pids");
    const aliveFile = join(scratch, "measure-alive");
    const out = join(scratch, "measure-tree");
    // Each run first notes any earlier run's grandchild still alive (state not Z), then starts one.
    const check = `for p in $(cat ${pidFile} 2>/dev/null); do s=$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ] && echo $p >> ${aliveFile}; done`;
    const result = runEmp([
      "measure",
      "--json",
      "--repeat",
      "2",
      "--warmup",
      "0",
      "--baseline",
      "0.1",
      "--out",
      out,
      "--",
      "sh",
      "-c",
      `${check}; sleep 77 & echo $! >> ${pidFile}`,
    ]);
    expect(result.status, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { runs: { descendants: number }[]; warnings: string[] };
    expect(summary.runs.map((r) => r.descendants)).toEqual([1, 1]);
    expect(summary.warnings.filter((w) => /1 descendant process still running/.test(w))).toHaveLength(2);
    const runs = tableFromIPC(readFileSync(join(out, "runs.arrow")));
    const warnings = runs.getChild("warnings")?.toArray() ?? [];
    expect(warnings).toHaveLength(2);
    for (const w of warnings) expect(JSON.stringify(w)).toContain("descendant process");
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.provenance.containment.kind).toBe(support.kind);
    const pids = pidsIn(pidFile);
    expect(pids).toHaveLength(2);
    expect(pidsIn(aliveFile)).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
  });

  it("--wait-descendants measures until the last descendant ends", () => {
    const result = runEmp([
      "measure",
      "--json",
      "--repeat",
      "1",
      "--warmup",
      "0",
      "--baseline",
      "0.1",
      "--wait-descendants",
      "--",
      "sh",
      "-c",
      "sleep 0.4 & exit 0",
    ]);
    expect(result.status, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      runs: { duration_s: number; descendants: number }[];
      warnings: string[];
    };
    expect(summary.runs[0]?.descendants).toBe(1);
    expect(summary.runs[0]?.duration_s).toBeGreaterThanOrEqual(0.4);
    expect(summary.warnings.some((w) => /descendant/.test(w))).toBe(false);
  });

  const signals: Array<[NodeJS.Signals, number]> = [
    ["SIGTERM", 143],
    ["SIGHUP", 129],
    ["SIGINT", 130],
  ];
  it.each(signals)(
    "%s to emp ends the run's tree, keeps the runs done and exits %i",
    async (signal, code) => {
      const pidFile = join(scratch, `signal-${signal}`);
      const out = join(scratch, `signal-${signal}-out`);
      // Run 0 ends quickly; run 1 starts its grandchild and then waits.
      const command = `sleep 77 & echo $! >> ${pidFile}; [ $(wc -l < ${pidFile}) -ge 2 ] && sleep 60; exit 0`;
      const emp = measureUntilTold(out, command, ["--json"]);
      const exited = exitOf(emp);
      await until("the second run's grandchild", () => pidsIn(pidFile).length >= 2);
      emp.kill(signal);
      const { status, stdout } = await exited;
      expect(status).toBe(code);
      const summary = JSON.parse(stdout) as { interrupted: boolean; runs: unknown[] };
      expect(summary.interrupted).toBe(true);
      expect(summary.runs).toHaveLength(1);
      expect(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).state).toBe("interrupted");
      expect(await survivors(pidsIn(pidFile))).toEqual([]);
    },
  );

  it("a second Ctrl-C stops at once and still leaves readable files", async () => {
    const pidFile = join(scratch, "second-sigint");
    const out = join(scratch, "second-sigint-out");
    // A tree that ignores SIGTERM: the first Ctrl-C alone would wait out the grace period.
    const command = `trap '' TERM INT; sleep 77 & echo $! >> ${pidFile}; [ $(wc -l < ${pidFile}) -ge 2 ] && sleep 60; exit 0`;
    const emp = measureUntilTold(out, command);
    const exited = exitOf(emp);
    await until("the second run's grandchild", () => pidsIn(pidFile).length >= 2);
    emp.kill("SIGINT");
    await until("emp to take the first signal", () => stderrOf(emp).includes("SIGINT received"));
    emp.kill("SIGINT");
    const { status } = await exited;
    expect(status).toBe(130);
    expect(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).state).toBe("interrupted");
    expect(tableFromIPC(readFileSync(join(out, "runs.arrow"))).numRows).toBe(1);
    // Closed with its footer: an Arrow file reader accepts it.
    expect(() => tableFromIPC(readFileSync(join(out, "samples.arrow")))).not.toThrow();
    expect(existsSync(join(out, ".samples.arrow.journal"))).toBe(false);
    expect(await survivors(pidsIn(pidFile))).toEqual([]);
  });
});

/**
 * `emp measure` of `sh -c command`, 5 runs, started in the background for a test to signal: the
 * command decides (from its pid file) which run waits.
 */
function measureUntilTold(out: string, command: string, extra: string[] = []): ChildProcess {
  const args = ["measure", ...extra, "--repeat", "5", "--warmup", "0", "--baseline", "0.1", "--out", out];
  return spawn(process.execPath, [main, ...args, "--", "sh", "-c", command], {
    stdio: ["ignore", "pipe", "pipe"],
  });
}

const stderrText = new WeakMap<ChildProcess, string>();

function stderrOf(child: ChildProcess): string {
  return stderrText.get(child) ?? "";
}

function exitOf(child: ChildProcess): Promise<{ status: number | null; stdout: string }> {
  let stdout = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderrText.set(child, stderrOf(child) + d);
  });
  return new Promise((resolve) => child.once("exit", (status) => resolve({ status, stdout })));
}

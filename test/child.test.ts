// The measured command: counters attached before exec, timestamps on the sampler's clock,
// exit status, kill, and the errors a user can act on.
import { describe, expect, it } from "vitest";
import { SpawnError } from "../src/errors.js";
import { addon } from "../src/native.js";
import { MeasuredChild, runCommand } from "../src/sampling/child.js";

const perf = addon.probe(["perf"])[0];
const cyclesDetail = perf?.details.cycles ?? "the perf source was not probed";
const hasHardwareCounters = cyclesDetail.startsWith("available");

describe("runCommand", () => {
  it("counts task-clock for a command that spins one CPU for 200 ms: at most its wall time, as its cgroup says", async () => {
    // timeout(1) sleeps while sh spins; it ends sh with SIGTERM after 200 ms of wall time.
    const result = await runCommand({
      file: "timeout",
      args: ["0.2", "sh", "-c", "while :; do :; done"],
      counters: ["task-clock", "context-switches"],
    });
    const task = result.counters["task-clock"];
    expect(task).toBeDefined();
    const taskMs = Number(task?.value) / 1e6;
    console.log(
      `task-clock of a 200 ms spin: ${taskMs.toFixed(1)} ms, wall ${Number(result.durationNs) / 1e6} ms`,
    );
    expect(result.exitCode).toBe(124);
    // One spinning thread gets at most the wall time in CPU, and on a loaded machine less: how much
    // less is the machine's, so the lower bound only excludes a counter that missed the spin.
    const wallMs = Number(result.durationNs) / 1e6;
    expect(taskMs).toBeLessThan(wallMs * 1.02 + 2);
    expect(taskMs).toBeGreaterThan(wallMs * 0.2);
    // The cgroup's own CPU time of the same tree, where there is one, is the independent check.
    if (result.treeCpuNs !== null)
      expect(Math.abs(Number(result.treeCpuNs) / 1e6 - taskMs)).toBeLessThan(taskMs * 0.05 + 2);
    // Software events never multiplex: the counter ran the whole time it was enabled.
    expect(task?.runningNs).toBe(task?.enabledNs);
    expect(result.counters["context-switches"]?.value).toBeGreaterThanOrEqual(0n);
  });

  it("timestamps start and end on the monotonic clock, bracketing a 300 ms sleep", async () => {
    const before = addon.now();
    const child = MeasuredChild.start({ file: "sleep", args: ["0.3"] });
    const result = await child.wait();
    const after = addon.now();
    expect(child.startNs).toBe(result.startNs);
    expect(result.startNs).toBeGreaterThan(before);
    expect(result.endNs).toBeLessThanOrEqual(after);
    const ms = Number(result.durationNs) / 1e6;
    console.log(`sleep 0.3 measured ${ms.toFixed(2)} ms between exec and exit`);
    expect(ms).toBeGreaterThanOrEqual(300);
    expect(ms).toBeLessThan(400);
    expect(result.exitCode).toBe(0);
  });

  it("reports hardware counters this machine lacks as skipped, and counts the rest", async () => {
    const result = await runCommand({ file: "true", counters: ["cycles", "instructions", "task-clock"] });
    expect(result.counters["task-clock"]?.value).toBeGreaterThan(0n);
    if (hasHardwareCounters) {
      expect(result.skipped).toEqual([]);
      return;
    }
    expect(result.skipped.map((s) => s.name)).toEqual(["cycles", "instructions"]);
    for (const s of result.skipped) {
      expect(s.code).toBe("E_UNSUPPORTED");
      expect(s.reason).toMatch(/no hardware performance counters/);
    }
    expect(result.counters.cycles).toBeUndefined();
  });

  it("fails with E_SPAWN and a suggestion when the command does not exist", () => {
    let caught: unknown;
    try {
      MeasuredChild.start({ file: "emp-no-such-command-xyz" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SpawnError);
    const error = caught as SpawnError;
    expect(error.code).toBe("E_SPAWN");
    expect(error.message).toBe("command not found: emp-no-such-command-xyz");
    expect(error.suggestion).toMatch(/full path/);
  });

  it("fails with E_SPAWN when the working directory does not exist", () => {
    expect(() => MeasuredChild.start({ file: "true", cwd: "/nonexistent-emp-dir" })).toThrow(SpawnError);
  });

  it("reports the exit code", async () => {
    const result = await runCommand({ file: "sh", args: ["-c", "exit 3"] });
    expect(result.exitCode).toBe(3);
    expect(result.signal).toBeNull();
  });

  it("kills by signal and reports it; a later kill says the child is gone", async () => {
    const child = MeasuredChild.start({ file: "sleep", args: ["10"] });
    expect(child.kill("SIGTERM")).toBe(true);
    const result = await child.wait();
    expect(result.signal).toBe("SIGTERM");
    expect(result.exitCode).toBeNull();
    expect(Number(result.durationNs) / 1e6).toBeLessThan(5000);
    expect(child.kill("SIGKILL")).toBe(false);
  });

  it("passes args, env, cwd and redirects stdout", async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "emp-child-"));
    try {
      const out = join(dir, "out.txt");
      const result = await runCommand({
        file: "sh",
        args: ["-c", 'printf "%s %s %s" "$1" "$EMP_TEST_VAR" "$(pwd)"', "sh", "arg-one"],
        env: { EMP_TEST_VAR: "from-env", PATH: "/usr/bin:/bin" },
        cwd: dir,
        stdout: out,
      });
      expect(result.exitCode).toBe(0);
      expect(readFileSync(out, "utf8")).toBe(`arg-one from-env ${dir}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasHardwareCounters)("counts instructions where hardware counters exist", async () => {
    const result = await runCommand({ file: "true", counters: ["instructions"] });
    expect(result.counters.instructions?.value).toBeGreaterThan(0n);
  });
  if (!hasHardwareCounters) console.log(`skipping the instructions test: ${cyclesDetail}`);
});

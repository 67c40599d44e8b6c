// The sampler thread's life: stopped on request, on worker exit, on process exit, on garbage
// collection; and a full ring counts every dropped tick.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EmpError } from "../src/errors.js";
import { Sampler } from "../src/sampling/sampler.js";

const script = fileURLToPath(new URL("./lifecycle/sampler-script.mjs", import.meta.url));

/**
 * Threads named emp-sampler in this process. A thread listed in /proc/self/task can end before its
 * comm is read (the pool's and vitest's threads come and go): it is gone, so it is not counted.
 */
function samplerThreads(): number {
  return readdirSync("/proc/self/task").filter((tid) => {
    try {
      return readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim() === "emp-sampler";
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ESRCH") return false;
      throw error;
    }
  }).length;
}

function runScript(mode: string, nodeFlags: string[] = []) {
  return spawnSync(process.execPath, [...nodeFlags, script, mode], { encoding: "utf8", timeout: 10_000 });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("sampler lifecycle", () => {
  it("stops and joins while sampling, once, and cannot be restarted", async () => {
    const before = samplerThreads();
    const sampler = new Sampler({ sampleHz: 2000, sources: [] });
    expect(sampler.state).toBe("idle");
    sampler.start();
    expect(sampler.state).toBe("running");
    expect(samplerThreads()).toBe(before + 1);
    await sleep(100);
    sampler.stop();
    sampler.stop();
    expect(sampler.state).toBe("stopped");
    expect(samplerThreads()).toBe(before);
    const ticks = sampler.stats().ticks;
    await sleep(20);
    expect(sampler.stats().ticks).toBe(ticks);
    expect(sampler.drain().ticks).toBe(ticks);
    expect(() => sampler.start()).toThrow(EmpError);
  });

  it("counts every tick dropped by a full ring, exactly", async () => {
    const sampler = new Sampler({ sampleHz: 2000, ringTicks: 16, sources: [] });
    sampler.start();
    await sleep(150);
    sampler.stop();
    const stats = sampler.stats();
    expect(stats.ringTicks).toBe(16);
    expect(stats.ticks).toBeGreaterThan(100);
    expect(stats.dropped).toBe(stats.ticks - 16);
    const batch = sampler.drain();
    expect(batch.ticks).toBe(16);
    // The oldest ticks were kept (the ring drops the newest when full): all 16 lie in the first
    // few milliseconds of a 150 ms run.
    const t = batch.raw.tNs;
    expect(Number((t[0] ?? 0n) - stats.startedNs)).toBeLessThan(1e6);
    expect(Number((t[15] ?? 0n) - stats.startedNs)).toBeLessThan(30e6);
  });

  it("a ring drained in time drops nothing", async () => {
    const sampler = new Sampler({ sampleHz: 2000, ringTicks: 64, sources: [] });
    sampler.start();
    let drained = 0;
    for (let i = 0; i < 20; i++) {
      await sleep(10);
      drained += sampler.drain().ticks;
    }
    sampler.stop();
    drained += sampler.drain().ticks;
    expect(sampler.stats().dropped).toBe(0);
    expect(drained).toBe(sampler.stats().ticks);
  });

  it("is stopped when a worker thread exits with it running", () => {
    const result = runScript("worker-host");
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { during: number; after: number; workerExit: number };
    expect(report).toEqual({ during: 1, after: 0, workerExit: 0 });
  });

  it("lets a process exit with the sampler running, by process.exit or by running out of work", () => {
    for (const mode of ["exit", "natural"]) {
      const result = runScript(mode);
      expect(result.signal, `${mode}: ${result.stderr}`).toBeNull();
      expect(result.status, `${mode}: ${result.stderr}`).toBe(0);
    }
  });

  it("is stopped when its JS object is garbage collected", () => {
    const result = runScript("gc", ["--expose-gc"]);
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ threadsAfterGc: 0 });
  });

  it("reports a thread that cannot start as a typed error, and stays idle and startable", () => {
    if (spawnSync("prlimit", ["--version"]).status !== 0) {
      console.log("skipped: prlimit (util-linux) is not installed, so the thread cannot be starved");
      return;
    }
    const result = runScript("no-thread");
    expect(result.signal, result.stderr).toBeNull();
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        code: "E_IO",
        errno: 11, // EAGAIN from pthread_create
        message: "cannot start the sampler thread: Resource temporarily unavailable",
        suggestion: expect.stringMatching(/ran out of threads or memory/),
      },
      afterFailure: { state: "idle", threads: 0 },
      afterRetry: { state: "running", threads: 1 },
    });
  });
});

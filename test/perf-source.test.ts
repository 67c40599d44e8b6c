// The "perf" source: its probe on this machine and system-wide software counters in a sampler.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { addon } from "../src/native.js";
import { Sampler } from "../src/sampling/sampler.js";

/** The sampler thread of this process, found by the name it gives itself. */
function samplerThreadId(): string {
  const tid = readdirSync("/proc/self/task").find(
    (t) => readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim() === "emp-sampler",
  );
  if (tid === undefined) throw new Error("no emp-sampler thread in this process");
  return tid;
}

describe("perf source", () => {
  it("probes every event and names why hardware ones fail", () => {
    const [report] = addon.probe(["perf"]);
    expect(report?.kind).toBe("perf");
    const names = ["cycles", "instructions", "cache-misses", "branch-misses", "task-clock", "cpu-clock"];
    for (const name of names) expect(report?.details[name]).toBeDefined();
    // Software events work on every Linux this runs on, VM or not.
    expect(report?.status).toBe("available");
    expect(report?.details["task-clock"]).toMatch(/^available/);
    const task = report?.channels.find((c) => c.name === "task-clock");
    expect(task).toMatchObject({ quantity: "time", unit: "ns", scale: 1e-9 });
    if (!report?.details.cycles?.startsWith("available")) {
      expect(report?.details.cycles).toMatch(/^unsupported: .*no hardware performance counters/);
      expect(report?.reason).toMatch(/cycles/);
      expect(report?.fix).not.toBe("");
    }
  });

  it("samples system-wide task-clock that increases", async () => {
    const sampler = new Sampler({
      sampleHz: 200,
      sources: [{ kind: "perf", select: ["task-clock", "context-switches"] }],
    });
    expect(sampler.channels.map((c) => [c.name, c.domain, c.quantity])).toEqual([
      ["task-clock", "system", "time"],
      ["context-switches", "system", "count"],
    ]);
    sampler.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    sampler.stop();
    const batch = sampler.drain();
    expect(batch.ticks).toBeGreaterThan(20);
    const task = batch.channelNumbers(0);
    for (let i = 1; i < task.length; i++) expect(task[i]).toBeGreaterThanOrEqual(task[i - 1] ?? 0);
    const first = task[0] ?? 0;
    const last = task[task.length - 1] ?? 0;
    const spanS = Number((batch.raw.tNs[batch.ticks - 1] ?? 0n) - (batch.raw.tNs[0] ?? 0n)) / 1e9;
    const cpuS = (last - first) * 1e-9;
    console.log(`system-wide task-clock grew ${cpuS.toFixed(3)} s over ${spanS.toFixed(3)} s of samples`);
    expect(last).toBeGreaterThan(first);
    expect(sampler.stats().readErrors).toEqual([0]);
  });

  it("reads each CPU's system-wide events with one read() (PERF_FORMAT_GROUP)", async () => {
    const events = ["task-clock", "cpu-clock", "context-switches", "page-faults"];
    const sampler = new Sampler({ sampleHz: 200, sources: [{ kind: "perf", select: events }] });
    sampler.start();
    try {
      // The kernel's count of the sampler thread's read syscalls (syscr), against its ticks.
      const tid = samplerThreadId();
      const io = `/proc/self/task/${tid}/io`;
      const syscr = () => Number(/^syscr: (\d+)$/m.exec(readFileSync(io, "utf8"))?.[1]);
      const [reads0, ticks0] = [syscr(), sampler.stats().ticks];
      await new Promise((resolve) => setTimeout(resolve, 500));
      const [reads1, ticks1] = [syscr(), sampler.stats().ticks];
      const cpus = sampler.channels[0]?.origin.match(/on cpus (.*)$/)?.[1]?.split(",").length ?? 0;
      const perTick = (reads1 - reads0) / (ticks1 - ticks0);
      console.log(`${events.length} events on ${cpus} cpus: ${perTick.toFixed(2)} read() per tick`);
      expect(ticks1 - ticks0).toBeGreaterThan(10);
      // One per CPU (each pair of snapshots can straddle a tick: a wide margin); an fd per event
      // would make it 4 per CPU.
      expect(perTick).toBeGreaterThan(cpus * 0.5);
      expect(perTick).toBeLessThan(cpus * 2);
    } finally {
      sampler.stop();
    }
    expect(sampler.stats().readErrors).toEqual([0]);
  });

  it("rejects an unknown event name", () => {
    expect(() => new Sampler({ sampleHz: 100, sources: [{ kind: "perf", select: ["bogus"] }] })).toThrow(
      /unknown perf event: bogus/,
    );
  });

  it("refuses an explicitly selected hardware event this machine lacks", () => {
    const [report] = addon.probe(["perf"]);
    if (report?.details.cycles?.startsWith("available")) return;
    expect(() => new Sampler({ sampleHz: 100, sources: [{ kind: "perf", select: ["cycles"] }] })).toThrow(
      expect.objectContaining({ code: "E_UNSUPPORTED" }),
    );
  });
});

/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat on Linux. */
const CLOCK_TICKS_PER_S = 100;

describe("perf source for one process", () => {
  it("counts the CPU time of a spinning process it is pointed at", async () => {
    const { MeasuredChild } = await import("../src/sampling/child.js");
    const child = MeasuredChild.start({ file: "sh", args: ["-c", "while :; do :; done"] });
    try {
      const sampler = new Sampler({
        sampleHz: 100,
        sources: [{ kind: "perf", pid: child.pid, select: ["task-clock"] }],
      });
      expect(sampler.channels[0]).toMatchObject({ name: "task-clock", domain: "process" });
      // The kernel's own account of the process's CPU time (utime + stime, clock ticks) around
      // the sampled window: what the counter says must agree with it, however loaded the machine.
      const cpuMs = () => {
        const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
      };
      const beforeMs = cpuMs();
      const wallStart = Date.now();
      sampler.start();
      await new Promise((resolve) => setTimeout(resolve, 300));
      sampler.stop();
      const wallMs = Date.now() - wallStart;
      const kernelMs = cpuMs() - beforeMs;
      const task = sampler.drain().channelNumbers(0);
      const grewMs = ((task[task.length - 1] ?? 0) - (task[0] ?? 0)) / 1e6;
      console.log(
        `per-process task-clock of a spinning sh grew ${grewMs.toFixed(1)} ms; the kernel counted ${kernelMs} ms over ${wallMs} ms`,
      );
      // The window between the first and last ticks lies inside the kernel's: at most its count
      // (plus a tick of its 10 ms resolution), and short of it by no more than the moments before
      // the first tick and after the last one; never more than the wall time.
      expect(grewMs).toBeGreaterThan(0);
      expect(grewMs).toBeLessThanOrEqual(kernelMs + 20);
      expect(grewMs).toBeGreaterThan(kernelMs - 80);
      expect(grewMs).toBeLessThan(wallMs + 20);
    } finally {
      child.kill("SIGKILL");
      await child.wait();
    }
  });
});

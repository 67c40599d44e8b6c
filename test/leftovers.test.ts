// What a dead session's last run left running, found in its process group (the containment where
// emp can make no cgroup): named with their commands and a command that ends them, and only
// processes that started after the session's emp, so a reused group id names nothing.
import { execSync, spawn } from "node:child_process";
import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import type { SessionRow } from "../src/ledger/ledger.js";
import { readBootId } from "../src/ledger/liveness.js";
import { describeLeftovers, leftoverProcesses } from "../src/pipeline/leftovers.js";
import { processStartTicks } from "../src/util/process.js";
import { alive } from "./helpers/proc.js";

let group: number | undefined;

afterEach(() => {
  if (group === undefined) return;
  try {
    process.kill(-group, "SIGKILL");
  } catch {
    // ended by the test
  }
  group = undefined;
});

/** A shell in a process group of its own with two sleeping children, as a run's tree would be. */
async function tree(): Promise<number> {
  const child = spawn("sh", ["-c", "sleep 30 & sleep 30 & wait"], { detached: true, stdio: "ignore" });
  const pid = child.pid ?? 0;
  group = pid;
  child.unref();
  // Both sleeps exist once the group has two members named sleep: a member counted before it runs
  // exec is still a copy of sh (a loaded machine shows that for a while).
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const commands = execSync(`ps -o comm= -g ${pid} || true`, { encoding: "utf8" }).trim().split(/\s+/);
    if (commands.filter((c) => c === "sleep").length >= 2) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return pid;
}

function deadSession(overrides: Partial<SessionRow>): SessionRow {
  return {
    id: "s1",
    configHash: "a".repeat(64),
    config: {},
    origins: {},
    empVersion: "0.1.0",
    host: hostname(),
    pid: 999_999,
    bootId: readBootId(),
    // The test's own start: the tree below started after it, as a run starts after its emp.
    processStart: processStartTicks(process.pid),
    runGroup: null,
    runCgroup: null,
    state: "dead",
    startedAt: "2025-03-01T12:00:00.000Z",
    endedAt: null,
    error: null,
    measuredRuns: 0,
    warmupRuns: 0,
    ...overrides,
  };
}

describe("leftoverProcesses in a process group", () => {
  it("names the shell and both sleeps, and the command it gives ends them all", async () => {
    const pid = await tree();
    const left = leftoverProcesses(deadSession({ runGroup: pid }));
    expect(left?.where).toBe(`process group ${pid}`);
    expect(left?.processes.map((p) => p.command).sort()).toEqual(["sh", "sleep", "sleep"]);
    expect(left?.processes.map((p) => p.pid)).toContain(pid);
    const line = describeLeftovers(
      "s1",
      "its process (pid 999999) is gone",
      left as NonNullable<typeof left>,
    );
    expect(line).toMatch(
      new RegExp(
        `^session s1 is dead \\(its process \\(pid 999999\\) is gone\\) but left 3 processes of its last run running in process group ${pid}: ${pid} \\(sh\\), \\d+ \\(sleep\\), \\d+ \\(sleep\\); .*end them with \`kill -TERM -${pid}\`$`,
      ),
    );
    execSync(left?.end ?? "false");
    const pids = left?.processes.map((p) => p.pid) ?? [];
    const deadline = Date.now() + 10_000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(pids.filter(alive)).toEqual([]);
    expect(leftoverProcesses(deadSession({ runGroup: pid }))).toBeUndefined();
  });

  it("names nothing for a group that started before the session (its id reused), on another host or boot", async () => {
    const pid = await tree();
    const start = processStartTicks(pid);
    if (start === null) return; // no /proc: nothing here can be found anyway
    expect(
      leftoverProcesses(deadSession({ runGroup: pid, processStart: start + 1_000_000 })),
    ).toBeUndefined();
    expect(leftoverProcesses(deadSession({ runGroup: pid, host: "far-host" }))).toBeUndefined();
    if (readBootId() !== null) {
      expect(leftoverProcesses(deadSession({ runGroup: pid, bootId: "an-earlier-boot" }))).toBeUndefined();
    }
    expect(leftoverProcesses(deadSession({ runGroup: pid }))?.processes).toHaveLength(3);
  });
});

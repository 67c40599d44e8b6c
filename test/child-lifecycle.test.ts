// A measured command must not outlive emp: worker teardown and process.exit both kill it.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { processState } from "./helpers/proc.js";

const addonPath = fileURLToPath(new URL("../build/Release/emp.node", import.meta.url));

async function settle(pid: number): Promise<string> {
  for (let i = 0; i < 50 && !["gone", "Z"].includes(processState(pid)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return processState(pid);
}

describe("child lifecycle", () => {
  it("kills a running child when its worker thread is terminated", async () => {
    const worker = new Worker(
      `const { parentPort } = require("node:worker_threads");
       const addon = require(${JSON.stringify(addonPath)});
       const child = new addon.Child({ file: "sleep", args: ["30"] });
       child.wait();
       parentPort.postMessage(child.pid);`,
      { eval: true },
    );
    const pid = await new Promise<number>((resolve) => worker.once("message", resolve));
    expect(["gone", "Z"]).not.toContain(processState(pid));
    await worker.terminate();
    expect(["gone", "Z"]).toContain(await settle(pid));
  });

  it("kills a running child when the process calls process.exit", async () => {
    const script = `const addon = require(${JSON.stringify(addonPath)});
      const child = new addon.Child({ file: "sleep", args: ["30"] });
      child.wait();
      process.stdout.write(String(child.pid));
      process.exit(0);`;
    const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 10_000 });
    expect(run.status).toBe(0);
    const pid = Number(run.stdout);
    expect(pid).toBeGreaterThan(0);
    // Reparented to init once emp is gone: killed shows as a zombie until init reaps it.
    expect(["gone", "Z"]).toContain(await settle(pid));
  });
});

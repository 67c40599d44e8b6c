// Runs a sampler in a separate process or worker for the lifecycle tests.
// usage: node sampler-script.mjs MODE   (MODE: exit | natural | gc | worker-host | no-thread)
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isMainThread, parentPort, Worker } from "node:worker_threads";

const require = createRequire(import.meta.url);
const addon = require("../../build/Release/emp.node");

// A thread that ends between the listing and the read (a worker's, as it exits) is not counted.
function threadName(tid) {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
  } catch (error) {
    if (error.code === "ENOENT" || error.code === "ESRCH") return null;
    throw error;
  }
}

export function samplerThreads() {
  return readdirSync("/proc/self/task").filter((tid) => threadName(tid) === "emp-sampler").length;
}

function startSampler() {
  const sampler = new addon.Sampler({ sampleHz: 1000, sources: [] });
  sampler.start();
  return sampler;
}

const mode = isMainThread ? process.argv[2] : "in-worker";

if (mode === "exit") {
  startSampler();
  setTimeout(() => process.exit(0), 50);
} else if (mode === "natural") {
  // Nothing keeps the event loop alive: the process ends while the thread samples.
  globalThis.keep = startSampler();
} else if (mode === "gc") {
  startSampler();
  setTimeout(() => {
    globalThis.gc();
    setTimeout(() => {
      globalThis.gc();
      console.log(JSON.stringify({ threadsAfterGc: samplerThreads() }));
    }, 100);
  }, 50);
} else if (mode === "in-worker") {
  globalThis.keep = startSampler();
  // Stays alive until the host has counted the threads, then ends by running out of work with the
  // sampler still running (closing the port leaves its event loop empty).
  parentPort.once("message", () => parentPort.close());
  parentPort.postMessage("started");
} else if (mode === "worker-host") {
  const worker = new Worker(new URL(import.meta.url));
  worker.once("message", () => {
    const during = samplerThreads();
    worker.once("exit", (code) => {
      console.log(JSON.stringify({ during, after: samplerThreads(), workerExit: code }));
    });
    worker.postMessage("exit");
  });
} else if (mode === "no-thread") {
  // The address space capped a little above what the process maps now: the thread's 8 MiB stack
  // cannot be mapped, so std::thread throws. Only the soft limit drops, so it can be raised again.
  const sampler = new addon.Sampler({ sampleHz: 1000, sources: [] });
  const mappedBytes = Number(/VmSize:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]) * 1024;
  const limit = (soft) => execFileSync("prlimit", ["--pid", String(process.pid), `--as=${soft}:unlimited`]);
  limit(mappedBytes + 4 * 2 ** 20);
  let error = null;
  try {
    sampler.start();
  } catch (e) {
    error = { code: e.code, errno: e.errno, message: e.message, suggestion: e.suggestion };
  }
  const afterFailure = { state: sampler.state(), threads: samplerThreads() };
  limit("unlimited");
  sampler.start();
  const afterRetry = { state: sampler.state(), threads: samplerThreads() };
  sampler.stop();
  console.log(JSON.stringify({ error, afterFailure, afterRetry }));
}

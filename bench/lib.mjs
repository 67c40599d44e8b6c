// Shared pieces of the benchmarks: arguments, the kernel-interface fixtures every bench reads,
// the sampler thread's CPU clock, the C reference programs, quantiles, tables and summaries.
import { execFileSync, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const benchDir = fileURLToPath(new URL(".", import.meta.url));

/**
 * Common flags: --quick (short durations), --json (figures as JSON), --summary FILE (where
 * run.mjs collects each bench's headline figures); `options` adds the bench's own.
 */
export function benchArgs(options = {}) {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      summary: { type: "string" },
      ...options,
    },
  });
  return values;
}

/** The powercap zones of a client Intel part (5 channels), values held still, on tmpfs. */
export function powercapFixture() {
  const root = mkdtempSync("/dev/shm/emp-bench-powercap-");
  const zones = [
    ["intel-rapl:0", "package-0"],
    ["intel-rapl:0:0", "core"],
    ["intel-rapl:0:1", "uncore"],
    ["intel-rapl:0:2", "dram"],
    ["intel-rapl:1", "psys"],
  ];
  const files = [];
  for (const [id, name] of zones) {
    const dir = join(root, "class/powercap", id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "name"), `${name}\n`);
    writeFileSync(join(dir, "energy_uj"), "123456789012\n");
    writeFileSync(join(dir, "max_energy_range_uj"), "262143328850\n");
    files.push(join(dir, "energy_uj"));
  }
  return {
    label: "powercap fixture",
    root,
    env: { EMP_SYSFS_ROOT: root },
    sources: [{ kind: "powercap" }],
    referenceArgs: files.flatMap((f) => ["--text", f]),
    nodeFiles: files.map((path) => ({ path, offset: 0, bytes: 32, text: true })),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

const INTEL_MSR = { powerUnit: 0x606, pkg: 0x611, pp0: 0x639, pp1: 0x641, dram: 0x619, psys: 0x64d };

/** RAPL MSRs of a client Intel part on one package (5 channels): a sparse file read at register offsets. */
export function msrFixture() {
  const root = mkdtempSync("/dev/shm/emp-bench-msr-");
  const cpusOnline = 2;
  mkdirSync(join(root, "devices/system/cpu"), { recursive: true });
  writeFileSync(join(root, "devices/system/cpu/online"), `0-${cpusOnline - 1}\n`);
  const blocks = [];
  for (let cpu = 0; cpu < cpusOnline; cpu++) {
    const topology = join(root, `devices/system/cpu/cpu${cpu}/topology`);
    mkdirSync(topology, { recursive: true });
    writeFileSync(join(topology, "physical_package_id"), "0\n");
    writeFileSync(join(topology, "core_id"), `${cpu}\n`);
    blocks.push(
      `processor\t: ${cpu}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 140\nmodel name\t: Fixture\n`,
    );
  }
  writeFileSync(join(root, "cpuinfo"), `${blocks.join("\n")}\n`);
  mkdirSync(join(root, "cpu/0"), { recursive: true });
  const device = join(root, "cpu/0/msr");
  writeFileSync(device, "");
  const fd = openSync(device, "r+");
  const registers = { [INTEL_MSR.powerUnit]: 0x000a0e03n };
  for (const address of [INTEL_MSR.pkg, INTEL_MSR.pp0, INTEL_MSR.pp1, INTEL_MSR.dram, INTEL_MSR.psys]) {
    registers[address] = 0x12345678n;
  }
  for (const [address, value] of Object.entries(registers)) {
    const buf = Buffer.alloc(8);
    buf.writeBigUInt64LE(value);
    writeSync(fd, buf, 0, 8, Number(address));
  }
  closeSync(fd);
  const read = [INTEL_MSR.pkg, INTEL_MSR.pp0, INTEL_MSR.pp1, INTEL_MSR.dram, INTEL_MSR.psys];
  return {
    label: "msr fixture",
    root,
    env: { EMP_SYSFS_ROOT: root, EMP_DEV_ROOT: root, EMP_PROCFS_ROOT: root },
    sources: [{ kind: "msr" }],
    referenceArgs: read.flatMap((a) => ["--msr", `${device}:${a}`]),
    nodeFiles: read.map((offset) => ({ path: device, offset, bytes: 8, text: false })),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** System-wide perf software events, read on every online CPU as emp's perf source does. */
export function perfSource(events = ["task-clock", "context-switches"]) {
  const online = cpus().length;
  return {
    label: `perf ${events.join(",")} (system, ${online} cpus)`,
    root: null,
    env: {},
    sources: [{ kind: "perf", select: events }],
    referenceArgs: [...events.flatMap((e) => ["--perf", e]), "--perf-cpus", String(online)],
    perfEvents: events,
    nodeFiles: null,
    remove: () => {},
  };
}

/** Runs `body` with the fixture's roots in the environment (the addon reads them when a sampler is built). */
export function withEnv(env, body) {
  const saved = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    return body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The tid of this process's thread named `name`, or null. */
export function threadId(name) {
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim() === name) return tid;
    } catch {
      // the thread ended while we looked
    }
  }
  return null;
}

/** Run time (ns) of a thread of this process by the scheduler's accounting (schedstat). */
export function threadCpuNs(tid) {
  return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]);
}

/** user + system CPU (ns) of another process, all its threads, from /proc/PID/stat. */
export function processCpuNs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerS = 100; // USER_HZ, fixed at 100 in the Linux ABI
  return ((Number(fields[11]) + Number(fields[12])) * 1e9) / ticksPerS;
}

export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function median(values) {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

export const us = (ns) => Math.round(ns / 100) / 10;
export const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Compiles bench/reference/NAME.c with cc -O2 into a cache folder; null (with the reason) without cc. */
export function compileReference(name) {
  const source = join(benchDir, "reference", `${name}.c`);
  const outDir = join(tmpdir(), "emp-bench-bin");
  mkdirSync(outDir, { recursive: true });
  const binary = join(outDir, name);
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  const result = spawnSync("cc", ["-O2", "-Wall", "-o", binary, source], { encoding: "utf8" });
  if (result.error || result.status !== 0) {
    console.warn(`cannot compile ${source}: ${result.error?.message ?? result.stderr}`);
    return null;
  }
  return binary;
}

/** The machine, for RESULTS.md: CPU model, cores, kernel, virtualisation, load when the bench ran. */
export function machine() {
  const cpuModel = cpus()[0]?.model ?? "unknown";
  // systemd-detect-virt names the innermost layer (a container inside a VM says "docker"), so
  // the CPU's hypervisor flag is reported beside it.
  let detected = "none";
  try {
    detected = execFileSync("systemd-detect-virt", { encoding: "utf8" }).trim();
  } catch (e) {
    detected = e.stdout?.toString().trim() || "unknown";
  }
  const guest = /^flags\s*:.*\bhypervisor\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
  const virt = `${detected}${guest ? ", VM guest (hypervisor flag)" : ", no hypervisor flag"}`;
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  return { cpuModel, cores: cpus().length, kernel: release(), virt, node: process.version, load };
}

/** Prints rows as a table with the given columns (key → header). */
export function table(rows, columns) {
  const headers = Object.values(columns);
  const cells = rows.map((r) => Object.keys(columns).map((k) => (r[k] === undefined ? "" : String(r[k]))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (parts) => parts.map((p, i) => p.padStart(widths[i])).join("  ");
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const c of cells) console.log(line(c));
}

/**
 * Headline figures for run.mjs's closing table: {figure, value, unit, target, ok}. `ok` is
 * true, false, or null where the figure has no target of its own.
 */
export function writeSummary(file, figures) {
  if (file) writeFileSync(file, JSON.stringify(figures));
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

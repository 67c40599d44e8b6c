// The real-hardware check: on a machine with RAPL, hardware perf counters or an NVIDIA GPU, runs
// emp's probe (with the cross-check where two interfaces see one domain) and measures a CPU-bound
// and an idle command through every energy interface that is available, one interface at a time,
// with hardware counters; then writes one JSON file of what it saw. CI never runs it.
//   node bench/device-check.mjs [OUT_DIR]        (bench/device-check.sh wraps it with a time limit)
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const out = process.argv[2] ?? process.env.OUT ?? "device-check";
mkdirSync(out, { recursive: true });

const ENERGY_KINDS = ["msr", "perf-power", "powercap", "nvml"];
const COUNTERS = "task-clock,cycles,instructions,cache-misses,branch-misses";
const WORKLOADS = {
  // One core busy for 1 s, in a process of its own (what a benchmark looks like to the sensors).
  "cpu-bound": [process.execPath, "-e", "const end = Date.now() + 1000; while (Date.now() < end);"],
  idle: ["sleep", "1"],
};

function emp(args) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", timeout: 60_000 });
  let json = null;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    // not JSON: kept as text below
  }
  return {
    args,
    exit: result.status,
    signal: result.signal,
    seconds: (Date.now() - started) / 1000,
    json,
    ...(json === null ? { stdout: result.stdout.slice(0, 4000) } : {}),
    stderr: result.stderr.slice(0, 4000),
  };
}

const report = { date: new Date().toISOString(), node: process.version };
const probe = emp(["probe", "--json", "--cross-check", "2"]);
report.probe = probe.json ?? probe;
const sensors = probe.json?.sensors ?? [];
const available = sensors.filter((s) => s.status === "available").map((s) => s.kind);
report.available = available;
report.cross_check = probe.json?.crossCheck ?? [];

report.measurements = [];
const kinds = ENERGY_KINDS.filter((k) => available.includes(k));
// Every interface alone, then emp's own choice (the best per domain, all at once).
for (const sources of [...kinds.map((k) => [k]), null]) {
  for (const [workload, command] of Object.entries(WORKLOADS)) {
    const name = `${sources ? sources.join("+") : "default"}-${workload}`;
    const args = ["measure", "--json", "--repeat", "3", "--warmup", "1", "--baseline", "2"];
    args.push("--counters", COUNTERS, "--out", join(out, name));
    if (sources) args.push("--sources", sources.join(","));
    const result = emp([...args, "--", ...command]);
    const s = result.json;
    report.measurements.push({
      name,
      sources: sources ?? "default",
      workload,
      exit: result.exit,
      seconds: result.seconds,
      ...(s
        ? {
            estimated: s.estimated,
            sampling: s.sampling,
            baseline_w: s.baseline?.power_w,
            domains: s.domains,
            // The observed update period per domain: NVML's energy counter is the one to watch (10-100 ms).
            update_period_ms: Object.fromEntries(
              Object.entries(s.domains ?? {}).map(([d, v]) => [d, v.update_period_ms]),
            ),
            runs: s.runs,
            warnings: s.warnings,
          }
        : { stdout: result.stdout, stderr: result.stderr }),
    });
    console.error(`${name}: exit ${result.exit} in ${result.seconds.toFixed(1)} s`);
  }
}

// Which hardware counters counted something in a CPU-bound run.
const counted = new Set();
for (const m of report.measurements) {
  for (const run of m.runs ?? [])
    for (const [k, v] of Object.entries(run.counters ?? {})) if (v > 0) counted.add(k);
}
report.counters_counted = [...counted].sort();
const file = join(out, "device-check.json");
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.error(
  `wrote ${file}: available ${available.join(", ") || "none"}; counters ${report.counters_counted.join(", ")}`,
);

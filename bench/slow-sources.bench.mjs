// Slow sources beside RAPL: how late the RAPL channels are read when NVML (a driver call that can
// block for milliseconds) and thermal zones share the sampler. RAPL is a powercap fixture; NVML is the
// test suite's fake libnvidia-ml with every call made to sleep (FAKE_NVML_READ_DELAY_US), as a busy
// driver does; thermal is a fixture of thermal zones. Each rate runs RAPL alone and RAPL with the slow
// sources in alternating chunks, so both see the same machine.
// usage: node bench/slow-sources.bench.mjs [--quick] [--seconds N] [--delay-us N] [--json] [--summary FILE]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Sampler } from "../dist/index.js";
import {
  benchArgs,
  benchDir,
  machine,
  powercapFixture,
  quantile,
  round,
  sleep,
  table,
  us,
  withEnv,
  writeSummary,
} from "./lib.mjs";

const args = benchArgs({ seconds: { type: "string" }, "delay-us": { type: "string" } });
const seconds = Number(args.seconds ?? (args.quick ? 2 : 8));
const chunkSeconds = Math.min(seconds, 1);
const chunks = Math.max(1, Math.round(seconds / chunkSeconds));
// Per NVML call; a read of one GPU makes three (energy, power, temperature).
const delayUs = Number(args["delay-us"] ?? 1000);
const DRAIN_MS = 50;

/** The fake NVML built from the test fixture's source, or null (with the reason) without cc. */
function fakeNvml() {
  const dir = mkdtempSync("/dev/shm/emp-bench-nvml-");
  const lib = join(dir, "libnvidia-ml.so.1");
  const source = join(benchDir, "../test/fixtures/nvml/fake_nvml.c");
  const cc = spawnSync("cc", ["-shared", "-fPIC", "-O2", "-fvisibility=hidden", "-o", lib, source], {
    encoding: "utf8",
  });
  if (cc.error || cc.status !== 0) {
    console.warn(`cannot compile the fake NVML: ${cc.error?.message ?? cc.stderr}`);
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  return {
    env: { EMP_NVML_LIB: lib, FAKE_NVML_GPUS: "1", FAKE_NVML_READ_DELAY_US: String(delayUs) },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Three thermal zones under the powercap fixture's sysfs root, as an x86 laptop has. */
function addThermalZones(root) {
  for (const [i, type] of ["acpitz", "x86_pkg_temp", "iwlwifi_1"].entries()) {
    const dir = join(root, "class/thermal", `thermal_zone${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "type"), `${type}\n`);
    writeFileSync(join(dir, "temp"), `${45000 + i * 1000}\n`);
  }
}

/**
 * One run: for every deadline, how late RAPL (source 0) was read. A deadline the sampler skipped
 * because it ran more than a period behind counts as read at the next tick that read RAPL, so the
 * time a slow read steals shows up here rather than only as a count of missed deadlines.
 */
async function run(env, sources, sampleHz, runSeconds) {
  const sampler = withEnv(env, () => new Sampler({ sampleHz, sources }));
  const periodNs = 1e9 / sampleHz;
  const lateness = [];
  let lastDeadlineNs = null;
  const take = () => {
    const batch = sampler.drain();
    for (let i = 0; i < batch.ticks; i++) {
      if (!batch.wasRead(i, 0)) continue;
      const tNs = Number(batch.raw.tNs[i]);
      const deadlineNs = tNs - batch.raw.latenessNs[i];
      if (lastDeadlineNs !== null) {
        for (let d = lastDeadlineNs + periodNs; d < deadlineNs - periodNs / 2; d += periodNs)
          lateness.push(tNs - d);
      }
      lateness.push(tNs - deadlineNs);
      lastDeadlineNs = deadlineNs;
    }
  };
  sampler.start();
  const end = Date.now() + runSeconds * 1000;
  while (Date.now() < end) {
    await sleep(DRAIN_MS);
    take();
  }
  sampler.stop();
  take();
  const stats = sampler.stats();
  return { lateness, ticks: stats.ticks, missed: stats.missed, slowLagMaxNs: stats.slowLagMaxNs || null };
}

function pool(runs) {
  const lateness = Float64Array.from(runs.flatMap((r) => r.lateness)).sort();
  const ticks = runs.reduce((a, r) => a + r.ticks, 0);
  const missed = runs.reduce((a, r) => a + r.missed, 0);
  const lags = runs.map((r) => r.slowLagMaxNs).filter((x) => x !== null);
  return {
    p50: quantile(lateness, 0.5),
    p99: quantile(lateness, 0.99),
    p999: quantile(lateness, 0.999),
    max: lateness.at(-1),
    ticks,
    missedPct: (100 * missed) / (ticks + missed),
    slowLagMaxNs: lags.length > 0 ? Math.max(...lags) : null,
  };
}

const rapl = powercapFixture();
addThermalZones(rapl.root);
const nvml = fakeNvml();
const rows = [];
const summary = [];
try {
  const configs = [
    { label: "RAPL alone", env: rapl.env, sources: [{ kind: "powercap" }] },
    {
      label: "RAPL + thermal + NVML",
      env: { ...rapl.env, ...(nvml?.env ?? {}) },
      sources: [{ kind: "powercap" }, { kind: "thermal" }, ...(nvml ? [{ kind: "nvml" }] : [])],
    },
  ];
  for (const hz of [1000, 10000]) {
    const byConfig = configs.map(() => []);
    for (let k = 0; k < chunks; k++) {
      for (const c of k % 2 === 0 ? [0, 1] : [1, 0]) {
        byConfig[c].push(await run(configs[c].env, configs[c].sources, hz, chunkSeconds));
      }
    }
    const pooled = byConfig.map(pool);
    pooled.forEach((p, c) => {
      rows.push({
        config: configs[c].label,
        hz,
        ticks: p.ticks,
        missed: round(p.missedPct, 3),
        p50: us(p.p50),
        p99: us(p.p99),
        p999: us(p.p999),
        max: us(p.max),
        lag: p.slowLagMaxNs === null ? "" : us(p.slowLagMaxNs),
      });
    });
    const [alone, slow] = pooled;
    summary.push({
      figure: `RAPL lateness p99 with thermal + NVML (${delayUs} us a call), ${hz / 1000} kHz`,
      value: us(slow.p99),
      unit: `us (RAPL alone ${us(alone.p99)} us; missed ${round(slow.missedPct, 2)} % vs ${round(alone.missedPct, 2)} %)`,
      target: "<= 1.5x RAPL alone + 5 us",
      ok: slow.p99 <= 1.5 * alone.p99 + 5000,
    });
  }

  const m = machine();
  if (args.json) {
    console.log(JSON.stringify({ machine: m, seconds, delayUs, rows }, null, 2));
  } else {
    console.log(
      `slow sources: ${seconds} s per row in ${chunks} alternating chunks; fake NVML ${nvml ? `${delayUs} us a call` : "not built"}; ` +
        `${m.cpuModel} x${m.cores}, ${m.kernel}, load ${m.load}`,
    );
    console.log(
      "lateness of RAPL per deadline, skipped ones included (p50 p99 p999 max) and the slow sources' largest lag, in us\n",
    );
    table(rows, {
      config: "sources",
      hz: "Hz",
      ticks: "ticks",
      missed: "missed %",
      p50: "late p50",
      p99: "p99",
      p999: "p99.9",
      max: "max",
      lag: "slow lag max",
    });
  }
  writeSummary(args.summary, summary);
} finally {
  rapl.remove();
  nvml?.remove();
}

// Results folders as a user meets them: an earlier session is never replaced unasked, two emps
// never write one folder at once, a full disk (or a file size limit) fails the session with one
// message and leaves every file complete up to the last run, a torn file is repaired by the next
// emp that reads it, a damaged one is named, summary.json stays bounded, and a study folder keeps
// every config it was run with.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Table, tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { UsageError } from "../src/errors.js";
import { Ledger } from "../src/ledger/ledger.js";
import { loadResults } from "../src/report/load.js";
import { RunsWriter } from "../src/results/runs-writer.js";
import { EnergyWriter, powercapZone } from "./fixtures/energy.js";
import { FIXTURE_DOMAINS, writeResults } from "./fixtures/study.js";
import { FixtureTree, writeCpuTopology } from "./fixtures/tree.js";
import { runEmp } from "./helpers/emp-cli.js";
import { requireSmallDisk, type SmallDisk, smallDiskUnavailable } from "./helpers/tmpfs.js";

const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
let scratch: string;
let tree: FixtureTree;
let writer: EnergyWriter;
let flag: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "emp-results-cli-"));
  tree = FixtureTree.create();
  writeCpuTopology(tree, 1, 2);
  const range = 262_143_328_850;
  const energy = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: range });
  flag = tree.path("busy.flag");
  writer = await EnergyWriter.start(tree, [
    { format: "text", path: energy, unitJ: 1e-6, wrap: range + 1, idleW: 5, busyW: 25, flagPath: flag },
  ]);
});
afterAll(async () => {
  await writer?.stop();
  tree?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

const fixtureEnv = () => ({ EMP_SYSFS_ROOT: tree.root });

/** A quick measurement on the labelled estimate: `runs` runs of `true`. */
function measureArgs(out: string, runs: number, ...extra: string[]): string[] {
  return [
    "measure",
    "--baseline",
    "0.1",
    "--warmup",
    "0",
    "--repeat",
    String(runs),
    "--out",
    out,
    ...extra,
    "--",
    "true",
  ];
}

function readTable(path: string): Table {
  return tableFromIPC(readFileSync(path));
}

/** Every file of a folder with its bytes, to show nothing in it changed. */
function snapshot(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name)).toString("base64")]));
}

/** emp's own lines on stderr: one message and its fix, nothing else, no stack trace. */
function expectOneMessage(stderr: string, message: RegExp, fix: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  expect(lines, stderr).toHaveLength(2);
  expect(lines[0]).toMatch(/^emp: /);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/^ {2}fix: /);
  expect(lines[1]).toMatch(fix);
}

describe("emp measure never replaces a session unasked", () => {
  it("refuses a folder holding a session (exit 2, files untouched); --force replaces it and says so", () => {
    const out = join(scratch, "measured");
    const first = runEmp(measureArgs(out, 1));
    expect(first.status, first.stderr).toBe(0);
    const before = snapshot(out);
    expect([...before.keys()].sort()).toEqual([
      "manifest.json",
      "runs.arrow",
      "samples.arrow",
      "summary.json",
    ]);

    const again = runEmp(measureArgs(out, 2));
    expect(again.status).toBe(2);
    expectOneMessage(
      again.stderr,
      /already holds a session of emp measure or emp compare \(manifest\.json/,
      /--force to replace it/,
    );
    expect(again.stdout).toBe("");
    expect(snapshot(out)).toEqual(before);

    const forced = runEmp(measureArgs(out, 2, "--force"));
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(
      /^emp: replacing the session in .* \(--force\): removed runs\.arrow, samples\.arrow, summary\.json, manifest\.json$/m,
    );
    expect(readTable(join(out, "runs.arrow")).numRows).toBe(2);
    expect(readdirSync(out).sort()).toEqual(["manifest.json", "runs.arrow", "samples.arrow", "summary.json"]);
  });

  it("lets one of two measurements into one folder at a time: the other gets exit 2, in use", async () => {
    const out = join(scratch, "contended");
    const first = spawn(
      process.execPath,
      [main, ...measureArgs(out, 1).map((a) => (a === "0.1" ? "3" : a))],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise<number | null>((resolve) => first.on("exit", resolve));
    // The first holds the folder's lock from before its baseline (3 s) to its end.
    const lock = join(out, "emp.lock");
    for (const deadline = Date.now() + 20_000; !existsSync(lock) && Date.now() < deadline; )
      await new Promise((r) => setTimeout(r, 20));
    const second = runEmp(measureArgs(out, 1));
    expect(second.status).toBe(2);
    expectOneMessage(
      second.stderr,
      /is in use by another emp \(pid \d+\)/,
      /wait for it to finish, or give this one another --out/,
    );
    expect(await exited).toBe(0);
    expect(readTable(join(out, "runs.arrow")).numRows).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it("never writes into an emp run study (exit 2, --force or not), nor emp run into an emp measure session", () => {
    const study = join(scratch, "a-study");
    Ledger.open(study).close();
    writeFileSync(join(study, "manifest.json"), "{}\n");
    const before = snapshot(study);
    for (const force of [[], ["--force"]]) {
      const result = runEmp(measureArgs(study, 1, ...force));
      expect(result.status).toBe(2);
      expectOneMessage(
        result.stderr,
        /holds an emp run study \(manifest\.json, ledger\.sqlite\)/,
        /a folder of its own/,
      );
    }
    expect(snapshot(study)).toEqual(before);

    const session = join(scratch, "measured-then-run");
    expect(runEmp(measureArgs(session, 1)).status).toBe(0);
    const sessionBefore = snapshot(session);
    const repo = gitRepo("run-into-session", 0.01);
    const config = join(scratch, "run-into-session.yaml");
    writeFileSync(config, `repo: ${repo}\ncommits: HEAD\ncommand: "true"\nout: ${session}\n`);
    const result = runEmp(["run", config]);
    expect(result.status).toBe(2);
    expectOneMessage(
      result.stderr,
      /holds an emp measure session .*would replace its runs\.arrow/,
      /a folder of its own/,
    );
    expect(snapshot(session)).toEqual(sessionBefore);
  });
});

const GIT_ENV = {
  GIT_AUTHOR_NAME: "emp test",
  GIT_AUTHOR_EMAIL: "emp@example.com",
  GIT_COMMITTER_NAME: "emp test",
  GIT_COMMITTER_EMAIL: "emp@example.com",
};

/** A repository of one commit whose bench.sh holds the fixture's busy flag for `holdS` seconds. */
function gitRepo(name: string, holdS: number): string {
  const repo = join(scratch, name);
  mkdirSync(repo);
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "commit.gpgsign=false", ...args], {
      cwd: repo,
      env: { ...process.env, ...GIT_ENV },
    });
  git("init", "-q", "-b", "main");
  writeFileSync(join(repo, "bench.sh"), `touch "$EMP_FLAG"; sleep \${HOLD:-${holdS}}; rm -f "$EMP_FLAG"\n`);
  git("add", "-A");
  git("commit", "-q", "-m", "bench");
  return repo;
}

/**
 * Checks what a failed write must leave: the manifest `failed` with the message, no journal or
 * reserve left, samples.arrow complete (it loads) with the samples of every run runs.arrow holds.
 */
function expectCompleteUpToLastRun(out: string, message: RegExp): void {
  const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  expect(manifest.state).toBe("failed");
  expect(manifest.error).toMatch(message);
  expect(readdirSync(out).filter((name) => name.startsWith("."))).toEqual([]);
  const runs = readTable(join(out, "runs.arrow"));
  expect(runs.numRows).toBeGreaterThan(0);
  const samples = readTable(join(out, "samples.arrow"));
  const sampledRuns = new Set<number>();
  const column = samples.getChild("run");
  for (let i = 0; i < samples.numRows; i++) {
    const run = column?.get(i) as number | null;
    if (run !== null) sampledRuns.add(run);
  }
  const recordedRuns = [...(runs.getChild("run") ?? [])] as number[];
  for (const run of recordedRuns) expect(sampledRuns.has(run), `samples of run ${run}`).toBe(true);
  // At most the run in progress when the write failed has samples but no row.
  expect(sampledRuns.size - recordedRuns.length).toBeGreaterThanOrEqual(0);
  expect(sampledRuns.size - recordedRuns.length).toBeLessThanOrEqual(1);
}

/** emp measure at 10 kHz on the fixture: samples.arrow grows by ~0.3 MB a second. */
function fastMeasureArgs(out: string): string[] {
  return [
    "measure",
    "--sample-hz",
    "10000",
    "--baseline",
    "0.3",
    "--warmup",
    "0",
    "--repeat",
    "200",
    "--out",
    out,
    "--",
    "sleep",
    "0.1",
  ];
}

describe("emp measure where its results cannot be written", () => {
  it("a file size limit (EFBIG): one message naming the file and the fix, exit 1, every finished run kept", () => {
    const out = join(scratch, "size-limited");
    // SIGXFSZ ignored (inherited through exec) turns a write past `ulimit -f` into EFBIG; dash counts 512-byte blocks.
    const command = `trap '' XFSZ; ulimit -f 2048; exec "${process.execPath}" "${main}" ${fastMeasureArgs(out)
      .map((a) => `'${a}'`)
      .join(" ")}`;
    const result = runShell(command, fixtureEnv());
    expect(result.status, result.stderr).toBe(1);
    expectOneMessage(
      result.stderr,
      new RegExp(
        `^emp: cannot write ${out}/samples\\.arrow: the file grew past the largest file allowed on .* \\(EFBIG\\)$`,
      ),
      /raise the file size limit \(ulimit -f\), or write the results to a folder on another disk \(--out DIR\)/,
    );
    expect(result.stdout).toBe("");
    expectCompleteUpToLastRun(out, /EFBIG/);
  });

  const noDisk = smallDiskUnavailable();
  if (noDisk) console.log(`skipping the full-disk CLI tests: ${noDisk}`);
  let disk: SmallDisk | undefined;
  // Mounted by the first test that runs (a filtered run skips hooks and tests alike).
  const mounted = () => {
    disk ??= requireSmallDisk(2 * 1024 * 1024);
    return disk.path;
  };
  afterAll(() => disk?.remove());

  it.skipIf(noDisk !== "")(
    "a full disk (a 2 MiB tmpfs, ENOSPC): one message naming the disk, exit 1, files complete",
    () => {
      const mount = mounted();
      const out = join(mount, "measured");
      const result = runEmp(fastMeasureArgs(out), fixtureEnv());
      expect(result.status, result.stderr).toBe(1);
      expectOneMessage(
        result.stderr,
        new RegExp(
          `^emp: cannot write ${out}/(samples|runs)\\.arrow: no space left on ${mount} \\(tmpfs, .* free of 2\\.0 MiB\\) \\(ENOSPC\\)$`,
        ),
        new RegExp(
          `^ {2}fix: free space on ${mount}, or write the results to a folder on another disk \\(--out DIR\\)$`,
        ),
      );
      expectCompleteUpToLastRun(out, /no space left/);
      rmSync(out, { recursive: true, force: true });
    },
  );

  it.skipIf(noDisk !== "")("emp run on a full disk says the same, and records the session failed", () => {
    const mount = mounted();
    const out = join(mount, "study");
    const config = join(scratch, "full-disk.yaml");
    const repo = gitRepo("full-disk-repo", 0.1);
    writeFileSync(
      config,
      [
        `repo: ${repo}`,
        "commits: HEAD",
        'command: "sh bench.sh"',
        "repeat: 300",
        "warmup: 0",
        "baseline: 0.3",
        "sample_hz: 10000",
        `env: { EMP_FLAG: "${flag}" }`,
        `out: ${out}`,
      ].join("\n"),
    );
    const result = runEmp(["run", config], fixtureEnv());
    expect(result.status, result.stderr).toBe(1);
    expectOneMessage(
      result.stderr,
      new RegExp(`^emp: cannot write ${out}/\\S+: no space left on ${mount} \\(tmpfs, .*\\) \\(ENOSPC\\)$`),
      new RegExp(`^ {2}fix: free space on ${mount}, or write the results to a folder on another disk`),
    );
    expect(result.stderr).not.toMatch(/offsets out of step|unexpected error/);
    expect(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).state).toBe("failed");
    const ledger = Ledger.open(out, { readOnly: true });
    try {
      const [session] = ledger.sessions();
      expect(session?.state).toBe("failed");
      expect(session?.error).toMatch(/no space left/);
      // runs.arrow holds every run the ledger kept, and the session's samples file loads.
      expect(readTable(join(out, "runs.arrow")).numRows).toBe(ledger.runs().length);
      expect(readTable(join(out, "samples", `${session?.id}.arrow`)).numRows).toBeGreaterThan(0);
    } finally {
      ledger.close();
    }
  });
});

/** `sh -c command` with `env` added, as runEmp runs emp. */
function runShell(command: string, env: Record<string, string>) {
  const result = spawnSync("sh", ["-c", command], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("torn and damaged files", () => {
  /** An emp measure session of three runs (fixture samples), as written. */
  function session(name: string): string {
    const dir = join(scratch, name);
    writeResults(
      dir,
      [{ id: name, runs: [1, 2, 3].map((j) => ({ label: name, netJ: { "package-0": j } })) }],
      "session",
    );
    return dir;
  }

  it("emp plot and emp report repair a samples.arrow a crash left without its footer, and say so", () => {
    const dir = session("torn-samples");
    const samples = join(dir, "samples.arrow");
    const rows = readTable(samples).numRows;
    truncateSync(samples, statSync(samples).size - 40);
    // Footerless: what a file reader (polars, pyarrow's open_file) needs is gone.
    const ending = () => readFileSync(samples).subarray(-6).toString("latin1");
    expect(ending()).not.toBe("ARROW1");
    const file = join(scratch, "torn-samples.svg");
    const result = runEmp(["plot", dir, "-o", file, "--kind", "trace"]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      new RegExp(`^emp: ${samples}: repaired after a crash or a failed write \\(\\d+ record batches`, "m"),
    );
    expect(ending()).toBe("ARROW1");
    expect(readTable(samples).numRows).toBe(rows);
    expect(readFileSync(file, "utf8")).toMatch(/role-mark trace0_power_marks/);
    // Repaired once: the next reader finds nothing to do.
    const report = runEmp(["report", dir]);
    expect(report.status, report.stderr).toBe(0);
    expect(report.stderr).toBe("");
  });

  it("a runs.arrow cut short is reported damaged, with the fix, by emp report and emp plot", () => {
    const dir = session("cut-runs");
    const runs = join(dir, "runs.arrow");
    truncateSync(runs, Math.floor(statSync(runs).size / 2));
    for (const args of [
      ["report", dir],
      ["plot", dir, "-o", join(scratch, "cut-runs.svg")],
    ]) {
      const result = runEmp(args);
      expect(result.status).toBe(1);
      expectOneMessage(
        result.stderr,
        new RegExp(
          `^emp: ${runs} is damaged: it ends without its Arrow footer \\(\\d+ bytes\\): it was cut short`,
        ),
        /measure again \(--force replaces the session\)/,
      );
      expect(result.stderr).not.toMatch(/Cannot read properties/);
    }
    writeFileSync(runs, "not arrow at all");
    const result = runEmp(["report", dir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /is damaged: it is not an Arrow file \(16 bytes, no Arrow magic at its start\)/,
    );
  });

  const noReadOnlyDisk = smallDiskUnavailable();
  if (noReadOnlyDisk) console.log(`skipping the read-only plot target test: ${noReadOnlyDisk}`);

  it.skipIf(noReadOnlyDisk !== "")(
    "emp plot -o on a read-only disk: the path, the disk and the fix, exit 1",
    () => {
      const dir = session("plot-read-only");
      const readOnly = requireSmallDisk(64 * 1024, "ro");
      onTestFinished(() => readOnly.remove());
      const mount = readOnly.path;
      const result = runEmp(["plot", dir, "-o", join(mount, "plot.svg"), "--kind", "history"]);
      expect(result.status).toBe(1);
      expectOneMessage(
        result.stderr,
        new RegExp(
          `^emp: cannot write ${mount}/plot\\.svg: ${mount} \\(tmpfs.*\\) is mounted read-only \\(EROFS\\)$`,
        ),
        new RegExp(`^ {2}fix: remount ${mount} read-write, or write the plot elsewhere \\(-o FILE\\)$`),
      );
    },
  );
});

describe("a study folder run with two configs", () => {
  let out: string;
  let hashes: string[];

  /** Net energy of a report group's package-0, J. */
  const netJ = (report: { groups: { domains: Record<string, { median_j: number }> }[] }) =>
    report.groups[0]?.domains["package-0"]?.median_j ?? Number.NaN;

  beforeAll(() => {
    const repo = gitRepo("two-configs", 0.2);
    out = join(scratch, "two-configs-out");
    // The same commit measured holding the busy flag 0.2 s (about 4 J net at 20 W), then 0.4 s (8 J).
    for (const holdS of ["0.2", "0.4"]) {
      const config = join(scratch, `two-configs-${holdS}.yaml`);
      writeFileSync(
        config,
        [
          `repo: ${repo}`,
          "commits: HEAD",
          'command: "sh bench.sh"',
          "repeat: 3",
          "warmup: 0",
          "baseline: 1",
          `env: { EMP_FLAG: "${flag}", HOLD: "${holdS}" }`,
          `out: ${out}`,
        ].join("\n"),
      );
      const result = runEmp(["run", config], fixtureEnv());
      expect(result.status, result.stderr).toBe(0);
    }
    const ledger = Ledger.open(out, { readOnly: true });
    try {
      hashes = ledger
        .sessions()
        .reverse()
        .map((s) => s.configHash);
    } finally {
      ledger.close();
    }
    expect(new Set(hashes).size).toBe(2);
  });

  it("keeps both configs' runs in runs.arrow, with config_hash, and lists both in summary.json", () => {
    const runs = readTable(join(out, "runs.arrow"));
    const configs = [...(runs.getChild("config_hash") ?? [])] as string[];
    expect(configs).toEqual([hashes[0], hashes[0], hashes[0], hashes[1], hashes[1], hashes[1]]);
    expect(runs.schema.fields.filter((f) => f.name.endsWith("_net_j")).map((f) => f.name)).toEqual([
      "package-0_net_j",
    ]);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(
      summary.configs.map((c: { config_hash: string; runs: number; sessions: number }) => [
        c.config_hash,
        c.runs,
        c.sessions,
      ]),
    ).toEqual([
      [hashes[0], 3, 1],
      [hashes[1], 3, 1],
    ]);
  });

  it("emp report shows the config measured last by default and each with --config, saying how many there are", () => {
    const latest = runEmp(["report", out]);
    expect(latest.status, latest.stderr).toBe(0);
    expect(latest.stdout).toMatch(
      new RegExp(
        `^\\S+ holds 2 configs; this is ${hashes[1]?.slice(0, 12)} \\(3 runs, the one measured last\\); the others: ${hashes[0]?.slice(0, 12)} \\(3 runs\\); pick one with --config HASH`,
      ),
    );
    const [first, second] = [0, 1].map((i) => {
      const result = runEmp(["report", out, "--json", "--config", hashes[i]?.slice(0, 8) as string]);
      expect(result.status, result.stderr).toBe(0);
      return JSON.parse(result.stdout);
    });
    expect(first.study_configs[0].shown).toBe(hashes[0]);
    expect(first.groups[0].runs).toBe(3);
    expect(second.groups[0].runs).toBe(3);
    // 0.2 s and 0.4 s at 20 W above idle; roughly, as a loaded machine lets the writer step late.
    expect(Math.abs(netJ(first) - 4) / 4).toBeLessThan(0.2);
    expect(Math.abs(netJ(second) - 8) / 8).toBeLessThan(0.2);
  });

  it("refuses a --config the folder does not hold, naming those it does (exit 2); emp plot takes --config too", () => {
    const absent = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"].find(
      (c) => !hashes.some((h) => h.startsWith(c)),
    ) as string;
    const result = runEmp(["report", out, "--config", absent]);
    expect(result.status).toBe(2);
    expectOneMessage(
      result.stderr,
      new RegExp(`--config ${absent}: \\S+ holds no such config`),
      new RegExp(`it holds ${hashes[0]?.slice(0, 12)} \\(3 runs\\), ${hashes[1]?.slice(0, 12)} \\(3 runs\\)`),
    );
    const plot = runEmp([
      "plot",
      out,
      "-o",
      join(scratch, "first-config.svg"),
      "--config",
      hashes[0] as string,
    ]);
    expect(plot.status, plot.stderr).toBe(0);
    expect(plot.stderr).toMatch(
      new RegExp(
        `^note: \\S+ holds 2 configs; this is ${hashes[0]?.slice(0, 12)} \\(3 runs, chosen with --config\\)`,
        "m",
      ),
    );
  });

  it("after runs.arrow is cut short, emp resume writes it again from the ledger, every config in it", () => {
    const runs = join(out, "runs.arrow");
    truncateSync(runs, 100);
    const damaged = runEmp(["report", out]);
    expect(damaged.status).toBe(1);
    expect(damaged.stderr).toMatch(
      /runs\.arrow is damaged: .*\n {2}fix: `emp resume .*` writes it again from ledger\.sqlite/,
    );
    const resumed = runEmp(["resume", out], fixtureEnv());
    expect(resumed.status, resumed.stderr).toBe(0);
    expect([...(readTable(runs).getChild("config_hash") ?? [])]).toEqual([
      ...hashes.flatMap((h) => [h, h, h]),
    ]);
  });

  it("an ambiguous --config prefix is exit 2, naming the configs it could be", () => {
    const dir = join(scratch, "ambiguous");
    mkdirSync(dir);
    const writer = new RunsWriter(join(dir, "runs.arrow"), {
      session: "s",
      configHash: true,
      domains: FIXTURE_DOMAINS,
      provenance: null,
    });
    for (const [i, configHash] of ["abc1", "abc2", "abd3"].entries())
      writer.append({
        configHash,
        label: "",
        index: 0,
        run: i,
        warmup: false,
        startNs: 0n,
        endNs: 1n,
        exitCode: 0,
        signal: null,
        energy: {},
      });
    writer.close();
    expect(() => loadResults([dir], { config: "ab" })).toThrow(UsageError);
    expect(() => loadResults([dir], { config: "ab" })).toThrow(
      /--config ab is ambiguous: .* holds 3 configs that begin so/,
    );
    expect(() => loadResults([dir], { config: "abc" })).toThrow(/ambiguous/);
    const picked = loadResults([dir], { config: "abc2" });
    expect(picked.rows.map((r) => r.run)).toEqual([1]);
    expect(loadResults([dir]).rows.map((r) => r.configHash)).toEqual(["abd3"]);
  });
});

describe("summary.json over many runs", () => {
  it("keeps the details of the first and last 50 runs, says how many it leaves out, and runs.arrow has every run", () => {
    const out = join(scratch, "many-runs");
    // Each run leaves a background sleep, which emp ends with a warning on that run.
    const result = runEmp([...measureArgs(out, 120, "--json").slice(0, -2), "--", "sh", "-c", "sleep 5 &"]);
    expect(result.status, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8"))).toEqual(printed);
    expect(printed.runs_total).toBe(120);
    expect(printed.runs_omitted).toBe(20);
    expect(printed.runs.map((r: { index: number }) => r.index)).toEqual([
      ...Array.from({ length: 50 }, (_, i) => i),
      ...Array.from({ length: 50 }, (_, i) => 70 + i),
    ]);
    const runWarnings = (printed.warnings as string[]).filter((w) => /^run \d+: /.test(w));
    const warned = new Set(runWarnings.map((w) => Number(/^run (\d+)/.exec(w)?.[1])));
    // Warnings name runs as a person counts them, from 1 (no warmups here: index + 1).
    expect([...warned].sort((a, b) => a - b)).toEqual(
      printed.runs.map((r: { index: number }) => r.index + 1),
    );
    expect(printed.warnings).toContain(
      "20 runs in the middle of the session are left out of this summary, with 20 warnings of theirs: runs.arrow holds every run and its warnings",
    );
    const runs = readTable(join(out, "runs.arrow"));
    expect(runs.numRows).toBe(120);
    const warnings = runs.getChild("warnings");
    for (let i = 0; i < 120; i++) expect([...(warnings?.get(i) ?? [])].join()).toMatch(/descendant process/);
  });
});

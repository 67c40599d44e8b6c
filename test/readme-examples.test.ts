// Every example in README.md runs as pasted: its ```sh blocks in README order, in one fresh folder,
// with `emp` on PATH, the ```python block where its libraries import, and the ```ts blocks typecheck
// against the package's types. They run on a powercap fixture (package-0 at a steady 5 W), not on the
// estimate: on the estimate there is no power to trace and no package-0, which two examples name.
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnergyWriter, powercapZone } from "./fixtures/energy.js";
import { FixtureTree, writeCpuTopology } from "./fixtures/tree.js";

const repo = fileURLToPath(new URL("..", import.meta.url));
const main = join(repo, "dist/cli/main.js");
const readme = readFileSync(join(repo, "README.md"), "utf8").split("\n");
const FIXTURE_IDLE_W = 5;
/** The longest one block may take: `emp run`'s two sessions take about 10 s on an idle 2-core VM. */
const BLOCK_TIMEOUT_MS = 120_000;

interface Block {
  lang: string;
  /** 1-based README line of the opening fence; the block's text starts on the next line. */
  fenceLine: number;
  lines: string[];
  /** Why the test does not run it, from a `<!-- readme-test: skip: REASON -->` line right before it. */
  skip?: string;
}

/** The fenced blocks of README.md in order, each with its skip marker; a stray or unknown marker throws. */
function readmeBlocks(): Block[] {
  const blocks: Block[] = [];
  let open: Block | undefined;
  let marker: { line: number; reason: string } | undefined;
  readme.forEach((text, index) => {
    const line = index + 1;
    const fence = /^\s*```(\S*)\s*$/.exec(text);
    if (open) {
      if (fence) {
        blocks.push(open);
        open = undefined;
      } else open.lines.push(text);
      return;
    }
    if (marker && !fence)
      throw new Error(`README.md:${marker.line}: a readme-test marker must be right before a block`);
    if (fence) {
      open = { lang: fence[1] ?? "", fenceLine: line, lines: [], skip: marker?.reason };
      marker = undefined;
      return;
    }
    if (text.includes("readme-test:")) {
      const skip = /^<!-- readme-test: skip: (.+) -->$/.exec(text);
      if (!skip?.[1]) throw new Error(`README.md:${line}: not a marker the test knows: ${text}`);
      marker = { line, reason: skip[1] };
    }
  });
  if (open) throw new Error(`README.md:${open.fenceLine}: a block that is never closed`);
  return blocks;
}

/** The block's text at its README lines, so that a line number in an error is the README's. */
function atReadmeLines(block: Block, header = ""): string {
  const padding = "\n".repeat(block.fenceLine - header.split("\n").length + 1);
  return `${header}${padding}${block.lines.join("\n")}\n`;
}

/** The first command of a block, to name its test. */
function firstCommand(block: Block): string {
  return block.lines.find((l) => l.trim() !== "" && !l.trim().startsWith("#"))?.trim() ?? "";
}

/** The environment of the examples: emp on PATH, its roots at the fixture, nothing of the caller's git or home. */
function examplesEnv(bin: string, home: string, tree: FixtureTree): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // GIT_DIR and the like, set when the tests run inside a git hook, would point the examples' git at this repository.
    if (!key.startsWith("EMP_") && !key.startsWith("GIT_") && key !== "XDG_CONFIG_HOME") env[key] = value;
  }
  return {
    ...env,
    PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    // A fresh home: the examples must not lean on the caller's git identity or configuration.
    HOME: home,
    EMP_SYSFS_ROOT: tree.root,
    // Neither an MSR device nor NVML in the fixture: package-0 comes from its powercap zone alone.
    EMP_DEV_ROOT: tree.root,
    EMP_NVML_LIB: tree.path("absent/libnvidia-ml.so.1"),
  };
}

/** Whether the python block can run here, and why not. */
function pythonLibraries(): { ready: boolean; why: string } {
  const probe = spawnSync("python3", ["-c", "import pandas, polars, pyarrow, duckdb"], { encoding: "utf8" });
  if (probe.error) return { ready: false, why: `python3 cannot be started (${probe.error.message})` };
  const lastLine = probe.stderr.trim().split("\n").pop() ?? "";
  return { ready: probe.status === 0, why: lastLine };
}

/** The last lines of a stream, enough to see why a command failed. */
function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

const blocks = readmeBlocks();
const python = pythonLibraries();

let root: string;
let examples: string;
let env: NodeJS.ProcessEnv;
let tree: FixtureTree;
let writer: EnergyWriter;
/** The first block that failed: the blocks after it use what it should have made, so they are skipped. */
let failed: string | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "emp-readme-"));
  examples = join(root, "examples");
  const bin = join(root, "bin");
  const home = join(root, "home");
  for (const dir of [examples, bin, home]) mkdirSync(dir);
  writeFileSync(join(bin, "emp"), `#!/bin/sh\nexec '${process.execPath}' '${main}' "$@"\n`, { mode: 0o755 });
  tree = FixtureTree.create();
  writeCpuTopology(tree, 1, 2);
  const range = 262_143_328_850;
  const energy = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: range });
  writer = await EnergyWriter.start(tree, [
    { format: "text", path: energy, unitJ: 1e-6, wrap: range + 1, idleW: FIXTURE_IDLE_W },
  ]);
  env = examplesEnv(bin, home, tree);
});
afterAll(async () => {
  await writer?.stop();
  tree?.remove();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("README.md's examples", () => {
  it("exempts only the blocks that run in the checkout (npm's set-up and the benchmarks), each with its reason", () => {
    const skipped = blocks.filter((b) => b.skip !== undefined);
    for (const b of skipped) console.log(`README.md:${b.fenceLine}: not run: ${b.skip}`);
    expect(skipped.length).toBeGreaterThan(0);
    for (const b of skipped) {
      const commands = b.lines.map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
      expect(
        commands.every((c) => /^(npm |node bench\/)/.test(c)),
        `README.md:${b.fenceLine} is exempt`,
      ).toBe(true);
    }
    expect(blocks.filter((b) => b.lang === "sh" && b.skip === undefined).length).toBeGreaterThan(10);
  });

  for (const block of blocks) {
    if (block.skip !== undefined) continue;
    const name = `README.md:${block.fenceLine} ${firstCommand(block)}`;
    if (block.lang === "sh") {
      it(
        `${name}: exits 0`,
        async (context) => {
          if (failed) context.skip(`an earlier example failed (${failed})`);
          await runShell(block);
        },
        BLOCK_TIMEOUT_MS,
      );
    } else if (block.lang === "python") {
      if (!python.ready) console.log(`README.md:${block.fenceLine}: python block skipped: ${python.why}`);
      it.skipIf(!python.ready)(
        `${name}: runs`,
        async (context) => {
          if (failed) context.skip(`an earlier example failed (${failed})`);
          const script = join(root, `README.md.${block.fenceLine}.py`);
          writeFileSync(script, atReadmeLines(block));
          const run = await spawnText("python3", [script], examples);
          if (run.status !== 0) failed = `README.md:${block.fenceLine}`;
          expect(run.status, `README.md:${block.fenceLine} (python): ${tail(run.stderr)}`).toBe(0);
        },
        BLOCK_TIMEOUT_MS,
      );
    }
  }

  it(
    "the ts blocks typecheck against the package's types, imported as `emp`",
    async () => {
      const ts = blocks.filter((b) => b.lang === "ts" && b.skip === undefined);
      expect(ts.length).toBeGreaterThan(0);
      const dir = join(root, "library");
      mkdirSync(join(dir, "node_modules"), { recursive: true });
      // `emp` resolves as a user's install does: package.json's `types`, dist/index.d.ts (built by the global setup).
      symlinkSync(repo, join(dir, "node_modules/emp"));
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            lib: ["ES2022"],
            types: ["node"],
            typeRoots: [join(repo, "node_modules/@types")],
            strict: true,
            noUncheckedIndexedAccess: true,
            skipLibCheck: true,
            noEmit: true,
          },
          include: ["*.ts"],
        }),
      );
      for (const b of ts) writeFileSync(join(dir, `README.md.${b.fenceLine}.ts`), atReadmeLines(b));
      const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
      const check = await spawnText(process.execPath, [tsc, "-p", dir], dir);
      // tsc names README.md.<fence>.ts(<README line>,<column>).
      expect(check.status, `tsc: ${check.stdout}${check.stderr}`).toBe(0);
    },
    BLOCK_TIMEOUT_MS,
  );

  it("the examples made what the README says: results on the fixture, the metric read, the study's runs, the pictures", async (context) => {
    if (failed) context.skip(`an earlier example failed (${failed})`);
    const results = join(examples, "emp-results");
    const summaries = readdirSync(results)
      .filter((d) => existsSync(join(results, d, "summary.json")))
      .map((d) => JSON.parse(readFileSync(join(results, d, "summary.json"), "utf8")))
      // A study's summary is per commit (checked below); measure's and compare's are per session.
      .filter((s) => s.commits === undefined);
    // Every emp measure and emp compare session read the fixture's package-0, at the power it wrote.
    expect(summaries.length).toBeGreaterThan(5);
    for (const s of summaries) {
      expect(s.estimated, s.out).toBe(false);
      expect(s.baseline.power_w["package-0"], s.out).toBeGreaterThan(FIXTURE_IDLE_W * 0.8);
      expect(s.baseline.power_w["package-0"], s.out).toBeLessThan(FIXTURE_IDLE_W * 1.2);
    }
    const metric = summaries.find((s) => s.metrics?.tput);
    expect(metric?.metrics.tput).toMatchObject({ unit: "MB/s", median: 123.4, runs: 10 });
    expect(metric?.work).toMatchObject({ unit: "J/MB", from: "--metric tput" });
    expect(summaries.find((s) => s.work?.from === "--work 2 MB")?.work).toMatchObject({ work_per_run: 2 });

    // `--repeat 5` over the study's 3 runs per commit added 2 to each commit.
    const study = JSON.parse(readFileSync(join(results, "bench/summary.json"), "utf8"));
    expect(study.commits.map((c: { subject: string; runs: number }) => [c.subject, c.runs])).toEqual([
      ["compress at level 1", 5],
      ["compress at level 9", 5],
      ["compress at level 6", 5],
    ]);

    // The two shards and their merge report the study's commits in its order, each with its 3 runs.
    const merged = JSON.parse(await emp(["report", "emp-results/bench-merged", "--json"]));
    expect(merged.groups.map((g: { subject: string; runs: number }) => [g.subject, g.runs])).toEqual([
      ["compress at level 1", 3],
      ["compress at level 9", 3],
      ["compress at level 6", 3],
    ]);

    // emp find named HEAD~1: asked again, with --json, from the runs it took.
    const find = [
      "find",
      "bench.yaml",
      "--good",
      "HEAD~2",
      "--bad",
      "HEAD",
      "--domain",
      "time",
      "--repeat",
      "5",
    ];
    const found = JSON.parse(await emp([...find, "--json"]));
    const headParent = spawnSync("git", ["-C", "project", "rev-parse", "HEAD~1"], {
      cwd: examples,
      encoding: "utf8",
    });
    expect(found.first_bad).toBe(headParent.stdout.trim());
    expect(readFileSync(join(examples, "energy.md"), "utf8")).toMatch(/\|.*time.*\|/);

    // emp slurm wrote the campaign's array of two shards, for sbatch.
    expect(readFileSync(join(results, "bench-slurm/slurm/shards.sbatch"), "utf8")).toContain(
      "#SBATCH --array=1-2\n",
    );

    expect(readFileSync(join(examples, "trace.png")).subarray(1, 4).toString()).toBe("PNG");
    expect(readFileSync(join(examples, "history.svg"), "utf8")).toMatch(/^<svg/);
    expect(readFileSync(join(examples, "study.html"), "utf8")).toMatch(/<html/i);
  });
});

/** Runs emp in the examples' folder and returns its stdout; a failure fails the test with emp's stderr. */
async function emp(args: readonly string[]): Promise<string> {
  const run = await spawnText(process.execPath, [main, ...args], examples);
  expect(run.status, `emp ${args.join(" ")}: ${tail(run.stderr)}`).toBe(0);
  return run.stdout;
}

/** Runs one ```sh block with `bash -e`; a failure names the README line of the command that failed. */
async function runShell(block: Block): Promise<void> {
  // The ERR trap reports the failing command's line; the padding makes that line the README's.
  const trap = `trap 'echo "readme-test: exit $? at line $LINENO" >&2' ERR\n`;
  const script = join(root, `README.md.${block.fenceLine}.sh`);
  writeFileSync(script, atReadmeLines(block, trap));
  const run = await spawnText("bash", ["-e", script], examples, BLOCK_TIMEOUT_MS - 5_000);
  if (run.status === 0) return;
  failed = `README.md:${block.fenceLine}`;
  const at = /readme-test: exit (\d+) at line (\d+)/.exec(run.stderr);
  const line = at ? Number(at[2]) : block.fenceLine;
  const how = at ? `exited with ${at[1]}` : run.error ? String(run.error) : `ended by ${run.signal}`;
  expect.fail(
    `README.md:${line}: \`${readme[line - 1]?.trim()}\` ${how}\n--- stderr ---\n${tail(run.stderr)}\n--- stdout ---\n${tail(run.stdout, 15)}`,
  );
}

interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/**
 * Runs a program in the examples' environment without blocking the event loop: a run of spawnSync
 * calls longer than a minute starves vitest's worker of its own messages ("Timeout calling onTaskUpdate").
 */
function spawnText(
  program: string,
  args: readonly string[],
  cwd: string,
  timeoutMs = BLOCK_TIMEOUT_MS,
): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    let error: Error | undefined;
    child.once("error", (e) => {
      error = e;
    });
    child.once("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, error });
    });
  });
}

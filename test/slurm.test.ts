// `emp slurm`: the scripts it writes, the mistakes it refuses (exit 2 with the fix), and a campaign
// submitted to a real Slurm (munged, slurmctld and slurmd on this machine, started and stopped here:
// test/fixtures/slurm.ts) whose two shards run as a job array, are merged by the job after it, and
// report the study's commits, each task's GPU energy (a fake NVML drawing a known power) in them.
// Where Slurm is not installed the cluster tests skip, saying why, except where EMP_REQUIRE_SLURM=1
// (.ci/run, which installs it): there they fail.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeNvml, fakeNvml } from "./fixtures/nvml.js";
import { SlurmCluster, slurmMissing } from "./fixtures/slurm.js";
import { scratchDir } from "./fixtures/study.js";
import { runEmp } from "./helpers/emp-cli.js";

const GPU_POWER_W = 60;
const SUBJECTS = ["one", "two", "three", "four"];

let scratch: string;
let repo: string;
let config: string;

function git(...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=emp test", "-c", "user.email=emp@example.com", ...args], {
    cwd: repo,
    encoding: "utf8",
  }).trim();
}

beforeAll(() => {
  scratch = scratchDir("emp-slurm-test-");
  repo = join(scratch, "repo");
  mkdirSync(repo);
  git("init", "-q", "-b", "main");
  for (const subject of SUBJECTS) {
    writeFileSync(join(repo, "version"), `${subject}\n`);
    git("add", "-A");
    git("commit", "-q", "-m", subject);
  }
  config = join(scratch, "study.yaml");
  writeFileSync(
    config,
    [`repo: ${repo}`, "commits: { last: 4 }", "command: sleep 0.05", "repeat: 2", "baseline: 0.3"].join("\n"),
  );
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("emp slurm: the scripts", () => {
  it("writes a job array of one exclusive task per shard and a merge of every shard into the campaign's folder", () => {
    const out = join(scratch, "scripts");
    const result = runEmp([
      "slurm",
      config,
      "--shards",
      "3",
      "--out",
      out,
      "--partition",
      "gpu",
      "--time",
      "2:00:00",
      "--sbatch",
      "--gres=gpu:1",
      "--json",
    ]);
    expect(result.status, result.stderr).toBe(0);
    const written = JSON.parse(result.stdout);
    expect(written).toMatchObject({ out, shards: 3, submitted: null });
    expect(written.shard_dirs).toEqual([1, 2, 3].map((k) => join(out, "shards", String(k))));

    const array = readFileSync(written.scripts.array, "utf8");
    for (const directive of [
      "--array=1-3",
      "--exclusive",
      "--partition=gpu",
      "--time=2:00:00",
      "--gres=gpu:1",
    ])
      expect(array).toContain(`#SBATCH ${directive}\n`);
    expect(array).toContain(`#SBATCH --output=${join(out, "slurm", "shard-%a.log")}\n`);
    expect(array).toMatch(
      new RegExp(`main\\.js run ${config} --shard "\\$shard/3" --out ${out}/shards/"\\$shard"\\n`),
    );

    const merge = readFileSync(written.scripts.merge, "utf8");
    expect(merge).toContain("#SBATCH --kill-on-invalid-dep=yes\n");
    expect(merge).not.toContain("--gres");
    expect(merge).toContain(`main.js merge ${written.shard_dirs.join(" ")} --out ${out}\n`);

    // The scripts are shell: bash reads them, and an array task without its id stops at once.
    const syntax = execFileSync("bash", ["-n", written.scripts.array], { encoding: "utf8" });
    expect(syntax).toBe("");
    const outside = runShell(written.scripts.array);
    expect(outside.status).not.toBe(0);
    expect(outside.stderr).toContain("submit this script with sbatch");
  });

  it("refuses mistakes before writing anything: exit 2, each with its fix", () => {
    const out = join(scratch, "refused");
    const cases: [string[], string, Record<string, string>?][] = [
      [["--shards", "0"], "--shards takes a whole number"],
      [[], "--shards N is required"],
      [["--shards", "2", "--time", "two hours"], "--time two hours: must be one of Slurm's forms"],
      [["--shards", "2", "--partition", "a b"], "--partition takes a partition's name"],
      [["--shards", "2", "--sbatch", "--array=1-9"], "the array is one task per shard"],
      [["--shards", "2", "--sbatch", "gres=gpu:1"], "is not one sbatch option"],
      // No sbatch on PATH: emp itself runs from process.execPath, so PATH can be empty.
      [["--shards", "2", "--submit"], "sbatch is not on PATH", { PATH: join(scratch, "empty-path") }],
    ];
    for (const [args, why, env] of cases) {
      const result = runEmp(["slurm", config, "--out", out, ...args], env);
      expect(result.status, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(why);
      expect(result.stderr).toContain("fix:");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    // A folder that holds results already has no room for the merge.
    const measured = join(scratch, "measured");
    expect(runEmp(["run", config, "--out", measured, "--repeat", "1"]).status).toBe(0);
    const held = runEmp(["slurm", config, "--shards", "2", "--out", measured]);
    expect(held.status).toBe(2);
    expect(held.stderr).toContain("holds results already");
  });
});

const missing = slurmMissing();
const required = process.env.EMP_REQUIRE_SLURM === "1";
if (missing !== undefined)
  console.log(`emp slurm on a real Slurm: ${required ? "required, but" : "skipped:"} ${missing}`);

describe.skipIf(missing !== undefined && !required)(
  "emp slurm on a real Slurm cluster (one node, this machine)",
  () => {
    let cluster: SlurmCluster | undefined;
    let gpu: FakeNvml;
    beforeAll(async () => {
      if (missing !== undefined) throw new Error(`EMP_REQUIRE_SLURM=1, but ${missing}`);
      gpu = fakeNvml({ powerMw: [GPU_POWER_W * 1000] });
      cluster = await SlurmCluster.start();
    }, 90_000);
    afterAll(async () => {
      await cluster?.stop();
      gpu?.remove();
    }, 30_000);

    it("runs two shards as a job array and merges them after it: the study's commits, with each task's GPU energy", async () => {
      if (cluster === undefined) throw new Error("no cluster");
      const out = join(scratch, "campaign");
      // What the jobs inherit (sbatch passes its environment on): the cluster, and the fake GPU.
      const env = { ...cluster.env, ...gpu.env };
      const submitted = runEmp(["slurm", config, "--shards", "2", "--out", out, "--submit"], env);
      expect(submitted.status, submitted.stderr).toBe(0);
      console.log(`$ emp slurm study.yaml --shards 2 --submit\n${submitted.stdout}`);
      const ids = /submitted: job array (\d+) \(2 tasks\), merge job (\d+) after it/.exec(submitted.stdout);
      expect(ids, submitted.stdout).not.toBeNull();
      const [arrayJob, mergeJob] = [ids?.[1] ?? "", ids?.[2] ?? ""];
      console.log(`$ squeue\n${cluster.client("squeue", []).stdout}`);

      const states = await cluster.waitFor([arrayJob, mergeJob], 150_000);
      const logs = () =>
        ["shard-1.log", "shard-2.log", "merge.log"]
          .map((f) => `--- ${f} ---\n${readIfThere(join(out, "slurm", f))}`)
          .join("\n");
      expect(states, `${logs()}\n${cluster.logs()}`).toEqual({
        [arrayJob]: "COMPLETED,COMPLETED",
        [mergeJob]: "COMPLETED",
      });
      console.log(`--- slurm/merge.log ---\n${readIfThere(join(out, "slurm", "merge.log"))}`);

      // Each task measured its own shard, on the node, with the node's GPU.
      const shas = git("rev-list", "--reverse", "HEAD").split("\n");
      for (const k of [1, 2]) {
        const summary = JSON.parse(readFileSync(join(out, "shards", String(k), "summary.json"), "utf8"));
        expect(summary.shard).toMatchObject({ index: k, count: 2, study_commits: 4 });
        expect(summary.commits.map((c: { commit: string }) => c.commit)).toEqual(
          shas.filter((_, i) => i % 2 === k - 1),
        );
      }

      // The merged study: every commit in history order with its runs, and the GPU's energy per run at its power.
      const table = runEmp(["report", out]);
      expect(table.status, table.stderr).toBe(0);
      console.log(`$ emp report ${out}\n${table.stdout}`);
      const report = runEmp(["report", out, "--json", "--energy", "raw", "--domain", "gpu-0"]);
      expect(report.status, report.stderr).toBe(0);
      const groups = JSON.parse(report.stdout).groups as {
        commit: string;
        subject: string;
        runs: number;
        median_duration_s: number;
        domains: Record<string, { median_j: number }>;
      }[];
      expect(groups.map((g) => [g.commit, g.subject, g.runs])).toEqual(
        shas.map((sha, i) => [sha, SUBJECTS[i], 2]),
      );
      for (const g of groups) {
        const powerW = (g.domains["gpu-0"]?.median_j ?? 0) / g.median_duration_s;
        expect(powerW, g.subject).toBeGreaterThan(GPU_POWER_W * 0.8);
        expect(powerW, g.subject).toBeLessThan(GPU_POWER_W * 1.2);
      }
    }, 240_000);
  },
);

function runShell(script: string): { status: number | null; stderr: string } {
  try {
    execFileSync("bash", [script], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: "/usr/bin:/bin" },
    });
    return { status: 0, stderr: "" };
  } catch (error) {
    const e = error as { status: number | null; stderr: string };
    return { status: e.status, stderr: e.stderr };
  }
}

function readIfThere(path: string): string {
  try {
    return readFileSync(path, "utf8").trimEnd();
  } catch {
    return "(none)";
  }
}

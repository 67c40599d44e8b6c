// runStudy as a library user drives it, on the labelled estimate (no sensor needed): hooks at the
// edges of the session, commits and runs; a run that outlives its timeout; post_command; builds in
// parallel up to `jobs`; one emp per directory; Ctrl-C through the signal.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storedStudy } from "../src/cli/resume.js";
import { resolveStudy } from "../src/config/resolve.js";
import { UsageError } from "../src/errors.js";
import { Ledger } from "../src/ledger/ledger.js";
import { EstimateBackend } from "../src/measure/estimate-backend.js";
import { sensorBackend } from "../src/measure/session.js";
import { StageRegistry } from "../src/pipeline/registry.js";
import { runStudy } from "../src/pipeline/session.js";
import { aggregateStage } from "../src/pipeline/stages/post.js";
import { baselineStage } from "../src/pipeline/stages/pre.js";
import { checkoutStage } from "../src/pipeline/stages/prepare.js";
import { measureStage } from "../src/pipeline/stages/run.js";
import { DirectoryLock } from "../src/results/lock.js";
import { EnergyWriter, powercapZone } from "./fixtures/energy.js";
import { FixtureTree, withRoots, writeCpuTopology } from "./fixtures/tree.js";

let scratch: string;
let repo: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "emp-pipeline-"));
  repo = join(scratch, "repo");
  mkdirSync(repo);
  const git = (...args: string[]) =>
    execFileSync(
      "git",
      ["-c", "user.name=t", "-c", "user.email=t@e", "-c", "commit.gpgsign=false", ...args],
      {
        cwd: repo,
      },
    );
  git("init", "-q", "-b", "main");
  for (const n of [1, 2, 3]) {
    writeFileSync(join(repo, "n.txt"), `${n}\n`);
    git("add", "-A");
    git("commit", "-q", "-m", `commit ${n}`);
  }
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function study(name: string, extra: Record<string, unknown> = {}) {
  return resolveStudy(
    {
      repo,
      commits: { last: 3 },
      command: "cat n.txt > /dev/null",
      repeat: 2,
      warmup: 0,
      baseline: "100ms",
      out: join(scratch, name),
      ...extra,
    },
    { configPath: join(scratch, `${name}.yaml`) },
  );
}

const estimate = () => new EstimateBackend("estimated for the test", 10);

describe("runStudy", () => {
  it("calls every hook at its edge, in order", async () => {
    const events: string[] = [];
    const summary = await runStudy(study("hooks"), {
      backend: estimate(),
      hooks: {
        sessionStart: () => {
          events.push("session-start");
        },
        commitStart: (c) => {
          events.push(`commit-start ${c.commit.subject}`);
        },
        commitEnd: (c) => {
          events.push(`commit-end ${c.commit.subject} ${c.state.worktree !== undefined}`);
        },
        runStart: (r) => {
          events.push(`run-start ${r.commit.subject} ${r.slot.repetition}`);
        },
        runEnd: (r) => {
          events.push(
            `run-end ${r.commit.subject} ${r.slot.repetition} ${r.result?.energy.cpu !== undefined}`,
          );
        },
        sessionEnd: (_context, s) => {
          events.push(`session-end ${s.commits.length}`);
        },
      },
    });
    expect(summary.commits.map((c) => c.runs)).toEqual([2, 2, 2]);
    expect(events).toEqual([
      "session-start",
      "commit-start commit 1",
      "commit-end commit 1 true",
      "commit-start commit 2",
      "commit-end commit 2 true",
      "commit-start commit 3",
      "commit-end commit 3 true",
      ...[0, 1].flatMap((rep) =>
        [1, 2, 3].flatMap((n) => [`run-start commit ${n} ${rep}`, `run-end commit ${n} ${rep} true`]),
      ),
      "session-end 3",
    ]);
  });

  it("kills a run past its timeout, keeps it as a failed run, and runs post_command after every run", async () => {
    const post = join(scratch, "post.txt");
    const startedMs = Date.now();
    const summary = await runStudy(
      study("timeout", {
        commits: "HEAD",
        command: "sleep 5",
        repeat: 2,
        timeout: "300ms",
        post_command: `echo done >> ${post}`,
      }),
      { backend: estimate() },
    );
    expect(Date.now() - startedMs).toBeLessThan(4000);
    expect(summary.failed_runs).toBe(2);
    // Timed-out runs are not the command's work: counted, and left out of the statistics.
    expect(summary.commits[0]?.runs).toBe(0);
    expect(summary.commits[0]?.failed_runs).toBe(2);
    expect(summary.warnings.join("\n")).toMatch(/timed out after 0.3 s/);
    expect(readFileSync(post, "utf8")).toBe("done\ndone\n");
    const ledger = Ledger.open(join(scratch, "timeout"));
    try {
      const runs = ledger.runs();
      expect(runs.map((r) => r.timedOut)).toEqual([true, true]);
      for (const r of runs) expect(Number(r.endNs - r.startNs) / 1e9).toBeLessThan(1);
    } finally {
      ledger.close();
    }
  });

  it("builds `jobs` commits at once", async () => {
    const spans = join(scratch, "spans.txt");
    // Each build records its start and end (ms); three builds of 0.4 s with jobs 3 overlap.
    const build = `s=$(date +%s%3N); sleep 0.4; echo "$s $(date +%s%3N)" >> ${spans}`;
    await runStudy(study("parallel", { build, jobs: 3, repeat: 1 }), { backend: estimate() });
    const intervals = readFileSync(spans, "utf8")
      .trim()
      .split("\n")
      .map((line) => line.split(" ").map(Number) as [number, number]);
    expect(intervals).toHaveLength(3);
    const latestStart = Math.max(...intervals.map((i) => i[0]));
    const earliestEnd = Math.min(...intervals.map((i) => i[1]));
    expect(latestStart).toBeLessThan(earliestEnd); // all three were building at the same moment
  });

  it("stops at the abort signal: the run in progress is not kept, the session is interrupted", async () => {
    const abort = new AbortController();
    const summary = await runStudy(study("abort", { command: "sleep 0.2", repeat: 3 }), {
      backend: estimate(),
      signal: abort.signal,
      hooks: {
        runEnd: (r) => {
          if (r.runs.length === 2) setTimeout(() => abort.abort(), 50);
        },
      },
    });
    expect(summary.interrupted).toBe(true);
    expect(summary.commits.reduce((n, c) => n + c.runs, 0)).toBe(2);
    const ledger = Ledger.open(join(scratch, "abort"));
    try {
      expect(ledger.lastSession()?.state).toBe("interrupted");
      expect(ledger.runs()).toHaveLength(2);
    } finally {
      ledger.close();
    }
  });

  it("warmup_policy: first-visit warms each commit up once per session, every-visit before each visit", async () => {
    const warmupsPerCommit = (name: string) => {
      const ledger = Ledger.open(join(scratch, name));
      try {
        const counts = new Map<string, [warmups: number, measured: number]>();
        for (const r of ledger.runs()) {
          const [warmups, measured] = counts.get(r.commit) ?? [0, 0];
          counts.set(r.commit, r.warmup ? [warmups + 1, measured] : [warmups, measured + 1]);
        }
        return [...counts.values()];
      } finally {
        ledger.close();
      }
    };
    // Three visits of one run per commit (interleaved, batch_size 1), two warmups per warmed visit.
    const options = { repeat: 3, warmup: 2 };
    await runStudy(study("first-visit", { ...options, warmup_policy: "first-visit" }), {
      backend: estimate(),
    });
    await runStudy(study("every-visit", options), { backend: estimate() });
    expect(warmupsPerCommit("first-visit")).toEqual([
      [2, 3],
      [2, 3],
      [2, 3],
    ]);
    expect(warmupsPerCommit("every-visit")).toEqual([
      [6, 3],
      [6, 3],
      [6, 3],
    ]);
  });

  it("min_run_ms: calibrates each commit once, before its warmups, and a resumed session keeps the count", async () => {
    const name = "calibrated";
    const abort = new AbortController();
    const first = await runStudy(study(name, { commits: "HEAD", repeat: 3, warmup: 1, min_run_ms: 50 }), {
      backend: estimate(),
      signal: abort.signal,
      hooks: {
        runEnd: (r) => {
          if (r.runs.filter((o) => !o.slot.warmup).length === 1) abort.abort();
        },
      },
    });
    expect(first.interrupted).toBe(true);
    // As emp resume does: the config the session stored, run again.
    const resumed = await runStudy(storedStudy(join(scratch, name)), { backend: estimate() });
    expect(resumed.interrupted).toBe(false);
    const ledger = Ledger.open(join(scratch, name));
    try {
      const sha = resumed.commits[0]?.commit ?? "";
      const calibration = ledger.calibration(sha, resumed.config_hash);
      const runs = ledger.runs();
      console.log(
        `min_run_ms 50: ${JSON.stringify(calibration)}; runs ${JSON.stringify(runs.map((r) => [r.sessionId === first.session ? 1 : 2, r.warmup ? "w" : "r", r.ordinal, r.iterations, Number(r.endNs - r.startNs) / 1e6]))}`,
      );
      expect(calibration?.sessionId).toBe(first.session);
      const iterations = calibration?.iterations ?? 0;
      // `cat` under sh takes a few ms: several iterations make a 50 ms run.
      expect(iterations).toBeGreaterThanOrEqual(2);
      // Every run, warmups too, in both sessions, at that count.
      expect(runs.map((r) => r.iterations)).toEqual(runs.map(() => iterations));
      expect(runs.map((r) => `${r.warmup ? "w" : "r"}${r.sessionId === first.session ? 1 : 2}`)).toEqual([
        "w1",
        "r1",
        "w2",
        "r2",
        "w2",
        "r2",
      ]);
      // The calibration runs were the first session's first runs (its ordinals 0..passes-1, not in the
      // ledger); the resumed session measured from ordinal 0 on: it did not calibrate again.
      expect(runs[0]?.ordinal).toBe(calibration?.passes);
      expect(runs[2]?.ordinal).toBe(0);
      for (const r of runs) expect(Number(r.endNs - r.startNs) / 1e6).toBeGreaterThan(25);
      expect(resumed.min_run_ms).toBe(50);
      expect(resumed.commits[0]).toMatchObject({ runs: 3, iterations });
    } finally {
      ledger.close();
    }
  });

  it("refuses a directory another live emp holds, and takes over one whose owner is gone", () => {
    const dir = join(scratch, "locked");
    mkdirSync(dir);
    writeFileSync(join(dir, "emp.lock"), `${process.ppid}\n`); // a live process that is not us
    expect(() => DirectoryLock.acquire(dir)).toThrow(UsageError);
    expect(() => DirectoryLock.acquire(dir)).toThrow(/in use by another emp/);
    writeFileSync(join(dir, "emp.lock"), "999999999\n"); // no such process
    const lock = DirectoryLock.acquire(dir);
    expect(readFileSync(join(dir, "emp.lock"), "utf8").trim()).toBe(String(process.pid));
    lock.release();
  });
});

describe("runStudy on a sensor that stays still across the baseline's end", () => {
  it("keeps each run's raw energy and the commit's raw median, with no net energy and the baseline named", async () => {
    const tree = FixtureTree.create();
    try {
      writeCpuTopology(tree, 1, 1);
      const range = 1_999_999;
      const energy = powercapZone(tree, { id: "intel-rapl:0", name: "package-0", maxEnergyRangeUj: range });
      const flag = tree.path("busy.flag");
      // Still from the first reading until the first run's work (a stalled sensor), then 5 W idle and
      // 25 W while a run holds the flag.
      const writer = await EnergyWriter.start(tree, [
        {
          format: "text",
          path: energy,
          unitJ: 1e-6,
          wrap: range + 1,
          idleW: 5,
          busyW: 25,
          flagPath: flag,
          stillUntilFlag: true,
        },
      ]);
      // No verify-sensors: it would refuse a sensor silent from the start, as it should; this is what
      // the baseline stage does when the sensor stalls after it.
      const registry = new StageRegistry()
        .register("baseline", "pre", baselineStage)
        .register("checkout", "prepare", checkoutStage)
        .register("measure", "run", measureStage)
        .register("aggregate", "post", aggregateStage);
      let summary: Awaited<ReturnType<typeof runStudy>>;
      try {
        summary = await withRoots({ EMP_SYSFS_ROOT: tree.root }, () => {
          const backend = sensorBackend({ sources: ["powercap"], sampleHz: 1000 });
          if (backend === undefined) throw new Error("the powercap fixture is not readable");
          return runStudy(
            study("stalled-baseline", {
              commits: "HEAD",
              command: `touch ${flag}; sleep 0.4; rm ${flag}`,
              baseline: "300ms",
            }),
            { backend, registry },
          );
        });
      } finally {
        await writer.stop();
      }
      console.log(`stalled baseline in emp run: ${JSON.stringify(summary.commits[0]?.domains)}`);
      expect(Object.keys(summary.baseline_unknown)).toEqual(["package-0"]);
      expect(summary.baseline_unknown["package-0"]).toMatch(/after the last fresh reading/);
      expect(summary.warnings).toContainEqual(
        expect.stringMatching(/^package-0: the idle baseline's power is unknown .* no net energy$/),
      );
      expect(summary.warnings.filter((w) => /raw energy only/.test(w))).toHaveLength(2);
      const domain = summary.commits[0]?.domains["package-0"];
      expect([domain?.net_median_j, domain?.net_mean_j, domain?.ci95_j, domain?.cv]).toEqual([
        null,
        null,
        null,
        null,
      ]);
      // 25 W while the run held the flag, which is all of it but the shell's start and exit: at most
      // 25 W x its length (and a 12.5 mJ step of the writer), and not 10 % less.
      const share = (domain?.raw_median_j ?? 0) / (25 * (domain?.median_s ?? 0));
      expect(share).toBeGreaterThan(0.9);
      expect(share).toBeLessThan(1.01);
      const runs = tableFromIPC(readFileSync(join(scratch, "stalled-baseline", "runs.arrow")));
      expect([0, 1].map((i) => runs.getChild("package-0_net_j")?.get(i))).toEqual([null, null]);
      expect([0, 1].map((i) => runs.getChild("package-0_raw_j")?.get(i) > 0)).toEqual([true, true]);
    } finally {
      tree.remove();
    }
  });
});

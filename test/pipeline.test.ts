// runStudy as a library user drives it, on the labelled estimate (no sensor needed): hooks at the
// edges of the session, commits and runs; a run that outlives its timeout; post_command; builds in
// parallel up to `jobs`; one emp per directory; Ctrl-C through the signal.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveStudy } from "../src/config/resolve.js";
import { UsageError } from "../src/errors.js";
import { Ledger } from "../src/ledger/ledger.js";
import { EstimateBackend } from "../src/measure/estimate-backend.js";
import { DirectoryLock } from "../src/pipeline/lock.js";
import { runStudy } from "../src/pipeline/session.js";

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
    expect(summary.commits[0]?.runs).toBe(2);
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

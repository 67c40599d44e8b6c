// The study summary from ledger rows: statistics per iteration where runs iterated the command
// (min_run_ms), and the warning that emp report's comparisons of neighbouring commits cannot reach
// alpha with the runs there are, naming the repeat count that would.
import { describe, expect, it } from "vitest";
import type { CommitInfo } from "../src/git/commit.js";
import type { LedgerRunRow } from "../src/ledger/ledger.js";
import { comparisonsWarning, summarizeCommits } from "../src/pipeline/summary.js";

function commit(n: number): CommitInfo {
  const sha = String(n).repeat(40);
  return { sha, short: sha.slice(0, 7), subject: `commit ${n}`, author: "a", date: "2025-01-01T00:00:00Z" };
}
const [A, B, C, D] = [1, 2, 3, 4].map(commit) as [CommitInfo, CommitInfo, CommitInfo, CommitInfo];

let nextId = 1;
function run(c: CommitInfo, o: Partial<LedgerRunRow> & { netJ?: number | null; seconds?: number } = {}) {
  const { netJ = 1, seconds = 0.1, ...rest } = o;
  const row: LedgerRunRow = {
    id: nextId++,
    sessionId: "s",
    commit: c.sha,
    configHash: "h",
    repetition: 0,
    ordinal: 0,
    warmup: false,
    startNs: 0n,
    endNs: BigInt(Math.round(seconds * 1e9)),
    exitCode: 0,
    signal: null,
    timedOut: false,
    energy: {
      "package-0": { rawJ: (netJ ?? 0) + 0.5, baselineJ: netJ === null ? null : 0.5, netJ },
      // No baseline for dram-0 in any run: emp report has no net energy to compare there.
      "dram-0": { rawJ: 0.25, baselineJ: null, netJ: null },
    },
    metrics: {},
    warnings: [],
    iterations: 1,
    ...rest,
  };
  return row;
}
const times = <T>(n: number, make: (i: number) => T) => Array.from({ length: n }, (_, i) => make(i));

describe("summarizeCommits", () => {
  it("reports energy and time per iteration, and the commit's iterations", () => {
    // 40 iterations in 0.4 s using 8 J net: 0.2 J and 10 ms per iteration.
    const runs = [
      run(A, { warmup: true, netJ: 80, seconds: 4, iterations: 40 }),
      ...times(3, () => run(A, { netJ: 8, seconds: 0.4, iterations: 40 })),
    ];
    const [a] = summarizeCommits([A], runs);
    expect(a?.iterations).toBe(40);
    expect(a?.runs).toBe(3);
    expect(a?.domains["package-0"]?.net_median_j).toBeCloseTo(0.2, 12);
    expect(a?.domains["package-0"]?.raw_median_j).toBeCloseTo(8.5 / 40, 12);
    expect(a?.domains["package-0"]?.median_s).toBeCloseTo(0.01, 12);
  });
});

describe("comparisonsWarning", () => {
  it("judges the neighbouring commits with successful runs, per domain with net energy, Holm over them all", () => {
    const runs = [
      ...times(3, () => run(A)),
      ...times(3, () => run(B)),
      run(B, { exitCode: 1 }), // failed: not compared
      run(C, { exitCode: 1 }), // no successful run: not a group, so B's neighbour is D
      ...times(4, () => run(D)),
      run(D, { warmup: true }),
    ];
    // A-B and B-D on package-0: 2 comparisons, the worse 3 vs 3, whose smallest p is 0.1. By hand:
    // 5 vs 5 reach 2 x 2/C(10,5) = 0.016, 4 vs 4 only 2 x 2/C(8,4) = 0.057; with one run out of
    // place (U = n) 8 vs 8 give 2 x 2 x 67/C(16,8) = 0.021, 7 vs 7 2 x 2 x 45/C(14,7) = 0.052.
    expect(comparisonsWarning([A, B, C, D], runs)).toBe(
      "comparing neighbouring commits (as emp report does): with 3 vs 3 runs the Mann-Whitney test " +
        "cannot reach p < 0.05 after Holm over 2 comparisons (its smallest p is 0.1, 0.2 adjusted): " +
        "no difference can show; repeat at least 5 times (--repeat 5); --repeat 8 tolerates one disturbed run",
    );
  });

  it("says nothing when the runs can reach alpha even with one stray run, or when nothing is compared", () => {
    const runs = [...times(12, () => run(A)), ...times(12, () => run(B))];
    expect(comparisonsWarning([A, B], runs)).toBeNull();
    expect(comparisonsWarning([A], runs)).toBeNull();
  });
});

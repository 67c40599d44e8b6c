// The order of runs across commits: interleaved cycles, seeded shuffles, grouped visits, batches,
// warmups per visit, and a resumed study doing only what is left.
import { describe, expect, it } from "vitest";
import type { CommitInfo } from "../src/git/commit.js";
import { slotLogName, slotName } from "../src/ledger/run-name.js";
import { planRuns } from "../src/pipeline/plan.js";

function commit(sha: string): CommitInfo {
  return { sha, short: sha, subject: sha, author: "a", date: "2026-01-01T00:00:00Z" };
}
const [A, B, C] = [commit("a"), commit("b"), commit("c")] as [CommitInfo, CommitInfo, CommitInfo];
const fresh = [A, B, C].map((c) => ({ commit: c, done: 0 }));
const compact = (slots: ReturnType<typeof planRuns>) =>
  slots.map((s) => `${s.commit.sha}${s.warmup ? "w" : ""}${s.repetition}`).join(" ");

describe("planRuns", () => {
  it("interleaves: every commit once per cycle", () => {
    const slots = planRuns(fresh, { repeat: 2, warmup: 0, batchSize: 1, order: "interleaved", seed: 1 });
    expect(compact(slots)).toBe("a0 b0 c0 a1 b1 c1");
    expect(slots.map((s) => s.cycle)).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it("puts the warmups at the start of every visit, and batches measured runs per visit", () => {
    const slots = planRuns(fresh.slice(0, 2), {
      repeat: 3,
      warmup: 1,
      batchSize: 2,
      order: "interleaved",
      seed: 1,
    });
    // Warmups are numbered on per commit across visits, apart from the measured runs.
    expect(compact(slots)).toBe("aw0 a0 a1 bw0 b0 b1 aw1 a2 bw1 b2");
  });

  it("numbers warmups on from those an earlier session ran, so no two share a name or a log", () => {
    const slots = planRuns([{ commit: A, done: 1, warmupsDone: 2 }], {
      repeat: 3,
      warmup: 1,
      batchSize: 1,
      order: "interleaved",
      seed: 1,
    });
    expect(compact(slots)).toBe("aw2 a1 aw3 a2");
    expect(slots.map(slotName)).toEqual(["warmup 3", "run 2", "warmup 4", "run 3"]);
    expect(slots.map(slotLogName)).toEqual(["warmup-3.log", "run-2.log", "warmup-4.log", "run-3.log"]);
  });

  it("first-visit: a commit's warmups only before its first visit of the session, numbered on", () => {
    const options = { repeat: 3, warmup: 2, batchSize: 1, order: "interleaved" as const, seed: 1 };
    const first = planRuns(fresh.slice(0, 2), { ...options, warmupPolicy: "first-visit" });
    expect(compact(first)).toBe("aw0 aw1 a0 bw0 bw1 b0 a1 b1 a2 b2");
    // every-visit, the default: the same warmups before each of the three visits.
    const every = planRuns(fresh.slice(0, 2), { ...options, warmupPolicy: "every-visit" });
    expect(every.filter((s) => s.warmup)).toHaveLength(12);
    expect(compact(planRuns(fresh.slice(0, 2), options))).toBe(compact(every));
    // A later session (resumed) warms up again on its own first visit, numbering after the earlier ones.
    const resumed = planRuns([{ commit: A, done: 1, warmupsDone: 2 }], {
      ...options,
      warmupPolicy: "first-visit",
    });
    expect(compact(resumed)).toBe("aw2 aw3 a1 a2");
  });

  it("groups: all of a commit's runs, then the next", () => {
    const slots = planRuns(fresh, { repeat: 2, warmup: 1, batchSize: 1, order: "grouped", seed: 1 });
    expect(compact(slots)).toBe("aw0 a0 a1 bw0 b0 b1 cw0 c0 c1");
  });

  it("shuffles each cycle with the seed: the same seed gives the same order, another seed another", () => {
    const options = { repeat: 8, warmup: 0, batchSize: 1, order: "shuffled" as const, seed: 42 };
    const one = compact(planRuns(fresh, options));
    expect(compact(planRuns(fresh, options))).toBe(one);
    expect(compact(planRuns(fresh, { ...options, seed: 43 }))).not.toBe(one);
    const slots = planRuns(fresh, options);
    // Still every commit once per cycle, and 8 runs each.
    for (let cycle = 0; cycle < 8; cycle++) {
      expect(
        slots
          .filter((s) => s.cycle === cycle)
          .map((s) => s.commit.sha)
          .sort(),
      ).toEqual(["a", "b", "c"]);
    }
    expect(new Set(slots.slice(0, 3).map((s) => s.commit.sha)).size).toBe(3);
    const orders = new Set(
      Array.from({ length: 8 }, (_, k) =>
        slots
          .slice(3 * k, 3 * k + 3)
          .map((s) => s.commit.sha)
          .join(""),
      ),
    );
    expect(orders.size).toBeGreaterThan(1);
  });

  it("does only what is left: repetitions continue from the runs already done", () => {
    const slots = planRuns(
      [
        { commit: A, done: 2 },
        { commit: B, done: 0 },
        { commit: C, done: 3 },
      ],
      { repeat: 3, warmup: 0, batchSize: 1, order: "interleaved", seed: 1 },
    );
    expect(compact(slots)).toBe("a2 b0 b1 b2");
    expect(
      planRuns([{ commit: A, done: 5 }], { repeat: 3, warmup: 1, batchSize: 1, order: "grouped", seed: 1 }),
    ).toEqual([]);
  });
});

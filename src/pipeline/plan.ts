// The order of a session's runs across commits. Interleaving (every commit once per cycle) spreads
// slow drift of the machine (temperature, background load) over all commits instead of loading it
// onto whichever commit ran last; shuffling with a seed also breaks a fixed order's own bias.
import type { WarmupPolicy } from "../config/study.js";
import type { CommitInfo } from "../git/commit.js";
import { mulberry32 } from "../stats/random.js";
import type { RunSlot } from "./stage.js";

export type RunOrder = "interleaved" | "shuffled" | "grouped";

export interface PlanInput {
  commit: CommitInfo;
  /** Measured runs already in the ledger for this commit and config. */
  done: number;
  /** Warmup runs already in the ledger for this commit and config: the next warmup's number. */
  warmupsDone?: number;
}

export interface PlanOptions {
  repeat: number;
  /** Unmeasured runs at the start of a visit to a commit (its caches and binary go cold between visits). */
  warmup: number;
  /** Which visits start with the warmups: every one (the default), or a commit's first of the session. */
  warmupPolicy?: WarmupPolicy;
  /** Measured runs per visit. */
  batchSize: number;
  order: RunOrder;
  seed: number;
}

/** Every run still to do, in the order to run them; empty when each commit has `repeat` runs. */
export function planRuns(commits: readonly PlanInput[], options: PlanOptions): RunSlot[] {
  const next = commits.map((c) => ({
    commit: c.commit,
    repetition: Math.min(c.done, options.repeat),
    warmup: c.warmupsDone ?? 0,
    visited: false,
  }));
  const slots: RunSlot[] = [];
  const firstVisitOnly = options.warmupPolicy === "first-visit";
  const visit = (entry: (typeof next)[number], count: number, cycle: number) => {
    const warmups = firstVisitOnly && entry.visited ? 0 : options.warmup;
    entry.visited = true;
    for (let w = 0; w < warmups; w++)
      slots.push({ commit: entry.commit, warmup: true, repetition: entry.warmup++, cycle });
    for (let k = 0; k < count; k++) {
      slots.push({ commit: entry.commit, warmup: false, repetition: entry.repetition++, cycle });
    }
  };
  if (options.order === "grouped") {
    for (const entry of next)
      if (entry.repetition < options.repeat) visit(entry, options.repeat - entry.repetition, 0);
    return slots;
  }
  const random = mulberry32(options.seed);
  for (let cycle = 0; next.some((e) => e.repetition < options.repeat); cycle++) {
    const pending = next.filter((e) => e.repetition < options.repeat);
    if (options.order === "shuffled") shuffle(pending, random);
    for (const entry of pending)
      visit(entry, Math.min(options.batchSize, options.repeat - entry.repetition), cycle);
  }
  return slots;
}

/** Fisher–Yates in place. */
function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}

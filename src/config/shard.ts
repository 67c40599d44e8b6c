// `--shard K/N`: a study's commits cut into N deterministic, balanced slices, so that N machines (a
// Slurm job array) each measure one and `emp merge` puts them back together. Commit i of the study's
// selection (oldest first, 0-based) belongs to shard (i mod N) + 1: every shard holds commits from
// the whole history (a build that grows slower along it costs every shard alike) and the slices
// differ in size by at most one commit.
import { createHash } from "node:crypto";
import { UsageError } from "../errors.js";

export interface Shard {
  /** 1-based: the first shard is 1/N. */
  index: number;
  count: number;
}

const FORM = "K/N with whole numbers 1 <= K <= N, e.g. 1/4";

/** Why `text` is not a shard K/N, or undefined when it is one. */
export function shardProblem(text: string): string | undefined {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (match === null) return `must be ${FORM}`;
  const [index, count] = [Number(match[1]), Number(match[2])];
  if (!Number.isSafeInteger(count) || count < 1) return `must be ${FORM}: N is at least 1`;
  if (index < 1) return `must be ${FORM}: shards are numbered from 1`;
  if (index > count) return `must be ${FORM}: there is no shard ${index} of ${count}`;
  return undefined;
}

/** "2/4" as a shard; a UsageError naming the fix otherwise. */
export function parseShard(text: string, what = "--shard"): Shard {
  const problem = shardProblem(text);
  if (problem !== undefined) {
    throw new UsageError(`${what} ${JSON.stringify(text)}: ${problem}`, {
      suggestion: "write shard K of N as K/N, e.g. --shard 1/4 for the first of four",
    });
  }
  const [index, count] = text.split("/").map((part) => Number(part.trim()));
  return { index: index ?? 1, count: count ?? 1 };
}

export const shardText = (shard: Shard): string => `${shard.index}/${shard.count}`;

/** The items of `shard`, in their order. */
export function shardSlice<T>(items: readonly T[], shard: Shard): T[] {
  return items.filter((_, i) => i % shard.count === shard.index - 1);
}

/**
 * What every shard of one campaign must agree on: the whole selection it was cut from. Shards that
 * resolved it differently (a branch moved between their starts) would miss or repeat commits.
 */
export function selectionDigest(shas: readonly string[]): string {
  return createHash("sha256").update(shas.join("\n")).digest("hex").slice(0, 16);
}

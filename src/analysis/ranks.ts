// Mid-ranks of pooled samples and the sizes of their tie groups: what the rank tests (Mann-Whitney,
// the change-point scan) and their tie corrections are built on.

export interface Ranked {
  /** Rank of each value in input order, 1-based; tied values share the mean of their ranks. */
  ranks: Float64Array;
  /** Size of every group of equal values that has more than one member. */
  ties: number[];
}

/** Ranks `values` together, ties getting mid-ranks, as R's rank(ties.method = "average") does. */
export function midRanks(values: readonly number[]): Ranked {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (values[a] as number) - (values[b] as number),
  );
  const ranks = new Float64Array(n);
  const ties: number[] = [];
  for (let start = 0; start < n; ) {
    let end = start + 1;
    const value = values[order[start] as number] as number;
    while (end < n && values[order[end] as number] === value) end++;
    // Positions start..end-1 hold equal values: ranks start+1..end, whose mean is (start+1+end)/2.
    const rank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) ranks[order[i] as number] = rank;
    if (end - start > 1) ties.push(end - start);
    start = end;
  }
  return { ranks, ties };
}

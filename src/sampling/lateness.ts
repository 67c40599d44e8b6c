// Quantiles of the sampler's lateness over a whole session in fixed memory: a 10 kHz run of ten
// minutes has six million ticks, too many to keep only to sort them once at the end.

const BUCKET_NS = 100;
const BUCKETS = 100_000; // 100 ns resolution up to 10 ms; later ticks share the last bucket

export class LatenessHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private total = 0;
  private maxNs = 0;

  add(latenessNs: ArrayLike<number>): void {
    for (let i = 0; i < latenessNs.length; i++) {
      const ns = latenessNs[i] as number;
      const bucket = Math.min(BUCKETS - 1, Math.max(0, Math.floor(ns / BUCKET_NS)));
      this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
      if (ns > this.maxNs) this.maxNs = ns;
    }
    this.total += latenessNs.length;
  }

  get count(): number {
    return this.total;
  }

  get maxUs(): number {
    return this.maxNs / 1000;
  }

  /** The q-quantile in µs, to 0.1 µs (the upper edge of its bucket, capped at the maximum). */
  quantileUs(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b] ?? 0;
      if (seen >= rank) return Math.min(((b + 1) * BUCKET_NS) / 1000, this.maxUs);
    }
    return this.maxUs;
  }
}

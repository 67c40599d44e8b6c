// A small seeded generator for the bootstrap: results must repeat run to run, which Math.random cannot.

/**
 * mulberry32: a 32-bit state generator returning uniform numbers in [0, 1). Its period (2^32) and
 * quality are ample for resampling indices; it is not for cryptography.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The first and the last items of a series that grows with the number of runs (the per-run details
// of a summary over 10,000 runs), and a count of those between: bounded, whatever the length.

export class HeadTail<T> {
  private readonly head: T[] = [];
  private readonly tail: T[] = [];
  private dropped = 0;

  /** Keeps the first `keepEach` items and the last `keepEach`. */
  constructor(private readonly keepEach: number) {}

  static of<T>(items: readonly T[], keepEach: number): HeadTail<T> {
    const kept = new HeadTail<T>(keepEach);
    for (const item of items) kept.push(item);
    return kept;
  }

  push(item: T): void {
    if (this.head.length < this.keepEach) {
      this.head.push(item);
      return;
    }
    this.tail.push(item);
    if (this.tail.length > this.keepEach) {
      this.tail.shift();
      this.dropped++;
    }
  }

  /** Items left out between the head and the tail. */
  get omitted(): number {
    return this.dropped;
  }

  items(): T[] {
    return [...this.head, ...this.tail];
  }
}

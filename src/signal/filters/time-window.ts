/**
 * The samples of the last `windowMs` milliseconds, kept both in arrival order (to expire them)
 * and sorted by value (for medians, percentiles and trimmed means). Plain arrays with a moving
 * head and binary search: a push or an expiry costs O(window size) at worst, nothing per call
 * is allocated once the arrays have grown.
 */
export class TimeWindow {
  readonly windowMs: number;
  private times: Float64Array = new Float64Array(64);
  private values: Float64Array = new Float64Array(64);
  private head = 0;
  private tail = 0;
  /** Values of the window, ascending, in `sorted[0..count)`. */
  private sorted: Float64Array = new Float64Array(64);
  private count = 0;

  constructor(windowMs: number) {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
    this.windowMs = windowMs;
  }

  get size(): number {
    return this.count;
  }

  /** Adds a sample and expires those `windowMs` or more older than it. */
  push(atMs: number, value: number): void {
    this.expire(atMs);
    if (this.tail === this.times.length) this.growQueue();
    this.times[this.tail] = atMs;
    this.values[this.tail] = value;
    this.tail++;
    if (this.count === this.sorted.length) {
      const grown = new Float64Array(this.sorted.length * 2);
      grown.set(this.sorted);
      this.sorted = grown;
    }
    const at = this.lowerBound(value);
    this.sorted.copyWithin(at + 1, at, this.count);
    this.sorted[at] = value;
    this.count++;
  }

  /** Drops samples taken at or before `nowMs - windowMs` (a sample's age must be < windowMs). */
  expire(nowMs: number): void {
    const cutoff = nowMs - this.windowMs;
    while (this.head < this.tail && this.times[this.head] <= cutoff) {
      const at = this.lowerBound(this.values[this.head]);
      this.sorted.copyWithin(at, at + 1, this.count);
      this.count--;
      this.head++;
    }
  }

  /** The oldest sample's time, or `undefined` when empty. */
  oldestMs(): number | undefined {
    return this.head < this.tail ? this.times[this.head] : undefined;
  }

  /** The i-th smallest value (0-based). */
  nth(i: number): number {
    return this.sorted[i];
  }

  /**
   * The p-th percentile (0..100), interpolating linearly between closest ranks (Hyndman &
   * Fan type 7, the default of R and NumPy): p = 50 is the median, 100 the maximum.
   */
  percentile(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = (p / 100) * (this.count - 1);
    const lo = Math.floor(rank);
    const hi = Math.min(this.count - 1, lo + 1);
    return this.sorted[lo] + (rank - lo) * (this.sorted[hi] - this.sorted[lo]);
  }

  clear(): void {
    this.head = 0;
    this.tail = 0;
    this.count = 0;
  }

  private lowerBound(value: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid] < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Makes room at the tail: compacts the live part to the front, doubling when half full. */
  private growQueue(): void {
    const live = this.tail - this.head;
    if (live * 2 > this.times.length) {
      const times = new Float64Array(this.times.length * 2);
      const values = new Float64Array(this.values.length * 2);
      times.set(this.times.subarray(this.head, this.tail));
      values.set(this.values.subarray(this.head, this.tail));
      this.times = times;
      this.values = values;
    } else {
      this.times.copyWithin(0, this.head, this.tail);
      this.values.copyWithin(0, this.head, this.tail);
    }
    this.head = 0;
    this.tail = live;
  }
}

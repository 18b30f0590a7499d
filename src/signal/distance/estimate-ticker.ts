/**
 * When to report: on a fixed grid of `intervalMs` (every 30 s on the Unix clock by default),
 * a tick is reported once the stream has passed it, so its estimate uses exactly the samples
 * taken at or before the tick. Ticks with no new sample since the previous one (gaps in
 * reception) are skipped; `finish()` gives the tick pending at the end of the stream.
 */
export const ESTIMATE_INTERVAL_MS = 30_000;

export class EstimateTicker {
  readonly intervalMs: number;
  private nextTickMs: number | undefined;

  constructor(intervalMs = ESTIMATE_INTERVAL_MS) {
    if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${intervalMs}`);
    this.intervalMs = intervalMs;
  }

  /**
   * Call with each sample's time before pushing the sample into the estimators. Returns the
   * tick to report now (the estimators hold every sample up to it), or `undefined`.
   */
  beforeSample(atMs: number): number | undefined {
    if (this.nextTickMs === undefined) {
      this.nextTickMs = this.gridAtOrAfter(atMs);
      return undefined;
    }
    if (atMs <= this.nextTickMs) return undefined;
    const tick = this.nextTickMs;
    this.nextTickMs = this.gridAtOrAfter(atMs);
    return tick;
  }

  /** The tick pending after the last sample, if any; the ticker is then reset. */
  finish(): number | undefined {
    const tick = this.nextTickMs;
    this.nextTickMs = undefined;
    return tick;
  }

  private gridAtOrAfter(atMs: number): number {
    return Math.ceil(atMs / this.intervalMs) * this.intervalMs;
  }
}

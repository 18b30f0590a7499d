import type { SignalFilter, TimedSample } from "./signal-filter.js";
import { TimeWindow } from "./time-window.js";

/**
 * AltBeacon's `RunningAverageRssiFilter`: samples expire after 20 s
 * (`DEFAULT_SAMPLE_EXPIRATION_MILLISECONDS = 20000`), and of n > 2 sorted samples the mean of
 * indices `floor(n/10) + 1 .. n - floor(n/10) - 2` is taken (about the top and bottom 10 %
 * dropped). android-beacon-library, org.altbeacon.beacon.service.RunningAverageRssiFilter.
 */
export const ALTBEACON_SAMPLE_EXPIRATION_MS = 20_000;

export interface TrimmedMeanOptions {
  /** Samples younger than this count. Default 20 s (AltBeacon). */
  readonly windowMs?: number;
  /**
   * Drop this fraction (0 <= f < 0.5) of the samples at each end, rounded down. Default:
   * AltBeacon's own index rule (see `ALTBEACON_SAMPLE_EXPIRATION_MS`).
   */
  readonly trimFraction?: number;
}

/** A trimmed mean over a time window, AltBeacon style by default. */
export class TrimmedMean implements SignalFilter {
  private readonly window: TimeWindow;
  private readonly trimFraction: number | undefined;

  constructor(options: TrimmedMeanOptions = {}) {
    this.window = new TimeWindow(options.windowMs ?? ALTBEACON_SAMPLE_EXPIRATION_MS);
    const f = options.trimFraction;
    if (f !== undefined && !(f >= 0 && f < 0.5))
      throw new RangeError(`trimFraction must be in [0, 0.5), got ${f}`);
    this.trimFraction = f;
  }

  push(sample: TimedSample): void {
    this.window.push(sample.atMs, sample.value);
  }

  value(): number | undefined {
    const n = this.window.size;
    if (n === 0) return undefined;
    let first = 0;
    let last = n - 1;
    if (this.trimFraction !== undefined) {
      const k = Math.floor(n * this.trimFraction);
      first = k;
      last = n - 1 - k;
    } else if (n > 2) {
      first = Math.floor(n / 10) + 1;
      last = n - Math.floor(n / 10) - 2;
    }
    let sum = 0;
    for (let i = first; i <= last; i++) sum += this.window.nth(i);
    return sum / (last - first + 1);
  }

  reset(): void {
    this.window.clear();
  }
}

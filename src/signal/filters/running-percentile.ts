import type { SignalFilter, TimedSample } from "./signal-filter.js";
import { TimeWindow } from "./time-window.js";

/**
 * Herald's self-calibrating model reads "max RSSI" as a high percentile (its example: the
 * 95th) of the RSSI a phone measures, herald-for-android `SelfCalibratedModel`.
 */
export const HERALD_MAX_RSSI_PERCENTILE = 95;

export interface RunningPercentileOptions {
  /** 0..100; 50 is the median, 100 the maximum. Default 95 (Herald's "max RSSI"). */
  readonly percentile?: number;
  /** Samples younger than this count. Default 60 s (Herald's smoothing window). */
  readonly windowMs?: number;
}

/**
 * A percentile of the samples of the last `windowMs`, interpolated between closest ranks
 * (`TimeWindow.percentile`). A high percentile over a few minutes follows the strongest
 * propagation path and ignores the deep fades multipath causes.
 */
export class RunningPercentile implements SignalFilter {
  readonly percentile: number;
  private readonly window: TimeWindow;

  constructor(options: RunningPercentileOptions = {}) {
    this.percentile = options.percentile ?? HERALD_MAX_RSSI_PERCENTILE;
    if (!(this.percentile >= 0 && this.percentile <= 100))
      throw new RangeError(`percentile must be in [0, 100], got ${this.percentile}`);
    this.window = new TimeWindow(options.windowMs ?? 60_000);
  }

  push(sample: TimedSample): void {
    this.window.push(sample.atMs, sample.value);
  }

  value(): number | undefined {
    return this.window.percentile(this.percentile);
  }

  reset(): void {
    this.window.clear();
  }
}

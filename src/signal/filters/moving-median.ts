import type { SignalFilter, TimedSample } from "./signal-filter.js";
import { TimeWindow } from "./time-window.js";

/**
 * Herald's smoothing window: the median RSSI of the last 60 s ("running a sliding window of
 * fixed duration (last 60 seconds) over the raw RSSI samples to calculate the median"),
 * herald-for-android `SmoothedLinearModelAnalyser` / `SmoothedLinearModel`.
 */
export const HERALD_SMOOTHING_WINDOW_MS = 60_000;

export interface MovingMedianOptions {
  /** Samples younger than this count. Default 60 s (Herald). */
  readonly windowMs?: number;
  /** No output while the window holds fewer samples. Default 1. */
  readonly minSamples?: number;
}

/**
 * The median of the samples of the last `windowMs` (the mean of the two middle values when
 * their number is even, as Herald's `Median` aggregate).
 */
export class MovingMedian implements SignalFilter {
  private readonly window: TimeWindow;
  private readonly minSamples: number;

  constructor(options: MovingMedianOptions = {}) {
    this.window = new TimeWindow(options.windowMs ?? HERALD_SMOOTHING_WINDOW_MS);
    this.minSamples = Math.max(1, options.minSamples ?? 1);
  }

  push(sample: TimedSample): void {
    this.window.push(sample.atMs, sample.value);
  }

  value(): number | undefined {
    return this.window.size < this.minSamples ? undefined : this.window.percentile(50);
  }

  reset(): void {
    this.window.clear();
  }
}

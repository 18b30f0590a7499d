import type { SignalFilter, TimedSample } from "./signal-filter.js";

/**
 * Defaults of the widely copied RSSI example of kalmanjs (W. Bulten, "Kalman filters
 * explained: Removing noise from RSSI signals", 2016; `new KalmanFilter({R: 0.01, Q: 3})`).
 * kalmanjs names them the other way round from the textbook: its `R` is the process noise and
 * its `Q` the measurement noise. Here they carry their usual names: process noise Q = 0.01,
 * measurement noise R = 3 (dB²). kalmanjs applies Q once per sample; at the one sample a
 * second of a typical scanner that is 0.01 dB² per second.
 */
export const BULTEN_PROCESS_NOISE_DB2_PER_S = 0.01;
export const BULTEN_MEASUREMENT_NOISE_DB2 = 3;

export interface KalmanFilterOptions {
  /** Process noise Q: variance the true level gains per second of random walk (unit²/s). */
  readonly processNoisePerS?: number;
  /** Measurement noise R: variance of one sample around the true level (unit²). */
  readonly measurementNoise?: number;
  /** Variance of the first estimate. Default: R (the first sample alone). */
  readonly initialVariance?: number;
}

/**
 * One-dimensional Kalman filter for a level that drifts as a random walk: predict
 * `P += Q * dt`, update with gain `K = P / (P + R)`. Time-aware: samples sharing a timestamp
 * add no process noise, a long gap adds a lot.
 */
export class KalmanFilter implements SignalFilter {
  readonly processNoisePerS: number;
  readonly measurementNoise: number;
  private readonly initialVariance: number;
  private estimate: number | undefined;
  private variance = 0;
  private lastMs = 0;

  constructor(options: KalmanFilterOptions = {}) {
    this.processNoisePerS = options.processNoisePerS ?? BULTEN_PROCESS_NOISE_DB2_PER_S;
    this.measurementNoise = options.measurementNoise ?? BULTEN_MEASUREMENT_NOISE_DB2;
    this.initialVariance = options.initialVariance ?? this.measurementNoise;
    if (!(this.processNoisePerS >= 0)) throw new RangeError("processNoisePerS must be >= 0");
    if (!(this.measurementNoise > 0)) throw new RangeError("measurementNoise must be > 0");
  }

  push(sample: TimedSample): void {
    if (this.estimate === undefined) {
      this.estimate = sample.value;
      this.variance = this.initialVariance;
    } else {
      const dtS = Math.max(0, sample.atMs - this.lastMs) / 1000;
      const predicted = this.variance + this.processNoisePerS * dtS;
      const gain = predicted / (predicted + this.measurementNoise);
      this.estimate += gain * (sample.value - this.estimate);
      this.variance = (1 - gain) * predicted;
    }
    this.lastMs = sample.atMs;
  }

  value(): number | undefined {
    return this.estimate;
  }

  /** The variance of the current estimate (P). */
  estimateVariance(): number | undefined {
    return this.estimate === undefined ? undefined : this.variance;
  }

  reset(): void {
    this.estimate = undefined;
    this.variance = 0;
    this.lastMs = 0;
  }
}

import type { SignalFilter, TimedSample } from "./signal-filter.js";

/**
 * AltBeacon's `ArmaRssiFilter` moves the average 10 % of the way to each new sample
 * (`DEFAULT_ARMA_SPEED = 0.1`, recommended "for signals that change rather frequently (say,
 * 1Hz or faster)"). At one sample a second that is a time constant of -1 s / ln(0.9) = 9.49 s.
 */
export const ALTBEACON_ARMA_SPEED = 0.1;
export const ALTBEACON_ARMA_TIME_CONSTANT_MS = -1000 / Math.log(1 - ALTBEACON_ARMA_SPEED);

export interface ExponentialMovingAverageOptions {
  /**
   * Time-aware smoothing: a sample's weight decays as exp(-age / timeConstantMs).
   * Default 9.49 s (AltBeacon's 0.1 per sample at 1 Hz).
   */
  readonly timeConstantMs?: number;
  /**
   * Per-sample smoothing instead, AltBeacon style: `avg += smoothingFactor * (x - avg)`,
   * whatever the time between samples. Overrides `timeConstantMs`.
   */
  readonly smoothingFactor?: number;
}

/**
 * Exponential moving average. The time-aware form is a normalised exponentially weighted
 * mean, `sum(w_i x_i) / sum(w_i)` with `w_i = exp(-(t - t_i) / tau)`: samples that share a
 * timestamp are averaged rather than ignored, and at a steady rate it is the usual EMA with
 * `alpha = 1 - exp(-dt / tau)`.
 */
export class ExponentialMovingAverage implements SignalFilter {
  private readonly timeConstantMs: number;
  private readonly smoothingFactor: number | undefined;
  private weightedSum = 0;
  private weight = 0;
  private average: number | undefined;
  private lastMs = 0;

  constructor(options: ExponentialMovingAverageOptions = {}) {
    this.timeConstantMs = options.timeConstantMs ?? ALTBEACON_ARMA_TIME_CONSTANT_MS;
    if (!(this.timeConstantMs > 0))
      throw new RangeError(`timeConstantMs must be positive, got ${this.timeConstantMs}`);
    const a = options.smoothingFactor;
    if (a !== undefined && !(a > 0 && a <= 1))
      throw new RangeError(`smoothingFactor must be in (0, 1], got ${a}`);
    this.smoothingFactor = a;
  }

  push(sample: TimedSample): void {
    if (this.average === undefined) {
      this.average = sample.value;
      this.weightedSum = sample.value;
      this.weight = 1;
    } else if (this.smoothingFactor !== undefined) {
      this.average += this.smoothingFactor * (sample.value - this.average);
    } else {
      const decay = Math.exp(-Math.max(0, sample.atMs - this.lastMs) / this.timeConstantMs);
      this.weightedSum = this.weightedSum * decay + sample.value;
      this.weight = this.weight * decay + 1;
      this.average = this.weightedSum / this.weight;
    }
    this.lastMs = sample.atMs;
  }

  value(): number | undefined {
    return this.average;
  }

  reset(): void {
    this.average = undefined;
    this.weightedSum = 0;
    this.weight = 0;
    this.lastMs = 0;
  }
}

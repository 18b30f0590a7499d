/**
 * The shape of every signal filter: `push(sample)`, `value()`, `reset()` (docs/design.md,
 * Conventions).
 * Filters are causal: `value()` depends only on samples pushed so far. Chains of filters
 * (`FilterChain`) and a distance model make an estimator (`../distance/`).
 */

/** One timed value: RSSI (dBm), attenuation (dB) or a filter's output. */
export interface TimedSample {
  /** Receiver time, ms since the Unix epoch. Samples arrive in non-decreasing time. */
  readonly atMs: number;
  readonly value: number;
}

export interface SignalFilter {
  push(sample: TimedSample): void;
  /** The current output, or `undefined` before the filter has enough input. */
  value(): number | undefined;
  reset(): void;
}

/**
 * Filters in series: each pushed sample goes through the first filter, whose new output (at
 * the same time) is pushed into the next, and so on. While a stage has no output, the stages
 * after it receive nothing.
 */
export class FilterChain implements SignalFilter {
  readonly stages: readonly SignalFilter[];

  constructor(stages: readonly SignalFilter[]) {
    this.stages = stages;
  }

  push(sample: TimedSample): void {
    let value: number | undefined = sample.value;
    for (const stage of this.stages) {
      stage.push({ atMs: sample.atMs, value });
      value = stage.value();
      if (value === undefined) return;
    }
  }

  value(): number | undefined {
    return this.stages.length === 0 ? undefined : this.stages[this.stages.length - 1].value();
  }

  reset(): void {
    for (const stage of this.stages) stage.reset();
  }
}

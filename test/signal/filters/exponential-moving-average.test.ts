import { describe, expect, it } from "vitest";
import {
  ALTBEACON_ARMA_SPEED,
  ALTBEACON_ARMA_TIME_CONSTANT_MS,
  ExponentialMovingAverage,
} from "../../../src/signal/filters/exponential-moving-average.js";

describe("ExponentialMovingAverage", () => {
  it("moves 10 % of the way per sample in AltBeacon's per-sample mode", () => {
    const f = new ExponentialMovingAverage({ smoothingFactor: ALTBEACON_ARMA_SPEED });
    f.push({ atMs: 0, value: -70 });
    expect(f.value()).toBe(-70);
    f.push({ atMs: 5, value: -80 });
    expect(f.value()).toBeCloseTo(-71, 12);
    f.push({ atMs: 9000, value: -60 });
    expect(f.value()).toBeCloseTo(-69.9, 12);
  });

  it("weighs samples by exp(-age / tau) when time-aware", () => {
    const f = new ExponentialMovingAverage({ timeConstantMs: 1000 });
    f.push({ atMs: 0, value: 0 });
    f.push({ atMs: 1000, value: 1 });
    expect(f.value()).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    f.push({ atMs: 3000, value: 0 });
    // weights e^-3, e^-2, 1 for 0, 1, 0
    const w = [Math.exp(-3), Math.exp(-2), 1];
    expect(f.value()).toBeCloseTo(w[1] / (w[0] + w[1] + w[2]), 12);
  });

  it("averages samples that share a timestamp", () => {
    const f = new ExponentialMovingAverage();
    f.push({ atMs: 0, value: 0 });
    f.push({ atMs: 0, value: 10 });
    expect(f.value()).toBe(5);
  });

  it("is AltBeacon's 0.1 per sample at 1 Hz by default", () => {
    expect(ALTBEACON_ARMA_TIME_CONSTANT_MS).toBeCloseTo(9491, 0);
    const time = new ExponentialMovingAverage();
    const sample = new ExponentialMovingAverage({ smoothingFactor: 0.1 });
    for (let i = 0; i < 200; i++) {
      const value = -70 + 10 * Math.sin(i / 7);
      time.push({ atMs: i * 1000, value });
      sample.push({ atMs: i * 1000, value });
    }
    // Once the start-up weighting has faded the two agree.
    expect(time.value()).toBeCloseTo(sample.value() as number, 6);
  });

  it("rejects bad settings and forgets on reset", () => {
    expect(() => new ExponentialMovingAverage({ timeConstantMs: 0 })).toThrow(RangeError);
    expect(() => new ExponentialMovingAverage({ smoothingFactor: 1.5 })).toThrow(RangeError);
    const f = new ExponentialMovingAverage();
    f.push({ atMs: 0, value: 3 });
    f.reset();
    expect(f.value()).toBeUndefined();
  });
});

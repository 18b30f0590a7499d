import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../../src/core/random.js";
import {
  BULTEN_MEASUREMENT_NOISE_DB2,
  BULTEN_PROCESS_NOISE_DB2_PER_S,
  KalmanFilter,
} from "../../../src/signal/filters/kalman-filter.js";

/** Standard normal draws (Box-Muller) from a seeded stream. */
function gaussian(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => {
    let u = 0;
    while (u === 0) u = random.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.float());
  };
}

describe("KalmanFilter", () => {
  it("names the noises the textbook way, with kalmanjs's RSSI values", () => {
    const f = new KalmanFilter();
    expect(f.processNoisePerS).toBe(BULTEN_PROCESS_NOISE_DB2_PER_S);
    expect(f.measurementNoise).toBe(BULTEN_MEASUREMENT_NOISE_DB2);
    expect([BULTEN_PROCESS_NOISE_DB2_PER_S, BULTEN_MEASUREMENT_NOISE_DB2]).toEqual([0.01, 3]);
  });

  it("computes the textbook steps by hand", () => {
    const f = new KalmanFilter({ processNoisePerS: 1, measurementNoise: 1 });
    f.push({ atMs: 0, value: 0 }); // x = 0, P = R = 1
    expect([f.value(), f.estimateVariance()]).toEqual([0, 1]);
    f.push({ atMs: 1000, value: 2 }); // P- = 2, K = 2/3, x = 4/3, P = 2/3
    expect(f.value()).toBeCloseTo(4 / 3, 12);
    expect(f.estimateVariance()).toBeCloseTo(2 / 3, 12);
    f.push({ atMs: 1000, value: 2 }); // same time: P- = 2/3, K = 0.4, x = 1.6, P = 0.4
    expect(f.value()).toBeCloseTo(1.6, 12);
    expect(f.estimateVariance()).toBeCloseTo(0.4, 12);
    f.push({ atMs: 5000, value: 1.6 }); // 4 s: P- = 4.4
    expect(f.estimateVariance()).toBeCloseTo((4.4 * 1) / 5.4, 12);
  });

  it("converges on a constant level in noise", () => {
    const noise = gaussian(1);
    const f = new KalmanFilter({ processNoisePerS: 0.001, measurementNoise: 4 });
    for (let i = 0; i < 2000; i++) f.push({ atMs: i * 1000, value: -70 + 2 * noise() });
    expect(Math.abs((f.value() as number) + 70)).toBeLessThan(0.5);
    // Steady state of a random walk plus white noise: P = (-Q + sqrt(Q^2 + 4QR)) / 2.
    const q = 0.001;
    expect(f.estimateVariance()).toBeCloseTo((-q + Math.sqrt(q * q + 4 * q * 4)) / 2, 3);
  });

  it("follows a step with a delay set by Q / R", () => {
    const noise = gaussian(2);
    const fast = new KalmanFilter({ processNoisePerS: 1, measurementNoise: 4 });
    const slow = new KalmanFilter({ processNoisePerS: 0.01, measurementNoise: 4 });
    for (let i = 0; i < 600; i++) {
      const value = (i < 300 ? -80 : -60) + 2 * noise();
      fast.push({ atMs: i * 1000, value });
      slow.push({ atMs: i * 1000, value });
      if (i === 320) {
        expect(Math.abs((fast.value() as number) + 60)).toBeLessThan(2);
        expect(slow.value() as number).toBeLessThan(-65);
      }
    }
    expect(Math.abs((slow.value() as number) + 60)).toBeLessThan(1);
  });

  it("rejects bad noise settings and forgets on reset", () => {
    expect(() => new KalmanFilter({ measurementNoise: 0 })).toThrow(RangeError);
    expect(() => new KalmanFilter({ processNoisePerS: -1 })).toThrow(RangeError);
    const f = new KalmanFilter();
    f.push({ atMs: 0, value: 1 });
    f.reset();
    expect(f.value()).toBeUndefined();
    expect(f.estimateVariance()).toBeUndefined();
  });
});

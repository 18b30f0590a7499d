import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../../src/core/random.js";
import {
  distanceFromState,
  NHS_UKF_PARAMETERS,
  UnscentedKalmanFilter,
  unscentedKalmanSmooth,
} from "../../../src/signal/filters/unscented-kalman-filter.js";

function gaussian(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => {
    let u = 0;
    while (u === 0) u = random.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.float());
  };
}

/** Attenuations the NHS observation model emits at `distanceM`, with variance `variance` on the log. */
function attenuations(distances: readonly number[], variance: number, seed: number): number[] {
  const noise = gaussian(seed);
  const p = NHS_UKF_PARAMETERS;
  return distances.map((d) =>
    Math.exp(p.weightCoefficient * Math.log(d) + p.intercept + Math.sqrt(variance) * noise()),
  );
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe("UnscentedKalmanFilter", () => {
  it("carries the NHS example configuration", () => {
    expect(NHS_UKF_PARAMETERS).toMatchObject({
      expectedDistanceMPerS: 0.1,
      weightCoefficient: 0.1270547531082051,
      intercept: 4.2309333657856945,
      observationVariance: 0.4947614361027773,
      initialMeanM: 2,
      initialVarianceM2: 10,
    });
  });

  it("moves towards the distance the first observation implies", () => {
    const f = new UnscentedKalmanFilter();
    expect(f.value()).toBeUndefined();
    // ln(att) of the model at 0.5 m, no noise: the estimate drops below the 2 m prior.
    const p = NHS_UKF_PARAMETERS;
    f.push({ atMs: 0, value: Math.exp(p.weightCoefficient * Math.log(0.5) + p.intercept) });
    expect(f.state()?.meanM).toBeLessThan(2);
    expect(f.state()?.varianceM2).toBeLessThan(10);
  });

  it("converges on constant distances when the observations are informative", () => {
    for (const [d, seed] of [
      [1, 1],
      [3, 2],
    ]) {
      const f = new UnscentedKalmanFilter({
        observationVariance: 0.01,
        expectedDistanceMPerS: 0.01,
      });
      const estimates: number[] = [];
      attenuations(Array(1200).fill(d), 0.01, seed).forEach((value, i) => {
        f.push({ atMs: i * 1000, value });
        if (i >= 600) estimates.push(f.value() as number);
      });
      expect(Math.abs(mean(estimates) - d) / d, `d = ${d}`).toBeLessThan(0.1);
    }
  });

  it("orders distances with the NHS noise level, and follows a move", () => {
    const f = new UnscentedKalmanFilter();
    const truth = [...Array(900).fill(0.5), ...Array(900).fill(4)];
    const near: number[] = [];
    const far: number[] = [];
    attenuations(truth, NHS_UKF_PARAMETERS.observationVariance, 3).forEach((value, i) => {
      f.push({ atMs: i * 1000, value });
      if (i >= 300 && i < 900) near.push(f.value() as number);
      if (i >= 1200) far.push(f.value() as number);
    });
    expect(mean(near)).toBeLessThan(1.5);
    expect(mean(far)).toBeGreaterThan(2.5);
  });

  it("adds no motion between samples that share a timestamp, and ignores 0 dB", () => {
    const f = new UnscentedKalmanFilter({ observationVariance: 0.01 });
    attenuations(Array(30).fill(1), 0.01, 5).forEach((value, i) => {
      f.push({ atMs: i * 1000, value });
    });
    const before = f.state() as { meanM: number; varianceM2: number };
    f.push({ atMs: 29_000, value: 0 }); // no logarithm, no time: nothing changes
    expect(f.state()?.meanM).toBeCloseTo(before.meanM, 12);
    expect(f.state()?.varianceM2).toBeCloseTo(before.varianceM2, 12);
    f.push({ atMs: 39_000, value: 0 }); // 10 s of random walk: + 10 * 0.1^2 m^2
    expect(f.state()?.varianceM2).toBeCloseTo(before.varianceM2 + 0.1, 2);
    f.reset();
    expect(f.value()).toBeUndefined();
  });

  it("reports the Gamma median of the posterior", () => {
    expect(distanceFromState({ meanM: 2, varianceM2: 4 })).toBeCloseTo(2 * Math.LN2, 9); // shape 1, scale 2
    expect(distanceFromState({ meanM: 1.5, varianceM2: 0 })).toBe(1.5);
    expect(distanceFromState({ meanM: -0.1, varianceM2: 1 })).toBe(0);
  });
});

describe("unscentedKalmanSmooth", () => {
  it("beats the causal filter on the same series, using the future", () => {
    const truth = Array.from({ length: 1200 }, (_, i) => 1 + 0.8 * Math.sin(i / 150));
    const observed = attenuations(truth, 0.05, 4);
    const parameters = { observationVariance: 0.05, expectedDistanceMPerS: 0.03 };
    const f = new UnscentedKalmanFilter(parameters);
    const filtered = observed.map((value, i) => {
      f.push({ atMs: i * 1000, value });
      return f.state()?.meanM as number;
    });
    const smoothed = unscentedKalmanSmooth(observed, { parameters }).map((s) => s.meanM);
    const rmse = (xs: number[]) =>
      Math.sqrt(mean(xs.slice(100).map((x, i) => (x - truth[i + 100]) ** 2)));
    expect(smoothed).toHaveLength(1200);
    expect(rmse(smoothed)).toBeLessThan(rmse(filtered));
    expect(smoothed.at(-1)).toBe(filtered.at(-1));
  });

  it("bridges gaps and handles an empty series", () => {
    expect(unscentedKalmanSmooth([])).toEqual([]);
    const smoothed = unscentedKalmanSmooth([60, undefined, undefined, 60]);
    expect(smoothed).toHaveLength(4);
    for (const s of smoothed) expect(s.varianceM2).toBeGreaterThan(0);
  });
});

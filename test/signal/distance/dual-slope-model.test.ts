import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/core/errors.js";
import {
  bestThreshold,
  DualSlopeModel,
  EXPONENT_GRID,
  fitDualSlope,
  MAX_EXPONENT,
} from "../../../src/signal/distance/dual-slope-model.js";

describe("DualSlopeModel", () => {
  const model = new DualSlopeModel({
    breakpointM: 2,
    breakpointRssiDbm: -75,
    nearExponent: 1,
    farExponent: 10,
  });

  it("passes through the breakpoint with one exponent on each side", () => {
    expect(model.distanceM(-75)).toBe(2);
    expect(model.distanceM(-65)).toBeCloseTo(0.2, 12); // 10 dB with n = 1: a decade
    expect(model.distanceM(-95)).toBeCloseTo(2 * 10 ** 0.2, 12); // 20 dB with n = 10
  });

  it("is strictly decreasing in RSSI", () => {
    let previous = Number.POSITIVE_INFINITY;
    for (let rssi = -100; rssi <= -40; rssi += 0.5) {
      const d = model.distanceM(rssi);
      expect(d).toBeLessThan(previous);
      previous = d;
    }
  });

  it("rejects non-positive exponents", () => {
    expect(
      () =>
        new DualSlopeModel({
          breakpointM: 2,
          breakpointRssiDbm: -75,
          nearExponent: 0,
          farExponent: 1,
        }),
    ).toThrow(ConfigError);
  });
});

describe("bestThreshold", () => {
  it("finds the split with the best balanced accuracy, halfway between values", () => {
    const points = [
      { value: -60, distanceM: 0.5 },
      { value: -65, distanceM: 1 },
      { value: -70, distanceM: 1.5 },
      { value: -80, distanceM: 3 },
      { value: -85, distanceM: 2.5 },
    ];
    expect(bestThreshold(points)).toEqual({ threshold: -75, balancedAccuracy: 1 });
    expect(() => bestThreshold(points.slice(0, 2))).toThrow(/both within and beyond/);
  });
});

describe("fitDualSlope", () => {
  it("puts 2 m at the best threshold and fits each side's exponent", () => {
    // Near side generated with n = 1, far side with n = 5, breakpoint -75 dBm.
    const truth = new DualSlopeModel({
      breakpointM: 2,
      breakpointRssiDbm: -75,
      nearExponent: 1,
      farExponent: 5,
    });
    const points = [-60, -65, -70, -74, -76, -80, -85, -90].map((value) => ({
      value,
      distanceM: truth.distanceM(value),
    }));
    const fit = fitDualSlope(points);
    expect(fit.breakpointM).toBe(2);
    expect(fit.breakpointRssiDbm).toBe(-75);
    const model = new DualSlopeModel(fit);
    for (const p of points) expect(model.distanceM(p.value)).toBeCloseTo(p.distanceM, 1);
  });

  it("tries exponents from 0.1 to the cap", () => {
    expect(EXPONENT_GRID[0]).toBeCloseTo(0.1, 12);
    expect(EXPONENT_GRID.at(-1)).toBeCloseTo(MAX_EXPONENT, 9);
  });
});

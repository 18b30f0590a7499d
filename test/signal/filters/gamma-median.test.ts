import { describe, expect, it } from "vitest";
import {
  gammaMedian,
  lnGamma,
  regularizedLowerGamma,
} from "../../../src/signal/filters/gamma-median.js";

describe("gamma functions", () => {
  it("lnGamma matches factorials", () => {
    expect(lnGamma(1)).toBeCloseTo(0, 12);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
  });

  it("P(1, x) is the exponential CDF", () => {
    for (const x of [0.1, 1, 3, 10])
      expect(regularizedLowerGamma(1, x)).toBeCloseTo(1 - Math.exp(-x), 12);
  });

  it("gives known medians", () => {
    expect(gammaMedian(1, 1)).toBeCloseTo(Math.LN2, 10); // exponential
    expect(gammaMedian(1, 3)).toBeCloseTo(3 * Math.LN2, 10);
    expect(gammaMedian(0.5, 2)).toBeCloseTo(0.454936, 5); // chi-square, 1 degree of freedom
    expect(gammaMedian(2.5, 2)).toBeCloseTo(4.35146, 4); // chi-square, 5 degrees of freedom
    expect(() => gammaMedian(0, 1)).toThrow(RangeError);
  });
});

import { describe, expect, it } from "vitest";
import {
  balancedAccuracy,
  percentileInterval95,
  rocAuc,
} from "../../src/signal/decision-metrics.js";

describe("rocAuc", () => {
  it("is 1 for a perfect ranking, 0 for a reversed one, 0.5 for ties", () => {
    expect(rocAuc([1, 2, 3, 4], [false, false, true, true])).toBe(1);
    expect(rocAuc([4, 3, 2, 1], [false, false, true, true])).toBe(0);
    expect(rocAuc([1, 1, 1, 1], [false, true, false, true])).toBe(0.5);
  });

  it("counts pairs, ties as halves", () => {
    // Positives 3 and 2, negatives 1 and 2: pairs (3>1) (3>2) (2>1) (2=2) = 3.5 of 4.
    expect(rocAuc([3, 2, 1, 2], [true, true, false, false])).toBe(3.5 / 4);
  });

  it("is NaN without both classes", () => {
    expect(rocAuc([1, 2], [true, true])).toBeNaN();
  });
});

describe("balancedAccuracy", () => {
  it("averages the true-positive and true-negative rates", () => {
    // TPR 2/3, TNR 1/2.
    expect(
      balancedAccuracy([true, true, false, true, false], [true, true, true, false, false]),
    ).toBeCloseTo(7 / 12, 12);
    expect(balancedAccuracy([true, true, true], [true, false, false])).toBe(0.5);
    expect(balancedAccuracy([true], [true])).toBeNaN();
  });
});

describe("percentileInterval95", () => {
  it("gives the 2.5th and 97.5th percentiles, whatever the order", () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    expect(percentileInterval95(values)).toEqual([25, 975]);
    expect(percentileInterval95([3])).toEqual([3, 3]);
  });
});

import { describe, expect, it } from "vitest";
import { estimatorFor } from "../../../src/signal/distance/estimators.js";
import {
  HERALD_COEFFICIENT_M_PER_DBM,
  HERALD_INTERCEPT_M,
  HeraldLinearModel,
} from "../../../src/signal/distance/herald-linear-model.js";

describe("HeraldLinearModel", () => {
  it("has Herald's published parameters", () => {
    expect([HERALD_INTERCEPT_M, HERALD_COEFFICIENT_M_PER_DBM]).toEqual([-17.10208, -0.266793]);
    const model = new HeraldLinearModel();
    expect(model.distanceM(-70)).toBeCloseTo(-17.10208 + 0.266793 * 70, 12);
    expect(model.distanceM(-50)).toBe(0);
  });
});

describe("the herald estimator", () => {
  it("waits 60 s and 5 samples, ignores RSSI outside [-99, -10], takes the 60 s median", () => {
    const herald = estimatorFor("herald");
    for (const s of [0, 12, 24, 36, 48]) herald.push(s * 1000, -70);
    expect(herald.distanceM()).toBeUndefined(); // 48 s of history
    herald.push(60_000, -100); // ignored
    expect(herald.distanceM()).toBeUndefined();
    herald.push(60_000, -72); // 60 s of history; the window (0 s, 60 s] holds 5 samples
    expect(herald.distanceM()).toBeCloseTo(-17.10208 + 0.266793 * 70, 12);
    herald.push(61_000, -5); // ignored
    for (const s of [62, 63, 64]) herald.push(s * 1000, -80);
    // -80 -80 -80 -72 -70 -70 -70 -70: median -71
    expect(herald.distanceM()).toBeCloseTo(-17.10208 + 0.266793 * 71, 12);
  });
});

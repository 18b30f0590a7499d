import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/core/errors.js";
import {
  fitLogDistance,
  LOG_DISTANCE_MAX_M,
  LogDistanceModel,
} from "../../../src/signal/distance/log-distance-model.js";

describe("LogDistanceModel", () => {
  it("inverts RSSI(d) = RSSI(1 m) - 10 n log10(d)", () => {
    const model = new LogDistanceModel({ referenceRssiDbm: -60, pathLossExponent: 2 });
    expect(model.distanceM(-60)).toBe(1);
    expect(model.distanceM(-80)).toBeCloseTo(10, 12);
    expect(model.distanceM(-54)).toBeCloseTo(10 ** -0.3, 12);
    expect(model.distanceM(-200)).toBe(LOG_DISTANCE_MAX_M);
    expect(() => new LogDistanceModel({ referenceRssiDbm: -60, pathLossExponent: 0 })).toThrow(
      ConfigError,
    );
  });
});

describe("fitLogDistance", () => {
  const exact = [0.5, 1, 2, 4].map((d) => ({ value: -59 - 25 * Math.log10(d), distanceM: d }));

  it("recovers the parameters of noiseless data either way round", () => {
    for (const regress of ["log-distance", "rssi"] as const) {
      const fit = fitLogDistance([...exact, { value: -40, distanceM: 0 }], { regress });
      expect(fit.referenceRssiDbm).toBeCloseTo(-59, 9);
      expect(fit.pathLossExponent).toBeCloseTo(2.5, 9);
    }
  });

  it("regressing RSSI on distance gives the flatter exponent on noisy data", () => {
    const noisy = [
      { value: -70, distanceM: 1 },
      { value: -76, distanceM: 1 },
      { value: -72, distanceM: 2 },
      { value: -78, distanceM: 2 },
    ];
    const inverse = fitLogDistance(noisy);
    const textbook = fitLogDistance(noisy, { regress: "rssi" });
    expect(textbook.pathLossExponent).toBeLessThan(inverse.pathLossExponent);
  });

  it("refuses data that cannot be fitted", () => {
    expect(() => fitLogDistance([{ value: -70, distanceM: 1 }])).toThrow(ConfigError);
    expect(() =>
      fitLogDistance([
        { value: -80, distanceM: 1 },
        { value: -70, distanceM: 2 },
      ]),
    ).toThrow(/does not fall with distance/);
  });
});

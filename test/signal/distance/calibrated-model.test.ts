import { describe, expect, it } from "vitest";
import { attenuationDb } from "../../../src/signal/calibration-table.js";
import {
  CalibratedAttenuationModel,
  fitAttenuationDistance,
} from "../../../src/signal/distance/calibrated-model.js";

describe("CalibratedAttenuationModel", () => {
  it("inverts att(d) = att(1 m) + 10 n log10(d)", () => {
    const model = new CalibratedAttenuationModel({ attenuationAt1mDb: 50, pathLossExponent: 2 });
    expect(model.distanceM(50)).toBe(1);
    expect(model.distanceM(70)).toBeCloseTo(10, 12);
    // A Pixel 2 hearing a Galaxy A20 at -80 dBm: -24 - (-80 - 6) = 62 dB.
    expect(model.distanceM(attenuationDb(-24, -80, -6))).toBeCloseTo(10 ** 0.6, 12);
  });

  it("fits noiseless data exactly", () => {
    const points = [0.5, 1, 2, 4].map((d) => ({ value: 48 + 30 * Math.log10(d), distanceM: d }));
    const fit = fitAttenuationDistance(points);
    expect(fit.attenuationAt1mDb).toBeCloseTo(48, 9);
    expect(fit.pathLossExponent).toBeCloseTo(3, 9);
    expect(() => fitAttenuationDistance(points.slice(0, 1))).toThrow(/needs points/);
  });
});

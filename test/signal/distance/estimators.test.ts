import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/core/errors.js";
import { DEFAULT_DEVICE_CALIBRATION } from "../../../src/signal/calibration-table.js";
import {
  DEFAULT_ESTIMATOR,
  ESTIMATOR_DESCRIPTIONS,
  ESTIMATOR_NAMES,
  estimatorFor,
  FITTED_PROXKIT,
} from "../../../src/signal/distance/estimators.js";

/** Feeds a constant RSSI at 1 Hz for `seconds` and returns the estimate. */
function steady(name: string, rssiDbm: number, seconds = 400, options = {}): number | undefined {
  const estimator = estimatorFor(name, options);
  for (let s = 0; s <= seconds; s++) estimator.push(1_609_770_000_000 + s * 1000, rssiDbm);
  return estimator.distanceM();
}

describe("estimatorFor", () => {
  it("builds every listed estimator, ours by default", () => {
    expect(DEFAULT_ESTIMATOR).toBe("proxkit");
    for (const name of ESTIMATOR_NAMES) {
      const estimator = estimatorFor(name);
      expect(estimator.name).toBe(name);
      expect(estimator.distanceM()).toBeUndefined();
      expect(ESTIMATOR_DESCRIPTIONS[name]).toBeTruthy();
      expect(steady(name, -70), name).toBeGreaterThan(0);
    }
  });

  it("names the valid estimators when given an unknown one", () => {
    expect(() => estimatorFor("kalman-magic")).toThrow(ConfigError);
    expect(() => estimatorFor("kalman-magic")).toThrow(
      'unknown estimator "kalman-magic": use one of proxkit, herald, log-distance, calibrated, nhs-ukf',
    );
    expect(() => estimatorFor("")).toThrow(/unknown estimator ""/);
  });

  it("gives shorter distances for stronger signals", () => {
    for (const name of ESTIMATOR_NAMES) {
      const near = steady(name, -55) as number;
      const far = steady(name, -90) as number;
      expect(near, name).toBeLessThan(far);
    }
  });

  it("reads 2 m where the fitted model puts it, after the devices' calibration and offsets", () => {
    const { attenuationAt1mDb, pathLossExponent } = FITTED_PROXKIT;
    const at2mDb = attenuationAt1mDb + 10 * pathLossExponent * Math.log10(2);
    const rx = { ...DEFAULT_DEVICE_CALIBRATION, rssiCorrectionDb: 0 };
    const tx = { ...DEFAULT_DEVICE_CALIBRATION, txPowerDbm: -24 };
    // attenuation = TX - (RSSI + correction - rx offset) + tx offset
    expect(steady("proxkit", -24 - at2mDb, 10, { rx, tx })).toBeCloseTo(2, 9);
    expect(
      steady("proxkit", -24 - at2mDb + 7, 10, { rx, tx, rxOffsetDb: 2, txOffsetDb: 5 }),
    ).toBeCloseTo(2, 9);
  });

  it("holds the strong end of 5 minutes (its 10th percentile of attenuation), then lets it go", () => {
    const estimator = estimatorFor("proxkit");
    for (let s = 0; s < 60; s++) estimator.push(s * 1000, -60);
    const near = estimator.distanceM() as number;
    // A fifth of the window strong: the 10th percentile is still the strong signal.
    for (let s = 60; s < 300; s++) estimator.push(s * 1000, -90);
    expect(estimator.distanceM()).toBe(near);
    for (let s = 300; s < 400; s++) estimator.push(s * 1000, -90);
    expect(estimator.distanceM()).toBeGreaterThan(2);
    estimator.reset();
    expect(estimator.distanceM()).toBeUndefined();
  });

  it("estimates from the first sample: 10 s of RSSI are enough", () => {
    const estimator = estimatorFor("proxkit");
    for (let s = 0; s < 10; s++) estimator.push(s * 1000, -70);
    expect(estimator.distanceM()).toBeGreaterThan(0);
  });

  it("uses the devices' calibration for attenuation", () => {
    const quiet = { ...DEFAULT_DEVICE_CALIBRATION, txPowerDbm: -40 };
    const loud = { ...DEFAULT_DEVICE_CALIBRATION, txPowerDbm: -10 };
    // The same RSSI from a louder transmitter means more attenuation: farther.
    for (const name of ["calibrated", "nhs-ukf"]) {
      expect(steady(name, -80, 400, { tx: quiet }) as number, name).toBeLessThan(
        steady(name, -80, 400, { tx: loud }) as number,
      );
    }
  });
});

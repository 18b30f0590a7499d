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

  it("reads proxkit's breakpoint as 2 m after the receiver's correction", () => {
    const rx = { ...DEFAULT_DEVICE_CALIBRATION, rssiCorrectionDb: 0 };
    expect(steady("proxkit", FITTED_PROXKIT.breakpointRssiDbm, 10, { rx })).toBeCloseTo(2, 9);
    const shifted = { ...DEFAULT_DEVICE_CALIBRATION, rssiCorrectionDb: -3 };
    expect(
      steady("proxkit", FITTED_PROXKIT.breakpointRssiDbm + 3, 10, { rx: shifted }),
    ).toBeCloseTo(2, 9);
  });

  it("holds proxkit's 5-minute peak, then lets it go", () => {
    const estimator = estimatorFor("proxkit");
    estimator.push(0, -60);
    const near = estimator.distanceM() as number;
    estimator.push(299_000, -90);
    expect(estimator.distanceM()).toBe(near);
    estimator.push(300_000, -90);
    expect(estimator.distanceM()).toBeGreaterThan(2);
    estimator.reset();
    expect(estimator.distanceM()).toBeUndefined();
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

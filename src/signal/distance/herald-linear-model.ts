/**
 * Herald's `SmoothedLinearModel` (herald-for-android,
 * io.heraldprox.herald.sensor.analysis.algorithms.distance): the median RSSI of the last
 * 60 s, mapped linearly, `distance = intercept + coefficient * medianRssi`, with the published
 * parameters "derived by DataAnalysis.R using data from experiments 20210311-0901,
 * 20210312-1049, 20210313-1005, 20210314-1021, 20210315-1040" (Adjusted R² 0.9743).
 * Its analyser (`SmoothedLinearModelAnalyser`) uses only RSSI in [-99, -10] dBm, waits until
 * its input spans the 60 s window and needs at least 5 samples in the window.
 */
import type { DistanceModel } from "./distance-estimator.js";

export const HERALD_INTERCEPT_M = -17.10208;
export const HERALD_COEFFICIENT_M_PER_DBM = -0.266793;
/** `InRange<>(-99, -10)` of the analyser. */
export const HERALD_VALID_RSSI_DBM = { min: -99, max: -10 } as const;
/** `window.size() < 5` rejects the window. */
export const HERALD_MIN_WINDOW_SAMPLES = 5;

export class HeraldLinearModel implements DistanceModel {
  readonly interceptM: number;
  readonly coefficientMPerDbm: number;

  constructor(interceptM = HERALD_INTERCEPT_M, coefficientMPerDbm = HERALD_COEFFICIENT_M_PER_DBM) {
    this.interceptM = interceptM;
    this.coefficientMPerDbm = coefficientMPerDbm;
  }

  /**
   * Herald drops estimates <= 0 m ("out of model range": an RSSI stronger than about -64 dBm);
   * this reports 0 m instead, the model's own reading of such a signal, so the baseline is
   * scored at every instant rather than skipping its closest contacts.
   */
  distanceM(medianRssiDbm: number): number {
    return Math.max(0, this.interceptM + this.coefficientMPerDbm * medianRssiDbm);
  }
}

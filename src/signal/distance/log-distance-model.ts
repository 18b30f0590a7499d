/**
 * The log-distance path-loss model: `RSSI(d) = RSSI(1 m) - 10 n log10(d)`, so
 * `d = 10^((RSSI(1 m) - RSSI) / (10 n))` (Rappaport, "Wireless Communications", 2nd ed., §4.9;
 * n = 2 in free space).
 */
import { ConfigError } from "../../core/errors.js";
import type { DistanceModel } from "./distance-estimator.js";
import { type FitPoint, leastSquares } from "./fit-points.js";

export interface LogDistanceParameters {
  /** RSSI at 1 m (dBm). */
  readonly referenceRssiDbm: number;
  /** Path-loss exponent n (2 in free space, Rappaport Table 4.2). */
  readonly pathLossExponent: number;
}

/** The largest distance the model reports; beyond it RSSI says nothing useful. */
export const LOG_DISTANCE_MAX_M = 100;

export class LogDistanceModel implements DistanceModel {
  readonly parameters: LogDistanceParameters;

  constructor(parameters: LogDistanceParameters) {
    if (!(parameters.pathLossExponent > 0))
      throw new ConfigError(
        `the path-loss exponent must be positive, got ${parameters.pathLossExponent}`,
      );
    this.parameters = parameters;
  }

  distanceM(rssiDbm: number): number {
    const { referenceRssiDbm, pathLossExponent } = this.parameters;
    return Math.min(
      LOG_DISTANCE_MAX_M,
      10 ** ((referenceRssiDbm - rssiDbm) / (10 * pathLossExponent)),
    );
  }
}

/**
 * Fits the model to points with d > 0 by least squares.
 * - `regress: "log-distance"` (default) minimises the error of log10(d) given the RSSI: the
 *   direction the model is used in.
 * - `regress: "rssi"` minimises the error of the RSSI given log10(d), the textbook path-loss
 *   fit. Where RSSI hardly depends on distance it gives a tiny exponent, and inverting it
 *   turns every dB of noise into a large distance error.
 */
export function fitLogDistance(
  points: readonly FitPoint[],
  options: { regress?: "log-distance" | "rssi" } = {},
): LogDistanceParameters {
  const usable = points.filter((p) => p.distanceM > 0);
  if (usable.length < 2)
    throw new ConfigError("fitting the log-distance model needs points at 2 or more distances > 0");
  const logD = usable.map((p) => Math.log10(p.distanceM));
  const rssi = usable.map((p) => p.value);
  let referenceRssiDbm: number;
  let pathLossExponent: number;
  if ((options.regress ?? "log-distance") === "rssi") {
    const { intercept, slope } = leastSquares(logD, rssi);
    referenceRssiDbm = intercept;
    pathLossExponent = -slope / 10;
  } else {
    // log10 d = a + b * RSSI  <=>  n = -1 / (10 b), RSSI(1 m) = -a / b
    const { intercept, slope } = leastSquares(rssi, logD);
    pathLossExponent = -1 / (10 * slope);
    referenceRssiDbm = -intercept / slope;
  }
  if (!(pathLossExponent > 0) || !Number.isFinite(referenceRssiDbm))
    throw new ConfigError("the training RSSI does not fall with distance: no log-distance fit");
  return { referenceRssiDbm, pathLossExponent };
}

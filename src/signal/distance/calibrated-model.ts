/**
 * Distance from calibrated GAEN attenuation (`attenuationDb` with the device table's TX power
 * and RSSI correction) by the log-distance law: `att(d) = att(1 m) + 10 n log10(d)`. With
 * calibrated attenuation one model serves every pair of phones, in principle.
 */
import { ConfigError } from "../../core/errors.js";
import type { DistanceModel } from "./distance-estimator.js";
import { type FitPoint, leastSquares } from "./fit-points.js";
import { LOG_DISTANCE_MAX_M } from "./log-distance-model.js";

export interface AttenuationDistanceParameters {
  /** Attenuation at 1 m (dB). */
  readonly attenuationAt1mDb: number;
  readonly pathLossExponent: number;
}

export class CalibratedAttenuationModel implements DistanceModel {
  readonly parameters: AttenuationDistanceParameters;

  constructor(parameters: AttenuationDistanceParameters) {
    if (!(parameters.pathLossExponent > 0))
      throw new ConfigError(
        `the path-loss exponent must be positive, got ${parameters.pathLossExponent}`,
      );
    this.parameters = parameters;
  }

  distanceM(attenuationDb: number): number {
    const { attenuationAt1mDb, pathLossExponent } = this.parameters;
    return Math.min(
      LOG_DISTANCE_MAX_M,
      10 ** ((attenuationDb - attenuationAt1mDb) / (10 * pathLossExponent)),
    );
  }
}

/** Least squares of log10(d) on attenuation over points with d > 0 (see `fitLogDistance`). */
export function fitAttenuationDistance(points: readonly FitPoint[]): AttenuationDistanceParameters {
  const usable = points.filter((p) => p.distanceM > 0);
  if (usable.length < 2)
    throw new ConfigError("fitting the attenuation model needs points at 2 or more distances > 0");
  // log10 d = a + b * att  <=>  n = 1 / (10 b), att(1 m) = -a / b
  const { intercept, slope } = leastSquares(
    usable.map((p) => p.value),
    usable.map((p) => Math.log10(p.distanceM)),
  );
  const pathLossExponent = 1 / (10 * slope);
  if (!(pathLossExponent > 0))
    throw new ConfigError("the training attenuation does not grow with distance: no fit");
  return { attenuationAt1mDb: -intercept / slope, pathLossExponent };
}

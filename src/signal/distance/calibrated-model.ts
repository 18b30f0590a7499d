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
  /** Estimates are clamped to [minM, maxM] when given: the distances the fit saw. */
  readonly minM?: number;
  readonly maxM?: number;
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
    const { attenuationAt1mDb, pathLossExponent, minM, maxM } = this.parameters;
    const distanceM = Math.min(
      maxM ?? LOG_DISTANCE_MAX_M,
      10 ** ((attenuationDb - attenuationAt1mDb) / (10 * pathLossExponent)),
    );
    return minM === undefined ? distanceM : Math.max(minM, distanceM);
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

/** Slopes of log10(d) per dB tried by `fitAttenuationDistanceLad`: path-loss exponents 0.25 to 25. */
const LAD_SLOPES: readonly number[] = Array.from(
  { length: 161 },
  (_, i) => (1 / 250) * 100 ** (i / 160),
);

/**
 * The weighted median of `values`: the smallest value at which the cumulative weight reaches
 * half the total.
 */
function weightedMedian(values: Float64Array, weights: Float64Array): number {
  const order = Array.from({ length: values.length }, (_, i) => i).sort(
    (a, b) => values[a] - values[b],
  );
  let total = 0;
  for (const w of weights) total += w;
  let sum = 0;
  for (const i of order) {
    sum += weights[i];
    if (sum >= total / 2) return values[i];
  }
  return values[order[order.length - 1]];
}

/**
 * Fits `log10 d = a + b * attenuation` to minimise the mean absolute error in metres (the
 * conditional median, which a skewed spread of distances at one attenuation needs), then
 * clamps estimates to the 2nd-98th percentiles of the training distances. For each slope b on a
 * log grid the best a is exact: with g_i = 10^(b x_i), sum |d_i - 10^a g_i| = sum g_i |d_i / g_i
 * - 10^a| is least at the g-weighted median of d_i / g_i.
 */
export function fitAttenuationDistanceLad(
  points: readonly FitPoint[],
): AttenuationDistanceParameters {
  const usable = points.filter((p) => p.distanceM > 0 && Number.isFinite(p.value));
  if (usable.length < 2)
    throw new ConfigError("fitting the attenuation model needs points at 2 or more distances > 0");
  const distances = usable.map((p) => p.distanceM).sort((a, b) => a - b);
  const at = (q: number) =>
    distances[Math.min(distances.length - 1, Math.floor(q * distances.length))];
  const minM = at(0.02);
  const maxM = at(0.98);
  const ratio = new Float64Array(usable.length);
  const gain = new Float64Array(usable.length);
  let best: AttenuationDistanceParameters | undefined;
  let bestError = Number.POSITIVE_INFINITY;
  for (const b of LAD_SLOPES) {
    usable.forEach((p, i) => {
      gain[i] = 10 ** (b * p.value);
      ratio[i] = p.distanceM / gain[i];
    });
    const scale = weightedMedian(ratio, gain);
    const candidate: AttenuationDistanceParameters = {
      attenuationAt1mDb: -Math.log10(scale) / b,
      pathLossExponent: 1 / (10 * b),
      minM,
      maxM,
    };
    const model = new CalibratedAttenuationModel(candidate);
    let error = 0;
    for (const p of usable) error += Math.abs(model.distanceM(p.value) - p.distanceM);
    if (error < bestError) {
      bestError = error;
      best = candidate;
    }
  }
  return best as AttenuationDistanceParameters;
}

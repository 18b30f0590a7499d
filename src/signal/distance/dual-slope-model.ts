/**
 * proxkit's distance model: a dual-slope log-distance law (two path-loss exponents meeting at
 * a breakpoint, as in Feuerstein et al. 1994, "Path loss, delay spread, and outage models as
 * functions of antenna height for microcellular system design", IEEE Trans. Veh. Technol.
 * 43(3)), with the breakpoint put at the decision distance:
 *
 *   d(s) = breakpointM * 10^((breakpointRssiDbm - s) / (10 n)),
 *   n = nearExponent when s >= breakpointRssiDbm, farExponent otherwise.
 *
 * On the Herald robot rig the RSSI falls steeply over the first tens of centimetres and then
 * hardly at all: beyond about 1 m multipath makes 0.2 m and 3 m look alike. A near slope
 * fitted to the strong signals and a flat far slope (capped at `MAX_EXPONENT`) say exactly
 * that, and the curve stays strictly monotone, so the order of the filtered RSSI (all the
 * information there is) is kept. Distances beyond the rig's 3 m are not to be trusted.
 *
 * `fitDualSlope` puts the breakpoint RSSI at the threshold that best separates "within 2 m"
 * on the training data (balanced accuracy), so "estimate <= 2 m" is that decision, and fits
 * each exponent to minimise the absolute distance error on its side.
 */
import { ConfigError } from "../../core/errors.js";
import type { DistanceModel } from "./distance-estimator.js";
import type { FitPoint } from "./fit-points.js";

export interface DualSlopeParameters {
  /** Distance at the breakpoint (m): the decision distance. */
  readonly breakpointM: number;
  /** Filtered RSSI at the breakpoint (dBm). */
  readonly breakpointRssiDbm: number;
  /** Path-loss exponent for signals stronger than the breakpoint's. */
  readonly nearExponent: number;
  /** Path-loss exponent for weaker signals. */
  readonly farExponent: number;
}

/** "Close contact": within 2 m (docs/protocols.md, Close contact). */
export const CLOSE_CONTACT_DISTANCE_M = 2;
/** The largest distance reported. */
export const DUAL_SLOPE_MAX_M = 100;
/**
 * The largest exponent the fit may choose. Indoor path-loss exponents are 1.6-6 (Rappaport,
 * "Wireless Communications", Table 4.2); on the rig the far side would fit an almost flat
 * curve (n in the hundreds: every weak signal read as just over 2 m). Capping at 20 keeps a
 * signal 40 dB below the breakpoint reading as 3.2 m rather than 2.1 m, for about 0.025 m of
 * mean error on the rig.
 */
export const MAX_EXPONENT = 20;
/** Exponents tried by the fit: 100 steps on a log scale from 0.1 to `MAX_EXPONENT`. */
export const EXPONENT_GRID: readonly number[] = Array.from(
  { length: 101 },
  (_, i) => 0.1 * (MAX_EXPONENT / 0.1) ** (i / 100),
);

export class DualSlopeModel implements DistanceModel {
  readonly parameters: DualSlopeParameters;

  constructor(parameters: DualSlopeParameters) {
    const { breakpointM, nearExponent, farExponent } = parameters;
    if (!(breakpointM > 0 && nearExponent > 0 && farExponent > 0))
      throw new ConfigError(
        "the dual-slope model needs a positive breakpoint and positive exponents",
      );
    this.parameters = parameters;
  }

  distanceM(rssiDbm: number): number {
    const { breakpointM, breakpointRssiDbm, nearExponent, farExponent } = this.parameters;
    const n = rssiDbm >= breakpointRssiDbm ? nearExponent : farExponent;
    return Math.min(
      DUAL_SLOPE_MAX_M,
      breakpointM * 10 ** ((breakpointRssiDbm - rssiDbm) / (10 * n)),
    );
  }
}

/**
 * The threshold on the feature that maximises balanced accuracy of "value >= threshold means
 * within `decisionM`", tried halfway between consecutive distinct values.
 */
export function bestThreshold(
  points: readonly FitPoint[],
  decisionM = CLOSE_CONTACT_DISTANCE_M,
): { threshold: number; balancedAccuracy: number } {
  const sorted = points.slice().sort((a, b) => a.value - b.value);
  const positives = sorted.filter((p) => p.distanceM <= decisionM).length;
  const negatives = sorted.length - positives;
  if (positives === 0 || negatives === 0)
    throw new ConfigError(`fitting needs points both within and beyond ${decisionM} m`);
  // Sweep down from the strongest signal: everything at or above the threshold is "within".
  let truePositives = 0;
  let falsePositives = 0;
  let best = { threshold: sorted[sorted.length - 1].value + 0.5, balancedAccuracy: 0.5 };
  for (let i = sorted.length - 1; i > 0; i--) {
    if (sorted[i].distanceM <= decisionM) truePositives++;
    else falsePositives++;
    if (sorted[i - 1].value === sorted[i].value) continue;
    const balancedAccuracy =
      (truePositives / positives + (negatives - falsePositives) / negatives) / 2;
    if (balancedAccuracy > best.balancedAccuracy)
      best = { threshold: (sorted[i - 1].value + sorted[i].value) / 2, balancedAccuracy };
  }
  return best;
}

/** The exponent of `EXPONENT_GRID` with the least absolute error on `points`. */
function bestExponent(
  points: readonly FitPoint[],
  breakpointM: number,
  breakpointRssiDbm: number,
): number {
  let best = EXPONENT_GRID[EXPONENT_GRID.length - 1];
  let bestError = Number.POSITIVE_INFINITY;
  for (const n of EXPONENT_GRID) {
    const model = new DualSlopeModel({
      breakpointM,
      breakpointRssiDbm,
      nearExponent: n,
      farExponent: n,
    });
    let error = 0;
    for (const p of points) error += Math.abs(model.distanceM(p.value) - p.distanceM);
    if (error < bestError) {
      bestError = error;
      best = n;
    }
  }
  return best;
}

/** Fits the model (see the file comment). */
export function fitDualSlope(
  points: readonly FitPoint[],
  decisionM = CLOSE_CONTACT_DISTANCE_M,
): DualSlopeParameters {
  const { threshold } = bestThreshold(points, decisionM);
  return {
    breakpointM: decisionM,
    breakpointRssiDbm: threshold,
    nearExponent: bestExponent(
      points.filter((p) => p.value >= threshold),
      decisionM,
      threshold,
    ),
    farExponent: bestExponent(
      points.filter((p) => p.value < threshold),
      decisionM,
      threshold,
    ),
  };
}

/**
 * Bootstrap over independent units. The instants of one placement (or of one pair of people)
 * share its multipath, its carry positions and its phones, so they are far from independent:
 * an interval that resampled instants would be too narrow. Each resample draws whole units with
 * replacement, which is the same as giving every instant its unit's draw count as a weight; the
 * weighted statistics below take those weights directly, so a resample costs one pass over the
 * instants and no copying.
 */
import { SeededRandom } from "../src/core/random.js";
import {
  balancedAccuracy,
  percentileInterval95,
  sortedOrder,
  weightedAuc,
} from "../src/signal/decision-metrics.js";

/** The weighted decision metrics, from `src/signal/decision-metrics.ts`. */
export { balancedAccuracy as weightedBalancedAccuracy, sortedOrder, weightedAuc };

/** Resamples and seed of every campaign interval: the same intervals on every run. */
export const CAMPAIGN_BOOTSTRAP = { resamples: 400, seed: 1 } as const;

/** Weighted mean absolute error. */
export function weightedMae(
  estimates: ArrayLike<number>,
  truths: ArrayLike<number>,
  weights?: ArrayLike<number>,
): number {
  let sum = 0;
  let total = 0;
  for (let i = 0; i < truths.length; i++) {
    const w = weights ? weights[i] : 1;
    sum += w * Math.abs(estimates[i] - truths[i]);
    total += w;
  }
  return total === 0 ? Number.NaN : sum / total;
}

/**
 * Per-instant weights of `resamples` bootstrap draws of the units: `visit(weights, r)` is called
 * once per resample with each instant weighted by how often its unit was drawn. `unitOf[i]` is
 * instant i's unit, 0 .. unitCount - 1.
 */
export function forEachUnitResample(
  unitOf: ArrayLike<number>,
  unitCount: number,
  visit: (weights: Float64Array, resample: number) => void,
  options: { resamples?: number; seed?: number } = {},
): void {
  const resamples = options.resamples ?? CAMPAIGN_BOOTSTRAP.resamples;
  const random = new SeededRandom(options.seed ?? CAMPAIGN_BOOTSTRAP.seed);
  const drawn = new Float64Array(unitCount);
  const weights = new Float64Array(unitOf.length);
  for (let r = 0; r < resamples; r++) {
    drawn.fill(0);
    for (let u = 0; u < unitCount; u++) drawn[random.int(unitCount)]++;
    for (let i = 0; i < unitOf.length; i++) weights[i] = drawn[unitOf[i]];
    visit(weights, r);
  }
}

/** A statistic with its 95 % bootstrap interval. */
export interface Estimate95 {
  readonly value: number;
  readonly interval95: readonly [number, number];
}

/** The 95 % percentile interval of bootstrap values, ignoring resamples where it was undefined. */
export function interval95(values: readonly number[]): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return [Number.NaN, Number.NaN];
  return percentileInterval95(finite);
}

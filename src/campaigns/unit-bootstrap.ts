/**
 * Bootstrap over independent units. The instants of one placement (or of one pair of people)
 * share its multipath, its carry positions and its phones, so they are far from independent:
 * an interval that resampled instants would be too narrow. Each resample draws whole units with
 * replacement, which is the same as giving every instant its unit's draw count as a weight; the
 * weighted statistics below take those weights directly, so a resample costs one pass over the
 * instants and no copying.
 */
import { SeededRandom } from "../core/random.js";
import { percentileInterval95 } from "../signal/decision-metrics.js";

/** Resamples and seed of every campaign interval: the same intervals on every run. */
export const CAMPAIGN_BOOTSTRAP = { resamples: 400, seed: 1 } as const;

/**
 * ROC AUC with weights: the weighted probability that a positive scores above a negative, ties
 * counting half. `order` sorts the instants by ascending score (`sortedOrder`); computing it
 * once serves every resample. `NaN` when either class has no weight.
 */
export function weightedAuc(
  order: Int32Array,
  scores: ArrayLike<number>,
  positive: ArrayLike<boolean>,
  weights?: ArrayLike<number>,
): number {
  let negativesBelow = 0;
  let pairs = 0;
  let positivesTotal = 0;
  const n = order.length;
  for (let i = 0; i < n; ) {
    let j = i;
    let tiePositives = 0;
    let tieNegatives = 0;
    while (j < n && scores[order[j]] === scores[order[i]]) {
      const k = order[j];
      const w = weights ? weights[k] : 1;
      if (positive[k]) tiePositives += w;
      else tieNegatives += w;
      j++;
    }
    pairs += tiePositives * (negativesBelow + tieNegatives / 2);
    positivesTotal += tiePositives;
    negativesBelow += tieNegatives;
    i = j;
  }
  if (positivesTotal === 0 || negativesBelow === 0) return Number.NaN;
  return pairs / (positivesTotal * negativesBelow);
}

/** The indices of `scores` in ascending order of score. */
export function sortedOrder(scores: ArrayLike<number>): Int32Array {
  const order = Int32Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => scores[a] - scores[b]);
  return order;
}

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

/** Weighted balanced accuracy of `predicted` for `actual`; `NaN` without both classes. */
export function weightedBalancedAccuracy(
  predicted: ArrayLike<boolean>,
  actual: ArrayLike<boolean>,
  weights?: ArrayLike<number>,
): number {
  let tp = 0;
  let fn = 0;
  let tn = 0;
  let fp = 0;
  for (let i = 0; i < actual.length; i++) {
    const w = weights ? weights[i] : 1;
    if (actual[i]) {
      if (predicted[i]) tp += w;
      else fn += w;
    } else if (predicted[i]) fp += w;
    else tn += w;
  }
  if (tp + fn === 0 || tn + fp === 0) return Number.NaN;
  return (tp / (tp + fn) + tn / (tn + fp)) / 2;
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

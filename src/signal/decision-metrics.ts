/** Scores of a binary decision ("within 2 m") against ground truth. */

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting half (Mann-Whitney U with mid-ranks). `NaN` without both classes.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  return weightedAuc(sortedOrder(scores), scores, positive);
}

/** The indices of `scores` in ascending order of score. */
export function sortedOrder(scores: ArrayLike<number>): Int32Array {
  const order = Int32Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => scores[a] - scores[b]);
  return order;
}

/**
 * ROC AUC with weights (a weight of k counts as k copies): the weighted probability that a
 * positive scores above a negative, ties counting half. `order` sorts the instants by ascending
 * score (`sortedOrder`), so that one sort serves many weightings (bootstrap resamples). `NaN`
 * when either class has no weight.
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

/**
 * (true-positive rate + true-negative rate) / 2, each decision counting its weight (1 without
 * weights); `NaN` without both classes.
 */
export function balancedAccuracy(
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
 * The central 95 % percentile interval of `values` (a bootstrap's resampled statistics), sorted
 * in place: the values at the 2.5th and 97.5th percentiles (nearest rank, lower).
 */
export function percentileInterval95(values: number[]): [number, number] {
  values.sort((a, b) => a - b);
  const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))];
  return [at(0.025), at(0.975)];
}

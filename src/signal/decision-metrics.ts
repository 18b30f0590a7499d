/** Scores of a binary decision ("within 2 m") against ground truth. */

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting half (Mann-Whitney U with mid-ranks). `NaN` without both classes.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (positive[order[k]]) {
        positives++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** (true-positive rate + true-negative rate) / 2; `NaN` without both classes. */
export function balancedAccuracy(
  predicted: ArrayLike<boolean>,
  actual: ArrayLike<boolean>,
): number {
  let tp = 0;
  let fn = 0;
  let tn = 0;
  let fp = 0;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i]) {
      if (predicted[i]) tp++;
      else fn++;
    } else if (predicted[i]) fp++;
    else tn++;
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

/**
 * Precision, recall and F1 from decision counts, as every detector and reference row of a run's
 * evaluation reports them, and the size of the precision-recall curves they draw.
 */

/** Most points kept on one precision-recall curve. */
export const MAX_CURVE_POINTS = 60;

/**
 * Precision, recall and F1 of `tp` true positives, `fp` false positives and `fn` false negatives.
 * Nothing to find and nothing notified is perfect (1, 1, 1); notifying nobody has precision 0;
 * with no positives recall is 1.
 */
export function precisionRecallF1(tp: number, fp: number, fn: number) {
  if (tp + fp + fn === 0) return { precision: 1, recall: 1, f1: 1 };
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

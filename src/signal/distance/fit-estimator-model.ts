/**
 * Fitting the models of the fitted estimators (`FITTED_ESTIMATORS`) on (feature, true distance)
 * points: one place for the rig evaluation and the cross-campaign evaluation.
 */
import { fitAttenuationDistance, fitAttenuationDistanceLad } from "./calibrated-model.js";
import type { EstimatorName, EstimatorOptions } from "./estimators.js";
import type { FitPoint } from "./fit-points.js";
import { fitLogDistance } from "./log-distance-model.js";

/** Estimators whose model is fitted on training data. */
export const FITTED_ESTIMATORS: readonly EstimatorName[] = [
  "proxkit",
  "log-distance",
  "calibrated",
];

/** Fits `name`'s model on points: the estimator options that carry it, and its parameters. */
export function fitEstimatorModel(
  name: EstimatorName,
  points: readonly FitPoint[],
): { options: EstimatorOptions; parameters: Record<string, number> } {
  switch (name) {
    case "proxkit": {
      const proxkit = fitAttenuationDistanceLad(points);
      return { options: { proxkit }, parameters: { ...proxkit } };
    }
    case "log-distance": {
      const logDistance = fitLogDistance(points);
      return { options: { logDistance }, parameters: { ...logDistance } };
    }
    case "calibrated": {
      const calibrated = fitAttenuationDistance(points);
      return { options: { calibrated }, parameters: { ...calibrated } };
    }
    default:
      throw new Error(`${name} is not a fitted estimator`);
  }
}

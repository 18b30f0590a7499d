/**
 * The shipped distance estimators as leave-one-campaign-out candidates: how each is built for a
 * stream (its devices' calibration from Google's table, looked up by the record's model names)
 * and, for the fitted ones, how its model is fitted on the other campaigns.
 */
import {
  type CalibrationTable,
  DEFAULT_DEVICE_CALIBRATION,
  type DeviceCalibration,
} from "../src/signal/calibration-table.js";
import { deviceOffsets } from "../src/signal/device-offsets.js";
import type { ChainedEstimator } from "../src/signal/distance/distance-estimator.js";
import {
  ESTIMATOR_NAMES,
  type EstimatorName,
  type EstimatorOptions,
  estimatorFor,
} from "../src/signal/distance/estimators.js";
import {
  FITTED_ESTIMATORS,
  fitEstimatorModel,
} from "../src/signal/distance/fit-estimator-model.js";
import type { CampaignRecord } from "../src/campaigns/campaign-record.js";
import type { EstimatorCandidate, FittedModel } from "./leave-one-campaign-out.js";

/** Device calibration by model name, cached (the table's lookup is tolerant of spellings). */
export class DeviceCalibrations {
  private readonly cache = new Map<string, DeviceCalibration>();

  constructor(private readonly table: CalibrationTable | undefined) {}

  of(model: string): DeviceCalibration {
    let calibration = this.cache.get(model);
    if (!calibration) {
      calibration =
        this.table && model !== "" ? this.table.lookup(model) : DEFAULT_DEVICE_CALIBRATION;
      this.cache.set(model, calibration);
    }
    return calibration;
  }
}

/**
 * The estimator `name` for a stream between the devices of `first`: their table calibration and
 * anechoic offsets, plus `options` (fitted models).
 */
export function recordEstimator(
  name: string,
  devices: DeviceCalibrations,
  first: CampaignRecord,
  options: EstimatorOptions = {},
): ChainedEstimator {
  return estimatorFor(name, {
    ...options,
    rx: devices.of(first.rxModel),
    tx: devices.of(first.txModel),
    rxOffsetDb: deviceOffsets(first.rxModel)?.rxOffsetDb,
    txOffsetDb: deviceOffsets(first.txModel)?.txOffsetDb,
  });
}

/** The shipped estimators (all of them unless `names` says which) as candidates. */
export function shippedCandidates(
  devices: DeviceCalibrations,
  names: readonly string[] = ESTIMATOR_NAMES,
): EstimatorCandidate[] {
  return names.map((name) => {
    estimatorFor(name);
    const estimatorName = name as EstimatorName;
    const fitted = FITTED_ESTIMATORS.includes(estimatorName);
    const create = (first: CampaignRecord) => recordEstimator(name, devices, first);
    const candidate: EstimatorCandidate = { name, fitted, create };
    if (!fitted) return candidate;
    return {
      ...candidate,
      fit: (points): FittedModel => {
        const { options, parameters } = fitEstimatorModel(estimatorName, points);
        // The model alone, as the estimator uses it (its input mapping and filter gave the feature).
        const model = estimatorFor(name, options).model;
        return {
          predict: (feature) => model.distanceM(feature) ?? Number.NaN,
          parameters,
        };
      },
    };
  });
}

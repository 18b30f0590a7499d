/**
 * The distance estimators by name (`estimatorFor`), each a filter chain and a model:
 *
 * | name | input | filters | model |
 * |---|---|---|---|
 * | `proxkit` (default) | RSSI + the receiver's RSSI correction | maximum of the last 300 s | dual-slope log-distance (`DualSlopeModel`), fitted |
 * | `herald` | RSSI in [-99, -10] | median of 60 s (>= 5 samples, 60 s of history) | Herald's published linear model |
 * | `log-distance` | RSSI | median of 60 s | log-distance, fitted |
 * | `calibrated` | GAEN attenuation (device table) | median of 60 s | log-distance on attenuation, fitted |
 * | `nhs-ukf` | GAEN attenuation (device table) | NHS unscented Kalman filter | its posterior distance |
 *
 * "Fitted" defaults were fitted once on the Herald robot-rig files 20210104-1422-A.csv and
 * 20210104-1422-B.csv (test 5: Pixel 2 and Galaxy A20, both directions) by
 * `evaluateHeraldEdison`'s training step, which refits them from whatever training files it is
 * given; `test/signal/evaluate-herald-edison.test.ts` checks that the two agree.
 */
import { ConfigError } from "../../core/errors.js";
import {
  attenuationDb,
  DEFAULT_DEVICE_CALIBRATION,
  type DeviceCalibration,
} from "../calibration-table.js";
import { MovingMedian } from "../filters/moving-median.js";
import { RunningPercentile } from "../filters/running-percentile.js";
import { UnscentedKalmanFilter } from "../filters/unscented-kalman-filter.js";
import {
  type AttenuationDistanceParameters,
  CalibratedAttenuationModel,
} from "./calibrated-model.js";
import { ChainedEstimator } from "./distance-estimator.js";
import { DualSlopeModel, type DualSlopeParameters } from "./dual-slope-model.js";
import {
  HERALD_MIN_WINDOW_SAMPLES,
  HERALD_VALID_RSSI_DBM,
  HeraldLinearModel,
} from "./herald-linear-model.js";
import { LogDistanceModel, type LogDistanceParameters } from "./log-distance-model.js";

export const ESTIMATOR_NAMES = [
  "proxkit",
  "herald",
  "log-distance",
  "calibrated",
  "nhs-ukf",
] as const;
export type EstimatorName = (typeof ESTIMATOR_NAMES)[number];
export const DEFAULT_ESTIMATOR: EstimatorName = "proxkit";

/** One line per estimator, for help texts. */
export const ESTIMATOR_DESCRIPTIONS: Record<EstimatorName, string> = {
  proxkit:
    "ours: receiver-corrected RSSI, 5-minute peak, dual-slope log-distance fitted on the Herald rig",
  herald: "Herald's SmoothedLinearModel: 60 s median RSSI, published linear fit",
  "log-distance": "60 s median RSSI, log-distance path loss fitted on the Herald rig",
  calibrated: "60 s median GAEN attenuation (device table), log-distance fitted on the Herald rig",
  "nhs-ukf": "the NHS app's unscented Kalman filter on log attenuation (Lovett et al. 2020)",
};

/** The window all 60-second medians use (Herald's smoothing window). */
export const MEDIAN_WINDOW_MS = 60_000;
/**
 * proxkit's filter: the maximum (100th percentile) of the last 300 s of receiver-corrected
 * RSSI. Chosen on the training split by AUC among the 50th-100th percentiles over 60, 120 and
 * 300 s, with and without the correction, and the Kalman, EMA, trimmed-mean and median
 * chains (it also wins with the folds swapped). The peak follows the strongest propagation
 * path and ignores multipath fades; the price is that leaving a contact shows up to 5 min
 * late. Longer windows than GAEN's 5-minute scan cycle were not considered.
 */
export const PROXKIT_WINDOW_MS = 300_000;
export const PROXKIT_PERCENTILE = 100;

/** Fitted on 20210104-1422-A/B.csv (see the file comment). */
export const FITTED_LOG_DISTANCE: LogDistanceParameters = {
  referenceRssiDbm: -72.164,
  pathLossExponent: 7.0019,
};
/** Fitted on 20210104-1422-A/B.csv (see the file comment). */
export const FITTED_CALIBRATED: AttenuationDistanceParameters = {
  attenuationAt1mDb: 45.629,
  pathLossExponent: 9.9275,
};
/** Fitted on 20210104-1422-A/B.csv (see the file comment). */
export const FITTED_PROXKIT: DualSlopeParameters = {
  breakpointM: 2,
  breakpointRssiDbm: -77.5,
  nearExponent: 0.49013,
  farExponent: 20,
};

export interface EstimatorOptions {
  /** The receiving device (its RSSI correction). Default: the table-wide default. */
  readonly rx?: DeviceCalibration;
  /** The transmitting device (its TX power). Default: the table-wide default. */
  readonly tx?: DeviceCalibration;
  readonly logDistance?: LogDistanceParameters;
  readonly calibrated?: AttenuationDistanceParameters;
  readonly proxkit?: DualSlopeParameters;
}

/** The estimator called `name`; an unknown name is a `ConfigError` listing the valid ones. */
export function estimatorFor(name: string, options: EstimatorOptions = {}): ChainedEstimator {
  const rx = options.rx ?? DEFAULT_DEVICE_CALIBRATION;
  const tx = options.tx ?? DEFAULT_DEVICE_CALIBRATION;
  const attenuation = (rssiDbm: number) =>
    attenuationDb(tx.txPowerDbm, rssiDbm, rx.rssiCorrectionDb);
  switch (name as EstimatorName) {
    case "proxkit":
      return new ChainedEstimator(name, {
        input: (rssiDbm) => rssiDbm + rx.rssiCorrectionDb,
        filters: [
          new RunningPercentile({ percentile: PROXKIT_PERCENTILE, windowMs: PROXKIT_WINDOW_MS }),
        ],
        model: new DualSlopeModel(options.proxkit ?? FITTED_PROXKIT),
      });
    case "herald":
      return new ChainedEstimator(name, {
        input: (rssiDbm) =>
          rssiDbm >= HERALD_VALID_RSSI_DBM.min && rssiDbm <= HERALD_VALID_RSSI_DBM.max
            ? rssiDbm
            : undefined,
        filters: [
          new MovingMedian({ windowMs: MEDIAN_WINDOW_MS, minSamples: HERALD_MIN_WINDOW_SAMPLES }),
        ],
        model: new HeraldLinearModel(),
        warmUpMs: MEDIAN_WINDOW_MS,
      });
    case "log-distance":
      return new ChainedEstimator(name, {
        filters: [new MovingMedian({ windowMs: MEDIAN_WINDOW_MS })],
        model: new LogDistanceModel(options.logDistance ?? FITTED_LOG_DISTANCE),
      });
    case "calibrated":
      return new ChainedEstimator(name, {
        input: attenuation,
        filters: [new MovingMedian({ windowMs: MEDIAN_WINDOW_MS })],
        model: new CalibratedAttenuationModel(options.calibrated ?? FITTED_CALIBRATED),
      });
    case "nhs-ukf":
      return new ChainedEstimator(name, {
        input: attenuation,
        filters: [new UnscentedKalmanFilter()],
        model: { distanceM: (distanceM: number) => distanceM },
      });
    default:
      throw new ConfigError(
        `unknown estimator "${name}": use one of ${ESTIMATOR_NAMES.join(", ")}`,
        "E_ESTIMATOR",
      );
  }
}

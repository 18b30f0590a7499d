/**
 * The distance estimators by name (`estimatorFor`), each a filter chain and a model:
 *
 * | name | input | filters | model |
 * |---|---|---|---|
 * | `proxkit` (default) | GAEN attenuation, device table + anechoic offsets | 10th percentile of the last 300 s | log-distance on attenuation, least absolute error, fitted across campaigns |
 * | `herald` | RSSI in [-99, -10] | median of 60 s (>= 5 samples, 60 s of history) | Herald's published linear model |
 * | `log-distance` | RSSI | median of 60 s | log-distance, fitted |
 * | `calibrated` | GAEN attenuation (device table) | median of 60 s | log-distance on attenuation, fitted |
 * | `nhs-ukf` | GAEN attenuation (device table) | NHS unscented Kalman filter | its posterior distance |
 *
 * `proxkit` was chosen, and is fitted, leave one campaign out over five real campaigns
 * (`src/campaigns/`, `proxkit evaluate --dataset all`): its filter had the best pooled AUC of
 * "within 2 m" on the campaigns it was not fitted on, and its two numbers (`FITTED_PROXKIT`)
 * are the fit on all five, each weighted equally. The other fitted defaults were fitted once on
 * the Herald robot-rig files 20210104-1422-A.csv and 20210104-1422-B.csv (test 5: Pixel 2 and
 * Galaxy A20, both directions) by `evaluateHeraldEdison`'s training step, which refits them
 * from whatever training files it is given; `test/research/evaluate-herald-edison.test.ts` checks
 * that the two agree.
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
    "ours: attenuation calibrated by the device table and anechoic offsets, 10th percentile of 5 min, log-distance fitted across five campaigns",
  herald: "Herald's SmoothedLinearModel: 60 s median RSSI, published linear fit",
  "log-distance": "60 s median RSSI, log-distance path loss fitted on the Herald rig",
  calibrated: "60 s median GAEN attenuation (device table), log-distance fitted on the Herald rig",
  "nhs-ukf": "the NHS app's unscented Kalman filter on log attenuation (Lovett et al. 2020)",
};

/** The window all 60-second medians use (Herald's smoothing window). */
export const MEDIAN_WINDOW_MS = 60_000;
/**
 * proxkit's filter: the 10th percentile of the last 300 s of calibrated attenuation (the 90th of
 * RSSI: the strong end, which follows the most direct path and ignores the fades of multipath
 * and bodies). Chosen leave one campaign out among the 0th-50th percentiles over 10-600 s: the
 * best pooled AUC of "within 2 m" (0.765; the maximum, used before, 0.75; the median 0.74).
 * It needs no warm-up: from the first sample it is the percentile of what has been heard, so
 * 10 s of RSSI give an estimate.
 */
export const PROXKIT_WINDOW_MS = 300_000;
/** Percentile of the window's attenuation (0: the least attenuation, the strongest signal). */
export const PROXKIT_PERCENTILE = 10;

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
/**
 * Fitted on the Herald rig, DP-3T exp05, body-position, MIT matrix and pi-multichannel together
 * (4,000 instants of each), minimising the mean absolute error in metres, estimates clamped to
 * the 2nd-98th percentiles of their distances (`fitAttenuationDistanceLad`). The exponent is
 * large because indoors and on bodies RSSI says little about distance: the least-error estimate
 * moves only from 1.4 m at 30 dB to 2.2 m at 70 dB, and the order of the estimates (what the
 * AUC measures) is the order of the attenuation. Regenerate with `proxkit evaluate --dataset
 * all --format json` (`estimatorFitAll`).
 */
export const FITTED_PROXKIT: AttenuationDistanceParameters = {
  attenuationAt1mDb: -3.0888,
  pathLossExponent: 21.649,
  minM: 0.25,
  maxM: 5.4,
};

export interface EstimatorOptions {
  /** The receiving device (its RSSI correction). Default: the table-wide default. */
  readonly rx?: DeviceCalibration;
  /** The transmitting device (its TX power). Default: the table-wide default. */
  readonly tx?: DeviceCalibration;
  readonly logDistance?: LogDistanceParameters;
  readonly calibrated?: AttenuationDistanceParameters;
  readonly proxkit?: AttenuationDistanceParameters;
  /** The receiver's anechoic offset on top of the table (`deviceOffsets`), for `proxkit`. */
  readonly rxOffsetDb?: number;
  /** The transmitter's anechoic offset on top of the table (`deviceOffsets`), for `proxkit`. */
  readonly txOffsetDb?: number;
  /** proxkit's filter: window and percentile of attenuation (defaults `PROXKIT_WINDOW_MS`, `PROXKIT_PERCENTILE`). */
  readonly proxkitFilter?: { readonly windowMs: number; readonly percentile: number };
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
        input: (rssiDbm) =>
          attenuationDb(
            tx.txPowerDbm + (options.txOffsetDb ?? 0),
            rssiDbm,
            rx.rssiCorrectionDb - (options.rxOffsetDb ?? 0),
          ),
        filters: [
          new RunningPercentile({
            percentile: options.proxkitFilter?.percentile ?? PROXKIT_PERCENTILE,
            windowMs: options.proxkitFilter?.windowMs ?? PROXKIT_WINDOW_MS,
          }),
        ],
        model: new CalibratedAttenuationModel(options.proxkit ?? FITTED_PROXKIT),
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

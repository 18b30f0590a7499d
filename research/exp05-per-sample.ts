/**
 * The DP-3T team's per-sample view of experiment 05: every received advertisement with a camera
 * distance (scenarios lunch to party) is one sample, "close" when the distance is under 2 m,
 * and an attenuation threshold says "close" at or below it. Attenuation is computed as GAEN
 * does with Google's calibration table (the sender's TX power minus RSSI plus the receiver's
 * correction), as their precision/recall figures were. Beside the threshold sweep: always
 * saying "close" (the base rate sets what F1 means here), and our estimator read after every
 * sample (causal, per stream), deciding "close" when its estimate is under 2 m.
 */
import { attenuationDb } from "../src/signal/calibration-table.js";
import type { ChainedEstimator } from "../src/signal/distance/distance-estimator.js";
import type { CampaignRecord } from "../src/campaigns/campaign-record.js";
import { streamKey } from "../src/campaigns/campaign-record.js";
import type { DeviceCalibrations } from "./estimator-candidates.js";
import {
  CAMPAIGN_BOOTSTRAP,
  type Estimate95,
  forEachUnitResample,
  interval95,
  sortedOrder,
  weightedAuc,
} from "./unit-bootstrap.js";

/** Thresholds swept, dB. */
export const PER_SAMPLE_THRESHOLDS_DB: readonly number[] = Array.from(
  { length: 71 },
  (_, i) => 30 + i,
);

export interface ThresholdPoint {
  readonly thresholdDb: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export interface Exp05PerSample {
  readonly samples: number;
  readonly closeShare: number;
  readonly closeDistanceM: number;
  /** The attenuation threshold sweep (the DP-3T team's curve). */
  readonly curve: readonly ThresholdPoint[];
  readonly bestThreshold: ThresholdPoint;
  /** The point nearest the DP-3T team's (55 dB). */
  readonly at55Db: ThresholdPoint;
  readonly alwaysClose: {
    readonly precision: number;
    readonly recall: number;
    readonly f1: number;
  };
  /** ROC AUC of minus the attenuation. */
  readonly attenuationAuc: Estimate95;
  /** Our estimator, per sample. */
  readonly estimator: {
    readonly name: string;
    readonly precision: number;
    readonly recall: number;
    readonly f1: Estimate95;
    readonly auc: Estimate95;
  };
}

export interface Exp05PerSampleOptions {
  readonly devices: DeviceCalibrations;
  /** Our estimator for a stream (fitted on the other campaigns). */
  readonly createEstimator: (first: CampaignRecord) => ChainedEstimator;
  readonly estimatorName: string;
  readonly closeDistanceM?: number;
  readonly resamples?: number;
}

function prf(tp: number, fp: number, fn: number) {
  const precision = tp + fp === 0 ? Number.NaN : tp / (tp + fp);
  const recall = tp + fn === 0 ? Number.NaN : tp / (tp + fn);
  return { precision, recall, f1: tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn) };
}

/** Runs the per-sample comparison over exp05 records (see the file comment). */
export function exp05PerSample(
  records: Iterable<CampaignRecord>,
  options: Exp05PerSampleOptions,
): Exp05PerSample {
  const closeDistanceM = options.closeDistanceM ?? 2;
  const attenuations: number[] = [];
  const estimates: number[] = [];
  const close: boolean[] = [];
  const unitOf: number[] = [];
  const units = new Map<string, number>();
  let key = "";
  let estimator: ChainedEstimator | undefined;
  for (const r of records) {
    const k = streamKey(r);
    if (k !== key || !estimator) {
      key = k;
      estimator = options.createEstimator(r);
    }
    estimator.push(r.atMs, r.rssiDbm);
    if (r.distanceM === undefined) continue;
    const estimate = estimator.distanceM();
    if (estimate === undefined) continue;
    const rx = options.devices.of(r.rxModel);
    const tx = options.devices.of(r.txModel);
    attenuations.push(attenuationDb(tx.txPowerDbm, r.rssiDbm, rx.rssiCorrectionDb));
    estimates.push(estimate);
    close.push(r.distanceM < closeDistanceM);
    let u = units.get(r.unit);
    if (u === undefined) {
      u = units.size;
      units.set(r.unit, u);
    }
    unitOf.push(u);
  }
  const n = close.length;
  const positives = close.filter(Boolean).length;
  const curve = PER_SAMPLE_THRESHOLDS_DB.map((thresholdDb) => {
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < n; i++) {
      if (attenuations[i] > thresholdDb) continue;
      if (close[i]) tp++;
      else fp++;
    }
    return { thresholdDb, ...prf(tp, fp, positives - tp) };
  });
  const bestThreshold = curve.reduce((best, p) => (p.f1 > best.f1 ? p : best), curve[0]);
  const at55Db = curve.find((p) => p.thresholdDb === 55) ?? bestThreshold;

  const attenuationScores = attenuations.map((a) => -a);
  const estimateScores = estimates.map((d) => -d);
  const orders = [sortedOrder(attenuationScores), sortedOrder(estimateScores)];
  const decided = estimates.map((d) => d < closeDistanceM);
  const ourF1 = (weights?: ArrayLike<number>) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < n; i++) {
      const w = weights ? weights[i] : 1;
      if (decided[i] && close[i]) tp += w;
      else if (decided[i]) fp += w;
      else if (close[i]) fn += w;
    }
    return prf(tp, fp, fn);
  };
  const draws: number[][] = [[], [], []];
  forEachUnitResample(
    unitOf,
    units.size,
    (weights) => {
      draws[0].push(weightedAuc(orders[0], attenuationScores, close, weights));
      draws[1].push(weightedAuc(orders[1], estimateScores, close, weights));
      draws[2].push(ourF1(weights).f1);
    },
    { resamples: options.resamples ?? CAMPAIGN_BOOTSTRAP.resamples },
  );
  const ours = ourF1();
  return {
    samples: n,
    closeShare: positives / n,
    closeDistanceM,
    curve,
    bestThreshold,
    at55Db,
    alwaysClose: prf(positives, n - positives, 0),
    attenuationAuc: {
      value: weightedAuc(orders[0], attenuationScores, close),
      interval95: interval95(draws[0]),
    },
    estimator: {
      name: options.estimatorName,
      precision: ours.precision,
      recall: ours.recall,
      f1: { value: ours.f1, interval95: interval95(draws[2]) },
      auc: {
        value: weightedAuc(orders[1], estimateScores, close),
        interval95: interval95(draws[1]),
      },
    },
  };
}

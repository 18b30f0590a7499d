/**
 * Contact decisions on a real crowd: DP-3T experiment 05's lunch, train, office, queue and party
 * scenarios (20 people, cameras for ground truth). For every directed pair of people the
 * camera saw together, each detector decides from the RSSI the receiver logged, through the
 * same scan-instance, exposure-window and scoring code as `proxkit match`, and is scored against
 * the camera's "within `closeDistanceM` for at least `closeMinutes`" (both directions share the
 * truth). Only receptions inside the camera's spans count, so phones and cameras see the same
 * time.
 *
 * Attenuation is what a GAEN phone would compute: the sender model's TX power from Google's
 * calibration table minus (RSSI + the receiver model's RSSI correction); our detector also
 * applies the receiver's anechoic offset (`deviceOffsets`), as `match --rx-model` does. The
 * phones scanned 20 s every 60 s, so each scan is one EN scan instance.
 *
 * Scores per detector: precision, recall, F1 of the notification, and the ROC AUC of its
 * score (the daily weighted duration; Immuni's maximum risk score), each with a 95 % interval
 * from a bootstrap of pairs of people within scenarios, and our F1 minus each preset's on the
 * same resamples.
 */

import { type AttenuationEvent, exposureWindowsOf } from "../src/exposure/match-exposures.js";
import type { RiskPreset } from "../src/exposure/risk-preset.js";
import { scoreExposure, windowToScored } from "../src/exposure/score-exposure.js";
import { attenuationDb } from "../src/signal/calibration-table.js";
import type { CampaignRecord } from "../src/campaigns/campaign-record.js";
import { streamKey } from "../src/campaigns/campaign-record.js";
import type { DeviceCalibrations } from "./estimator-candidates.js";
import {
  type CameraSpan,
  cameraSpans,
  loadCameraTracks,
  pairCloseness,
  pairDistanceSeries,
} from "../src/campaigns/exp05-camera-truth.js";
import { exp05PairKey, loadDp3tExp05 } from "../src/campaigns/load-dp3t-exp05.js";
import {
  CAMPAIGN_BOOTSTRAP,
  type Estimate95,
  forEachUnitResample,
  interval95,
  sortedOrder,
  weightedAuc,
} from "./unit-bootstrap.js";

/** The crowd scenarios (walls is people behind walls, not a crowd, and was not filmed). */
export const EXP05_CROWD_SCENARIOS = ["lunch", "train", "office", "queue", "party"] as const;

export interface Exp05ContactOptions {
  /** The exp05 folder (SQLite files and `ground_truth/`). */
  readonly dataDir: string;
  /** Detectors, ours first. */
  readonly presets: readonly RiskPreset[];
  readonly devices: DeviceCalibrations;
  /** The devices' anechoic offsets by model (dB), applied for detectors listed in `withOffsets`. */
  readonly offsetsDb?: (
    model: string,
  ) => { readonly rxOffsetDb: number; readonly txOffsetDb: number } | undefined;
  /** Detector names that get `rxOffsetDb` (ours). */
  readonly withOffsets?: readonly string[];
  readonly scenarios?: readonly string[];
  /** Default 2 m. */
  readonly closeDistanceM?: number;
  /** Default 15 min. */
  readonly closeMinutes?: number;
  /** Longest scan instance, ms (as `match --scan-period`); default the EN API's. */
  readonly maxScanInstanceMs?: number;
  readonly resamples?: number;
  /**
   * Only receptions while the camera tracked both people (holes up to 10 s bridged), as the
   * simulated replays hear them (`epfl-*`: a person the camera lost is out of the scene). Default
   * false: every reception inside the camera's spans, as the phones logged them.
   */
  readonly onlyWhileTracked?: boolean;
}

export interface DetectorContactScores {
  readonly detector: string;
  readonly notified: number;
  readonly truePositives: number;
  readonly precision: Estimate95;
  readonly recall: Estimate95;
  readonly f1: Estimate95;
  /** ROC AUC of the detector's score over the directed pairs. */
  readonly auc: Estimate95;
  /** Precision and recall of "score >= t" for thresholds down the scores (at most 60 points). */
  readonly prCurve: readonly { readonly precision: number; readonly recall: number }[];
}

/** Most points of a precision-recall curve. */
const MAX_CURVE_POINTS = 60;

/** Precision and recall of "score >= t" at evenly spaced ranks of the scores, high to low. */
export function precisionRecallCurve(
  scores: readonly number[],
  positive: readonly boolean[],
): { precision: number; recall: number }[] {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const positives = positive.filter(Boolean).length;
  const points: { precision: number; recall: number }[] = [];
  const step = Math.max(1, Math.floor(order.length / MAX_CURVE_POINTS));
  let tp = 0;
  let lastEmitted = -step;
  for (let k = 0; k < order.length; k++) {
    if (positive[order[k]]) tp++;
    const last = k === order.length - 1;
    // Only where the score changes: tied scores are one threshold.
    if (!last && scores[order[k + 1]] === scores[order[k]]) continue;
    if (k - lastEmitted >= step || last) {
      points.push({ precision: tp / (k + 1), recall: positives === 0 ? 1 : tp / positives });
      lastEmitted = k;
    }
  }
  return points;
}

export interface Exp05ContactResult {
  readonly closeDistanceM: number;
  readonly closeMinutes: number;
  /** Directed pairs scored, and how many were close contacts by the camera. */
  readonly pairs: number;
  readonly closeContacts: number;
  readonly scenarios: readonly {
    readonly scenario: string;
    readonly pairs: number;
    readonly closeContacts: number;
    readonly heardPairs: number;
    readonly cameraMinutes: number;
    readonly detectors: readonly { readonly detector: string; readonly f1: number }[];
  }[];
  readonly detectors: readonly DetectorContactScores[];
  /** Our F1 (the first detector's) minus each other's, on the same resamples. */
  readonly f1Differences: readonly {
    readonly detector: string;
    readonly versus: string;
    readonly difference: Estimate95;
  }[];
}

/** Directed pair decisions, column-wise over every scenario. */
interface PairTable {
  close: boolean[];
  unitOf: number[];
  units: string[];
  scenarioOf: number[];
  /** [detector][pair] */
  notified: boolean[][];
  score: number[][];
}

function insideSpans(spans: readonly CameraSpan[], atMs: number): boolean {
  for (const s of spans) if (atMs >= s.fromMs && atMs < s.toMs) return true;
  return false;
}

/** One directed pair's decisions by every detector, from its receptions. */
function decide(
  records: readonly CampaignRecord[],
  options: Exp05ContactOptions,
): { notified: boolean[]; score: number[] } {
  const first = records[0];
  const rx = options.devices.of(first.rxModel);
  const tx = options.devices.of(first.txModel);
  const rxOffset = options.offsetsDb?.(first.rxModel)?.rxOffsetDb ?? 0;
  const txOffset = options.offsetsDb?.(first.txModel)?.txOffsetDb ?? 0;
  const withOffsets = new Set(options.withOffsets ?? []);
  const cache = new Map<boolean, ReturnType<typeof windowToScored>[]>();
  const windowsFor = (calibrated: boolean) => {
    let scored = cache.get(calibrated);
    if (!scored) {
      const txPowerDbm = tx.txPowerDbm + (calibrated ? txOffset : 0);
      const rxCorrectionDb = rx.rssiCorrectionDb - (calibrated ? rxOffset : 0);
      const events: AttenuationEvent[] = records.map((r) => ({
        exposure: 0,
        atMs: r.atMs,
        attenuationDb: attenuationDb(txPowerDbm, r.rssiDbm, rxCorrectionDb),
      }));
      scored = exposureWindowsOf(events, 1, options.maxScanInstanceMs).map((w) =>
        windowToScored(w, "0"),
      );
      cache.set(calibrated, scored);
    }
    return scored;
  };
  const notified: boolean[] = [];
  const score: number[] = [];
  for (const preset of options.presets) {
    const result = scoreExposure(preset, windowsFor(withOffsets.has(preset.name)));
    notified.push(result.notified);
    let s = 0;
    for (const d of result.dailySummaries)
      s = Math.max(s, preset.model === "v1-risk-score" ? d.maximumScore : d.weightedDurationSum);
    score.push(s);
  }
  return { notified, score };
}

function f1Of(tp: number, fp: number, fn: number): number {
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** Runs every detector on every directed pair of the crowd scenarios (see the file comment). */
export function evaluateExp05Contacts(options: Exp05ContactOptions): Exp05ContactResult {
  const closeDistanceM = options.closeDistanceM ?? 2;
  const closeMinutes = options.closeMinutes ?? 15;
  const scenarios = options.scenarios ?? EXP05_CROWD_SCENARIOS;
  const table: PairTable = {
    close: [],
    unitOf: [],
    units: [],
    scenarioOf: [],
    notified: options.presets.map(() => []),
    score: options.presets.map(() => []),
  };
  const summaries: Exp05ContactResult["scenarios"][number][] = [];
  const unitIndex = new Map<string, number>();
  const none = { notified: options.presets.map(() => false), score: options.presets.map(() => 0) };

  scenarios.forEach((scenario, scenarioIndex) => {
    const tracks = loadCameraTracks(options.dataDir, scenario);
    const spans = cameraSpans(tracks);
    const closeness = pairCloseness(tracks, closeDistanceM);
    // Each directed pair's receptions inside the camera's spans.
    const decisions = new Map<string, { notified: boolean[]; score: number[] }>();
    const tracked = new Map<string, Float32Array>();
    let stream: CampaignRecord[] = [];
    let key = "";
    const finish = () => {
      if (stream.length > 0)
        decisions.set(`${stream[0].rxId}>${stream[0].txId}`, decide(stream, options));
      stream = [];
    };
    for (const record of loadDp3tExp05(options.dataDir, { scenarios: [scenario] })) {
      const k = streamKey(record);
      if (k !== key) {
        finish();
        key = k;
      }
      if (!insideSpans(spans, record.atMs)) continue;
      if (options.onlyWhileTracked) {
        const pair = `${record.rxId}>${record.txId}`;
        let series = tracked.get(pair);
        if (series === undefined) {
          series = pairDistanceSeries(tracks, record.rxId, record.txId);
          tracked.set(pair, series);
        }
        const frame = tracks.frameAt(record.atMs);
        if (frame < 0 || Number.isNaN(series[frame])) continue;
      }
      stream.push(record);
    }
    finish();

    let pairs = 0;
    let closeContacts = 0;
    let heard = 0;
    const start = table.close.length;
    for (const a of tracks.ids) {
      for (const b of tracks.ids) {
        if (a === b) continue;
        const truth = closeness.get(exp05PairKey(a, b));
        if (!truth) continue;
        const isClose = truth.closeS >= closeMinutes * 60;
        const decision = decisions.get(`${a}>${b}`) ?? none;
        if (decisions.has(`${a}>${b}`)) heard++;
        pairs++;
        if (isClose) closeContacts++;
        const unit = `${scenario}:${exp05PairKey(a, b)}`;
        let u = unitIndex.get(unit);
        if (u === undefined) {
          u = table.units.push(unit) - 1;
          unitIndex.set(unit, u);
        }
        table.close.push(isClose);
        table.unitOf.push(u);
        table.scenarioOf.push(scenarioIndex);
        decision.notified.forEach((n, d) => {
          table.notified[d].push(n);
          table.score[d].push(decision.score[d]);
        });
      }
    }
    const cameraMinutes = spans.reduce((s, span) => s + (span.toMs - span.fromMs), 0) / 60_000;
    summaries.push({
      scenario,
      pairs,
      closeContacts,
      heardPairs: heard,
      cameraMinutes,
      detectors: options.presets.map((p, d) => {
        let tp = 0;
        let fp = 0;
        let fn = 0;
        for (let i = start; i < table.close.length; i++) {
          if (table.notified[d][i] && table.close[i]) tp++;
          else if (table.notified[d][i]) fp++;
          else if (table.close[i]) fn++;
        }
        return { detector: p.name, f1: f1Of(tp, fp, fn) };
      }),
    });
  });

  const counts = (d: number, weights?: ArrayLike<number>) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < table.close.length; i++) {
      const w = weights ? weights[i] : 1;
      if (table.notified[d][i] && table.close[i]) tp += w;
      else if (table.notified[d][i]) fp += w;
      else if (table.close[i]) fn += w;
    }
    return { tp, fp, fn };
  };
  const orders = table.score.map(sortedOrder);
  const metrics = (d: number, weights?: ArrayLike<number>) => {
    const { tp, fp, fn } = counts(d, weights);
    return [
      tp + fp === 0 ? Number.NaN : tp / (tp + fp),
      tp + fn === 0 ? Number.NaN : tp / (tp + fn),
      f1Of(tp, fp, fn),
      weightedAuc(orders[d], table.score[d], table.close, weights),
    ];
  };
  const draws = options.presets.map(() => [[], [], [], []] as number[][]);
  forEachUnitResample(
    table.unitOf,
    table.units.length,
    (weights) => {
      options.presets.forEach((_, d) => {
        metrics(d, weights).forEach((m, k) => {
          draws[d][k].push(m);
        });
      });
    },
    { resamples: options.resamples ?? CAMPAIGN_BOOTSTRAP.resamples },
  );
  const detectors = options.presets.map((p, d) => {
    const point = metrics(d);
    const estimate = (k: number): Estimate95 => ({
      value: point[k],
      interval95: interval95(draws[d][k]),
    });
    const { tp, fp } = counts(d);
    return {
      detector: p.name,
      notified: tp + fp,
      truePositives: tp,
      precision: estimate(0),
      recall: estimate(1),
      f1: estimate(2),
      auc: estimate(3),
      prCurve: precisionRecallCurve(table.score[d], table.close),
    };
  });
  return {
    closeDistanceM,
    closeMinutes,
    pairs: table.close.length,
    closeContacts: table.close.filter(Boolean).length,
    scenarios: summaries,
    detectors,
    f1Differences: options.presets.slice(1).map((p, k) => ({
      detector: options.presets[0].name,
      versus: p.name,
      difference: {
        value: detectors[0].f1.value - detectors[k + 1].f1.value,
        interval95: interval95(draws[0][2].map((f, r) => f - draws[k + 1][2][r])),
      },
    })),
  };
}

/**
 * Leave one campaign out: each distance estimator is fitted on every campaign but one and scored
 * on the one left out, for each campaign in turn. The pooled figure is the mean over the
 * held-out campaigns, each weighted equally however many instants it has, so one large campaign
 * cannot stand for the rest. Training weighs campaigns equally too: each contributes the same
 * number of instants, taken evenly through it.
 *
 * Scores per held-out campaign: mean absolute error (m), and for each decision distance ("within
 * 2 m", "within 1.5 m") the ROC AUC of minus the estimate and the balanced accuracy of
 * "estimate <= distance". Each has a 95 % interval from a bootstrap of the campaign's
 * independent units (`unit-bootstrap.ts`); the pooled intervals average the campaigns' r-th
 * resamples, which are independent across campaigns.
 */
import type { FitPoint } from "../src/signal/distance/fit-points.js";
import { median } from "../src/signal/distance/fit-points.js";
import type { CampaignInstants, InstantEstimator } from "./campaign-instants.js";
import {
  CAMPAIGN_BOOTSTRAP,
  type Estimate95,
  forEachUnitResample,
  interval95,
  sortedOrder,
  weightedAuc,
  weightedBalancedAccuracy,
  weightedMae,
} from "./unit-bootstrap.js";

/** A fitted estimator's model, fitted on training points. */
export interface FittedModel {
  predict(feature: number): number;
  readonly parameters: Readonly<Record<string, number>>;
}

export interface EstimatorCandidate extends InstantEstimator {
  /** Fits the model on (feature, true distance) points; required when `fitted`. */
  fit?(points: readonly FitPoint[]): FittedModel;
}

/** The decision distances scored: "within 2 m" (the close-contact rule) and "within 1.5 m" (DP-3T's). */
export const DECISION_DISTANCES_M: readonly number[] = [2, 1.5];
/** Training instants taken from each campaign (evenly through it), so campaigns weigh equally. */
export const TRAIN_INSTANTS_PER_CAMPAIGN = 4000;

export interface DecisionScores {
  readonly distanceM: number;
  readonly auc: Estimate95;
  readonly balancedAccuracy: Estimate95;
}

export interface HeldOutScores {
  readonly estimator: string;
  readonly maeM: Estimate95;
  readonly decisions: readonly DecisionScores[];
  /** What the fit on the other campaigns gave (fitted estimators). */
  readonly parameters?: Readonly<Record<string, number>>;
}

export interface HeldOutCampaign {
  readonly campaign: string;
  readonly instants: number;
  readonly units: number;
  /** Share of the instants within each decision distance. */
  readonly withinShare: readonly number[];
  readonly estimators: readonly HeldOutScores[];
  /** Predicting the training campaigns' median distance everywhere (no RSSI): for scale. */
  readonly priorOnly: { readonly distanceM: number; readonly maeM: number };
  /**
   * The first estimator's model fitted on this campaign itself, in hindsight: what its model
   * family could reach with this campaign's own offsets known. A bound, not a result.
   */
  readonly hindsight?: {
    readonly estimator: string;
    readonly maeM: number;
    readonly balancedAccuracy: number;
  };
}

export interface PooledScores {
  readonly estimator: string;
  readonly maeM: Estimate95;
  readonly decisions: readonly DecisionScores[];
}

export interface LeaveOneCampaignOut {
  readonly campaigns: readonly HeldOutCampaign[];
  /** Mean over the held-out campaigns, each weighted equally. */
  readonly pooled: readonly PooledScores[];
  /** The first estimator's pooled AUC ("within 2 m") minus each other's, paired resamples. */
  readonly aucDifferences: readonly {
    readonly estimator: string;
    readonly versus: string;
    readonly difference: Estimate95;
  }[];
  readonly priorOnlyMaeM: number;
  /** Mean over campaigns of the first estimator's hindsight MAE (`HeldOutCampaign.hindsight`). */
  readonly hindsightMaeM?: number;
}

export interface LeaveOneCampaignOutOptions {
  readonly decisionDistancesM?: readonly number[];
  readonly trainPerCampaign?: number;
  readonly resamples?: number;
  /** Campaigns used only for training, never held out (e.g. ones without both classes). */
  readonly trainOnly?: readonly string[];
}

/** `count` indices spread evenly over 0 .. n - 1 (all of them when n <= count). */
export function evenlySpaced(n: number, count: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * n) / count));
}

function trainingPoints(
  tables: readonly CampaignInstants[],
  estimatorIndex: number,
  perCampaign: number,
): FitPoint[] {
  const points: FitPoint[] = [];
  for (const table of tables) {
    for (const i of evenlySpaced(table.count, perCampaign))
      points.push({ value: table.values[estimatorIndex][i], distanceM: table.truthM[i] });
  }
  return points;
}

/** Runs the protocol (see the file comment) over campaigns' instants of the same estimators. */
export function leaveOneCampaignOut(
  tables: readonly CampaignInstants[],
  estimators: readonly EstimatorCandidate[],
  options: LeaveOneCampaignOutOptions = {},
): LeaveOneCampaignOut {
  const distances = options.decisionDistancesM ?? DECISION_DISTANCES_M;
  const perCampaign = options.trainPerCampaign ?? TRAIN_INSTANTS_PER_CAMPAIGN;
  const resamples = options.resamples ?? CAMPAIGN_BOOTSTRAP.resamples;
  const trainOnly = new Set(options.trainOnly ?? []);
  const heldOut = tables.filter((t) => !trainOnly.has(t.campaign) && t.count > 0);

  // boot[c][e][metric][r]: metric 0 = MAE, then AUC and balanced accuracy per distance.
  const metricCount = 1 + 2 * distances.length;
  const boot: number[][][][] = [];
  const campaigns: HeldOutCampaign[] = [];
  let priorMaeSum = 0;

  for (const table of heldOut) {
    const training = tables.filter((t) => t !== table && t.count > 0);
    const models = estimators.map((e, i) =>
      e.fitted ? e.fit?.(trainingPoints(training, i, perCampaign)) : undefined,
    );
    const predictions = estimators.map((e, i) => {
      const model = models[i];
      const values = table.values[i];
      if (!e.fitted) return values;
      if (!model) throw new Error(`estimator ${e.name} is fitted but has no fit()`);
      return values.map((v) => model.predict(v));
    });
    const priorDistanceM = median(
      training.flatMap((t) => evenlySpaced(t.count, perCampaign).map((i) => t.truthM[i])),
    );
    const labels = distances.map((d) => Array.from(table.truthM, (t) => t <= d));
    const scores = predictions.map((p) => p.map((d) => -d));
    const orders = scores.map(sortedOrder);
    const decided = predictions.map((p) => distances.map((d) => Array.from(p, (x) => x <= d)));

    const metrics = (e: number, weights?: Float64Array): number[] => [
      weightedMae(predictions[e], table.truthM, weights),
      ...distances.flatMap((_, k) => [
        weightedAuc(orders[e], scores[e], labels[k], weights),
        weightedBalancedAccuracy(decided[e][k], labels[k], weights),
      ]),
    ];
    const point = estimators.map((_, e) => metrics(e));
    const draws = estimators.map(() => Array.from({ length: metricCount }, () => [] as number[]));
    forEachUnitResample(
      table.unitOf,
      table.units.length,
      (weights) => {
        estimators.forEach((_, e) => {
          metrics(e, weights).forEach((m, k) => {
            draws[e][k].push(m);
          });
        });
      },
      { resamples },
    );
    boot.push(draws);
    const ownModel = estimators[0].fitted
      ? estimators[0].fit?.(trainingPoints([table], 0, perCampaign))
      : undefined;
    const hindsight = ownModel
      ? (() => {
          const own = Float64Array.from(table.values[0], (v) => ownModel.predict(v));
          return {
            estimator: estimators[0].name,
            maeM: weightedMae(own, table.truthM),
            balancedAccuracy: weightedBalancedAccuracy(
              Array.from(own, (x) => x <= distances[0]),
              labels[0],
            ),
          };
        })()
      : undefined;
    const priorMae = weightedMae(
      Array.from(table.truthM, () => priorDistanceM),
      table.truthM,
    );
    priorMaeSum += priorMae;
    campaigns.push({
      campaign: table.campaign,
      instants: table.count,
      units: table.units.length,
      withinShare: labels.map((l) => l.filter(Boolean).length / table.count),
      priorOnly: { distanceM: priorDistanceM, maeM: priorMae },
      ...(hindsight ? { hindsight } : {}),
      estimators: estimators.map((e, i) => {
        const estimate = (k: number): Estimate95 => ({
          value: point[i][k],
          interval95: interval95(draws[i][k]),
        });
        const scored: HeldOutScores = {
          estimator: e.name,
          maeM: estimate(0),
          decisions: distances.map((distanceM, k) => ({
            distanceM,
            auc: estimate(1 + 2 * k),
            balancedAccuracy: estimate(2 + 2 * k),
          })),
        };
        const model = models[i];
        return model ? { ...scored, parameters: model.parameters } : scored;
      }),
    });
  }

  /** Mean over campaigns of metric k of estimator e, at the point and per resample. */
  const pooledMetric = (e: number, k: number): { value: number; draws: number[] } => {
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const value = mean(
      campaigns.map((c) => {
        const s = c.estimators[e];
        if (k === 0) return s.maeM.value;
        const d = s.decisions[Math.floor((k - 1) / 2)];
        return (k - 1) % 2 === 0 ? d.auc.value : d.balancedAccuracy.value;
      }),
    );
    const draws = Array.from({ length: resamples }, (_, r) => mean(boot.map((b) => b[e][k][r])));
    return { value, draws };
  };
  const pooledEstimate = (e: number, k: number): Estimate95 => {
    const { value, draws } = pooledMetric(e, k);
    return { value, interval95: interval95(draws) };
  };
  const pooled: PooledScores[] = estimators.map((e, i) => ({
    estimator: e.name,
    maeM: pooledEstimate(i, 0),
    decisions: distances.map((distanceM, k) => ({
      distanceM,
      auc: pooledEstimate(i, 1 + 2 * k),
      balancedAccuracy: pooledEstimate(i, 2 + 2 * k),
    })),
  }));
  const first = campaigns.length > 0 ? pooledMetric(0, 1) : { value: Number.NaN, draws: [] };
  return {
    campaigns,
    pooled,
    aucDifferences: estimators.slice(1).map((e, k) => {
      const other = pooledMetric(k + 1, 1);
      return {
        estimator: estimators[0].name,
        versus: e.name,
        difference: {
          value: first.value - other.value,
          interval95: interval95(first.draws.map((d, r) => d - other.draws[r])),
        },
      };
    }),
    priorOnlyMaeM: campaigns.length > 0 ? priorMaeSum / campaigns.length : Number.NaN,
    ...(campaigns.every((c) => c.hindsight)
      ? {
          hindsightMaeM:
            campaigns.reduce((sum, c) => sum + (c.hindsight?.maeM ?? 0), 0) / campaigns.length,
        }
      : {}),
  };
}

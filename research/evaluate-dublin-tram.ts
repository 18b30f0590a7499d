/**
 * Evaluates risk presets on the Dublin tram measurements (Leith & Farrell 2020,
 * "Measurement-Based Evaluation Of Google/Apple Exposure Notification API For Proximity
 * Detection In A Light-Rail Tram"): per pair of handsets, the minutes GAEN recorded in each
 * attenuation bin, and the pair's distance. A pair is "close" when it was within 2 m; every
 * placement lasted about 15 minutes, so a close pair is a close contact (docs/protocols.md,
 * Close contact).
 *
 * - Reading and parsing the files is `src/campaigns/load-dublin-tram.ts`.
 * - Each pair is one exposure on one UTC day: one `ScoredWindow` whose segments spread each
 *   bin's minutes evenly over the whole-dB attenuations the bin holds (`splitHistogram`).
 *   The recorded minutes are used as they are (the files give minutes, not fractions;
 *   row totals are 0-19 min, median 15), as the study applied the apps' rules to them.
 * - proxkit's detector is fitted here by leave-one-handset-out cross-validation
 *   (`crossValidateDetector`); its reported figures come from the held-out folds.
 */
import { ConfigError } from "../src/core/errors.js";
import { SeededRandom } from "../src/core/random.js";
import {
  DUBLIN_TRAM_BIN_EDGES_DB,
  type DublinTramPair,
  loadDublinTram,
} from "../src/campaigns/load-dublin-tram.js";
import { percentileInterval95 } from "../src/signal/decision-metrics.js";
import {
  allPresets,
  presetFor,
  type RiskModel,
  type RiskPreset,
} from "../src/exposure/risk-preset.js";
import {
  type AttenuationSegment,
  type ScoredWindow,
  scoreExposure,
} from "../src/exposure/score-exposure.js";

/** Ground truth: a pair within this distance is a close contact (docs/protocols.md). */
export const CLOSE_DISTANCE_M = 2;

/** Every pair is one exposure starting on this day (an arbitrary day of June 2020). */
export const MEASUREMENT_START_MS = Date.UTC(2020, 5, 1, 12);

/** Whole-dB values of `closeAttenuationDb` tried when fitting the detector. */
export const CLOSE_ATTENUATION_CANDIDATES_DB: readonly number[] = Array.from(
  { length: 61 },
  (_, i) => 40 + i,
);

/**
 * Turns a histogram of minutes per attenuation bin into segments. GAEN attenuations are whole
 * dB and the study's bins come from EN v1 thresholds (`t0 <= a < t1`), so bin [lo, hi) holds
 * the whole-dB values lo .. hi-1; its minutes are spread evenly over them (one segment each).
 * A bin straddling a threshold is thus counted in proportion, assuming a uniform spread in
 * the bin, and every rule sees exactly what it would on whole-dB data: for the 2-dB bins this
 * equals the half-bins at the 1/4 and 3/4 points for EN v1 ("<") thresholds, and unlike them
 * it is also right for EN v2 ("<=") thresholds. Empty bins give no segment.
 */
export function splitHistogram(
  minutesPerBin: readonly number[],
  binEdgesDb: readonly number[] = DUBLIN_TRAM_BIN_EDGES_DB,
): AttenuationSegment[] {
  if (minutesPerBin.length !== binEdgesDb.length - 1) {
    throw new ConfigError(
      `${minutesPerBin.length} bins need ${minutesPerBin.length + 1} edges`,
      "E_DATASET",
    );
  }
  const segments: AttenuationSegment[] = [];
  for (let bin = 0; bin < minutesPerBin.length; bin++) {
    const lo = binEdgesDb[bin];
    const hi = binEdgesDb[bin + 1];
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi <= lo) {
      throw new ConfigError(`bin edges must be increasing whole dB, not ${lo}-${hi}`, "E_DATASET");
    }
    if (minutesPerBin[bin] === 0) continue;
    const seconds = (minutesPerBin[bin] * 60) / (hi - lo);
    for (let attenuationDb = lo; attenuationDb < hi; attenuationDb++)
      segments.push({ attenuationDb, seconds });
  }
  return segments;
}

/** A pair's whole measurement as one exposure on one UTC day (one window, as it is under 30 minutes). */
export function tramPairWindows(pair: DublinTramPair): ScoredWindow[] {
  return [
    {
      exposure: `pair ${pair.row}`,
      startMs: MEASUREMENT_START_MS,
      segments: splitHistogram(pair.minutesPerBin),
    },
  ];
}

/** Decision counts and rates against the ground truth. */
export interface ConfusionFigures {
  readonly notifications: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
  /** Sensitivity, tp / positives. */
  readonly tpr: number;
  /** fp / negatives. */
  readonly fpr: number;
  /** tp / notifications; null without notifications. */
  readonly precision: number | null;
  /** (tpr + 1 - fpr) / 2: 0.5 is chance, as is notifying nobody. */
  readonly balancedAccuracy: number;
  /** Youden's J, tpr - fpr: 0 is chance. */
  readonly youdenJ: number;
}

/** One held-out handset of the cross-validation. */
export interface DetectorFold {
  /** The held-out handset: its fold tests the pairs it logged (it comes first). */
  readonly handset: number;
  /** Pairs fitted on: those not involving the held-out handset at all. */
  readonly trainPairs: number;
  readonly testPairs: number;
  readonly closeAttenuationDb: number;
  /** Youden's J of the fitted value on the training pairs (in-sample, for reference). */
  readonly trainYoudenJ: number;
  readonly tp: number;
  readonly fp: number;
  readonly positives: number;
  readonly negatives: number;
}

/** Held-out figures of the fitted detector: every pair decided once, by a fold that did not fit on it. */
export interface DetectorCrossValidation extends ConfusionFigures {
  readonly split: "leave-one-handset-out";
  readonly pairs: number;
  readonly notifyAtCloseMinutes: number;
  readonly folds: readonly DetectorFold[];
  /** The same fit on every pair: the value to commit as the preset's default. */
  readonly fittedOnAllPairsDb: number;
  /** Each pair's out-of-fold decision. */
  readonly decisions: readonly boolean[];
}

/** Resamples of `balancedAccuracyInterval`. */
export const BOOTSTRAP_RESAMPLES = 2000;

/**
 * 95 % percentile-bootstrap interval of the balanced accuracy of `decisions` (one per pair),
 * resampling seats rather than rows: the rows of one unordered pair of handsets (both
 * directions, repeated placements) share the same seats and phones, so they are drawn together.
 * Seeded, so the interval is the same on every run. With 72 rows from 21 seat pairs the
 * interval is about ±0.1 wide: enough to tell a rule from chance only when it is far from 0.5.
 */
export function balancedAccuracyInterval(
  pairs: readonly DublinTramPair[],
  decisions: readonly boolean[],
  resamples = BOOTSTRAP_RESAMPLES,
  seed = 1,
): readonly [number, number] {
  const clusters = new Map<string, number[]>();
  pairs.forEach((p, i) => {
    const key = [...p.handsets].sort((a, b) => a - b).join("-");
    const rows = clusters.get(key);
    if (rows) rows.push(i);
    else clusters.set(key, [i]);
  });
  const groups = [...clusters.values()];
  const random = new SeededRandom(seed);
  const values: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let tp = 0;
    let positives = 0;
    let fp = 0;
    let negatives = 0;
    for (let g = 0; g < groups.length; g++) {
      for (const i of groups[random.int(groups.length)]) {
        if (isClose(pairs[i])) {
          positives++;
          if (decisions[i]) tp++;
        } else {
          negatives++;
          if (decisions[i]) fp++;
        }
      }
    }
    if (positives === 0 || negatives === 0) continue;
    values.push((tp / positives + 1 - fp / negatives) / 2);
  }
  return percentileInterval95(values);
}

export interface DublinTramPresetResult extends ConfusionFigures {
  readonly preset: string;
  readonly title: string;
  readonly model: RiskModel;
  readonly pairs: number;
  readonly positives: number;
  readonly negatives: number;
  /**
   * 95 % bootstrap interval of the balanced accuracy reported (the cross-validated one for a
   * detector), seats resampled (`balancedAccuracyInterval`).
   */
  readonly balancedAccuracy95: readonly [number, number];
  /**
   * Detector presets only: cross-validated figures. The figures above are the committed
   * preset's on every pair, which it was fitted on: they are in-sample.
   */
  readonly crossValidated?: DetectorCrossValidation;
}

export interface DublinTramEvaluation {
  readonly dataset: "dublin-tram";
  readonly closeDistanceM: typeof CLOSE_DISTANCE_M;
  readonly results: readonly DublinTramPresetResult[];
}

export interface DublinTramOptions {
  readonly dataDir: string;
  /** Preset names; all, ours first, by default. */
  readonly presets?: readonly string[];
}

const isClose = (pair: DublinTramPair) => pair.distanceM <= CLOSE_DISTANCE_M;

/** Confusion figures of `decisions` (one per pair) against the pairs' ground truth. */
export function confusionFigures(
  pairs: readonly DublinTramPair[],
  decisions: readonly boolean[],
): ConfusionFigures {
  let tp = 0;
  let fp = 0;
  let positives = 0;
  pairs.forEach((pair, i) => {
    if (isClose(pair)) {
      positives++;
      if (decisions[i]) tp++;
    } else if (decisions[i]) fp++;
  });
  const negatives = pairs.length - positives;
  const tpr = positives > 0 ? tp / positives : 0;
  const fpr = negatives > 0 ? fp / negatives : 0;
  return {
    notifications: tp + fp,
    tp,
    fp,
    fn: positives - tp,
    tn: negatives - fp,
    tpr,
    fpr,
    precision: tp + fp > 0 ? tp / (tp + fp) : null,
    balancedAccuracy: (tpr + 1 - fpr) / 2,
    youdenJ: tpr - fpr,
  };
}

/** Whether `preset` notifies each pair. */
export function decidePairs(preset: RiskPreset, pairs: readonly DublinTramPair[]): boolean[] {
  return pairs.map((pair) => scoreExposure(preset, tramPairWindows(pair)).notified);
}

function requireDetector(preset: RiskPreset): void {
  if (preset.model !== "proxkit-detector") {
    throw new ConfigError(`preset ${preset.name} is not a proxkit detector`, "E_PRESET");
  }
}

/** Decisions per candidate: `table[c][i]` for candidate c and pair i. */
function decisionTable(
  preset: RiskPreset,
  pairs: readonly DublinTramPair[],
  candidatesDb: readonly number[],
) {
  return candidatesDb.map((closeAttenuationDb) =>
    decidePairs({ ...preset, closeAttenuationDb }, pairs),
  );
}

/** The candidate with the highest Youden's J on `rows`; ties go to the middle one (the lower of two). */
function bestCandidate(
  pairs: readonly DublinTramPair[],
  table: readonly boolean[][],
  candidatesDb: readonly number[],
  rows: readonly number[],
): { closeAttenuationDb: number; youdenJ: number } {
  const subset = rows.map((i) => pairs[i]);
  const scores = table.map(
    (decisions) =>
      confusionFigures(
        subset,
        rows.map((i) => decisions[i]),
      ).youdenJ,
  );
  const best = Math.max(...scores);
  const tied = candidatesDb.filter((_, c) => scores[c] >= best - 1e-12);
  return { closeAttenuationDb: tied[Math.floor((tied.length - 1) / 2)], youdenJ: best };
}

/**
 * Fits `closeAttenuationDb` of a detector preset on `pairs`: the whole-dB candidate with the
 * highest Youden's J, keeping the preset's `notifyAtCloseMinutes` (the close-contact definition).
 */
export function fitCloseAttenuationDb(
  preset: RiskPreset,
  pairs: readonly DublinTramPair[],
  candidatesDb: readonly number[] = CLOSE_ATTENUATION_CANDIDATES_DB,
): { closeAttenuationDb: number; youdenJ: number } {
  requireDetector(preset);
  const table = decisionTable(preset, pairs, candidatesDb);
  return bestCandidate(
    pairs,
    table,
    candidatesDb,
    pairs.map((_, i) => i),
  );
}

/**
 * Leave-one-handset-out cross-validation of `fitCloseAttenuationDb`. For each handset that
 * comes first in some pair, the detector is fitted on the pairs that do not involve that
 * handset at all (neither first nor second, so no pair of seats is in both) and decides the
 * pairs it logged. Every pair is decided exactly once, by a fold fitted without any pair of
 * its first handset (so without it and its reverse direction); the figures are those decisions'.
 */
export function crossValidateDetector(
  preset: RiskPreset,
  pairs: readonly DublinTramPair[],
  candidatesDb: readonly number[] = CLOSE_ATTENUATION_CANDIDATES_DB,
): DetectorCrossValidation {
  requireDetector(preset);
  const table = decisionTable(preset, pairs, candidatesDb);
  const handsets = [...new Set(pairs.map((p) => p.handsets[0]))].sort((a, b) => a - b);
  const outOfFold: boolean[] = new Array(pairs.length).fill(false);
  const folds = handsets.map((handset): DetectorFold => {
    const train: number[] = [];
    const test: number[] = [];
    pairs.forEach((p, i) => {
      if (p.handsets[0] === handset) test.push(i);
      else if (p.handsets[1] !== handset) train.push(i);
    });
    const fit = bestCandidate(pairs, table, candidatesDb, train);
    const decisions = table[candidatesDb.indexOf(fit.closeAttenuationDb)];
    for (const i of test) outOfFold[i] = decisions[i];
    const figures = confusionFigures(
      test.map((i) => pairs[i]),
      test.map((i) => decisions[i]),
    );
    return {
      handset,
      trainPairs: train.length,
      testPairs: test.length,
      closeAttenuationDb: fit.closeAttenuationDb,
      trainYoudenJ: fit.youdenJ,
      tp: figures.tp,
      fp: figures.fp,
      positives: figures.tp + figures.fn,
      negatives: figures.fp + figures.tn,
    };
  });
  return {
    split: "leave-one-handset-out",
    pairs: pairs.length,
    notifyAtCloseMinutes: preset.notifyAtCloseMinutes!,
    ...confusionFigures(pairs, outOfFold),
    folds,
    decisions: outOfFold,
    fittedOnAllPairsDb: bestCandidate(
      pairs,
      table,
      candidatesDb,
      pairs.map((_, i) => i),
    ).closeAttenuationDb,
  };
}

/** Evaluates presets (by name; all, ours first, by default) on parsed pairs. */
export function evaluateTramPairs(
  pairs: readonly DublinTramPair[],
  presetNames?: readonly string[],
): DublinTramEvaluation {
  const presets = presetNames ? presetNames.map((name) => presetFor(name)) : allPresets();
  const positives = pairs.filter(isClose).length;
  const results = presets.map((preset): DublinTramPresetResult => {
    const decisions = decidePairs(preset, pairs);
    const crossValidated =
      preset.model === "proxkit-detector" ? crossValidateDetector(preset, pairs) : undefined;
    return {
      preset: preset.name,
      title: preset.title,
      model: preset.model,
      pairs: pairs.length,
      positives,
      negatives: pairs.length - positives,
      ...confusionFigures(pairs, decisions),
      balancedAccuracy95: balancedAccuracyInterval(pairs, crossValidated?.decisions ?? decisions),
      ...(crossValidated ? { crossValidated } : {}),
    };
  });
  return { dataset: "dublin-tram", closeDistanceM: CLOSE_DISTANCE_M, results };
}

/** Loads the data set from `dataDir` and evaluates the presets on it. */
export function evaluateDublinTram(options: DublinTramOptions): DublinTramEvaluation {
  return evaluateTramPairs(loadDublinTram(options.dataDir), options.presets);
}

/** The line the CLI prints for one preset. */
export interface DublinTramSummary {
  readonly pairs: number;
  readonly notifications: number;
  readonly tpr: number;
  readonly fpr: number;
}

/**
 * One preset's figures, rates rounded to 3 decimals. For a detector fitted on this data the
 * figures are the cross-validated ones, since its in-sample figures would flatter it.
 */
export function dublinTramSummary(result: DublinTramPresetResult): DublinTramSummary {
  const figures = result.crossValidated ?? result;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    pairs: result.pairs,
    notifications: figures.notifications,
    tpr: round(figures.tpr),
    fpr: round(figures.fpr),
  };
}

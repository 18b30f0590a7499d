/**
 * Evaluates the distance estimators on the Herald project's robot rig ("herald-edison"): two
 * phones on a cable-car rig, moved through fixed distances (0-300 cm, 30 min per position),
 * each phone logging `time,rssi,distance(cm)` of the other's advertisements; `metadata.csv`
 * names phone A and B of each test, `phones.csv` their models.
 *
 * Split (by phone pair, and by date): the estimators' parameters are fitted on test 5
 * (2021-01-04, Pixel 2 and Galaxy A20: 20210104-1422-A/B.csv) and reported on tests 7 and 8
 * (2021-01-06, Galaxy Note 8 and Pixel 2: 20210106-0815-A/B.csv, 20210106-1501-A/B.csv). No
 * (receiver, transmitter) pair of the report was seen in fitting, and the Note 8 not at all;
 * the Pixel 2 is in both (only two pairs have data).
 *
 * Instants: every estimator is run causally over each file and read at the same instants,
 * every 30 s on the Unix clock (`EstimateTicker`), using only the samples up to each instant.
 * An instant counts when every estimator has an estimate (so the first minute of each file,
 * Herald's warm-up, is left out). Its truth is the distance of the last sample at or before
 * it. Metrics pool the instants of all reported files: mean absolute error (m), and for
 * "within 2 m" (truth <= 2 m) the ROC AUC of -estimate and the balanced accuracy of
 * "estimate <= 2 m".
 *
 * Fitting uses the same instants of the training files, but only the first 30 minutes of any
 * position: test 5 ends with 7 h 20 min at 0 cm, which would otherwise outweigh all the rest.
 */
import { existsSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { ConfigError } from "../src/core/errors.js";
import { SeededRandom } from "../src/core/random.js";
import {
  HERALD_EDISON_TEST_FILES,
  HERALD_EDISON_TRAIN_FILES,
  HERALD_PHONE_DEVICES,
  phonePairs,
  readHeraldRecording,
} from "../src/campaigns/herald-edison-files.js";
import {
  type CalibrationLookup,
  type CalibrationTable,
  DEFAULT_DEVICE_CALIBRATION,
  loadCalibrationTable,
} from "../src/signal/calibration-table.js";
import { balancedAccuracy, percentileInterval95, rocAuc } from "../src/signal/decision-metrics.js";
import type { ChainedEstimator } from "../src/signal/distance/distance-estimator.js";
import { CLOSE_CONTACT_DISTANCE_M } from "../src/signal/distance/dual-slope-model.js";
import { EstimateTicker } from "../src/signal/distance/estimate-ticker.js";
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
import type { FitPoint } from "../src/signal/distance/fit-points.js";
import { median } from "../src/signal/distance/fit-points.js";
import type { RssiRow } from "../src/signal/rssi-csv.js";

/** Fitting uses at most this much of one position. */
export const FIT_POSITION_CAP_MS = 30 * 60_000;
/** The calibration table's usual place relative to the data folder. */
const CALIBRATION_BESIDE_DATA = "../gaen/en-calibration-2020-06-13.csv";

export interface HeraldEdisonOptions {
  /** The folder with the rig's CSV files, metadata.csv and phones.csv. */
  readonly dataDir: string;
  /** Files to report on (names in `dataDir`, or paths). Default: tests 7 and 8. */
  readonly files?: readonly string[];
  /** Files to fit on. Default: test 5. Must not overlap `files`. */
  readonly trainFiles?: readonly string[];
  /** Estimators to report, by name. Default: all (`ESTIMATOR_NAMES`). */
  readonly estimators?: readonly string[];
  /** The GAEN calibration table, or its path. Default: `<dataDir>/../gaen/en-calibration-2020-06-13.csv`. */
  readonly calibration?: CalibrationTable | string;
}

export interface HeraldEdisonFileInfo {
  readonly file: string;
  /** "N8 (Samsung SM-N950F) <- P2 (Google Pixel 2)": receiver <- transmitter. */
  readonly pair: string;
}

export interface HeraldEdisonEstimatorResult {
  readonly name: string;
  /** Mean absolute distance error (m). */
  readonly maeM: number;
  /** ROC AUC of "within 2 m", scoring each instant by minus its estimate. */
  readonly auc: number;
  /**
   * Mean over the test recordings of each one's AUC: the ranking within one phone pair, where
   * the devices' unknown RSSI offsets cancel (the pooled `auc` pays for them).
   */
  readonly aucWithinRecording: number;
  /** 95 % bootstrap interval of `auc`, placements resampled (`HERALD_BOOTSTRAP`). */
  readonly auc95: readonly [number, number];
  /** Balanced accuracy of "estimate <= 2 m" for "within 2 m". */
  readonly balancedAccuracy: number;
  /** Instants scored. */
  readonly samples: number;
  /** The parameters fitted on the training files, for the fitted estimators. */
  readonly parameters?: Readonly<Record<string, number>>;
}

export interface HeraldEdisonEvaluation {
  readonly dataset: "herald-edison";
  readonly split: {
    readonly description: string;
    /** Where the devices' calibration came from (a path, or the table-wide default). */
    readonly calibration: string;
    readonly train: readonly HeraldEdisonFileInfo[];
    readonly test: readonly HeraldEdisonFileInfo[];
    readonly instants: string;
    /** Share of the reported instants within 2 m. */
    readonly withinShare: number;
  };
  /** Predicting the training median distance everywhere, for scale. */
  readonly priorOnly: { readonly distanceM: number; readonly maeM: number };
  readonly estimators: readonly HeraldEdisonEstimatorResult[];
  /**
   * The first estimator's pooled AUC minus each other's, with a 95 % paired bootstrap interval
   * (the same resampled placements for both): an interval holding 0 means the data cannot tell
   * the two apart.
   */
  readonly aucDifferences: readonly {
    readonly estimator: string;
    readonly versus: string;
    readonly difference: number;
    readonly interval95: readonly [number, number];
  }[];
}

/**
 * Bootstrap of the AUC figures: resamples of whole placements (one recording at one distance),
 * since the instants of one placement share its multipath and are far from independent.
 * Seeded, so the intervals are the same on every run.
 */
export const HERALD_BOOTSTRAP = { resamples: 400, seed: 1 } as const;

/**
 * Pooled AUC of every estimator on `resamples` bootstrap samples of the clusters (each a list of
 * instant indices): `aucs[e][r]`. Resamples with one class missing are skipped.
 */
function bootstrapAucs(
  estimates: readonly (readonly number[])[],
  within: readonly boolean[],
  clusters: readonly (readonly number[])[],
): number[][] {
  const random = new SeededRandom(HERALD_BOOTSTRAP.seed);
  const aucs: number[][] = estimates.map(() => []);
  for (let r = 0; r < HERALD_BOOTSTRAP.resamples; r++) {
    const picked: number[] = [];
    for (let c = 0; c < clusters.length; c++) picked.push(...clusters[random.int(clusters.length)]);
    const labels = picked.map((i) => within[i]);
    if (!labels.includes(true) || !labels.includes(false)) continue;
    estimates.forEach((values, e) => {
      aucs[e].push(
        rocAuc(
          picked.map((i) => -values[i]),
          labels,
        ),
      );
    });
  }
  return aucs;
}

interface Recording {
  readonly info: HeraldEdisonFileInfo;
  readonly rx: CalibrationLookup;
  readonly tx: CalibrationLookup;
  readonly rows: readonly RssiRow[];
}

/** "P2 <- A20, A20 <- P2" (distinct pairs, in order). */
function describePairs(recordings: readonly Recording[]): string {
  return [...new Set(recordings.map((r) => r.info.pair.replace(/ \([^)]*\)/g, "")))].join(", ");
}

/**
 * Runs `estimators` over `rows` and calls `visit` at each reporting instant with the truth
 * and the time since the current position began.
 */
function runInstants(
  rows: readonly RssiRow[],
  estimators: readonly ChainedEstimator[],
  visit: (truthM: number, positionAgeMs: number) => void,
): void {
  const ticker = new EstimateTicker();
  let truthM = Number.NaN;
  let positionStartMs = 0;
  const report = (tickMs: number | undefined) => {
    if (tickMs !== undefined && !Number.isNaN(truthM)) visit(truthM, tickMs - positionStartMs);
  };
  for (const row of rows) {
    report(ticker.beforeSample(row.atMs));
    if (row.distanceM !== truthM) {
      truthM = row.distanceM as number;
      positionStartMs = row.atMs;
    }
    for (const estimator of estimators) estimator.push(row.atMs, row.rssiDbm);
  }
  report(ticker.finish());
}

/** Fits the fitted estimators' models on the training recordings. */
function fitModels(recordings: readonly Recording[], names: readonly EstimatorName[]) {
  const points = new Map<EstimatorName, FitPoint[]>(names.map((n) => [n, []]));
  const truths: number[] = [];
  for (const recording of recordings) {
    const estimators = names.map((n) => estimatorFor(n, { rx: recording.rx, tx: recording.tx }));
    runInstants(recording.rows, estimators, (truthM, positionAgeMs) => {
      if (positionAgeMs > FIT_POSITION_CAP_MS) return;
      truths.push(truthM);
      names.forEach((name, i) => {
        const value = estimators[i].feature();
        if (value !== undefined) points.get(name)?.push({ value, distanceM: truthM });
      });
    });
  }
  let options: EstimatorOptions = {};
  const parameters = new Map<string, Record<string, number>>();
  for (const name of names) {
    const fit = fitEstimatorModel(name, points.get(name) ?? []);
    options = { ...options, ...fit.options };
    parameters.set(name, fit.parameters);
  }
  return { options, parameters, priorDistanceM: median(truths) };
}

/** Evaluates the estimators on the rig (see the file comment for the split and the instants). */
export function evaluateHeraldEdison(options: HeraldEdisonOptions): HeraldEdisonEvaluation {
  const { dataDir } = options;
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory())
    throw new ConfigError(`the herald-edison data folder ${dataDir} does not exist`, "E_INPUT");
  const names = [...(options.estimators ?? ESTIMATOR_NAMES)];
  for (const name of names) estimatorFor(name);
  const testFiles = options.files ?? HERALD_EDISON_TEST_FILES;
  const trainFiles = options.trainFiles ?? HERALD_EDISON_TRAIN_FILES;
  const overlap = testFiles
    .map((f) => basename(f))
    .filter((f) => trainFiles.some((t) => basename(t) === f));
  if (overlap.length > 0)
    throw new ConfigError(`files used both to fit and to report: ${overlap.join(", ")}`, "E_SPLIT");
  if (testFiles.length === 0 || trainFiles.length === 0)
    throw new ConfigError(
      "herald-edison needs at least one file to fit on and one to report on",
      "E_SPLIT",
    );

  let table: CalibrationTable | undefined;
  let calibrationSource = "none: every phone gets the table-wide default";
  if (typeof options.calibration === "object") {
    table = options.calibration;
    calibrationSource = "the table given";
  } else {
    const path = options.calibration ?? join(dataDir, CALIBRATION_BESIDE_DATA);
    if (options.calibration !== undefined || existsSync(path)) {
      table = loadCalibrationTable(path);
      calibrationSource = path;
    }
  }
  const pairs = phonePairs(dataDir);
  const device = (phone: string) => HERALD_PHONE_DEVICES[phone] ?? phone;
  const calibrationOf = (phone: string): CalibrationLookup =>
    table ? table.lookup(device(phone)) : { ...DEFAULT_DEVICE_CALIBRATION, match: "default" };

  const load = (file: string): Recording => {
    const name = basename(file);
    const path = file.includes("/") || file.includes("\\") ? file : join(dataDir, file);
    const pair = pairs.get(name);
    if (!pair)
      throw new ConfigError(`${name} is not listed in ${join(dataDir, "metadata.csv")}`, "E_INPUT");
    const rows = readHeraldRecording(path, name);
    if (rows.length === 0) throw new ConfigError(`${path} has no samples`, "E_INPUT");
    return {
      info: {
        file: name,
        pair: `${pair.rx} (${device(pair.rx)}) <- ${pair.tx} (${device(pair.tx)})`,
      },
      rx: calibrationOf(pair.rx),
      tx: calibrationOf(pair.tx),
      rows,
    };
  };

  const train = trainFiles.map(load);
  const fittedNames = FITTED_ESTIMATORS.filter((n) => names.includes(n));
  const fitted = fitModels(train, fittedNames);
  const test = testFiles.map(load);

  const estimates: number[][] = names.map(() => []);
  const truths: number[] = [];
  /** The index in `truths` where each test recording's instants begin. */
  const starts: number[] = [];
  /** Instants by placement (recording and distance), for the bootstrap. */
  const clusterOf = new Map<string, number[]>();
  for (const recording of test) {
    starts.push(truths.length);
    const estimators = names.map((n) =>
      estimatorFor(n, { ...fitted.options, rx: recording.rx, tx: recording.tx }),
    );
    runInstants(recording.rows, estimators, (truthM) => {
      const values = estimators.map((e) => e.distanceM());
      if (values.some((v) => v === undefined)) return;
      const placement = `${starts.length}:${truthM}`;
      let cluster = clusterOf.get(placement);
      if (!cluster) {
        cluster = [];
        clusterOf.set(placement, cluster);
      }
      cluster.push(truths.length);
      truths.push(truthM);
      values.forEach((v, i) => {
        estimates[i].push(v as number);
      });
    });
  }
  const within = truths.map((d) => d <= CLOSE_CONTACT_DISTANCE_M);
  starts.push(truths.length);
  /** Mean AUC over the recordings that have instants on both sides of 2 m. */
  const meanAucWithin = (values: readonly number[]) => {
    const aucs: number[] = [];
    for (let r = 0; r + 1 < starts.length; r++) {
      const labels = within.slice(starts[r], starts[r + 1]);
      if (!labels.includes(true) || !labels.includes(false)) continue;
      aucs.push(
        rocAuc(
          values.slice(starts[r], starts[r + 1]).map((d) => -d),
          labels,
        ),
      );
    }
    return aucs.length === 0 ? Number.NaN : aucs.reduce((a, b) => a + b, 0) / aucs.length;
  };
  const trainPairs = new Set(train.map((r) => r.info.pair));
  const reusedPairs = test.filter((r) => trainPairs.has(r.info.pair)).length;
  const mae = (values: readonly number[]) =>
    values.reduce((sum, v, i) => sum + Math.abs(v - truths[i]), 0) / truths.length;
  const aucs = estimates.map((values) =>
    rocAuc(
      values.map((d) => -d),
      within,
    ),
  );
  const boot = bootstrapAucs(estimates, within, [...clusterOf.values()]);

  return {
    dataset: "herald-edison",
    split: {
      description: `fitted on ${describePairs(train)}, reported on ${describePairs(test)}; ${
        reusedPairs === 0
          ? "no reported (receiver <- transmitter) pair was used in fitting"
          : `${reusedPairs} of the reported files' (receiver <- transmitter) pairs were also used in fitting`
      }`,
      calibration: calibrationSource,
      train: train.map((r) => r.info),
      test: test.map((r) => r.info),
      instants:
        "every 30 s on the Unix clock where every estimator has an estimate; causal (samples up to the instant); truth = distance of the last sample; pooled over the test files",
      withinShare: within.filter(Boolean).length / truths.length,
    },
    priorOnly: {
      distanceM: fitted.priorDistanceM,
      maeM: mae(truths.map(() => fitted.priorDistanceM)),
    },
    estimators: names.map((name, i) => {
      const result: HeraldEdisonEstimatorResult = {
        name,
        maeM: mae(estimates[i]),
        auc: aucs[i],
        auc95: percentileInterval95([...boot[i]]),
        aucWithinRecording: meanAucWithin(estimates[i]),
        balancedAccuracy: balancedAccuracy(
          estimates[i].map((d) => d <= CLOSE_CONTACT_DISTANCE_M),
          within,
        ),
        samples: truths.length,
      };
      const parameters = fitted.parameters.get(name);
      return parameters ? { ...result, parameters } : result;
    }),
    aucDifferences: names.slice(1).map((versus, k) => ({
      estimator: names[0],
      versus,
      difference: aucs[0] - aucs[k + 1],
      interval95: percentileInterval95(boot[0].map((a, r) => a - boot[k + 1][r])),
    })),
  };
}

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { FITTED_CALIBRATED, FITTED_LOG_DISTANCE } from "../../src/signal/distance/estimators.js";
import {
  evaluateHeraldEdison,
  type HeraldEdisonEvaluation,
} from "../../research/evaluate-herald-edison.js";
import {
  HERALD_EDISON_TEST_FILES,
  HERALD_EDISON_TRAIN_FILES,
} from "../../src/campaigns/herald-edison-files.js";
import { describeWith, needData, sharedData } from "../support/requirements.js";

/** The Herald project's robot-rig recordings beside the repository. */
const DATA_DIR = sharedData("herald-edison");
const REAL_DATA = needData("herald-edison");

describe("evaluateHeraldEdison: bad options", () => {
  it("refuses a missing folder, unknown estimators and overlapping splits", () => {
    expect(() => evaluateHeraldEdison({ dataDir: "/nonexistent/herald" })).toThrow(ConfigError);
    const dir = mkdtempSync(join(tmpdir(), "proxkit-herald-"));
    try {
      writeFileSync(
        join(dir, "metadata.csv"),
        "testid,phoneaname,phonebname,filenamephonea,filenamephoneb\n",
      );
      expect(() => evaluateHeraldEdison({ dataDir: dir, estimators: ["nope"] })).toThrow(
        /unknown estimator "nope"/,
      );
      expect(() =>
        evaluateHeraldEdison({ dataDir: dir, files: ["a.csv"], trainFiles: ["a.csv"] }),
      ).toThrow(/files used both to fit and to report: a\.csv/);
      expect(() =>
        evaluateHeraldEdison({
          dataDir: dir,
          files: ["b.csv"],
          trainFiles: ["a.csv"],
          calibration: join(dir, "x.csv"),
        }),
      ).toThrow(/calibration table/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWith(REAL_DATA)("evaluateHeraldEdison on the rig", () => {
  let evaluation: HeraldEdisonEvaluation;
  beforeAll(() => {
    evaluation = evaluateHeraldEdison({ dataDir: DATA_DIR });
  });
  const byName = (name: string) => {
    const result = evaluation.estimators.find((e) => e.name === name);
    if (!result) throw new Error(`no ${name}`);
    return result;
  };

  it("reports on phone pairs not used for fitting", () => {
    expect(evaluation.dataset).toBe("herald-edison");
    expect(evaluation.split.train.map((f) => f.file)).toEqual(HERALD_EDISON_TRAIN_FILES);
    expect(evaluation.split.test.map((f) => f.file)).toEqual(HERALD_EDISON_TEST_FILES);
    expect(evaluation.split.train[0].pair).toBe("P2 (Google Pixel 2) <- A20 (Samsung SM-A205F)");
    expect(evaluation.split.test[0].pair).toBe("N8 (Samsung SM-N950F) <- P2 (Google Pixel 2)");
    const trainPairs = new Set(evaluation.split.train.map((f) => f.pair));
    for (const f of evaluation.split.test) expect(trainPairs.has(f.pair)).toBe(false);
  });

  it("scores every estimator at the same instants", () => {
    const samples = new Set(evaluation.estimators.map((e) => e.samples));
    expect(samples.size).toBe(1);
    expect([...samples][0]).toBeGreaterThan(3000);
    expect(evaluation.estimators.map((e) => e.name)).toEqual([
      "proxkit",
      "herald",
      "log-distance",
      "calibrated",
      "nhs-ukf",
    ]);
  });

  it("reproduces Herald's published model at its reported level", () => {
    const herald = byName("herald");
    expect(herald.maeM).toBeGreaterThan(1.5);
    expect(herald.auc).toBeGreaterThan(0.55);
    expect(herald.auc).toBeLessThan(0.7);
  });

  it("fits our model on the rig's test 5 and scores it on tests 7 and 8 like the others", () => {
    // The shipped proxkit is chosen and fitted across five campaigns (evaluate --dataset all);
    // fitted on the rig alone, its least-error model still halves the error of Herald's line
    // and stays below the prior, but on these three phones it does not rank better than the
    // rig-only medians: what carries over across campaigns is not the best on one rig.
    const ours = byName("proxkit");
    expect(ours.maeM).toBeLessThan(byName("herald").maeM / 2);
    expect(ours.maeM).toBeLessThan(evaluation.priorOnly.maeM);
    expect(ours.auc).toBeGreaterThan(0.5);
    expect(ours.parameters?.pathLossExponent).toBeGreaterThan(0);
  });

  it("bootstraps placements: every AUC interval holds its estimate, and the differences are not told apart", () => {
    for (const e of evaluation.estimators) {
      expect(e.auc95[0], e.name).toBeLessThanOrEqual(e.auc);
      expect(e.auc95[1], e.name).toBeGreaterThanOrEqual(e.auc);
    }
    // 3,443 instants, but only 58 placements: a 0.013 AUC gain is well inside the noise.
    expect(evaluation.aucDifferences.map((d) => d.versus)).toEqual([
      "herald",
      "log-distance",
      "calibrated",
      "nhs-ukf",
    ]);
    for (const d of evaluation.aucDifferences) {
      expect(d.estimator).toBe("proxkit");
      expect(d.difference).toBeCloseTo(byName("proxkit").auc - byName(d.versus).auc, 12);
      expect(d.interval95[0], d.versus).toBeLessThan(0);
      expect(d.interval95[1], d.versus).toBeGreaterThan(0);
    }
  });

  it("fits the constants committed as the estimators' defaults", () => {
    const close = (fitted: Readonly<Record<string, number>> | undefined, committed: object) => {
      for (const [key, value] of Object.entries(committed))
        expect(fitted?.[key], key).toBeCloseTo(value as number, 3);
    };
    close(byName("log-distance").parameters, FITTED_LOG_DISTANCE);
    close(byName("calibrated").parameters, FITTED_CALIBRATED);
  });

  it("can be asked for some estimators only, and for the folds swapped", () => {
    const swapped = evaluateHeraldEdison({
      dataDir: DATA_DIR,
      files: HERALD_EDISON_TRAIN_FILES,
      trainFiles: HERALD_EDISON_TEST_FILES,
      estimators: ["proxkit", "herald", "log-distance"],
    });
    expect(swapped.estimators.map((e) => e.name)).toEqual(["proxkit", "herald", "log-distance"]);
    const [ours, herald] = swapped.estimators;
    expect(ours.maeM).toBeLessThan(herald.maeM);
  });
});

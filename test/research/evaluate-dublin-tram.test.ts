import { describe, expect, it } from "vitest";
import { CodecError, ConfigError } from "../../src/core/errors.js";
import {
  balancedAccuracyInterval,
  crossValidateDetector,
  type DublinTramPresetResult,
  dublinTramSummary,
  evaluateDublinTram,
  evaluateTramPairs,
  fitCloseAttenuationDb,
  splitHistogram,
  tramPairWindows,
} from "../../research/evaluate-dublin-tram.js";
import {
  DUBLIN_TRAM_BIN_EDGES_DB,
  type DublinTramPair,
  loadDublinTram,
  parseDublinTram,
} from "../../src/campaigns/load-dublin-tram.js";
import { presetFor } from "../../src/exposure/risk-preset.js";
import { scoreExposure } from "../../src/exposure/score-exposure.js";
import { describeWith, needData, sharedData } from "../support/requirements.js";

/** `../shared/data/dublin-tram` beside the repository (Leith & Farrell 2020). */
const DATA_DIR = sharedData("dublin-tram");
const REAL_DATA = needData("dublin-tram");

const BINS = DUBLIN_TRAM_BIN_EDGES_DB.length - 1;

/** A histogram with `minutes` in the bins starting at the given edges (dB). */
function histogram(minutes: Record<number, number>): number[] {
  const row = new Array<number>(BINS).fill(0);
  for (const [lo, m] of Object.entries(minutes))
    row[DUBLIN_TRAM_BIN_EDGES_DB.indexOf(Number(lo))] = m;
  return row;
}

/** Numbers as the data files write them, e.g. `   1.6763055e+00`. */
const eNotation = (values: readonly number[]) =>
  values.map((v) => `   ${v.toExponential(7).replace(/e([+-])(\d)$/, "e$10$2")}`).join("");

const GOOD = {
  attenuations: [
    "# attenuation durations, minutes per bin",
    "   ",
    eNotation(histogram({ 48: 4, 54: 2 })),
    eNotation(histogram({ 90: 10 })),
  ].join("\n"),
  distances: ["# distances (m)", eNotation([1.6763055]), eNotation([5])].join("\n"),
  pairs: ["# handset indices", eNotation([5, 1]), eNotation([5, 2])].join("\r\n"),
};

function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    return error as CodecError;
  }
  throw new Error("expected a CodecError");
}

describe("parseDublinTram", () => {
  it("reads e-notation rows, skipping comments and blank lines", () => {
    const pairs = parseDublinTram(GOOD);
    expect(pairs).toHaveLength(2);
    expect(pairs[0]).toEqual({
      row: 0,
      handsets: [5, 1],
      distanceM: 1.6763055,
      minutesPerBin: histogram({ 48: 4, 54: 2 }),
    });
    expect(pairs[1].minutesPerBin[BINS - 1]).toBe(10);
  });

  it("names the file and line of a malformed line", () => {
    const short = { ...GOOD, attenuations: `${GOOD.attenuations}\n   1.0e+00   2.0e+00` };
    expect(codecError(() => parseDublinTram(short)).message).toMatch(
      /^dublintram_dataset_attenuations\.txt line 5: expected 19 numbers, found 2$/,
    );
    const word = { ...GOOD, distances: GOOD.distances.replace("5.0000000e+00", "5.0e+0x") };
    expect(codecError(() => parseDublinTram(word)).message).toMatch(
      /^dublintram_dataset_distances\.txt line 3: "5\.0e\+0x" is not a number$/,
    );
    const same = { ...GOOD, pairs: GOOD.pairs.replace("2.0000000e+00", "5.0000000e+00") };
    expect(codecError(() => parseDublinTram(same)).message).toMatch(
      /pairs\.txt line 3: handset indices/,
    );
    const negative = {
      ...GOOD,
      attenuations: GOOD.attenuations.replace("4.0000000e+00", "-4.0e+00"),
    };
    expect(codecError(() => parseDublinTram(negative)).message).toMatch(
      /attenuations\.txt line 3: minutes/,
    );
  });

  it("rejects files whose rows do not line up", () => {
    const extra = { ...GOOD, distances: `${GOOD.distances}\n   2.0e+00` };
    expect(codecError(() => parseDublinTram(extra)).message).toMatch(
      /rows do not line up: .* has 2, .* 3, .* 2$/,
    );
  });

  it("a missing folder is a ConfigError naming the file", () => {
    expect(() => loadDublinTram("/nonexistent/dublin-tram")).toThrow(ConfigError);
    expect(() => loadDublinTram("/nonexistent/dublin-tram")).toThrow(
      /dublintram_dataset_attenuations\.txt/,
    );
  });
});

describe("splitHistogram", () => {
  it("spreads a bin's minutes over its whole-dB values, so a straddling bin counts in proportion", () => {
    // 54-56 dB holds 54 and 55: across cwa-v1's 55 dB threshold ("<"), half of it is below.
    expect(splitHistogram(histogram({ 54: 4 }))).toEqual([
      { attenuationDb: 54, seconds: 120 },
      { attenuationDb: 55, seconds: 120 },
    ]);
    // The wide bins likewise: 80-85 dB holds 80..84, 2/5 of it below 82 dB.
    const wide = splitHistogram(histogram({ 80: 5 }));
    expect(wide.map((s) => s.attenuationDb)).toEqual([80, 81, 82, 83, 84]);
    expect(wide.filter((s) => s.attenuationDb < 82).reduce((sum, s) => sum + s.seconds, 0)).toBe(
      120,
    );
  });

  it("decides a rule the straddling bin's proportion tips", () => {
    // cwa-v1: 11 min below 55 dB (weight 1) and a 54-56 bin of 6 min: 3 at weight 1, 3 at 0.5,
    // so 15.5 weighted minutes; all of the bin at 0.5 would give 14 and no notification.
    const pair: DublinTramPair = {
      row: 0,
      handsets: [1, 2],
      distanceM: 1,
      minutesPerBin: histogram({ 48: 11, 54: 6 }),
    };
    const [window] = tramPairWindows(pair);
    const score = scoreExposure(presetFor("cwa-v1"), [window]);
    expect(score.dailySummaries[0].weightedDurationSum).toBe(15.5 * 60);
    expect(score.notified).toBe(true);
  });
});

describe("cross-validation of the detector", () => {
  // Handsets 1..6 each log 1..7; pairs of handsets at most 2 apart in number are close.
  const planted: DublinTramPair[] = [];
  for (let a = 1; a <= 6; a++) {
    for (let b = 1; b <= 7; b++) {
      if (a === b) continue;
      const close = Math.abs(a - b) <= 2;
      planted.push({
        row: planted.length,
        handsets: [a, b],
        distanceM: close ? 1.5 : 4,
        minutesPerBin: close ? histogram({ 58: 8, 60: 8 }) : histogram({ 70: 8, 72: 8 }),
      });
    }
  }

  it("recovers a planted separation, every pair decided once by a fold that did not fit on it", () => {
    const cv = crossValidateDetector(presetFor("proxkit"), planted);
    expect(cv.folds.map((f) => f.handset)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(cv.folds.reduce((sum, f) => sum + f.testPairs, 0)).toBe(planted.length);
    for (const fold of cv.folds) {
      const untouched = planted.filter((p) => !p.handsets.includes(fold.handset)).length;
      expect(fold.trainPairs).toBe(untouched);
      expect(fold.closeAttenuationDb).toBeGreaterThanOrEqual(61);
      expect(fold.closeAttenuationDb).toBeLessThanOrEqual(72);
    }
    expect([cv.tpr, cv.fpr, cv.balancedAccuracy]).toEqual([1, 0, 1]);
    expect(fitCloseAttenuationDb(presetFor("proxkit"), planted).youdenJ).toBe(1);
  });

  it("a fold's fit does not depend on the pairs it is scored on", () => {
    const flipped = planted.map((p) =>
      p.handsets[0] === 3 ? { ...p, distanceM: p.distanceM < 2 ? 4 : 1.5 } : p,
    );
    const before = crossValidateDetector(presetFor("proxkit"), planted).folds[2];
    const after = crossValidateDetector(presetFor("proxkit"), flipped).folds[2];
    expect(after.handset).toBe(3);
    expect(after.closeAttenuationDb).toBe(before.closeAttenuationDb);
    expect(after.tp).toBe(0);
  });
});

describe("balancedAccuracyInterval", () => {
  // Seats 1..6 each log 1..7 (as in the tram data): close when at most 2 apart in number.
  const pairs: DublinTramPair[] = [];
  for (let a = 1; a <= 6; a++)
    for (let b = 1; b <= 7; b++)
      if (a !== b)
        pairs.push({
          row: pairs.length,
          handsets: [a, b],
          distanceM: Math.abs(a - b) <= 2 ? 1.5 : 4,
          minutesPerBin: histogram({}),
        });
  const truth = pairs.map((p) => p.distanceM <= 2);

  it("is a point for a perfect rule and for a constant one", () => {
    expect(balancedAccuracyInterval(pairs, truth)).toEqual([1, 1]);
    expect(
      balancedAccuracyInterval(
        pairs,
        truth.map(() => true),
      ),
    ).toEqual([0.5, 0.5]);
    expect(
      balancedAccuracyInterval(
        pairs,
        truth.map((t) => !t),
      ),
    ).toEqual([0, 0]);
  });

  it("is seeded, and a coin-flip rule's interval holds 0.5 and its own estimate", () => {
    const coin = pairs.map((p) => (p.handsets[0] * 7 + p.handsets[1] * 3) % 2 === 0);
    const interval = balancedAccuracyInterval(pairs, coin);
    expect(balancedAccuracyInterval(pairs, coin)).toEqual(interval);
    expect(interval[0]).toBeLessThan(0.5);
    expect(interval[1]).toBeGreaterThan(0.5);
    expect(balancedAccuracyInterval(pairs, coin, 2000, 2)).not.toEqual(interval);
  });
});

describeWith(REAL_DATA)("the Dublin tram data (Leith & Farrell 2020)", () => {
  const evaluation = REAL_DATA.met ? evaluateDublinTram({ dataDir: DATA_DIR }) : undefined;
  const result = (name: string): DublinTramPresetResult => {
    const found = evaluation!.results.find((r) => r.preset === name);
    if (!found) throw new Error(`no result for ${name}`);
    return found;
  };

  it("has 72 pairs, 34 within 2 m, and every preset evaluated, ours first", () => {
    expect(evaluation!.dataset).toBe("dublin-tram");
    expect(evaluation!.closeDistanceM).toBe(2);
    expect(evaluation!.results[0].preset).toBe("proxkit");
    expect(evaluation!.results).toHaveLength(9);
    for (const r of evaluation!.results)
      expect([r.pairs, r.positives, r.negatives]).toEqual([72, 34, 38]);
  });

  it("reproduces the study: the German and Swiss rules of June 2020 notify no pair", () => {
    for (const name of ["cwa-v1", "swiss-2020-05", "swiss-2020-07"]) {
      expect(result(name).notifications).toBe(0);
      expect(result(name).balancedAccuracy).toBe(0.5);
    }
  });

  it("reproduces the study: Immuni is no better than chance", () => {
    const immuni = result("immuni");
    expect(immuni.notifications).toBe(26);
    expect(Math.abs(immuni.tpr - immuni.fpr)).toBeLessThan(0.05);
    expect(dublinTramSummary(immuni)).toEqual({
      pairs: 72,
      notifications: 26,
      tpr: 0.353,
      fpr: 0.368,
    });
  });

  it("the tram's own fit is 66 dB, not the committed cross-campaign value", () => {
    // The preset ships the fit across the RSSI campaigns (research/fit-detector.ts); the
    // tram alone would say 66 dB, and its folds 60-81 dB.
    const cv = result("proxkit").crossValidated!;
    expect(cv.fittedOnAllPairsDb).toBe(66);
    expect(presetFor("proxkit").closeAttenuationDb).not.toBe(66);
    expect(cv.folds.map((f) => f.closeAttenuationDb)).toEqual([66, 67, 66, 60, 66, 81]);
  });

  it("out of fold, the fitted detector is no better than chance here, so it does not beat the presets", () => {
    // The study's own finding: in the tram, attenuation hardly depends on distance. Held out,
    // the fit notifies 8 of 34 close pairs and 9 of 38 others; nhs-v2, untuned, does best.
    const proxkit = result("proxkit");
    expect(dublinTramSummary(proxkit)).toEqual({
      pairs: 72,
      notifications: 17,
      tpr: 0.235,
      fpr: 0.237,
    });
    expect(Math.abs(proxkit.crossValidated!.youdenJ)).toBeLessThan(0.05);
    const best = evaluation!.results
      .filter((r) => r.preset !== "proxkit")
      .sort((a, b) => b.youdenJ - a.youdenJ)[0];
    expect(best.preset).toBe("nhs-v2");
    expect(best.youdenJ).toBeGreaterThan(proxkit.crossValidated!.youdenJ);
  });

  it("no rule is told from chance: every 95 % interval of balanced accuracy holds 0.5", () => {
    // 72 rows from 21 seat pairs: resampling seats, even nhs-v2's 0.598 spans 0.44-0.75.
    for (const r of evaluation!.results) {
      const [lo, hi] = r.balancedAccuracy95;
      const point = (r.crossValidated ?? r).balancedAccuracy;
      expect(lo).toBeLessThanOrEqual(point);
      expect(hi).toBeGreaterThanOrEqual(point);
      expect(lo).toBeLessThanOrEqual(0.5);
      expect(hi).toBeGreaterThanOrEqual(0.5);
    }
  });

  it("evaluates chosen presets only, and rejects an unknown one", () => {
    const pairs = loadDublinTram(DATA_DIR);
    expect(evaluateTramPairs(pairs, ["immuni"]).results.map((r) => r.preset)).toEqual(["immuni"]);
    expect(() => evaluateTramPairs(pairs, ["nope"])).toThrow(ConfigError);
  });
});

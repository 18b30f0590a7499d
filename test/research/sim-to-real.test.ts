import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  averageRanks,
  evaluateSimToReal,
  realF1OfReplay,
  SIM_TO_REAL_TARGETS,
  simToRealAgreement,
  spearman,
} from "../../research/sim-to-real.js";
import { renderReport } from "../../sim/report/render-report.js";
import { DeviceCalibrations } from "../../research/estimator-candidates.js";
import { evaluateExp05Contacts } from "../../research/exp05-contacts.js";
import { PRESET_NAMES, presetFor } from "../../src/exposure/risk-preset.js";
import { defaultDataRoot } from "../../src/io/data-root.js";
import { fakeReportInput } from "../sim/report/fake-report-input.js";
import { describeWith, needData } from "../support/requirements.js";

describe("rank correlation", () => {
  it("is 1 for identical rankings, -1 for reversed ones, whatever the scale", () => {
    expect(spearman([0.1, 0.5, 0.3, 0.9], [1, 5, 3, 9])).toBeCloseTo(1, 12);
    expect(spearman([0.1, 0.5, 0.3, 0.9], [0.9, 0.2, 0.4, 0.1])).toBeCloseTo(-1, 12);
  });

  it("gives ties their mean rank", () => {
    expect(averageRanks([0.2, 0.1, 0.2, 0.5])).toEqual([2.5, 1, 2.5, 4]);
    // Ranks x = 1, 2.5, 2.5, 4 against y = 1, 2, 3, 4: sum dx dy = 4.5, sum dx² = 4.5, sum dy² = 5.
    expect(spearman([0, 1, 1, 2], [0, 1, 2, 3])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
  });

  it("is undefined (NaN) when one side is constant", () => {
    expect(spearman([0, 0, 0], [0.1, 0.2, 0.3])).toBeNaN();
    expect(() => spearman([1, 2], [1])).toThrow(RangeError);
  });
});

describe("simToRealAgreement", () => {
  const rules = ["ours", "a", "b"];

  it("computes ΔF1, the mean |ΔF1| per rule and the rank correlations", () => {
    const result = simToRealAgreement(rules, [
      // Same ranking, sim a little higher: seeds average to 0.6, 0.3, 0.1.
      {
        scenario: "s1",
        realF1: [0.5, 0.25, 0.0],
        simF1BySeed: [
          [0.7, 0.2, 0.1],
          [0.5, 0.4, 0.1],
        ],
      },
      // Reversed ranking.
      { scenario: "s2", realF1: [0.8, 0.4, 0.2], simF1BySeed: [[0.1, 0.2, 0.3]] },
    ]);
    const [s1, s2] = result.scenarios;
    expect(s1.rules.map((r) => r.simF1)).toEqual([0.6, 0.30000000000000004, 0.1]);
    expect(s1.rules[0].simF1BySeed).toEqual([0.7, 0.5]);
    expect(s1.rules.map((r) => r.deltaF1)).toEqual([
      0.6 - 0.5,
      0.30000000000000004 - 0.25,
      0.1 - 0.0,
    ]);
    expect(s1.rankCorrelation).toBeCloseTo(1, 12);
    expect(s2.rankCorrelation).toBeCloseTo(-1, 12);
    expect(result.byRule[0].rule).toBe("ours");
    expect(result.byRule[0].meanAbsDeltaF1).toBeCloseTo((0.1 + 0.7) / 2, 12);
    expect(result.byRule[0].meanDeltaF1).toBeCloseTo((0.1 - 0.7) / 2, 12);
    expect(result.byRule[2].meanAbsDeltaF1).toBeCloseTo((0.1 + 0.1) / 2, 12);
    expect(result.meanRankCorrelation).toBeCloseTo(0, 12);
    expect(result.targets.deltaMet).toBe(false);
    expect(result.targets.rankMet).toBe(false);
    expect(result.targets.maxMeanAbsDeltaF1).toBe(SIM_TO_REAL_TARGETS.maxMeanAbsDeltaF1);
  });

  it("meets the targets when the simulation reproduces the real F1", () => {
    const realF1 = [0.6, 0.4, 0.1];
    const result = simToRealAgreement(rules, [
      { scenario: "s1", realF1, simF1BySeed: [realF1, realF1] },
      { scenario: "s2", realF1: [0.3, 0.5, 0.2], simF1BySeed: [[0.35, 0.55, 0.15]] },
    ]);
    expect(result.scenarios[0].rules.every((r) => r.deltaF1 === 0)).toBe(true);
    expect(result.scenarios.map((s) => s.rankCorrelation)).toEqual([1, 1]);
    expect(result.pooledRankCorrelation).toBeCloseTo(1, 12);
    expect(result.meanF1RankCorrelation).toBeCloseTo(1, 12);
    expect(result.byRule.map((r) => r.meanAbsDeltaF1)).toEqual(
      [0.025, 0.025, 0.025].map((x) => expect.closeTo(x, 12)),
    );
    expect(result.targets).toMatchObject({ deltaMet: true, rankMet: true });
  });

  it("reports an undefined correlation as null (every rule tied on one side)", () => {
    const result = simToRealAgreement(rules, [
      { scenario: "s1", realF1: [0, 0, 0], simF1BySeed: [[0.1, 0.2, 0]] },
    ]);
    expect(result.scenarios[0].rankCorrelation).toBeNull();
    expect(result.meanRankCorrelation).toBeNull();
    expect(result.targets.rankMet).toBe(false);
  });

  it("refuses rows without one F1 per rule", () => {
    expect(() =>
      simToRealAgreement(rules, [{ scenario: "s", realF1: [0, 0], simF1BySeed: [[0, 0, 0]] }]),
    ).toThrow(RangeError);
    expect(() => simToRealAgreement(rules, [])).toThrow(RangeError);
  });
});

describe("realF1OfReplay", () => {
  const run = {
    detectors: ["proxkit"],
    closeDistanceM: 2,
    closeMinutes: 15,
    durationS: 1919,
    scenarioDurationS: 1919,
  };

  it("is only for epfl-* replays of the whole recording", () => {
    expect(realF1OfReplay({ ...run, scenario: "classroom" })).toBeUndefined();
    expect(realF1OfReplay({ ...run, scenario: "epfl-lunch", durationS: 600 })).toMatchObject({
      missing: expect.stringContaining("--duration"),
    });
    expect(
      realF1OfReplay({ ...run, scenario: "epfl-lunch", dataRoot: join("/nonexistent", "data") }),
    ).toMatchObject({ missing: expect.stringContaining("not under") });
  });

  it("puts real F1 and ΔF1 columns in report.html", async () => {
    const input = fakeReportInput();
    const run = input.runs[0];
    run.detectors = run.detectors.map((d, k) => ({ ...d, realF1: k === 0 ? 0.25 : 0.5 }));
    run.real = { source: "a recording" };
    const html = await renderReport(input);
    expect(html).toContain(
      '<th title="F1 of the same rule on the real recording of the same crowd">real F1</th>',
    );
    expect(html).toContain("<td>0.250</td>");
    expect(html).toContain("Real F1: a recording");
  });
});

const dataRoot = defaultDataRoot();
const REAL_DATA = needData(
  "dp3t-epfl/exp05-epfl-soldiers/ground_truth",
  "dp3t-epfl/exp05-epfl-soldiers/scenario01-lunch.sqlite",
);

describeWith(REAL_DATA)("sim-to-real on DP-3T exp05 (real data)", () => {
  it("compares every rule on the office replay, with aligned truth", { timeout: 120_000 }, () => {
    const result = evaluateSimToReal({ dataRoot, scenarios: ["epfl-office"], seeds: [1] });
    expect(result.rules).toEqual([...PRESET_NAMES]);
    expect(result.closeDistanceM).toBe(2);
    expect(result.closeMinutes).toBe(15);
    const [office] = result.scenarios;
    expect(office.rules).toHaveLength(PRESET_NAMES.length);
    for (const r of office.rules) {
      expect(r.realF1).toBeGreaterThanOrEqual(0);
      expect(r.realF1).toBeLessThanOrEqual(1);
      expect(r.simF1BySeed).toHaveLength(1);
      expect(r.deltaF1).toBeCloseTo(r.simF1 - r.realF1, 12);
    }
    // The same people on the same tracks: the two truths are nearly the same pairs.
    const truth = office.truth!;
    expect(truth.closeOnBoth).toBeGreaterThan(0);
    expect(truth.closeRealOnly + truth.closeSimOnly).toBeLessThanOrEqual(
      Math.max(2, 0.2 * truth.closeOnBoth),
    );
    expect(truth.realCloseContacts).toBe(truth.closeOnBoth + truth.closeRealOnly);
    expect(truth.simCloseContacts).toBe(truth.closeOnBoth + truth.closeSimOnly);
    expect(result.byRule[0].meanAbsDeltaF1).toBeCloseTo(Math.abs(office.rules[0].deltaF1), 12);
  });
});

describeWith(REAL_DATA)("exp05 contacts while the camera tracked both (real data)", () => {
  it("hears fewer pairs, never more, and keeps the truth", { timeout: 60_000 }, () => {
    const folder = join(dataRoot, "dp3t-epfl", "exp05-epfl-soldiers");
    const options = {
      dataDir: folder,
      presets: [presetFor("cwa-v2")],
      devices: new DeviceCalibrations(undefined),
      scenarios: ["lunch"],
      resamples: 0,
    };
    const all = evaluateExp05Contacts(options);
    const tracked = evaluateExp05Contacts({ ...options, onlyWhileTracked: true });
    expect(tracked.closeContacts).toBe(all.closeContacts);
    expect(tracked.pairs).toBe(all.pairs);
    expect(tracked.scenarios[0].heardPairs).toBeLessThanOrEqual(all.scenarios[0].heardPairs);
    expect(tracked.detectors[0].notified).toBeLessThan(all.detectors[0].notified);
  });
});

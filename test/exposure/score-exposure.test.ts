import { describe, expect, it } from "vitest";
import {
  allPresets,
  PRESET_NAMES,
  presetFor,
  validatePreset,
} from "../../src/exposure/risk-preset.js";
import { type ScoredWindow, scoreExposure } from "../../src/exposure/score-exposure.js";

const DAY = Date.UTC(2020, 3, 2, 9);
const window = (segments: [number, number][], exposure = "k", startMs = DAY): ScoredWindow => ({
  exposure,
  startMs,
  segments: segments.map(([attenuationDb, minutes]) => ({ attenuationDb, seconds: minutes * 60 })),
});

describe("presets", () => {
  it("are all present, valid, and carry a source and a date", () => {
    expect(allPresets().map((p) => p.name)).toEqual([...PRESET_NAMES]);
    for (const p of allPresets()) {
      expect(p.source.length).toBeGreaterThan(40);
      expect(p.date).toMatch(/^\d{4}-\d{2}/);
    }
  });

  it("reject an unknown name with the valid ones, and malformed presets", () => {
    expect(() => presetFor("cwa-v3")).toThrow(
      /unknown preset "cwa-v3": use one of proxkit, cwa-v1/,
    );
    expect(() => validatePreset({ ...presetFor("cwa-v1"), thresholdsDb: [63, 55] })).toThrow(
      /strictly increasing/,
    );
    expect(() => validatePreset({ ...presetFor("cwa-v1"), weights: [1, 3, 0] })).toThrow(/weights/);
    expect(() => validatePreset({ ...presetFor("proxkit"), closeTime: "sometimes" })).toThrow(
      /closeTime/,
    );
    expect(() =>
      validatePreset({ ...presetFor("proxkit"), closeTime: "expected", closeScaleDb: undefined }),
    ).toThrow(/closeScaleDb/);
  });
});

describe("scoreExposure", () => {
  it("v1 attenuation durations: below t0, between, at or above t1 (CWA v1: 55/63, 1/0.5/0, 15 min)", () => {
    const cwa = presetFor("cwa-v1");
    const score = scoreExposure(cwa, [
      window([
        [54, 10],
        [55, 6],
        [62, 4],
        [63, 100],
      ]),
    ]);
    expect(score.dailySummaries).toEqual([
      {
        day: "2020-04-02",
        scoreSum: 900,
        maximumScore: 900,
        weightedDurationSum: 900,
        notified: true,
      },
    ]);
    expect(
      scoreExposure(cwa, [
        window([
          [54, 10],
          [60, 9],
        ]),
      ]).notified,
    ).toBe(false); // 14.5 weighted minutes
  });

  it("v2 windows: immediate <= t0, near <= t1, medium <= t2; drops short windows (CWA v2)", () => {
    const cwa = presetFor("cwa-v2");
    // 0.8 * 5 + 1.0 * 5 + 0.1 * 10 = 10 weighted minutes, not enough (13)
    expect(
      scoreExposure(cwa, [
        window([
          [63, 5],
          [73, 5],
          [79, 10],
          [80, 30],
        ]),
      ]).dailySummaries[0],
    ).toMatchObject({
      weightedDurationSum: 600,
      notified: false,
    });
    // Under 5 minutes at or below 79 dB: the window is dropped altogether.
    expect(
      scoreExposure(cwa, [
        window([
          [60, 4],
          [85, 60],
        ]),
      ]).dailySummaries,
    ).toEqual([]);
    expect(scoreExposure(cwa, [window([[60, 10]]), window([[70, 6]], "k2")]).notified).toBe(true);
  });

  it("v1 risk score (Immuni): attenuation score x duration score >= 20", () => {
    const immuni = presetFor("immuni");
    // 16 minutes at 70 dB: attenuation bucket 63-73 (score 5), duration 15-20 (score 5) = 25
    expect(scoreExposure(immuni, [window([[70, 16]])]).dailySummaries[0]).toMatchObject({
      maximumScore: 25,
      notified: true,
    });
    // 15 minutes: duration score 0
    expect(scoreExposure(immuni, [window([[70, 15]])]).notified).toBe(false);
    // Attenuation above 73 dB scores 0 whatever the duration.
    expect(scoreExposure(immuni, [window([[80, 60]])]).notified).toBe(false);
  });

  it("sums per UTC day", () => {
    const nhs = presetFor("nhs-v2");
    const score = scoreExposure(nhs, [
      window([[50, 1]]),
      window([[50, 1.5]], "k", DAY + 86_400_000),
    ]);
    expect(score.dailySummaries.map((d) => [d.day, d.notified])).toEqual([
      ["2020-04-02", false],
      ["2020-04-03", false],
    ]);
  });
});

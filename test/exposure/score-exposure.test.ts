import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allPresets,
  PRESET_NAMES,
  presetFor,
  validatePreset,
} from "../../src/exposure/risk-preset.js";
import {
  presetDecision,
  type ScoredWindow,
  scoreExposure,
  scoreWindowColumns,
} from "../../src/exposure/score-exposure.js";

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

describe("scoreWindowColumns", () => {
  // Windows of one pair as the simulator makes them: one or two keys, a few windows each, scans
  // some seconds to minutes apart, integer attenuations, seconds a whole number of minutes (at
  // most 5), across a midnight now and then.
  const pairWindows = fc.array(
    fc.record({
      key: fc.integer({ min: 0, max: 1 }),
      startMs: fc.integer({ min: Date.UTC(2021, 0, 4, 22), max: Date.UTC(2021, 0, 5, 2) }),
      scans: fc.array(
        fc.record({
          gapMs: fc.integer({ min: 0, max: 400_000 }),
          attenuationDb: fc.integer({ min: 20, max: 110 }),
          seconds: fc.constantFrom(0, 60, 120, 180, 240, 300),
        }),
        { minLength: 1, maxLength: 8 },
      ),
    }),
    { minLength: 1, maxLength: 6 },
  );
  const presets = [
    ...allPresets(),
    { ...presetFor("proxkit"), name: "proxkit-expected", closeTime: "expected" as const },
    { ...presetFor("proxkit"), name: "proxkit-step", closeScaleDb: undefined },
  ];

  it("decides as presetDecision(scoreExposure(...)) does, to the bit, for every preset", () => {
    fc.assert(
      fc.property(pairWindows, (drawn) => {
        const windows: ScoredWindow[] = [];
        const exposure: number[] = [];
        const startMs: number[] = [];
        const firstScan: number[] = [0];
        const scanAtMs: number[] = [];
        const attenuationDb: number[] = [];
        const seconds: number[] = [];
        for (const w of drawn) {
          let at = w.startMs;
          const times: number[] = [];
          for (const s of w.scans) {
            at += s.gapMs;
            times.push(at);
            scanAtMs.push(at);
            attenuationDb.push(s.attenuationDb);
            seconds.push(s.seconds);
          }
          windows.push({
            exposure: `key${w.key}`,
            startMs: w.startMs,
            segments: w.scans.map((s) => ({ attenuationDb: s.attenuationDb, seconds: s.seconds })),
            scanAtMs: times,
          });
          exposure.push(w.key);
          startMs.push(w.startMs);
          firstScan.push(scanAtMs.length);
        }
        const columns = {
          count: drawn.length,
          exposure,
          startMs,
          firstScan,
          scanAtMs,
          attenuationDb,
          seconds,
        };
        for (const preset of presets)
          expect(scoreWindowColumns(preset, columns)).toEqual(
            presetDecision(preset, scoreExposure(preset, windows).dailySummaries),
          );
      }),
      { numRuns: 300 },
    );
  });
});

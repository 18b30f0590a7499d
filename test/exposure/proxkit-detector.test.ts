import { describe, expect, it } from "vitest";
import type { ExposureWindow } from "../../src/exposure/exposure-window-builder.js";
import { presetFor } from "../../src/exposure/risk-preset.js";
import {
  type ScoredWindow,
  scoreExposure,
  windowToScored,
} from "../../src/exposure/score-exposure.js";

const DAY = Date.UTC(2021, 0, 4, 9);
/** The rule with a fixed 66 dB step, so the examples do not move with the fitted numbers. */
const proxkit = { ...presetFor("proxkit"), closeAttenuationDb: 66, closeScaleDb: undefined };

/** One exposure's scans: [seconds after DAY, typical attenuation]; EN credits as the API gives them. */
function scans(list: [number, number][], exposure = "k"): ScoredWindow {
  return {
    exposure,
    startMs: DAY + list[0][0] * 1000,
    segments: list.map(([, attenuationDb], k) => ({
      attenuationDb,
      seconds: k === 0 ? 120 : 60 * Math.min(5, Math.floor((list[k][0] - list[k - 1][0]) / 60)),
    })),
    scanAtMs: list.map(([s]) => DAY + s * 1000),
  };
}

/** Measured time (no scan times): ten minutes at 60 dB, then ten at 70 dB. */
function tenMinutesAt60And70(exposure: string): ScoredWindow {
  return {
    exposure,
    startMs: DAY,
    segments: [
      { attenuationDb: 60, seconds: 600 },
      { attenuationDb: 70, seconds: 600 },
    ],
  };
}

/** The seconds estimated close, which decide (the detector's scoreSum). */
const closeSeconds = (windows: ScoredWindow[]) =>
  scoreExposure(proxkit, windows).dailySummaries[0]?.scoreSum ?? 0;

describe("our detector on scan instances", () => {
  it("credits each scan with the real time since the previous one, the first with the median gap", () => {
    // Five scans 250 s apart: EN's floored credits give 120 + 4 x 240 = 1080 s (18 min); the contact lasted ~5 x 250 s.
    const w = scans([0, 250, 500, 750, 1000].map((s) => [s, 60]));
    expect(closeSeconds([w])).toBe(1250);
    expect(scoreExposure(proxkit, [w]).notified).toBe(true);
  });

  it("four scans 4 minutes apart (about 15 minutes of contact) notify; EN's 120 + 3 x 240 s would not", () => {
    const w = scans([0, 240, 480, 720].map((s) => [s, 60]));
    expect(w.segments.reduce((s, x) => s + x.seconds, 0)).toBe(840);
    expect(closeSeconds([w])).toBe(960);
    expect(scoreExposure(proxkit, [w]).notified).toBe(true);
  });

  it("caps a scan's credit at 5 minutes (the sender was away in between)", () => {
    expect(
      closeSeconds([
        scans([
          [0, 60],
          [240, 60],
          [1240, 60],
        ]),
      ]),
    ).toBe(240 + 240 + 300);
  });

  it("decides on the exposure's time-weighted mean attenuation", () => {
    expect(closeSeconds([scans([0, 250, 500, 750].map((s) => [s, 70]))])).toBe(0);
    // One weak scan among strong ones does not cut the exposure short: mean 62.5 dB.
    const mixed = scans([
      [0, 60],
      [250, 60],
      [500, 60],
      [750, 70],
    ]);
    expect(closeSeconds([mixed])).toBe(1000);
    // At the threshold (66 dB) counts as close; above does not.
    expect(
      closeSeconds([
        scans([
          [0, 62],
          [250, 70],
        ]),
      ]),
    ).toBe(500);
    expect(
      closeSeconds([
        scans([
          [0, 62],
          [250, 71],
        ]),
      ]),
    ).toBe(0);
  });

  it("joins an exposure's windows (one key, one day) and keeps exposures apart", () => {
    const first = scans([0, 250, 500].map((s) => [s, 60]));
    const second = scans([750, 1000].map((s) => [s, 60]));
    expect(closeSeconds([first, second])).toBe(1250);
    const other = scans(
      [0, 250].map((s) => [s, 60]),
      "other",
    );
    // Daily sum over exposures: 750 s + 500 s.
    expect(closeSeconds([first, other])).toBe(1250);
  });

  it("a lone scan stands for 2 minutes", () => {
    expect(closeSeconds([scans([[0, 60]])])).toBe(120);
  });

  it("windowToScored carries the scan times; without them the measured-time rule applies", () => {
    const window: ExposureWindow = {
      handle: 0,
      startMs: DAY,
      scanInstances: [
        {
          atMs: DAY,
          typicalAttenuationDb: 60,
          minAttenuationDb: 58,
          secondsSinceLastScan: 120,
          sightings: 3,
        },
        {
          atMs: DAY + 250_000,
          typicalAttenuationDb: 60,
          minAttenuationDb: 59,
          secondsSinceLastScan: 240,
          sightings: 4,
        },
      ],
    };
    expect(windowToScored(window, "k").scanAtMs).toEqual([DAY, DAY + 250_000]);
    const measured = tenMinutesAt60And70("k");
    expect(closeSeconds([measured])).toBe(600);
  });
});

describe("our detector's weighted duration: the expected close time", () => {
  const logistic = { ...proxkit, closeAttenuationDb: 60, closeScaleDb: 5 };
  const day = (w: ScoredWindow) => scoreExposure(logistic, [w]).dailySummaries[0];

  const heardS = (w: ScoredWindow) => w.segments.reduce((sum, x) => sum + x.seconds, 0);

  it("weighs the time heard (the scans' own seconds) by the logistic chance at the mean attenuation", () => {
    const w = scans([0, 250, 500, 750, 1000].map((s) => [s, 65]));
    // Mean 65 dB, 5 dB above the midpoint: chance 1 / (1 + e); EN seconds 120 + 4 x 240.
    expect(heardS(w)).toBe(1080);
    expect(day(w).weightedDurationSum).toBeCloseTo(1080 / (1 + Math.E), 9);
    expect(day(w).scoreSum).toBe(0);
    expect(day(w).notified).toBe(false);
  });

  it("ranks closeness: as a share of the time heard it falls with the mean attenuation", () => {
    const share = (db: number) => {
      const w = scans([0, 250, 500].map((s) => [s, db]));
      return day(w).weightedDurationSum / heardS(w);
    };
    expect(share(50)).toBeGreaterThan(share(58));
    expect(share(58)).toBeGreaterThan(share(62));
    expect(share(62)).toBeGreaterThan(share(75));
    expect(share(60)).toBeCloseTo(0.5, 12);
  });

  it("without a scale is the step: all the time heard, or none", () => {
    const near = scans([0, 250, 500, 750].map((s) => [s, 60]));
    expect(scoreExposure(proxkit, [near]).dailySummaries[0].weightedDurationSum).toBe(heardS(near));
    const far = scans([0, 250, 500, 750].map((s) => [s, 70]));
    expect(scoreExposure(proxkit, [far]).dailySummaries[0].weightedDurationSum).toBe(0);
  });
});

describe('our detector counting close time as expected ("closeTime": "expected")', () => {
  const expected = {
    ...proxkit,
    closeAttenuationDb: 60,
    closeScaleDb: 5,
    closeTime: "expected" as const,
  };
  const day = (w: ScoredWindow) => scoreExposure(expected, [w]).dailySummaries[0];

  it("counts each exposure's real time weighted by the chance of being close at its mean", () => {
    // Five scans 250 s apart at 65 dB: 1250 s of contact, chance 1 / (1 + e).
    const w = scans([0, 250, 500, 750, 1000].map((s) => [s, 65]));
    expect(day(w).scoreSum).toBeCloseTo(1250 / (1 + Math.E), 9);
    // The step rule counts none of it (mean above 60 dB).
    expect(scoreExposure({ ...expected, closeTime: "threshold" }, [w]).notified).toBe(false);
  });

  it("a long exposure just above the midpoint adds up to a notification; a short close one does not", () => {
    // 40 minutes at 61 dB: chance 0.45, about 18 expected minutes.
    const long = scans(Array.from({ length: 11 }, (_, k): [number, number] => [k * 240, 61]));
    expect(day(long).scoreSum / 60).toBeGreaterThan(15);
    expect(day(long).notified).toBe(true);
    // 12 minutes at 50 dB: chance 0.88, about 10.6 expected minutes.
    const short = scans([0, 240, 480].map((s) => [s, 50]));
    expect(day(short).notified).toBe(false);
  });

  it("measured time at each attenuation is weighted minute by minute", () => {
    const measured = tenMinutesAt60And70("m");
    const p70 = 1 / (1 + Math.exp(2));
    expect(day(measured).scoreSum).toBeCloseTo(300 + 600 * p70, 9);
  });
});

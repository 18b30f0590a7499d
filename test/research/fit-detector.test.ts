import { describe, expect, it } from "vitest";
import { precisionRecallCurve } from "../../research/exp05-contacts.js";
import { type CampaignPoints, fitDetector, fitLogistic } from "../../research/fit-detector.js";
import { ConfigError } from "../../src/core/errors.js";
import { SeededRandom } from "../../src/core/random.js";

/** Points whose chance of being within 2 m is logistic in attenuation: known midpoint and scale. */
function logisticCampaign(
  campaign: string,
  midpointDb: number,
  scaleDb: number,
  seed: number,
  n = 4000,
): CampaignPoints {
  const random = new SeededRandom(seed);
  const points = Array.from({ length: n }, () => {
    const value = midpointDb - 30 + 60 * random.float();
    const close = random.float() < 1 / (1 + Math.exp((value - midpointDb) / scaleDb));
    return { value, distanceM: close ? 1 : 3 };
  });
  return { campaign, points };
}

describe("fitLogistic", () => {
  it("recovers a planted midpoint and scale", () => {
    const fit = fitLogistic([logisticCampaign("a", 58, 6, 1, 20_000)]);
    expect(fit.closeAttenuationDb).toBeCloseTo(58, 0);
    expect(fit.closeScaleDb).toBeGreaterThan(5.4);
    expect(fit.closeScaleDb).toBeLessThan(6.6);
  });

  it("weighs close and far instants equally: the share of close instants does not move the midpoint", () => {
    const base = logisticCampaign("a", 60, 5, 2, 20_000);
    // Drop most far points: 90 % of the remainder is close.
    const skewed = {
      campaign: "a",
      points: base.points.filter((p, i) => p.distanceM <= 2 || i % 5 === 0),
    };
    expect(fitLogistic([skewed]).closeAttenuationDb).toBeCloseTo(
      fitLogistic([base]).closeAttenuationDb,
      0,
    );
  });
});

describe("fitDetector", () => {
  it("takes the median of the campaigns' fits, so one uncalibrated campaign cannot drag it", () => {
    const campaigns = [
      logisticCampaign("a", 55, 8, 3),
      logisticCampaign("b", 56, 9, 4),
      logisticCampaign("c", 57, 10, 5),
      logisticCampaign("outlier", 30, 8, 6),
    ];
    const fit = fitDetector(campaigns);
    expect(fit.closeAttenuationDb).toBeGreaterThan(54);
    expect(fit.closeAttenuationDb).toBeLessThan(57);
    // One pooled fit would be pulled far below.
    expect(fitLogistic(campaigns).closeAttenuationDb).toBeLessThan(fit.closeAttenuationDb - 3);
  });

  it("skips campaigns with one class only and refuses when none has both", () => {
    const allClose = { campaign: "x", points: [{ value: 40, distanceM: 1 }] };
    expect(fitDetector([allClose, logisticCampaign("a", 60, 5, 7)]).closeAttenuationDb).toBeCloseTo(
      60,
      0,
    );
    expect(() => fitDetector([allClose])).toThrow(ConfigError);
  });
});

describe("precisionRecallCurve", () => {
  it("walks the scores from high to low, one point per distinct score", () => {
    const curve = precisionRecallCurve([3, 2, 2, 1], [true, true, false, false]);
    expect(curve).toEqual([
      { precision: 1, recall: 0.5 },
      { precision: 2 / 3, recall: 1 },
      { precision: 0.5, recall: 1 },
    ]);
  });
});

describe("precisionRecallCurve with few distinct scores", () => {
  it("keeps every threshold of a score with few values, however many pairs", () => {
    const scores = Array.from({ length: 1000 }, (_, i) => (i < 100 ? 2 : i < 300 ? 1 : 0));
    const labels = scores.map((s, i) => s > 0 && i % 2 === 0);
    const curve = precisionRecallCurve(scores, labels);
    expect(curve).toHaveLength(3);
    expect(curve[0]).toEqual({ precision: 0.5, recall: 1 / 3 });
  });
});

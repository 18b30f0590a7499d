import { describe, expect, it } from "vitest";
import { type CampaignInstants, collectInstants } from "../../research/campaign-instants.js";
import type { CampaignName, CampaignRecord } from "../../src/campaigns/campaign-record.js";
import {
  type EstimatorCandidate,
  evenlySpaced,
  leaveOneCampaignOut,
} from "../../research/leave-one-campaign-out.js";
import { forEachUnitResample, sortedOrder, weightedAuc } from "../../research/unit-bootstrap.js";
import { SeededRandom } from "../../src/core/random.js";
import { rocAuc } from "../../src/signal/decision-metrics.js";
import { ChainedEstimator } from "../../src/signal/distance/distance-estimator.js";
import { MovingMedian } from "../../src/signal/filters/moving-median.js";

/** A campaign where RSSI = a - 20 log10(d) + noise, placements of 60 s at known distances. */
function syntheticCampaign(
  campaign: CampaignName,
  offsetDbm: number,
  noiseDb: number,
  seed: number,
): CampaignRecord[] {
  const random = new SeededRandom(seed);
  const normal = () => {
    const u = 1 - random.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.float());
  };
  const records: CampaignRecord[] = [];
  const distances = [0.5, 1, 1.5, 2.5, 3, 4];
  distances.forEach((distanceM, p) => {
    for (let repeat = 0; repeat < 4; repeat++) {
      const session = `${campaign}-${p}-${repeat}`;
      for (let t = 0; t < 60; t++) {
        records.push({
          campaign,
          scenario: "synthetic",
          session,
          unit: session,
          atMs: 1_600_000_000_000 + t * 1000,
          rxId: "a",
          txId: "b",
          rxModel: "",
          txModel: "",
          rssiDbm: offsetDbm - 20 * Math.log10(distanceM) + noiseDb * normal(),
          distanceM,
          environment: "office",
          rxCarry: "hand",
          txCarry: "hand",
        });
      }
    }
  });
  return records;
}

const median60 = (name: string, fitted: boolean): EstimatorCandidate => ({
  name,
  fitted,
  create: () =>
    new ChainedEstimator(name, {
      filters: [new MovingMedian({ windowMs: 60_000 })],
      model: { distanceM: (rssi: number) => 10 ** ((-60 - rssi) / 20) },
    }),
  fit: (points) => {
    // Fits the offset a of d = 10^((a - rssi) / 20): the mean of rssi + 20 log10 d.
    const a =
      points.reduce((s, p) => s + p.value + 20 * Math.log10(p.distanceM), 0) / points.length;
    return { predict: (rssi) => 10 ** ((a - rssi) / 20), parameters: { a } };
  },
});

describe("weightedAuc", () => {
  it("equals the Mann-Whitney AUC with unit weights, ties counting half", () => {
    const random = new SeededRandom(3);
    const scores = Array.from({ length: 500 }, () => Math.round(random.float() * 20));
    const labels = scores.map((s) => random.float() < s / 25);
    expect(weightedAuc(sortedOrder(scores), scores, labels)).toBeCloseTo(
      rocAuc(scores, labels),
      12,
    );
  });

  it("treats a weight of k as k copies", () => {
    const scores = [1, 2, 3, 4];
    const labels = [false, true, false, true];
    const weights = [2, 1, 0, 3];
    const copies = { s: [1, 1, 2, 4, 4, 4], l: [false, false, true, true, true, true] };
    expect(weightedAuc(sortedOrder(scores), scores, labels, weights)).toBeCloseTo(
      rocAuc(copies.s, copies.l),
      12,
    );
  });
});

describe("forEachUnitResample", () => {
  it("draws whole units: every instant of a unit gets the same weight, weights sum to the units", () => {
    const unitOf = [0, 0, 1, 1, 1, 2];
    forEachUnitResample(
      unitOf,
      3,
      (weights) => {
        expect(weights[0]).toBe(weights[1]);
        expect(weights[2]).toBe(weights[4]);
        expect(weights[0] + weights[2] + weights[5]).toBe(3);
      },
      { resamples: 50 },
    );
  });
});

describe("leaveOneCampaignOut on synthetic campaigns", () => {
  const tables: CampaignInstants[] = (
    [
      ["body-position", -55, 2, 1],
      ["mit-matrix", -65, 2, 2],
      ["pi-multichannel", -60, 2, 3],
    ] as const
  ).map(([name, offset, noise, seed]) =>
    collectInstants(name, syntheticCampaign(name, offset, noise, seed), [
      median60("fitted", true),
      median60("fixed", false),
    ]),
  );

  it("collects one instant per 10 s per stream with the truth and the unit", () => {
    // 24 placements of 60 s: ticks at 10 s steps inside each, the last at the end of the stream.
    expect(tables[0].streams).toBe(24);
    expect(tables[0].units.length).toBe(24);
    expect(tables[0].count).toBeGreaterThanOrEqual(24 * 5);
    expect(new Set(tables[0].truthM)).toEqual(new Set([0.5, 1, 1.5, 2.5, 3, 4]));
  });

  it("fits on the other campaigns only: the held-out offset is not learnt", () => {
    const result = leaveOneCampaignOut(tables, [median60("fitted", true)], { resamples: 50 });
    const byName = new Map(result.campaigns.map((c) => [c.campaign, c]));
    // Held out body-position (-55): fitted on -65 and -60, so a = -62.5.
    const a = byName.get("body-position")?.estimators[0].parameters?.a ?? 0;
    expect(a).toBeCloseTo(-62.5, 0);
    // Held out pi-multichannel (-60): the mean of the others is -60, so its MAE is small.
    const pi = byName.get("pi-multichannel")?.estimators[0].maeM.value ?? 99;
    const body = byName.get("body-position")?.estimators[0].maeM.value ?? 0;
    expect(pi).toBeLessThan(body);
  });

  it("ranks perfectly where noise is far below the distance steps, with a pooled mean of campaigns", () => {
    const result = leaveOneCampaignOut(tables, [median60("fitted", true)], { resamples: 50 });
    for (const c of result.campaigns)
      expect(c.estimators[0].decisions[0].auc.value).toBeGreaterThan(0.97);
    const pooled = result.pooled[0].maeM.value;
    const mean =
      result.campaigns.reduce((s, c) => s + c.estimators[0].maeM.value, 0) /
      result.campaigns.length;
    expect(pooled).toBeCloseTo(mean, 12);
    const [lo, hi] = result.pooled[0].maeM.interval95;
    expect(lo).toBeLessThanOrEqual(pooled + 1e-9);
    expect(hi).toBeGreaterThanOrEqual(pooled - 1e-9);
  });

  it("reports paired AUC differences and leaves train-only campaigns out of the table", () => {
    const result = leaveOneCampaignOut(
      tables,
      [median60("fitted", true), median60("fixed", false)],
      { resamples: 50, trainOnly: ["mit-matrix"] },
    );
    expect(result.campaigns.map((c) => c.campaign)).toEqual(["body-position", "pi-multichannel"]);
    // Same feature, monotone models: identical ranking, difference exactly 0.
    expect(result.aucDifferences[0].difference.value).toBeCloseTo(0, 12);
  });

  it("spreads training instants evenly", () => {
    expect(evenlySpaced(10, 20)).toHaveLength(10);
    expect(evenlySpaced(100, 4)).toEqual([12, 37, 62, 87]);
  });
});

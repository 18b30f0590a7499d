import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  channelFitReport,
  channelLocoTable,
  channelProfileFile,
  channelVariantTable,
  compareDistributions,
  distanceBin,
} from "../../research/channel-validation.js";
import { fitTauToVariogram } from "../../research/fit-channel.js";
import { loadChannelData } from "../../sim/world/channel-data.js";
import { defaultDataRoot, repoRoot } from "../../src/io/data-root.js";
import { describeWith, needCampaigns } from "../support/requirements.js";

describe("compareDistributions", () => {
  it("is 0 for identical samples", () => {
    expect(compareDistributions([1, 2, 3], [3, 2, 1])).toEqual({ w1: 0, ks: 0 });
  });

  it("gives the shift as W1 and 1 as KS for disjoint shifted samples", () => {
    const a = [0, 1, 2, 3];
    const r = compareDistributions(
      a,
      a.map((x) => x + 10),
    );
    expect(r.w1).toBeCloseTo(10, 12);
    expect(r.ks).toBe(1);
  });

  it("matches hand-computed cases", () => {
    // F jumps to 1 at 0; G is 1/2 at 0 and 1 at 2: ∫|F-G| = 1/2 · 2 = 1, sup = 1/2.
    const r = compareDistributions([0, 0], [0, 2]);
    expect(r.w1).toBeCloseTo(1, 12);
    expect(r.ks).toBeCloseTo(0.5, 12);
    // Unequal sizes: {0} vs {0, 1, 2, 3}: W1 = mean |x - 0| = 1.5, KS = 3/4.
    const u = compareDistributions([0], [0, 1, 2, 3]);
    expect(u.w1).toBeCloseTo(1.5, 12);
    expect(u.ks).toBeCloseTo(0.75, 12);
  });

  it("bins distances", () => {
    expect(distanceBin(0)).toBe(0);
    expect(distanceBin(0.5)).toBe(1);
    expect(distanceBin(1.99)).toBe(3);
    expect(distanceBin(50)).toBe(7);
  });
});

describe("fitTauToVariogram", () => {
  it("recovers τ from an exponential variogram with a nugget", () => {
    const lags = [1, 2, 5, 10, 20, 30, 60, 120];
    const gamma = lags.map((l) => 4 + 25 * (1 - Math.exp(-l / 30)));
    const tau = fitTauToVariogram(lags, gamma);
    expect(Math.abs(Math.log(tau / 30))).toBeLessThan(0.03);
  });
});

const ROOT = defaultDataRoot();
const REAL_DATA = needCampaigns("gaen");

describeWith(REAL_DATA)("fit-channel on ../shared/data", () => {
  it("reproduces the committed v2 profile and prints the leave-one-campaign-out table", () => {
    const data = loadChannelData(ROOT);
    const report = channelFitReport(data);
    const committed = readFileSync(
      join(repoRoot() ?? ".", "sim/world/channel-profiles/v2.json"),
      "utf8",
    );
    expect(`${JSON.stringify(channelProfileFile(report), null, 2)}\n`).toBe(committed);
    console.log(`${channelVariantTable(report)}\n\n${channelLocoTable(report)}`);
    // Held-out comparisons cover every campaign with bins.
    for (const r of report.variants[0].rows) expect(r.bins).toBeGreaterThan(0);
  }, 120_000);
});

import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadMeasuredRssiVsDistance } from "../../../sim/report/measured-rssi-vs-distance.js";
import { CHANNEL_CAMPAIGNS, profileCampaigns } from "../../../sim/world/channel-data.js";
import { CHANNEL_PROFILES } from "../../../sim/world/channel-profiles.js";
import type { ChannelProfile } from "../../../sim/world/channel-v2.js";
import { defaultDataRoot } from "../../../src/io/data-root.js";
import { itWith, needData } from "../../support/requirements.js";

const DATA_ROOT = defaultDataRoot();
const REAL_DATA = needData(
  ...CHANNEL_CAMPAIGNS.map((c) => (c === "dp3t-exp05" ? "dp3t-epfl/exp05-epfl-soldiers" : c)),
);

const heraldOnly = CHANNEL_PROFILES["herald-only"];
const v2 = CHANNEL_PROFILES.v2;
/** A user's profile file that says nothing about where its values come from. */
const unsourced = {
  ...heraldOnly,
  name: "mine",
  description: "hand-made",
  ...Object.fromEntries(
    Object.entries(heraldOnly)
      .filter(([, v]) => typeof v === "object" && v !== null)
      .map(([k, v]) => [k, { value: (v as { value: unknown }).value, source: "a guess" }]),
  ),
} as ChannelProfile;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("profileCampaigns", () => {
  it("reads the campaigns a profile was fitted on from its sources", () => {
    expect(profileCampaigns(heraldOnly)).toEqual(["herald-edison"]);
    expect(profileCampaigns(v2)).toEqual([...CHANNEL_CAMPAIGNS]);
    expect(profileCampaigns(unsourced)).toEqual([]);
    // Whole names only: dp3t-anechoic (the device offsets) is not dp3t-exp05.
    const anechoic = { ...unsourced, devices: { value: "none", source: "dp3t-anechoic" } };
    expect(profileCampaigns(anechoic as ChannelProfile)).toEqual([]);
  });
});

describe("loadMeasuredRssiVsDistance", () => {
  it("says why there is nothing measured: no campaign named, or no data folder", () => {
    const none = loadMeasuredRssiVsDistance(unsourced, { dataRoot: DATA_ROOT });
    expect(none).toEqual({ missing: expect.stringContaining('"mine" names none') });
    const absent = loadMeasuredRssiVsDistance(v2, { dataRoot: "/nonexistent/data" });
    expect("missing" in absent && absent.missing).toContain(
      "does not hold herald-edison, dp3t-exp05, body-position, mit-matrix, pi-multichannel",
    );
  });

  itWith(REAL_DATA)("herald-only: the Herald rig as the phones reported it", () => {
    const m = loadMeasuredRssiVsDistance(heraldOnly, { dataRoot: DATA_ROOT, maxPoints: 500 });
    if (!("points" in m)) throw new Error(m.missing);
    expect(m.campaigns).toEqual(["herald-edison"]);
    expect(m.points).toHaveLength(500);
    expect(new Set(m.points.map((p) => p.campaign))).toEqual(new Set(["herald-edison"]));
    for (const p of m.points) {
      expect(p.distanceM).toBeGreaterThanOrEqual(0);
      expect(p.distanceM).toBeLessThanOrEqual(3.5);
      expect(Number.isInteger(p.rssiDbm)).toBe(true); // no device term to take off
    }
    expect(new Set(m.points.map((p) => p.distanceM)).size).toBeGreaterThan(10);
    expect(m.source).toContain("as the phones reported them");
  });

  itWith(REAL_DATA)(
    "v2: an equal share of each of the five campaigns, in the simulator's units, the same from the cache",
    () => {
      const cacheDir = mkdtempSync(join(tmpdir(), "proxkit-measured-"));
      dirs.push(cacheDir);
      const options = { dataRoot: DATA_ROOT, maxPoints: 1000, cacheDir };
      const first = loadMeasuredRssiVsDistance(v2, options);
      if (!("points" in first)) throw new Error(first.missing);
      expect(first.campaigns).toEqual([...CHANNEL_CAMPAIGNS]);
      for (const c of CHANNEL_CAMPAIGNS)
        expect(first.points.filter((p) => p.campaign === c)).toHaveLength(200);
      expect(first.source).toContain("herald-edison (200 of ");
      expect(first.source).toContain("the nominal pair's (-19 dB) put on");
      expect(readdirSync(cacheDir)).toHaveLength(CHANNEL_CAMPAIGNS.length);
      const t0 = performance.now();
      const cached = loadMeasuredRssiVsDistance(v2, options);
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(cached).toEqual(first);
      // Uncached reads give the same readings.
      expect(loadMeasuredRssiVsDistance(v2, { ...options, cacheDir: undefined })).toEqual(first);
    },
    60_000,
  );
});

import { describe, expect, it } from "vitest";
import { channelLink } from "../../../sim/world/channel-data.js";
import { CHANNEL_PROFILES, heraldOnlyProfile } from "../../../sim/world/channel-profiles.js";
import {
  type ChannelLink,
  type ChannelProfile,
  carryLossDb,
  carryTerm,
  fadingMoments,
  linkDistribution,
  linkMeanDbm,
  pathLossDb,
  reportRssi,
  ShadowingProcess,
  sampleFadingDb,
  sampleRssi,
} from "../../../sim/world/channel-v2.js";
import { SeededRandom } from "../../../src/core/random.js";
import { CalibrationTable } from "../../../src/signal/calibration-table.js";
import { deviceOffsets } from "../../../src/signal/device-offsets.js";

const s = <T>(value: T) => ({ value, source: "test" });

/** A small profile with round numbers (no cut: sensitivity far below, saturation far above). */
const PROFILE: ChannelProfile = {
  name: "test",
  description: "test",
  devices: s("none"),
  refPowerDbm: s(-50),
  exponentNear: s(2),
  breakpointM: s(null),
  exponentFar: s(2),
  minDistanceM: s(0.1),
  environmentOffsetDb: s({ office: -3 }),
  carryLossDb: s({ hand: 0, mount: 0, pocket: 6, bag: 12 }),
  unknownCarryMix: s(["hand", "pocket", "bag"]),
  shadowingSigmaDb: s(5),
  shadowingTauS: s(20),
  shadowingDecorrelationM: s(0.5),
  fading: s({ kind: "gaussian", sigmaDb: 3 }),
  sensitivityDbm: s(-1000),
  saturationDbm: s(1000),
};

const LINK: ChannelLink = {
  distanceM: 2,
  environment: "office",
  txCarry: "hand",
  rxCarry: "pocket",
  txDeviceDb: 1.5,
  rxDeviceDb: -0.5,
};

function moments(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, sd: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) };
}

/** Draws before rounding: the profile without rounding effects (saturation/cut far away). */
function draws(profile: ChannelProfile, link: ChannelLink, n: number, seed: number): number[] {
  const random = new SeededRandom(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(sampleRssi(profile, link, random) as number);
  return out;
}

describe("channel v2 formulas", () => {
  it("computes the mean from its terms", () => {
    // -50 + 1.5 - 0.5 - 3 - 20 log10(2) - 0 - 6
    expect(linkMeanDbm(PROFILE, LINK)).toBeCloseTo(-58 - 20 * Math.log10(2), 10);
    expect(pathLossDb(PROFILE, 0.01)).toBeCloseTo(-20, 10);
    const twoSlope = { ...PROFILE, breakpointM: s(3), exponentFar: s(3) };
    expect(pathLossDb(twoSlope, 6)).toBeCloseTo(20 * Math.log10(3) + 30 * Math.log10(2), 10);
  });

  it("resolves carry positions through their fallbacks and mixes unknown", () => {
    expect(carryLossDb(PROFILE, "front-pocket")).toBe(6);
    expect(carryLossDb(PROFILE, "table")).toBe(0);
    const u = carryTerm(PROFILE, "unknown");
    expect(u.meanDb).toBeCloseTo(6, 10);
    expect(u.sdDb).toBeCloseTo(Math.sqrt((36 + 0 + 36) / 3), 10);
  });

  it("draws RSSI whose mean and sd match the formula (Gaussian fading)", () => {
    const d = linkDistribution(PROFILE, LINK);
    expect(d.sdDb).toBeCloseTo(Math.sqrt(25 + 9), 10);
    const m = moments(draws(PROFILE, LINK, 40_000, 7));
    // Rounding to whole dBm adds 1/12 dB² of variance.
    expect(Math.abs(m.mean - d.meanDbm)).toBeLessThan(0.1);
    expect(Math.abs(m.sd - Math.sqrt(d.sdDb ** 2 + 1 / 12))).toBeLessThan(0.1);
  });

  it("draws an unknown carry with the mixture's spread", () => {
    const link: ChannelLink = { ...LINK, rxCarry: "unknown", txCarry: "unknown" };
    const d = linkDistribution(PROFILE, link);
    expect(d.sdDb).toBeCloseTo(Math.sqrt(25 + 9 + 2 * 24), 10);
    const m = moments(draws(PROFILE, link, 40_000, 8));
    expect(Math.abs(m.mean - d.meanDbm)).toBeLessThan(0.15);
    expect(Math.abs(m.sd - Math.sqrt(d.sdDb ** 2 + 1 / 12))).toBeLessThan(0.15);
  });

  it("draws Rician fading with the table's moments", () => {
    const fading = { kind: "rician", kDb: 6 } as const;
    const f = fadingMoments(fading);
    const random = new SeededRandom(9);
    const xs = Array.from({ length: 40_000 }, () => sampleFadingDb(fading, random));
    const m = moments(xs);
    expect(Math.abs(m.mean - f.meanDb)).toBeLessThan(0.05);
    expect(Math.abs(m.sd - f.sdDb)).toBeLessThan(0.05);
    expect(f.meanDb).toBeLessThan(0); // mean power 1: the mean in dB lies below 0
  });

  it("cuts, rounds and saturates like a phone", () => {
    const p = { ...PROFILE, sensitivityDbm: s(-100), saturationDbm: s(-20) };
    expect(reportRssi(p, -100.4)).toBeUndefined();
    expect(reportRssi(p, -99.6)).toBe(-100);
    expect(reportRssi(p, -10)).toBe(-20);
  });

  it("gives shadowing the stationary sd and exp(-Δt/τ) autocorrelation", () => {
    const tau = PROFILE.shadowingTauS.value;
    const sigma = PROFILE.shadowingSigmaDb.value;
    const random = new SeededRandom(11);
    const chains = 4000;
    const steps = 6;
    const dt = 10;
    const values: number[][] = [];
    for (let c = 0; c < chains; c++) {
      const process = new ShadowingProcess(sigma, tau, 0.5);
      values.push(Array.from({ length: steps }, (_, k) => process.at(k * dt, 1, random)));
    }
    for (const lag of [1, 2, 4]) {
      let xy = 0;
      let xx = 0;
      let n = 0;
      for (const v of values)
        for (let k = 0; k + lag < steps; k++) {
          xy += v[k] * v[k + lag];
          xx += v[k] * v[k];
          n++;
        }
      expect(Math.abs(xy / xx - Math.exp((-lag * dt) / tau))).toBeLessThan(0.04);
      expect(Math.abs(Math.sqrt(xx / n) - sigma)).toBeLessThan(0.15);
    }
  });

  it("decorrelates shadowing with the change of distance", () => {
    const random = new SeededRandom(12);
    let xy = 0;
    let xx = 0;
    for (let c = 0; c < 20_000; c++) {
      const process = new ShadowingProcess(5, 1e12, 0.5);
      const a = process.at(0, 1, random);
      const b = process.at(0, 1.25, random);
      xy += a * b;
      xx += a * a;
    }
    expect(Math.abs(xy / xx - Math.exp(-0.25 / 0.5))).toBeLessThan(0.03);
  });
});

describe("channel profiles", () => {
  it("ships herald-only as converted from DEFAULT_PROPAGATION", () => {
    expect(CHANNEL_PROFILES["herald-only"]).toEqual(heraldOnlyProfile());
  });

  it("gives every v2 parameter a value and a source", () => {
    const v2 = CHANNEL_PROFILES.v2 as unknown as Record<string, unknown>;
    for (const [key, entry] of Object.entries(v2)) {
      if (["name", "description", "fit"].includes(key)) continue;
      const e = entry as { value: unknown; source: unknown };
      expect(e.value, key).not.toBeUndefined();
      expect(typeof e.source, key).toBe("string");
    }
    expect(Number.isFinite(linkMeanDbm(CHANNEL_PROFILES.v2, LINK))).toBe(true);
  });
});

describe("channelLink", () => {
  it("fills the device terms of the profile's scheme from model names", () => {
    const table = new CalibrationTable([
      {
        oem: "Samsung",
        model: "SM-G973F",
        rssiCorrectionDb: -3,
        txPowerDbm: -24,
        measured: false,
      },
    ]);
    const link = channelLink(CHANNEL_PROFILES.v2, table, {
      distanceM: 1,
      environment: "office",
      txCarry: "hand",
      rxCarry: "hand",
      txModel: "Samsung SM-G973F",
      rxModel: "Samsung SM-G973F",
    });
    const offsets = deviceOffsets("Samsung SM-G973F")!;
    expect(link.txDeviceDb).toBeCloseTo(-24 + offsets.txOffsetDb, 10);
    expect(link.rxDeviceDb).toBeCloseTo(3 + offsets.rxOffsetDb, 10);
  });
});

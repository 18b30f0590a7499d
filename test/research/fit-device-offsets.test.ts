import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CampaignRecord } from "../../src/campaigns/campaign-record.js";
import { DEVICE_OFFSET_RIDGE_LAMBDA, fitDeviceOffsets } from "../../research/fit-device-offsets.js";
import { loadDp3tAnechoic } from "../../src/campaigns/load-dp3t-anechoic.js";
import { SeededRandom } from "../../src/core/random.js";
import { loadCalibrationTable } from "../../src/signal/calibration-table.js";
import { deviceOffsets } from "../../src/signal/device-offsets.js";
import fitted from "../../src/signal/device-offsets.json" with { type: "json" };
import { SHARED_DATA, describeWith, needData } from "../support/requirements.js";

const DATA_DIR = SHARED_DATA;
const REAL_DATA = needData("dp3t-epfl", "gaen");

/** Planted truth: table values and offsets (each role's offsets sum to 0). */
const ATTENUATION_DB = 45;
const MODELS = ["M0", "M1", "M2", "M3", "M4", "M5"];
const TABLE: Record<string, { rssiCorrectionDb: number; txPowerDbm: number }> = {
  M0: { rssiCorrectionDb: 0, txPowerDbm: -24 },
  M1: { rssiCorrectionDb: -3, txPowerDbm: -24 },
  M2: { rssiCorrectionDb: 5, txPowerDbm: -28 },
  M3: { rssiCorrectionDb: -6, txPowerDbm: -22 },
  M4: { rssiCorrectionDb: 2, txPowerDbm: -30 },
  M5: { rssiCorrectionDb: 0, txPowerDbm: -26 },
};
const RX_OFFSET_DB = [3, -2, 0.5, -4, 1.5, 1];
const TX_OFFSET_DB = [6, -5, 2, -3, 4, -4];
const calibration = (model: string) => TABLE[model];

/**
 * Every pair of models placed `placements` times, both directions, `samples` records each;
 * noise per placement and direction (±1 dB) and per record (±4 dB).
 */
function synthetic(placements: number, samples: number, noisy: boolean): CampaignRecord[] {
  const random = new SeededRandom(7);
  const noise = (halfWidthDb: number) =>
    noisy ? ((random.float() + random.float() + random.float()) / 3 - 0.5) * 2 * halfWidthDb : 0;
  const records: CampaignRecord[] = [];
  let atMs = 1_600_000_000_000;
  for (let a = 0; a < MODELS.length; a++) {
    for (let b = a + 1; b < MODELS.length; b++) {
      for (let k = 0; k < placements; k++) {
        const unit = `${MODELS[a]}-${MODELS[b]}#${k}`;
        for (const [rx, tx] of [
          [a, b],
          [b, a],
        ]) {
          const placementDb = noise(1);
          for (let i = 0; i < samples; i++) {
            const calibrated = -ATTENUATION_DB + RX_OFFSET_DB[rx] + TX_OFFSET_DB[tx];
            records.push({
              campaign: "dp3t-anechoic",
              scenario: "synthetic",
              session: unit,
              unit,
              atMs: atMs++,
              rxId: `${rx}`,
              txId: `${tx}`,
              rxModel: MODELS[rx],
              txModel: MODELS[tx],
              rssiDbm:
                calibrated -
                TABLE[MODELS[rx]].rssiCorrectionDb +
                TABLE[MODELS[tx]].txPowerDbm +
                placementDb +
                noise(4),
              distanceM: 1,
              environment: "anechoic",
              rxCarry: "mount",
              txCarry: "mount",
            });
          }
        }
      }
    }
  }
  return records;
}

describe("fitDeviceOffsets on synthetic pairs", () => {
  it("recovers planted offsets exactly without noise or penalty", () => {
    const fit = fitDeviceOffsets(synthetic(1, 3, false), calibration, { lambda: 0 });
    expect(fit.attenuationDb).toBeCloseTo(ATTENUATION_DB, 9);
    MODELS.forEach((m, i) => {
      expect(fit.devices[m].rxOffsetDb).toBeCloseTo(RX_OFFSET_DB[i], 9);
      expect(fit.devices[m].txOffsetDb).toBeCloseTo(TX_OFFSET_DB[i], 9);
      expect(fit.devices[m].rxPairs).toBe(5);
    });
    expect(fit.spreadAfterDb).toBeCloseTo(0, 9);
  });

  it("recovers them within 0.5 dB through noise and the default ridge", () => {
    const fit = fitDeviceOffsets(synthetic(3, 25, true), calibration);
    expect(DEVICE_OFFSET_RIDGE_LAMBDA).toBeGreaterThan(0);
    expect(Math.abs(fit.attenuationDb - ATTENUATION_DB)).toBeLessThan(0.5);
    MODELS.forEach((m, i) => {
      expect(Math.abs(fit.devices[m].rxOffsetDb - RX_OFFSET_DB[i]), m).toBeLessThan(0.5);
      expect(Math.abs(fit.devices[m].txOffsetDb - TX_OFFSET_DB[i]), m).toBeLessThan(0.5);
    });
    const sum = (key: "rxOffsetDb" | "txOffsetDb") =>
      MODELS.reduce((s, m) => s + fit.devices[m][key], 0);
    expect(sum("rxOffsetDb")).toBeCloseTo(0, 9);
    expect(sum("txOffsetDb")).toBeCloseTo(0, 9);
    expect(fit.pairs).toHaveLength(15 * 3 * 2);
    expect(fit.spreadAfterDb).toBeLessThan(1);
    expect(fit.spreadBeforeDb).toBeGreaterThan(4);
  });

  it("shrinks offsets towards 0 as the penalty grows", () => {
    const records = synthetic(1, 5, false);
    const weak = fitDeviceOffsets(records, calibration, { lambda: 0.1 });
    const strong = fitDeviceOffsets(records, calibration, { lambda: 10 });
    expect(Math.abs(strong.devices.M0.txOffsetDb)).toBeLessThan(
      Math.abs(weak.devices.M0.txOffsetDb),
    );
    expect(Math.abs(weak.devices.M0.txOffsetDb - TX_OFFSET_DB[0])).toBeLessThan(0.5);
  });

  it("weighs each pair placement once, whatever its length, and keeps to the distance", () => {
    const records = synthetic(1, 5, true);
    const base = fitDeviceOffsets(records, calibration);
    const first = records.filter((r) => r.unit === records[0].unit);
    const padded = [
      ...records,
      ...Array.from({ length: 50 }, () => first).flat(),
      ...records.map((r) => ({ ...r, unit: `${r.unit}@2m`, distanceM: 2, rssiDbm: r.rssiDbm - 9 })),
      ...first.map((r) => ({ ...r, unit: "stray", distanceM: undefined, rssiDbm: 0 })),
    ];
    const fit = fitDeviceOffsets(padded, calibration);
    expect(fit.pairs).toHaveLength(base.pairs.length);
    for (const m of MODELS) {
      expect(fit.devices[m].rxOffsetDb).toBeCloseTo(base.devices[m].rxOffsetDb, 9);
      expect(fit.devices[m].txOffsetDb).toBeCloseTo(base.devices[m].txOffsetDb, 9);
    }
    expect(() => fitDeviceOffsets(records, calibration, { distanceM: 3 })).toThrow(/no record/);
  });
});

describe("deviceOffsets", () => {
  it("looks models up in any case and spacing, with or without the OEM", () => {
    const s10 = deviceOffsets("Samsung SM-G973F");
    expect(s10).toBeDefined();
    expect(deviceOffsets("samsung  sm-g973f")).toEqual(s10);
    expect(deviceOffsets("SM-G973F")).toEqual(s10);
    expect(deviceOffsets("SMG973F")).toEqual(s10);
    expect(deviceOffsets("apple iphone 11")).toEqual(deviceOffsets("iPhone 11"));
    expect(deviceOffsets("Pixel 4")).toEqual(deviceOffsets("Google Pixel 4"));
    expect(deviceOffsets("Nokia 3310")).toBeUndefined();
    expect(Object.keys(deviceOffsets("Pixel 4") ?? {}).sort()).toEqual([
      "rxOffsetDb",
      "txOffsetDb",
    ]);
  });
});

describeWith(REAL_DATA)("device-offsets.json", () => {
  it("is what the fit gives on the anechoic pairs today", () => {
    const table = loadCalibrationTable(join(DATA_DIR, "gaen/en-calibration-2020-06-13.csv"));
    const fit = fitDeviceOffsets(loadDp3tAnechoic(join(DATA_DIR, "dp3t-epfl")), (m) =>
      table.lookup(m),
    );
    expect(fitted.ridgeLambda).toBe(DEVICE_OFFSET_RIDGE_LAMBDA);
    expect(fitted.pairPlacements).toBe(48);
    /** The JSON holds values rounded to 0.01 dB. */
    const rounded = (json: number | undefined, value: number, what: string) =>
      expect(Math.abs((json ?? Number.NaN) - value), what).toBeLessThanOrEqual(0.005 + 1e-9);
    rounded(fitted.attenuationAt1mDb, fit.attenuationDb, "A");
    rounded(fitted.spreadBeforeDb, fit.spreadBeforeDb, "spread before");
    rounded(fitted.spreadAfterDb, fit.spreadAfterDb, "spread after");
    expect(Object.keys(fitted.devices).sort()).toEqual(Object.keys(fit.devices).sort());
    for (const [model, d] of Object.entries(fit.devices)) {
      rounded(deviceOffsets(model)?.rxOffsetDb, d.rxOffsetDb, model);
      rounded(deviceOffsets(model)?.txOffsetDb, d.txOffsetDb, model);
    }
    // The offsets take most of the device spread out of calibrated RSSI at 1 m.
    expect(fit.spreadBeforeDb).toBeGreaterThan(10);
    expect(fit.spreadAfterDb).toBeLessThan(3);
  });
});

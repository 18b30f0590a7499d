/**
 * The DP-3T anechoic calibration pairs (DP-3T/bt-measurements exp25/27/28/29, CC BY-ND 4.0) as
 * campaign records. Counts measured on the files (2,729 rows, 7 with RSSI >= 0 dropped).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { type CampaignRecord, streamKey } from "../../src/campaigns/campaign-record.js";
import { dp3tDeviceName, loadDp3tAnechoic } from "../../src/campaigns/load-dp3t-anechoic.js";
import { CodecError, ConfigError } from "../../src/core/errors.js";
import { describeWith, needData, sharedData } from "../support/requirements.js";

const DATA_DIR = sharedData("dp3t-epfl");
const REAL_DATA = needData("dp3t-epfl");

/** What each folder's README says: id -> model, as calibration-table names. */
const README_MODELS: Record<string, Record<string, string>> = {
  exp25: {
    "110": "Apple iPhone 11",
    "103": "Apple iPhone 11",
    "2": "Samsung SM-G973F",
    "3": "Samsung SM-G970F",
    "6": "Samsung SM-G981B",
    "8": "Samsung SM-A908B",
    "10": "Samsung SM-A515F",
    "18": "Samsung SM-A405FN",
  },
  exp27: {
    "10": "Apple iPhone 11",
    "8": "Apple iPhone XS",
    "6": "Apple iPhone XR",
    "2": "Apple iPhone 11 Pro",
    "1": "Apple iPhone 7",
  },
  exp28: {
    "23": "Google Pixel 4",
    "24": "Google Pixel 4",
    "18": "Samsung SM-A405FN",
    "10": "Samsung SM-A515F",
    "8": "Samsung SM-A908B",
    "6": "Samsung SM-G981B",
    "2": "Samsung SM-G973F",
  },
  exp29: {
    "23": "Google Pixel 4",
    "24": "Google Pixel 4",
    "3": "Samsung SM-G970F",
    "1": "Apple iPhone 7",
    "2": "Apple iPhone 11 Pro",
    "6": "Apple iPhone XR",
    "8": "Apple iPhone XS",
    "10": "Apple iPhone 11",
  },
};

/** Records per session, in loader order. */
const SESSION_COUNTS: [string, number][] = [
  ["exp25/scenario01-110-103.sqlite", 33],
  ["exp25/scenario02-110-02.sqlite", 202],
  ["exp25/scenario03-110-03.sqlite", 262],
  ["exp25/scenario04-110-06.sqlite", 212],
  ["exp25/scenario05-110-08.sqlite", 62],
  ["exp25/scenario06-110-10.sqlite", 209],
  ["exp25/scenario07-110-18.sqlite", 222],
  ["exp27/scenario01-10-08.sqlite", 38],
  ["exp27/scenario02-10-06.sqlite", 35],
  ["exp27/scenario03-10-02.sqlite", 47],
  ["exp27/scenario04-10-01.sqlite", 47],
  ["exp28/scenario01-23-24.sqlite", 147],
  ["exp28/scenario02-23-18.sqlite", 180],
  ["exp28/scenario03-23-10.sqlite", 129],
  ["exp28/scenario04-23-08.sqlite", 61],
  ["exp28/scenario05-23-06.sqlite", 116],
  ["exp28/scenario06-23-02.sqlite", 143],
  ["exp29/scenario01-23-24.sqlite", 143],
  ["exp29/scenario02-23-03.sqlite", 179],
  ["exp29/scenario03-23-01.sqlite", 49],
  ["exp29/scenario04-23-02.sqlite", 52],
  ["exp29/scenario05-23-06.sqlite", 48],
  ["exp29/scenario06-23-08.sqlite", 55],
  ["exp29/scenario07-23-10.sqlite", 51],
];

describe("dp3tDeviceName", () => {
  it("names DP-3T model strings and Apple machine identifiers as the calibration table does", () => {
    expect(dp3tDeviceName("iPhone11")).toBe("Apple iPhone 11");
    expect(dp3tDeviceName("iPhone12,1")).toBe("Apple iPhone 11");
    expect(dp3tDeviceName("iPhone11Pro")).toBe("Apple iPhone 11 Pro");
    expect(dp3tDeviceName("GA01187-DE")).toBe("Google Pixel 4");
    expect(dp3tDeviceName("SM-G981B/DS")).toBe("Samsung SM-G981B");
    expect(dp3tDeviceName("SM-A405FN")).toBe("Samsung SM-A405FN");
    expect(dp3tDeviceName("Nokia 3310")).toBe("Nokia 3310");
  });
});

describe("loadDp3tAnechoic: bad input", () => {
  it("refuses a missing folder and names the file and row of a malformed one", () => {
    expect(() => [...loadDp3tAnechoic("/nonexistent/dp3t")]).toThrow(ConfigError);
    const dir = mkdtempSync(join(tmpdir(), "proxkit-dp3t-"));
    try {
      expect(() => [...loadDp3tAnechoic(dir)]).toThrow(/exp25-calibration.*does not exist/);
      const exp = join(dir, "exp25-calibration-iphone-to-android-anechoic");
      mkdirSync(exp);
      expect(() => [...loadDp3tAnechoic(dir)]).toThrow(/has no scenarioNN/);
      // A scenario file whose second row's RSSI is text.
      const db = new BetterSqlite3(join(exp, "scenario01-110-02.sqlite"));
      db.exec(`CREATE TABLE results(db_id INTEGER PRIMARY KEY, receiver_id INT, receiver_model TEXT,
        transmitter_id INT, transmitter_model TEXT, timestamp REAL, rssi INTEGER, tx_power INTEGER,
        ground_truth_distance REAL);
        INSERT INTO results VALUES (1, 110, 'iPhone11', 2, 'SM-G973F', 1591787700.5, -70, 0, 1.0);
        INSERT INTO results VALUES (2, 110, 'iPhone11', 2, 'SM-G973F', 1591787701.5, 'loud', 0, 1.0);`);
      db.close();
      const records = loadDp3tAnechoic(dir);
      expect(records.next().value).toMatchObject({ atMs: 1591787700500, rssiDbm: -70 });
      expect(() => records.next()).toThrow(CodecError);
      expect(() => [...loadDp3tAnechoic(dir)]).toThrow(
        /exp25\/scenario01-110-02\.sqlite row db_id=2: rssi is not an integer/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWith(REAL_DATA)("loadDp3tAnechoic on the real pairs", () => {
  let records: CampaignRecord[];
  beforeAll(() => {
    records = [...loadDp3tAnechoic(DATA_DIR)];
  });

  it("reads every session, counts as measured", () => {
    const counts: [string, number][] = [];
    for (const r of records) {
      const last = counts.at(-1);
      if (last?.[0] === r.session) last[1]++;
      else counts.push([r.session, 1]);
    }
    expect(counts).toEqual(SESSION_COUNTS);
    expect(records).toHaveLength(2722);
  });

  it("keeps each stream contiguous and in time order, times in ms", () => {
    const seen = new Set<string>();
    let key = "";
    let lastMs = 0;
    for (const r of records) {
      const k = streamKey(r);
      if (k !== key) {
        expect(seen.has(k), k).toBe(false);
        seen.add(k);
        key = k;
      } else expect(r.atMs).toBeGreaterThanOrEqual(lastMs);
      lastMs = r.atMs;
      // 2020-06-10 .. 2020-06-13
      expect(r.atMs).toBeGreaterThan(Date.UTC(2020, 5, 10));
      expect(r.atMs).toBeLessThan(Date.UTC(2020, 5, 13));
    }
    expect(seen.size).toBe(49);
  });

  it("labels records as the campaign and the READMEs say", () => {
    for (const r of records) {
      expect(r.campaign).toBe("dp3t-anechoic");
      expect(r.session.startsWith(`${r.scenario}/`)).toBe(true);
      expect(r.unit).toBe(r.session);
      expect(r.rxModel).toBe(README_MODELS[r.scenario][r.rxId]);
      expect(r.txModel).toBe(README_MODELS[r.scenario][r.txId]);
      expect(r.environment).toBe("anechoic");
      expect([r.rxCarry, r.txCarry]).toEqual(["mount", "mount"]);
      expect(r.rssiDbm).toBeLessThan(0);
      expect(r.rssiDbm).toBeGreaterThanOrEqual(-94);
      expect(r.txPowerDbm).toBeUndefined();
    }
    // Only exp25 scenario03's 2 leftover rows of the previous phone lack the 1 m truth.
    const stray = records.filter((r) => r.distanceM === undefined);
    expect(stray.map((r) => [r.session, r.rxId, r.txId])).toEqual([
      ["exp25/scenario03-110-03.sqlite", "110", "2"],
      ["exp25/scenario03-110-03.sqlite", "110", "2"],
    ]);
    expect(records.every((r) => r.distanceM === undefined || r.distanceM === 1)).toBe(true);
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { streamKey } from "../../src/campaigns/campaign-record.js";
import {
  EXP05_SCENARIO_NAMES,
  EXP05_SCENARIOS,
  EXP05_SOLDIERS,
  exp05PairKey,
  loadDp3tExp05,
} from "../../src/campaigns/load-dp3t-exp05.js";
import { CodecError, ConfigError } from "../../src/core/errors.js";
import { loadCalibrationTable } from "../../src/signal/calibration-table.js";
import { describeWith, itWith, needData, sharedData } from "../support/requirements.js";

/** DP-3T experiment 05 (DP-3T/bt-measurements, CC BY-ND 4.0) beside the repository. */
const DATA_DIR = sharedData("dp3t-epfl/exp05-epfl-soldiers");
const REAL_DATA = needData("dp3t-epfl/exp05-epfl-soldiers");

/** Google's calibration table, to check the model names. */
const CALIBRATION = sharedData("gaen/en-calibration-2020-06-13.csv");
const CALIBRATION_DATA = needData("gaen/en-calibration-2020-06-13.csv");

/**
 * Measured independently with python3's sqlite3: rows, rows with ground_truth_distance ≥ 0,
 * distinct (receiver, transmitter), distinct unordered pairs.
 */
const EXPECTED = {
  lunch: { rows: 31604, withDistance: 13017, directedPairs: 250, units: 129 },
  train: { rows: 65419, withDistance: 50765, directedPairs: 380, units: 190 },
  office: { rows: 22938, withDistance: 22041, directedPairs: 110, units: 55 },
  queue: { rows: 12722, withDistance: 10914, directedPairs: 266, units: 144 },
  party: { rows: 44702, withDistance: 43100, directedPairs: 339, units: 171 },
  walls: { rows: 7332, withDistance: 0, directedPairs: 90, units: 45 },
} as const;

describe("loadDp3tExp05 on the real campaign", () => {
  itWith(REAL_DATA)(
    "streams every row, grouped and time-ordered, with the README's devices",
    () => {
      const counts = new Map<
        string,
        { rows: number; withDistance: number; directed: Set<string>; units: Set<string> }
      >();
      const finished = new Set<string>();
      // Checked by hand, not by expect(), to keep 185,000 rows fast; the first few faults are kept.
      const faults: string[] = [];
      const check = (ok: boolean, what: string) => {
        if (!ok && faults.length < 5) faults.push(what);
      };
      let current = "";
      let lastAtMs = Number.NEGATIVE_INFINITY;
      let lastScenario = -1;
      let maxDistanceM = 0;
      for (const record of loadDp3tExp05(DATA_DIR)) {
        const key = streamKey(record);
        if (key !== current) {
          check(!finished.has(key), `stream ${key} split`);
          finished.add(current);
          current = key;
          lastAtMs = Number.NEGATIVE_INFINITY;
        }
        check(record.atMs >= lastAtMs, `${key} out of time order at ${record.atMs}`);
        lastAtMs = record.atMs;
        const scenarioIndex = EXP05_SCENARIO_NAMES.indexOf(record.scenario as never);
        check(scenarioIndex >= lastScenario, `scenario ${record.scenario} out of order`);
        lastScenario = scenarioIndex;

        let c = counts.get(record.scenario);
        if (c === undefined) {
          c = { rows: 0, withDistance: 0, directed: new Set(), units: new Set() };
          counts.set(record.scenario, c);
        }
        c.rows++;
        c.directed.add(`${record.rxId}>${record.txId}`);
        c.units.add(record.unit);
        if (record.distanceM !== undefined) {
          c.withDistance++;
          check(record.distanceM >= 0, `negative distance ${record.distanceM}`);
          maxDistanceM = Math.max(maxDistanceM, record.distanceM);
        }
        const soldierTx = EXP05_SOLDIERS[record.txId];
        const what = `${key} at ${record.atMs}`;
        check(record.campaign === "dp3t-exp05" && record.session === record.scenario, what);
        check(record.unit === `${record.scenario}:${exp05PairKey(record.rxId, record.txId)}`, what);
        check(record.rxModel === EXP05_SOLDIERS[record.rxId].model, `rx model, ${what}`);
        check(record.txModel === soldierTx.model, `tx model, ${what}`);
        // The README's txpowers list, per transmitter.
        check(record.txPowerDbm === soldierTx.txPowerDbm, `tx power ${record.txPowerDbm}, ${what}`);
        check(record.environment === "open-indoor", what);
        const carry = EXP05_SCENARIOS[record.scenario as "lunch"].carry;
        check(record.rxCarry === carry && record.txCarry === carry, `carry, ${what}`);
        // 2020-04-17, between 07:00 and 11:30 CEST.
        check(record.atMs > Date.UTC(2020, 3, 17, 5, 0), `early, ${what}`);
        check(record.atMs < Date.UTC(2020, 3, 17, 9, 30), `late, ${what}`);
      }
      expect(faults).toEqual([]);
      const measured = Object.fromEntries(
        [...counts].map(([scenario, c]) => [
          scenario,
          {
            rows: c.rows,
            withDistance: c.withDistance,
            directedPairs: c.directed.size,
            units: c.units.size,
          },
        ]),
      );
      expect(measured).toEqual(EXPECTED);
      // Metres on the atrium floor (40 m × 15 m): the largest is 15.29 m (lunch).
      expect(maxDistanceM).toBeCloseTo(15.288, 3);
    },
  );

  itWith(REAL_DATA)("reads chosen scenarios and can drop rows without a distance", () => {
    let rows = 0;
    for (const record of loadDp3tExp05(DATA_DIR, {
      scenarios: ["office"],
      withUnknownDistance: false,
    })) {
      expect(record.distanceM).toBeDefined();
      rows++;
    }
    expect(rows).toBe(EXPECTED.office.withDistance);
    expect([
      ...loadDp3tExp05(DATA_DIR, { scenarios: ["walls"], withUnknownDistance: false }),
    ]).toEqual([]);
    // Stopping early closes the database without complaint.
    for (const record of loadDp3tExp05(DATA_DIR, { scenarios: ["queue"] })) {
      expect(record.scenario).toBe("queue");
      break;
    }
  });

  itWith(REAL_DATA)("maps the S20's 'SM-G981B/DS' to the calibration table's name", () => {
    const record = [...loadDp3tExp05(DATA_DIR, { scenarios: ["lunch"] })].find(
      (r) => r.txId === "6",
    );
    expect(record?.txModel).toBe("Samsung SM-G981B");
  });
});

describeWith(CALIBRATION_DATA)("EXP05_SOLDIERS", () => {
  it("names every phone as Google's calibration table does", () => {
    const table = loadCalibrationTable(CALIBRATION);
    for (const soldier of Object.values(EXP05_SOLDIERS)) {
      expect(table.lookup(soldier.model).match, soldier.model).toBe("model");
    }
  });
});

describe("loadDp3tExp05 on bad input", () => {
  const CREATE =
    "CREATE TABLE results(db_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, receiver_id INT, " +
    "receiver_model TEXT, transmitter_id INT, transmitter_model TEXT, timestamp REAL, rssi, " +
    "tx_power INTEGER, ground_truth_distance REAL)";
  const INSERT =
    "INSERT INTO results(receiver_id, receiver_model, transmitter_id, transmitter_model, " +
    "timestamp, rssi, tx_power, ground_truth_distance) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

  /** A lunch file with one good row and one bad one (db_id 2), read back through the loader. */
  function readWithBadRow(bad: unknown[]): unknown {
    const dir = mkdtempSync(join(tmpdir(), "proxkit-exp05-"));
    try {
      const db = new BetterSqlite3(join(dir, "scenario01-lunch.sqlite"));
      db.exec(CREATE);
      db.prepare(INSERT).run(1, "SM-G973F", 6, "SM-G981B/DS", 1587102977032.0, -88, -21, null);
      db.prepare(INSERT).run(...bad);
      db.close();
      try {
        [...loadDp3tExp05(dir, { scenarios: ["lunch"] })];
      } catch (error) {
        return error;
      }
      return undefined;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const good = [1, "SM-G973F", 6, "SM-G981B/DS", 1587102977500.0, -80, -21, 1.5];
  it.each([
    ["rssi NULL", 5, null, /rssi null/],
    ["rssi text", 5, "loud", /rssi loud/],
    ["rssi out of range", 5, 40, /rssi 40/],
    ["an unknown soldier", 0, 99, /receiver_id 99/],
    ["a model that is not the soldier's", 1, "SM-A405FN", /receiver_model SM-A405FN/],
    ["a text distance", 7, "far", /ground_truth_distance far/],
  ])("rejects %s with a CodecError naming the file and db_id", (_what, column, value, pattern) => {
    const bad: unknown[] = [...good];
    bad[column] = value;
    const error = readWithBadRow(bad);
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).code).toBe("E_CAMPAIGN");
    expect((error as Error).message).toMatch(/scenario01-lunch\.sqlite: row db_id 2: /);
    expect((error as Error).message).toMatch(pattern);
  });

  it("reads the synthetic good rows", () => {
    const dir = mkdtempSync(join(tmpdir(), "proxkit-exp05-"));
    try {
      const db = new BetterSqlite3(join(dir, "scenario04-queue.sqlite"));
      db.exec(CREATE);
      db.prepare(INSERT).run(...good);
      db.prepare(INSERT).run(1, "SM-G973F", 6, "SM-G981B/DS", 1587102977032.0, -88, -21, -1);
      db.close();
      const records = [...loadDp3tExp05(dir, { scenarios: ["queue"] })];
      expect(records.map((r) => [r.atMs, r.distanceM, r.unit, r.rxCarry])).toEqual([
        [1587102977032, undefined, "queue:1-6", "unknown"],
        [1587102977500, 1.5, "queue:1-6", "unknown"],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects a file without a results table", () => {
    const dir = mkdtempSync(join(tmpdir(), "proxkit-exp05-"));
    try {
      new BetterSqlite3(join(dir, "scenario01-lunch.sqlite")).exec("CREATE TABLE other(x)");
      expect(() => [...loadDp3tExp05(dir, { scenarios: ["lunch"] })]).toThrow(
        /scenario01-lunch\.sqlite: not an exp05 results table/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a missing folder or file and an unknown scenario with a ConfigError", () => {
    expect(() => loadDp3tExp05("/nonexistent/exp05").next()).toThrow(ConfigError);
    const dir = mkdtempSync(join(tmpdir(), "proxkit-exp05-"));
    try {
      expect(() => loadDp3tExp05(dir, { scenarios: ["train"] }).next()).toThrow(
        /scenario02-train\.sqlite/,
      );
      expect(() => loadDp3tExp05(dir, { scenarios: ["disco"] }).next()).toThrow(
        /unknown exp05 scenario "disco"/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

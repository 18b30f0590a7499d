/**
 * The DP-3T anechoic calibration pairs as campaign records: two phones 1 m apart, back to back,
 * in an anechoic chamber (no multipath), each logging the other's GAEN advertisements for
 * 0.5-1 h per placement. One fixed phone (exp25: iPhone 11 "10i", exp27: iPhone 11 "10",
 * exp28 and exp29: Pixel 4 "23") is paired in turn with the others.
 *
 * Source: DP-3T/bt-measurements, experiments 25, 27, 28 and 29 (`dp3t-epfl/exp2x-*` here),
 * CC BY-ND 4.0, EPFL and ETH Zurich. Read: the `results` table of each `scenarioNN-<a>-<b>.sqlite`.
 *
 * Checked against the folders' READMEs (every id and model agrees):
 * - exp25's "10i" and "3i" (iPhones) are ids 110 and 103 in the sqlite files;
 * - ids are per experiment: 2, 6, 8 and 10 are Samsungs in exp25/exp28 (the exp05 soldiers'
 *   phone numbers) but iPhones in exp27/exp29; the models tell them apart;
 * - exp28's README gives no distance; its `ground_truth_distance` column says 1.0 like the others;
 * - the "GS20" is the 5G S20, SM-G981B/DS; the Pixel 4 is "GA01187-DE" (a Pixel 4 SKU).
 * Quirks handled here:
 * - `timestamp` is Unix **seconds** with a fraction (exp05 uses milliseconds);
 * - 7 rows of exp27 (iPhone 7 and iPhone XR receiving) have RSSI 27, 72 or 75 dBm, impossible
 *   values: rows with RSSI >= 0 are dropped;
 * - exp25 scenario03 has 2 rows of phone 2 (the previous placement's S10) seen by 110 before
 *   phone 3 arrived: rows of a pair other than the file's own get `distanceM` undefined;
 * - `tx_power` holds 0, 1 or 3, not dBm (exp05's holds -21/-20): it is not read.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { CodecError, ConfigError } from "../core/errors.js";
import type { CampaignRecord } from "./campaign-record.js";

/** The experiment folders read, in order, with the short names used as `scenario`. */
export const DP3T_ANECHOIC_EXPERIMENTS: readonly {
  readonly exp: string;
  readonly folder: string;
}[] = [
  { exp: "exp25", folder: "exp25-calibration-iphone-to-android-anechoic" },
  { exp: "exp27", folder: "exp27-calibration-iphone-to-iphone-anechoic" },
  { exp: "exp28", folder: "exp28-calibration-pixel4-to-android-anechoic" },
  { exp: "exp29", folder: "exp29-calibration-pixel4-anechoic" },
];

/**
 * DP-3T model strings (and Apple machine identifiers, which other DP-3T exports use) as
 * calibration-table device names. iPhones are named as the table would ("Apple iPhone 11"); it
 * lists none. Samsung "SM-…" strings not listed get "Samsung " in front.
 */
export const DP3T_MODEL_DEVICES: Readonly<Record<string, string>> = {
  iPhone7: "Apple iPhone 7",
  iPhoneXS: "Apple iPhone XS",
  iPhoneXR: "Apple iPhone XR",
  iPhone11: "Apple iPhone 11",
  iPhone11Pro: "Apple iPhone 11 Pro",
  // Machine identifiers (Apple's device list: iPhone9,1 = iPhone 7 … iPhone12,5 = 11 Pro Max).
  "iPhone9,1": "Apple iPhone 7",
  "iPhone9,3": "Apple iPhone 7",
  "iPhone11,2": "Apple iPhone XS",
  "iPhone11,8": "Apple iPhone XR",
  "iPhone12,1": "Apple iPhone 11",
  "iPhone12,3": "Apple iPhone 11 Pro",
  "iPhone12,5": "Apple iPhone 11 Pro Max",
  "GA01187-DE": "Google Pixel 4",
  // The table lists the S20 5G as SM-G981B; "/DS" is the dual-SIM suffix.
  "SM-G981B/DS": "Samsung SM-G981B",
};

/** The calibration-table name of a DP-3T model string ("SM-G973F" -> "Samsung SM-G973F"). */
export function dp3tDeviceName(model: string): string {
  const known = DP3T_MODEL_DEVICES[model];
  if (known) return known;
  if (/^SM-/i.test(model)) return `Samsung ${model}`;
  return model;
}

const SCENARIO_FILE = /^scenario\d+-(\w+)-(\w+)\.sqlite$/;
/** Unix seconds below this are seconds; above, milliseconds (1e11 s is the year 5138). */
const SECONDS_LIMIT = 1e11;

interface ResultRow {
  db_id: number;
  receiver_id: number;
  receiver_model: string;
  transmitter_id: number;
  transmitter_model: string;
  timestamp: number;
  rssi: number;
  ground_truth_distance: number | null;
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * Streams the sqlite rows of every exp25/27/28/29 scenario (`dataDir` is the `dp3t-epfl`
 * folder): experiments in order, files by name, each ordered by receiver, transmitter, time.
 * A missing folder or an experiment without scenario files is a `ConfigError`; a row with
 * a non-numeric time, RSSI or id is a `CodecError` naming the file and row.
 */
export function* loadDp3tAnechoic(dataDir: string): Generator<CampaignRecord> {
  if (!isDirectory(dataDir))
    throw new ConfigError(`the dp3t-epfl data folder ${dataDir} does not exist`, "E_INPUT");
  for (const { exp, folder } of DP3T_ANECHOIC_EXPERIMENTS) {
    const dir = join(dataDir, folder);
    if (!isDirectory(dir))
      throw new ConfigError(`the DP-3T anechoic folder ${dir} does not exist`, "E_INPUT");
    const files = readdirSync(dir)
      .filter((f) => SCENARIO_FILE.test(f))
      .sort();
    if (files.length === 0)
      throw new ConfigError(`${dir} has no scenarioNN-<a>-<b>.sqlite files`, "E_INPUT");
    for (const file of files) yield* loadScenario(join(dir, file), exp, file);
  }
}

function* loadScenario(path: string, exp: string, file: string): Generator<CampaignRecord> {
  const [, a, b] = SCENARIO_FILE.exec(file)!;
  const pair = new Set([a.replace(/^0+(?=\d)/, ""), b.replace(/^0+(?=\d)/, "")]);
  const session = `${exp}/${file}`;
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new ConfigError(`cannot open ${path}: ${(error as Error).message}`, "E_INPUT");
  }
  try {
    const rows = db
      .prepare(
        `SELECT db_id, receiver_id, receiver_model, transmitter_id, transmitter_model, timestamp,
           rssi, ground_truth_distance FROM results ORDER BY receiver_id, transmitter_id, timestamp`,
      )
      .iterate() as IterableIterator<ResultRow>;
    for (const row of rows) {
      const fail = (what: string): never => {
        throw new CodecError(`${session} row db_id=${row.db_id}: ${what}`, undefined, "E_CAMPAIGN");
      };
      if (typeof row.timestamp !== "number" || !Number.isFinite(row.timestamp))
        fail(`timestamp is not a number: ${JSON.stringify(row.timestamp)}`);
      if (!Number.isInteger(row.rssi)) fail(`rssi is not an integer: ${JSON.stringify(row.rssi)}`);
      if (!Number.isInteger(row.receiver_id) || !Number.isInteger(row.transmitter_id))
        fail("receiver_id and transmitter_id must be integers");
      if (row.rssi >= 0) continue;
      const rxId = String(row.receiver_id);
      const txId = String(row.transmitter_id);
      const truth = row.ground_truth_distance;
      const ownPair = pair.has(rxId) && pair.has(txId) && rxId !== txId;
      const distanceM = ownPair && typeof truth === "number" && truth >= 0 ? truth : undefined;
      const atMs =
        row.timestamp < SECONDS_LIMIT ? Math.round(row.timestamp * 1e6) / 1e3 : row.timestamp;
      yield {
        campaign: "dp3t-anechoic",
        scenario: exp,
        session,
        unit: session,
        atMs,
        rxId,
        txId,
        rxModel: dp3tDeviceName(row.receiver_model),
        txModel: dp3tDeviceName(row.transmitter_model),
        rssiDbm: row.rssi,
        ...(distanceM === undefined ? {} : { distanceM }),
        environment: "anechoic",
        rxCarry: "mount",
        txCarry: "mount",
      };
    }
  } finally {
    db.close();
  }
}

/**
 * Loader for DP-3T experiment 05, "Soldiers in real life scenarios": 20 people with Samsung
 * phones acting out six crowd scenarios in the EPFL BC atrium on 2020-04-17, filmed by six
 * cameras (see `exp05-camera-truth.ts` for the camera tracks).
 *
 * Source: `../shared/data/dp3t-epfl/exp05-epfl-soldiers` (DP-3T/bt-measurements, EPFL and
 * ETH Zurich, CC BY-ND 4.0: read as is, never modified). One SQLite file per scenario, table
 * `results(db_id, receiver_id, receiver_model, transmitter_id, transmitter_model, timestamp,
 * rssi, tx_power, ground_truth_distance)`; timestamps are Android `currentTimeMillis()`, UTC.
 * `ground_truth_distance` is the 2-D camera distance at the nearest camera frame (checked: equal
 * to the camera tracks on every row the tracks cover), NULL or -1 where it is unknown.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { CodecError, ConfigError } from "../core/errors.js";
import type { CampaignRecord, CarryPosition, Environment } from "./campaign-record.js";

/** What the README says about one scenario, and where its files are. */
export interface Exp05ScenarioInfo {
  /** The SQLite file in the campaign folder. */
  readonly file: string;
  /**
   * Camera track files in `ground_truth/`, in time order. `2_cff_part3.json` (the train's
   * last 10 minutes) is missing upstream; the walls scenario was not filmed.
   */
  readonly cameraParts: readonly string[];
  readonly environment: Environment;
  /** Where the script puts the phones, for everyone and the whole scenario (see `EXP05_SCENARIOS`). */
  readonly carry: CarryPosition;
}

/**
 * The six scenarios in recording order. All were played in the BC atrium (a 40 m × 15 m open
 * space), the train too: it "simulates an SBB 2nd class train compartment" on the same camera
 * grid, so it is `open-indoor`, not `vehicle`.
 *
 * Carry is a per-scenario default from the README's script, ignoring the scripted moments when
 * a few people take their phone out (lunch: ID2 and ID5 put theirs on the table at 7:30, ID9,
 * ID11, ID13 take theirs out at 20:00; train: odd IDs at 7:30; office: the two people walking
 * between tables) because the script's clock has no stated origin in the data.
 * lunch, train, party: "in their pockets"; office: "phones are on the desk"; queue and walls:
 * the README does not say, so `unknown`.
 */
export const EXP05_SCENARIOS = {
  lunch: {
    file: "scenario01-lunch.sqlite",
    cameraParts: ["1_lunch_part1.json", "1_lunch_part2.json", "1_lunch_part3.json"],
    environment: "open-indoor",
    carry: "pocket",
  },
  train: {
    file: "scenario02-train.sqlite",
    cameraParts: ["2_cff_part1.json", "2_cff_part2.json"],
    environment: "open-indoor",
    carry: "pocket",
  },
  office: {
    file: "scenario03-office.sqlite",
    cameraParts: ["3_coworking_part1.json", "3_coworking_part2.json", "3_coworking_part3.json"],
    environment: "open-indoor",
    carry: "table",
  },
  queue: {
    file: "scenario04-queue.sqlite",
    cameraParts: ["4_queue_part1.json", "4_queue_part2.json"],
    environment: "open-indoor",
    carry: "unknown",
  },
  party: {
    file: "scenario05-party.sqlite",
    cameraParts: ["5_party_part1.json", "5_party_part2.json", "5_party_part3.json"],
    environment: "open-indoor",
    carry: "pocket",
  },
  walls: {
    file: "scenario06-walls.sqlite",
    cameraParts: [],
    environment: "open-indoor",
    carry: "unknown",
  },
} as const satisfies Record<string, Exp05ScenarioInfo>;

export type Exp05Scenario = keyof typeof EXP05_SCENARIOS;

/** Scenario names in recording order. */
export const EXP05_SCENARIO_NAMES = Object.keys(EXP05_SCENARIOS) as readonly Exp05Scenario[];

/** One soldier: README name, phone model (calibration-table name), README TX power. */
export interface Exp05Soldier {
  readonly name: string;
  readonly model: string;
  /** From the README's `txpowers` list; soldiers 21 and 22 (never used) are not in it. */
  readonly txPowerDbm?: number;
}

const S10 = "Samsung SM-G973F";
const S10E = "Samsung SM-G970F";
const A40 = "Samsung SM-A405FN";

/**
 * The soldiers by id (the README's "1AliceGS10" is id "1"). The S20 is an "SM-G981B/DS" (the
 * dual-SIM S20 5G) in the data; the calibration table lists it as "SM-G981B".
 */
export const EXP05_SOLDIERS: Readonly<Record<string, Exp05Soldier>> = {
  "1": { name: "Alice", model: S10, txPowerDbm: -20 },
  "2": { name: "Bob", model: S10, txPowerDbm: -20 },
  "3": { name: "Charlie", model: S10E, txPowerDbm: -20 },
  "4": { name: "Dave", model: S10E, txPowerDbm: -20 },
  "5": { name: "Emma", model: A40, txPowerDbm: -21 },
  "6": { name: "Hans", model: "Samsung SM-G981B", txPowerDbm: -21 },
  "7": { name: "Ivan", model: S10, txPowerDbm: -20 },
  "8": { name: "Leo", model: "Samsung SM-A908B", txPowerDbm: -21 },
  "9": { name: "Meg", model: S10, txPowerDbm: -20 },
  "10": { name: "Nelly", model: "Samsung SM-A515F", txPowerDbm: -21 },
  "11": { name: "Olly", model: S10, txPowerDbm: -20 },
  "12": { name: "Pep", model: S10, txPowerDbm: -20 },
  "13": { name: "Queen", model: A40, txPowerDbm: -21 },
  "14": { name: "Rob", model: A40, txPowerDbm: -21 },
  "15": { name: "Sam", model: A40, txPowerDbm: -21 },
  "16": { name: "Tom", model: A40, txPowerDbm: -21 },
  "17": { name: "Hugo", model: A40, txPowerDbm: -21 },
  "18": { name: "Vero", model: A40, txPowerDbm: -21 },
  "19": { name: "Zed", model: A40, txPowerDbm: -21 },
  "20": { name: "Yan", model: A40, txPowerDbm: -21 },
  "21": { name: "Willy", model: A40 },
  "22": { name: "Jane", model: A40 },
};

/** The key of one pair of people, either direction: "3-12" (numeric order). */
export function exp05PairKey(a: string, b: string): string {
  return Number(a) <= Number(b) ? `${a}-${b}` : `${b}-${a}`;
}

/** The data's model string as the calibration table names it ("SM-G981B/DS" → "Samsung SM-G981B"). */
function calibrationModel(rowModel: string): string {
  return `Samsung ${rowModel.replace(/\/DS$/, "")}`;
}

export interface LoadDp3tExp05Options {
  /** Scenarios to read, in this order; default all six in recording order. */
  readonly scenarios?: readonly string[];
  /** Also yield rows without a ground-truth distance (default true: the camera tracks can still label them). */
  readonly withUnknownDistance?: boolean;
}

interface ResultRow {
  db_id: unknown;
  receiver_id: unknown;
  receiver_model: unknown;
  transmitter_id: unknown;
  transmitter_model: unknown;
  timestamp: unknown;
  rssi: unknown;
  tx_power: unknown;
  ground_truth_distance: unknown;
}

/**
 * Streams the campaign's receptions ordered by (scenario, receiver, transmitter, timestamp):
 * session = scenario, unit = `${scenario}:${exp05PairKey(rx, tx)}`.
 */
export function* loadDp3tExp05(
  dataDir: string,
  options: LoadDp3tExp05Options = {},
): Generator<CampaignRecord> {
  if (!existsSync(dataDir)) {
    throw new ConfigError(`DP-3T exp05 folder not found: ${dataDir}`, "E_INPUT");
  }
  const scenarios = options.scenarios ?? EXP05_SCENARIO_NAMES;
  for (const scenario of scenarios) {
    if (!Object.hasOwn(EXP05_SCENARIOS, scenario)) {
      throw new ConfigError(
        `unknown exp05 scenario "${scenario}" (known: ${EXP05_SCENARIO_NAMES.join(", ")})`,
      );
    }
  }
  const withUnknownDistance = options.withUnknownDistance ?? true;
  for (const scenario of scenarios) {
    yield* loadScenario(dataDir, scenario as Exp05Scenario, withUnknownDistance);
  }
}

function* loadScenario(
  dataDir: string,
  scenario: Exp05Scenario,
  withUnknownDistance: boolean,
): Generator<CampaignRecord> {
  const info = EXP05_SCENARIOS[scenario];
  const path = join(dataDir, info.file);
  if (!existsSync(path)) throw new ConfigError(`DP-3T exp05 file not found: ${path}`, "E_INPUT");
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  try {
    const where = withUnknownDistance ? "" : "WHERE ground_truth_distance >= 0";
    let rows: IterableIterator<unknown>;
    try {
      rows = db
        .prepare(
          "SELECT db_id, receiver_id, receiver_model, transmitter_id, transmitter_model, " +
            `timestamp, rssi, tx_power, ground_truth_distance FROM results ${where} ` +
            "ORDER BY receiver_id, transmitter_id, timestamp, db_id",
        )
        .iterate();
    } catch (error) {
      throw new CodecError(
        `${path}: not an exp05 results table (${(error as Error).message})`,
        undefined,
        "E_CAMPAIGN",
      );
    }
    for (const raw of rows) {
      yield toRecord(raw as ResultRow, path, scenario, info);
    }
  } finally {
    db.close();
  }
}

function toRecord(
  row: ResultRow,
  path: string,
  scenario: Exp05Scenario,
  info: Exp05ScenarioInfo,
): CampaignRecord {
  const fail = (what: string): never => {
    throw new CodecError(
      `${path}: row db_id ${String(row.db_id)}: ${what}`,
      undefined,
      "E_CAMPAIGN",
    );
  };
  const rxId = soldierId(row.receiver_id, row.receiver_model, "receiver", fail);
  const txId = soldierId(row.transmitter_id, row.transmitter_model, "transmitter", fail);
  const { timestamp, rssi, tx_power: txPower, ground_truth_distance: truth } = row;
  if (typeof timestamp !== "number" || !Number.isFinite(timestamp)) {
    fail(`timestamp ${String(timestamp)} is not a number`);
  }
  if (typeof rssi !== "number" || !Number.isFinite(rssi) || rssi < -127 || rssi > 20) {
    fail(`rssi ${String(rssi)} is not a number in [-127, 20] dBm`);
  }
  if (typeof txPower !== "number" || !Number.isFinite(txPower)) {
    fail(`tx_power ${String(txPower)} is not a number`);
  }
  if (truth !== null && (typeof truth !== "number" || Number.isNaN(truth))) {
    fail(`ground_truth_distance ${String(truth)} is neither a number nor NULL`);
  }
  const distanceM = typeof truth === "number" && truth >= 0 ? truth : undefined;
  return {
    campaign: "dp3t-exp05",
    scenario,
    session: scenario,
    unit: `${scenario}:${exp05PairKey(rxId, txId)}`,
    atMs: timestamp as number,
    rxId,
    txId,
    rxModel: EXP05_SOLDIERS[rxId].model,
    txModel: EXP05_SOLDIERS[txId].model,
    rssiDbm: rssi as number,
    txPowerDbm: txPower as number,
    distanceM,
    environment: info.environment,
    rxCarry: info.carry,
    txCarry: info.carry,
  };
}

/** Checks an id column against the soldier table and the model column against the soldier's phone. */
function soldierId(
  id: unknown,
  model: unknown,
  role: string,
  fail: (what: string) => never,
): string {
  if (
    typeof id !== "number" ||
    !Number.isInteger(id) ||
    !Object.hasOwn(EXP05_SOLDIERS, String(id))
  ) {
    fail(`${role}_id ${String(id)} is not a soldier id (1-22)`);
  }
  const soldier = EXP05_SOLDIERS[String(id)];
  if (typeof model !== "string" || calibrationModel(model) !== soldier.model) {
    fail(`${role}_model ${String(model)} is not soldier ${String(id)}'s ${soldier.model}`);
  }
  return String(id);
}

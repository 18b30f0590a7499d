/**
 * The MIT PACT test matrix as campaign records: two people, one phone each, at 3-15 ft, each
 * placement swept through 8 body angles of about 15 s; one phone (BlueProx app) logs the
 * other's "BlueProxTx" advertisements. 13 carry pairs, iPhone 6s to 11 Pro Max.
 *
 * Source: mitll/MIT-Matrix-Data, CC BY 4.0, MIT Lincoln Laboratory; `mit-matrix/` here.
 * Read: `<self>_<partner>/*.txt`, lines `timestamp,key,values…`. Header lines set the state
 * for the lines after them; `Bluetooth,<uuid>,<rssi>,<name>,<tx power>,<iOS time>` lines with
 * the name `BlueProxTx` are the readings.
 *
 * Reading of the files (checked on the data):
 * - The logging phone is the receiver (`receiver, <model>,<name>` or, in the BlueProx 2.0
 *   files of ShirtPocketUP_PurseDOWN, `self_tester`); the sender is `beacon, <x>,<model>`
 *   (`partner_tester`). The folder name is `<receiver carry><screen>_<sender carry><screen>`:
 *   it agrees with `subject`/`beacon_subject` (`self_/partner_on_body_location`) everywhere.
 * - `Range` is in feet (distanceM = ft × 0.3048). One file
 *   (HandDOWN_BackPantsPocketDOWN_6ft_…16.12.42) holds a 6 ft and then a 3 ft sweep, so a
 *   unit is a file and range.
 * - Timestamps are local time without a zone (the ShirtPocketUP_PurseDOWN files write a
 *   "Z" that is wrong): in every file whose last field holds the iOS absolute time it runs
 *   exactly 4 h behind it, so the logs are US Eastern daylight time (UTC-4, May 2020) and
 *   `atMs` adds 4 h. The iPhone 6s files have -1 there; the same offset is assumed.
 * - Each advertising event is logged twice, 0-4 ms apart (165,612 pairs; 71 % with equal
 *   RSSI, most others 1-2 dB apart), against a ~30 ms advertising interval: a reading of the
 *   same uuid within 5 ms of the last one kept is dropped, whatever its RSSI.
 * - RSSI 127 (6,795 readings) means "no value": readings with RSSI ≥ 0 are dropped.
 * - The sender's uuid changes once in 11 files (address rotation); the sender is the same.
 * - The tx-power field is -999 when absent, else 7, 8 or 12 dBm (advertised TX power level).
 * - One file's log clock steps back once; readings are sorted by time within a file.
 * Environment classes (from the `environment` line: room, centre):
 * "hallway" → open-indoor (a corridor); "large room, center open" → open-indoor;
 * "large room, center congested" and "medium room" → office (a furnished room).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CodecError, ConfigError } from "../core/errors.js";
import type { CampaignRecord, CarryPosition, Environment } from "./campaign-record.js";

/** Citation for reports. */
export const MIT_MATRIX_SOURCE = "MIT Lincoln Laboratory, MIT-Matrix-Data (CC BY 4.0)";

/** 1 ft in metres. */
export const METRES_PER_FOOT = 0.3048;
/** The logs' clock is UTC-4 (US Eastern daylight time): add this to read it as UTC. */
export const MIT_MATRIX_CLOCK_TO_UTC_MS = 4 * 3_600_000;
/** A reading of the same uuid this close (ms) to the last one kept is the same advertisement. */
export const MIT_MATRIX_DUPLICATE_WINDOW_MS = 5;

/** Carry positions as the folder names spell them. */
export const MIT_FOLDER_CARRY: Readonly<Record<string, CarryPosition>> = {
  Hand: "hand",
  ShirtPocket: "shirt-pocket",
  FrontPantsPocket: "front-pocket",
  BackPantsPocket: "back-pocket",
  Purse: "bag",
};

/** Carry positions as the header lines spell them. */
const HEADER_CARRY: Readonly<Record<string, CarryPosition>> = {
  "in hand": "hand",
  "shirt pocket": "shirt-pocket",
  "front pants pocket": "front-pocket",
  "rear pants pocket": "back-pocket",
  "in purse": "bag",
};

const FOLDER =
  /^(Hand|ShirtPocket|FrontPantsPocket|BackPantsPocket|Purse)(UP|DOWN)_(Hand|ShirtPocket|FrontPantsPocket|BackPantsPocket|Purse)(UP|DOWN)$/;
const TIMESTAMP = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)\.(\d{3})Z?$/;

/** The environment class of an `environment` line's room and centre ("large room", "center open"). */
export function mitEnvironment(room: string, centre: string): Environment | undefined {
  const r = room.trim().toLowerCase();
  const c = centre.trim().toLowerCase();
  if (r === "hallway") return "open-indoor";
  if (r === "large room") return c === "center congested" ? "office" : "open-indoor";
  if (r === "medium room" || r === "small room") return "office";
  return undefined;
}

interface Reading {
  readonly atMs: number;
  readonly uuid: string;
  readonly rssiDbm: number;
  readonly txPowerDbm: number | undefined;
  readonly rangeFt: number;
  readonly environment: Environment;
  readonly rxCarry: CarryPosition;
  readonly txCarry: CarryPosition;
  readonly rxModel: string;
  readonly txModel: string;
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * Streams every log (`dataDir` is the `mit-matrix` folder): carry-pair folders and files by
 * name, one file in memory at a time, each file one stream in time order. A missing folder or
 * a folder without logs is a `ConfigError`; a malformed reading or header a `CodecError`
 * naming file and line.
 */
export function* loadMitMatrix(dataDir: string): Generator<CampaignRecord> {
  if (!isDirectory(dataDir))
    throw new ConfigError(`the mit-matrix data folder ${dataDir} does not exist`, "E_INPUT");
  const folders = readdirSync(dataDir)
    .filter((name) => FOLDER.test(name) && isDirectory(join(dataDir, name)))
    .sort();
  if (folders.length === 0)
    throw new ConfigError(`${dataDir} has no <self>_<partner> carry-pair folders`, "E_INPUT");
  for (const folder of folders) {
    const files = readdirSync(join(dataDir, folder))
      .filter((name) => name.endsWith(".txt"))
      .sort();
    if (files.length === 0)
      throw new ConfigError(`${join(dataDir, folder)} has no .txt logs`, "E_INPUT");
    for (const file of files) yield* loadLog(join(dataDir, folder, file), folder, file);
  }
}

function* loadLog(path: string, folder: string, file: string): Generator<CampaignRecord> {
  const [, selfCarry, , partnerCarry] = FOLDER.exec(folder)!;
  const lines = readFileSync(path, "utf8").split(/\r?\n/);
  const fail = (lineIndex: number, message: string): never => {
    throw new CodecError(`${path} line ${lineIndex + 1}: ${message}`, undefined, "E_CAMPAIGN");
  };

  let environment: Environment | undefined;
  let rxCarry = MIT_FOLDER_CARRY[selfCarry];
  let txCarry = MIT_FOLDER_CARRY[partnerCarry];
  let rxModel = "";
  let txModel = "";
  let rangeFt: number | undefined;
  const readings: Reading[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    const fields = line.split(",");
    const key = fields[1];
    switch (key) {
      case "environment": {
        environment = mitEnvironment(fields[2] ?? "", fields[3] ?? "");
        if (!environment)
          fail(i, `unknown environment ${JSON.stringify(fields.slice(2).join(","))}`);
        break;
      }
      case "subject":
      case "self_on_body_location":
        rxCarry = HEADER_CARRY[(fields[2] ?? "").trim()] ?? rxCarry;
        break;
      case "beacon_subject":
      case "partner_on_body_location":
        txCarry = HEADER_CARRY[(fields[2] ?? "").trim()] ?? txCarry;
        break;
      case "receiver":
      case "self_tester":
        // `<model>,<device name>`: the OS model comes first.
        rxModel = appleModel(fields[2]);
        break;
      case "beacon":
      case "partner_tester":
        // `<x>,<model>`: the model the tester entered comes second (the first is blank or,
        // in one folder, the receiver's own model).
        txModel = appleModel(fields[3]);
        break;
      case "Range": {
        const ft = Number(fields[2]);
        if ((fields[2] ?? "").trim() === "" || !Number.isFinite(ft) || ft <= 0)
          fail(i, `Range is not a positive number of feet: ${JSON.stringify(fields[2])}`);
        rangeFt = ft;
        break;
      }
      case "Bluetooth": {
        if (fields[4] !== "BlueProxTx") break;
        if (fields.length !== 7) fail(i, `expected 7 fields in a reading, got ${fields.length}`);
        const rssiDbm = Number(fields[3]);
        if (fields[3].trim() === "" || !Number.isInteger(rssiDbm))
          fail(i, `rssi is not a number: ${JSON.stringify(fields[3])}`);
        const txPower = Number(fields[5]);
        if (fields[5].trim() === "" || !Number.isFinite(txPower))
          fail(i, `tx power is not a number: ${JSON.stringify(fields[5])}`);
        const atMs = parseTimestamp(fields[0]);
        if (atMs === undefined) fail(i, `bad timestamp ${JSON.stringify(fields[0])}`);
        if (rangeFt === undefined) fail(i, "a reading before any Range line");
        if (environment === undefined) fail(i, "a reading before any environment line");
        if (rssiDbm >= 0) break;
        readings.push({
          atMs: atMs!,
          uuid: fields[2],
          rssiDbm,
          txPowerDbm: txPower === -999 ? undefined : txPower,
          rangeFt: rangeFt!,
          environment: environment!,
          rxCarry,
          txCarry,
          rxModel,
          txModel,
        });
        break;
      }
    }
  }

  readings.sort((a, b) => a.atMs - b.atMs);
  const session = `${folder}/${file}`;
  const lastKeptMs = new Map<string, number>();
  for (const r of readings) {
    const last = lastKeptMs.get(r.uuid);
    if (last !== undefined && r.atMs - last <= MIT_MATRIX_DUPLICATE_WINDOW_MS) continue;
    lastKeptMs.set(r.uuid, r.atMs);
    const record: CampaignRecord = {
      campaign: "mit-matrix",
      scenario: folder,
      session,
      unit: `${session}@${r.rangeFt}ft`,
      atMs: r.atMs,
      rxId: `receiver:${r.rxModel.replace(/^Apple /, "")}`,
      txId: `beacon:${r.txModel.replace(/^Apple /, "")}`,
      rxModel: r.rxModel,
      txModel: r.txModel,
      rssiDbm: r.rssiDbm,
      distanceM: r.rangeFt * METRES_PER_FOOT,
      environment: r.environment,
      rxCarry: r.rxCarry,
      txCarry: r.txCarry,
    };
    yield r.txPowerDbm === undefined ? record : { ...record, txPowerDbm: r.txPowerDbm };
  }
}

/** "iPhone 11 Pro Max" -> "Apple iPhone 11 Pro Max"; blank -> "". */
function appleModel(field: string | undefined): string {
  const model = (field ?? "").trim();
  if (model === "") return "";
  return /^(iPhone|iPad|iPod)/.test(model) ? `Apple ${model}` : model;
}

/** A log timestamp ("2020-05-11 12:40:06.155", local) as Unix ms, or undefined. */
function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number);
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) + MIT_MATRIX_CLOCK_TO_UTC_MS;
}

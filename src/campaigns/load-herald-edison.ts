/**
 * The Herald project's robot rig as campaign records: two phones on a cable-car rig moved
 * through fixed distances (0-300 cm, about 30 min per position), each logging
 * `time,rssi,distance(cm)` of the other's advertisements. One file is one receiver's recording
 * of one sender: one stream. Test 5 (20210104-1422) goes through the distances twice and ends
 * with 7 h 20 min at 0 cm; both passes at one distance are one unit, as in the evaluation.
 *
 * Source: theheraldproject/herald-analysis, `reference-data/rssi-raw-edison` (tests 5, 7, 8;
 * `herald-edison/` here), Apache-2.0. Parsing (`RssiCsvReader`), the phone table and the
 * metadata pairing are `herald-edison-files.ts`'s.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CodecError, ConfigError } from "../core/errors.js";
import {
  HERALD_EDISON_TEST_FILES,
  HERALD_EDISON_TRAIN_FILES,
  HERALD_PHONE_DEVICES,
  phonePairs,
} from "./herald-edison-files.js";
import { RssiCsvReader } from "../signal/rssi-csv.js";
import type { CampaignRecord } from "./campaign-record.js";

/** The six recordings read, in order: test 5 (A, B), test 7, test 8. */
export const HERALD_EDISON_FILES: readonly string[] = [
  ...HERALD_EDISON_TRAIN_FILES,
  ...HERALD_EDISON_TEST_FILES,
];

/**
 * Streams the rig's six recordings file by file, rows in file (time) order. `session` is the
 * file, `scenario` its test ("20210104-1422"), `unit` `<file>:<distance m>`; rxId and txId are
 * the rig's phone names ("P2"), models calibration-table names. A missing folder, file or
 * metadata entry is a `ConfigError`; a malformed row a `CodecError` naming the file and line.
 */
export function* loadHeraldEdison(dataDir: string): Generator<CampaignRecord> {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory())
    throw new ConfigError(`the herald-edison data folder ${dataDir} does not exist`, "E_INPUT");
  const pairs = phonePairs(dataDir);
  const device = (phone: string) => HERALD_PHONE_DEVICES[phone] ?? phone;
  for (const file of HERALD_EDISON_FILES) {
    const pair = pairs.get(file);
    if (!pair)
      throw new ConfigError(`${file} is not listed in ${join(dataDir, "metadata.csv")}`, "E_INPUT");
    const path = join(dataDir, file);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new ConfigError(
        `cannot read the recording ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        "E_INPUT",
      );
    }
    const scenario = file.replace(/-[AB]\.csv$/i, "");
    const rxModel = device(pair.rx);
    const txModel = device(pair.tx);
    const reader = new RssiCsvReader(`herald-edison/${file}`, { withDistance: true });
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      let row: ReturnType<RssiCsvReader["row"]>;
      try {
        if (i === 0) {
          reader.header(lines[0]);
          continue;
        }
        row = reader.row(lines[i], i + 1);
      } catch (error) {
        if (error instanceof CodecError)
          throw new CodecError(error.message, undefined, "E_CAMPAIGN");
        throw error;
      }
      if (!row) continue;
      yield {
        campaign: "herald-edison",
        scenario,
        session: file,
        unit: `${file}:${row.distanceM}`,
        atMs: row.atMs,
        rxId: pair.rx,
        txId: pair.tx,
        rxModel,
        txModel,
        rssiDbm: row.rssiDbm,
        distanceM: row.distanceM,
        environment: "rig",
        rxCarry: "mount",
        txCarry: "mount",
      };
    }
  }
}

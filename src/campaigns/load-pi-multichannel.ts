/**
 * The multi-channel campaign as campaign records: a Raspberry Pi 4 receives the BLE
 * advertisements (and Wi-Fi probe requests, not read here) of an iPhone 6s, a OnePlus Nord
 * N10 5G and a second Pi at fixed distances of 0.45-6 m, in an office, a bus, a train and an
 * empty parking lot.
 *
 * Source: elanfer/multi-channel-paper-data (E. Lanfer, T. Hänel, R. van Rijswijk-Deij,
 * N. Aschenbruck, IEEE LCN 2022), CC BY-SA 4.0; `pi-multichannel/` here. Read:
 * `data/<env>/<setting>/<sender>.csv` (bus, office; setting `measurement_section`: one sender
 * at a time, `scenarios`: all three at once) and `data/<env>/<sender>.csv` (parking, train:
 * no setting given), columns `distance,rssiBLE,rssi24,freq24,rssi5,freq5,y`.
 *
 * Reading of the files (checked on the data):
 * - `distance` is in cm; `rssiBLE` in dBm; 0 marks a missing value (it does in the Wi-Fi
 *   columns; no BLE value is missing): rows with an empty or non-negative BLE RSSI are skipped.
 * - The files have no timestamps and the README gives no rate (the thesis's timestamped
 *   exports show irregular scans, seconds to tens of seconds apart): `atMs` is the row's index
 *   in its table × `PI_MULTICHANNEL_ROW_INTERVAL_MS` (1000 ms), an order, not a clock.
 * - `office/scenarios/OnePlus.csv` holds a second table after row 683, with the header
 *   `y,rssi,freq24,rssi5,freq5,distance,` and no Wi-Fi 2.4 GHz RSSI. Its `rssi` is the BLE
 *   RSSI: per distance its mean is within 1.3 dB of the first table's `rssiBLE` (the 2.4 GHz
 *   means differ by 20-40 dB). Its rows are a different recording (no common run longer than
 *   2 rows), so it is read as a second session, `office/scenarios/OnePlus#2`, sharing the first
 *   table's units (the same placements).
 * - Each file's distances form contiguous blocks: a block is one placement (unit).
 * - Carry: the receiving Pi and the sending Pi are `mount`; how the phones were held is not
 *   documented (`unknown`).
 * - The OnePlus Nord N10 5G (late 2020) is not in the 2020-06-13 GAEN calibration table.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CodecError, ConfigError } from "../core/errors.js";
import type { CampaignRecord, CarryPosition, Environment } from "./campaign-record.js";

/** Citation for reports. */
export const PI_MULTICHANNEL_SOURCE =
  "E. Lanfer et al., elanfer/multi-channel-paper-data (CC BY-SA 4.0)";

/** Nominal time between rows: the files carry no clock. */
export const PI_MULTICHANNEL_ROW_INTERVAL_MS = 1000;

/** The receiver of every file. */
export const PI_MULTICHANNEL_RECEIVER = { id: "receiver-pi", model: "Raspberry Pi 4" } as const;

/** Sender file names as devices. */
export const PI_MULTICHANNEL_SENDERS: Readonly<
  Record<string, { readonly model: string; readonly carry: CarryPosition }>
> = {
  iPhone: { model: "Apple iPhone 6s", carry: "unknown" },
  OnePlus: { model: "OnePlus Nord N10 5G", carry: "unknown" },
  Pi: { model: "Raspberry Pi 4", carry: "mount" },
};

/** Environment folders as environment classes. */
export const PI_MULTICHANNEL_ENVIRONMENTS: Readonly<Record<string, Environment>> = {
  office: "office",
  bus: "vehicle",
  train: "vehicle",
  parking: "outdoor",
};

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The CSV files of a folder, sorted. */
function csvFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".csv"))
    .sort();
}

/**
 * Streams every file (`dataDir` is the `pi-multichannel` folder): environments, settings and
 * senders by name, each table one stream in row order. A missing folder or an unknown
 * environment folder is a `ConfigError`; a malformed row a `CodecError` naming file and line.
 */
export function* loadPiMultichannel(dataDir: string): Generator<CampaignRecord> {
  const root = join(dataDir, "data");
  if (!isDirectory(root))
    throw new ConfigError(`the pi-multichannel data folder ${root} does not exist`, "E_INPUT");
  const envs = readdirSync(root)
    .filter((name) => isDirectory(join(root, name)))
    .sort();
  if (envs.length === 0) throw new ConfigError(`${root} has no environment folders`, "E_INPUT");
  for (const env of envs) {
    const environment = PI_MULTICHANNEL_ENVIRONMENTS[env];
    if (!environment)
      throw new ConfigError(
        `unknown pi-multichannel environment folder ${join(root, env)} (known: ${Object.keys(PI_MULTICHANNEL_ENVIRONMENTS).join(", ")})`,
        "E_INPUT",
      );
    const envDir = join(root, env);
    for (const file of csvFiles(envDir))
      yield* loadFile(join(envDir, file), env, environment, file);
    const settings = readdirSync(envDir)
      .filter((name) => isDirectory(join(envDir, name)))
      .sort();
    for (const setting of settings) {
      const dir = join(envDir, setting);
      for (const file of csvFiles(dir))
        yield* loadFile(join(dir, file), `${env}/${setting}`, environment, file);
    }
  }
}

/** Column positions of one table. */
interface Layout {
  readonly distance: number;
  readonly rssiBle: number;
  readonly width: number;
}

/** The layout a header line gives, or undefined when the line is not a header. */
function layoutOf(fields: readonly string[]): Layout | undefined {
  const names = fields.map((f) => f.trim());
  const distance = names.indexOf("distance");
  if (distance < 0) return undefined;
  // The second table of office/scenarios/OnePlus.csv calls the BLE RSSI "rssi" (see above).
  let rssiBle = names.indexOf("rssiBLE");
  if (rssiBle < 0 && !names.includes("rssi24")) rssiBle = names.indexOf("rssi");
  return { distance, rssiBle, width: fields.length };
}

function* loadFile(
  path: string,
  scenario: string,
  environment: Environment,
  file: string,
): Generator<CampaignRecord> {
  const sender = file.replace(/\.csv$/, "");
  const device = PI_MULTICHANNEL_SENDERS[sender] ?? { model: "", carry: "unknown" };
  const lines = readFileSync(path, "utf8")
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/);
  const fail = (lineIndex: number, message: string): never => {
    throw new CodecError(`${path} line ${lineIndex + 1}: ${message}`, undefined, "E_CAMPAIGN");
  };
  let layout: Layout | undefined;
  let table = 0;
  let row = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    const fields = line.split(",");
    const header = layoutOf(fields);
    if (header) {
      if (header.rssiBle < 0)
        fail(i, `a header without a BLE RSSI column: ${JSON.stringify(line)}`);
      layout = header;
      table++;
      row = 0;
      continue;
    }
    if (!layout)
      fail(
        i,
        `expected a header with "distance" and "rssiBLE", got ${JSON.stringify(line.slice(0, 80))}`,
      );
    if (fields.length !== layout!.width)
      fail(i, `expected ${layout!.width} fields, got ${fields.length}`);
    const distText = fields[layout!.distance];
    const distanceCm = Number(distText);
    if (distText.trim() === "" || !Number.isFinite(distanceCm) || distanceCm <= 0)
      fail(i, `distance is not a positive number of cm: ${JSON.stringify(distText)}`);
    const rssiText = fields[layout!.rssiBle].trim();
    const rssiDbm = Number(rssiText);
    if (rssiText !== "" && !Number.isFinite(rssiDbm))
      fail(i, `rssiBLE is not a number: ${JSON.stringify(rssiText)}`);
    const atMs = row * PI_MULTICHANNEL_ROW_INTERVAL_MS;
    row++;
    if (rssiText === "" || rssiDbm >= 0) continue;
    const session = table === 1 ? `${scenario}/${sender}` : `${scenario}/${sender}#${table}`;
    yield {
      campaign: "pi-multichannel",
      scenario,
      session,
      // Both tables of a file measured the same placements: they share the unit.
      unit: `${scenario}/${sender}@${distanceCm}cm`,
      atMs,
      rxId: PI_MULTICHANNEL_RECEIVER.id,
      txId: sender,
      rxModel: PI_MULTICHANNEL_RECEIVER.model,
      txModel: device.model,
      rssiDbm,
      distanceM: distanceCm / 100,
      environment,
      rxCarry: "mount",
      txCarry: device.carry,
    };
  }
  if (table === 0) fail(0, "the file has no header");
}

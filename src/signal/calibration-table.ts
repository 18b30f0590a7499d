/**
 * The GAEN device calibration table (Google's "EN Calibration <date>.csv": oem, model, RSSI
 * correction, TX power as an iPhone would report it, has direct measurement) and the
 * attenuation it feeds (docs/protocols.md, Attenuation and exposure windows):
 * `attenuation = TX power - (RSSI + rssiCorrection)`, RSSI clamped to [-127, 126], the result
 * clamped at 0.
 *
 * Sources: https://developers.google.com/android/exposure-notifications/ble-attenuation-overview
 * and .../ble-attenuation-computation (how the corrections are measured; iPhone is the
 * reference receiver and transmitter).
 */
import { CodecError } from "../core/errors.js";
import { INPUT_LIMITS, readInputFile } from "../io/read-input-file.js";

/** How a device name was resolved. */
export type CalibrationMatch =
  /** The OEM and model (or the model alone) are in the table. */
  | "model"
  /** The model is unknown but the OEM is: the OEM's default (see `lookup`). */
  | "oem-default"
  /** An Apple device: the table's reference receiver (correction 0 dB). */
  | "apple-reference"
  /** Nothing matched: the table-wide default. */
  | "default";

/** Per-device calibration values, as the GAEN framework applies them. */
export interface DeviceCalibration {
  /** Added to the measured RSSI ("android rssi + rssi correction = iphone rssi"). */
  readonly rssiCorrectionDb: number;
  /** The TX power this device's advertisements carry, as an iPhone would report it. */
  readonly txPowerDbm: number;
  /** True when Google measured this model directly (the table's last column). */
  readonly measured: boolean;
}

/** A table row. */
export interface CalibrationRow extends DeviceCalibration {
  readonly oem: string;
  readonly model: string;
}

/** The result of a lookup: the values and how they were found. */
export interface CalibrationLookup extends DeviceCalibration {
  readonly match: CalibrationMatch;
  /** The row used, when one was ("Samsung SM-G960F"). */
  readonly device?: string;
}

/** RSSI is clamped to this range before the attenuation is computed (docs/protocols.md). */
export const RSSI_MIN_DBM = -127;
export const RSSI_MAX_DBM = 126;

/**
 * Default for a device neither the table nor its OEM knows: the medians over all 9,896 rows of
 * the 2020-06-13 table (RSSI correction -5 dB, TX -24 dBm). Google's documentation publishes
 * no default for unlisted devices; -24 dBm is also the TX power proxkit advertises by default
 * (`GAEN_DEFAULT_TX_POWER_DBM`).
 */
export const DEFAULT_DEVICE_CALIBRATION: DeviceCalibration = {
  rssiCorrectionDb: -5,
  txPowerDbm: -24,
  measured: false,
};

/**
 * GAEN attenuation in dB: `txPowerDbm - (rssiDbm + rssiCorrectionDb)`, with the RSSI clamped
 * to [-127, 126] and the attenuation clamped at 0 (docs/protocols.md, Attenuation and exposure
 * windows).
 */
export function attenuationDb(
  txPowerDbm: number,
  rssiDbm: number,
  rssiCorrectionDb: number,
): number {
  const clampedRssi = Math.min(RSSI_MAX_DBM, Math.max(RSSI_MIN_DBM, rssiDbm));
  return Math.max(0, txPowerDbm - (clampedRssi + rssiCorrectionDb));
}

/** Splits one CSV line into fields (RFC 4180 quoting: `"a,b"`, `""` for a quote). */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** Lower case, single spaces, no stray quotes: how names are compared. */
function normalize(name: string): string {
  return name.replace(/"/g, "").trim().replace(/\s+/g, " ").toLowerCase();
}

/** Only letters and digits: "SM G960F", "sm-g960f" and "SMG960F" meet here. */
function compact(name: string): string {
  return normalize(name).replace(/[^a-z0-9]/g, "");
}

/**
 * Parses the calibration CSV. The header must have the five columns in the published order
 * (their names are long sentences, so only the first two are checked); `where` names the
 * source in errors.
 */
export function parseCalibrationCsv(text: string, where = "calibration table"): CalibrationTable {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? "").map(normalize);
  if (header.length < 5 || header[0] !== "oem" || header[1] !== "model") {
    throw new CodecError(
      `${where}: expected the header "oem,model,rssi correction,tx,has direct measurement", got ${JSON.stringify(lines[0]?.slice(0, 80) ?? "")}`,
      undefined,
      "E_CALIBRATION",
    );
  }
  const rows: CalibrationRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    const fields = splitCsvLine(lines[i]);
    if (fields.length < 5) {
      throw new CodecError(
        `${where} line ${i + 1}: expected 5 fields, got ${fields.length}`,
        undefined,
        "E_CALIBRATION",
      );
    }
    const correction = Number(fields[2]);
    const tx = Number(fields[3]);
    if (
      fields[2].trim() === "" ||
      !Number.isFinite(correction) ||
      fields[3].trim() === "" ||
      !Number.isFinite(tx)
    ) {
      throw new CodecError(
        `${where} line ${i + 1}: RSSI correction and TX power must be numbers, got ${JSON.stringify(fields[2])} and ${JSON.stringify(fields[3])}`,
        undefined,
        "E_CALIBRATION",
      );
    }
    rows.push({
      oem: fields[0].trim(),
      model: fields[1].replace(/"/g, "").trim(),
      rssiCorrectionDb: correction,
      txPowerDbm: tx,
      measured: normalize(fields[4]) === "yes",
    });
  }
  if (rows.length === 0)
    throw new CodecError(`${where}: no devices in the table`, undefined, "E_CALIBRATION");
  return new CalibrationTable(rows);
}

/** Reads and parses the calibration CSV at `path` (at most 64 MB; the GAEN one is 270 KB). */
export function loadCalibrationTable(path: string): CalibrationTable {
  const text = readInputFile(path, {
    what: "the calibration table",
    maxBytes: INPUT_LIMITS.tableBytes,
    code: "E_CALIBRATION_FILE",
  });
  return parseCalibrationCsv(text, path);
}

/** The most common (correction, TX) pair among `rows`, preferring rows without measurement. */
function oemDefault(rows: readonly CalibrationRow[]): DeviceCalibration {
  const pool = rows.some((r) => !r.measured) ? rows.filter((r) => !r.measured) : rows;
  const counts = new Map<string, { n: number; row: CalibrationRow }>();
  for (const row of pool) {
    const key = `${row.rssiCorrectionDb},${row.txPowerDbm}`;
    const entry = counts.get(key);
    if (entry) entry.n++;
    else counts.set(key, { n: 1, row });
  }
  let best = pool[0];
  let bestN = 0;
  for (const { n, row } of counts.values()) {
    if (n > bestN) {
      bestN = n;
      best = row;
    }
  }
  return { rssiCorrectionDb: best.rssiCorrectionDb, txPowerDbm: best.txPowerDbm, measured: false };
}

/**
 * Device calibrations by name. `lookup` accepts "OEM model" or the model alone, in any case
 * and spacing, with or without punctuation ("Samsung SM-G960F", "samsung  sm-g960f",
 * "SM-G960F", "Google Pixel 3", "Pixel 3").
 */
export class CalibrationTable {
  readonly rows: readonly CalibrationRow[];
  private readonly byName = new Map<string, CalibrationRow>();
  private readonly byCompactName = new Map<string, CalibrationRow>();
  private readonly oemDefaults = new Map<string, DeviceCalibration>();

  constructor(rows: readonly CalibrationRow[]) {
    this.rows = rows;
    const byOem = new Map<string, CalibrationRow[]>();
    for (const row of rows) {
      const oem = normalize(row.oem);
      const model = normalize(row.model);
      // Models that already start with the OEM ("Google Pixel Slate") are indexed as they are.
      const names = model.startsWith(`${oem} `)
        ? [model, model.slice(oem.length + 1)]
        : [`${oem} ${model}`, model];
      for (const name of names) this.index(name, row);
      const list = byOem.get(oem);
      if (list) list.push(row);
      else byOem.set(oem, [row]);
    }
    for (const [oem, list] of byOem) this.oemDefaults.set(oem, oemDefault(list));
  }

  /** The first row wins a name, unless a later one was measured directly and it was not. */
  private index(name: string, row: CalibrationRow): void {
    for (const [map, key] of [
      [this.byName, name],
      [this.byCompactName, compact(name)],
    ] as const) {
      const existing = map.get(key);
      if (!existing || (!existing.measured && row.measured)) map.set(key, row);
    }
  }

  /** The row for `name`, or `undefined` when the table does not list it. */
  find(name: string): CalibrationRow | undefined {
    const normalized = normalize(name);
    return this.byName.get(normalized) ?? this.byCompactName.get(compact(normalized));
  }

  /**
   * The calibration of `name`. Unknown models fall back, in order, to:
   * - Apple devices: correction 0 dB (the iPhone is the table's reference receiver) and the
   *   default TX power (the table lists no Apple device);
   * - a known OEM: its most common values among its rows without a direct measurement, which
   *   is how the table itself fills unmeasured models (e.g. Samsung -3 dB, -24 dBm);
   * - otherwise `DEFAULT_DEVICE_CALIBRATION` (the table-wide medians).
   */
  lookup(name: string): CalibrationLookup {
    const row = this.find(name);
    if (row) {
      return {
        rssiCorrectionDb: row.rssiCorrectionDb,
        txPowerDbm: row.txPowerDbm,
        measured: row.measured,
        match: "model",
        device: `${row.oem} ${row.model}`,
      };
    }
    const normalized = normalize(name);
    if (/^(apple|iphone|ipad|ipod)\b/.test(normalized)) {
      return { ...DEFAULT_DEVICE_CALIBRATION, rssiCorrectionDb: 0, match: "apple-reference" };
    }
    let oem: DeviceCalibration | undefined;
    let oemLength = 0;
    for (const [name, values] of this.oemDefaults) {
      const isPrefix = normalized === name || normalized.startsWith(`${name} `);
      if (isPrefix && name.length > oemLength) {
        oem = values;
        oemLength = name.length;
      }
    }
    if (oem) return { ...oem, match: "oem-default" };
    return { ...DEFAULT_DEVICE_CALIBRATION, match: "default" };
  }
}

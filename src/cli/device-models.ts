/**
 * `--rx-model` / `--tx-model` / `--calibration`: looking phones up in Google's GAEN calibration
 * table, shared by the commands that turn RSSI into attenuation (`distance`, `match`).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../core/errors.js";
import { repoRoot } from "../io/data-root.js";
import {
  type CalibrationLookup,
  type CalibrationTable,
  DEFAULT_DEVICE_CALIBRATION,
  type DeviceCalibration,
  loadCalibrationTable,
} from "../signal/calibration-table.js";
import { deviceOffsets } from "../signal/device-offsets.js";

/** Where the calibration table lives next to a checkout: `<repo>/../shared/data/gaen/`. */
const CALIBRATION_FROM_REPO = ["..", "shared", "data", "gaen", "en-calibration-2020-06-13.csv"];

/** The default `--calibration`: the GAEN table beside the repository, when it is there. */
export function defaultCalibrationPath(): string | undefined {
  const root = repoRoot();
  const path = root === undefined ? undefined : resolve(root, ...CALIBRATION_FROM_REPO);
  return path !== undefined && existsSync(path) ? path : undefined;
}

/** The help text of `--calibration`. */
export const CALIBRATION_OPTION_HELP =
  "Google's GAEN calibration CSV, for --rx-model/--tx-model [default: ../shared/data/gaen/en-calibration-2020-06-13.csv beside the repository, if there]";

function describeFallback(
  option: string,
  name: string,
  found: CalibrationLookup,
): string | undefined {
  if (found.match === "model") return undefined;
  const values = `correction ${found.rssiCorrectionDb} dB, TX ${found.txPowerDbm} dBm`;
  if (found.match === "apple-reference")
    return `${option} "${name}": an Apple device, the table's reference (${values})`;
  if (found.match === "oem-default")
    return `${option} "${name}" is not in the calibration table; using its maker's usual values (${values})`;
  return `${option} "${name}" is not in the calibration table; using the table-wide default (${values})`;
}

export interface DeviceModelOptions {
  readonly rxModel?: string;
  readonly txModel?: string;
  /** The GAEN calibration table; default `findCalibration()`. */
  readonly calibration?: string;
  /** Where to look for the table when `calibration` is not given. Default `defaultCalibrationPath`. */
  readonly findCalibration?: () => string | undefined;
}

/**
 * The receiving and transmitting phones' calibration: the table's row for each model given,
 * the neutral default for each model not given, and each model's anechoic offsets
 * (`deviceOffsets`; 0 for a model the chamber did not have). `warn` gets a note when a model falls back to
 * its maker's or the table-wide values.
 */
export function resolveDeviceModels(
  options: DeviceModelOptions,
  warn: (text: string) => void,
): { rx: DeviceCalibration; tx: DeviceCalibration; rxOffsetDb: number; txOffsetDb: number } {
  const models = [
    ["--rx-model", options.rxModel],
    ["--tx-model", options.txModel],
  ] as const;
  let table: CalibrationTable | undefined;
  if (options.rxModel !== undefined || options.txModel !== undefined) {
    const path = options.calibration ?? (options.findCalibration ?? defaultCalibrationPath)();
    if (path === undefined)
      throw new ConfigError(
        "--rx-model and --tx-model are looked up in Google's GAEN calibration table (en-calibration-<date>.csv): pass it with --calibration FILE",
        "E_CALIBRATION_FILE",
      );
    table = loadCalibrationTable(path);
  } else if (options.calibration !== undefined) table = loadCalibrationTable(options.calibration);
  const [rx, tx] = models.map(([option, model]) => {
    if (model === undefined || table === undefined) return DEFAULT_DEVICE_CALIBRATION;
    const found = table.lookup(model);
    const note = describeFallback(option, model, found);
    if (note) warn(note);
    return found;
  });
  // The anechoic refinement on top of the table, for the models the chamber measured.
  const rxOffsetDb =
    options.rxModel === undefined ? 0 : (deviceOffsets(options.rxModel)?.rxOffsetDb ?? 0);
  const txOffsetDb =
    options.txModel === undefined ? 0 : (deviceOffsets(options.txModel)?.txOffsetDb ?? 0);
  return { rx, tx, rxOffsetDb, txOffsetDb };
}

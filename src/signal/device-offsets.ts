/**
 * Per-device-model RX and TX offsets on top of Google's calibration table, fitted on the
 * DP-3T anechoic pairs (DP-3T/bt-measurements exp25/27/28/29, 1 m, no multipath; CC BY-ND 4.0,
 * EPFL and ETH Zurich) by `scripts/fit-device-offsets.ts` (model: research/fit-device-offsets.ts).
 * Offsets are relative to the mean device of that data, shrunk towards 0, and apply as
 * `attenuation = (txPower + txOffsetDb) - (rssi + rssiCorrection - rxOffsetDb)`.
 */
import fitted from "./device-offsets.json" with { type: "json" };

export interface DeviceOffsetDb {
  /** Subtract from the table-corrected RSSI the model reports as a receiver, dB. */
  readonly rxOffsetDb: number;
  /** Add to the model's table TX power as a sender, dB. */
  readonly txOffsetDb: number;
}

/** Only letters and digits, lower case: "Samsung SM-G973F", "samsung  sm-g973f" meet here. */
function compact(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

const OFFSETS = new Map<string, DeviceOffsetDb>();
for (const [name, d] of Object.entries(
  fitted.devices as Record<string, { rxOffsetDb: number; txOffsetDb: number }>,
)) {
  const offset = { rxOffsetDb: d.rxOffsetDb, txOffsetDb: d.txOffsetDb };
  OFFSETS.set(compact(name), offset);
  // The model without its OEM ("SM-G973F", "iPhone 11", "Pixel 4"), as the table accepts it.
  const space = name.indexOf(" ");
  if (space > 0 && !OFFSETS.has(compact(name.slice(space + 1))))
    OFFSETS.set(compact(name.slice(space + 1)), offset);
}

/**
 * The fitted offsets of `model` (a calibration-table name, in any case and spacing, with or
 * without the OEM), or `undefined` for a model the anechoic data did not have.
 */
export function deviceOffsets(model: string): DeviceOffsetDb | undefined {
  return OFFSETS.get(compact(model));
}

/**
 * Per-device-model RX and TX offsets on top of Google's calibration table, fitted on
 * measurements at one known distance without multipath (the DP-3T anechoic pairs, 1 m).
 *
 * Model, for each directed pair placement p (receiver model rx, sender model tx):
 *
 *   y_p = median(rssi) + rssiCorrection_table(rx) - txPower_table(tx)
 *       = -A + rxOffset(rx) + txOffset(tx) + noise
 *
 * so y_p is minus the GAEN attenuation, A the attenuation at the distance for the mean device
 * pair. One median per placement and direction, so that a long placement (or a chatty
 * receiver) weighs as much as a short one. Offsets are shrunk to 0 by a ridge penalty
 * λ·Σ offset² (`DEVICE_OFFSET_RIDGE_LAMBDA`), and sum to 0 over the models seen in each role
 * (offsets relative to the mean device; A absorbs the mean). Applying them:
 * attenuation = (txPower + txOffset) - (rssi + rssiCorrection - rxOffset).
 */
import type { DeviceCalibration } from "../src/signal/calibration-table.js";
import { median } from "../src/signal/distance/fit-points.js";
import type { CampaignRecord } from "../src/campaigns/campaign-record.js";

/**
 * The ridge penalty per dB² of offset, in units of one pair placement's squared error: λ
 * counts as λ extra placements at 0 dB, so a model seen in n placements keeps n / (n + λ) of
 * its raw offset (2 placements: 95 %). Chosen on the anechoic data by leaving each placement
 * out of its own fit (SD of the held-out residuals, λ = 0 / 0.05 / 0.1 / 0.25 / 0.5 / 1:
 * 4.24 / 4.16 / 4.12 / 4.16 / 4.47 / 5.20 dB): the offsets are large (senders: Apple +8 to
 * +15 dB, Android -5 to -12 dB; the table lists no Apple device) and a strong pull to 0 costs more than the
 * noise it removes.
 */
export const DEVICE_OFFSET_RIDGE_LAMBDA = 0.1;

export interface DeviceOffset {
  /** Subtract from the table-corrected RSSI this model reports as a receiver. */
  readonly rxOffsetDb: number;
  /** Add to the table TX power of this model as a sender. */
  readonly txOffsetDb: number;
  /** Pair placements (directed) the model took part in, as receiver and as sender. */
  readonly rxPairs: number;
  readonly txPairs: number;
}

/** One directed pair placement's median and what the fit leaves of it. */
export interface PairValue {
  readonly unit: string;
  readonly rxModel: string;
  readonly txModel: string;
  readonly samples: number;
  /** median(rssi) + rssiCorrection(rx) - txPower(tx), dB: minus the GAEN attenuation. */
  readonly calibratedRssiDb: number;
  /** calibratedRssiDb + A - rxOffset - txOffset. */
  readonly residualDb: number;
}

export interface DeviceOffsetFit {
  /** A: the attenuation at the fitted distance between mean devices, dB. */
  readonly attenuationDb: number;
  readonly devices: Readonly<Record<string, DeviceOffset>>;
  readonly pairs: readonly PairValue[];
  /** Standard deviation across pair placements, dB: of the median RSSI, of the table-calibrated RSSI, and after the offsets. */
  readonly spreadRawDb: number;
  readonly spreadBeforeDb: number;
  readonly spreadAfterDb: number;
}

export interface FitDeviceOffsetsOptions {
  /** Only records at this true distance are used, m [1]. */
  readonly distanceM?: number;
  /** Ridge penalty [`DEVICE_OFFSET_RIDGE_LAMBDA`]. */
  readonly lambda?: number;
}

/** Sample standard deviation (n - 1). */
export function standardDeviation(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
}

/** Solves `a x = b` in place by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (Math.abs(a[pivot][col]) < 1e-12) throw new Error("device offset fit: singular system");
    [a[col], a[pivot]] = [a[pivot], a[col]];
    [b[col], b[pivot]] = [b[pivot], b[col]];
    for (let r = col + 1; r < n; r++) {
      const f = a[r][col] / a[col][col];
      if (f === 0) continue;
      for (let c = col; c < n; c++) a[r][c] -= f * a[col][c];
      b[r] -= f * b[col];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r];
    for (let c = r + 1; c < n; c++) s -= a[r][c] * x[c];
    x[r] = s / a[r][r];
  }
  return x;
}

/**
 * Fits the offsets (see the file comment) on `records`, using only those at `distanceM`;
 * `calibration` gives the table's values for a model name. Throws when no record is at that
 * distance.
 */
export function fitDeviceOffsets(
  records: Iterable<CampaignRecord>,
  calibration: (model: string) => Pick<DeviceCalibration, "rssiCorrectionDb" | "txPowerDbm">,
  options: FitDeviceOffsetsOptions = {},
): DeviceOffsetFit {
  const distanceM = options.distanceM ?? 1;
  const lambda = options.lambda ?? DEVICE_OFFSET_RIDGE_LAMBDA;
  const groups = new Map<string, { unit: string; rx: string; tx: string; rssis: number[] }>();
  for (const r of records) {
    if (r.distanceM === undefined || Math.abs(r.distanceM - distanceM) > 1e-9) continue;
    const key = `${r.unit}\u0000${r.rxId}\u0000${r.txId}\u0000${r.rxModel}\u0000${r.txModel}`;
    let group = groups.get(key);
    if (!group) {
      group = { unit: r.unit, rx: r.rxModel, tx: r.txModel, rssis: [] };
      groups.set(key, group);
    }
    group.rssis.push(r.rssiDbm);
  }
  if (groups.size === 0) throw new Error(`device offset fit: no record at ${distanceM} m`);

  const values = [...groups.values()].map((g) => {
    const rx = calibration(g.rx);
    const tx = calibration(g.tx);
    const rssiDbm = median(g.rssis);
    return { ...g, rssiDbm, y: rssiDbm + rx.rssiCorrectionDb - tx.txPowerDbm };
  });
  const receivers = [...new Set(values.map((v) => v.rx))].sort();
  const senders = [...new Set(values.map((v) => v.tx))].sort();
  // Unknowns: [c, rx offsets…, tx offsets…], then one Lagrange multiplier per constraint.
  const nr = receivers.length;
  const np = 1 + nr + senders.length;
  const n = np + 2;
  const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const b = new Array<number>(n).fill(0);
  const columns = (v: (typeof values)[number]) => [
    0,
    1 + receivers.indexOf(v.rx),
    1 + nr + senders.indexOf(v.tx),
  ];
  for (const v of values) {
    const cols = columns(v);
    for (const i of cols) {
      b[i] += v.y;
      for (const j of cols) a[i][j] += 1;
    }
  }
  for (let i = 1; i < np; i++) a[i][i] += lambda;
  for (let i = 1; i <= nr; i++) a[np][i] = a[i][np] = 1;
  for (let i = nr + 1; i < np; i++) a[np + 1][i] = a[i][np + 1] = 1;
  const x = solve(a, b);

  const rxOffset = (m: string) => (receivers.includes(m) ? x[1 + receivers.indexOf(m)] : 0);
  const txOffset = (m: string) => (senders.includes(m) ? x[1 + nr + senders.indexOf(m)] : 0);
  const devices: Record<string, DeviceOffset> = {};
  for (const model of [...new Set([...receivers, ...senders])].sort()) {
    devices[model] = {
      rxOffsetDb: rxOffset(model),
      txOffsetDb: txOffset(model),
      rxPairs: values.filter((v) => v.rx === model).length,
      txPairs: values.filter((v) => v.tx === model).length,
    };
  }
  const pairs: PairValue[] = values.map((v) => ({
    unit: v.unit,
    rxModel: v.rx,
    txModel: v.tx,
    samples: v.rssis.length,
    calibratedRssiDb: v.y,
    residualDb: v.y - x[0] - rxOffset(v.rx) - txOffset(v.tx),
  }));
  return {
    attenuationDb: -x[0],
    devices,
    pairs,
    spreadRawDb: standardDeviation(values.map((v) => v.rssiDbm)),
    spreadBeforeDb: standardDeviation(pairs.map((p) => p.calibratedRssiDb)),
    spreadAfterDb: standardDeviation(pairs.map((p) => p.residualDb)),
  };
}

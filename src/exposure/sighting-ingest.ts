/**
 * The receive-side hot path: sightings (already interned to integer handles) through
 * calibration (attenuation = TX power - (RSSI + receiver correction)), per-ID smoothing
 * (an exponential moving average of attenuation, time-aware) and exposure-window
 * accumulation, with no allocation per sighting.
 */
import { attenuationDb as attenuation } from "../signal/calibration-table.js";
import { type ExposureWindow, ExposureWindowBuilder } from "./exposure-window-builder.js";

export interface SightingIngestOptions {
  /** Receiver RSSI correction from the calibration table, dB. */
  rxRssiCorrectionDb?: number;
  /** TX power used when a sighting carries none (GAEN before matching), dBm. */
  defaultTxPowerDbm?: number;
  /** Time constant of the attenuation EMA, ms (default 30 s: about one GAEN scan's worth of readings). */
  smoothingTimeConstantMs?: number;
  expectedIds?: number;
  /**
   * Longest scan instance, ms (default unlimited, the EN API's scan instances); 60 s
   * (`CONTINUOUS_SCAN_PERIOD_MS`) for a receiver that scans continuously. See
   * `ExposureWindowBuilderOptions.maxScanInstanceMs`.
   */
  maxScanInstanceMs?: number;
  onWindow?: (window: ExposureWindow) => void;
}

export class SightingIngest {
  private readonly rxCorrectionDb: number;
  private readonly defaultTxPowerDbm: number;
  private readonly tauMs: number;
  private readonly windows: ExposureWindowBuilder;
  private smoothedDb: Float64Array;
  private lastMs: Float64Array;
  /** Sightings ingested. */
  count = 0;

  constructor(options: SightingIngestOptions = {}) {
    this.rxCorrectionDb = options.rxRssiCorrectionDb ?? 0;
    this.defaultTxPowerDbm = options.defaultTxPowerDbm ?? -24;
    this.tauMs = options.smoothingTimeConstantMs ?? 30_000;
    const n = Math.max(16, options.expectedIds ?? 1024);
    this.smoothedDb = new Float64Array(n).fill(Number.NaN);
    this.lastMs = new Float64Array(n);
    this.windows = new ExposureWindowBuilder(options.onWindow ?? (() => {}), {
      expectedHandles: n,
      maxScanInstanceMs: options.maxScanInstanceMs,
    });
  }

  /** Adds a sighting of ID `handle`; `txPowerDbm` NaN means unknown. Returns the attenuation, dB. */
  push(handle: number, atMs: number, rssiDbm: number, txPowerDbm = Number.NaN): number {
    if (handle >= this.smoothedDb.length) this.grow(handle + 1);
    const tx = Number.isNaN(txPowerDbm) ? this.defaultTxPowerDbm : txPowerDbm;
    const attenuationDb = attenuation(tx, rssiDbm, this.rxCorrectionDb);
    const previous = this.smoothedDb[handle];
    if (Number.isNaN(previous)) {
      this.smoothedDb[handle] = attenuationDb;
    } else {
      // Time-aware EMA: the weight of the new reading grows with the time since the last one.
      const alpha = 1 - Math.exp(-(atMs - this.lastMs[handle]) / this.tauMs);
      this.smoothedDb[handle] = previous + alpha * (attenuationDb - previous);
    }
    this.lastMs[handle] = atMs;
    this.windows.push(handle, atMs, attenuationDb);
    this.count++;
    return attenuationDb;
  }

  /** The smoothed attenuation of `handle`, dB, or NaN when never seen. */
  smoothedAttenuationDb(handle: number): number {
    return handle < this.smoothedDb.length ? this.smoothedDb[handle] : Number.NaN;
  }

  /** Closes windows that no sighting at or after `nowMs` can extend. */
  advanceTo(nowMs: number): void {
    this.windows.advanceTo(nowMs);
  }

  flush(): void {
    this.windows.flush();
  }

  /** The open window of `handle` so far (see `ExposureWindowBuilder.snapshot`). */
  snapshot(handle: number): ExposureWindow | undefined {
    return this.windows.snapshot(handle);
  }

  /** Forgets `handle` (window closed) so it can be reused for another ID. */
  forget(handle: number): void {
    if (handle < this.smoothedDb.length) this.smoothedDb[handle] = Number.NaN;
    this.windows.forget(handle);
  }

  /** Bytes of per-ID state. */
  get stateBytes(): number {
    return this.smoothedDb.byteLength + this.lastMs.byteLength + this.windows.stateBytes;
  }

  private grow(minLength: number): void {
    let n = this.smoothedDb.length;
    while (n < minLength) n *= 2;
    const smoothed = new Float64Array(n).fill(Number.NaN);
    smoothed.set(this.smoothedDb);
    this.smoothedDb = smoothed;
    const last = new Float64Array(n);
    last.set(this.lastMs);
    this.lastMs = last;
  }
}

/**
 * What every back-end does first in start(): refuse a second start, and check and fill in its
 * options (the sim, HCI, replay and world scanners, and the sim and HCI advertisers, must accept
 * and refuse the same options).
 */
import { ConfigError } from "../core/errors.js";
import { PROTOCOLS, type Protocol } from "../protocols/rolling-id-scheme.js";
import type { AdvertiserOptions, ScannerOptions } from "./radio.js";

/** Advertising interval when the options give none, ms. */
export const DEFAULT_ADVERTISING_INTERVAL_MS = 250;

export interface ScanPlan {
  /** Protocols to report. */
  protocols: Set<Protocol>;
  /** Scan `windowMs` every `intervalMs`; 0 and 0: continuous. */
  intervalMs: number;
  windowMs: number;
}

/** Throws unless `running` is false; then checks the options' duty cycle. */
export function planScan(options: ScannerOptions, running: boolean): ScanPlan {
  if (running)
    throw new ConfigError("the scanner is already running; stop it first", "E_RADIO_STATE");
  const intervalMs = options.intervalMs ?? 0;
  const windowMs = options.windowMs ?? intervalMs;
  if (intervalMs < 0 || windowMs < 0 || windowMs > intervalMs) {
    throw new ConfigError(
      `scan window (${windowMs} ms) must be within the scan interval (${intervalMs} ms)`,
      "E_RADIO_OPTIONS",
    );
  }
  return { protocols: new Set(options.protocols ?? PROTOCOLS), intervalMs, windowMs };
}

/** Throws unless `running` is false; then returns the options' advertising interval, ms. */
export function planAdvertising(options: AdvertiserOptions, running: boolean): number {
  if (running)
    throw new ConfigError("the advertiser is already running; stop it first", "E_RADIO_STATE");
  const intervalMs = options.intervalMs ?? DEFAULT_ADVERTISING_INTERVAL_MS;
  if (!(intervalMs >= 20 && intervalMs <= 10_240)) {
    throw new ConfigError(
      `advertising interval must be 20-10240 ms, got ${intervalMs}`,
      "E_RADIO_OPTIONS",
    );
  }
  return intervalMs;
}

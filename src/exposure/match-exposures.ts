/**
 * The receive-side pipeline after a key download: match published keys against stored
 * sightings, turn the accepted sightings into exposure windows (attenuation = sender TX power
 * - (RSSI + receiver correction)), and score them with a preset. Sightings of a continuous
 * scanner want `maxScanInstanceMs` (one minute): see `ExposureWindowBuilderOptions`.
 */
import { toHex } from "../core/hex.js";
import type { Protocol } from "../protocols/rolling-id-scheme.js";
import { attenuationDb } from "../signal/calibration-table.js";
import type { Sighting } from "../signal/sighting.js";
import { matchDayKeys, type PublishedDayKey } from "./chained-key-matcher.js";
import { type ExposureWindow, ExposureWindowBuilder } from "./exposure-window-builder.js";
import {
  GaenMatcher,
  type MatchCounts,
  newMatchCounts,
  type PublishedKey,
  toGaenColumns,
} from "./gaen-matcher.js";
import type { RiskPreset } from "./risk-preset.js";
import { type DailyResult, scoreExposure, windowToScored } from "./score-exposure.js";

export interface MatchOptions {
  preset: RiskPreset;
  /** The receiver's RSSI correction (calibration table), dB. */
  rxRssiCorrectionDb?: number;
  /** TX power assumed for protocols that do not carry one (Bluezone, DP-3T), dBm. */
  defaultTxPowerDbm?: number;
  /** Clock tolerance for Bluezone/DP-3T lookups, ms. */
  toleranceMs?: number;
  /**
   * Longest scan instance, ms, for sightings recorded by a continuous scanner (60 s,
   * `CONTINUOUS_SCAN_PERIOD_MS`, gives each minute its own scan); default unlimited, the EN API's
   * scan instances. See `ExposureWindowBuilderOptions.maxScanInstanceMs`.
   */
  maxScanInstanceMs?: number;
}

export interface MatchedWindow {
  readonly key: string;
  readonly protocol: Protocol;
  /** unix seconds */
  readonly start: number;
  readonly scanInstances: {
    t: number;
    typicalAttenuationDb: number;
    minAttenuationDb: number;
    secondsSinceLastScan: number;
  }[];
}

export interface MatchResult {
  readonly preset: string;
  readonly windows: MatchedWindow[];
  readonly dailySummaries: DailyResult[];
  readonly notified: boolean;
  readonly counts: MatchCounts & { dayKeyMatches: number };
}

/** One matched sighting: which exposure (0 .. count - 1), when, and its attenuation. */
export interface AttenuationEvent {
  readonly exposure: number;
  readonly atMs: number;
  readonly attenuationDb: number;
}

/**
 * The exposure windows of matched sightings (any order), sorted by start then exposure: the
 * scan instances and windows every scoring model reads. Shared by `matchExposures` and the
 * evaluations that feed measured sightings to the same code.
 */
export function exposureWindowsOf(
  events: AttenuationEvent[],
  exposureCount: number,
  maxScanInstanceMs?: number,
): ExposureWindow[] {
  events.sort((a, b) => a.exposure - b.exposure || a.atMs - b.atMs);
  const windows: ExposureWindow[] = [];
  const builder = new ExposureWindowBuilder((w) => windows.push(w), {
    expectedHandles: Math.max(1, exposureCount),
    maxScanInstanceMs,
  });
  for (const e of events) builder.push(e.exposure, e.atMs, e.attenuationDb);
  builder.flush();
  windows.sort((a, b) => a.startMs - b.startMs || a.handle - b.handle);
  return windows;
}

export function matchExposures(
  published: { gaen: readonly PublishedKey[]; dayKeys: readonly PublishedDayKey[] },
  sightings: readonly Sighting[],
  options: MatchOptions,
): MatchResult {
  const rxCorrection = options.rxRssiCorrectionDb ?? 0;
  const defaultTx = options.defaultTxPowerDbm ?? -24;
  // Exposure e: [protocol, key bytes]; events: (exposure, atMs, attenuation).
  const exposures: { protocol: Protocol; key: Uint8Array }[] = [];
  const events: AttenuationEvent[] = [];

  const gaenIndex: number[] = [];
  const gaenSightings = sightings.filter((s, i) => s.protocol === "gaen" && gaenIndex.push(i) > 0);
  const counts = { ...newMatchCounts(), dayKeyMatches: 0 };
  if (published.gaen.length > 0 && gaenSightings.length > 0) {
    const matches = new GaenMatcher(toGaenColumns(gaenSightings)).match(published.gaen, { counts });
    const exposureOfKey = new Map<number, number>();
    for (const m of matches) {
      let e = exposureOfKey.get(m.keyIndex);
      if (e === undefined) {
        e = exposures.push({ protocol: "gaen", key: published.gaen[m.keyIndex].keyData }) - 1;
        exposureOfKey.set(m.keyIndex, e);
      }
      const s = sightings[gaenIndex[m.sighting]];
      events.push({
        exposure: e,
        atMs: s.atMs,
        attenuationDb: attenuationDb(m.txPowerDbm, s.rssiDbm, rxCorrection),
      });
    }
  }
  if (published.dayKeys.length > 0) {
    const exposureOfKey = new Map<number, number>();
    for (const m of matchDayKeys(published.dayKeys, sightings, {
      toleranceMs: options.toleranceMs,
    })) {
      let e = exposureOfKey.get(m.keyIndex);
      if (e === undefined) {
        const p = published.dayKeys[m.keyIndex];
        e = exposures.push({ protocol: p.protocol, key: p.key.key }) - 1;
        exposureOfKey.set(m.keyIndex, e);
      }
      const s = sightings[m.sighting];
      events.push({
        exposure: e,
        atMs: s.atMs,
        attenuationDb: attenuationDb(s.txPowerDbm ?? defaultTx, s.rssiDbm, rxCorrection),
      });
      counts.dayKeyMatches++;
    }
  }

  const windows = exposureWindowsOf(events, exposures.length, options.maxScanInstanceMs);

  const score = scoreExposure(
    options.preset,
    windows.map((w) => windowToScored(w, String(w.handle))),
  );
  return {
    preset: options.preset.name,
    windows: windows.map((w) => ({
      key: toHex(exposures[w.handle].key),
      protocol: exposures[w.handle].protocol,
      start: w.startMs / 1000,
      scanInstances: w.scanInstances.map((s) => ({
        t: s.atMs / 1000,
        typicalAttenuationDb: s.typicalAttenuationDb,
        minAttenuationDb: s.minAttenuationDb,
        secondsSinceLastScan: s.secondsSinceLastScan,
      })),
    })),
    dailySummaries: score.dailySummaries,
    notified: score.notified,
    counts,
  };
}

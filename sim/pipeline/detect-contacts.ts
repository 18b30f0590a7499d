/**
 * The receive side of every simulated phone, as on hardware: download the published keys,
 * match them against the phone's own stored sightings (`matchExposures`: GAEN RPIs with the
 * ±2 h window and the TX-power check, Bluezone/DP-3T IDs by their chained day keys), build
 * exposure windows, and let each detector decide. One match per receiver; the windows are then
 * grouped by the index case whose key they matched and scored per detector.
 *
 * Scan instances last at most a minute (`maxScanInstanceMs`, `CONTINUOUS_SCAN_PERIOD_MS`): a
 * receiver that scans continuously (scenario `"scanning": "continuous"`, e.g. the checkpoint
 * queue's scanner) then gets one scan, secondsSinceLastScan 60 (a value the EN API itself
 * produces), per minute heard, and the weighted durations add up to the stay; under the EN API's
 * 25.5 s rule alone its 30 minutes would be one scan worth 120 s. Duty-cycled receivers stay
 * exact without being told apart: their scans (4 s GAEN, 40 s Bluezone, `SCAN_CADENCES`) end
 * before a minute, so the limit never cuts one. That is also why the run's files need not record
 * the cadence for `rerunFolder`.
 */
import { toHex } from "../../src/core/hex.js";
import { matchDayKeys } from "../../src/exposure/chained-key-matcher.js";
import { CONTINUOUS_SCAN_PERIOD_MS } from "../../src/exposure/exposure-window-builder.js";
import { GaenMatcher, toGaenColumns } from "../../src/exposure/gaen-matcher.js";
import { type MatchedWindow, matchExposures } from "../../src/exposure/match-exposures.js";
import { PRESET_NAMES, presetFor, type RiskPreset } from "../../src/exposure/risk-preset.js";
import {
  presetDecision,
  type ScoredWindow,
  scoreExposure,
} from "../../src/exposure/score-exposure.js";
import type { Sighting } from "../../src/signal/sighting.js";
import type { PublishedKeySet, RunData } from "./run-data.js";

/** One detector's decision on one ordered pair (index case, receiver) that matched at least once. */
export interface PairDetection extends DetectionRow {
  /** Matched exposure windows as [startS, endS) since the run's start (the timeline). */
  readonly windows: readonly (readonly [number, number])[];
}

/**
 * A decision without its windows: a row of the detections table, and what the streaming
 * pipeline sends (each pair's windows follow once, not per detector).
 */
export interface DetectionRow {
  readonly detector: string;
  readonly index: number;
  readonly receiver: number;
  /**
   * What the detector compares with its notify threshold, on its worst day: weighted (or
   * estimated close) minutes, or the EN v1 risk score for `v1-risk-score` presets.
   */
  readonly score: number;
  /** Estimated minutes of exposure the detector counts (weighted or close minutes). */
  readonly estimatedMinutes: number;
  readonly notified: boolean;
}

export interface DetectOptions {
  /** Detectors (presets) to run; default: every preset, ours first. */
  presets?: readonly RiskPreset[];
  /** TX power assumed for protocols that do not carry one, dBm (what the simulated phones write). */
  defaultTxPowerDbm?: number;
  /**
   * Skip the keys a phone heard nothing of (found by one pass over everyone's sightings) before
   * its own matching: the same result, far fewer derivations. Default true.
   */
  prefilter?: boolean;
  /**
   * Longest scan instance, ms (default `CONTINUOUS_SCAN_PERIOD_MS`, one minute: see the module
   * comment; `Infinity` gives the EN API's scan instances for every receiver).
   */
  maxScanInstanceMs?: number;
  /**
   * The receivers' RSSI correction, dB (attenuation = TX power − (RSSI + correction)); default
   * the run's `meta.rxRssiCorrectionDb`, else 0.
   */
  rxRssiCorrectionDb?: number;
  /** Called after each receiver with the fraction of receivers done. */
  onProgress?: (fraction: number) => void;
}

/**
 * Every detector's decision on one ordered pair from its matched windows (in the order
 * `matchExposures` gives them: by start, then key), passed to `emit` in `presets` order. Shared
 * by `detectContacts` and the streaming detector (`stream-detect.ts`), so both decide alike.
 */
export function scorePair(
  presets: readonly RiskPreset[],
  startMs: number,
  index: number,
  receiver: number,
  matched: readonly MatchedWindow[],
  emit: (detection: PairDetection) => void,
): void {
  const windows: ScoredWindow[] = [];
  const spans: [number, number][] = [];
  for (const w of matched) {
    windows.push({
      exposure: w.key,
      startMs: w.start * 1000,
      segments: w.scanInstances.map((s) => ({
        attenuationDb: s.typicalAttenuationDb,
        seconds: s.secondsSinceLastScan,
      })),
      scanAtMs: w.scanInstances.map((s) => Math.round(s.t * 1000)),
    });
    const last = w.scanInstances[w.scanInstances.length - 1];
    spans.push([Math.round(w.start - startMs / 1000), Math.round(last.t - startMs / 1000 + 4)]);
  }
  for (const preset of presets) {
    const { score, minutes, notified } = presetDecision(
      preset,
      scoreExposure(preset, windows).dailySummaries,
    );
    emit({
      detector: preset.name,
      index,
      receiver,
      score: Math.round(score * 1000) / 1000,
      estimatedMinutes: Math.round(minutes * 1000) / 1000,
      notified,
      windows: spans,
    });
  }
}

/** Every detector's decision for every ordered pair with a matched sighting, sorted. */
export function detectContacts(data: RunData, options: DetectOptions = {}): PairDetection[] {
  const presets = options.presets ?? defaultDetectors();
  const ownerOfKey = new Map<string, number>();
  const published = new Set(data.indexCases);
  for (const a of data.truth.agents) {
    if (!published.has(a.agent)) continue;
    for (const k of a.keys) ownerOfKey.set(toHex(k.key), a.agent);
  }
  const out: PairDetection[] = [];
  if (data.published.gaen.length === 0 && data.published.dayKeys.length === 0) return out;
  const startMs = data.meta.startMs;
  const receivers = data.sightings.length;
  const heard = options.prefilter === false ? undefined : keysHeard(data);
  const maxScanInstanceMs = options.maxScanInstanceMs ?? CONTINUOUS_SCAN_PERIOD_MS;
  data.sightings.forEach((sightings, receiver) => {
    if (options.onProgress && receiver % 16 === 15) options.onProgress((receiver + 1) / receivers);
    if (sightings.length === 0) return;
    const published = heard ? heard(receiver) : data.published;
    if (published.gaen.length === 0 && published.dayKeys.length === 0) return;
    const result = matchExposures(published, sightings, {
      preset: presets[0],
      defaultTxPowerDbm: options.defaultTxPowerDbm ?? -24,
      rxRssiCorrectionDb: options.rxRssiCorrectionDb ?? data.meta.rxRssiCorrectionDb ?? 0,
      maxScanInstanceMs,
    });
    const byIndex = new Map<number, MatchedWindow[]>();
    for (const w of result.windows) {
      const index = ownerOfKey.get(w.key);
      if (index === undefined || index === receiver) continue;
      const list = byIndex.get(index) ?? [];
      list.push(w);
      byIndex.set(index, list);
    }
    for (const index of [...byIndex.keys()].sort((x, y) => x - y))
      scorePair(presets, startMs, index, receiver, byIndex.get(index)!, (d) => out.push(d));
  });
  return out;
}

/**
 * Which published keys each receiver heard at all: one GAEN matcher and one day-key pass over
 * everyone's sightings. Matching is per sighting (its ID, time and metadata against one key),
 * so a key that matches none of a phone's sightings adds nothing to its windows; leaving it out
 * of that phone's own matching changes nothing but the time spent deriving its IDs.
 */
function keysHeard(data: RunData): (receiver: number) => PublishedKeySet {
  const all: Sighting[] = [];
  const receiverOf: number[] = [];
  data.sightings.forEach((list, r) => {
    for (const s of list) {
      all.push(s);
      receiverOf.push(r);
    }
  });
  const gaenKeys = data.sightings.map(() => new Set<number>());
  const dayKeys = data.sightings.map(() => new Set<number>());
  if (data.published.gaen.length > 0) {
    const gaenAt: number[] = [];
    const gaen = all.filter((s, i) => s.protocol === "gaen" && gaenAt.push(i) > 0);
    if (gaen.length > 0)
      for (const m of new GaenMatcher(toGaenColumns(gaen)).match(data.published.gaen))
        gaenKeys[receiverOf[gaenAt[m.sighting]]].add(m.keyIndex);
  }
  // A day key matched anywhere is offered whole to the phones that heard it (its tolerance is
  // the phone's own matching's business).
  if (data.published.dayKeys.length > 0)
    for (const m of matchDayKeys(data.published.dayKeys, all, { toleranceMs: 60 * 60_000 }))
      dayKeys[receiverOf[m.sighting]].add(m.keyIndex);
  const sorted = (set: Set<number>) => [...set].sort((a, b) => a - b);
  return (receiver) => ({
    gaen: sorted(gaenKeys[receiver]).map((k) => data.published.gaen[k]),
    dayKeys: sorted(dayKeys[receiver]).map((k) => data.published.dayKeys[k]),
  });
}

/** Our detector first, then every shipped preset (or the ones named). */
export function defaultDetectors(names?: readonly string[]): RiskPreset[] {
  return (names ?? PRESET_NAMES).map((name) => presetFor(name));
}

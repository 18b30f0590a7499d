/**
 * The receive side of every simulated phone, as on hardware: download the published keys,
 * match them against the phone's own stored sightings (`matchExposures`: GAEN RPIs with the
 * ±2 h window and the TX-power check, Bluezone/DP-3T IDs by their chained day keys), build
 * exposure windows, and let each detector decide. One match per receiver; the windows are then
 * grouped by the index case whose key they matched and scored per detector.
 */
import { toHex } from "../../src/core/hex.js";
import { matchExposures } from "../../src/exposure/match-exposures.js";
import { PRESET_NAMES, presetFor, type RiskPreset } from "../../src/exposure/risk-preset.js";
import { type ScoredWindow, scoreExposure } from "../../src/exposure/score-exposure.js";
import type { RunData } from "./run-data.js";

/** One detector's decision on one ordered pair (index case, receiver) that matched at least once. */
export interface PairDetection {
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
  /** Matched exposure windows as [startS, endS) since the run's start (the timeline). */
  readonly windows: readonly (readonly [number, number])[];
}

export interface DetectOptions {
  /** Detectors (presets) to run; default: every preset, ours first. */
  presets?: readonly RiskPreset[];
  /** TX power assumed for protocols that do not carry one, dBm (what the simulated phones write). */
  defaultTxPowerDbm?: number;
  /** Called after each receiver with the fraction of receivers done. */
  onProgress?: (fraction: number) => void;
}

/** The score a preset thresholds, from its daily summaries. */
function presetScore(preset: RiskPreset, days: ReturnType<typeof scoreExposure>["dailySummaries"]) {
  let score = 0;
  let minutes = 0;
  for (const d of days) {
    const s = preset.model === "v1-risk-score" ? d.maximumScore : d.weightedDurationSum / 60;
    score = Math.max(score, s);
    minutes = Math.max(minutes, d.weightedDurationSum / 60);
  }
  return { score, minutes };
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
  data.sightings.forEach((sightings, receiver) => {
    if (options.onProgress && receiver % 16 === 15) options.onProgress((receiver + 1) / receivers);
    if (sightings.length === 0) return;
    const result = matchExposures(data.published, sightings, {
      preset: presets[0],
      defaultTxPowerDbm: options.defaultTxPowerDbm ?? -24,
    });
    const byIndex = new Map<number, ScoredWindow[]>();
    const spans = new Map<number, [number, number][]>();
    for (const w of result.windows) {
      const index = ownerOfKey.get(w.key);
      if (index === undefined || index === receiver) continue;
      const list = byIndex.get(index) ?? [];
      list.push({
        exposure: w.key,
        startMs: w.start * 1000,
        segments: w.scanInstances.map((s) => ({
          attenuationDb: s.typicalAttenuationDb,
          seconds: s.secondsSinceLastScan,
        })),
        scanAtMs: w.scanInstances.map((s) => Math.round(s.t * 1000)),
      });
      byIndex.set(index, list);
      const last = w.scanInstances[w.scanInstances.length - 1];
      const span = spans.get(index) ?? [];
      span.push([Math.round(w.start - startMs / 1000), Math.round(last.t - startMs / 1000 + 4)]);
      spans.set(index, span);
    }
    for (const index of [...byIndex.keys()].sort((x, y) => x - y)) {
      const windows = byIndex.get(index)!;
      for (const preset of presets) {
        const scored = scoreExposure(preset, windows);
        const { score, minutes } = presetScore(preset, scored.dailySummaries);
        out.push({
          detector: preset.name,
          index,
          receiver,
          score: Math.round(score * 1000) / 1000,
          estimatedMinutes: Math.round(minutes * 1000) / 1000,
          notified: scored.notified,
          windows: spans.get(index)!,
        });
      }
    }
  });
  return out;
}

/** Our detector first, then every shipped preset (or the ones named). */
export function defaultDetectors(names?: readonly string[]): RiskPreset[] {
  return (names ?? PRESET_NAMES).map((name) => presetFor(name));
}

/**
 * What one simulated run leaves behind, in the shapes the pipeline, the evaluation and the run
 * folder share: each receiver's stored sightings (what its phone heard), the keys the index cases
 * published, and the ground truth (every agent's own keys, every pair's close time).
 */
import type { PublishedDayKey } from "../../src/exposure/chained-key-matcher.js";
import type { PublishedKey } from "../../src/exposure/gaen-matcher.js";
import type { DayKey, Protocol } from "../../src/protocols/rolling-id-scheme.js";
import type { Sighting } from "../../src/signal/sighting.js";

export interface RunMeta {
  readonly scenario: string;
  /** The protocol the run was forced to, or "mixed" when the scenario's own mix was used. */
  readonly protocol: string;
  readonly agents: number;
  readonly durationS: number;
  readonly seed: number;
  /** Wall-clock time of the world's time 0, ms since the Unix epoch. */
  readonly startMs: number;
  /** Share of agents who are index cases (publish their keys). */
  readonly indexShare: number;
  readonly closeDistanceM: number;
  readonly closeMinutes: number;
  /**
   * The channel profile's name (`simulate --channel`, the scenario's, or the default `v2`);
   * absent for `herald-only` (run folders written before v2 was the default have none).
   */
  readonly channel?: string;
  /**
   * The RSSI correction the simulated phones apply on receiving, dB: the calibration table's
   * default row (−5 dB) on channels whose device terms come from that table (v2), as a real
   * phone applies its row's; absent = 0 (herald-only, whose levels are the rig's as reported).
   */
  readonly rxRssiCorrectionDb?: number;
}

/** An agent as the simulator knows it: its role, protocol and the day keys its phone advertised. */
export interface TruthAgent {
  readonly agent: number;
  readonly role: string;
  readonly protocol: Protocol;
  readonly keys: readonly DayKey[];
}

/** A pair that was within the close distance at least once (a < b). */
export interface TruthPair {
  readonly a: number;
  readonly b: number;
  /** Cumulative seconds within the close distance. */
  readonly closeS: number;
  readonly minDistanceM: number;
  /** Closeness as [startS, endS) intervals since the run's start. */
  readonly closeIntervals: readonly (readonly [number, number])[];
}

export interface GroundTruthRecord {
  readonly agents: readonly TruthAgent[];
  readonly pairs: readonly TruthPair[];
}

/** The keys an index case published (GAEN diagnosis keys or Bluezone/DP-3T day keys). */
export interface PublishedKeySet {
  gaen: PublishedKey[];
  dayKeys: PublishedDayKey[];
}

export interface RssiDistanceSample {
  readonly distanceM: number;
  readonly rssiDbm: number;
}

/**
 * The ceiling pass's per-pair scores (`sim/evaluation/ceiling.ts`): for each ordered pair
 * (index case, receiver) the `rank`-th strongest per-second mean signal, dBm, on a `binDb` grid
 * from `floorDbm` (pairs never that often at or above the floor are left out).
 */
export interface CeilingScores {
  /** Seconds per sample (the world's step). */
  readonly stepS: number;
  /** Samples a pair needs at or above θ: close minutes over the step. */
  readonly rank: number;
  readonly floorDbm: number;
  readonly binDb: number;
  /** By (index, receiver). */
  readonly scores: readonly {
    readonly index: number;
    readonly receiver: number;
    readonly score: number;
  }[];
  /** The scan-sampled ceiling (`ceiling-scans`); absent in runs written before it existed. */
  readonly scans?: ScanCeilingScores;
}

/**
 * The `ceiling-scans` scores: per ordered pair (index case, receiver) the highest θ on the
 * ceiling's bin grid at which the receiver's scan seconds with mean signal >= θ, each scan
 * credited with the time since the receiver's previous scan, reach `targetS` (pairs that never
 * do are left out). See `sim/evaluation/ceiling.ts`.
 */
export interface ScanCeilingScores {
  /** Credited seconds a pair needs at or above θ: the close minutes. */
  readonly targetS: number;
  /** A receiver's sightings further apart than this start a new scan, ms. */
  readonly scanGapMs: number;
  /** Longest scan, ms (longer runs of sightings are cut). */
  readonly maxScanMs: number;
  /** Most seconds one scan stands for. */
  readonly maxCreditS: number;
  /** Scans found over every receiver. */
  readonly scans: number;
  /** By (index, receiver). */
  readonly scores: readonly {
    readonly index: number;
    readonly receiver: number;
    readonly score: number;
  }[];
}

/** The ceiling of a run: its scores, or why it was not computed. */
export type RunCeiling = CeilingScores | { readonly skipped: string };

export interface RunData {
  readonly meta: RunMeta;
  /** Stored sightings by receiver index, in time order. */
  readonly sightings: readonly (readonly Sighting[])[];
  /** Agents who published their keys, ascending. */
  readonly indexCases: readonly number[];
  /** Every published key, as a key server would hand them to phones. */
  readonly published: PublishedKeySet;
  readonly truth: GroundTruthRecord;
  /** The ceiling pass's scores; undefined for runs written before it existed. */
  readonly ceiling?: RunCeiling;
}

/**
 * Pair keys hold two agent indices as one number, `a * PAIR_KEY_BASE + b`: exact as a double up
 * to 2^53, so for up to 2^20 agents (the city scenario has 100 000).
 */
export const PAIR_KEY_BASE = 1 << 20;

/** Ordered pair key (index case, receiver) as one number (agents < `PAIR_KEY_BASE`). */
export function pairKey(index: number, receiver: number): number {
  return index * PAIR_KEY_BASE + receiver;
}

/** Whether unordered pair {a, b} is a close contact: `closeMinutes` or more within the distance. */
export function closeTruthSeconds(truth: GroundTruthRecord): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of truth.pairs) {
    out.set(pairKey(p.a, p.b), p.closeS);
    out.set(pairKey(p.b, p.a), p.closeS);
  }
  return out;
}

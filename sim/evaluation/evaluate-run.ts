/**
 * Scores the detectors of a simulated run against its ground truth, over ordered pairs
 * (index case, receiver): a pair is a close contact when the two were within the close distance
 * for `closeMinutes` or more in total; a detector detects it when the receiver's phone notifies
 * for that index case's keys.
 *
 * - precision, recall, F1 of that decision;
 * - duration error: mean absolute difference, in minutes, between the minutes the detector
 *   counts (estimated close minutes for ours, weighted minutes for the presets) and the true close
 *   minutes, over the pairs that were ever close or that the detector scored;
 * - Herald-style detection (share of truly close ordered pairs whose receiver heard the sender at
 *   all) and continuity (share of the 30 s windows in which such a pair was within the close
 *   distance that hold at least one reading): properties of the link layer, the same for every
 *   detector, over every agent, index case or not;
 * - a precision-recall curve per detector, sweeping its score threshold;
 * - two reference rows, not detectors: `heard` notifies every pair whose receiver matched any of
 *   the index case's IDs (what ignoring RSSI gives), and `ceiling`, the best F1 of a threshold on
 *   the model's exact mean signal chosen in hindsight (`ceiling.ts`, from `data.ceiling`), and
 *   `ceiling-scans`, the same known only at the receiver's scans, each standing for the time
 *   since its previous scan (what the duty cycle leaves a threshold rule).
 */
import type { PairDetection } from "../pipeline/detect-contacts.js";
import type { RunData, RunMeta } from "../pipeline/run-data.js";
import { accumulateRunData } from "./run-accumulator.js";

export { CONTINUITY_WINDOW_S, ceilingNote, prCurve } from "./run-accumulator.js";

export interface PrPoint {
  readonly threshold: number;
  readonly precision: number;
  readonly recall: number;
}

export interface DetectorEvaluation {
  readonly name: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  /** Mean absolute error of the minutes counted against the true close minutes. */
  readonly durationErrorMin: number;
  readonly detection: number;
  readonly continuity: number;
}

/**
 * A reference row: what ignoring RSSI gives (`heard`), the RSSI ceiling (`ceiling`) and the
 * ceiling at the receivers' scans (`ceiling-scans`).
 */
export interface ReferenceEvaluation {
  readonly name: "heard" | "ceiling" | "ceiling-scans";
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  /** ceilings: the best threshold on the mean signal, dBm (null when no pair scored); heard: null. */
  readonly thresholdDbm: number | null;
}

export interface RunEvaluation {
  readonly run: RunMeta;
  /** Ordered (index case, receiver) pairs scored, and how many of them are close contacts. */
  readonly pairs: number;
  readonly closeContacts: number;
  readonly detection: number;
  readonly continuity: number;
  readonly detectors: DetectorEvaluation[];
  readonly prCurves: { detector: string; points: PrPoint[] }[];
  /** `heard`, then `ceiling` and `ceiling-scans` when the run has them. */
  readonly references: ReferenceEvaluation[];
  /** The ceilings' precision-recall curves (threshold in dBm), when computed. */
  readonly referencePrCurves: { reference: string; points: PrPoint[] }[];
  /** Why a ceiling row is missing (skipped, or a run folder from before it existed). */
  readonly referencesNote?: string;
}

/** Herald-style detection and continuity of the link layer over truly close ordered pairs. */
export function linkCoverage(data: RunData): { detection: number; continuity: number } {
  const { detection, continuity } = accumulateRunData(data, [], []).evaluation;
  return { detection, continuity };
}

/**
 * Evaluates `detections` (from `detectContacts`) of the detectors named, in that order: the run
 * replayed into a `RunAccumulator`, as the streaming pipeline feeds one.
 */
export function evaluateRun(
  data: RunData,
  detections: readonly PairDetection[],
  detectorNames: readonly string[],
): RunEvaluation {
  return accumulateRunData(data, detections, detectorNames).evaluation;
}

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
import { toHex } from "../../src/core/hex.js";
import type { PairDetection } from "../pipeline/detect-contacts.js";
import {
  closeTruthSeconds,
  pairKey,
  type RunCeiling,
  type RunData,
  type RunMeta,
} from "../pipeline/run-data.js";
import { senderOfId } from "../pipeline/sender-of-id.js";
import { sweepThreshold } from "./ceiling.js";
import { MAX_CURVE_POINTS, precisionRecallF1 } from "./precision-recall.js";

/** Continuity is measured in windows of this length (Herald's analysis uses 30 s). */
export const CONTINUITY_WINDOW_S = 30;

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

const round = (x: number, digits = 4) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Herald-style detection and continuity of the link layer over truly close ordered pairs. */
export function linkCoverage(data: RunData): { detection: number; continuity: number } {
  const closeS = data.meta.closeMinutes * 60;
  const sender = senderOfId(data.truth.agents);
  const startS = data.meta.startMs / 1000;
  // Heard (sender, window) per receiver, only for receivers in some close pair.
  const closePairs = data.truth.pairs.filter((p) => p.closeS >= closeS);
  const receivers = new Set<number>();
  for (const p of closePairs) receivers.add(p.a).add(p.b);
  const heard = new Map<number, Set<number>>();
  for (const r of receivers) {
    const set = new Set<number>();
    for (const s of data.sightings[r] ?? []) {
      const from = sender.get(toHex(s.id));
      if (from === undefined) continue;
      set.add(from * 1_000_000 + Math.floor((s.atMs / 1000 - startS) / CONTINUITY_WINDOW_S));
    }
    heard.set(r, set);
  }
  let pairs = 0;
  let detected = 0;
  let windows = 0;
  let covered = 0;
  for (const p of closePairs) {
    for (const [t, r] of [
      [p.a, p.b],
      [p.b, p.a],
    ]) {
      pairs++;
      const set = heard.get(r)!;
      let any = false;
      for (const s of set) {
        if (Math.floor(s / 1_000_000) === t) {
          any = true;
          break;
        }
      }
      if (any) detected++;
      const closeWindows = new Set<number>();
      for (const [from, to] of p.closeIntervals) {
        for (let w = Math.floor(from / CONTINUITY_WINDOW_S); w * CONTINUITY_WINDOW_S < to; w++)
          closeWindows.add(w);
      }
      windows += closeWindows.size;
      for (const w of closeWindows) if (set.has(t * 1_000_000 + w)) covered++;
    }
  }
  return {
    detection: pairs === 0 ? 0 : round(detected / pairs),
    continuity: windows === 0 ? 0 : round(covered / windows),
  };
}

/** Evaluates `detections` (from `detectContacts`) of the detectors named, in that order. */
export function evaluateRun(
  data: RunData,
  detections: readonly PairDetection[],
  detectorNames: readonly string[],
): RunEvaluation {
  const truthS = closeTruthSeconds(data.truth);
  const closeS = data.meta.closeMinutes * 60;
  const n = data.truth.agents.length;
  // Close contacts among the scored ordered pairs.
  const isIndex = new Uint8Array(n);
  for (const i of data.indexCases) isIndex[i] = 1;
  const positives = new Set<number>();
  for (const p of data.truth.pairs) {
    if (p.closeS < closeS) continue;
    if (isIndex[p.a]) positives.add(pairKey(p.a, p.b));
    if (isIndex[p.b]) positives.add(pairKey(p.b, p.a));
  }
  const pairs = data.indexCases.length * (n - 1);
  const coverage = linkCoverage(data);

  const detectors: DetectorEvaluation[] = [];
  const prCurves: RunEvaluation["prCurves"] = [];
  for (const name of detectorNames) {
    const mine = detections.filter((d) => d.detector === name && isIndex[d.index]);
    let tp = 0;
    let fp = 0;
    const scores: { score: number; positive: boolean }[] = [];
    const seen = new Set<number>();
    let errorSum = 0;
    let errorPairs = 0;
    for (const d of mine) {
      const key = pairKey(d.index, d.receiver);
      seen.add(key);
      const positive = positives.has(key);
      if (d.notified) {
        if (positive) tp++;
        else fp++;
      }
      scores.push({ score: d.score, positive });
      errorSum += Math.abs(d.estimatedMinutes - (truthS.get(key) ?? 0) / 60);
      errorPairs++;
    }
    // Pairs close at some time that the detector never scored: it counted 0 minutes.
    for (const p of data.truth.pairs) {
      for (const [i, r] of [
        [p.a, p.b],
        [p.b, p.a],
      ]) {
        if (!isIndex[i] || seen.has(pairKey(i, r))) continue;
        errorSum += p.closeS / 60;
        errorPairs++;
      }
    }
    const fn = positives.size - tp;
    const m = precisionRecallF1(tp, fp, fn);
    detectors.push({
      name,
      precision: round(m.precision),
      recall: round(m.recall),
      f1: round(m.f1),
      truePositives: tp,
      falsePositives: fp,
      falseNegatives: fn,
      durationErrorMin: round(errorPairs === 0 ? 0 : errorSum / errorPairs, 2),
      detection: coverage.detection,
      continuity: coverage.continuity,
    });
    prCurves.push({ detector: name, points: prCurve(scores, positives.size) });
  }
  const refs = referenceRows(data, detections, isIndex, positives);
  return {
    run: data.meta,
    pairs,
    closeContacts: positives.size,
    detection: coverage.detection,
    continuity: coverage.continuity,
    detectors,
    prCurves,
    references: refs.references,
    referencePrCurves: refs.curves,
    ...(refs.note === undefined ? {} : { referencesNote: refs.note }),
  };
}

/** The note printed when a run has no ceiling row. */
export function ceilingNote(ceiling: RunCeiling | undefined): string | undefined {
  if (ceiling === undefined)
    return "ceiling absent: the run folder has no ceiling.jsonl (written by proxkit simulate)";
  if ("skipped" in ceiling) return `ceiling not computed: ${ceiling.skipped}`;
  return undefined;
}

function referenceRows(
  data: RunData,
  detections: readonly PairDetection[],
  isIndex: Uint8Array,
  positives: ReadonlySet<number>,
): {
  references: ReferenceEvaluation[];
  curves: RunEvaluation["referencePrCurves"];
  note?: string;
} {
  const row = (
    name: ReferenceEvaluation["name"],
    tp: number,
    fp: number,
    thresholdDbm: number | null,
  ): ReferenceEvaluation => {
    const fn = positives.size - tp;
    const m = precisionRecallF1(tp, fp, fn);
    return {
      name,
      precision: round(m.precision),
      recall: round(m.recall),
      f1: round(m.f1),
      truePositives: tp,
      falsePositives: fp,
      falseNegatives: fn,
      thresholdDbm,
    };
  };
  // Heard: every ordered pair with a detection row (its receiver matched one of the index
  // case's IDs), whatever the detector.
  const heard = new Set<number>();
  for (const d of detections) if (isIndex[d.index]) heard.add(pairKey(d.index, d.receiver));
  let tp = 0;
  for (const key of heard) if (positives.has(key)) tp++;
  const references = [row("heard", tp, heard.size - tp, null)];
  const note = ceilingNote(data.ceiling);
  const ceiling = data.ceiling;
  if (ceiling === undefined || "skipped" in ceiling) return { references, curves: [], note };
  const curves: RunEvaluation["referencePrCurves"] = [];
  const sweepRow = (
    name: ReferenceEvaluation["name"],
    scores: readonly { index: number; receiver: number; score: number }[],
  ) => {
    const sweep = sweepThreshold(
      scores
        .filter((s) => isIndex[s.index])
        .map((s) => ({ score: s.score, positive: positives.has(pairKey(s.index, s.receiver)) })),
      positives.size,
    );
    references.push(row(name, sweep.truePositives, sweep.falsePositives, sweep.threshold));
    const points = sweep.curve.map((p) => ({
      threshold: round(p.threshold, 3),
      precision: round(p.precision),
      recall: round(p.recall),
    }));
    curves.push({ reference: name, points });
  };
  sweepRow("ceiling", ceiling.scores);
  if (ceiling.scans === undefined)
    return {
      references,
      curves,
      note: "ceiling-scans absent: the run's ceiling.jsonl predates it (simulate the run again)",
    };
  sweepRow("ceiling-scans", ceiling.scans.scores);
  return { references, curves };
}

/**
 * Precision and recall of "score >= threshold" for thresholds over the scores seen (pairs never
 * scored have score 0 and are never predicted), at most `MAX_CURVE_POINTS` of them by quantile.
 */
export function prCurve(
  scores: readonly { score: number; positive: boolean }[],
  positives: number,
): PrPoint[] {
  const sorted = scores.filter((s) => s.score > 0).sort((a, b) => b.score - a.score);
  const distinct: number[] = [];
  for (const s of sorted) if (distinct.at(-1) !== s.score) distinct.push(s.score);
  const step = Math.max(1, Math.ceil(distinct.length / MAX_CURVE_POINTS));
  const thresholds = distinct.filter((_, k) => k % step === 0 || k === distinct.length - 1);
  const points: PrPoint[] = [];
  let k = 0;
  let tp = 0;
  let fp = 0;
  for (const threshold of thresholds) {
    while (k < sorted.length && sorted[k].score >= threshold) {
      if (sorted[k].positive) tp++;
      else fp++;
      k++;
    }
    const m = precisionRecallF1(tp, fp, positives - tp);
    points.push({
      threshold: round(threshold, 3),
      precision: round(m.precision),
      recall: round(m.recall),
    });
  }
  return points;
}

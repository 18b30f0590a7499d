/**
 * The evaluation and report of a run as they were computed before they accumulated as the run
 * streams (a copy of `evaluateRun`, `linkCoverage` and `reportRun` over a whole `RunData`): the
 * reference the accumulator's equivalence test compares with.
 */
import { sweepThreshold } from "../../../sim/evaluation/ceiling.js";
import type {
  DetectorEvaluation,
  PrPoint,
  ReferenceEvaluation,
  RunEvaluation,
} from "../../../sim/evaluation/evaluate-run.js";
import { MAX_CURVE_POINTS, precisionRecallF1 } from "../../../sim/evaluation/precision-recall.js";
import type { ReportRunExtras } from "../../../sim/evaluation/report-run.js";
import type { PairDetection } from "../../../sim/pipeline/detect-contacts.js";
import {
  closeTruthSeconds,
  PAIR_KEY_BASE,
  pairKey,
  type RssiDistanceSample,
  type RunCeiling,
  type RunData,
} from "../../../sim/pipeline/run-data.js";
import { senderOfId } from "../../../sim/pipeline/sender-of-id.js";
import type { ReportRun } from "../../../sim/report/report-input.js";
import { toHex } from "../../../src/core/hex.js";

const CONTINUITY_WINDOW_S = 30;
const MAX_TIMELINE_PAIRS = 200;

const round = (x: number, digits = 4) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Herald-style detection and continuity of the link layer over truly close ordered pairs. */
export function referenceLinkCoverage(data: RunData): { detection: number; continuity: number } {
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
export function referenceEvaluateRun(
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
  const coverage = referenceLinkCoverage(data);

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
    prCurves.push({ detector: name, points: referencePrCurve(scores, positives.size) });
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
function ceilingNote(ceiling: RunCeiling | undefined): string | undefined {
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
export function referencePrCurve(
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

export function referenceReportRun(
  data: RunData,
  evaluation: RunEvaluation,
  detections: readonly PairDetection[],
  rssiVsDistance: readonly RssiDistanceSample[],
  extras: ReportRunExtras = {},
): ReportRun {
  const measured = extras.measured;
  const closeS = data.meta.closeMinutes * 60;
  const isIndex = new Set(data.indexCases);
  const truthOf = new Map<number, (typeof data.truth.pairs)[number]>();
  for (const p of data.truth.pairs) {
    truthOf.set(pairKey(p.a, p.b), p);
    truthOf.set(pairKey(p.b, p.a), p);
  }
  // Candidate pairs: close contacts and pairs some detector notified, closest in truth first.
  const candidates = new Set<number>();
  for (const p of data.truth.pairs) {
    if (p.closeS < closeS) continue;
    if (isIndex.has(p.a)) candidates.add(pairKey(p.a, p.b));
    if (isIndex.has(p.b)) candidates.add(pairKey(p.b, p.a));
  }
  for (const d of detections) if (d.notified) candidates.add(pairKey(d.index, d.receiver));
  const chosen = [...candidates]
    .sort((x, y) => (truthOf.get(y)?.closeS ?? 0) - (truthOf.get(x)?.closeS ?? 0) || x - y)
    .slice(0, MAX_TIMELINE_PAIRS);
  const wanted = new Set(chosen);
  const label = (key: number) => `${Math.floor(key / PAIR_KEY_BASE)}→${key % PAIR_KEY_BASE}`;
  const timeline: ReportRun["timeline"] = [];
  for (const key of chosen) {
    for (const [startS, endS] of truthOf.get(key)?.closeIntervals ?? [])
      timeline.push({ pair: label(key), startS, endS, kind: "truth-close" });
  }
  for (const d of detections) {
    const key = pairKey(d.index, d.receiver);
    if (!d.notified || !wanted.has(key)) continue;
    for (const [startS, endS] of d.windows)
      timeline.push({ pair: label(key), startS, endS, kind: "detected", detector: d.detector });
  }
  return {
    scenario: data.meta.scenario,
    protocol: data.meta.protocol,
    agents: data.meta.agents,
    durationS: data.meta.durationS,
    seed: data.meta.seed,
    detectors: evaluation.detectors.map((d) => ({
      name: d.name,
      precision: d.precision,
      recall: d.recall,
      f1: d.f1,
      durationErrorMin: d.durationErrorMin,
      detection: d.detection,
      continuity: d.continuity,
    })),
    prCurves: evaluation.prCurves.map((c) => ({ detector: c.detector, points: [...c.points] })),
    references: evaluation.references.map((r) => ({
      name: r.name,
      precision: r.precision,
      recall: r.recall,
      f1: r.f1,
      thresholdDbm: r.thresholdDbm,
      ...(r.name === "ceiling"
        ? {
            points:
              evaluation.referencePrCurves.find((c) => c.reference === "ceiling")?.points ?? [],
          }
        : {}),
    })),
    ...(extras.channel === undefined ? {} : { channel: extras.channel }),
    rssiVsDistance: {
      simulated: rssiVsDistance.map((p) => ({ distanceM: p.distanceM, rssiDbm: p.rssiDbm })),
      ...(measured === undefined
        ? {}
        : "missing" in measured
          ? { measured: { missing: measured.missing } }
          : {
              real: measured.points.map((p) => ({ ...p })),
              measured: { source: measured.source },
            }),
    },
    timeline,
  };
}

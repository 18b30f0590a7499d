/**
 * One run's part of `report.html` (`ReportRun`, drawn by `sim/report/`): the evaluation table
 * with its reference rows, precision-recall curves (the ceiling's among them), simulated RSSI
 * against distance (real rig readings added by the caller when the data is there) and a timeline
 * of the pairs the detectors and the truth disagree on.
 */
import type { PairDetection } from "../pipeline/detect-contacts.js";
import { pairKey, type RssiDistanceSample, type RunData } from "../pipeline/run-data.js";
import type { ReportRun } from "../report/report-input.js";
import type { RunEvaluation } from "./evaluate-run.js";

/** Ordered pairs put on the timeline at most (the report picks the most telling of them). */
const MAX_TIMELINE_PAIRS = 200;

export function reportRun(
  data: RunData,
  evaluation: RunEvaluation,
  detections: readonly PairDetection[],
  rssiVsDistance: readonly RssiDistanceSample[],
  real?: readonly RssiDistanceSample[],
): ReportRun {
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
  const label = (key: number) => `${Math.floor(key / 65_536)}→${key % 65_536}`;
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
    rssiVsDistance: {
      simulated: rssiVsDistance.map((p) => ({ distanceM: p.distanceM, rssiDbm: p.rssiDbm })),
      ...(real ? { real: real.map((p) => ({ distanceM: p.distanceM, rssiDbm: p.rssiDbm })) } : {}),
    },
    timeline,
  };
}

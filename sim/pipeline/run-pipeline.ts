/**
 * The whole simulated pipeline for one scenario: simulate (world, link layer, stored
 * sightings, published keys, truth), detect (every receiver matches the published keys and
 * every detector decides), evaluate against the truth, and write the run folder. `rerunFolder`
 * redoes detection and evaluation from a folder's files alone.
 */
import { PRESET_NAMES } from "../../src/exposure/risk-preset.js";
import { evaluateRun, type RunEvaluation } from "../evaluation/evaluate-run.js";
import { reportRun } from "../evaluation/report-run.js";
import type { ReportRun } from "../report/report-input.js";
import type { Scenario } from "../world/scenario.js";
import { defaultDetectors, detectContacts, type PairDetection } from "./detect-contacts.js";
import type { RssiDistanceSample, RunData } from "./run-data.js";
import { readRunFiles, writeRunFiles } from "./run-files.js";
import { type SimulatedRun, type SimulateRunOptions, simulateRun } from "./simulate-run.js";

export interface PipelineResult {
  readonly data: SimulatedRun;
  readonly detections: PairDetection[];
  readonly evaluation: RunEvaluation;
  readonly timings: { simulateMs: number; detectMs: number; evaluateMs: number };
}

/** The summary written as summary.json (no wall times: the same seed gives the same bytes). */
export function runSummary(
  data: RunData & { sightingCount?: number },
  evaluation: RunEvaluation,
  rssiVsDistance: readonly RssiDistanceSample[],
) {
  return {
    run: data.meta,
    sightings: data.sightingCount ?? data.sightings.reduce((s, l) => s + l.length, 0),
    indexCases: data.indexCases.length,
    pairs: evaluation.pairs,
    closeContacts: evaluation.closeContacts,
    detection: evaluation.detection,
    continuity: evaluation.continuity,
    detectors: evaluation.detectors,
    prCurves: evaluation.prCurves,
    rssiVsDistance,
  };
}

export function runPipeline(
  scenario: Scenario,
  options: SimulateRunOptions & {
    presets?: readonly string[];
    /** Progress of the matching and detection, per receiver. */
    onMatchProgress?: (fraction: number) => void;
  } = {},
): PipelineResult {
  const t0 = performance.now();
  const data = simulateRun(scenario, options);
  const t1 = performance.now();
  const detectors = defaultDetectors(options.presets ?? PRESET_NAMES);
  const detections = detectContacts(data, {
    presets: detectors,
    onProgress: options.onMatchProgress,
  });
  const t2 = performance.now();
  const evaluation = evaluateRun(
    data,
    detections,
    detectors.map((d) => d.name),
  );
  const t3 = performance.now();
  return {
    data,
    detections,
    evaluation,
    timings: { simulateMs: t1 - t0, detectMs: t2 - t1, evaluateMs: t3 - t2 },
  };
}

/** Writes the run folder's data files (the report is written by the caller). */
export function writePipelineRun(dir: string, result: PipelineResult): void {
  writeRunFiles(
    dir,
    result.data,
    result.detections,
    runSummary(result.data, result.evaluation, result.data.rssiVsDistance),
  );
}

/** The report section of a pipeline run. */
export function pipelineReportRun(
  result: PipelineResult,
  real?: readonly RssiDistanceSample[],
): ReportRun {
  return reportRun(
    result.data,
    result.evaluation,
    result.detections,
    result.data.rssiVsDistance,
    real,
  );
}

/** Re-runs matching, detection and evaluation from a run folder's sightings, keys and truth. */
export function rerunFolder(
  dir: string,
  presets: readonly string[] = PRESET_NAMES,
): { data: RunData; detections: PairDetection[]; evaluation: RunEvaluation } {
  const data = readRunFiles(dir);
  const detectors = defaultDetectors(presets);
  const detections = detectContacts(data, { presets: detectors });
  const evaluation = evaluateRun(
    data,
    detections,
    detectors.map((d) => d.name),
  );
  return { data, detections, evaluation };
}

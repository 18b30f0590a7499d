/**
 * The whole simulated pipeline for one scenario: simulate (world, link layer, stored
 * sightings, published keys, truth), detect (every receiver matches the published keys and
 * every detector decides), the ceiling pass (a second world of the same scenario and seed,
 * scoring what an exact mean signal allows, every second and at the receivers' scans as their
 * sightings show them: `sim/evaluation/ceiling.ts`), evaluate against the
 * truth, and write the run folder. `rerunFolder` redoes detection and evaluation from a folder's
 * files alone.
 */
import { PRESET_NAMES, type RiskPreset } from "../../src/exposure/risk-preset.js";
import {
  CEILING_MAX_AGENTS,
  ceilingPass,
  receiverScans,
  trajectoryMismatches,
} from "../evaluation/ceiling.js";
import { evaluateRun, type RunEvaluation } from "../evaluation/evaluate-run.js";
import { type ReportRunExtras, reportRun } from "../evaluation/report-run.js";
import type { ReportRun } from "../report/report-input.js";
import type { Scenario } from "../world/scenario.js";
import { defaultDetectors, detectContacts, type PairDetection } from "./detect-contacts.js";
import type { RssiDistanceSample, RunCeiling, RunData } from "./run-data.js";
import { readRunFiles, writeRunFiles } from "./run-files.js";
import {
  type SimulatedRun,
  type SimulateRunOptions,
  simulateRun,
  withChannel,
  withProtocol,
} from "./simulate-run.js";

export interface PipelineResult {
  readonly data: SimulatedRun;
  readonly detections: PairDetection[];
  readonly evaluation: RunEvaluation;
  readonly timings: {
    simulateMs: number;
    detectMs: number;
    /** The ceiling pass (0 when skipped). */
    ceilingMs: number;
    evaluateMs: number;
  };
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
    references: evaluation.references,
    referencePrCurves: evaluation.referencePrCurves,
    ...(evaluation.referencesNote === undefined
      ? {}
      : { referencesNote: evaluation.referencesNote }),
    rssiVsDistance,
  };
}

/**
 * The run's ceiling: `ceiling` true computes it, false skips it, undefined computes it up to
 * `CEILING_MAX_AGENTS` agents. Not computed when the second world's ground truth differs from
 * the run's (the ceiling would be about other trajectories).
 */
export function runCeiling(
  scenario: Scenario,
  data: RunData,
  options: SimulateRunOptions & {
    ceiling?: boolean;
    onCeilingProgress?: (fraction: number) => void;
  },
): RunCeiling {
  const n = data.meta.agents;
  if (options.ceiling === false) return { skipped: "--no-ceiling was given" };
  if (options.ceiling === undefined && n > CEILING_MAX_AGENTS)
    return {
      skipped: `${n} agents, above the default limit of ${CEILING_MAX_AGENTS} (simulate --ceiling computes it anyway)`,
    };
  const pass = ceilingPass(withChannel(withProtocol(scenario, options.protocol), options.channel), {
    seed: data.meta.seed,
    agents: options.agents,
    durationS: data.meta.durationS,
    indexCases: data.indexCases,
    closeDistanceM: data.meta.closeDistanceM,
    closeMinutes: data.meta.closeMinutes,
    scans: receiverScans(data.sightings, data.meta.startMs),
    onProgress: options.onCeilingProgress,
  });
  const mismatches = trajectoryMismatches(pass.closeSeconds, data.truth.pairs);
  if (mismatches > 0)
    return {
      skipped: `the second pass moved differently from the run (${mismatches} pairs' close time differ); please report this`,
    };
  return pass.ceiling;
}

export function runPipeline(
  scenario: Scenario,
  options: SimulateRunOptions & {
    /** Shipped presets to run, by name (default every one, ours first). */
    presets?: readonly string[];
    /** Detectors to run instead of `presets`, e.g. variants of a preset (their names must differ). */
    detectors?: readonly RiskPreset[];
    /** Ceiling pass: true always, false never, default up to `CEILING_MAX_AGENTS` agents. */
    ceiling?: boolean;
    /** Progress of the ceiling pass, per simulated minute. */
    onCeilingProgress?: (fraction: number) => void;
    /** Progress of the matching and detection, per receiver. */
    onMatchProgress?: (fraction: number) => void;
  } = {},
): PipelineResult {
  const t0 = performance.now();
  const simulated = simulateRun(scenario, options);
  const t1 = performance.now();
  const data: SimulatedRun = { ...simulated, ceiling: runCeiling(scenario, simulated, options) };
  const tc = performance.now();
  const detectors = options.detectors ?? defaultDetectors(options.presets ?? PRESET_NAMES);
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
    timings: { simulateMs: t1 - t0, ceilingMs: tc - t1, detectMs: t2 - tc, evaluateMs: t3 - t2 },
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

/** The report section of a pipeline run (its channel and measured readings from the caller). */
export function pipelineReportRun(result: PipelineResult, extras: ReportRunExtras = {}): ReportRun {
  return reportRun(
    result.data,
    result.evaluation,
    result.detections,
    result.data.rssiVsDistance,
    extras,
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

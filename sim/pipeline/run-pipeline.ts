/**
 * The whole simulated pipeline for one scenario, streamed: the world runs, and as it goes each
 * stored sighting is written (when a folder is wanted), matched against the index cases' keys
 * chunk by chunk (`StreamingDetector`) and counted for link coverage, and every close second
 * feeds the evaluation (`RunAccumulator`); at the end every ordered pair is scored by every
 * detector, the ceiling pass runs (a second world of the same scenario and seed scoring what an
 * exact mean signal allows, every second and at the receivers' scans: `sim/evaluation/ceiling.ts`),
 * and the evaluation, the truth tables and the summary are finished. Memory holds one chunk of
 * sightings and compact per-pair state, never the run's sightings or detection objects (unless
 * `collect` asks for them, for small runs and tests). `rerunFolder` redoes detection and
 * evaluation from a folder's files alone.
 */
import { availableParallelism } from "node:os";
import { PRESET_NAMES, type RiskPreset } from "../../src/exposure/risk-preset.js";
import { GAEN_INTERVAL_MS } from "../../src/protocols/gaen.js";
import type { DayKey } from "../../src/protocols/rolling-id-scheme.js";
import type { Sighting } from "../../src/signal/sighting.js";
import {
  CEILING_MAX_AGENTS,
  ceilingPass,
  receiverScans,
  trajectoryMismatches,
} from "../evaluation/ceiling.js";
import { evaluateRun, type RunEvaluation } from "../evaluation/evaluate-run.js";
import type { ReportRunExtras } from "../evaluation/report-run.js";
import { assembleReportRun, type RunAccumulation } from "../evaluation/run-accumulator.js";
import type { OutputFormat } from "../io/table-writer.js";
import type { ReportRun } from "../report/report-input.js";
import type { Scenario } from "../world/scenario.js";
import {
  type DetectionRow,
  defaultDetectors,
  detectContacts,
  type PairDetection,
} from "./detect-contacts.js";
import { type ConsumerTaps, RunConsumer, runSummary } from "./run-consumer.js";
import type { RunCeiling, RunData, RunMeta, TruthPair } from "./run-data.js";

export { runSummary } from "./run-consumer.js";

import { ThreadedConsumer } from "./pipeline-thread.js";
import { readRunFiles, writeRunFiles } from "./run-files.js";
import {
  type SimulatedRun,
  type SimulateRunOptions,
  type StreamedRun,
  simulateStream,
  withChannel,
  withProtocol,
} from "./simulate-run.js";

/**
 * Agent-hours from which a run gets its threads by default (the pipeline thread with
 * `thread: "auto"`, the Parquet writer thread): below them a thread's start and its tens of MB
 * outweigh what it saves (plaza, 1,000 agents, 1 h: 295 MB in one thread, 410-434 MB in two).
 */
export const BIG_RUN_AGENT_HOURS = 1000;

/**
 * Simulated time matched at once by default: one GAEN interval (10 minutes) up to 10,000 agents,
 * then shorter, in whole minutes down to one, so that a chunk holds about as many sightings as 10
 * minutes of 10,000 agents. The chunk's sightings, the matcher's table over them and the accepted
 * ones are held at once: at 100,000 agents and 10 minutes that was about 2.5 GB. Matching gives
 * the same windows for any chunk (`stream-detect.ts`); a shorter chunk costs key derivations,
 * which the matcher limits to the intervals a chunk can match.
 */
export function matchChunkMsFor(agents: number): number {
  if (agents <= 10_000) return GAEN_INTERVAL_MS;
  return Math.max(1, Math.floor((10 * 10_000) / agents)) * 60_000;
}

/**
 * Which threads a run gets besides the engine's: the pipeline thread (`thread`: true, or "auto"
 * for a big run with a CPU left beside the engine's `workers`; never when `canThread` is false:
 * the ceiling pass or taps) and the Parquet writer thread (`writerThread` as given, else for a
 * big run with a CPU left beside the engine and the pipeline thread). Beside the city's shard
 * workers on two cores a writer thread slowed a city of 20,000 x 30 min from 62 s to 67-70 s and
 * added 130 MB: a thread without a CPU of its own only moves work about.
 */
export function runThreads(run: {
  agentHours: number;
  cpus: number;
  workers: number;
  thread: boolean | "auto";
  writerThread: boolean | undefined;
  canThread: boolean;
}): { threaded: boolean; writerThread: boolean } {
  const big = run.agentHours >= BIG_RUN_AGENT_HOURS;
  const cpusLeft = run.cpus - 1 - run.workers;
  const threaded =
    run.canThread && (run.thread === true || (run.thread === "auto" && big && cpusLeft > 0));
  const writerThread = run.writerThread ?? (big && cpusLeft - (threaded ? 1 : 0) > 0);
  return { threaded, writerThread };
}

/**
 * The engine's shard workers and pipeline thread a city gets by default on `cpus` CPUs. A big run
 * (`BIG_RUN_AGENT_HOURS`) without the ceiling pass gets the pipeline thread and one shard worker
 * fewer (at least one): the engine's main thread waits on its shards every step, so the thread
 * finds room. On two cores a city of 20,000 for an hour took 120 s with one shard worker and the
 * thread, 133 s with two and the thread, 140 s with two and none (the same files). Otherwise: the
 * CPUs, at most 4, and no thread.
 */
export function cityThreads(run: { cpus: number; agentHours: number; ceiling: boolean }): {
  workers: number;
  thread: boolean;
} {
  const all = Math.min(run.cpus, 4);
  if (run.ceiling || run.agentHours < BIG_RUN_AGENT_HOURS || run.cpus < 2)
    return { workers: all, thread: false };
  return { workers: Math.max(1, Math.min(run.cpus - 1, 4)), thread: true };
}

export interface PipelineOptions extends SimulateRunOptions {
  /** Shipped presets to run, by name (default every one, ours first). */
  presets?: readonly string[];
  /** Detectors to run instead of `presets`, e.g. variants of a preset (their names must differ). */
  detectors?: readonly RiskPreset[];
  /** Ceiling pass: true always, false never, default up to `CEILING_MAX_AGENTS` agents. */
  ceiling?: boolean;
  /** Progress of the ceiling pass, per simulated minute. */
  onCeilingProgress?: (fraction: number) => void;
  /** Progress of the scoring at the end of the run, per pair scored. */
  onMatchProgress?: (fraction: number) => void;
  /** Simulated time matched at once, ms (default `matchChunkMsFor(agents)`). */
  matchChunkMs?: number;
}

export interface PipelineTimings {
  /** The world, the link layer and the matching as it goes. */
  simulateMs: number;
  /** Scoring every pair at the end. */
  detectMs: number;
  /** The ceiling pass (0 when skipped). */
  ceilingMs: number;
  /** The evaluation, the truth tables and the folder's last files. */
  evaluateMs: number;
}

/** A streamed run's outcome: its small parts, the evaluation and what the report needs. */
export interface StreamedPipeline {
  readonly run: StreamedRun & { readonly ceiling: RunCeiling };
  readonly evaluation: RunEvaluation;
  /** The evaluation's state (in-thread runs only): the truth pairs, the report. */
  readonly accumulation?: RunAccumulation;
  /** The report section of the run (its channel and measured readings from the caller). */
  report(extras?: ReportRunExtras): ReportRun;
  /** What summary.json holds. */
  readonly summary: RunSummary;
  readonly detectorNames: readonly string[];
  readonly timings: PipelineTimings;
}

export interface PipelineResult extends StreamedPipeline {
  readonly accumulation: RunAccumulation;
  /** Everything kept (sightings, truth pairs): `runPipeline` collects it for small runs. */
  readonly data: SimulatedRun;
  readonly detections: PairDetection[];
}

export type RunSummary = ReturnType<typeof runSummary>;

/** Why the ceiling pass is skipped for a run of `agents`, or undefined when it runs (see `PipelineOptions.ceiling`). */
export function ceilingSkipped(agents: number, ceiling: boolean | undefined): string | undefined {
  if (ceiling === false) return "--no-ceiling was given";
  if (ceiling === undefined && agents > CEILING_MAX_AGENTS)
    return `${agents} agents, above the default limit of ${CEILING_MAX_AGENTS} (simulate --ceiling computes it anyway)`;
  return undefined;
}

/**
 * The run's ceiling: `ceiling` true computes it, false skips it, undefined computes it up to
 * `CEILING_MAX_AGENTS` agents. Not computed when the second world's ground truth differs from
 * the run's (the ceiling would be about other trajectories).
 */
export function runCeiling(
  scenario: Scenario,
  data: {
    readonly meta: RunMeta;
    readonly indexCases: readonly number[];
    /** Each receiver's stored sighting times. */
    readonly sightings: readonly (readonly { readonly atMs: number }[])[];
    readonly truth: { readonly pairs: readonly TruthPair[] };
  },
  options: SimulateRunOptions & {
    ceiling?: boolean;
    onCeilingProgress?: (fraction: number) => void;
  },
): RunCeiling {
  const skipped = ceilingSkipped(data.meta.agents, options.ceiling);
  if (skipped !== undefined) return { skipped };
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

/**
 * Runs the pipeline streaming. With `out`, the run folder is written as it goes (sightings as
 * they are heard, detections and windows as pairs are scored, truth tables at the end) into
 * `<dir>.partial` and moved into `dir` with summary.json last; the report is the caller's.
 * With `thread` (and no ceiling pass, no taps), matching, evaluation and files run in a worker
 * thread of their own while the engine runs here: the same files and figures.
 */
export function streamPipeline(
  scenario: Scenario,
  options: PipelineOptions & {
    /**
     * `writerThread`: Parquet encoded in a writer thread (the same bytes). Default: for runs of
     * `BIG_RUN_AGENT_HOURS` or more when a CPU is left beside the engine's threads (and the
     * pipeline thread, when it runs).
     */
    out?: { dir: string; format?: OutputFormat; writerThread?: boolean };
    /**
     * Matching, evaluation and files in a worker thread (never with the ceiling pass or taps).
     * "auto": for runs of `BIG_RUN_AGENT_HOURS` or more when a CPU is left beside the engine's
     * threads. Default false.
     */
    thread?: boolean | "auto";
  } = {},
  taps: ConsumerTaps = {},
): StreamedPipeline {
  const detectors = options.detectors ?? defaultDetectors(options.presets ?? PRESET_NAMES);
  const detectorNames = detectors.map((d) => d.name);
  let consumer: RunConsumer | ThreadedConsumer | undefined;
  try {
    const t0 = performance.now();
    // Each receiver's sighting times, for the ceiling pass's scans (only when it runs).
    let scanTimes: { atMs: number }[][] | undefined;
    let keysNow: ((agent: number) => readonly DayKey[]) | undefined;
    const run = simulateStream(scenario, options, {
      start: ({ meta, indexCases, protocolOf }) => {
        const withCeiling = ceilingSkipped(meta.agents, options.ceiling) === undefined;
        const { threaded, writerThread } = runThreads({
          agentHours: (meta.agents * meta.durationS) / 3600,
          cpus: availableParallelism(),
          workers: options.workers ?? 0,
          thread: options.thread ?? false,
          writerThread: options.out?.writerThread,
          canThread: !withCeiling && Object.keys(taps).length === 0,
        });
        const init = {
          meta,
          indexCases,
          protocolOf,
          detectors,
          out: options.out && {
            dir: options.out.dir,
            format: options.out.format ?? ("parquet" as const),
            writerThread,
          },
          matchChunkMs: options.matchChunkMs ?? matchChunkMsFor(meta.agents),
        };
        consumer = threaded
          ? new ThreadedConsumer(init, options.onMatchProgress)
          : new RunConsumer(init, taps);
        if (withCeiling) scanTimes = Array.from({ length: meta.agents }, () => []);
      },
      sighting: (receiver, s, sender) => {
        consumer!.sighting(receiver, s, sender);
        scanTimes?.[receiver].push({ atMs: s.atMs });
      },
      // The pipeline thread's batches copy every field (the in-thread consumer keeps Bluezone
      // and DP-3T sightings, and taps may keep any).
      copiesSightings: () => consumer instanceof ThreadedConsumer,
      close: (a, b, fromS, toS) => consumer!.close(a, b, fromS, toS),
      stepEnd: (atMs, keysOf) => {
        keysNow = keysOf;
        consumer!.stepEnd(atMs, keysOf);
      },
    });
    const t1 = performance.now();
    const parts = {
      meta: run.meta,
      indexCases: run.indexCases,
      agents: run.agents,
      published: run.published,
    };
    if (consumer instanceof ThreadedConsumer) {
      const ceiling = { skipped: ceilingSkipped(run.meta.agents, options.ceiling)! };
      const done = consumer.finish(keysNow ?? run.keysOf, run, ceiling);
      const summary = runSummary(run, done.evaluation, run.rssiVsDistance);
      return {
        run: { ...run, ceiling },
        evaluation: done.evaluation,
        summary,
        detectorNames,
        report: (extras = {}) =>
          assembleReportRun(run.meta, done.evaluation, done.timeline, run.rssiVsDistance, extras),
        timings: { simulateMs: t1 - t0, ...done.timings },
      };
    }
    const local = consumer as RunConsumer;
    local.score(keysNow ?? run.keysOf, run.groundTruth, options.onMatchProgress);
    const t2 = performance.now();
    let ceiling: RunCeiling;
    if (scanTimes === undefined) {
      ceiling = { skipped: ceilingSkipped(run.meta.agents, options.ceiling)! };
    } else {
      // The ceiling's consistency check compares every close pair's seconds with the world's.
      const pairs: TruthPair[] = [];
      run.groundTruth.forEachClosePair((a, b, closeS, minDistanceM) =>
        pairs.push({ a, b, closeS, minDistanceM, closeIntervals: [] }),
      );
      ceiling = runCeiling(
        scenario,
        { meta: run.meta, indexCases: run.indexCases, sightings: scanTimes, truth: { pairs } },
        options,
      );
      scanTimes = undefined;
    }
    const t3 = performance.now();
    const accumulation = local.evaluate(run.meta, ceiling);
    const evaluation = accumulation.evaluation;
    const summary = runSummary(run, evaluation, run.rssiVsDistance);
    local.finishFolder(accumulation, parts, ceiling, summary);
    const t4 = performance.now();
    return {
      run: { ...run, ceiling },
      evaluation,
      accumulation,
      summary,
      detectorNames,
      report: (extras = {}) => accumulation.report(run.rssiVsDistance, extras),
      timings: { simulateMs: t1 - t0, detectMs: t2 - t1, ceilingMs: t3 - t2, evaluateMs: t4 - t3 },
    };
  } catch (error) {
    consumer?.abort();
    throw error;
  }
}

/**
 * `streamPipeline` keeping everything in memory as well: each receiver's sightings, the truth
 * pairs and every detection with its windows (for small runs, studies and tests).
 */
export function runPipeline(scenario: Scenario, options: PipelineOptions = {}): PipelineResult {
  const sightings: Sighting[][] = [];
  const rows: DetectionRow[] = [];
  const spans = new Map<number, [number, number][]>();
  const streamed = streamPipeline(scenario, options, {
    sighting: (receiver, s) => {
      while (sightings.length <= receiver) sightings.push([]);
      sightings[receiver].push(s);
    },
    detection: (d) => rows.push(d),
    window: (index, receiver, startS, endS) => {
      const key = index * 2 ** 20 + receiver;
      let list = spans.get(key);
      if (!list) {
        list = [];
        spans.set(key, list);
      }
      list.push([startS, endS]);
    },
  });
  const { run } = streamed;
  const accumulation = streamed.accumulation!;
  while (sightings.length < run.meta.agents) sightings.push([]);
  const data: SimulatedRun = {
    meta: run.meta,
    sightings,
    indexCases: run.indexCases,
    published: run.published,
    truth: { agents: run.agents, pairs: truthPairsOnce(accumulation) },
    ceiling: run.ceiling,
    rssiVsDistance: run.rssiVsDistance,
    sightingCount: run.sightingCount,
    wallMs: run.wallMs,
  };
  const detections = rows.map((d) => ({
    ...d,
    windows: spans.get(d.index * 2 ** 20 + d.receiver) ?? [],
  }));
  return { ...streamed, accumulation, data, detections };
}

/** Every truth pair, read once; the pairs' rows (files past 4 MB) are closed after. */
function truthPairsOnce(accumulation: RunAccumulation): TruthPair[] {
  try {
    return [...accumulation.truthPairs()];
  } finally {
    accumulation.close();
  }
}

/** Writes the run folder's data files of a collected run (the report is written by the caller). */
export function writePipelineRun(
  dir: string,
  result: PipelineResult,
  format: OutputFormat = "parquet",
): void {
  writeRunFiles(dir, result.data, result.detections, result.summary, format);
}

/** The report section of a pipeline run (its channel and measured readings from the caller). */
export function pipelineReportRun(
  result: StreamedPipeline,
  extras: ReportRunExtras = {},
): ReportRun {
  return result.report(extras);
}

/** Re-runs matching, detection and evaluation from a run folder's sightings, keys and truth. */
export async function rerunFolder(
  dir: string,
  presets: readonly string[] = PRESET_NAMES,
): Promise<{ data: RunData; detections: PairDetection[]; evaluation: RunEvaluation }> {
  const data = await readRunFiles(dir);
  const detectors = defaultDetectors(presets);
  const detections = detectContacts(data, { presets: detectors });
  const evaluation = evaluateRun(
    data,
    detections,
    detectors.map((d) => d.name),
  );
  return { data, detections, evaluation };
}

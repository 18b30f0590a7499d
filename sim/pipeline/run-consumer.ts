/**
 * What the streaming pipeline does with a run as it goes, apart from the world itself: write the
 * run folder, match and score (`StreamingDetector`), evaluate (`RunAccumulator`). The same class
 * runs in the simulation's thread or, for big runs, in a worker thread of its own
 * (`pipeline-thread.ts`) fed with the run's events in batches: on two cores the matching, the
 * evaluation and the files then take the second core while the engine keeps the first.
 */
import type { RiskPreset } from "../../src/exposure/risk-preset.js";
import type { DayKey, Protocol } from "../../src/protocols/rolling-id-scheme.js";
import type { Sighting } from "../../src/signal/sighting.js";
import type { RunEvaluation } from "../evaluation/evaluate-run.js";
import {
  type RunAccumulation,
  RunAccumulator,
  type RunTruth,
} from "../evaluation/run-accumulator.js";
import type { OutputFormat } from "../io/table-writer.js";
import type { DetectionRow } from "./detect-contacts.js";
import type {
  PublishedKeySet,
  RssiDistanceSample,
  RunCeiling,
  RunData,
  RunMeta,
  TruthAgent,
} from "./run-data.js";
import { openRunWriter, type RunWriter } from "./run-files.js";
import { decisionRows, StreamingDetector } from "./stream-detect.js";

/** The summary written as summary.json (no wall times: the same seed gives the same bytes). */
export function runSummary(
  data: {
    readonly meta: RunMeta;
    readonly indexCases: readonly number[];
    readonly sightingCount?: number;
    readonly sightings?: RunData["sightings"];
  },
  evaluation: RunEvaluation,
  rssiVsDistance: readonly RssiDistanceSample[],
) {
  return {
    run: data.meta,
    sightings: data.sightingCount ?? data.sightings?.reduce((s, l) => s + l.length, 0) ?? 0,
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

export interface RunConsumerInit {
  readonly meta: RunMeta;
  readonly indexCases: readonly number[];
  readonly protocolOf: (agent: number) => Protocol;
  readonly detectors: readonly RiskPreset[];
  readonly out?: {
    readonly dir: string;
    readonly format: OutputFormat;
    /** Parquet encoded in a writer thread (default false). */
    readonly writerThread?: boolean;
  };
  readonly matchChunkMs?: number;
}

/** What the consumer can hand over besides its result (for `runPipeline`'s collection). */
export interface ConsumerTaps {
  sighting?(receiver: number, s: Sighting): void;
  detection?(d: DetectionRow): void;
  window?(index: number, receiver: number, startS: number, endS: number): void;
}

/** The run's small parts the folder's last files need. */
export interface RunEndParts {
  readonly meta: RunMeta;
  readonly indexCases: readonly number[];
  readonly agents: readonly TruthAgent[];
  readonly published: PublishedKeySet;
}

export class RunConsumer {
  /** Let go once every pair is scored: its handles and columns are not needed by the evaluation. */
  private detectorState: StreamingDetector | undefined;
  readonly accumulator: RunAccumulator;
  private readonly writer: RunWriter | undefined;
  private readonly taps: ConsumerTaps;
  private readonly detectorNames: readonly string[];

  constructor(init: RunConsumerInit, taps: ConsumerTaps = {}) {
    const { meta } = init;
    this.taps = taps;
    this.detectorNames = init.detectors.map((d) => d.name);
    const { out } = init;
    this.writer =
      out === undefined
        ? undefined
        : openRunWriter(out.dir, out.format, { thread: out.writerThread ?? false });
    this.detectorState = new StreamingDetector({
      presets: init.detectors,
      startMs: meta.startMs,
      agents: meta.agents,
      indexCases: init.indexCases,
      protocolOf: init.protocolOf,
      rxRssiCorrectionDb: meta.rxRssiCorrectionDb ?? 0,
      chunkMs: init.matchChunkMs,
    });
    this.accumulator = new RunAccumulator({
      agents: meta.agents,
      startMs: meta.startMs,
      closeMinutes: meta.closeMinutes,
      detectorNames: init.detectors.map((d) => d.name),
      indexCases: init.indexCases,
    });
  }

  sighting(receiver: number, s: Sighting, sender: number): void {
    this.writer?.sighting(receiver, s);
    this.detector.sighting(receiver, s);
    this.accumulator.sighting(receiver, sender, s.atMs);
    this.taps.sighting?.(receiver, s);
  }

  close(a: number, b: number, fromS: number, toS: number): void {
    this.accumulator.closeSpan(a, b, fromS, toS);
  }

  stepEnd(atMs: number, keysOf: (agent: number) => readonly DayKey[]): void {
    this.detector.advanceTo(atMs, keysOf);
  }

  /**
   * The end of the run: every pair scored by every detector, into the folder and the evaluation,
   * which judges each decision against the world's `truth` as it comes.
   */
  score(
    keysOf: (agent: number) => readonly DayKey[],
    truth: RunTruth,
    onProgress?: (f: number) => void,
  ): void {
    const { writer, accumulator, taps } = this;
    const names = this.detectorNames;
    const detector = this.detector;
    // Nothing refers to the detector past this call, so its memory is free for the evaluation.
    this.detectorState = undefined;
    accumulator.scoreAgainst(truth);
    detector.finish(
      keysOf,
      {
        decisions: (index, receiver, d) => {
          writer?.decisions(index, receiver, names, d);
          accumulator.decisions(index, receiver, d);
          if (taps.detection)
            for (const row of decisionRows(names, index, receiver, d)) taps.detection(row);
        },
        window: (index, receiver, startS, endS) => {
          writer?.window(index, receiver, startS, endS);
          accumulator.window(index, receiver, startS, endS);
          taps.window?.(index, receiver, startS, endS);
        },
      },
      onProgress,
    );
  }

  /** The evaluation against the truth given to `score` (and the ceiling, when there is one). */
  evaluate(meta: RunMeta, ceiling: RunCeiling): RunAccumulation {
    return this.accumulator.finish({ meta, ceiling });
  }

  /** The folder's truth tables and last files; it is moved into place. */
  finishFolder(
    accumulation: RunAccumulation,
    run: RunEndParts,
    ceiling: RunCeiling,
    summary: unknown,
  ): void {
    if (!this.writer) return;
    for (const p of accumulation.truthPairs()) this.writer.truthPair(p);
    this.writer.finish({ ...run, ceiling, summary });
  }

  private get detector(): StreamingDetector {
    if (this.detectorState === undefined) throw new Error("the run's pairs are already scored");
    return this.detectorState;
  }

  /** The run failed: no spill files, no partial folder left. */
  abort(): void {
    this.detectorState?.close();
    this.accumulator.discard();
    this.writer?.abort();
  }
}

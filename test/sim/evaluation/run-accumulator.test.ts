import { describe, expect, it } from "vitest";
import { accumulateRunData, RunAccumulator } from "../../../sim/evaluation/run-accumulator.js";
import { runSimulation } from "../../../sim/engine/run-simulation.js";
import {
  defaultDetectors,
  detectContacts,
  type PairDetection,
} from "../../../sim/pipeline/detect-contacts.js";
import { pairKey, type RunData } from "../../../sim/pipeline/run-data.js";
import { runCeiling } from "../../../sim/pipeline/run-pipeline.js";
import { decisionRows } from "../../../sim/pipeline/stream-detect.js";
import {
  DEFAULT_START_MS,
  type SimulateRunOptions,
  simulateRun,
  withChannel,
  withProtocol,
} from "../../../sim/pipeline/simulate-run.js";
import { builtInScenario } from "../../../sim/world/scenario.js";
import { SeededRandom } from "../../../src/core/random.js";
import {
  referenceEvaluateRun,
  referenceLinkCoverage,
  referenceReportRun,
} from "./reference-evaluate.js";

interface Case {
  readonly name: string;
  readonly scenario: string;
  readonly options: SimulateRunOptions & { ceiling?: boolean };
}

// Small runs, a few seconds each: every protocol mix, continuous scanning, index shares, with
// and without the ceiling.
const cases: Case[] = [
  { name: "classroom", scenario: "classroom", options: { seed: 3, agents: 12, durationS: 1500 } },
  {
    name: "tram, no ceiling",
    scenario: "tram",
    options: { seed: 2, agents: 30, durationS: 1200, ceiling: false },
  },
  {
    name: "checkpoint queue (continuous scanning, mixed protocols)",
    scenario: "checkpoint-queue",
    options: { seed: 4, agents: 25, durationS: 1500 },
  },
  {
    name: "plaza, mixed protocols, index share 0.3",
    scenario: "plaza",
    options: { seed: 7, agents: 60, durationS: 1200, indexShare: 0.3, ceiling: false },
  },
  {
    name: "classroom on bluezone, index share 0.3, 5 close minutes",
    scenario: "classroom",
    options: {
      seed: 9,
      agents: 14,
      durationS: 1200,
      protocol: "bluezone",
      indexShare: 0.3,
      closeMinutes: 5,
    },
  },
];

function pipeline(c: Case) {
  const scenario = builtInScenario(c.scenario);
  const simulated = simulateRun(scenario, c.options);
  const data = { ...simulated, ceiling: runCeiling(scenario, simulated, c.options) };
  const detectors = defaultDetectors();
  const detections = detectContacts(data, { presets: detectors });
  return { scenario, data, detections, names: detectors.map((d) => d.name) };
}

function reference(data: RunData, detections: readonly PairDetection[], names: string[]) {
  const evaluation = referenceEvaluateRun(data, detections, names);
  return { evaluation, report: referenceReportRun(data, evaluation, detections, []) };
}

function shuffled<T>(list: readonly T[], random: SeededRandom): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe("RunAccumulator over a replayed run: the same evaluation, truth and report as before", () => {
  for (const c of cases) {
    it(c.name, () => {
      const { data, detections, names } = pipeline(c);
      expect(detections.length).toBeGreaterThan(0);
      const expected = reference(data, detections, names);
      const got = accumulateRunData(data, detections, names);
      expect(got.evaluation).toEqual(expected.evaluation);
      expect(JSON.stringify(got.evaluation)).toBe(JSON.stringify(expected.evaluation));
      expect([...got.truthPairs()]).toEqual(data.truth.pairs);
      const rssi = data.rssiVsDistance.slice(0, 5);
      expect(got.report(rssi)).toEqual(
        referenceReportRun(data, expected.evaluation, detections, rssi),
      );
      expect(referenceLinkCoverage(data)).toEqual({
        detection: got.evaluation.detection,
        continuity: got.evaluation.continuity,
      });
      if (c.options.ceiling === false)
        expect(got.evaluation.referencesNote).toMatch(/--no-ceiling/);
      else expect(got.evaluation.references.map((r) => r.name)).toContain("ceiling");
    });
  }
});

describe("RunAccumulator's timeline keeps only the spans it can show", () => {
  it("many notified pairs, decisions in any order: the same timeline as the reference", () => {
    const { data } = pipeline(cases[2]);
    // Most ordered pairs decided by "x" (two in three notified), with one to three spans each,
    // close in truth or not, index cases or not, in shuffled order.
    const random = new SeededRandom(3);
    const planted: PairDetection[] = [];
    const agents = data.truth.agents.length;
    for (let index = 0; index < agents; index++)
      for (let receiver = 0; receiver < agents; receiver++) {
        if (index === receiver || random.int(4) === 0) continue;
        const windows = Array.from(
          { length: 1 + random.int(3) },
          (_, k) => [k * 300, k * 300 + 60 + random.int(200)] as const,
        );
        planted.push({
          detector: "x",
          index,
          receiver,
          score: random.int(40),
          estimatedMinutes: random.int(30),
          notified: random.int(3) > 0,
          windows,
        });
      }
    expect(planted.filter((d) => d.notified).length).toBeGreaterThan(250);
    // The reference lists them as detectContacts does: by receiver, then index case.
    planted.sort((x, y) => x.receiver - y.receiver || x.index - y.index);
    const got = accumulateRunData(data, shuffled(planted, random), ["x"]);
    const expected = reference(data, planted, ["x"]);
    expect(got.evaluation).toEqual(expected.evaluation);
    expect(got.report([])).toEqual(expected.report);
    expect(got.timeline().some((e) => e.kind === "detected")).toBe(true);
  });
});

/**
 * A run fed to an accumulator as the pipeline feeds it: the engine's close seconds and sightings
 * as they come, then the decisions (by receiver, then index case), then the windows in any order.
 */
function streamed(c: Case, rowsInMemoryBytes?: number, sweepMinRecords?: number) {
  const { scenario, data, detections, names } = pipeline(c);
  const o = c.options;
  const closeDistanceM = o.closeDistanceM ?? 2;
  const acc = new RunAccumulator({
    agents: data.meta.agents,
    startMs: data.meta.startMs,
    closeMinutes: data.meta.closeMinutes,
    detectorNames: names,
    indexCases: data.indexCases,
    rowsInMemoryBytes,
    sweepMinRecords,
  });
  const run = runSimulation(withChannel(withProtocol(scenario, o.protocol), o.channel), {
    seed: o.seed,
    agents: o.agents,
    durationS: o.durationS,
    startMs: DEFAULT_START_MS,
    groundTruth: {
      closeDistanceM,
      closeMinutes: data.meta.closeMinutes,
      rangeM: 5,
      onSample: (a, b, distanceM, atMs) => {
        if (distanceM <= closeDistanceM)
          acc.close(Math.min(a, b), Math.max(a, b), Math.round(atMs / 1000));
      },
    },
    onSighting: (receiver, s, sender) => acc.sighting(receiver, sender, Math.round(s.atMs)),
  });
  const before = acc.bytes();
  acc.scoreAgainst(run.world.groundTruth!);
  for (const d of detections)
    acc.detection({
      detector: d.detector,
      index: d.index,
      receiver: d.receiver,
      score: d.score,
      estimatedMinutes: d.estimatedMinutes,
      notified: d.notified,
    });
  const random = new SeededRandom(11);
  const windowsOf = new Map<number, PairDetection["windows"]>();
  for (const d of detections) windowsOf.set(pairKey(d.index, d.receiver), d.windows);
  for (const [key, windows] of shuffled([...windowsOf], random))
    for (const [startS, endS] of windows)
      acc.window(Math.floor(key / 2 ** 20), key % 2 ** 20, startS, endS);
  expect(acc.bytes().counts.detectionRows).toBe(detections.length);
  const got = acc.finish({ meta: data.meta, ceiling: data.ceiling });
  return { data, detections, names, before, got };
}

describe("RunAccumulator fed as the run streams", () => {
  for (const c of [cases[2], cases[3]]) {
    it(`${c.name}: the engine's events as they come, then decisions, then windows shuffled`, () => {
      const { data, detections, names, got } = streamed(c);
      const expected = reference(data, detections, names);
      expect(got.evaluation).toEqual(expected.evaluation);
      expect([...got.truthPairs()]).toEqual(data.truth.pairs);
      expect(got.report([])).toEqual(expected.report);
    });
  }

  it("three hours of a plaza: pairs leave the tables when not met and count the same when met again, through files", () => {
    const c: Case = {
      name: "plaza, 3 h",
      scenario: "plaza",
      options: { seed: 5, agents: 40, durationS: 3 * 3600, ceiling: false },
    };
    const { data, detections, names, before, got } = streamed(c, 1024, 0);
    // Most pairs met left the tables, and came back as new records.
    expect(before.counts.liveClosePairs).toBeLessThan(before.counts.closePairs);
    expect(before.counts.closePairs).toBeGreaterThan(data.truth.pairs.length);
    const expected = reference(data, detections, names);
    expect(got.evaluation).toEqual(expected.evaluation);
    expect([...got.truthPairs()]).toEqual(data.truth.pairs);
    expect(got.report([])).toEqual(expected.report);
    got.close();
    expect(() => [...got.truthPairs()]).toThrow(/closed/);
  });
});

describe("RunAccumulator", () => {
  const START_MS = DEFAULT_START_MS;
  const make = () =>
    new RunAccumulator({
      agents: 3,
      startMs: START_MS,
      closeMinutes: 1,
      detectorNames: ["x"],
      indexCases: [0, 1, 2],
    });
  const truth = (closeS: number) => ({ closeSeconds: () => closeS, minDistanceM: () => 1 });
  const meta = {
    scenario: "planted",
    protocol: "gaen",
    agents: 3,
    durationS: 600,
    seed: 1,
    startMs: START_MS,
    indexShare: 1,
    closeDistanceM: 2,
    closeMinutes: 1,
  };

  it("a window counts as covered whichever of its sighting and close second comes first", () => {
    for (const sightingFirst of [true, false]) {
      const acc = make();
      for (let t = 0; t < 90; t++) {
        // Heard in windows 0 and 2 (seconds 10 and 70), 1 heard nothing.
        const heard = t === 10 || t === 70;
        if (heard && sightingFirst) acc.sighting(1, 0, START_MS + t * 1000 + 400);
        acc.close(0, 1, t);
        acc.close(0, 1, t); // a repeat changes nothing
        if (heard && !sightingFirst) acc.sighting(1, 0, START_MS + t * 1000 + 400);
      }
      acc.scoreAgainst(truth(90));
      const e = acc.finish({ meta }).evaluation;
      // Ordered pairs 0→1 (heard, 2 of 3 windows) and 1→0 (never heard).
      expect([e.detection, e.continuity]).toEqual([0.5, 0.3333]);
    }
  });

  it("a sighting before the pair was ever close still counts as heard, and one lagging a window", () => {
    const acc = make();
    acc.sighting(1, 0, START_MS + 5_000);
    acc.close(0, 1, 40); // window 1
    acc.sighting(1, 0, START_MS + 29_600); // window 0, after close() reached window 1
    acc.close(0, 1, 29); // older than the interval's end: ignored, as the engine's repeats
    acc.scoreAgainst(truth(60));
    const got = acc.finish({ meta });
    expect(got.evaluation.detection).toBe(0.5);
    expect(got.evaluation.continuity).toBe(0);
    expect([...got.truthPairs()]).toEqual([
      { a: 0, b: 1, closeS: 60, minDistanceM: 1, closeIntervals: [[40, 41]] },
    ]);
  });

  it("refuses a stream running far behind the other, a repeated decision, and use after finish", () => {
    const acc = make();
    acc.close(0, 1, 3600);
    expect(() => acc.sighting(1, 0, START_MS + 1000)).toThrow(/behind/);
    const row = {
      detector: "x",
      index: 0,
      receiver: 1,
      score: 1,
      estimatedMinutes: 1,
      notified: true,
    };
    expect(() => acc.detection(row)).toThrow(/after scoreAgainst/);
    acc.scoreAgainst(truth(1));
    expect(() => acc.close(0, 1, 3601)).toThrow(/before its scoring/);
    acc.detection(row);
    expect(() => acc.detection({ ...row, score: 2, estimatedMinutes: 2 })).toThrow(/twice/);
    acc.window(0, 1, 0, 30);
    expect(() => acc.detection({ ...row, detector: "y" })).toThrow(/came again/);
    expect(() => acc.detection({ ...row, receiver: 0, index: 1 })).toThrow(
      /by receiver, then index case/,
    );
    acc.finish({ meta });
    expect(() => acc.close(0, 1, 3601)).toThrow(/finished/);
  });

  it("scores that are not whole thousandths are kept exactly", () => {
    const acc = make();
    acc.scoreAgainst(truth(0));
    for (const [index, score] of [
      [2, 1e12],
      [0, 1.5],
      [1, 0.1 + 0.2],
    ])
      acc.detection({
        detector: "x",
        index,
        receiver: (index + 1) % 3,
        score,
        estimatedMinutes: score,
        notified: false,
      });
    const curve = acc.finish({ meta }).evaluation.prCurves[0].points;
    expect(curve.map((p) => p.threshold)).toEqual([1e12, 1.5, 0.3]);
  });

  it("keeps a pair's intervals across gaps, and takes a pair's decisions at once as one by one", () => {
    const names = ["x", "y", "x"];
    const make3 = () =>
      new RunAccumulator({
        agents: 3,
        startMs: START_MS,
        closeMinutes: 1,
        detectorNames: names,
        indexCases: [0, 1, 2],
      });
    const feed = (acc: RunAccumulator, atOnce: boolean) => {
      for (const t of [0, 1, 2, 10, 11, 40, 41, 42, 43]) acc.close(1, 0, t);
      acc.closeSpan(0, 2, 5, 95);
      acc.closePair(1, 2);
      acc.sighting(1, 0, START_MS + 1_000);
      acc.scoreAgainst(truth(90));
      for (const [index, receiver] of [
        [2, 0],
        [0, 1],
      ]) {
        const d = {
          score: Float64Array.of(index + 0.25, 2, 3),
          minutes: Float64Array.of(1, index + 1.5, 3),
          notified: Uint8Array.of(1, 0, 1),
        };
        if (atOnce) expect(() => acc.decisions(index, receiver, d)).toThrow(/x decided.*twice/);
        else
          decisionRows(names, index, receiver, d).forEach((row, j) => {
            if (j < 2) acc.detection(row);
            else expect(() => acc.detection(row)).toThrow(/x decided.*twice/);
          });
        acc.window(index, receiver, 0, 30);
        acc.window(index, receiver, 30, 60);
      }
      return acc.finish({ meta });
    };
    const atOnce = feed(make3(), true);
    const oneByOne = feed(make3(), false);
    expect([...atOnce.truthPairs()].map((p) => [p.a, p.b, p.closeIntervals])).toEqual([
      [
        0,
        1,
        [
          [0, 3],
          [10, 12],
          [40, 44],
        ],
      ],
      [0, 2, [[5, 95]]],
      [1, 2, []],
    ]);
    expect(atOnce.evaluation).toEqual(oneByOne.evaluation);
    expect(atOnce.report([])).toEqual(oneByOne.report([]));
    expect(atOnce.timeline().filter((e) => e.kind === "detected")).toHaveLength(4);
  });
});

import { describe, expect, it } from "vitest";
import {
  ceilingPass,
  missedScanShare,
  receiverScans,
  SignalHistogram,
  scanSteps,
  sweepThreshold,
  trajectoryMismatches,
} from "../../../sim/evaluation/ceiling.js";
import { PAIR_KEY_BASE } from "../../../sim/pipeline/run-data.js";
import { simulateRun } from "../../../sim/pipeline/simulate-run.js";
import { DEFAULT_PROPAGATION, pathLossDb } from "../../../sim/world/propagation.js";
import { builtInScenario, loadScenario } from "../../../sim/world/scenario.js";
import { SeededRandom } from "../../../src/core/random.js";

describe("SignalHistogram", () => {
  it("k-th largest: the brute-force k-th largest rounded down to the bin grid", () => {
    const random = new SeededRandom(7);
    const h = new SignalHistogram(-100, -20, 0.5);
    expect(h.bins).toBe(160);
    for (let trial = 0; trial < 50; trial++) {
      const values = Array.from({ length: 1 + random.int(300) }, () => -110 + random.float() * 95);
      // Some on bin edges, some at or above the top.
      values.push(-90, -89.5, -20, -15);
      const counts = h.newCounts();
      for (const v of values) h.add(counts, v);
      const counted = values.filter((v) => v >= -100).sort((a, b) => b - a);
      for (const k of [1, 2, 5, 17, counted.length, counted.length + 1]) {
        const expected =
          k > counted.length
            ? Number.NEGATIVE_INFINITY
            : Math.min(Math.floor(counted[k - 1] * 2) / 2, -20.5);
        expect(h.kthLargest(counts, k)).toBe(expected);
      }
    }
  });

  it("nothing counted: -Infinity", () => {
    const h = new SignalHistogram(-100, -20);
    expect(h.kthLargest(h.newCounts(), 1)).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe("sweepThreshold", () => {
  const s = (score: number, positive: boolean) => ({ score, positive });

  it("picks the threshold of best F1, counting unscored positives as missed", () => {
    // 4 positives, one never scored.
    const scores = [
      s(-70, true),
      s(-75, true),
      s(-75, false),
      s(-80, false),
      s(-85, true),
      s(Number.NEGATIVE_INFINITY, false),
    ];
    const r = sweepThreshold(scores, 4);
    // θ -70: P 1, R 1/4, F1 0.4; -75: P 2/3, R 1/2, F1 4/7; -80: 1/2, 1/2, 1/2; -85: 3/5, 3/4, 2/3.
    expect(r.threshold).toBe(-85);
    expect(r.truePositives).toBe(3);
    expect(r.falsePositives).toBe(2);
    expect(r.falseNegatives).toBe(1);
    expect(r.f1).toBeCloseTo(2 / 3, 12);
    expect(r.curve.map((p) => p.threshold)).toEqual([-70, -75, -80, -85]);
    expect(r.curve[1]).toEqual({ threshold: -75, precision: 2 / 3, recall: 0.5 });
  });

  it("ties in F1 go to the highest threshold; pairs tied at θ are notified together", () => {
    // θ -70: TP 1 (F1 2/3 with 2 positives); θ -80: TP 2 FP 2 (F1 2/3): -70 wins.
    const r = sweepThreshold([s(-70, true), s(-80, true), s(-80, false), s(-80, false)], 2);
    expect(r.threshold).toBe(-70);
    expect(r.f1).toBeCloseTo(2 / 3, 12);
  });

  it("no scores: nobody notified", () => {
    expect(sweepThreshold([], 3)).toMatchObject({ threshold: null, f1: 0, falseNegatives: 3 });
    expect(sweepThreshold([s(-70, false)], 0)).toMatchObject({ threshold: null, f1: 1 });
  });
});

/** Two still phones `distanceM` apart, carried as `carry`, no shadowing: a known mean signal. */
function stillPair(distanceM: number, carry: "hand" | "pocket") {
  return loadScenario({
    name: "still-pair",
    description: "two phones, no shadowing",
    channel: "herald-only",
    durationS: 1200,
    geometry: {
      area: { xM: 0, yM: 0, widthM: 10, heightM: 10 },
      points: { a: { xM: 4, yM: 5 }, b: { xM: 4 + distanceM, yM: 5 } },
    },
    agents: ["a", "b"].map((at) => ({
      role: at,
      count: 1,
      fixed: true,
      carry: { [carry]: 1 },
      mobility: { kind: "stationary", at },
    })),
    propagation: { shadowingSigmaDb: 0 },
    protocolMix: { gaen: 1 },
    scanning: "gaen",
  });
}

describe("ceilingPass", () => {
  const options = { seed: 2, closeDistanceM: 2, closeMinutes: 15 };

  it("scores a still pair by its model mean signal, on the bin grid, both ways", () => {
    for (const [distanceM, carry, lossDb] of [
      [1, "hand", 0],
      [3, "pocket", 10],
    ] as const) {
      const scenario = stillPair(distanceM, carry);
      const pass = ceilingPass(scenario, { ...options, durationS: 1200, indexCases: [0, 1] });
      const meanDbm =
        -pathLossDb(distanceM, { ...DEFAULT_PROPAGATION, ...scenario.propagation }) - lossDb;
      const expected = Math.floor(meanDbm * 2) / 2;
      expect(pass.ceiling.rank).toBe(900);
      expect(pass.ceiling.scores).toEqual([
        { index: 0, receiver: 1, score: expected },
        { index: 1, receiver: 0, score: expected },
      ]);
      // Shorter than the close minutes: no score.
      const short = ceilingPass(scenario, { ...options, durationS: 899, indexCases: [0, 1] });
      expect(short.ceiling.scores).toEqual([]);
      // Only index cases transmit.
      const one = ceilingPass(scenario, { ...options, durationS: 1200, indexCases: [1] });
      expect(one.ceiling.scores).toEqual([{ index: 1, receiver: 0, score: expected }]);
    }
  });

  it("moves exactly as the run: the same close seconds for every pair (classroom, tram boarding)", () => {
    for (const [name, agents, durationS] of [
      ["classroom", 12, 1200],
      ["tram", 120, 600],
    ] as const) {
      const scenario = builtInScenario(name);
      const run = simulateRun(scenario, { seed: 4, agents, durationS });
      expect(run.truth.pairs.length).toBeGreaterThan(5);
      const pass = ceilingPass(scenario, {
        ...options,
        seed: 4,
        agents,
        durationS,
        indexCases: run.indexCases,
      });
      const fromRun = new Map(run.truth.pairs.map((p) => [p.a * PAIR_KEY_BASE + p.b, p.closeS]));
      expect(pass.closeSeconds).toEqual(fromRun);
      expect(trajectoryMismatches(pass.closeSeconds, run.truth.pairs)).toBe(0);
      // Another seed moves otherwise, and the check says so.
      const other = ceilingPass(scenario, {
        ...options,
        seed: 5,
        agents,
        durationS,
        indexCases: run.indexCases,
      });
      expect(trajectoryMismatches(other.closeSeconds, run.truth.pairs)).toBeGreaterThan(0);
    }
  });
});

describe("ceiling-scans: weights, scans, credits", () => {
  it("weighted k-th largest: the brute-force bin where the weight from the top reaches the target", () => {
    const random = new SeededRandom(11);
    const h = new SignalHistogram(-100, -20, 0.5);
    for (let trial = 0; trial < 50; trial++) {
      // Weights in quarter seconds: sums are exact, so the brute force has no rounding to argue.
      const values = Array.from({ length: 1 + random.int(200) }, () => ({
        dbm: -110 + random.float() * 95,
        weight: (1 + random.int(400)) / 4,
      }));
      values.push({ dbm: -90, weight: 2 }, { dbm: -20, weight: 1 }, { dbm: -15, weight: 3 });
      const w = h.newWeights();
      for (const v of values) h.add(w, v.dbm, v.weight);
      const counted = values.filter((v) => v.dbm >= -100);
      const total = counted.reduce((s, v) => s + v.weight, 0);
      for (const target of [0.25, 1, 60, 900, total / 2, total, total + 0.25]) {
        // Brute force: the highest grid threshold θ with weight(values >= θ, top bin merged) >= target.
        let expected = Number.NEGATIVE_INFINITY;
        for (let bin = h.bins - 1; bin >= 0; bin--) {
          const theta = -100 + bin * 0.5;
          const above = counted
            .filter((v) => Math.min(Math.floor(v.dbm * 2) / 2, -20.5) >= theta)
            .reduce((s, v) => s + v.weight, 0);
          if (above >= target) {
            expected = theta;
            break;
          }
        }
        expect(h.kthLargest(w, target)).toBe(expected);
      }
    }
    // With unit weights it is the counting histogram's k-th largest.
    const counts = h.newCounts();
    const w = h.newWeights();
    for (let k = 0; k < 100; k++) {
      const v = -100 + random.float() * 80;
      h.add(counts, v);
      h.add(w, v, 1);
    }
    for (const k of [1, 7, 50, 100, 101]) expect(h.kthLargest(w, k)).toBe(h.kthLargest(counts, k));
  });

  it("float sums within a millionth of a second reach the target", () => {
    const h = new SignalHistogram(-100, -20);
    const w = h.newWeights();
    // 900 s as 9 scans of 3 steps of 100/3 s each: the float sum is not exactly 900.
    for (let k = 0; k < 27; k++) h.add(w, -70, 100 / 3);
    expect(h.kthLargest(w, 900)).toBe(-70);
    expect(h.kthLargest(w, 900.001)).toBe(Number.NEGATIVE_INFINITY);
  });

  it("scans from sightings: cut at gaps over 25.5 s and at one minute, in run time", () => {
    const startMs = 1_000_000;
    const at = (...ms: number[]) => ms.map((t) => ({ atMs: startMs + t }));
    const [one, none, long] = receiverScans(
      [
        at(1000, 1255, 4900, 250_000, 253_000, 278_600, 500_000),
        [],
        // Every second for 150 s (a continuous scanner): minute-long scans.
        at(...Array.from({ length: 150 }, (_, k) => k * 1000)),
      ],
      startMs,
    );
    expect(one).toEqual({
      firstMs: [1000, 250_000, 278_600, 500_000],
      lastMs: [4900, 253_000, 278_600, 500_000],
    });
    expect(none).toEqual({ firstMs: [], lastMs: [] });
    expect(long.firstMs).toEqual([0, 60_000, 120_000]);
    expect(long.lastMs).toEqual([59_000, 119_000, 149_000]);
    expect(missedScanShare([one], 300_000)).toBe(0);
    expect(missedScanShare([{ firstMs: [0, 250_000, 850_000], lastMs: [] }], 300_000)).toBe(0.5);
  });

  it("scan steps: each scan's credit spread over its seconds, adding up to the credits", () => {
    // Gaps 240 s and 600 s (capped at 300 s); the first scan gets the median of the gaps within
    // the cap, 240 s.
    const scans = { firstMs: [10_500, 250_500, 850_200], lastMs: [14_400, 250_700, 853_900] };
    const steps = scanSteps(scans, 1000, 3600);
    expect([...steps.steps]).toEqual([10, 11, 12, 13, 14, 250, 850, 851, 852, 853]);
    expect([...steps.weights]).toEqual([48, 48, 48, 48, 48, 240, 75, 75, 75, 75]);
    expect(steps.suffix[0]).toBe(240 + 240 + 300);
    expect(steps.suffix[5]).toBe(540);
    expect(steps.suffix[10]).toBe(0);
    // A lone scan stands for 120 s; seconds past the run's end are dropped.
    expect([...scanSteps({ firstMs: [5000], lastMs: [5000] }, 1000, 60).weights]).toEqual([120]);
    expect([...scanSteps({ firstMs: [59_000], lastMs: [61_000] }, 1000, 60).steps]).toEqual([59]);
    // Two scans sharing a second (a minute-long scan cut): their weights add up in that second.
    const cut = scanSteps({ firstMs: [100, 60_100], lastMs: [60_099, 60_500] }, 1000, 3600);
    expect(cut.steps.length).toBe(61);
    expect(cut.weights[60]).toBeCloseTo(60 / 61 + 60, 9);
    expect(cut.suffix[0]).toBeCloseTo(120, 9);
  });
});

describe("ceilingPass with scans", () => {
  const options = { seed: 2, closeDistanceM: 2, closeMinutes: 15 };

  it("a still pair: the scans' credits add up to the close minutes or not", () => {
    const scenario = stillPair(1, "hand");
    const meanDbm = -pathLossDb(1, { ...DEFAULT_PROPAGATION, ...scenario.propagation });
    const expected = Math.floor(meanDbm * 2) / 2;
    // Receiver 1 scans 4 s every 240 s from 30 s: the first scan is credited the median gap,
    // 240 s; four scans make 960 s >= 900 s. Receiver 0 scans three times: 720 s, short.
    const every = (n: number) => ({
      firstMs: Array.from({ length: n }, (_, k) => 30_000 + k * 240_000),
      lastMs: Array.from({ length: n }, (_, k) => 33_900 + k * 240_000),
    });
    const pass = ceilingPass(scenario, {
      ...options,
      durationS: 1200,
      indexCases: [0, 1],
      scans: [every(3), every(4)],
    });
    expect(pass.ceiling.scans).toEqual({
      targetS: 900,
      scanGapMs: 25_500,
      maxScanMs: 60_000,
      maxCreditS: 300,
      scans: 7,
      scores: [{ index: 0, receiver: 1, score: expected }],
    });
    // The every-second ceiling is the same as without scans.
    const plain = ceilingPass(scenario, { ...options, durationS: 1200, indexCases: [0, 1] });
    expect(pass.ceiling.scores).toEqual(plain.ceiling.scores);
    expect(plain.ceiling.scans).toBeUndefined();
    // Fewer close minutes than one scan's credit: a single scan does it, and 3 scans reach 12 min.
    const short = ceilingPass(scenario, {
      ...options,
      closeMinutes: 12,
      durationS: 1200,
      indexCases: [0, 1],
      scans: [every(3), every(1)],
    });
    expect(short.ceiling.scans?.scores).toEqual([{ index: 1, receiver: 0, score: expected }]);
    // Scans beyond the run, or a receiver without scans: nothing.
    const none = ceilingPass(scenario, {
      ...options,
      durationS: 1200,
      indexCases: [0, 1],
      scans: [{ firstMs: [], lastMs: [] }],
    });
    expect(none.ceiling.scans?.scores).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import {
  ceilingPass,
  SignalHistogram,
  sweepThreshold,
  trajectoryMismatches,
} from "../../../sim/evaluation/ceiling.js";
import { simulateRun, TRUTH_RANGE_M } from "../../../sim/pipeline/simulate-run.js";
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
  const options = { seed: 2, closeDistanceM: 2, closeMinutes: 15, truthRangeM: TRUTH_RANGE_M };

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
      const fromRun = new Map(run.truth.pairs.map((p) => [p.a * 65_536 + p.b, p.closeS]));
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

import { describe, expect, it } from "vitest";
import { evaluateRun, linkCoverage, prCurve } from "../../../sim/evaluation/evaluate-run.js";
import { reportRun } from "../../../sim/evaluation/report-run.js";
import type { PairDetection } from "../../../sim/pipeline/detect-contacts.js";
import type { RunData, TruthAgent } from "../../../sim/pipeline/run-data.js";
import { SeededRandom } from "../../../src/core/random.js";
import { MS_PER_DAY } from "../../../src/protocols/rolling-id-scheme.js";
import { schemeFor } from "../../../src/protocols/schemes.js";
import type { Sighting } from "../../../src/signal/sighting.js";

const DAY = 18_631; // 2021-01-04
const START_MS = DAY * MS_PER_DAY + 9 * 3_600_000;
const gaen = schemeFor("gaen");
const random = new SeededRandom(1);
const agents: TruthAgent[] = [0, 1, 2].map((agent) => ({
  agent,
  role: "student",
  protocol: "gaen",
  keys: [gaen.newDayKey(DAY, random)],
}));

/** What `receiver` heard of `sender` at `s` seconds into the run. */
function heard(sender: number, s: number): Sighting {
  const atMs = START_MS + s * 1000;
  return { atMs, protocol: "gaen", id: gaen.idAt(agents[sender].keys[0], atMs)!.id, rssiDbm: -70 };
}

// {0, 1} close for 20 minutes (a close contact), {1, 2} for 5 minutes (not one).
const data: RunData = {
  meta: {
    scenario: "planted",
    protocol: "gaen",
    agents: 3,
    durationS: 1800,
    seed: 1,
    startMs: START_MS,
    indexShare: 1,
    closeDistanceM: 2,
    closeMinutes: 15,
  },
  // Receiver 1 heard agent 0 in the 30 s windows 0 and 3; receiver 0 never heard agent 1.
  sightings: [[], [heard(0, 10), heard(0, 100)], [heard(1, 50)]],
  indexCases: [0, 1, 2],
  published: { gaen: [], dayKeys: [] },
  truth: {
    agents,
    pairs: [
      { a: 0, b: 1, closeS: 1200, minDistanceM: 1.2, closeIntervals: [[0, 1200]] },
      { a: 1, b: 2, closeS: 300, minDistanceM: 1.8, closeIntervals: [[600, 900]] },
    ],
  },
};

const detection = (
  index: number,
  receiver: number,
  score: number,
  notified: boolean,
): PairDetection => ({
  detector: "x",
  index,
  receiver,
  score,
  estimatedMinutes: score,
  notified,
  windows: [[0, 60]],
});
const planted = [
  detection(0, 1, 20, true), // true positive
  detection(1, 0, 10, false), // false negative
  detection(2, 1, 16, true), // false positive
];

describe("evaluateRun", () => {
  const e = evaluateRun(data, planted, ["x"]);

  it("precision, recall and F1 over ordered (index case, receiver) pairs", () => {
    expect(e.pairs).toBe(6);
    expect(e.closeContacts).toBe(2);
    const x = e.detectors[0];
    expect([x.truePositives, x.falsePositives, x.falseNegatives]).toEqual([1, 1, 1]);
    expect([x.precision, x.recall, x.f1]).toEqual([0.5, 0.5, 0.5]);
  });

  it("duration error: over pairs scored or ever close, unscored close pairs count 0 minutes", () => {
    // |20-20| + |10-20| + |16-5| + |0-5| (1->2 never scored), over 4 pairs.
    expect(e.detectors[0].durationErrorMin).toBe(6.5);
  });

  it("Herald detection and continuity of the truly close pairs, in 30 s windows", () => {
    expect(linkCoverage(data)).toEqual({ detection: 0.5, continuity: 2 / 80 });
    expect(e.detection).toBe(0.5);
  });

  it("only index cases' pairs are scored", () => {
    const some = evaluateRun({ ...data, indexCases: [0] }, planted, ["x"]);
    expect(some.pairs).toBe(2);
    expect(some.closeContacts).toBe(1);
    expect(some.detectors[0].f1).toBe(1);
  });

  it("a detector that notifies nobody when nobody is close scores 1; one that misses scores 0", () => {
    const none = evaluateRun({ ...data, truth: { agents, pairs: [] } }, [], ["x"]);
    expect(none.detectors[0].f1).toBe(1);
    expect(evaluateRun(data, [], ["x"]).detectors[0].f1).toBe(0);
  });

  it("precision-recall over score thresholds", () => {
    expect(e.prCurves[0].points).toEqual([
      { threshold: 20, precision: 1, recall: 0.5 },
      { threshold: 16, precision: 0.5, recall: 0.5 },
      { threshold: 10, precision: 0.6667, recall: 1 },
    ]);
    const many = Array.from({ length: 500 }, (_, i) => ({ score: i + 1, positive: i % 2 === 0 }));
    const points = prCurve(many, 250);
    expect(points.length).toBeLessThanOrEqual(61);
    expect(points.at(-1)).toEqual({ threshold: 1, precision: 0.5, recall: 1 });
  });
});

describe("reportRun", () => {
  it("fills the report's run: table, curves, RSSI points and the timeline of telling pairs", () => {
    const e = evaluateRun(data, planted, ["x"]);
    const run = reportRun(data, e, planted, [{ distanceM: 1, rssiDbm: -70 }], {
      measured: {
        points: [{ distanceM: 0.5, rssiDbm: -60, campaign: "herald-edison" }],
        campaigns: ["herald-edison"],
        source: "the rig",
      },
    });
    expect(run.detectors[0]).toMatchObject({ name: "x", f1: 0.5, detection: 0.5 });
    expect(run.prCurves[0].points).toHaveLength(3);
    expect(run.rssiVsDistance.real).toEqual([
      { distanceM: 0.5, rssiDbm: -60, campaign: "herald-edison" },
    ]);
    expect(run.rssiVsDistance.measured).toEqual({ source: "the rig" });
    const truth = run.timeline.filter((t) => t.kind === "truth-close").map((t) => t.pair);
    // The false positive 2→1 shows its 5 close minutes too.
    expect(new Set(truth)).toEqual(new Set(["0→1", "1→0", "2→1"]));
    const detected = run.timeline.filter((t) => t.kind === "detected");
    expect(detected.map((t) => [t.pair, t.detector])).toEqual([
      ["0→1", "x"],
      ["2→1", "x"],
    ]);
  });
});

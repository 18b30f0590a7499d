/**
 * A realistic, deterministic `ReportInput` for tests of the report and of whatever builds one:
 * log-distance RSSI with shadowing, precision-recall curves that trade one for the other, and
 * a timeline whose detector scores are computed from it (a pair is a close contact when truly
 * within range for 15 minutes in all, and detected when a detector's intervals add up to that).
 */

import type {
  ReportDetectorScore,
  ReportInput,
  ReportRun,
} from "../../../sim/report/report-input.js";
import { randomNormal } from "../../../sim/world/random-normal.js";
import { SeededRandom } from "../../../src/core/random.js";

export interface FakeReportOptions {
  seed?: number;
  /** Scenarios, one run each. Default ["classroom", "tram"]. */
  scenarios?: string[];
  /** Detectors, ours first. Default proxkit and three presets. */
  detectors?: string[];
  agents?: number;
  durationS?: number;
  /** Pairs in the timeline. Default 60. */
  pairs?: number;
  /** Simulated RSSI readings per run. Default 2000. */
  rssiPoints?: number;
  /** Include real rig-like readings. Default true. */
  real?: boolean;
}

const CLOSE_S = 15 * 60;

function rssiAt(distanceM: number, random: SeededRandom): number {
  // Log-distance with the simulator's fitted reference loss and shadowing (sim/world/propagation.ts).
  const rssi = -76.6 - 20 * Math.log10(Math.max(distanceM, 0.1)) + 4.5 * randomNormal(random);
  return Math.max(-100, Math.min(-30, Math.round(rssi)));
}

function fakeRun(scenario: string, options: Required<FakeReportOptions>, seed: number): ReportRun {
  const random = new SeededRandom(seed);
  const { durationS, detectors } = options;
  const simulated = Array.from({ length: options.rssiPoints }, () => {
    const distanceM = 0.2 + 8 * random.float() ** 2;
    return { distanceM: Math.round(distanceM * 100) / 100, rssiDbm: rssiAt(distanceM, random) };
  });
  const rigDistances = Array.from({ length: 13 }, (_, i) => i * 0.25);
  const real = options.real
    ? Array.from({ length: 1500 }, (_, i) => {
        const distanceM = rigDistances[i % rigDistances.length];
        return { distanceM, rssiDbm: rssiAt(distanceM, random) + (distanceM === 0 ? 20 : 0) };
      })
    : undefined;

  const timeline: ReportRun["timeline"] = [];
  const truthS = new Map<string, number>();
  const detectedS = new Map<string, Map<string, number>>();
  for (let p = 0; p < options.pairs; p++) {
    const a = random.int(options.agents);
    const b = (a + 1 + random.int(options.agents - 1)) % options.agents;
    const pair = `a${Math.min(a, b)}-a${Math.max(a, b)}`;
    if (truthS.has(pair)) continue;
    let truth = 0;
    const intervals: { startS: number; endS: number }[] = [];
    if (random.float() < 0.5) {
      let t = random.float() * durationS * 0.5;
      const count = 1 + random.int(3);
      for (let i = 0; i < count && t < durationS; i++) {
        const endS = Math.min(durationS, t + 120 + random.float() * 1500);
        intervals.push({ startS: Math.round(t), endS: Math.round(endS) });
        truth += Math.round(endS) - Math.round(t);
        t = endS + 60 + random.float() * 900;
      }
    }
    truthS.set(pair, truth);
    for (const i of intervals) timeline.push({ pair, ...i, kind: "truth-close" });
    const perDetector = new Map<string, number>();
    detectedS.set(pair, perDetector);
    detectors.forEach((detector, k) => {
      const sloppiness = 60 + 150 * k; // ours first, presets coarser
      let detected = 0;
      const keep = (startS: number, endS: number) => {
        const s = Math.max(0, Math.round(startS));
        const e = Math.min(durationS, Math.round(endS));
        if (e <= s) return;
        timeline.push({ pair, startS: s, endS: e, kind: "detected", detector });
        detected += e - s;
      };
      for (const i of intervals) {
        if (random.float() < 0.05 * (k + 1)) continue; // missed
        keep(
          i.startS + sloppiness * randomNormal(random),
          i.endS + sloppiness * randomNormal(random),
        );
      }
      if (intervals.length === 0 && random.float() < 0.04 * (k + 1)) {
        const startS = random.float() * durationS * 0.8;
        keep(startS, startS + 300 + random.float() * 900 * (k + 1));
      }
      perDetector.set(detector, detected);
    });
  }

  const scores: ReportDetectorScore[] = detectors.map((name) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let errorS = 0;
    let both = 0;
    for (const [pair, truth] of truthS) {
      const detected = detectedS.get(pair)?.get(name) ?? 0;
      const close = truth >= CLOSE_S;
      const notified = detected >= CLOSE_S;
      if (close && notified) tp++;
      else if (notified) fp++;
      else if (close) fn++;
      if (truth > 0) {
        errorS += Math.abs(detected - truth);
        both++;
      }
    }
    const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return {
      name,
      precision,
      recall,
      f1,
      durationErrorMin: both === 0 ? 0 : errorS / both / 60,
      detection: 0.9 + 0.1 * random.float(),
      continuity: 0.5 + 0.4 * random.float(),
    };
  });

  // Curves through each detector's operating point (the middle threshold): a stricter
  // threshold trades recall for precision.
  const prCurves = scores.map((d) => ({
    detector: d.name,
    points: Array.from({ length: 15 }, (_, i) => {
      const shift = Math.exp((i - 7) / 3);
      return {
        threshold: 45 + 3 * i, // attenuation threshold, dB
        precision: d.precision ** shift,
        recall: d.recall ** (1 / shift),
      };
    }),
  }));

  return {
    scenario,
    protocol: "gaen",
    agents: options.agents,
    durationS,
    seed,
    detectors: scores,
    prCurves,
    rssiVsDistance: real ? { simulated, real } : { simulated },
    timeline,
  };
}

/** A fake report input (same options, same input). */
export function fakeReportInput(options: FakeReportOptions = {}): ReportInput {
  const full: Required<FakeReportOptions> = {
    seed: options.seed ?? 1,
    scenarios: options.scenarios ?? ["classroom", "tram"],
    detectors: options.detectors ?? ["proxkit", "nhs-v2", "swiss-2020-09", "cwa-v2"],
    agents: options.agents ?? 30,
    durationS: options.durationS ?? 3600,
    pairs: options.pairs ?? 60,
    rssiPoints: options.rssiPoints ?? 2000,
    real: options.real ?? true,
  };
  return {
    title: "proxkit simulation report",
    generatedAt: "2026-11-27T12:00:00.000Z",
    runs: full.scenarios.map((scenario, i) => fakeRun(scenario, full, full.seed + i)),
  };
}

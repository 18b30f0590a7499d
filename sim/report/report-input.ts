/**
 * What `report.html` is drawn from: one entry per simulated run, each with the evaluation
 * table, precision-recall curves, simulated (and real) RSSI against distance, and a contact
 * timeline. The simulator pipeline fills it; `render-report.ts` turns it into the page.
 */

/** One detector's row of the evaluation table (rates in 0..1, duration error in minutes). */
export interface ReportDetectorScore {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  durationErrorMin?: number;
  detection?: number;
  continuity?: number;
}

export interface ReportRun {
  scenario: string;
  protocol: string;
  agents: number;
  durationS: number;
  seed: number;
  detectors: ReportDetectorScore[];
  prCurves: {
    detector: string;
    points: { threshold: number; precision: number; recall: number }[];
  }[];
  rssiVsDistance: {
    simulated: { distanceM: number; rssiDbm: number }[];
    real?: { distanceM: number; rssiDbm: number }[];
  };
  timeline: {
    pair: string;
    startS: number;
    endS: number;
    kind: "truth-close" | "detected";
    detector?: string;
  }[];
}

export interface ReportInput {
  title: string;
  generatedAt: string;
  runs: ReportRun[];
}

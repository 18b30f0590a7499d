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
  /** F1 of the same rule on the real recording of the same crowd (`epfl-*` replays). */
  realF1?: number;
}

/**
 * A reference row, not a detector: `heard` (every pair heard at all), `ceiling` (the best
 * threshold on the model's exact mean signal, with its precision-recall curve) or
 * `ceiling-scans` (the same at the receivers' scans; in the table only).
 */
export interface ReportReference {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  thresholdDbm?: number | null;
  points?: { threshold: number; precision: number; recall: number }[];
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
  /**
   * For a replay of a recorded crowd (`epfl-*`): where the detectors' `realF1` come from, or why
   * they are missing.
   */
  real?: { source: string } | { missing: string };
  /** Shown under the detectors in the table, and the ceiling on the precision-recall chart. */
  references?: ReportReference[];
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

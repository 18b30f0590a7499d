/**
 * What `report.html` is drawn from: one entry per simulated run, each with the evaluation
 * table, the channel profile the radio ran on, precision-recall curves, simulated and measured
 * RSSI against distance, and a contact timeline. The simulator pipeline fills it; `render-report.ts` turns it into the page.
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

/** One parameter of the channel profile as the report lists it (value formatted, with unit). */
export interface ReportChannelParameter {
  name: string;
  value: string;
  /** Where the profile says the value comes from ("not recorded" when it does not say). */
  source: string;
}

/** The channel profile a run's radio used (`simulate --channel`, the scenario's `channel`). */
export interface ReportChannel {
  /** The profile's name (`herald-only`, `v2`, or the name inside a profile file). */
  name: string;
  /** For a profile read from a file: the file's name. */
  file?: string;
  description: string;
  /** The measured campaigns its sources name (what it was fitted on, as far as it says). */
  campaigns: string[];
  parameters: ReportChannelParameter[];
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
  /** Absent in runs built before the report showed it. */
  channel?: ReportChannel;
  rssiVsDistance: {
    simulated: { distanceM: number; rssiDbm: number }[];
    /**
     * Measured readings from the campaigns the channel profile was fitted on, in the
     * simulator's units; `campaign` names the series (absent: one series, "measured").
     */
    real?: { distanceM: number; rssiDbm: number; campaign?: string }[];
    /** Where `real` comes from, or why it is missing (shown under the chart). */
    measured?: { source: string } | { missing: string };
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

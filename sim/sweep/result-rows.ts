/**
 * The sweep's results: one row per (run, rule), a rule being a detector or a reference row
 * (`heard`, `ceiling`, `ceiling-scans`). Rows carry the run's parameters as the run used them
 * (the scenario's own agents or length when the grid left them out), so the table stands alone.
 */
import type { ColumnSpec } from "../io/table-writer.js";

export interface SweepResultRow {
  readonly runIndex: number;
  readonly runId: string;
  readonly scenario: string;
  /** The forced protocol, or "mixed" for the scenario's own mix. */
  readonly protocol: string;
  readonly agents: number;
  readonly durationS: number;
  readonly seed: number;
  readonly channel: string;
  readonly presetSet: string;
  readonly indexShare: number;
  readonly closeDistanceM: number;
  readonly closeMinutes: number;
  readonly rule: string;
  readonly kind: "detector" | "reference";
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  /** Detectors only. */
  readonly durationErrorMin: number | null;
  readonly detection: number | null;
  readonly continuity: number | null;
  /** Ceilings only (null where no pair scored). */
  readonly thresholdDbm: number | null;
  readonly pairs: number;
  readonly closeContacts: number;
}

/** The table's columns, in order, with the row field each comes from. */
export const SWEEP_COLUMNS: readonly (ColumnSpec & { readonly field: keyof SweepResultRow })[] = [
  { name: "run_index", type: "int32", field: "runIndex" },
  { name: "run_id", type: "string", field: "runId" },
  { name: "scenario", type: "string", field: "scenario" },
  { name: "protocol", type: "string", field: "protocol" },
  { name: "agents", type: "int32", field: "agents" },
  { name: "duration_s", type: "float64", field: "durationS" },
  { name: "seed", type: "int32", field: "seed" },
  { name: "channel", type: "string", field: "channel" },
  { name: "presets", type: "string", field: "presetSet" },
  { name: "index_share", type: "float64", field: "indexShare" },
  { name: "close_distance_m", type: "float64", field: "closeDistanceM" },
  { name: "close_minutes", type: "float64", field: "closeMinutes" },
  { name: "rule", type: "string", field: "rule" },
  { name: "kind", type: "string", field: "kind" },
  { name: "precision", type: "float64", field: "precision" },
  { name: "recall", type: "float64", field: "recall" },
  { name: "f1", type: "float64", field: "f1" },
  { name: "tp", type: "int32", field: "truePositives" },
  { name: "fp", type: "int32", field: "falsePositives" },
  { name: "fn", type: "int32", field: "falseNegatives" },
  { name: "duration_error_min", type: "float64", nullable: true, field: "durationErrorMin" },
  { name: "detection", type: "float64", nullable: true, field: "detection" },
  { name: "continuity", type: "float64", nullable: true, field: "continuity" },
  { name: "threshold_dbm", type: "float64", nullable: true, field: "thresholdDbm" },
  { name: "pairs", type: "int32", field: "pairs" },
  { name: "close_contacts", type: "int32", field: "closeContacts" },
];

/** A row's values in column order. */
export function rowValues(row: SweepResultRow): unknown[] {
  return SWEEP_COLUMNS.map((c) => row[c.field]);
}

/** A number as the table holds it: JSON and the queue carry no NaN or infinity, so null. */
export function finiteOrNull(x: number | null | undefined): number | null {
  return typeof x === "number" && Number.isFinite(x) ? x : null;
}

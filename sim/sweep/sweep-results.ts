/**
 * The sweep's outputs in `OUT/`: `results.parquet` (every run's rows in canonical run order, so
 * two executions of one grid compare row for row) and `report.html`.
 */
import { renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { openTable, tablePath } from "../io/table-writer.js";
import { rowValues, SWEEP_COLUMNS, type SweepResultRow } from "./result-rows.js";
import { writeSweepReport } from "./sweep-report.js";

export const SWEEP_FILES = { results: "results.parquet", report: "report.html" } as const;

/** Writes `OUT/results.parquet` whole or not at all (a partial file, then a rename). */
export function writeResultsTable(out: string, rows: readonly SweepResultRow[]): string {
  const sorted = [...rows].sort((a, b) => a.runIndex - b.runIndex);
  const base = join(out, `results.partial-${process.pid}`);
  const table = openTable(base, SWEEP_COLUMNS, "parquet");
  try {
    for (const row of sorted) table.write(rowValues(row));
    table.close();
  } catch (error) {
    rmSync(tablePath(base, "parquet"), { force: true });
    throw error;
  }
  const path = join(out, SWEEP_FILES.results);
  renameSync(tablePath(base, "parquet"), path);
  return path;
}

/** Writes the table and the report page; returns their paths. */
export async function writeSweepOutputs(
  out: string,
  rows: readonly SweepResultRow[],
  info: { title: string; swept: readonly string[]; runs: number },
): Promise<{ table: string; report: string }> {
  const table = writeResultsTable(out, rows);
  const report = join(out, SWEEP_FILES.report);
  await writeSweepReport(report, {
    ...info,
    generatedAt: new Date().toISOString(),
    rows: [...rows].sort((a, b) => a.runIndex - b.runIndex),
  });
  return { table, report };
}

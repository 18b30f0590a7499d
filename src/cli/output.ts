/** Output of CLI records as JSON lines, CSV or an aligned table. */
import { ConfigError } from "../core/errors.js";

export const OUTPUT_FORMATS = ["jsonl", "csv", "table"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

type Row = Record<string, string | number | boolean | null | undefined>;

/** The format asked for, or the default: a table on a terminal, JSON lines otherwise. */
export function resolveFormat(
  format: string | undefined,
  stream: NodeJS.WriteStream = process.stdout,
): OutputFormat {
  if (format === undefined) return stream.isTTY ? "table" : "jsonl";
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    throw new ConfigError(
      `unknown format "${format}": use one of ${OUTPUT_FORMATS.join(", ")}`,
      "E_FORMAT",
    );
  }
  return format as OutputFormat;
}

function csvCell(value: Row[string]): string {
  if (value === undefined || value === null) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Writes rows in `format`. `columns` fixes the column order (and the header of CSV and
 * tables); JSON lines keep the row's own key order.
 */
export function writeRows(
  rows: Iterable<Row>,
  format: OutputFormat,
  columns: readonly string[],
  write: (text: string) => void = (text) => process.stdout.write(text),
): void {
  if (format === "jsonl") {
    for (const row of rows) write(`${JSON.stringify(row)}\n`);
    return;
  }
  if (format === "csv") {
    write(`${columns.join(",")}\n`);
    for (const row of rows) write(`${columns.map((c) => csvCell(row[c])).join(",")}\n`);
    return;
  }
  const cells = [columns.map(String)];
  for (const row of rows)
    cells.push(columns.map((c) => (row[c] === undefined || row[c] === null ? "" : String(row[c]))));
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  const lines = cells.map((line) =>
    line
      .map((cell, i) => cell.padEnd(widths[i]))
      .join("  ")
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  write(`${lines.join("\n")}\n`);
}

/** One JSON document: indented on a terminal, one line otherwise (for pipes and jq). */
export function writeJson(value: unknown, stream: NodeJS.WriteStream = process.stdout): void {
  stream.write(`${JSON.stringify(value, null, stream.isTTY ? 2 : undefined)}\n`);
}

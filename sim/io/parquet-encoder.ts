/**
 * The one place that calls the Parquet writer (`hyparquet-writer`): a file's schema from
 * `ColumnSpec`s, and row groups encoded from columns of values as `ParquetTable` gathers them.
 * `ParquetTable` (`table-writer.ts`) runs it in its own thread, or hands row groups to a writer
 * thread that runs it there (`parquet-thread.ts`); either way the same bytes.
 */
import type { ColumnSource, SchemaElement } from "hyparquet-writer";
import { fileWriter, ParquetWriter } from "hyparquet-writer";
import type { ColumnSpec } from "./table-writer.js";

/** A row group's values per column: typed arrays for required numbers, arrays for the rest. */
export type ColumnValues = Int32Array | Float64Array | unknown[];

/** Encodes row groups into one Parquet file, synchronously. */
export interface RowGroupSink {
  /** Rows 0 .. n − 1 of every column, as one row group. `values` may be reused afterwards. */
  write(n: number, values: readonly ColumnValues[]): void;
  /** Writes the footer; the file is complete only after this. */
  finish(): void;
}

function schemaElement(column: ColumnSpec): SchemaElement {
  const repetition_type = column.nullable ? "OPTIONAL" : "REQUIRED";
  const { name } = column;
  switch (column.type) {
    case "int32":
      return { name, type: "INT32", repetition_type };
    case "float64":
      return { name, type: "DOUBLE", repetition_type };
    case "boolean":
      return { name, type: "BOOLEAN", repetition_type };
    case "string":
      return { name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type };
    case "bytes":
      return { name, type: "BYTE_ARRAY", repetition_type };
    case "timestamp-ms":
      return {
        name,
        type: "INT64",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" },
        repetition_type,
      };
  }
}

/** The writer's encoding for a column, from its type and `dictionary` (unset: the writer's choice). */
function encodingOf(column: ColumnSpec): ColumnSource["encoding"] {
  // Times rise by small steps: delta encoding halves the sightings file.
  if (column.type === "timestamp-ms") return "DELTA_BINARY_PACKED";
  if (column.type === "boolean" || column.dictionary === undefined) return undefined;
  return column.dictionary ? "RLE_DICTIONARY" : "PLAIN";
}

/** Opens `path` (replacing any file there) for row groups of `columns`. */
export function openParquetFile(path: string, columns: readonly ColumnSpec[]): RowGroupSink {
  const writer = new ParquetWriter({
    writer: fileWriter(path),
    schema: [{ name: "root", num_children: columns.length }, ...columns.map(schemaElement)],
    // SNAPPY: the codec the reader (hyparquet) decodes without extra packages.
    codec: "SNAPPY",
    createdBy: "proxkit",
  });
  return {
    write(n, values) {
      // The writer encodes the row group before `write` returns (a file writer never defers),
      // so the arrays are free for the next row group afterwards.
      void writer.write({
        rowGroupSize: n,
        // One page per column chunk: a row group is small enough, and splitting it into pages
        // costs a size estimate per value.
        pageSize: 0,
        columnData: columns.map((column, j) => ({
          name: column.name,
          data: values[j].length === n ? values[j] : values[j].slice(0, n),
          encoding: encodingOf(column),
          // Min and max per row group let a reader skip row groups by time; elsewhere (random
          // IDs, agent numbers, scores) they help little and cost a compare per value.
          statistics: column.type === "timestamp-ms",
        })),
      });
    },
    finish() {
      void writer.finish();
    },
  };
}

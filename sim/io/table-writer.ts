/**
 * Tables of a run folder written row by row as the run goes, as Parquet (the default: columnar,
 * compressed, about a thirtieth of the JSON lines) or as JSON lines (one object per row, for
 * tools that read nothing else). Everything outside `sim/io` names columns by `ColumnSpec` and
 * writes rows; `parquet-encoder.ts` alone calls the Parquet writer.
 *
 * Both forms keep memory bounded: Parquet rows gather into columns of at most
 * `ROW_GROUP_ROWS` rows, then go to the file as one row group, encoded here or, with `thread`,
 * in a writer thread (`parquet-thread.ts`, the same bytes); JSON lines go out in chunks of about
 * 1 MB. Writes are synchronous because the simulator's step loop is.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { toHex } from "../../src/core/hex.js";
import { type ColumnValues, openParquetFile, type RowGroupSink } from "./parquet-encoder.js";
import { openThreadedParquetFile } from "./parquet-thread.js";

export type OutputFormat = "parquet" | "jsonl";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["parquet", "jsonl"];

export type ColumnType = "int32" | "float64" | "boolean" | "string" | "timestamp-ms" | "bytes";

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** Whether the column takes null (default false). */
  readonly nullable?: boolean;
  /**
   * Parquet only: whether to store each distinct value once and the rows as small indexes into
   * them. True: always (few distinct values, or runs of one value, which the writer's own estimate
   * does not count); false: never (values mostly distinct); unset: the Parquet writer samples each
   * row group and decides. Booleans never use one.
   */
  readonly dictionary?: boolean;
}

export interface TableWriter {
  /**
   * One row, values in column order (bytes: Uint8Array; timestamp-ms: number ms; null only where
   * nullable). The values are copied out before it returns: the caller may refill `row`.
   */
  write(row: readonly unknown[]): void;
  /** Flushes and closes; the file is complete only after this. */
  close(): void;
  readonly rows: number;
}

/** Rows per Parquet row group: a few MB of columns, and a reader's unit of memory. */
export const ROW_GROUP_ROWS = 100_000;

/** JSON lines gather to about this many characters before a write. */
const JSONL_CHUNK_CHARS = 1 << 20;

/** The file a table is written to and read from: `base` plus the format's extension. */
export function tablePath(base: string, format: OutputFormat): string {
  return `${base}.${format}`;
}

export interface OpenTableOptions {
  /**
   * Parquet only: encode row groups in the process's writer thread (`parquet-thread.ts`) rather
   * than in this one. The same bytes; worth it for tables of millions of rows, when a core is
   * free (the thread costs some 30 MB and its start).
   */
  readonly thread?: boolean;
}

/**
 * Opens `base + ".parquet"` or `base + ".jsonl"` (replacing any file there); synchronous writes,
 * bounded memory (row groups of `ROW_GROUP_ROWS` rows).
 */
export function openTable(
  base: string,
  columns: readonly ColumnSpec[],
  format: OutputFormat,
  options: OpenTableOptions = {},
): TableWriter {
  if (columns.length === 0) throw new Error(`table ${base} needs at least one column`);
  const path = tablePath(base, format);
  return format === "parquet"
    ? new ParquetTable(path, columns, options.thread ?? false)
    : new JsonLinesTable(path, columns);
}

/** Throws unless `value` fits `column` (a bug in the caller, not bad input). */
function checkValue(path: string, column: ColumnSpec, value: unknown): void {
  if (value === null || value === undefined) {
    if (column.nullable) return;
    throw new TypeError(`${path}: column "${column.name}" is not nullable, got ${value}`);
  }
  let ok: boolean;
  switch (column.type) {
    case "int32":
      ok =
        Number.isInteger(value) && (value as number) >= -(2 ** 31) && (value as number) < 2 ** 31;
      break;
    case "float64":
      ok = typeof value === "number";
      break;
    case "boolean":
      ok = typeof value === "boolean";
      break;
    case "string":
      ok = typeof value === "string";
      break;
    case "timestamp-ms":
      // Whole ms: Parquet stores them as 64-bit integers.
      ok = Number.isSafeInteger(value);
      break;
    case "bytes":
      ok = value instanceof Uint8Array;
      break;
  }
  if (!ok)
    throw new TypeError(
      `${path}: column "${column.name}" (${column.type}) cannot hold ${typeof value} ${String(value)}`,
    );
}

function checkLength(path: string, columns: readonly ColumnSpec[], row: readonly unknown[]): void {
  if (row.length !== columns.length)
    throw new TypeError(`${path}: a row needs ${columns.length} values, got ${row.length}`);
}

function checkRow(path: string, columns: readonly ColumnSpec[], row: readonly unknown[]): void {
  checkLength(path, columns, row);
  for (let j = 0; j < columns.length; j++) checkValue(path, columns[j], row[j]);
}

class JsonLinesTable implements TableWriter {
  rows = 0;
  private readonly fd: number;
  private chunk: string[] = [];
  private chunkChars = 0;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly columns: readonly ColumnSpec[],
  ) {
    this.fd = openSync(path, "w");
  }

  write(row: readonly unknown[]): void {
    if (this.closed) throw new Error(`${this.path} is closed`);
    checkRow(this.path, this.columns, row);
    const json: Record<string, unknown> = {};
    for (let j = 0; j < this.columns.length; j++) {
      const value = row[j] ?? null;
      json[this.columns[j].name] = value instanceof Uint8Array ? toHex(value) : value;
    }
    const line = JSON.stringify(json);
    this.chunk.push(line);
    this.chunkChars += line.length + 1;
    this.rows++;
    if (this.chunkChars > JSONL_CHUNK_CHARS) this.flush();
  }

  private flush(): void {
    if (this.chunk.length === 0) return;
    writeSync(this.fd, `${this.chunk.join("\n")}\n`);
    this.chunk = [];
    this.chunkChars = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }
}

/**
 * How a column's values gather for the row group: required numbers in typed arrays (no boxing),
 * the rest in plain arrays. Timestamps gather as numbers: the Parquet writer turns every value
 * into a BigInt itself (it does so from a BigInt64Array too).
 */
type Store = "int32" | "float64" | "timestamp" | "boxed";

function storeOf(column: ColumnSpec): Store {
  if (column.nullable) return "boxed";
  switch (column.type) {
    case "int32":
      return "int32";
    case "float64":
      return "float64";
    case "timestamp-ms":
      return "timestamp";
    default:
      return "boxed";
  }
}

function storeArray(store: Store): ColumnValues {
  switch (store) {
    case "int32":
      return new Int32Array(ROW_GROUP_ROWS);
    case "float64":
    case "timestamp":
      return new Float64Array(ROW_GROUP_ROWS);
    case "boxed":
      return new Array<unknown>(ROW_GROUP_ROWS).fill(null);
  }
}

class ParquetTable implements TableWriter {
  rows = 0;
  private readonly sink: RowGroupSink;
  private readonly stores: readonly Store[];
  /** Per column, the row group's values so far; reused from one row group to the next. */
  private readonly values: ColumnValues[];
  private pending = 0;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly columns: readonly ColumnSpec[],
    thread: boolean,
  ) {
    this.sink = thread ? openThreadedParquetFile(path, columns) : openParquetFile(path, columns);
    this.stores = columns.map(storeOf);
    this.values = this.stores.map(storeArray);
  }

  write(row: readonly unknown[]): void {
    if (this.closed) throw new Error(`${this.path} is closed`);
    const { columns, stores, values, pending: at } = this;
    checkLength(this.path, columns, row);
    // The checks ride on the stores: a typed array keeps a value unchanged only if it fits the
    // column, so a changed one is a wrong value, which `checkValue` names. A row that fails
    // leaves nothing behind: `pending` moves on only after the whole row is in.
    for (let j = 0; j < stores.length; j++) {
      const value = row[j];
      switch (stores[j]) {
        case "int32": {
          const store = values[j] as Int32Array;
          store[at] = value as number;
          if (store[at] !== value) checkValue(this.path, columns[j], value);
          break;
        }
        case "float64":
          if (typeof value !== "number") checkValue(this.path, columns[j], value);
          (values[j] as Float64Array)[at] = value as number;
          break;
        case "timestamp":
          if (!Number.isSafeInteger(value)) checkValue(this.path, columns[j], value);
          (values[j] as Float64Array)[at] = value as number;
          break;
        case "boxed":
          checkValue(this.path, columns[j], value);
          (values[j] as unknown[])[at] = value ?? null;
          break;
      }
    }
    this.pending++;
    this.rows++;
    if (this.pending === ROW_GROUP_ROWS) this.flush();
  }

  private flush(): void {
    if (this.pending === 0) return;
    const n = this.pending;
    this.pending = 0;
    this.sink.write(n, this.values);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } finally {
      this.sink.finish();
    }
  }
}

/**
 * Reads back a table written by `openTable` (`./table-writer.ts`), either form, in bounded memory:
 * Parquet one row group at a time, JSON lines one line at a time from chunked reads. Values come
 * back as they were written: bytes as `Uint8Array`, timestamps as ms numbers, missing values as
 * null. A malformed or truncated file is one `ConfigError` (code "E_RUN") naming the file, and the
 * line for JSON lines.
 */
import { existsSync } from "node:fs";
import type { FileMetaData, SchemaElement } from "hyparquet";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { ConfigError } from "../../src/core/errors.js";
import { fromHex } from "../../src/core/hex.js";
import { checkInputFile, readInputLines } from "../../src/io/read-input-file.js";
import { type ColumnSpec, type OutputFormat, tablePath } from "./table-writer.js";

const CODE = "E_RUN";

/** The table `base` as found on disk (Parquet first), or undefined when neither form exists. */
export function findTable(base: string): { path: string; format: OutputFormat } | undefined {
  for (const format of ["parquet", "jsonl"] as const) {
    const path = tablePath(base, format);
    if (existsSync(path)) return { path, format };
  }
  return undefined;
}

/**
 * The rows of the table at `path` (Parquet when it ends in ".parquet", JSON lines otherwise).
 * With `columns`, each row is checked against them (a missing column, a value of the wrong type
 * or a null where none is allowed is a `ConfigError`) and holds only those columns; without, a
 * row holds whatever the file has.
 */
export async function* readTable(
  path: string,
  columns?: readonly ColumnSpec[],
): AsyncGenerator<Record<string, unknown>, void, undefined> {
  checkInputFile(path, {
    what: "run table",
    maxBytes: Number.POSITIVE_INFINITY,
    code: CODE,
    missing: `${path} is missing: is this a proxkit simulate --out folder?`,
  });
  if (path.endsWith(".parquet")) yield* readParquet(path, columns);
  else yield* readJsonLines(path, columns);
}

function notParquet(path: string, error: unknown): ConfigError {
  if (error instanceof ConfigError) return error;
  const detail = (error as Error).message.replace(/^parquet /, "");
  return new ConfigError(`${path} is not a complete Parquet file (${detail})`, CODE);
}

/** The physical form each column type is written in (`schemaElement` in the writer). */
function matches(element: SchemaElement, type: ColumnSpec["type"]): boolean {
  switch (type) {
    case "int32":
      return element.type === "INT32";
    case "float64":
      return element.type === "DOUBLE";
    case "boolean":
      return element.type === "BOOLEAN";
    case "string":
    case "bytes":
      return element.type === "BYTE_ARRAY";
    case "timestamp-ms":
      return (
        element.type === "INT64" &&
        (element.converted_type === "TIMESTAMP_MILLIS" ||
          (element.logical_type?.type === "TIMESTAMP" && element.logical_type.unit === "MILLIS"))
      );
  }
}

function checkSchema(path: string, metadata: FileMetaData, columns: readonly ColumnSpec[]): void {
  // Element 0 is the root; a flat table's columns are its children.
  const elements = new Map(metadata.schema.slice(1).map((e) => [e.name, e]));
  for (const column of columns) {
    const element = elements.get(column.name);
    if (!element)
      throw new ConfigError(`${path} has no column "${column.name}": not a run table?`, CODE);
    if (!matches(element, column.type))
      throw new ConfigError(
        `${path}: column "${column.name}" is ${element.type}, expected ${column.type}`,
        CODE,
      );
  }
}

async function* readParquet(
  path: string,
  columns: readonly ColumnSpec[] | undefined,
): AsyncGenerator<Record<string, unknown>, void, undefined> {
  let file: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  let metadata: FileMetaData;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw notParquet(path, error);
  }
  if (columns) checkSchema(path, metadata, columns);
  const names = columns?.map((c) => c.name);
  const notNull = new Set(columns?.filter((c) => !c.nullable).map((c) => c.name));
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({
        file,
        metadata,
        rowStart,
        rowEnd,
        ...(names ? { columns: names } : {}),
        // Bytes stay bytes (only UTF8 columns are strings); timestamps stay ms numbers.
        utf8: false,
        parsers: { timestampFromMilliseconds: (ms: bigint) => Number(ms) },
      });
    } catch (error) {
      throw notParquet(path, error);
    }
    for (const row of rows) {
      for (const key in row) {
        const value = row[key];
        if (value === undefined) row[key] = null;
        else if (typeof value === "bigint") row[key] = Number(value);
        if (row[key] === null && notNull.has(key))
          throw new ConfigError(`${path} row ${rowStart + 1}: "${key}" is null`, CODE);
      }
      yield row;
    }
    rowStart = rowEnd;
  }
}

function checkedValue(column: ColumnSpec, value: unknown, where: string): unknown {
  if (value === undefined || value === null) {
    if (column.nullable) return null;
    throw new ConfigError(`${where}: "${column.name}" is missing`, CODE);
  }
  let ok: boolean;
  switch (column.type) {
    case "int32":
      ok = Number.isInteger(value);
      break;
    case "float64":
      ok = typeof value === "number";
      break;
    case "timestamp-ms":
      ok = Number.isSafeInteger(value);
      break;
    case "boolean":
      ok = typeof value === "boolean";
      break;
    case "string":
      ok = typeof value === "string";
      break;
    case "bytes":
      if (typeof value !== "string")
        throw new ConfigError(`${where}: "${column.name}" must be hex`, CODE);
      try {
        return fromHex(value, `"${column.name}"`);
      } catch (error) {
        throw new ConfigError(`${where}: ${(error as Error).message}`, CODE);
      }
  }
  if (!ok)
    throw new ConfigError(
      `${where}: "${column.name}" must be ${column.type === "int32" ? "an integer" : column.type === "timestamp-ms" ? "whole ms" : `a ${column.type === "float64" ? "number" : column.type}`}, got ${JSON.stringify(value)}`,
      CODE,
    );
  return value;
}

async function* readJsonLines(
  path: string,
  columns: readonly ColumnSpec[] | undefined,
): AsyncGenerator<Record<string, unknown>, void, undefined> {
  let number = 0;
  for await (const line of readInputLines(path, { what: "run table", code: CODE })) {
    number++;
    if (line.trim() === "") continue;
    const where = `${path} line ${number}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {}
    if (typeof json !== "object" || json === null || Array.isArray(json))
      throw new ConfigError(`${where}: not a JSON object`, CODE);
    const object = json as Record<string, unknown>;
    if (!columns) {
      yield object;
      continue;
    }
    const row: Record<string, unknown> = {};
    for (const column of columns)
      row[column.name] = checkedValue(column, object[column.name], where);
    yield row;
  }
}

/**
 * Reads the Dublin tram measurements (Leith & Farrell 2020; `dublin-tram/` of the shared data):
 * three whitespace-separated tables, one row per pair of handsets: the minutes GAEN recorded in
 * each attenuation bin, the pair's distance, and the two handsets. Parsing is pure
 * (`parseDublinTram`); `loadDublinTram` only reads the three files. The evaluation of risk
 * presets on them is `research/evaluate-dublin-tram.ts`.
 */
import { join } from "node:path";
import { CodecError } from "../core/errors.js";
import { INPUT_LIMITS, readInputFile } from "../io/read-input-file.js";

/** The data files, as published with the study. */
export const DUBLIN_TRAM_FILES = {
  attenuations: "dublintram_dataset_attenuations.txt",
  distances: "dublintram_dataset_distances.txt",
  pairs: "dublintram_dataset_pairs.txt",
} as const;

/** Bin edges (dB) of the attenuation columns: 48-50, 50-52, ..., 78-80, 80-85, 85-90, 90-100. */
export const DUBLIN_TRAM_BIN_EDGES_DB: readonly number[] = [
  48, 50, 52, 54, 56, 58, 60, 62, 64, 66, 68, 70, 72, 74, 76, 78, 80, 85, 90, 100,
];

/** One row of the data set: a pair of handsets at one distance. */
export interface DublinTramPair {
  /** Row in the data files, from 0. */
  readonly row: number;
  /**
   * Handset indices as in the pairs file. The first apparently logged the second: every
   * handset but 7 comes first in 12 rows, and 7 never does.
   */
  readonly handsets: readonly [number, number];
  readonly distanceM: number;
  /** Minutes recorded per attenuation bin (`DUBLIN_TRAM_BIN_EDGES_DB`). */
  readonly minutesPerBin: readonly number[];
}

/** The three files' text, with the names used in error messages. */
export interface DublinTramTexts {
  readonly attenuations: string;
  readonly distances: string;
  readonly pairs: string;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Data lines of a whitespace-separated table: `#` comments and blank lines skipped. */
function parseTable(
  text: string,
  file: string,
  columns: number,
): { line: number; values: number[] }[] {
  const rows: { line: number; values: number[] }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i].trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const fields = trimmed.split(/\s+/);
    if (fields.length !== columns) {
      throw new CodecError(
        `${file} line ${i + 1}: expected ${columns} number${columns === 1 ? "" : "s"}, found ${fields.length}`,
        undefined,
        "E_DATASET",
      );
    }
    const values = fields.map((field) => {
      const value = Number(field);
      if (!NUMBER.test(field) || !Number.isFinite(value)) {
        throw new CodecError(
          `${file} line ${i + 1}: "${field}" is not a number`,
          undefined,
          "E_DATASET",
        );
      }
      return value;
    });
    rows.push({ line: i + 1, values });
  }
  return rows;
}

/**
 * Parses the three data files. Any malformed line (wrong number of columns, a field that is
 * not a number, negative minutes, a distance not above 0, handset indices that are not two
 * different positive whole numbers), or files whose rows do not line up, is a `CodecError`
 * naming the file and line.
 */
export function parseDublinTram(
  texts: DublinTramTexts,
  names: DublinTramTexts = DUBLIN_TRAM_FILES,
): DublinTramPair[] {
  const bins = DUBLIN_TRAM_BIN_EDGES_DB.length - 1;
  const attenuations = parseTable(texts.attenuations, names.attenuations, bins);
  const distances = parseTable(texts.distances, names.distances, 1);
  const handsets = parseTable(texts.pairs, names.pairs, 2);
  const fail = (file: string, line: number, what: string): never => {
    throw new CodecError(`${file} line ${line}: ${what}`, undefined, "E_DATASET");
  };
  if (distances.length !== attenuations.length || handsets.length !== attenuations.length) {
    throw new CodecError(
      `rows do not line up: ${names.attenuations} has ${attenuations.length}, ${names.distances} ${distances.length}, ${names.pairs} ${handsets.length}`,
      undefined,
      "E_DATASET",
    );
  }
  return attenuations.map((a, row) => {
    if (a.values.some((m) => m < 0))
      fail(names.attenuations, a.line, "minutes must not be negative");
    const d = distances[row];
    if (!(d.values[0] > 0)) fail(names.distances, d.line, "the distance must be above 0 m");
    const h = handsets[row];
    const [first, second] = h.values;
    if (
      !Number.isInteger(first) ||
      !Number.isInteger(second) ||
      first < 1 ||
      second < 1 ||
      first === second
    ) {
      fail(names.pairs, h.line, "handset indices must be two different positive whole numbers");
    }
    return { row, handsets: [first, second], distanceM: d.values[0], minutesPerBin: a.values };
  });
}

/** Reads and parses the data set in `dataDir`; a missing file is a `ConfigError` naming it. */
export function loadDublinTram(dataDir: string): DublinTramPair[] {
  const read = (name: string) => {
    const path = join(dataDir, name);
    return readInputFile(path, {
      what: "the Dublin tram data file",
      maxBytes: INPUT_LIMITS.tableBytes,
      code: "E_DATASET",
    });
  };
  return parseDublinTram({
    attenuations: read(DUBLIN_TRAM_FILES.attenuations),
    distances: read(DUBLIN_TRAM_FILES.distances),
    pairs: read(DUBLIN_TRAM_FILES.pairs),
  });
}

/**
 * Reads the Herald project's robot rig (`herald-edison/` of the shared data; Apache-2.0): two
 * phones on a cable-car rig moved through fixed distances, each logging `time,rssi,distance(cm)`
 * of the other's advertisements, with `metadata.csv` pairing each file with its receiving and
 * sending phone. The rig's recordings as they are read by the distance estimators' evaluation
 * (`readHeraldRecording`, `phonePairs`), and as placements for the propagation fit
 * (`readHeraldEdison`); the campaign records are `load-herald-edison.ts`. The evaluation and the
 * fit themselves are research code (`research/evaluate-herald-edison.ts`,
 * `research/fit-propagation.ts`).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { INPUT_LIMITS, readInputFile } from "../io/read-input-file.js";
import { splitCsvLine } from "../signal/calibration-table.js";
import { RssiCsvReader, type RssiRow } from "../signal/rssi-csv.js";

export const HERALD_EDISON_TRAIN_FILES: readonly string[] = [
  "20210104-1422-A.csv",
  "20210104-1422-B.csv",
];
export const HERALD_EDISON_TEST_FILES: readonly string[] = [
  "20210106-0815-A.csv",
  "20210106-0815-B.csv",
  "20210106-1501-A.csv",
  "20210106-1501-B.csv",
];

/**
 * The rig's phone names (phones.csv) as device names of the GAEN calibration table. Samsung
 * phones are given by their European model numbers (phones.csv has marketing names only; the
 * rig is in the UK), iPhones by name (the table has no Apple devices: correction 0 dB).
 */
export const HERALD_PHONE_DEVICES: Readonly<Record<string, string>> = {
  "4S": "Apple iPhone 4S",
  Germany: "Apple iPhone 5S",
  Denmark: "Apple iPhone 6S",
  Netherlands: "Apple iPhone 6 Plus",
  "6S+": "Apple iPhone 6S Plus",
  "8+": "Apple iPhone 8 Plus",
  X: "Apple iPhone X",
  P2: "Google Pixel 2",
  P3: "Google Pixel 3",
  J6: "Samsung SM-J600F",
  A10: "Samsung SM-A105F",
  A20: "Samsung SM-A205F",
  N8: "Samsung SM-N950F",
};

function readText(path: string, what: string): string {
  return readInputFile(path, { what, maxBytes: INPUT_LIMITS.tableBytes });
}

/** Rows of a small CSV with a header, as records keyed by lower-case column name. */
function csvRecords(text: string): Record<string, string>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = splitCsvLine(lines[0] ?? "").map((h) => h.trim().toLowerCase());
  return lines.slice(1).map((line) => {
    const cells = splitCsvLine(line);
    return Object.fromEntries(header.map((h, i) => [h, (cells[i] ?? "").trim()]));
  });
}

/** The recording file of each phone: file name -> { receiver, transmitter } phone names. */
export function phonePairs(dataDir: string): Map<string, { rx: string; tx: string }> {
  const pairs = new Map<string, { rx: string; tx: string }>();
  for (const r of csvRecords(readText(join(dataDir, "metadata.csv"), "the rig's metadata"))) {
    if (r.filenamephonea) pairs.set(r.filenamephonea, { rx: r.phoneaname, tx: r.phonebname });
    if (r.filenamephoneb) pairs.set(r.filenamephoneb, { rx: r.phonebname, tx: r.phoneaname });
  }
  return pairs;
}

/** A recording of the rig (`time,rssi,distance(cm)`), read and parsed; `name` for messages. */
export function readHeraldRecording(path: string, name: string): RssiRow[] {
  return parseRecording(readText(path, "the recording"), name);
}

function parseRecording(text: string, where: string): RssiRow[] {
  const reader = new RssiCsvReader(where, { withDistance: true });
  const lines = text.split(/\r?\n/);
  reader.header(lines[0] ?? "");
  const rows: RssiRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const row = reader.row(lines[i], i + 1);
    if (row) rows.push(row);
  }
  return rows;
}

/**
 * The rig's phones with their GAEN calibration (shared/data/gaen/en-calibration-2020-06-13.csv):
 * txGainDb = "tx" - (-24), the table's median; rxOffsetDb = -"rssi correction" (Android RSSI +
 * correction = iPhone RSSI). Note 8: median of the measured SM-N950 rows (-18, -20, -20, -27).
 */
export const RIG_PHONES: Readonly<Record<string, { txGainDb: number; rxOffsetDb: number }>> = {
  P2: { txGainDb: -31 + 24, rxOffsetDb: 6 }, // Google Pixel 2: -6, -31
  A20: { txGainDb: -24 + 24, rxOffsetDb: 3 }, // Samsung SM-A205*: -3, -24
  N8: { txGainDb: -20 + 24, rxOffsetDb: 3 }, // Samsung SM-N950*: -3, -20
};

/** A contiguous run of readings at one distance (one placement of the rig). */
export interface RigPlacement {
  readonly distanceCm: number;
  /** Reading times relative to the file's first reading, ms. */
  readonly atMs: Float64Array;
  readonly rssiDbm: Float32Array;
}

export interface RigFile {
  readonly name: string;
  /** Phone that logged the readings, and the phone it heard (names as in phones.csv). */
  readonly rxPhone: string;
  readonly txPhone: string;
  readonly placements: readonly RigPlacement[];
}

function parseTimeMs(text: string): number {
  // "2021-01-04 14:22:03", UTC.
  return Date.UTC(
    +text.slice(0, 4),
    +text.slice(5, 7) - 1,
    +text.slice(8, 10),
    +text.slice(11, 13),
    +text.slice(14, 16),
    +text.slice(17, 19),
  );
}

/** Reads the rig files of `dir` that metadata.csv describes and that are present. */
export function readHeraldEdison(dir: string): RigFile[] {
  const metadataPath = join(dir, "metadata.csv");
  const metadata = readInputFile(metadataPath, {
    what: "the Herald rig metadata",
    missing: `no Herald rig data: ${metadataPath} does not exist`,
  });
  const present = new Set(readdirSync(dir));
  const lines = metadata.trim().split(/\r?\n/);
  const header = lines[0].split(",");
  const col = (name: string) => header.indexOf(name);
  const files: RigFile[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split(",");
    const phoneA = cells[col("phoneaname")];
    const phoneB = cells[col("phonebname")];
    for (const [nameCol, rx, tx] of [
      ["filenamephonea", phoneA, phoneB],
      ["filenamephoneb", phoneB, phoneA],
    ] as const) {
      const name = cells[col(nameCol)]?.trim();
      if (!name || !present.has(name)) continue;
      if (!RIG_PHONES[rx] || !RIG_PHONES[tx]) continue;
      files.push({ name, rxPhone: rx, txPhone: tx, placements: readPlacements(join(dir, name)) });
    }
  }
  files.sort((a, b) => (a.name < b.name ? -1 : 1));
  return files;
}

function readPlacements(path: string): RigPlacement[] {
  const lines = readInputFile(path, {
    what: "the Herald rig file",
    maxBytes: INPUT_LIMITS.tableBytes,
  })
    .trim()
    .split(/\r?\n/);
  const placements: RigPlacement[] = [];
  let t0 = Number.NaN;
  let times: number[] = [];
  let values: number[] = [];
  let current = Number.NaN;
  const flush = () => {
    if (times.length > 0) {
      placements.push({
        distanceCm: current,
        atMs: Float64Array.from(times),
        rssiDbm: Float32Array.from(values),
      });
    }
    times = [];
    values = [];
  };
  for (const line of lines.slice(1)) {
    const [time, rssi, distance] = line.split(",");
    const atMs = parseTimeMs(time);
    if (Number.isNaN(t0)) t0 = atMs;
    const d = Number(distance);
    if (d !== current) {
      flush();
      current = d;
    }
    times.push(atMs - t0);
    values.push(Number(rssi));
  }
  flush();
  return placements;
}

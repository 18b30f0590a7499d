/**
 * A simulated run on disk, so that `proxkit evaluate --run DIR` can redo the matching and the
 * detection from what the phones stored and what the key server published. The large tables are
 * Parquet (`<name>.parquet`, the default) or JSON lines (`<name>.jsonl`), one form per folder,
 * written as the run goes (`openRunWriter`, `sim/io/table-writer.ts`):
 *
 * - `sightings`: every stored sighting (receiver, at_ms, protocol, id, aem, rssi, tx_power,
 *   channel), the agent whose phone heard it and what `Sighting` (`src/signal/sighting.ts`) holds;
 * - `detections`: each detector's decision per ordered pair that matched (detector, index,
 *   receiver, score, estimated_minutes, notified);
 * - `windows`: the pair's matched exposure windows as [start_s, end_s) since the run's start
 *   (index, receiver, start_s, end_s), one row per window, the same for every detector;
 * - `truth_pairs`: every pair ever within the close distance (a, b, close_s, min_distance_m);
 * - `truth_intervals`: their close intervals as [start_s, end_s) (a, b, start_s, end_s).
 *
 * The small files stay JSON:
 *
 * - `keys.jsonl`: the index cases' published keys, as `proxkit match --keys` reads them;
 * - `truth.jsonl`: a `"run"` line (scenario, seed, start, close distance and minutes, index
 *   cases) and one `"agent"` line per agent (role, protocol, the day keys its phone advertised);
 * - `ceiling.jsonl`: a `"ceiling"` line (step, rank, floor and bin of the scores, or why the
 *   ceiling pass was skipped) and one `"pair"` line per scored ordered pair (index, receiver,
 *   score in dBm) for the reference rows (`sim/evaluation/ceiling.ts`); absent in older runs;
 *   then a `"ceiling-scans"` line (close seconds to reach, scan gap and longest scan, most
 *   seconds a scan stands for, scans found) and one `"scans-pair"` line per ordered pair the
 *   scan-sampled ceiling scored (index, receiver, score in dBm); absent in runs written before
 *   it (readers that do not know these lines skip them);
 * - `summary.json`: the evaluation and the RSSI/distance sample of the report. Written last: a
 *   folder with it is a finished run.
 *
 * Folders written before the tables (all JSON lines: sightings in the sighting form with
 * `"receiver"`, `"pair"` lines in truth.jsonl, each detection row repeating its pair's windows)
 * are still read.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "../../src/core/errors.js";
import { fromHex, toHex } from "../../src/core/hex.js";
import { prepareOutputFolder } from "../../src/io/output-folder.js";
import { readPublishedKeys } from "../../src/io/published-keys-file.js";
import { readInputLines } from "../../src/io/read-input-file.js";
import { PROTOCOLS, type Protocol, utcDate } from "../../src/protocols/rolling-id-scheme.js";
import { parseSighting, type Sighting } from "../../src/signal/sighting.js";
import { findTable, readTable } from "../io/table-reader.js";
import {
  type ColumnSpec,
  OUTPUT_FORMATS,
  type OpenTableOptions,
  type OutputFormat,
  openTable,
  type TableWriter,
  tablePath,
} from "../io/table-writer.js";
import type { DetectionRow, PairDetection } from "./detect-contacts.js";
import type { PairDecisions } from "./stream-detect.js";
import {
  type CeilingScores,
  type PublishedKeySet,
  pairKey,
  type RunCeiling,
  type RunData,
  type RunMeta,
  type ScanCeilingScores,
  type TruthAgent,
  type TruthPair,
} from "./run-data.js";

/** The run folder's tables, by base name: each is `<name>.parquet` or `<name>.jsonl`. */
export const RUN_TABLES = {
  sightings: "sightings",
  detections: "detections",
  windows: "windows",
  truthPairs: "truth_pairs",
  truthIntervals: "truth_intervals",
} as const;

/** The run folder's other files. */
export const RUN_FILES = {
  keys: "keys.jsonl",
  truth: "truth.jsonl",
  ceiling: "ceiling.jsonl",
  summary: "summary.json",
  report: "report.html",
} as const;

/** The columns of each table (see the file comment). */
export const RUN_TABLE_COLUMNS: Record<keyof typeof RUN_TABLES, readonly ColumnSpec[]> = {
  sightings: [
    { name: "receiver", type: "int32" },
    { name: "at_ms", type: "timestamp-ms" },
    { name: "protocol", type: "string", dictionary: true },
    { name: "id", type: "bytes" },
    { name: "aem", type: "bytes", nullable: true },
    { name: "rssi", type: "int32" },
    { name: "tx_power", type: "int32", nullable: true },
    { name: "channel", type: "int32", nullable: true },
  ],
  detections: [
    { name: "detector", type: "string", dictionary: true },
    // A pair's rows come together, one per detector: its index and receiver are one dictionary
    // entry repeated, which the dictionary stores as a run. Left to itself the writer misses the
    // runs and stores the index plainly, leaving it all to the compressor (several times the work).
    { name: "index", type: "int32", dictionary: true },
    { name: "receiver", type: "int32", dictionary: true },
    { name: "score", type: "float64" },
    { name: "estimated_minutes", type: "float64" },
    { name: "notified", type: "boolean" },
  ],
  windows: [
    { name: "index", type: "int32" },
    { name: "receiver", type: "int32" },
    { name: "start_s", type: "int32" },
    { name: "end_s", type: "int32" },
  ],
  truthPairs: [
    { name: "a", type: "int32" },
    { name: "b", type: "int32" },
    // Seconds of world steps, which need not be whole.
    { name: "close_s", type: "float64" },
    { name: "min_distance_m", type: "float64" },
  ],
  truthIntervals: [
    { name: "a", type: "int32" },
    { name: "b", type: "int32" },
    { name: "start_s", type: "int32" },
    { name: "end_s", type: "int32" },
  ],
};

/** Where a run is written until it is finished: beside `dir`, never inside it. */
export function partialFolder(dir: string): string {
  return `${resolve(dir)}.partial`;
}

/** Writes lines to a file in large chunks. */
function writeLines(path: string, lines: Iterable<string>): void {
  const fd = openSync(path, "w");
  try {
    let chunk: string[] = [];
    let size = 0;
    for (const line of lines) {
      chunk.push(line);
      size += line.length + 1;
      if (size > 1 << 20) {
        writeSync(fd, `${chunk.join("\n")}\n`);
        chunk = [];
        size = 0;
      }
    }
    if (chunk.length > 0) writeSync(fd, `${chunk.join("\n")}\n`);
  } finally {
    closeSync(fd);
  }
}

function* keyLines(published: PublishedKeySet): Generator<string> {
  for (const k of published.gaen)
    yield JSON.stringify({
      key: toHex(k.keyData),
      rollingStartIntervalNumber: k.rollingStartIntervalNumber,
      rollingPeriod: k.rollingPeriod,
    });
  for (const k of published.dayKeys)
    yield JSON.stringify({
      protocol: k.protocol,
      key: toHex(k.key.key),
      date: utcDate(k.key.day),
      days: k.days ?? 1,
    });
}

function* truthLines(
  meta: RunMeta,
  indexCases: readonly number[],
  agents: readonly TruthAgent[],
): Generator<string> {
  yield JSON.stringify({ type: "run", ...meta, indexCases });
  for (const a of agents)
    yield JSON.stringify({
      type: "agent",
      agent: a.agent,
      role: a.role,
      protocol: a.protocol,
      keys: a.keys.map((k) => ({ date: utcDate(k.day), key: toHex(k.key) })),
    });
}

function* ceilingLines(ceiling: RunCeiling): Generator<string> {
  if ("skipped" in ceiling) {
    yield JSON.stringify({ type: "ceiling", skipped: ceiling.skipped });
    return;
  }
  const { scores, scans, ...head } = ceiling;
  yield JSON.stringify({ type: "ceiling", ...head });
  for (const s of scores) yield JSON.stringify({ type: "pair", ...s });
  if (scans === undefined) return;
  const { scores: scanScores, ...scansHead } = scans;
  yield JSON.stringify({ type: "ceiling-scans", ...scansHead });
  for (const s of scanScores) yield JSON.stringify({ type: "scans-pair", ...s });
}

/** What `RunWriter.finish` writes besides the tables. */
export interface RunEnd {
  readonly meta: RunMeta;
  readonly indexCases: readonly number[];
  readonly agents: readonly TruthAgent[];
  readonly published: PublishedKeySet;
  readonly ceiling?: RunCeiling;
  readonly summary: unknown;
  /** More files by name, e.g. `{"report.html": html}`. */
  readonly extraFiles?: Record<string, string>;
}

/** A run folder written as the run goes; see `openRunWriter`. */
export interface RunWriter {
  sighting(receiver: number, s: Sighting): void;
  detection(d: DetectionRow): void;
  /** Every detector's decision on one pair: one row per detector, `names[j]` for position j. */
  decisions(index: number, receiver: number, names: readonly string[], d: PairDecisions): void;
  window(index: number, receiver: number, startS: number, endS: number): void;
  /** Writes the pair row and its interval rows. */
  truthPair(p: TruthPair): void;
  /**
   * Writes keys, truth.jsonl (run + agents), ceiling (if given), summary.json and any extra files
   * (e.g. {"report.html": html}), closes every table, then moves the folder into place.
   */
  finish(end: RunEnd): void;
  /** Closes and removes the partial folder (run failed or was interrupted). */
  abort(): void;
}

/** Every name a run writes, in either form or the old layout: stale copies go before a new run lands. */
const RUN_NAMES: readonly string[] = [
  ...Object.values(RUN_TABLES).flatMap((t) => OUTPUT_FORMATS.map((f) => tablePath(t, f))),
  RUN_FILES.keys,
  RUN_FILES.truth,
  RUN_FILES.ceiling,
  RUN_FILES.summary,
];

function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    // `<dir>` may be a mount point, with `<dir>.partial` on its parent's file system.
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    copyFileSync(from, to);
    rmSync(from);
  }
}

/**
 * Moves a finished run from `partial` into `dir`, file by file: files of the user's beside the
 * run stay, and `dir` itself is never replaced (it may be the working folder). The old
 * summary.json goes first and the new one comes last, so at no point does the folder look like a
 * finished run that it is not.
 */
function moveIntoPlace(partial: string, dir: string): void {
  const target = resolve(dir);
  prepareOutputFolder(dir, "--out");
  rmSync(join(target, RUN_FILES.summary), { force: true });
  const incoming = readdirSync(partial);
  for (const name of RUN_NAMES)
    if (!incoming.includes(name)) rmSync(join(target, name), { force: true });
  for (const name of incoming)
    if (name !== RUN_FILES.summary) moveFile(join(partial, name), join(target, name));
  moveFile(join(partial, RUN_FILES.summary), join(target, RUN_FILES.summary));
  rmSync(partial, { recursive: true, force: true });
}

/**
 * Opens a run folder for writing as the run goes. `dir` is checked as `simulate --out` always was
 * (made if missing, refused when it is a file or not writable); the run goes to
 * `<dir>.partial/` (a stale one from a killed run is replaced) and lands in `dir` at `finish`,
 * so a killed run never looks finished. `options.thread` encodes the Parquet tables in a writer
 * thread (the same bytes).
 */
export function openRunWriter(
  dir: string,
  format: OutputFormat,
  options: OpenTableOptions = {},
): RunWriter {
  if (!OUTPUT_FORMATS.includes(format))
    throw new ConfigError(
      `unknown output format ${JSON.stringify(format)}: use one of ${OUTPUT_FORMATS.join(", ")}`,
      "E_CONFIG",
    );
  prepareOutputFolder(dir, "--out");
  const partial = partialFolder(dir);
  try {
    rmSync(partial, { recursive: true, force: true });
  } catch (error) {
    throw new ConfigError(
      `cannot use --out ${dir}: cannot remove the unfinished ${partial}: ${(error as Error).message}`,
      "E_OUT",
    );
  }
  prepareOutputFolder(partial, "--out");
  const open = (name: keyof typeof RUN_TABLES) =>
    openTable(join(partial, RUN_TABLES[name]), RUN_TABLE_COLUMNS[name], format, options);
  const tables: Record<keyof typeof RUN_TABLES, TableWriter> = {
    sightings: open("sightings"),
    detections: open("detections"),
    windows: open("windows"),
    truthPairs: open("truthPairs"),
    truthIntervals: open("truthIntervals"),
  };
  let state: "open" | "finished" | "aborted" = "open";
  const check = () => {
    if (state !== "open") throw new Error(`the run writer for ${dir} is ${state}`);
  };
  const abort = () => {
    if (state === "aborted") return;
    state = "aborted";
    for (const table of Object.values(tables)) {
      try {
        table.close();
      } catch {}
    }
    rmSync(partial, { recursive: true, force: true });
  };
  // One row array per table, refilled for every row: the tables copy the values out at once.
  const sightingRow: unknown[] = new Array(RUN_TABLE_COLUMNS.sightings.length);
  const detectionRow: unknown[] = new Array(RUN_TABLE_COLUMNS.detections.length);
  const windowRow: number[] = [0, 0, 0, 0];
  const pairRow: number[] = [0, 0, 0, 0];
  const intervalRow: number[] = [0, 0, 0, 0];
  return {
    sighting(receiver, s) {
      check();
      const row = sightingRow;
      row[0] = receiver;
      row[1] = s.atMs;
      row[2] = s.protocol;
      row[3] = s.id;
      row[4] = s.aem ?? null;
      row[5] = s.rssiDbm;
      row[6] = s.txPowerDbm ?? null;
      row[7] = s.channel ?? null;
      tables.sightings.write(row);
    },
    detection(d) {
      check();
      tables.detections.write([
        d.detector,
        d.index,
        d.receiver,
        d.score,
        d.estimatedMinutes,
        d.notified,
      ]);
    },
    decisions(index, receiver, names, d) {
      check();
      const row = detectionRow;
      row[1] = index;
      row[2] = receiver;
      for (let j = 0; j < names.length; j++) {
        row[0] = names[j];
        row[3] = d.score[j];
        row[4] = d.minutes[j];
        row[5] = d.notified[j] === 1;
        tables.detections.write(row);
      }
    },
    window(index, receiver, startS, endS) {
      check();
      windowRow[0] = index;
      windowRow[1] = receiver;
      windowRow[2] = startS;
      windowRow[3] = endS;
      tables.windows.write(windowRow);
    },
    truthPair(p) {
      check();
      pairRow[0] = p.a;
      pairRow[1] = p.b;
      pairRow[2] = p.closeS;
      pairRow[3] = p.minDistanceM;
      tables.truthPairs.write(pairRow);
      intervalRow[0] = p.a;
      intervalRow[1] = p.b;
      for (const [startS, endS] of p.closeIntervals) {
        intervalRow[2] = startS;
        intervalRow[3] = endS;
        tables.truthIntervals.write(intervalRow);
      }
    },
    finish(end) {
      check();
      try {
        writeLines(join(partial, RUN_FILES.keys), keyLines(end.published));
        writeLines(
          join(partial, RUN_FILES.truth),
          truthLines(end.meta, end.indexCases, end.agents),
        );
        if (end.ceiling) writeLines(join(partial, RUN_FILES.ceiling), ceilingLines(end.ceiling));
        for (const [name, text] of Object.entries(end.extraFiles ?? {}))
          writeFileSync(join(partial, name), text);
        for (const table of Object.values(tables)) table.close();
        writeLines(join(partial, RUN_FILES.summary), [JSON.stringify(end.summary, null, 2)]);
        moveIntoPlace(partial, dir);
        state = "finished";
      } catch (error) {
        abort();
        throw error;
      }
    },
    abort,
  };
}

/**
 * Writes a whole run held in memory: its data files and detections into `dir` (created if
 * missing), as `openRunWriter` does. Each pair's windows are written once, from its first
 * detector's row.
 */
export function writeRunFiles(
  dir: string,
  data: RunData,
  detections: readonly PairDetection[],
  summary: unknown,
  format: OutputFormat = "parquet",
): void {
  const writer = openRunWriter(dir, format);
  try {
    data.sightings.forEach((list, receiver) => {
      for (const s of list) writer.sighting(receiver, s);
    });
    const withWindows = new Set<number>();
    for (const d of detections) {
      writer.detection(d);
      const key = pairKey(d.index, d.receiver);
      if (withWindows.has(key)) continue;
      withWindows.add(key);
      for (const [startS, endS] of d.windows) writer.window(d.index, d.receiver, startS, endS);
    }
    for (const p of data.truth.pairs) writer.truthPair(p);
    writer.finish({
      meta: data.meta,
      indexCases: data.indexCases,
      agents: data.truth.agents,
      published: data.published,
      ...(data.ceiling ? { ceiling: data.ceiling } : {}),
      summary,
    });
  } catch (error) {
    writer.abort();
    throw error;
  }
}

// Reading.

const CODE = "E_RUN";

function missing(path: string): string {
  return `${path} is missing: is this a proxkit simulate --out folder?`;
}

/** The non-blank lines of a JSON-lines run file, parsed, with where each is (for errors). */
async function* jsonLines(
  path: string,
): AsyncGenerator<{ json: Record<string, unknown>; where: string; line: string }> {
  let number = 0;
  for await (const raw of readInputLines(path, {
    what: "run file",
    code: CODE,
    missing: missing(path),
  })) {
    number++;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `${path} line ${number}`;
    yield { json: parseJson(line, where), where, line };
  }
}

function parseJson(line: string, where: string): Record<string, unknown> {
  try {
    const v = JSON.parse(line);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v;
  } catch {}
  throw new ConfigError(`${where}: not a JSON object`, CODE);
}

/** A `"pair"` or `"scans-pair"` line's fields, checked. */
function scoreLine(json: Record<string, unknown>, where: string) {
  const { index, receiver, score } = json;
  if (
    !Number.isInteger(index) ||
    !Number.isInteger(receiver) ||
    typeof score !== "number" ||
    !Number.isFinite(score)
  )
    throw new ConfigError(`${where}: needs integer index and receiver, a finite score`, CODE);
  return { index: index as number, receiver: receiver as number, score };
}

/** Reads `ceiling.jsonl` (see the file comment), or undefined when the run has none. */
export async function readCeilingFile(path: string): Promise<RunCeiling | undefined> {
  if (!existsSync(path)) return undefined;
  let head: Omit<CeilingScores, "scores" | "scans"> | undefined;
  let scansHead: Omit<ScanCeilingScores, "scores"> | undefined;
  const scores: { index: number; receiver: number; score: number }[] = [];
  const scanScores: { index: number; receiver: number; score: number }[] = [];
  for await (const { json, where } of jsonLines(path)) {
    if (json.type === "ceiling") {
      if (typeof json.skipped === "string") return { skipped: json.skipped };
      const { stepS, rank, floorDbm, binDb } = json;
      if (![stepS, rank, floorDbm, binDb].every((x) => typeof x === "number"))
        throw new ConfigError(`${where}: needs stepS, rank, floorDbm and binDb`, CODE);
      head = {
        stepS: stepS as number,
        rank: rank as number,
        floorDbm: floorDbm as number,
        binDb: binDb as number,
      };
    } else if (json.type === "pair") {
      scores.push(scoreLine(json, where));
    } else if (json.type === "ceiling-scans") {
      const { targetS, scanGapMs, maxScanMs, maxCreditS, scans } = json;
      if (![targetS, scanGapMs, maxScanMs, maxCreditS, scans].every((x) => typeof x === "number"))
        throw new ConfigError(
          `${where}: needs targetS, scanGapMs, maxScanMs, maxCreditS and scans`,
          CODE,
        );
      scansHead = {
        targetS: targetS as number,
        scanGapMs: scanGapMs as number,
        maxScanMs: maxScanMs as number,
        maxCreditS: maxCreditS as number,
        scans: scans as number,
      };
    } else if (json.type === "scans-pair") {
      if (!scansHead) throw new ConfigError(`${where}: before the "ceiling-scans" line`, CODE);
      scanScores.push(scoreLine(json, where));
    }
  }
  if (!head) throw new ConfigError(`${path} has no "ceiling" line`, CODE);
  return { ...head, scores, ...(scansHead ? { scans: { ...scansHead, scores: scanScores } } : {}) };
}

function checkFolder(dir: string): void {
  try {
    if (statSync(dir).isDirectory()) return;
  } catch {}
  const unfinished = existsSync(partialFolder(dir))
    ? ` (${partialFolder(dir)} is a run still being written, or one that was stopped)`
    : "";
  throw new ConfigError(`--run ${dir} is not a folder${unfinished}`, CODE);
}

/**
 * The form of the folder's tables, or "old" for a folder written before them (its truth pairs in
 * truth.jsonl, its windows in each detection row).
 */
function runLayout(dir: string): OutputFormat | "old" {
  return findTable(join(dir, RUN_TABLES.truthPairs))?.format ?? "old";
}

function tableIn(dir: string, table: keyof typeof RUN_TABLES, format: OutputFormat): string {
  return join(dir, tablePath(RUN_TABLES[table], format));
}

/** The rows of one of the folder's tables, checked against its columns, with a row's place for errors. */
async function* tableRows(
  dir: string,
  table: keyof typeof RUN_TABLES,
  format: OutputFormat,
): AsyncGenerator<{ row: Record<string, unknown>; where: () => string }> {
  const path = tableIn(dir, table, format);
  let number = 0;
  const where = () => `${path} ${format === "jsonl" ? "line" : "row"} ${number}`;
  for await (const row of readTable(path, RUN_TABLE_COLUMNS[table])) {
    number++;
    yield { row, where };
  }
}

interface TruthFile {
  meta: RunMeta;
  indexCases: number[];
  agents: TruthAgent[];
  /** The old layout's `"pair"` lines. */
  pairs: TruthPair[];
}

async function readTruthFile(path: string): Promise<TruthFile> {
  let meta: (RunMeta & { indexCases: number[] }) | undefined;
  const agents: TruthAgent[] = [];
  const pairs: TruthPair[] = [];
  for await (const { json, where } of jsonLines(path)) {
    if (json.type === "run") {
      const { type: _, ...rest } = json;
      meta = rest as unknown as RunMeta & { indexCases: number[] };
    } else if (json.type === "agent") {
      const protocol = json.protocol as Protocol;
      if (!PROTOCOLS.includes(protocol)) throw new ConfigError(`${where}: bad protocol`, CODE);
      if (!Array.isArray(json.keys)) throw new ConfigError(`${where}: needs "keys"`, CODE);
      const keys = (json.keys as { date: string; key: string }[]).map((k) => ({
        day: Math.floor(Date.parse(`${k.date}T00:00:00Z`) / 86_400_000),
        key: fromHex(k.key, `${where} key`),
      }));
      agents.push({ agent: json.agent as number, role: String(json.role), protocol, keys });
    } else if (json.type === "pair") {
      const { type: _, ...rest } = json;
      pairs.push(rest as unknown as TruthPair);
    }
  }
  if (!meta) throw new ConfigError(`${path} has no "run" line`, CODE);
  const { indexCases, ...runMeta } = meta;
  return { meta: runMeta, indexCases, agents, pairs };
}

async function readTruthPairs(dir: string, format: OutputFormat): Promise<TruthPair[]> {
  const intervals = new Map<number, [number, number][]>();
  for await (const { row } of tableRows(dir, "truthIntervals", format)) {
    const key = pairKey(row.a as number, row.b as number);
    const list = intervals.get(key);
    const span: [number, number] = [row.start_s as number, row.end_s as number];
    if (list) list.push(span);
    else intervals.set(key, [span]);
  }
  const pairs: TruthPair[] = [];
  for await (const { row } of tableRows(dir, "truthPairs", format)) {
    const a = row.a as number;
    const b = row.b as number;
    pairs.push({
      a,
      b,
      closeS: row.close_s as number,
      minDistanceM: row.min_distance_m as number,
      closeIntervals: intervals.get(pairKey(a, b)) ?? [],
    });
  }
  return pairs;
}

/** Streams the folder's sightings; `agents` (when known) bounds the receiver. */
async function streamSightings(
  dir: string,
  agents: number | undefined,
  fn: (receiver: number, s: Sighting) => void,
): Promise<number> {
  const layout = runLayout(dir);
  const badReceiver = (receiver: unknown) =>
    !Number.isInteger(receiver) ||
    (receiver as number) < 0 ||
    (agents !== undefined && (receiver as number) >= agents);
  let count = 0;
  if (layout === "old") {
    for await (const { json, where, line } of jsonLines(join(dir, "sightings.jsonl"))) {
      if (badReceiver(json.receiver))
        throw new ConfigError(`${where}: "receiver" must be an agent index`, CODE);
      fn(json.receiver as number, parseSighting(line, where));
      count++;
    }
    return count;
  }
  for await (const { row, where } of tableRows(dir, "sightings", layout)) {
    if (badReceiver(row.receiver))
      throw new ConfigError(`${where()}: "receiver" must be an agent index`, CODE);
    const protocol = row.protocol as Protocol;
    if (!PROTOCOLS.includes(protocol))
      throw new ConfigError(`${where()}: "protocol" must be one of ${PROTOCOLS.join(", ")}`, CODE);
    const s: { -readonly [K in keyof Sighting]: Sighting[K] } = {
      atMs: row.at_ms as number,
      protocol,
      id: row.id as Uint8Array,
      rssiDbm: row.rssi as number,
    };
    if (row.aem !== null) s.aem = row.aem as Uint8Array;
    if (row.tx_power !== null) s.txPowerDbm = row.tx_power as number;
    if (row.channel !== null) s.channel = row.channel as number;
    fn(row.receiver as number, s);
    count++;
  }
  return count;
}

/** Calls `fn` for every sighting of the run folder `dir`, in file order; resolves to their count. */
export async function forEachSighting(
  dir: string,
  fn: (receiver: number, s: Sighting) => void,
): Promise<number> {
  checkFolder(dir);
  return streamSightings(dir, undefined, fn);
}

/** Reads a run folder written by `openRunWriter` or `writeRunFiles` (sightings, published keys, truth). */
export async function readRunFiles(dir: string): Promise<RunData> {
  checkFolder(dir);
  const truth = await readTruthFile(join(dir, RUN_FILES.truth));
  const layout = runLayout(dir);
  const pairs = layout === "old" ? truth.pairs : await readTruthPairs(dir, layout);
  const sightings: Sighting[][] = truth.agents.map(() => []);
  await streamSightings(dir, truth.agents.length, (receiver, s) => sightings[receiver].push(s));
  const published = readPublishedKeys(join(dir, RUN_FILES.keys));
  const ceiling = await readCeilingFile(join(dir, RUN_FILES.ceiling));
  return {
    meta: truth.meta,
    sightings,
    indexCases: truth.indexCases,
    published,
    truth: { agents: truth.agents, pairs },
    ...(ceiling ? { ceiling } : {}),
  };
}

/**
 * Reads a run folder's detections, each with its pair's windows (as `detectContacts` gives
 * them: the pair's detectors share one windows array).
 */
export async function readDetections(dir: string): Promise<PairDetection[]> {
  checkFolder(dir);
  const layout = runLayout(dir);
  const out: PairDetection[] = [];
  if (layout === "old") {
    for await (const { json, where } of jsonLines(join(dir, "detections.jsonl"))) {
      const { detector, index, receiver, score, estimatedMinutes, notified, windows } = json;
      if (
        typeof detector !== "string" ||
        !Number.isInteger(index) ||
        !Number.isInteger(receiver) ||
        typeof score !== "number" ||
        typeof estimatedMinutes !== "number" ||
        typeof notified !== "boolean" ||
        !Array.isArray(windows)
      )
        throw new ConfigError(
          `${where}: needs detector, index, receiver, score, estimatedMinutes, notified and windows`,
          CODE,
        );
      out.push({
        detector,
        index: index as number,
        receiver: receiver as number,
        score,
        estimatedMinutes,
        notified,
        windows: windows as [number, number][],
      });
    }
    return out;
  }
  const spans = new Map<number, [number, number][]>();
  for await (const { row } of tableRows(dir, "windows", layout)) {
    const key = pairKey(row.index as number, row.receiver as number);
    const list = spans.get(key);
    const span: [number, number] = [row.start_s as number, row.end_s as number];
    if (list) list.push(span);
    else spans.set(key, [span]);
  }
  for await (const { row } of tableRows(dir, "detections", layout)) {
    const index = row.index as number;
    const receiver = row.receiver as number;
    out.push({
      detector: row.detector as string,
      index,
      receiver,
      score: row.score as number,
      estimatedMinutes: row.estimated_minutes as number,
      notified: row.notified as boolean,
      windows: spans.get(pairKey(index, receiver)) ?? [],
    });
  }
  return out;
}

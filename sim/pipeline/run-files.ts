/**
 * A simulated run on disk, so that `proxkit evaluate --run DIR` can redo the matching and the
 * detection from what the phones stored and what the key server published:
 *
 * - `sightings.jsonl`: every stored sighting in the JSON-lines sighting form
 *   (`src/signal/sighting.ts`) plus `"receiver"`, the agent whose phone heard it;
 * - `keys.jsonl`: the index cases' published keys, as `proxkit match --keys` reads them;
 * - `truth.jsonl`: a `"run"` line (scenario, seed, start, close distance and minutes, index
 *   cases), one `"agent"` line per agent (role, protocol, the day keys its phone advertised) and
 *   one `"pair"` line per pair ever within the close distance (close seconds, intervals);
 * - `detections.jsonl`: each detector's decision per ordered pair that matched;
 * - `ceiling.jsonl`: a `"ceiling"` line (step, rank, floor and bin of the scores, or why the
 *   ceiling pass was skipped) and one `"pair"` line per scored ordered pair (index, receiver,
 *   score in dBm) for the reference rows (`sim/evaluation/ceiling.ts`); absent in older runs;
 *   then a `"ceiling-scans"` line (close seconds to reach, scan gap and longest scan, most
 *   seconds a scan stands for, scans found) and one `"scans-pair"` line per ordered pair the
 *   scan-sampled ceiling scored (index, receiver, score in dBm); absent in runs written before
 *   it (readers that do not know these lines skip them);
 * - `summary.json`: the evaluation and the RSSI/distance sample of the report.
 */
import { closeSync, existsSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../src/core/errors.js";
import { fromHex, toHex } from "../../src/core/hex.js";
import { prepareOutputFolder } from "../../src/io/output-folder.js";
import { readPublishedKeys } from "../../src/io/published-keys-file.js";
import { INPUT_LIMITS, readInputFile } from "../../src/io/read-input-file.js";
import { PROTOCOLS, type Protocol, utcDate } from "../../src/protocols/rolling-id-scheme.js";
import { parseSighting, type Sighting, sightingToJson } from "../../src/signal/sighting.js";
import type { PairDetection } from "./detect-contacts.js";
import type {
  CeilingScores,
  RunCeiling,
  RunData,
  RunMeta,
  ScanCeilingScores,
  TruthAgent,
  TruthPair,
} from "./run-data.js";

export const RUN_FILES = {
  sightings: "sightings.jsonl",
  keys: "keys.jsonl",
  truth: "truth.jsonl",
  detections: "detections.jsonl",
  ceiling: "ceiling.jsonl",
  summary: "summary.json",
  report: "report.html",
} as const;

/** Writes lines to a file in large chunks (runs can hold millions of sightings). */
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

function* sightingLines(data: RunData): Generator<string> {
  for (let r = 0; r < data.sightings.length; r++)
    for (const s of data.sightings[r]) yield JSON.stringify({ receiver: r, ...sightingToJson(s) });
}

function* keyLines(data: RunData): Generator<string> {
  for (const k of data.published.gaen)
    yield JSON.stringify({
      key: toHex(k.keyData),
      rollingStartIntervalNumber: k.rollingStartIntervalNumber,
      rollingPeriod: k.rollingPeriod,
    });
  for (const k of data.published.dayKeys)
    yield JSON.stringify({
      protocol: k.protocol,
      key: toHex(k.key.key),
      date: utcDate(k.key.day),
      days: k.days ?? 1,
    });
}

function* truthLines(data: RunData): Generator<string> {
  yield JSON.stringify({ type: "run", ...data.meta, indexCases: data.indexCases });
  for (const a of data.truth.agents)
    yield JSON.stringify({
      type: "agent",
      agent: a.agent,
      role: a.role,
      protocol: a.protocol,
      keys: a.keys.map((k) => ({ date: utcDate(k.day), key: toHex(k.key) })),
    });
  for (const p of data.truth.pairs) yield JSON.stringify({ type: "pair", ...p });
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

/** A `"pair"` or `"scans-pair"` line's fields, checked. */
function scoreLine(json: Record<string, unknown>, where: string) {
  const { index, receiver, score } = json;
  if (
    !Number.isInteger(index) ||
    !Number.isInteger(receiver) ||
    typeof score !== "number" ||
    !Number.isFinite(score)
  )
    throw new ConfigError(`${where}: needs integer index and receiver, a finite score`, "E_RUN");
  return { index: index as number, receiver: receiver as number, score };
}

/** Reads `ceiling.jsonl` (see the file comment), or undefined when the run has none. */
export function readCeilingFile(path: string): RunCeiling | undefined {
  if (!existsSync(path)) return undefined;
  let head: Omit<CeilingScores, "scores" | "scans"> | undefined;
  let scansHead: Omit<ScanCeilingScores, "scores"> | undefined;
  const scores: { index: number; receiver: number; score: number }[] = [];
  const scanScores: { index: number; receiver: number; score: number }[] = [];
  for (const { line, number } of readLines(path)) {
    const where = `${path} line ${number}`;
    const json = parseJson(line, where);
    if (json.type === "ceiling") {
      if (typeof json.skipped === "string") return { skipped: json.skipped };
      const { stepS, rank, floorDbm, binDb } = json;
      if (![stepS, rank, floorDbm, binDb].every((x) => typeof x === "number"))
        throw new ConfigError(`${where}: needs stepS, rank, floorDbm and binDb`, "E_RUN");
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
          "E_RUN",
        );
      scansHead = {
        targetS: targetS as number,
        scanGapMs: scanGapMs as number,
        maxScanMs: maxScanMs as number,
        maxCreditS: maxCreditS as number,
        scans: scans as number,
      };
    } else if (json.type === "scans-pair") {
      if (!scansHead) throw new ConfigError(`${where}: before the "ceiling-scans" line`, "E_RUN");
      scanScores.push(scoreLine(json, where));
    }
  }
  if (!head) throw new ConfigError(`${path} has no "ceiling" line`, "E_RUN");
  return { ...head, scores, ...(scansHead ? { scans: { ...scansHead, scores: scanScores } } : {}) };
}

/** Writes the run's data files and detections into `dir` (created if missing). */
export function writeRunFiles(
  dir: string,
  data: RunData,
  detections: readonly PairDetection[],
  summary: unknown,
): void {
  prepareOutputFolder(dir, "--out");
  writeLines(join(dir, RUN_FILES.sightings), sightingLines(data));
  writeLines(join(dir, RUN_FILES.keys), keyLines(data));
  writeLines(join(dir, RUN_FILES.truth), truthLines(data));
  writeLines(
    join(dir, RUN_FILES.detections),
    detections.map((d) => JSON.stringify(d)),
  );
  // No ceiling: no file (not one left from an earlier run in the same folder).
  if (data.ceiling) writeLines(join(dir, RUN_FILES.ceiling), ceilingLines(data.ceiling));
  else rmSync(join(dir, RUN_FILES.ceiling), { force: true });
  writeLines(join(dir, RUN_FILES.summary), [JSON.stringify(summary, null, 2)]);
}

function readLines(path: string): { line: string; number: number }[] {
  // Read whole, so capped below V8's longest string; a day-long crowd run is well under it.
  const text = readInputFile(path, {
    what: "run file",
    maxBytes: INPUT_LIMITS.wholeLinesBytes,
    code: "E_RUN",
    missing: `${path} is missing: is this a proxkit simulate --out folder?`,
  });
  const out: { line: string; number: number }[] = [];
  text.split("\n").forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed !== "" && !trimmed.startsWith("#")) out.push({ line: trimmed, number: i + 1 });
  });
  return out;
}

function parseJson(line: string, where: string): Record<string, unknown> {
  try {
    const v = JSON.parse(line);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v;
  } catch {}
  throw new ConfigError(`${where}: not a JSON object`, "E_RUN");
}

/** Reads a run folder written by `writeRunFiles` (sightings, published keys, truth). */
export function readRunFiles(dir: string): RunData {
  try {
    if (!statSync(dir).isDirectory()) throw new Error();
  } catch {
    throw new ConfigError(`--run ${dir} is not a folder`, "E_RUN");
  }
  const truthPath = join(dir, RUN_FILES.truth);
  let meta: (RunMeta & { indexCases: number[] }) | undefined;
  const agents: TruthAgent[] = [];
  const pairs: TruthPair[] = [];
  for (const { line, number } of readLines(truthPath)) {
    const where = `${truthPath} line ${number}`;
    const json = parseJson(line, where);
    if (json.type === "run") {
      const { type: _, ...rest } = json;
      meta = rest as unknown as RunMeta & { indexCases: number[] };
    } else if (json.type === "agent") {
      const protocol = json.protocol as Protocol;
      if (!PROTOCOLS.includes(protocol)) throw new ConfigError(`${where}: bad protocol`, "E_RUN");
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
  if (!meta) throw new ConfigError(`${truthPath} has no "run" line`, "E_RUN");
  const { indexCases, ...runMeta } = meta;

  const sightings: Sighting[][] = agents.map(() => []);
  const sightingsPath = join(dir, RUN_FILES.sightings);
  for (const { line, number } of readLines(sightingsPath)) {
    const where = `${sightingsPath} line ${number}`;
    const receiver = parseJson(line, where).receiver;
    if (
      !Number.isInteger(receiver) ||
      (receiver as number) < 0 ||
      (receiver as number) >= agents.length
    )
      throw new ConfigError(`${where}: "receiver" must be an agent index`, "E_RUN");
    sightings[receiver as number].push(parseSighting(line, where));
  }
  const published = readPublishedKeys(join(dir, RUN_FILES.keys));
  const ceiling = readCeilingFile(join(dir, RUN_FILES.ceiling));
  return {
    meta: runMeta,
    sightings,
    indexCases,
    published,
    truth: { agents, pairs },
    ...(ceiling ? { ceiling } : {}),
  };
}

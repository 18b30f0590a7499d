/**
 * Camera ground truth of DP-3T experiment 05: where each soldier stood, 5 frames a second, and
 * from that how long each pair of people spent within a distance, to label close contacts in a
 * crowd without trusting the phones.
 *
 * Source: `../shared/data/dp3t-epfl/exp05-epfl-soldiers/ground_truth` (DP-3T/bt-measurements,
 * EPFL and ETH Zurich, CC BY-ND 4.0: read as is). Each part file is
 * `{"<soldier id>": [[x, y, z] | null per frame], "datetime": ["2020-04-17 07:56:47.400000", …]}`,
 * x/y in metres on the atrium floor grid, z always 0; 3000 frames (10 min) per part, 3600 for
 * the last part of lunch, office, queue and party. The datetimes are local time (CEST, UTC+2):
 * with that offset the 2-D distance at the nearest frame equals the SQLite files'
 * `ground_truth_distance` on every row the tracks cover, so that column was derived from these
 * tracks. `2_cff_part3.json` (train, last 10 min) is missing upstream; walls was not filmed.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CodecError, ConfigError } from "../core/errors.js";
import {
  EXP05_SCENARIO_NAMES,
  EXP05_SCENARIOS,
  EXP05_SOLDIERS,
  type Exp05Scenario,
  exp05PairKey,
} from "./load-dp3t-exp05.js";

/** Frame period of the tracks: 5 frames per second. */
export const CAMERA_FRAME_INTERVAL_MS = 200;

/** The track datetimes are CEST (UTC+2) on 2020-04-17; subtract this to get UTC. */
export const CAMERA_UTC_OFFSET_MS = 2 * 3_600_000;

const HALF_FRAME_MS = CAMERA_FRAME_INTERVAL_MS / 2;

/**
 * Default longest hole in one person's track that `pairCloseness` fills by linear
 * interpolation, s. Short holes are detector drop-outs of someone who is still there (people
 * move at most ~1.4 m/s, and mostly sit or stand); long ones (minutes) are people out of the
 * scene and stay unknown.
 */
export const DEFAULT_MAX_GAP_S = 10;

/**
 * One stretch of time the camera covers, `fromMs` inclusive to `toMs` exclusive: each frame
 * stands for half a frame period either side of it, as `frameAt` and the SQLite
 * `ground_truth_distance` (nearest frame) use it.
 */
export interface CameraSpan {
  readonly fromMs: number;
  readonly toMs: number;
}

/** One scenario's tracks: frame times and per-soldier positions (x, y in metres, NaN unknown). */
export class CameraTracks {
  readonly scenario: Exp05Scenario;
  /** Frame times, ms since the Unix epoch (UTC), increasing. */
  readonly frames: Float64Array;
  /** Soldier ids seen in any part, in numeric order. */
  readonly ids: readonly string[];
  readonly #xy: ReadonlyMap<string, Float32Array>;

  constructor(
    scenario: Exp05Scenario,
    frames: Float64Array,
    xyById: ReadonlyMap<string, Float32Array>,
  ) {
    this.scenario = scenario;
    this.frames = frames;
    this.#xy = xyById;
    this.ids = [...xyById.keys()].sort((a, b) => Number(a) - Number(b));
  }

  /** Interleaved x, y per frame (NaN unknown); `undefined` for an id never tracked. */
  positionsOf(id: string): Float32Array | undefined {
    return this.#xy.get(id);
  }

  /** Position at a frame, `undefined` where unknown. */
  position(id: string, frame: number): { xM: number; yM: number } | undefined {
    const xy = this.#xy.get(id);
    if (xy === undefined || frame < 0 || frame >= this.frames.length) return undefined;
    const xM = xy[2 * frame];
    const yM = xy[2 * frame + 1];
    return Number.isNaN(xM) || Number.isNaN(yM) ? undefined : { xM, yM };
  }

  /** 2-D distance at a frame, m; NaN where either position is unknown (no gap filling). */
  distanceM(a: string, b: string, frame: number): number {
    const p = this.position(a, frame);
    const q = this.position(b, frame);
    return p === undefined || q === undefined ? Number.NaN : Math.hypot(p.xM - q.xM, p.yM - q.yM);
  }

  /**
   * The frame nearest to `atMs` if it is within half a frame period, else -1; the earlier frame
   * on a tie, as the SQLite `ground_truth_distance` was computed.
   */
  frameAt(atMs: number): number {
    const frames = this.frames;
    let lo = 0;
    let hi = frames.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (frames[mid] < atMs) lo = mid + 1;
      else hi = mid;
    }
    let best = -1;
    let bestDiff = HALF_FRAME_MS;
    for (const i of [lo - 1, lo]) {
      if (i < 0 || i >= frames.length) continue;
      const diff = Math.abs(frames[i] - atMs);
      if (diff < bestDiff || (best < 0 && diff === bestDiff)) {
        best = i;
        bestDiff = diff;
      }
    }
    return best;
  }
}

/**
 * Reads a scenario's camera parts, one file at a time. Walls has no camera: its tracks are
 * empty (no frames, no ids). A missing folder or part throws `ConfigError`; malformed JSON,
 * an unknown soldier id, a bad position or datetime throws `CodecError` naming the file.
 */
export function loadCameraTracks(dataDir: string, scenario: string): CameraTracks {
  if (!Object.hasOwn(EXP05_SCENARIOS, scenario)) {
    throw new ConfigError(
      `unknown exp05 scenario "${scenario}" (known: ${EXP05_SCENARIO_NAMES.join(", ")})`,
    );
  }
  const name = scenario as Exp05Scenario;
  const folder = join(dataDir, "ground_truth");
  if (!existsSync(dataDir)) {
    throw new ConfigError(`DP-3T exp05 folder not found: ${dataDir}`, "E_INPUT");
  }
  const parts: { frames: Float64Array; xy: Map<string, Float32Array> }[] = [];
  let lastMs = Number.NEGATIVE_INFINITY;
  for (const file of EXP05_SCENARIOS[name].cameraParts) {
    const path = join(folder, file);
    if (!existsSync(path)) {
      throw new ConfigError(`DP-3T exp05 camera file not found: ${path}`, "E_INPUT");
    }
    const part = parsePart(path, readFileSync(path, "utf8"));
    if (part.frames.length > 0 && part.frames[0] <= lastMs) {
      fail(path, "its first frame is not after the previous part's last frame");
    }
    if (part.frames.length > 0) lastMs = part.frames[part.frames.length - 1];
    parts.push(part);
  }
  const total = parts.reduce((n, part) => n + part.frames.length, 0);
  const frames = new Float64Array(total);
  const xyById = new Map<string, Float32Array>();
  for (const part of parts)
    for (const id of part.xy.keys()) xyById.set(id, new Float32Array(2 * total).fill(Number.NaN));
  let offset = 0;
  for (const part of parts) {
    frames.set(part.frames, offset);
    for (const [id, xy] of part.xy) xyById.get(id)?.set(xy, 2 * offset);
    offset += part.frames.length;
  }
  return new CameraTracks(name, frames, xyById);
}

function fail(path: string, what: string): never {
  throw new CodecError(`${path}: ${what}`, undefined, "E_CAMPAIGN");
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/** "2020-04-17 07:56:47.400000" (CEST) → ms since the epoch (UTC); NaN when malformed. */
function parseCameraDatetime(text: unknown): number {
  const m = typeof text === "string" ? DATETIME.exec(text) : null;
  if (m === null) return Number.NaN;
  const fractionMs = m[7] === undefined ? 0 : Math.round(Number(`0.${m[7]}`) * 1000);
  const localMs = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], fractionMs);
  return localMs - CAMERA_UTC_OFFSET_MS;
}

function parsePart(
  path: string,
  text: string,
): { frames: Float64Array; xy: Map<string, Float32Array> } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(path, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    fail(path, "not a JSON object");
  }
  const record = json as Record<string, unknown>;
  const datetimes = record.datetime;
  if (!Array.isArray(datetimes)) fail(path, 'no "datetime" array');
  const n = datetimes.length;
  const frames = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const atMs = parseCameraDatetime(datetimes[i]);
    if (Number.isNaN(atMs))
      fail(path, `datetime ${i} ${JSON.stringify(datetimes[i])} is malformed`);
    if (i > 0 && atMs <= frames[i - 1]) fail(path, `datetime ${i} is not after datetime ${i - 1}`);
    frames[i] = atMs;
  }
  const xy = new Map<string, Float32Array>();
  for (const [id, track] of Object.entries(record)) {
    if (id === "datetime") continue;
    if (!Object.hasOwn(EXP05_SOLDIERS, id)) fail(path, `key "${id}" is not a soldier id`);
    if (!Array.isArray(track) || track.length !== n) {
      fail(path, `soldier ${id}: not an array of ${n} positions`);
    }
    const positions = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const p: unknown = track[i];
      if (p === null) {
        positions[2 * i] = Number.NaN;
        positions[2 * i + 1] = Number.NaN;
      } else if (
        Array.isArray(p) &&
        p.length >= 2 &&
        Number.isFinite(p[0]) &&
        Number.isFinite(p[1]) &&
        typeof p[0] === "number" &&
        typeof p[1] === "number"
      ) {
        positions[2 * i] = p[0];
        positions[2 * i + 1] = p[1];
      } else {
        fail(path, `soldier ${id}, frame ${i}: ${JSON.stringify(p)} is neither [x, y, z] nor null`);
      }
    }
    xy.set(id, positions);
  }
  return { frames, xy };
}

/**
 * The stretches the camera covers: consecutive frames at most 1.5 frame periods apart form one
 * span, from half a period before its first frame to half a period after its last. Restrict
 * RSSI to these to compare with the camera.
 */
export function cameraSpans(tracks: CameraTracks): CameraSpan[] {
  const spans: CameraSpan[] = [];
  const frames = tracks.frames;
  let from = 0;
  for (let i = 1; i <= frames.length; i++) {
    if (i === frames.length || frames[i] - frames[i - 1] > 1.5 * CAMERA_FRAME_INTERVAL_MS) {
      spans.push({ fromMs: frames[from] - HALF_FRAME_MS, toMs: frames[i - 1] + HALF_FRAME_MS });
      from = i;
    }
  }
  return spans;
}

export interface GapOptions {
  /** Longest hole in a person's track filled by linear interpolation, s (default `DEFAULT_MAX_GAP_S`; 0 none). */
  readonly maxGapS?: number;
}

/** Frame index → span index, so holes are never bridged across a camera gap. */
function spanIndexByFrame(tracks: CameraTracks): Int32Array {
  const index = new Int32Array(tracks.frames.length);
  let span = 0;
  for (let i = 1; i < tracks.frames.length; i++) {
    if (tracks.frames[i] - tracks.frames[i - 1] > 1.5 * CAMERA_FRAME_INTERVAL_MS) span++;
    index[i] = span;
  }
  return index;
}

/** A copy of `xy` with holes of at most `maxGapMs` between two known frames of one span interpolated. */
function bridgeGaps(
  xy: Float32Array,
  frames: Float64Array,
  spanOf: Int32Array,
  maxGapMs: number,
): Float32Array {
  const out = xy.slice();
  let last = -1;
  for (let i = 0; i < frames.length; i++) {
    if (Number.isNaN(xy[2 * i])) continue;
    if (
      last >= 0 &&
      i - last > 1 &&
      spanOf[last] === spanOf[i] &&
      frames[i] - frames[last] <= maxGapMs
    ) {
      const durationMs = frames[i] - frames[last];
      for (let j = last + 1; j < i; j++) {
        const w = (frames[j] - frames[last]) / durationMs;
        out[2 * j] = xy[2 * last] + w * (xy[2 * i] - xy[2 * last]);
        out[2 * j + 1] = xy[2 * last + 1] + w * (xy[2 * i + 1] - xy[2 * last + 1]);
      }
    }
    last = i;
  }
  return out;
}

function bridgedTracks(
  tracks: CameraTracks,
  options: GapOptions,
  ids: readonly string[] = tracks.ids,
): Map<string, Float32Array> {
  const maxGapS = options.maxGapS ?? DEFAULT_MAX_GAP_S;
  if (!(maxGapS >= 0)) throw new ConfigError(`maxGapS must be ≥ 0, got ${maxGapS}`);
  const spanOf = spanIndexByFrame(tracks);
  const bridged = new Map<string, Float32Array>();
  for (const id of ids) {
    const xy = tracks.positionsOf(id);
    if (xy !== undefined) bridged.set(id, bridgeGaps(xy, tracks.frames, spanOf, maxGapS * 1000));
  }
  return bridged;
}

/**
 * The 2-D distance of two soldiers at every frame, m, holes of up to `maxGapS` filled; NaN
 * where unknown (or where either id is not tracked).
 */
export function pairDistanceSeries(
  tracks: CameraTracks,
  a: string,
  b: string,
  options: GapOptions = {},
): Float32Array {
  const out = new Float32Array(tracks.frames.length).fill(Number.NaN);
  const bridged = bridgedTracks(tracks, options, [a, b]);
  const p = bridged.get(a);
  const q = bridged.get(b);
  if (p === undefined || q === undefined) return out;
  for (let i = 0; i < out.length; i++)
    out[i] = Math.hypot(p[2 * i] - q[2 * i], p[2 * i + 1] - q[2 * i + 1]);
  return out;
}

/** How long the camera saw one pair of people, and how long they were close. */
export interface PairCloseness {
  /** Time both positions were known (holes filled), s: frames × 0.2 s. */
  readonly observedS: number;
  /** Of that, time the 2-D distance was ≤ the threshold, s. */
  readonly closeS: number;
  /** Half a frame period before the first frame both were known, ms (UTC). */
  readonly coveredFromMs: number;
  /** Half a frame period after the last frame both were known, ms (UTC). */
  readonly coveredToMs: number;
}

/**
 * For every unordered pair of tracked soldiers seen together at least once (key
 * `exp05PairKey(a, b)`, "3-12", as in the loader's `unit`), the time observed and the time within
 * `closeDistanceM`. A pair absent from the map was never seen together: its contact is unknown,
 * not zero. Close contact is then `closeS ≥` a duration (e.g. 15 min), for both directions.
 */
export function pairCloseness(
  tracks: CameraTracks,
  closeDistanceM: number,
  options: GapOptions = {},
): Map<string, PairCloseness> {
  if (!(closeDistanceM >= 0))
    throw new ConfigError(`closeDistanceM must be ≥ 0, got ${closeDistanceM}`);
  const bridged = bridgedTracks(tracks, options);
  const frameS = CAMERA_FRAME_INTERVAL_MS / 1000;
  const closeSquared = closeDistanceM * closeDistanceM;
  const frames = tracks.frames;
  const result = new Map<string, PairCloseness>();
  const ids = tracks.ids;
  for (let m = 0; m < ids.length; m++) {
    const p = bridged.get(ids[m]) as Float32Array;
    for (let k = m + 1; k < ids.length; k++) {
      const q = bridged.get(ids[k]) as Float32Array;
      let observed = 0;
      let close = 0;
      let first = -1;
      let last = -1;
      for (let i = 0; i < frames.length; i++) {
        const dx = p[2 * i] - q[2 * i];
        const dy = p[2 * i + 1] - q[2 * i + 1];
        const squared = dx * dx + dy * dy;
        if (Number.isNaN(squared)) continue;
        observed++;
        if (squared <= closeSquared) close++;
        if (first < 0) first = i;
        last = i;
      }
      if (observed === 0) continue;
      result.set(exp05PairKey(ids[m], ids[k]), {
        observedS: observed * frameS,
        closeS: close * frameS,
        coveredFromMs: frames[first] - HALF_FRAME_MS,
        coveredToMs: frames[last] + HALF_FRAME_MS,
      });
    }
  }
  return result;
}

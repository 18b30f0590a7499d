/**
 * Recorded tracks for the `trajectory` mobility model: timestamped 2-D positions of people, read
 * from a JSON or CSV file (or built in memory, as the EPFL camera scenarios do).
 *
 * JSON: `{"tracks": {"<track id>": [[tS, xM, yM], [tS, null, null], ...], ...}}`
 * CSV:  a header `track,t_s,x_m,y_m`, then one sample a line (`alice,12.4,3.05,-1.2`); the lines
 *       of different tracks may interleave; blank lines and lines starting with `#` are skipped.
 *
 * `tS` is seconds from the scenario's start (≥ 0, strictly increasing within a track), x and y
 * metres on the scenario's floor plan. A sample without a position (`null`s in JSON, empty x and
 * y in CSV) says the person left the scene at `tS`.
 *
 * Where the agent is at time t (`trackPosition`):
 * - at a sample's time: exactly the sample (absent for a sample without a position);
 * - between two samples with positions at most `maxGapS` apart: linear interpolation;
 * - between two samples more than `maxGapS` apart, or next to a sample without a position:
 *   absent (out of the scene: neither sends nor receives, no ground truth);
 * - before the first sample and after the last: absent.
 * Absent rather than holding a position: a recording says nothing about where a person was
 * while not seen, and inventing a position would invent contacts.
 *
 * Malformed input throws `TrackFileError`, naming the file and the line (CSV) or entry (JSON).
 */
import { ProxkitError } from "../../src/core/errors.js";
import { readInputFile } from "../../src/io/read-input-file.js";

/** One person's samples: times in ms from the scenario's start, positions in metres (NaN: not seen). */
export interface Track {
  readonly id: string;
  readonly timesMs: Float64Array;
  readonly xM: Float64Array;
  readonly yM: Float64Array;
}

/** The tracks a scenario replays, by id, and the longest hole bridged by interpolation. */
export interface TrackSet {
  /** Where they come from (a file path, or a description), for messages. */
  readonly source: string;
  /** Longest time between two samples that is interpolated, s (Infinity: any). */
  readonly maxGapS: number;
  readonly tracks: ReadonlyMap<string, Track>;
}

/** A track file that cannot be read as tracks; `file` and `where` (line N / entry) locate it. */
export class TrackFileError extends ProxkitError {
  readonly file: string;
  readonly where: string | undefined;

  constructor(file: string, where: string | undefined, problem: string) {
    super("E_TRACKS", `${file}${where === undefined ? "" : `, ${where}`}: ${problem}`);
    this.file = file;
    this.where = where;
  }
}

/** A track from plain arrays (times in seconds); throws `TrackFileError` on bad samples. */
export function makeTrack(
  id: string,
  samples: readonly (readonly [number, number | null, number | null])[],
  source = "tracks",
  where: (k: number) => string = (k) => `track "${id}" sample ${k}`,
): Track {
  const n = samples.length;
  const timesMs = new Float64Array(n);
  const xM = new Float64Array(n);
  const yM = new Float64Array(n);
  samples.forEach(([tS, x, y], k) => {
    const fail = (problem: string): never => {
      throw new TrackFileError(source, where(k), problem);
    };
    if (!Number.isFinite(tS) || tS < 0) fail(`time ${tS} must be a number of seconds ≥ 0`);
    const t = tS * 1000;
    if (k > 0 && !(t > timesMs[k - 1]))
      fail(`time ${tS} s is not after the previous sample's (track "${id}")`);
    if ((x === null) !== (y === null)) fail("x and y must both be numbers or both be null");
    if (x !== null && y !== null && !(Number.isFinite(x) && Number.isFinite(y)))
      fail(`position (${x}, ${y}) is not finite`);
    timesMs[k] = t;
    xM[k] = x ?? Number.NaN;
    yM[k] = y ?? Number.NaN;
  });
  if (n === 0) throw new TrackFileError(source, `track "${id}"`, "has no samples");
  return { id, timesMs, xM, yM };
}

/**
 * The position on `track` at `atMs` (ms from the scenario's start), written into `out`; false
 * when the person is absent then (see the module comment). `maxGapMs`: longest interpolated hole.
 */
export function trackPosition(
  track: Track,
  atMs: number,
  maxGapMs: number,
  out: { xM: number; yM: number },
): boolean {
  const t = track.timesMs;
  const n = t.length;
  if (n === 0 || !(atMs >= t[0]) || atMs > t[n - 1]) return false;
  // Last sample at or before atMs.
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (t[mid] <= atMs) lo = mid;
    else hi = mid - 1;
  }
  const x0 = track.xM[lo];
  const y0 = track.yM[lo];
  if (Number.isNaN(x0)) return false;
  if (t[lo] === atMs) {
    out.xM = x0;
    out.yM = y0;
    return true;
  }
  const x1 = track.xM[lo + 1];
  const y1 = track.yM[lo + 1];
  const span = t[lo + 1] - t[lo];
  if (Number.isNaN(x1) || span > maxGapMs) return false;
  const w = (atMs - t[lo]) / span;
  out.xM = x0 + w * (x1 - x0);
  out.yM = y0 + w * (y1 - y0);
  return true;
}

/** The time of a track's last sample, s. */
export function trackEndS(track: Track): number {
  return track.timesMs[track.timesMs.length - 1] / 1000;
}

/** Reads a JSON (`.json`, or text starting with "{") or CSV track file. */
export function readTrackFile(path: string, maxGapS = Number.POSITIVE_INFINITY): TrackSet {
  const text = readInputFile(path, { what: "track file" });
  const tracks =
    path.toLowerCase().endsWith(".json") || text.trimStart().startsWith("{")
      ? parseJsonTracks(path, text)
      : parseCsvTracks(path, text);
  if (tracks.size === 0) throw new TrackFileError(path, undefined, "holds no tracks");
  return { source: path, maxGapS, tracks };
}

type Sample = [number, number | null, number | null];

function coordinate(v: unknown): number | null | undefined {
  if (v === null) return null;
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** `{"tracks": {"id": [[tS, xM, yM] | [tS, null, null], ...]}}`. */
export function parseJsonTracks(file: string, text: string): Map<string, Track> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new TrackFileError(file, undefined, `is not valid JSON (${(cause as Error).message})`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(doc) || !isObject(doc.tracks))
    throw new TrackFileError(file, undefined, 'must be an object with a "tracks" object');
  const out = new Map<string, Track>();
  for (const [id, list] of Object.entries(doc.tracks)) {
    if (!Array.isArray(list))
      throw new TrackFileError(file, `tracks["${id}"]`, "must be an array of [tS, xM, yM]");
    const samples = list.map((entry: unknown, k): Sample => {
      const where = `tracks["${id}"][${k}]`;
      if (!Array.isArray(entry) || (entry.length !== 3 && entry.length !== 2))
        throw new TrackFileError(
          file,
          where,
          `${JSON.stringify(entry)} must be [tS, xM, yM] or [tS, null, null]`,
        );
      const [tS, xRaw, yRaw] = entry as unknown[];
      const x = coordinate(xRaw);
      const y = entry.length === 2 && xRaw === null ? null : coordinate(yRaw);
      if (typeof tS !== "number" || x === undefined || y === undefined)
        throw new TrackFileError(
          file,
          where,
          `${JSON.stringify(entry)} must be [tS, xM, yM] or [tS, null, null] with finite numbers`,
        );
      return [tS, x, y];
    });
    out.set(
      id,
      makeTrack(id, samples, file, (k) => `tracks["${id}"][${k}]`),
    );
  }
  return out;
}

/** Header `track,t_s,x_m,y_m`, one sample a line. */
export function parseCsvTracks(file: string, text: string): Map<string, Track> {
  const lines = text.split(/\r?\n/);
  let header = -1;
  const byId = new Map<string, { samples: Sample[]; lines: number[] }>();
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k].trim();
    if (line === "" || line.startsWith("#")) continue;
    const cells = line.split(",").map((c) => c.trim());
    const where = `line ${k + 1}`;
    if (header < 0) {
      if (cells.join(",").toLowerCase() !== "track,t_s,x_m,y_m")
        throw new TrackFileError(
          file,
          where,
          `the header must be "track,t_s,x_m,y_m", got "${line}"`,
        );
      header = k;
      continue;
    }
    if (cells.length !== 4)
      throw new TrackFileError(
        file,
        where,
        `must have 4 fields (track,t_s,x_m,y_m), got ${cells.length}`,
      );
    const [id, tText, xText, yText] = cells;
    if (id === "") throw new TrackFileError(file, where, "the track id is empty");
    const number = (s: string, what: string): number => {
      const v = s === "" ? Number.NaN : Number(s);
      if (!Number.isFinite(v))
        throw new TrackFileError(file, where, `${what} "${s}" is not a number`);
      return v;
    };
    const tS = number(tText, "t_s");
    if ((xText === "") !== (yText === ""))
      throw new TrackFileError(file, where, "x_m and y_m must both be given or both be empty");
    const x = xText === "" ? null : number(xText, "x_m");
    const y = yText === "" ? null : number(yText, "y_m");
    let entry = byId.get(id);
    if (entry === undefined) {
      entry = { samples: [], lines: [] };
      byId.set(id, entry);
    }
    entry.samples.push([tS, x, y]);
    entry.lines.push(k + 1);
  }
  if (header < 0)
    throw new TrackFileError(file, undefined, 'is empty (no "track,t_s,x_m,y_m" header)');
  const out = new Map<string, Track>();
  for (const [id, { samples, lines: at }] of byId)
    out.set(
      id,
      makeTrack(id, samples, file, (k) => `line ${at[k]}`),
    );
  return out;
}

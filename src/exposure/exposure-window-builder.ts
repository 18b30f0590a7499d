/**
 * Builds GAEN v2 ScanInstances and ExposureWindows from a stream of (key handle, time,
 * attenuation), as the Exposure Notification API defines them (docs/protocols.md, Attenuation
 * and exposure windows):
 * - sightings of one key at most 25.5 s apart form one scan instance, with
 *   `typicalAttenuationDb = round(mean)`, `minAttenuationDb = min`, and
 *   `secondsSinceLastScan = 60 * min(5, whole minutes since the previous scan)` (120 s when
 *   the previous scan is unknown);
 * - an exposure window holds one key's scans and lasts at most 30 minutes: a sighting 30
 *   minutes or more after the window's first sighting starts a new window.
 *
 * A phone's OS scans about 4 s every 3.5-5 minutes, so its scan instances are its scans. A
 * receiver that scans continuously hears a key every second, and the 25.5 s rule would make a
 * whole 30-minute window one scan instance worth 120 s. `maxScanInstanceMs` (default unlimited:
 * exactly the EN API) closes a scan instance once it has lasted that long; the next sighting
 * starts a new one, so with 60 s every scan of a continuous scanner gets secondsSinceLastScan 60
 * and the weighted durations add up to the stay. Scans that a duty cycle already ends (4 s GAEN,
 * 40 s Bluezone) never reach 60 s, so that value leaves duty-cycled receivers exact.
 *
 * Streaming: a handle keeps 12 bytes (its open window's row, its last scan's time); an open
 * window's state lives in a row of a typed array, reused once the window is emitted, and its
 * closed scans in a pool of typed-array rows linked per window (no allocation per sighting or
 * scan), so memory follows the keys heard in the last 30 minutes. A window is emitted once no
 * later sighting can change it, so the windows are the same however the stream is split into
 * calls. Sightings of one key must come in time order.
 */
import { ConfigError } from "../core/errors.js";

/** Sightings at most this far apart belong to one scan instance. */
export const SCAN_GAP_MS = 25_500;
/** Longest exposure window. */
export const WINDOW_MAX_MS = 30 * 60_000;
/** Scans this far apart or more count the most seconds since the last scan (5 minutes). */
const LONGEST_SCAN_GAP_MS = 5 * 60_000;

/** secondsSinceLastScan when the previous scan time is unknown. */
export const UNKNOWN_SECONDS_SINCE_LAST_SCAN = 120;

export interface ExposureWindowBuilderOptions {
  /** Key handles to size the state for at first (it grows as needed). Default 1024. */
  expectedHandles?: number;
  /**
   * Longest scan instance, ms: a sighting this long or longer after its scan instance's first
   * sighting starts a new scan instance. Default unlimited (the EN API's scan instances). Use 60
   * s or more (`CONTINUOUS_SCAN_PERIOD_MS`): secondsSinceLastScan counts whole minutes, so scans
   * less than a minute apart would each count 0 s.
   */
  maxScanInstanceMs?: number;
}

/**
 * The scan period proxkit gives a continuous scanner (`maxScanInstanceMs`): one minute, the
 * shortest period whose secondsSinceLastScan (60) the EN API itself produces.
 */
export const CONTINUOUS_SCAN_PERIOD_MS = 60_000;

export interface ScanInstance {
  /** First sighting of the scan, ms since the Unix epoch. */
  readonly atMs: number;
  readonly typicalAttenuationDb: number;
  readonly minAttenuationDb: number;
  readonly secondsSinceLastScan: number;
  /** Sightings merged into this scan instance. */
  readonly sightings: number;
}

export interface ExposureWindow {
  /** The key (or ID) handle the window belongs to. */
  readonly handle: number;
  /** First sighting of the window, ms since the Unix epoch. */
  readonly startMs: number;
  readonly scanInstances: readonly ScanInstance[];
}

/**
 * The scan instances of a window being emitted, in columns: positions 0 .. count - 1 in time
 * order, each column as `ScanInstance` names it. One object reused from window to window: read it
 * during the call, never keep it.
 */
export interface WindowScans {
  readonly count: number;
  readonly atMs: Float64Array;
  readonly typicalAttenuationDb: Float64Array;
  readonly minAttenuationDb: Float64Array;
  readonly secondsSinceLastScan: Int32Array;
  readonly sightings: Int32Array;
}

/** Receives an emitted window as columns (see `ExposureWindowBuilder.withScanColumns`). */
export type WindowScansListener = (handle: number, startMs: number, scans: WindowScans) => void;

/** A growable `WindowScans`. */
class ScanRows implements WindowScans {
  count = 0;
  atMs: Float64Array;
  typicalAttenuationDb: Float64Array;
  minAttenuationDb: Float64Array;
  secondsSinceLastScan: Int32Array;
  sightings: Int32Array;

  constructor(n: number) {
    this.atMs = new Float64Array(n);
    this.typicalAttenuationDb = new Float64Array(n);
    this.minAttenuationDb = new Float64Array(n);
    this.secondsSinceLastScan = new Int32Array(n);
    this.sightings = new Int32Array(n);
  }

  get capacity(): number {
    return this.atMs.length;
  }

  get bytes(): number {
    return this.capacity * ROW_BYTES;
  }

  /** Makes room for `n` rows, keeping the rows it has. */
  reserve(n: number): void {
    if (n <= this.capacity) return;
    let size = this.capacity;
    while (size < n) size *= 2;
    const grow = <T extends Float64Array | Int32Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.atMs = grow(this.atMs, new Float64Array(size));
    this.typicalAttenuationDb = grow(this.typicalAttenuationDb, new Float64Array(size));
    this.minAttenuationDb = grow(this.minAttenuationDb, new Float64Array(size));
    this.secondsSinceLastScan = grow(this.secondsSinceLastScan, new Int32Array(size));
    this.sightings = grow(this.sightings, new Int32Array(size));
  }

  /** Copies row `from` of `source` to row `to`. */
  copy(to: number, source: ScanRows, from: number): void {
    this.atMs[to] = source.atMs[from];
    this.typicalAttenuationDb[to] = source.typicalAttenuationDb[from];
    this.minAttenuationDb[to] = source.minAttenuationDb[from];
    this.secondsSinceLastScan[to] = source.secondsSinceLastScan[from];
    this.sightings[to] = source.sightings[from];
  }
}

/** Row `k` of `scans` as an object. */
function scanInstanceAt(scans: WindowScans, k: number): ScanInstance {
  return {
    atMs: scans.atMs[k],
    typicalAttenuationDb: scans.typicalAttenuationDb[k],
    minAttenuationDb: scans.minAttenuationDb[k],
    secondsSinceLastScan: scans.secondsSinceLastScan[k],
    sightings: scans.sightings[k],
  };
}

/** Bytes of one `ScanRows` row. */
const ROW_BYTES = 8 * 3 + 4 * 2;

/** Fields of an open window's row in `ExposureWindowBuilder.rows` (one cache line a row). */
const START = 0; // first sighting of the window, ms
const SCAN_FIRST = 1; // first sighting of the current scan, ms
const SCAN_LAST = 2; // last sighting of the current scan, ms
const SCAN_SUM = 3; // sum of the current scan's attenuations, dB
const SCAN_MIN = 4; // least of them, dB
const SCAN_COUNT = 5; // sightings in the current scan
const SCAN_HEAD = 6; // first closed scan (pool row, -1: none); for a free row, the next free row
const SCAN_TAIL = 7; // last closed scan (pool row)
const ROW = 8;

export class ExposureWindowBuilder {
  private emitWindow: WindowScansListener;
  private readonly maxScanInstanceMs: number;
  /**
   * Per handle: the open window's row in `rows` (-1: none), and the first sighting of the key's
   * last closed scan (NaN: none), which outlives its window (secondsSinceLastScan). Twelve bytes
   * a handle; the rest of the state is per open window, so memory follows the keys heard in the
   * last 30 minutes rather than every key ever heard.
   */
  private rowOf: Int32Array;
  private previousScanMs: Float64Array;
  /** Open windows' state, `ROW` fields a row; free rows are linked through `SCAN_HEAD`. */
  private rows: Float64Array;
  private rowCount = 0;
  private freeWindowRow = -1;
  /** Closed scans of open windows; rows of emitted windows are reused through `freeRow`. */
  private readonly pool = new ScanRows(1024);
  private scanNext = new Int32Array(1024);
  private poolRows = 0;
  private freeRow = -1;
  /** The window being emitted. */
  private readonly emitted = new ScanRows(64);
  /** Open windows in opening order: [handle, startMs] pairs, for `advanceTo`. */
  private openQueue: number[] = [];
  private openQueueHead = 0;
  private open = 0;

  constructor(
    onWindow: (window: ExposureWindow) => void,
    options: ExposureWindowBuilderOptions = {},
  ) {
    this.emitWindow = (handle, startMs, scans) => {
      const scanInstances: ScanInstance[] = [];
      for (let k = 0; k < scans.count; k++) scanInstances.push(scanInstanceAt(scans, k));
      onWindow({ handle, startMs, scanInstances });
    };
    this.maxScanInstanceMs = validMaxScanInstanceMs(options.maxScanInstanceMs);
    const n = Math.max(16, options.expectedHandles ?? 1024);
    this.rowOf = new Int32Array(n).fill(-1);
    this.previousScanMs = new Float64Array(n).fill(Number.NaN);
    this.rows = new Float64Array(Math.min(n, 1024) * ROW);
  }

  /**
   * A builder that hands each window over as columns instead of an `ExposureWindow`: no object
   * per window or scan instance, for callers that emit millions of windows.
   */
  static withScanColumns(
    onWindow: WindowScansListener,
    options: ExposureWindowBuilderOptions = {},
  ): ExposureWindowBuilder {
    const builder = new ExposureWindowBuilder(() => {}, options);
    builder.emitWindow = onWindow;
    return builder;
  }

  /** Windows currently open. */
  get openWindows(): number {
    return this.open;
  }

  /** Bytes of per-handle state and of the open windows' state and scans (typed arrays), for memory reports. */
  get stateBytes(): number {
    return (
      this.rowOf.byteLength +
      this.previousScanMs.byteLength +
      this.rows.byteLength +
      this.pool.bytes +
      this.scanNext.byteLength +
      this.emitted.bytes
    );
  }

  /** Adds one sighting of `handle` at `atMs` with `attenuationDb`. */
  push(handle: number, atMs: number, attenuationDb: number): void {
    if (handle >= this.rowOf.length) this.growHandles(handle + 1);
    let w = this.rowOf[handle];
    if (w < 0) {
      w = this.openWindow(handle, atMs);
    } else {
      const rows = this.rows;
      if (atMs - rows[w + START] >= WINDOW_MAX_MS) {
        this.closeScan(handle, w);
        this.emit(handle, w);
        w = this.openWindow(handle, atMs);
      } else if (
        atMs - rows[w + SCAN_LAST] > SCAN_GAP_MS ||
        atMs - rows[w + SCAN_FIRST] >= this.maxScanInstanceMs
      ) {
        this.closeScan(handle, w);
        rows[w + SCAN_FIRST] = atMs;
      } else {
        rows[w + SCAN_LAST] = atMs;
        rows[w + SCAN_SUM] += attenuationDb;
        if (attenuationDb < rows[w + SCAN_MIN]) rows[w + SCAN_MIN] = attenuationDb;
        rows[w + SCAN_COUNT]++;
        return;
      }
    }
    const rows = this.rows;
    rows[w + SCAN_LAST] = atMs;
    rows[w + SCAN_SUM] = attenuationDb;
    rows[w + SCAN_MIN] = attenuationDb;
    rows[w + SCAN_COUNT] = 1;
  }

  /**
   * Tells the builder that no sighting earlier than `nowMs` will come: windows whose 30
   * minutes are over are emitted. (Any later sighting of their key would start a new window.)
   */
  advanceTo(nowMs: number): void {
    const queue = this.openQueue;
    while (this.openQueueHead < queue.length) {
      const handle = queue[this.openQueueHead];
      const startMs = queue[this.openQueueHead + 1];
      const w = this.rowOf[handle];
      if (w >= 0 && this.rows[w + START] === startMs) {
        if (nowMs - startMs < WINDOW_MAX_MS) break;
        this.closeScan(handle, w);
        this.emit(handle, w);
      }
      this.openQueueHead += 2;
    }
    if (this.openQueueHead > 4096 && this.openQueueHead * 2 > queue.length) {
      this.openQueue = queue.slice(this.openQueueHead);
      this.openQueueHead = 0;
    }
  }

  /**
   * The open window of `handle` as it would be emitted now (its current scan included), or
   * `undefined` when none is open; changes nothing. For stores that persist open windows.
   */
  snapshot(handle: number): ExposureWindow | undefined {
    const w = handle < this.rowOf.length ? this.rowOf[handle] : -1;
    if (w < 0) return undefined;
    const rows = this.rows;
    const atMs = rows[w + SCAN_FIRST];
    const previous = this.previousScanMs[handle];
    const current: ScanInstance = {
      atMs,
      typicalAttenuationDb: Math.round(rows[w + SCAN_SUM] / rows[w + SCAN_COUNT]),
      minAttenuationDb: rows[w + SCAN_MIN],
      secondsSinceLastScan: Number.isNaN(previous)
        ? UNKNOWN_SECONDS_SINCE_LAST_SCAN
        : 60 * Math.min(5, Math.floor((atMs - previous) / 60_000)),
      sightings: rows[w + SCAN_COUNT],
    };
    const scanInstances: ScanInstance[] = [];
    for (let r = rows[w + SCAN_HEAD]; r >= 0; r = this.scanNext[r])
      scanInstances.push(scanInstanceAt(this.pool, r));
    scanInstances.push(current);
    return { handle, startMs: rows[w + START], scanInstances };
  }

  /**
   * Forgets `handle` (no window may be open for it) so the handle can be reused for another
   * key: its next window starts with an unknown previous scan.
   */
  forget(handle: number): void {
    if (handle < this.previousScanMs.length) this.previousScanMs[handle] = Number.NaN;
  }

  /**
   * Whether `handle` holds nothing but the fact that its key was heard: no window open, and its
   * last scan at least five minutes before `nowMs`, so that any scan from `nowMs` on counts the
   * most seconds since it (`SCAN_PERIODS_S`' last). Such a handle can be reused for another key,
   * and its own key given another handle through `heardLongAgo` when it comes back.
   */
  isIdle(handle: number, nowMs: number): boolean {
    if (handle >= this.rowOf.length) return true;
    if (this.rowOf[handle] >= 0) return false;
    const previous = this.previousScanMs[handle];
    return Number.isNaN(previous) || nowMs - previous >= LONGEST_SCAN_GAP_MS;
  }

  /**
   * Starts `handle` (no window open) for a key heard before but not in the last five minutes:
   * its next scan counts the most seconds since the last, as it would have on its first handle.
   */
  heardLongAgo(handle: number): void {
    if (handle >= this.rowOf.length) this.growHandles(handle + 1);
    this.previousScanMs[handle] = Number.NEGATIVE_INFINITY;
  }

  /** Emits every open window (end of stream). */
  flush(): void {
    for (let i = this.openQueueHead; i < this.openQueue.length; i += 2) {
      const handle = this.openQueue[i];
      const w = this.rowOf[handle];
      if (w >= 0 && this.rows[w + START] === this.openQueue[i + 1]) {
        this.closeScan(handle, w);
        this.emit(handle, w);
      }
    }
    this.openQueue = [];
    this.openQueueHead = 0;
  }

  /** Opens a window for `handle` at `atMs` in a free row; returns the row's offset in `rows`. */
  private openWindow(handle: number, atMs: number): number {
    let w = this.freeWindowRow;
    if (w >= 0) {
      this.freeWindowRow = this.rows[w + SCAN_HEAD];
    } else {
      w = this.rowCount++ * ROW;
      if (w + ROW > this.rows.length) {
        const rows = new Float64Array(this.rows.length * 2);
        rows.set(this.rows);
        this.rows = rows;
      }
    }
    const rows = this.rows;
    rows[w + START] = atMs;
    rows[w + SCAN_FIRST] = atMs;
    rows[w + SCAN_HEAD] = -1;
    this.rowOf[handle] = w;
    this.openQueue.push(handle, atMs);
    this.open++;
    return w;
  }

  private closeScan(handle: number, w: number): void {
    const rows = this.rows;
    const atMs = rows[w + SCAN_FIRST];
    const previous = this.previousScanMs[handle];
    const secondsSinceLastScan = Number.isNaN(previous)
      ? UNKNOWN_SECONDS_SINCE_LAST_SCAN
      : 60 * Math.min(5, Math.floor((atMs - previous) / 60_000));
    this.previousScanMs[handle] = atMs;
    const r = this.newRow();
    const pool = this.pool;
    pool.atMs[r] = atMs;
    pool.typicalAttenuationDb[r] = Math.round(rows[w + SCAN_SUM] / rows[w + SCAN_COUNT]);
    pool.minAttenuationDb[r] = rows[w + SCAN_MIN];
    pool.secondsSinceLastScan[r] = secondsSinceLastScan;
    pool.sightings[r] = rows[w + SCAN_COUNT];
    this.scanNext[r] = -1;
    if (rows[w + SCAN_HEAD] < 0) rows[w + SCAN_HEAD] = r;
    else this.scanNext[rows[w + SCAN_TAIL]] = r;
    rows[w + SCAN_TAIL] = r;
  }

  /** A free pool row. */
  private newRow(): number {
    if (this.freeRow >= 0) {
      const r = this.freeRow;
      this.freeRow = this.scanNext[r];
      return r;
    }
    const r = this.poolRows++;
    if (r >= this.pool.capacity) {
      this.pool.reserve(r + 1);
      const next = new Int32Array(this.pool.capacity);
      next.set(this.scanNext);
      this.scanNext = next;
    }
    return r;
  }

  private emit(handle: number, w: number): void {
    // The scans to the reused columns, their pool rows back to the free list.
    const rows = this.rows;
    const emitted = this.emitted;
    let count = 0;
    for (let r = rows[w + SCAN_HEAD]; r >= 0; r = this.scanNext[r]) {
      emitted.reserve(count + 1);
      emitted.copy(count++, this.pool, r);
    }
    emitted.count = count;
    const startMs = rows[w + START];
    this.scanNext[rows[w + SCAN_TAIL]] = this.freeRow;
    this.freeRow = rows[w + SCAN_HEAD];
    // The window's row back to its free list.
    rows[w + SCAN_HEAD] = this.freeWindowRow;
    this.freeWindowRow = w;
    this.rowOf[handle] = -1;
    this.open--;
    this.emitWindow(handle, startMs, emitted);
  }

  private growHandles(minLength: number): void {
    let n = this.rowOf.length;
    while (n < minLength) n *= 2;
    const rowOf = new Int32Array(n).fill(-1);
    rowOf.set(this.rowOf);
    this.rowOf = rowOf;
    const previous = new Float64Array(n).fill(Number.NaN);
    previous.set(this.previousScanMs);
    this.previousScanMs = previous;
  }
}

/** Scan periods a user may choose, s: secondsSinceLastScan counts whole minutes, at most 5. */
export const SCAN_PERIODS_S = [60, 120, 180, 240, 300] as const;

/**
 * A user's scan period in seconds (`--scan-period`, a config's `scanPeriodS`) as
 * `maxScanInstanceMs`: 0 means unlimited (the EN API's scan instances); otherwise a whole number
 * of minutes up to 5 (shorter or uneven periods would be floored to fewer whole minutes by
 * secondsSinceLastScan, so the durations would no longer add up). `what` names it in the error.
 */
export function parseScanPeriodS(value: unknown, what: string): number {
  const s =
    typeof value === "number"
      ? value
      : typeof value === "string" && value.trim() !== ""
        ? Number(value)
        : Number.NaN;
  if (s === 0) return Number.POSITIVE_INFINITY;
  if (!(SCAN_PERIODS_S as readonly number[]).includes(s))
    throw new ConfigError(
      `${what} must be 0 (the EN API's own scan instances) or ${SCAN_PERIODS_S.join(", ")} seconds (secondsSinceLastScan counts whole minutes, at most 5), got ${JSON.stringify(value)}`,
      "E_SCAN_PERIOD",
    );
  return s * 1000;
}

/** `maxScanInstanceMs` checked: a positive number of ms, or unlimited when undefined. */
function validMaxScanInstanceMs(ms: number | undefined): number {
  if (ms === undefined) return Number.POSITIVE_INFINITY;
  if (!(ms > 0))
    throw new ConfigError(`maxScanInstanceMs must be positive, got ${ms}`, "E_SCAN_PERIOD");
  return ms;
}

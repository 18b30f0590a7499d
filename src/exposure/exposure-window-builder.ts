/**
 * Builds GAEN v2 ScanInstances and ExposureWindows from a stream of (key handle, time,
 * attenuation), as the Exposure Notification API defines them (PROTOCOLS.md §2):
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
 * Streaming: state lives in typed arrays indexed by handle, and the closed scans of open windows
 * in a pool of typed-array rows linked per handle (no allocation per sighting or scan); a window
 * is emitted once no later sighting can change it, so the windows are the same however the
 * stream is split into calls. Sightings of one key must come in time order.
 */
import { ConfigError } from "../core/errors.js";

/** Sightings at most this far apart belong to one scan instance. */
export const SCAN_GAP_MS = 25_500;
/** Longest exposure window. */
export const WINDOW_MAX_MS = 30 * 60_000;
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

export class ExposureWindowBuilder {
  private emitWindow: WindowScansListener;
  private readonly maxScanInstanceMs: number;
  private windowStartMs: Float64Array;
  private scanFirstMs: Float64Array;
  private scanLastMs: Float64Array;
  private scanSumDb: Float64Array;
  private scanMinDb: Float64Array;
  private scanCount: Int32Array;
  private previousScanMs: Float64Array;
  /** The open window's closed scans: a list through `scanNext` from `scanHead` (-1: none) to `scanTail`. */
  private scanHead: Int32Array;
  private scanTail: Int32Array;
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
    this.windowStartMs = new Float64Array(n).fill(Number.NaN);
    this.scanFirstMs = new Float64Array(n);
    this.scanLastMs = new Float64Array(n);
    this.scanSumDb = new Float64Array(n);
    this.scanMinDb = new Float64Array(n);
    this.scanCount = new Int32Array(n);
    this.previousScanMs = new Float64Array(n).fill(Number.NaN);
    this.scanHead = new Int32Array(n);
    this.scanTail = new Int32Array(n);
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

  /** Bytes of per-handle state and of the open windows' scans (typed arrays), for memory reports. */
  get stateBytes(): number {
    return (
      this.windowStartMs.length * (8 * 6 + 4 * 3) +
      this.pool.bytes +
      this.scanNext.byteLength +
      this.emitted.bytes
    );
  }

  /** Adds one sighting of `handle` at `atMs` with `attenuationDb`. */
  push(handle: number, atMs: number, attenuationDb: number): void {
    if (handle >= this.windowStartMs.length) this.grow(handle + 1);
    const start = this.windowStartMs[handle];
    if (Number.isNaN(start)) {
      this.openWindow(handle, atMs);
    } else if (atMs - start >= WINDOW_MAX_MS) {
      this.closeScan(handle);
      this.emit(handle);
      this.openWindow(handle, atMs);
    } else if (
      atMs - this.scanLastMs[handle] > SCAN_GAP_MS ||
      atMs - this.scanFirstMs[handle] >= this.maxScanInstanceMs
    ) {
      this.closeScan(handle);
      this.scanFirstMs[handle] = atMs;
    } else {
      this.scanLastMs[handle] = atMs;
      this.scanSumDb[handle] += attenuationDb;
      if (attenuationDb < this.scanMinDb[handle]) this.scanMinDb[handle] = attenuationDb;
      this.scanCount[handle]++;
      return;
    }
    this.scanLastMs[handle] = atMs;
    this.scanSumDb[handle] = attenuationDb;
    this.scanMinDb[handle] = attenuationDb;
    this.scanCount[handle] = 1;
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
      if (this.windowStartMs[handle] === startMs) {
        if (nowMs - startMs < WINDOW_MAX_MS) break;
        this.closeScan(handle);
        this.emit(handle);
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
    if (handle >= this.windowStartMs.length || Number.isNaN(this.windowStartMs[handle]))
      return undefined;
    const atMs = this.scanFirstMs[handle];
    const previous = this.previousScanMs[handle];
    const current: ScanInstance = {
      atMs,
      typicalAttenuationDb: Math.round(this.scanSumDb[handle] / this.scanCount[handle]),
      minAttenuationDb: this.scanMinDb[handle],
      secondsSinceLastScan: Number.isNaN(previous)
        ? UNKNOWN_SECONDS_SINCE_LAST_SCAN
        : 60 * Math.min(5, Math.floor((atMs - previous) / 60_000)),
      sightings: this.scanCount[handle],
    };
    const scanInstances: ScanInstance[] = [];
    for (let r = this.scanHead[handle]; r >= 0; r = this.scanNext[r])
      scanInstances.push(scanInstanceAt(this.pool, r));
    scanInstances.push(current);
    return { handle, startMs: this.windowStartMs[handle], scanInstances };
  }

  /**
   * Forgets `handle` (no window may be open for it) so the handle can be reused for another
   * key: its next window starts with an unknown previous scan.
   */
  forget(handle: number): void {
    if (handle < this.previousScanMs.length) this.previousScanMs[handle] = Number.NaN;
  }

  /** Emits every open window (end of stream). */
  flush(): void {
    for (let i = this.openQueueHead; i < this.openQueue.length; i += 2) {
      const handle = this.openQueue[i];
      if (this.windowStartMs[handle] === this.openQueue[i + 1]) {
        this.closeScan(handle);
        this.emit(handle);
      }
    }
    this.openQueue = [];
    this.openQueueHead = 0;
  }

  private openWindow(handle: number, atMs: number): void {
    this.windowStartMs[handle] = atMs;
    this.scanFirstMs[handle] = atMs;
    this.scanHead[handle] = -1;
    this.openQueue.push(handle, atMs);
    this.open++;
  }

  private closeScan(handle: number): void {
    const atMs = this.scanFirstMs[handle];
    const previous = this.previousScanMs[handle];
    const secondsSinceLastScan = Number.isNaN(previous)
      ? UNKNOWN_SECONDS_SINCE_LAST_SCAN
      : 60 * Math.min(5, Math.floor((atMs - previous) / 60_000));
    this.previousScanMs[handle] = atMs;
    const r = this.newRow();
    const pool = this.pool;
    pool.atMs[r] = atMs;
    pool.typicalAttenuationDb[r] = Math.round(this.scanSumDb[handle] / this.scanCount[handle]);
    pool.minAttenuationDb[r] = this.scanMinDb[handle];
    pool.secondsSinceLastScan[r] = secondsSinceLastScan;
    pool.sightings[r] = this.scanCount[handle];
    this.scanNext[r] = -1;
    if (this.scanHead[handle] < 0) this.scanHead[handle] = r;
    else this.scanNext[this.scanTail[handle]] = r;
    this.scanTail[handle] = r;
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

  private emit(handle: number): void {
    // The scans to the reused columns, their pool rows back to the free list.
    const emitted = this.emitted;
    let count = 0;
    for (let r = this.scanHead[handle]; r >= 0; r = this.scanNext[r]) {
      emitted.reserve(count + 1);
      emitted.copy(count++, this.pool, r);
    }
    emitted.count = count;
    const startMs = this.windowStartMs[handle];
    this.scanNext[this.scanTail[handle]] = this.freeRow;
    this.freeRow = this.scanHead[handle];
    this.windowStartMs[handle] = Number.NaN;
    this.open--;
    this.emitWindow(handle, startMs, emitted);
  }

  private grow(minLength: number): void {
    let n = this.windowStartMs.length;
    while (n < minLength) n *= 2;
    const grow64 = (a: Float64Array, fill?: number) => {
      const b = new Float64Array(n);
      if (fill !== undefined) b.fill(fill, a.length);
      b.set(a);
      return b;
    };
    this.windowStartMs = grow64(this.windowStartMs, Number.NaN);
    this.scanFirstMs = grow64(this.scanFirstMs);
    this.scanLastMs = grow64(this.scanLastMs);
    this.scanSumDb = grow64(this.scanSumDb);
    this.scanMinDb = grow64(this.scanMinDb);
    this.previousScanMs = grow64(this.previousScanMs, Number.NaN);
    const grow32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.scanCount = grow32(this.scanCount);
    this.scanHead = grow32(this.scanHead);
    this.scanTail = grow32(this.scanTail);
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

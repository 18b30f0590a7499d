/**
 * The receive side of every simulated phone, as the run goes: what `detectContacts` does after
 * the run, in bounded memory. Sightings are buffered for one chunk of simulated time (ten
 * minutes, a GAEN interval, by default) in compact columns; at the chunk's end the index cases'
 * keys as they are by then are matched against the chunk (the same `GaenMatcher` and
 * `matchDayKeys` as a phone's own matching: matching decides per sighting, on its ID, time and
 * metadata against one key, so matching a run chunk by chunk accepts exactly the sightings that
 * matching it whole does), and the accepted sightings go, in time order, into one exposure-window
 * builder whose handles are (receiver, key) pairs. Windows are kept compactly (a row per scan
 * instance) until the end of the run, where every ordered pair is scored by every detector with
 * `scorePair`, the code `detectContacts` uses, in the same order: by receiver, then index case.
 *
 * The sightings themselves are not kept: memory holds one chunk of them, the keys heard, and
 * the scan instances of pairs that matched.
 */
import { toHex } from "../../src/core/hex.js";
import { matchDayKeys, type PublishedDayKey } from "../../src/exposure/chained-key-matcher.js";
import {
  CONTINUOUS_SCAN_PERIOD_MS,
  type ExposureWindow,
  ExposureWindowBuilder,
} from "../../src/exposure/exposure-window-builder.js";
import { GaenMatcher, type PublishedKey } from "../../src/exposure/gaen-matcher.js";
import type { MatchedWindow } from "../../src/exposure/match-exposures.js";
import type { RiskPreset } from "../../src/exposure/risk-preset.js";
import { GAEN_INTERVAL_MS, GAEN_ROLLING_PERIOD } from "../../src/protocols/gaen.js";
import type { DayKey, Protocol } from "../../src/protocols/rolling-id-scheme.js";
import { MS_PER_DAY } from "../../src/protocols/rolling-id-scheme.js";
import { attenuationDb } from "../../src/signal/calibration-table.js";
import type { Sighting } from "../../src/signal/sighting.js";
import { type PairDetection, scorePair } from "./detect-contacts.js";

/** Days a run's keys can span: runs last at most 7 days; 16 leaves room on both sides. */
const DAY_SLOTS = 16;

export interface StreamDetectOptions {
  readonly presets: readonly RiskPreset[];
  /** Wall-clock time of the world's time 0, ms. */
  readonly startMs: number;
  readonly agents: number;
  /** Agents who publish their keys, ascending. */
  readonly indexCases: readonly number[];
  /** Each agent's protocol. */
  readonly protocolOf: (agent: number) => Protocol;
  /** TX power assumed for protocols that do not carry one, dBm (default −24, as `detectContacts`). */
  readonly defaultTxPowerDbm?: number;
  /** The receivers' RSSI correction, dB (default 0). */
  readonly rxRssiCorrectionDb?: number;
  /** Longest scan instance, ms (default `CONTINUOUS_SCAN_PERIOD_MS`, as `detectContacts`). */
  readonly maxScanInstanceMs?: number;
  /** Simulated time matched at once, ms (default one GAEN interval, 10 minutes). */
  readonly chunkMs?: number;
}

/** Where the decisions go: each detector's row per pair, and the pair's window spans once. */
export interface DetectionSink {
  detection(d: Omit<PairDetection, "windows">): void;
  window(index: number, receiver: number, startS: number, endS: number): void;
}

/** A growable column. */
class Column<
  T extends Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Uint8Array,
> {
  data: T;
  length = 0;
  constructor(
    private readonly make: (n: number) => T,
    private readonly width = 1,
  ) {
    this.data = make(1024 * width);
  }
  reserve(rows: number): void {
    const need = rows * this.width;
    if (need <= this.data.length) return;
    let n = this.data.length;
    while (n < need) n *= 2;
    const grown = this.make(n);
    grown.set(this.data);
    this.data = grown;
  }
}

export class StreamingDetector {
  private readonly options: StreamDetectOptions;
  private readonly isIndex: Uint8Array;
  private readonly chunkMs: number;
  private chunkEndMs: number;
  // This chunk's GAEN sightings (columns GaenMatcher reads) and their receivers.
  private gaenCount = 0;
  private readonly gaenAt = new Column((n) => new Float64Array(n));
  private readonly gaenRssi = new Column((n) => new Int16Array(n));
  private readonly gaenRpis = new Column((n) => new Uint8Array(n), 16);
  private readonly gaenAems = new Column((n) => new Uint8Array(n), 4);
  private readonly gaenReceiver = new Column((n) => new Int32Array(n));
  // This chunk's Bluezone/DP-3T sightings.
  private daySightings: Sighting[] = [];
  private dayReceivers: number[] = [];
  // The window builder's handles: (receiver, exposure) where exposure = agent * DAY_SLOTS + day slot.
  private readonly handleOf = new Map<number, number>();
  private readonly handleReceiver = new Column((n) => new Int32Array(n));
  private readonly handleExposure = new Column((n) => new Int32Array(n));
  private readonly builder: ExposureWindowBuilder;
  // Emitted windows: handle, start, and their scan instances in the scan columns.
  private windows = 0;
  private readonly windowHandle = new Column((n) => new Int32Array(n));
  private readonly windowStartMs = new Column((n) => new Float64Array(n));
  private readonly windowFirstScan = new Column((n) => new Int32Array(n));
  private scans = 0;
  /** Scan instances: ms since the run's start (runs last at most 7 days), typical attenuation, seconds. */
  private readonly scanAtMs = new Column((n) => new Uint32Array(n));
  private readonly scanTypical = new Column((n) => new Int16Array(n));
  private readonly scanSeconds = new Column((n) => new Uint16Array(n));
  // This chunk's accepted sightings, before they go to the builder in time order.
  private readonly eventHandle = new Column((n) => new Int32Array(n));
  private readonly eventAtMs = new Column((n) => new Float64Array(n));
  private readonly eventDb = new Column((n) => new Float64Array(n));
  private readonly firstDay: number;
  private finished = false;
  /** Sightings accepted by matching. */
  matched = 0;

  constructor(options: StreamDetectOptions) {
    this.options = options;
    this.isIndex = new Uint8Array(options.agents);
    for (const i of options.indexCases) this.isIndex[i] = 1;
    this.chunkMs = options.chunkMs ?? GAEN_INTERVAL_MS;
    this.chunkEndMs = options.startMs + this.chunkMs;
    this.firstDay = Math.floor(options.startMs / MS_PER_DAY) - 2;
    this.builder = new ExposureWindowBuilder((w) => this.keep(w), {
      expectedHandles: 16,
      maxScanInstanceMs: options.maxScanInstanceMs ?? CONTINUOUS_SCAN_PERIOD_MS,
    });
  }

  /** One stored sighting of `receiver` (in time order across chunks; any order within one). */
  sighting(receiver: number, s: Sighting): void {
    if (s.protocol === "gaen") {
      const i = this.gaenCount++;
      this.gaenAt.reserve(i + 1);
      this.gaenRssi.reserve(i + 1);
      this.gaenRpis.reserve(i + 1);
      this.gaenAems.reserve(i + 1);
      this.gaenReceiver.reserve(i + 1);
      this.gaenAt.data[i] = s.atMs;
      this.gaenRssi.data[i] = s.rssiDbm;
      this.gaenRpis.data.set(s.id, 16 * i);
      if (s.aem) this.gaenAems.data.set(s.aem, 4 * i);
      else this.gaenAems.data.fill(0, 4 * i, 4 * i + 4);
      this.gaenReceiver.data[i] = receiver;
    } else {
      this.daySightings.push(s);
      this.dayReceivers.push(receiver);
    }
  }

  /**
   * No sighting earlier than `atMs` (wall clock, ms) will come. At a chunk's end its sightings
   * are matched against the index cases' keys as `keyStoreOf` gives them now.
   */
  advanceTo(atMs: number, keysOf: (agent: number) => readonly DayKey[]): void {
    if (atMs < this.chunkEndMs) return;
    this.matchChunk(keysOf);
    this.builder.advanceTo(atMs);
    while (this.chunkEndMs <= atMs) this.chunkEndMs += this.chunkMs;
  }

  /** Matches what is left, closes every window and scores every pair into `sink`. */
  finish(
    keysOf: (agent: number) => readonly DayKey[],
    sink: DetectionSink,
    onProgress?: (fraction: number) => void,
  ): void {
    if (this.finished) throw new Error("StreamingDetector.finish called twice");
    this.finished = true;
    this.matchChunk(keysOf);
    this.builder.flush();
    this.scoreAll(keysOf, sink, onProgress);
  }

  /** Bytes held in columns (for memory reports). */
  get bytes(): number {
    const cols = [
      this.gaenAt,
      this.gaenRssi,
      this.gaenRpis,
      this.gaenAems,
      this.gaenReceiver,
      this.handleReceiver,
      this.handleExposure,
      this.windowHandle,
      this.windowStartMs,
      this.windowFirstScan,
      this.scanAtMs,
      this.scanTypical,
      this.scanSeconds,
      this.eventHandle,
      this.eventAtMs,
      this.eventDb,
    ];
    return cols.reduce((sum, c) => sum + c.data.byteLength, 0) + this.builder.stateBytes;
  }

  private slotOf(day: number): number {
    return day - this.firstDay;
  }

  private matchChunk(keysOf: (agent: number) => readonly DayKey[]): void {
    let events = 0;
    const event = (handle: number, atMs: number, db: number) => {
      this.eventHandle.reserve(events + 1);
      this.eventAtMs.reserve(events + 1);
      this.eventDb.reserve(events + 1);
      this.eventHandle.data[events] = handle;
      this.eventAtMs.data[events] = atMs;
      this.eventDb.data[events] = db;
      events++;
    };
    const rxCorrection = this.options.rxRssiCorrectionDb ?? 0;
    const chunkDay = Math.floor((this.chunkEndMs - 1) / MS_PER_DAY);
    // Keys whose day (with the ±2 h tolerance) can touch this chunk.
    const dayWanted = (day: number) => day >= chunkDay - 1 && day <= chunkDay + 1;
    if (this.gaenCount > 0) {
      const keys: PublishedKey[] = [];
      const exposures: number[] = [];
      for (const agent of this.options.indexCases) {
        if (this.options.protocolOf(agent) !== "gaen") continue;
        for (const k of keysOf(agent)) {
          if (!dayWanted(k.day)) continue;
          keys.push({
            keyData: k.key,
            rollingStartIntervalNumber: k.day * GAEN_ROLLING_PERIOD,
            rollingPeriod: GAEN_ROLLING_PERIOD,
          });
          exposures.push(agent * DAY_SLOTS + this.slotOf(k.day));
        }
      }
      if (keys.length > 0) {
        const n = this.gaenCount;
        const matcher = new GaenMatcher({
          count: n,
          atMs: this.gaenAt.data.subarray(0, n),
          rssiDbm: this.gaenRssi.data.subarray(0, n),
          rpis: this.gaenRpis.data.subarray(0, 16 * n),
          aems: this.gaenAems.data.subarray(0, 4 * n),
        });
        for (const m of matcher.match(keys)) {
          const receiver = this.gaenReceiver.data[m.sighting];
          const exposure = exposures[m.keyIndex];
          if (Math.floor(exposure / DAY_SLOTS) === receiver) continue; // its own keys
          event(
            this.handle(receiver, exposure),
            this.gaenAt.data[m.sighting],
            attenuationDb(m.txPowerDbm, this.gaenRssi.data[m.sighting], rxCorrection),
          );
        }
      }
      this.gaenCount = 0;
    }
    if (this.daySightings.length > 0) {
      const published: PublishedDayKey[] = [];
      const exposures: number[] = [];
      for (const agent of this.options.indexCases) {
        const protocol = this.options.protocolOf(agent);
        if (protocol === "gaen") continue;
        for (const k of keysOf(agent)) {
          if (!dayWanted(k.day)) continue;
          published.push({ protocol, key: k, days: 1 });
          exposures.push(agent * DAY_SLOTS + this.slotOf(k.day));
        }
      }
      const defaultTx = this.options.defaultTxPowerDbm ?? -24;
      for (const m of matchDayKeys(published, this.daySightings)) {
        const receiver = this.dayReceivers[m.sighting];
        const exposure = exposures[m.keyIndex];
        if (Math.floor(exposure / DAY_SLOTS) === receiver) continue;
        const s = this.daySightings[m.sighting];
        event(
          this.handle(receiver, exposure),
          s.atMs,
          attenuationDb(s.txPowerDbm ?? defaultTx, s.rssiDbm, rxCorrection),
        );
      }
      this.daySightings = [];
      this.dayReceivers = [];
    }
    // One key's sightings must reach the builder in time order (ties keep their match order).
    const handles = this.eventHandle.data;
    const times = this.eventAtMs.data;
    const dbs = this.eventDb.data;
    const order = new Int32Array(events);
    for (let e = 0; e < events; e++) order[e] = e;
    order.sort((x, y) => times[x] - times[y] || x - y);
    for (const e of order) this.builder.push(handles[e], times[e], dbs[e]);
    this.matched += events;
  }

  private handle(receiver: number, exposure: number): number {
    const key = receiver * this.options.agents * DAY_SLOTS + exposure;
    let h = this.handleOf.get(key);
    if (h === undefined) {
      h = this.handleOf.size;
      this.handleOf.set(key, h);
      this.handleReceiver.reserve(h + 1);
      this.handleExposure.reserve(h + 1);
      this.handleReceiver.data[h] = receiver;
      this.handleExposure.data[h] = exposure;
    }
    return h;
  }

  private keep(w: ExposureWindow): void {
    const i = this.windows++;
    this.windowHandle.reserve(i + 1);
    this.windowStartMs.reserve(i + 1);
    this.windowFirstScan.reserve(i + 2);
    this.windowHandle.data[i] = w.handle;
    this.windowStartMs.data[i] = w.startMs;
    this.windowFirstScan.data[i] = this.scans;
    const n = w.scanInstances.length;
    this.scanAtMs.reserve(this.scans + n);
    this.scanTypical.reserve(this.scans + n);
    this.scanSeconds.reserve(this.scans + n);
    for (const s of w.scanInstances) {
      this.scanAtMs.data[this.scans] = s.atMs - this.options.startMs;
      this.scanTypical.data[this.scans] = s.typicalAttenuationDb;
      this.scanSeconds.data[this.scans] = s.secondsSinceLastScan;
      this.scans++;
    }
    this.windowFirstScan.data[i + 1] = this.scans;
  }

  private scoreAll(
    keysOf: (agent: number) => readonly DayKey[],
    sink: DetectionSink,
    onProgress?: (fraction: number) => void,
  ): void {
    const { presets, startMs } = this.options;
    const handleReceiver = this.handleReceiver.data;
    const handleExposure = this.handleExposure.data;
    const windowHandle = this.windowHandle.data;
    const windowStart = this.windowStartMs.data;
    // By receiver, index case, start, then key (day): the order detectContacts scores in.
    const order = new Int32Array(this.windows);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((x, y) => {
      const hx = windowHandle[x];
      const hy = windowHandle[y];
      return (
        handleReceiver[hx] - handleReceiver[hy] ||
        Math.floor(handleExposure[hx] / DAY_SLOTS) - Math.floor(handleExposure[hy] / DAY_SLOTS) ||
        windowStart[x] - windowStart[y] ||
        handleExposure[hx] - handleExposure[hy]
      );
    });
    const keyHex = new Map<number, string>();
    const hexOf = (exposure: number) => {
      let hex = keyHex.get(exposure);
      if (hex === undefined) {
        const agent = Math.floor(exposure / DAY_SLOTS);
        const day = (exposure % DAY_SLOTS) + this.firstDay;
        const key = keysOf(agent).find((k) => k.day === day);
        hex = key === undefined ? "" : toHex(key.key);
        keyHex.set(exposure, hex);
      }
      return hex;
    };
    const emit = (d: PairDetection) => {
      const { windows: _, ...row } = d;
      sink.detection(row);
    };
    let k = 0;
    let reported = 0;
    while (k < order.length) {
      if (onProgress && k - reported >= 65_536) {
        onProgress(k / order.length);
        reported = k;
      }
      const h0 = windowHandle[order[k]];
      const receiver = handleReceiver[h0];
      const index = Math.floor(handleExposure[h0] / DAY_SLOTS);
      const matched: MatchedWindow[] = [];
      const protocol = this.options.protocolOf(index);
      for (; k < order.length; k++) {
        const w = order[k];
        const h = windowHandle[w];
        if (handleReceiver[h] !== receiver || Math.floor(handleExposure[h] / DAY_SLOTS) !== index)
          break;
        const scanInstances: MatchedWindow["scanInstances"] = [];
        for (let s = this.windowFirstScan.data[w]; s < this.windowFirstScan.data[w + 1]; s++)
          scanInstances.push({
            t: (this.scanAtMs.data[s] + startMs) / 1000,
            typicalAttenuationDb: this.scanTypical.data[s],
            minAttenuationDb: 0,
            secondsSinceLastScan: this.scanSeconds.data[s],
          });
        matched.push({
          key: hexOf(handleExposure[h]),
          protocol,
          start: windowStart[w] / 1000,
          scanInstances,
        });
      }
      let spans: readonly (readonly [number, number])[] | undefined;
      scorePair(presets, startMs, index, receiver, matched, (d) => {
        spans ??= d.windows;
        emit(d);
      });
      for (const [s, e] of spans ?? []) sink.window(index, receiver, s, e);
    }
  }
}

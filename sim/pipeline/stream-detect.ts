/**
 * The receive side of every simulated phone, as the run goes: what `detectContacts` does after
 * the run, in bounded memory. Sightings are buffered for one chunk of simulated time (ten
 * minutes, a GAEN interval, by default) in compact columns; at the chunk's end the index cases'
 * keys as they are by then are matched against the chunk (the same `GaenMatcher` and
 * `matchDayKeys` as a phone's own matching: matching decides per sighting, on its ID, time and
 * metadata against one key, so matching a run chunk by chunk accepts exactly the sightings that
 * matching it whole does), and the accepted sightings go, in time order, into one exposure-window
 * builder whose handles are (receiver, key) pairs. Finished windows are kept in columns (a row per
 * scan instance), and past `spillAfterScans` go to spill files by receiver range, so that memory
 * does not grow with the run's length. At the end every ordered pair is scored by every detector
 * with `scoreWindowColumns` (the same decisions as `scorePair`, no object per window), in the
 * order `detectContacts` gives: by receiver, then index case; spilled partitions one at a time.
 *
 * The sightings themselves are never kept: memory holds one chunk of them, the window builder's
 * state per (receiver, key) heard, and the windows not yet spilled.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PairTable } from "../../src/core/pair-table.js";
import {
  type NumberColumn,
  stableCountingSort,
  withCapacity,
} from "../../src/core/typed-arrays.js";
import { matchDayKeys, type PublishedDayKey } from "../../src/exposure/chained-key-matcher.js";
import {
  CONTINUOUS_SCAN_PERIOD_MS,
  ExposureWindowBuilder,
  type WindowScans,
} from "../../src/exposure/exposure-window-builder.js";
import {
  GaenMatcher,
  MATCH_TOLERANCE_INTERVALS,
  type PublishedKey,
} from "../../src/exposure/gaen-matcher.js";
import type { RiskPreset } from "../../src/exposure/risk-preset.js";
import { scoreWindowColumns, type WindowColumns } from "../../src/exposure/score-exposure.js";
import {
  enIntervalNumber,
  GAEN_INTERVAL_MS,
  GAEN_ROLLING_PERIOD,
} from "../../src/protocols/gaen.js";
import type { DayKey, Protocol } from "../../src/protocols/rolling-id-scheme.js";
import { MS_PER_DAY } from "../../src/protocols/rolling-id-scheme.js";
import { attenuationDb } from "../../src/signal/calibration-table.js";
import type { Sighting } from "../../src/signal/sighting.js";
import type { DetectionRow } from "./detect-contacts.js";

/** Days a run's keys can span: runs last at most 7 days; 16 leaves room on both sides. */
const DAY_SLOTS = 16;

/**
 * Scan instances kept before the windows go to spill files: 128 per agent, at least 131,072
 * (about 4 MB with their windows, which a plaza of 1,000 fills in about an hour, so that a day's
 * run holds no more) and at most 1 M (big crowds write fewer, larger pieces).
 */
const MIN_SPILL_AFTER_SCANS = 1 << 17;
const MAX_SPILL_AFTER_SCANS = 1 << 20;

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
  /**
   * Scan instances kept in memory before the windows go to spill files on disk (default 128 per
   * agent, between 131,072 and 1 M), so that memory does not grow with the run's length.
   */
  readonly spillAfterScans?: number;
  /**
   * Handles in use, beyond twice what the last sweep left, before idle ones are let go
   * (default 65,536: fewer are not worth a sweep; 0: every 10 minutes, for tests).
   */
  readonly sweepMinHandles?: number;
}

/**
 * Every detector's decision on one ordered pair, position j for the j-th detector (preset) of the
 * run, values as a `DetectionRow` holds them (score and minutes rounded to thousandths). One
 * object reused from pair to pair: read it during the call, never keep it.
 */
export interface PairDecisions {
  readonly score: Float64Array;
  readonly minutes: Float64Array;
  /** 1 when the detector notifies, 0 when not. */
  readonly notified: Uint8Array;
}

/** Where the decisions go: every detector's decision per pair at once, then the pair's window spans. */
export interface DetectionSink {
  decisions(index: number, receiver: number, d: PairDecisions): void;
  window(index: number, receiver: number, startS: number, endS: number): void;
}

/** The decisions as one `DetectionRow` per detector, in the detectors' order. */
export function decisionRows(
  names: readonly string[],
  index: number,
  receiver: number,
  d: PairDecisions,
): DetectionRow[] {
  return names.map((detector, j) => ({
    detector,
    index,
    receiver,
    score: d.score[j],
    estimatedMinutes: d.minutes[j],
    notified: d.notified[j] === 1,
  }));
}

/** A growable column of `width` values a row. */
class Column<T extends NumberColumn> {
  data: T;
  constructor(
    make: (n: number) => T,
    private readonly width = 1,
  ) {
    this.data = make(1024 * width);
  }
  reserve(rows: number): void {
    this.data = withCapacity(this.data, rows * this.width);
  }
}

export class StreamingDetector {
  private readonly options: StreamDetectOptions;
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
  /** Open addressing over (receiver, exposure): slot -> handle + 1 (0: empty). */
  private slots = new Int32Array(MIN_SLOTS);
  /** Handles in use (`handles` minus the free ones), and the free ones (receiver −1). */
  private handles = 0;
  private live = 0;
  private freeHandles: number[] = [];
  private readonly handleReceiver = new Column((n) => new Int32Array(n));
  private readonly handleExposure = new Column((n) => new Int32Array(n));
  /**
   * The (receiver, exposure) pairs whose handle was let go while idle: their next scan counts
   * 300 s since the last, not the 120 s of a key never heard. Memory follows the keys heard in
   * the last minutes, and this set (a bit per pair) the keys ever heard.
   */
  private readonly heardBefore: HeardKeys;
  private readonly builder: ExposureWindowBuilder;
  // Emitted windows (receiver, exposure, start) and their scan instances, until scored or spilled.
  private readonly kept = new WindowStore();
  private spill: WindowSpill | undefined;
  private spilled = 0;
  private readonly spillAfterScans: number;
  // This chunk's accepted sightings, before they go to the builder in time order.
  private readonly eventHandle = new Column((n) => new Int32Array(n));
  private readonly eventAtMs = new Column((n) => new Float64Array(n));
  private readonly eventDb = new Column((n) => new Float64Array(n));
  private readonly firstDay: number;
  private finished = false;
  /** Sightings accepted by matching. */
  matched = 0;
  /** Handles let go while idle (their keys may come back on a new handle). */
  handlesLetGo = 0;
  /** When idle handles are let go next (every `HANDLE_SWEEP_MS`, whatever the chunk). */
  private nextHandleSweepMs = Number.NEGATIVE_INFINITY;
  private liveAtSweep = 0;
  private readonly sweepMinHandles: number;

  constructor(options: StreamDetectOptions) {
    this.options = options;
    this.chunkMs = options.chunkMs ?? GAEN_INTERVAL_MS;
    this.chunkEndMs = options.startMs + this.chunkMs;
    this.firstDay = Math.floor(options.startMs / MS_PER_DAY) - 2;
    this.spillAfterScans =
      options.spillAfterScans ??
      Math.min(MAX_SPILL_AFTER_SCANS, Math.max(MIN_SPILL_AFTER_SCANS, 128 * options.agents));
    this.heardBefore = new HeardKeys(options.agents, options.indexCases);
    this.sweepMinHandles = options.sweepMinHandles ?? MIN_SLOTS;
    this.builder = ExposureWindowBuilder.withScanColumns(
      (handle, startMs, scans) => this.keep(handle, startMs, scans),
      {
        expectedHandles: 16,
        maxScanInstanceMs: options.maxScanInstanceMs ?? CONTINUOUS_SCAN_PERIOD_MS,
      },
    );
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
      // Byte by byte: `set` costs more than the copy for 16 bytes.
      const rpis = this.gaenRpis.data;
      const id = s.id;
      for (let b = 0; b < 16; b++) rpis[16 * i + b] = id[b];
      const aems = this.gaenAems.data;
      const aem = s.aem;
      for (let b = 0; b < 4; b++) aems[4 * i + b] = aem ? aem[b] : 0;
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
    // Every 10 minutes, once the handles have doubled since (a constant per handle).
    if (
      atMs >= this.nextHandleSweepMs &&
      (this.sweepMinHandles === 0 || this.live >= this.sweepMinHandles + 2 * this.liveAtSweep)
    ) {
      this.letIdleHandlesGo(atMs);
      this.nextHandleSweepMs = atMs + HANDLE_SWEEP_MS;
      this.liveAtSweep = this.live;
    }
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
    this.scoreAll(sink, onProgress);
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
      { data: this.slots },
      this.eventHandle,
      this.eventAtMs,
      this.eventDb,
    ];
    return (
      cols.reduce((sum, c) => sum + c.data.byteLength, 0) +
      this.kept.bytes +
      this.builder.stateBytes +
      this.heardBefore.bytes
    );
  }

  /** Windows written to spill files so far. */
  get spilledWindows(): number {
    return this.spilled;
  }

  /** Removes the spill files (after `finish`, or when the run is abandoned). */
  close(): void {
    this.spill?.remove();
    this.spill = undefined;
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
      // Only the RPIs that can match: a sighting is accepted against its RPI's interval within
      // MATCH_TOLERANCE_INTERVALS, so intervals further from every sighting here never match. The
      // same matches in the same order (per key, by interval), for about 26 RPIs a key rather
      // than 144.
      const at = this.gaenAt.data;
      let first = at[0];
      let last = at[0];
      for (let i = 1; i < this.gaenCount; i++) {
        if (at[i] < first) first = at[i];
        else if (at[i] > last) last = at[i];
      }
      const low = enIntervalNumber(first) - MATCH_TOLERANCE_INTERVALS;
      const high = enIntervalNumber(last) + MATCH_TOLERANCE_INTERVALS;
      const keys: PublishedKey[] = [];
      const exposures: number[] = [];
      for (const agent of this.options.indexCases) {
        if (this.options.protocolOf(agent) !== "gaen") continue;
        for (const k of keysOf(agent)) {
          if (!dayWanted(k.day)) continue;
          const from = Math.max(k.day * GAEN_ROLLING_PERIOD, low);
          const to = Math.min((k.day + 1) * GAEN_ROLLING_PERIOD - 1, high);
          if (from > to) continue;
          keys.push({
            keyData: k.key,
            rollingStartIntervalNumber: from,
            rollingPeriod: to - from + 1,
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
    const order = stableOrder(times.subarray(0, events));
    for (let i = 0; i < events; i++) {
      const e = order[i];
      this.builder.push(handles[e], times[e], dbs[e]);
    }
    this.matched += events;
  }

  private handle(receiver: number, exposure: number): number {
    const receivers = this.handleReceiver.data;
    const exposures = this.handleExposure.data;
    const mask = this.slots.length - 1;
    let slot = slotOf(receiver, exposure, mask);
    for (;;) {
      const h = this.slots[slot] - 1;
      if (h < 0) break;
      if (receivers[h] === receiver && exposures[h] === exposure) return h;
      slot = (slot + 1) & mask;
    }
    const h = this.freeHandles.pop() ?? this.handles++;
    this.live++;
    this.handleReceiver.reserve(h + 1);
    this.handleExposure.reserve(h + 1);
    this.handleReceiver.data[h] = receiver;
    this.handleExposure.data[h] = exposure;
    if (this.heardBefore.has(receiver, exposure)) this.builder.heardLongAgo(h);
    else this.builder.forget(h);
    // At most half full: grow, re-inserting every handle.
    if (this.live * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.slots[slot] = h + 1;
    return h;
  }

  /**
   * Lets go of the handles with nothing but their key's "heard before" (`isIdle`): their ids go
   * back for reuse, their keys into `heardBefore`, and the table is rebuilt over the rest (smaller
   * when they are few), so memory follows the keys heard lately, not every key of the run.
   */
  private letIdleHandlesGo(nowMs: number): void {
    const receivers = this.handleReceiver.data;
    const exposures = this.handleExposure.data;
    let idle = 0;
    for (let h = 0; h < this.handles; h++) {
      if (receivers[h] < 0 || !this.builder.isIdle(h, nowMs)) continue;
      this.heardBefore.add(receivers[h], exposures[h]);
      receivers[h] = -1;
      this.freeHandles.push(h);
      idle++;
    }
    if (idle === 0) return;
    this.live -= idle;
    this.handlesLetGo += idle;
    // Ids in use first: the free list hands out the lowest ids first.
    this.freeHandles.sort((x, y) => y - x);
    let size = MIN_SLOTS;
    while (size < this.live * 4) size *= 2;
    this.rehash(size);
  }

  /** A table of `size` slots (a power of two) over the handles in use. */
  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    const mask = size - 1;
    const receivers = this.handleReceiver.data;
    const exposures = this.handleExposure.data;
    for (let h = 0; h < this.handles; h++) {
      if (receivers[h] < 0) continue;
      let at = slotOf(receivers[h], exposures[h], mask);
      while (this.slots[at] !== 0) at = (at + 1) & mask;
      this.slots[at] = h + 1;
    }
  }

  private keep(handle: number, windowStartMs: number, scans: WindowScans): void {
    const kept = this.kept;
    const startMs = this.options.startMs;
    const first = kept.add(
      this.handleReceiver.data[handle],
      this.handleExposure.data[handle],
      windowStartMs,
      scans.count,
    );
    for (let k = 0; k < scans.count; k++) {
      kept.scanAtMs[first + k] = scans.atMs[k] - startMs;
      kept.scanTypical[first + k] = scans.typicalAttenuationDb[k];
      kept.scanSeconds[first + k] = scans.secondsSinceLastScan[k];
    }
    if (this.kept.scans >= this.spillAfterScans) {
      this.spill ??= new WindowSpill(this.options.agents);
      this.spilled += this.kept.windows;
      this.spill.write(this.kept);
      this.kept.clear();
    }
  }

  private scoreAll(sink: DetectionSink, onProgress?: (fraction: number) => void): void {
    try {
      if (this.spill === undefined) {
        this.scoreStore(this.kept, sink, onProgress);
        return;
      }
      // Every window to the files, then one partition (a range of receivers) at a time.
      this.spilled += this.kept.windows;
      this.spill.write(this.kept);
      this.kept.clear();
      const spill = this.spill;
      for (let p = 0; p < spill.partitions; p++) {
        const store = spill.read(p);
        this.scoreStore(store, sink);
        onProgress?.((p + 1) / spill.partitions);
      }
    } finally {
      this.close();
    }
  }

  /** Scores every pair of `store` in the order detectContacts does: receiver, index case. */
  private scoreStore(
    store: WindowStore,
    sink: DetectionSink,
    onProgress?: (fraction: number) => void,
  ): void {
    const { presets, startMs, agents } = this.options;
    const { receiver: wReceiver, exposure: wExposure, startMs: wStart, firstScan } = store;
    const agentOf = (w: number) => Math.floor(wExposure[w] / DAY_SLOTS);
    // By receiver, index case, start, then key (day): the order detectContacts scores in. No two
    // windows tie (one key's windows start at different times), so any sort gives this order:
    // counting sorts by index case then receiver, then each pair's few windows by insertion (they
    // come nearly by start, as emitted). Transient: about 16 bytes a window.
    const n = store.windows;
    let order: Int32Array = new Int32Array(n);
    for (let w = 0; w < n; w++) order[w] = w;
    const agent = new Int32Array(n);
    for (let w = 0; w < n; w++) agent[w] = agentOf(w);
    order = stableCountingSort(order, agent, agents);
    order = stableCountingSort(order, wReceiver, agents);
    for (let from = 0, to = 0; from < n; from = to) {
      const w0 = order[from];
      for (to = from + 1; to < n; to++)
        if (wReceiver[order[to]] !== wReceiver[w0] || agent[order[to]] !== agent[w0]) break;
      for (let a = from + 1; a < to; a++) {
        const w = order[a];
        let b = a;
        for (; b > from; b--) {
          const v = order[b - 1];
          if (wStart[v] < wStart[w] || (wStart[v] === wStart[w] && wExposure[v] < wExposure[w]))
            break;
          order[b] = v;
        }
        order[b] = w;
      }
    }
    // One pair's windows as `scoreWindowColumns` reads them, reused from pair to pair.
    const pair = new PairColumns();
    const decisions: PairDecisions = {
      score: new Float64Array(presets.length),
      minutes: new Float64Array(presets.length),
      notified: new Uint8Array(presets.length),
    };
    let k = 0;
    let reported = 0;
    while (k < order.length) {
      if (onProgress && k - reported >= 65_536) {
        onProgress(k / order.length);
        reported = k;
      }
      const receiver = wReceiver[order[k]];
      const index = agentOf(order[k]);
      pair.clear();
      for (; k < order.length; k++) {
        const w = order[k];
        if (wReceiver[w] !== receiver || agentOf(w) !== index) break;
        // As `scorePair` computes them from a MatchedWindow (start and scan times in seconds).
        const start = wStart[w] / 1000;
        pair.beginWindow(wExposure[w], start * 1000);
        let lastT = start;
        for (let s = firstScan[w]; s < firstScan[w + 1]; s++) {
          const t = (store.scanAtMs[s] + startMs) / 1000;
          pair.addScan(Math.round(t * 1000), store.scanTypical[s], store.scanSeconds[s]);
          lastT = t;
        }
        pair.span(Math.round(start - startMs / 1000), Math.round(lastT - startMs / 1000 + 4));
      }
      for (let j = 0; j < presets.length; j++) {
        const d = scoreWindowColumns(presets[j], pair);
        decisions.score[j] = Math.round(d.score * 1000) / 1000;
        decisions.minutes[j] = Math.round(d.minutes * 1000) / 1000;
        decisions.notified[j] = d.notified ? 1 : 0;
      }
      sink.decisions(index, receiver, decisions);
      for (let w = 0; w < pair.count; w++)
        sink.window(index, receiver, pair.spanFrom[w], pair.spanTo[w]);
    }
  }
}

/**
 * One pair's windows in the columns `scoreWindowColumns` reads, plus their timeline spans: typed
 * arrays grown as needed and reused from pair to pair (a pair has a few windows, so they stay
 * small). Values are doubles, as the numbers they replace.
 */
class PairColumns implements WindowColumns {
  count = 0;
  scans = 0;
  exposure = new Float64Array(64);
  startMs = new Float64Array(64);
  firstScan = new Int32Array(65);
  spanFrom = new Float64Array(64);
  spanTo = new Float64Array(64);
  scanAtMs = new Float64Array(256);
  attenuationDb = new Float64Array(256);
  seconds = new Float64Array(256);

  clear(): void {
    this.count = 0;
    this.scans = 0;
  }

  beginWindow(exposure: number, startMs: number): void {
    const w = this.count;
    if (w + 1 >= this.exposure.length) {
      this.exposure = withCapacity(this.exposure, w + 1);
      this.startMs = withCapacity(this.startMs, w + 1);
      this.spanFrom = withCapacity(this.spanFrom, w + 1);
      this.spanTo = withCapacity(this.spanTo, w + 1);
      this.firstScan = withCapacity(this.firstScan, w + 2);
    }
    this.exposure[w] = exposure;
    this.startMs[w] = startMs;
    this.firstScan[w] = this.scans;
  }

  addScan(atMs: number, attenuationDb: number, seconds: number): void {
    const s = this.scans++;
    if (s >= this.scanAtMs.length) {
      this.scanAtMs = withCapacity(this.scanAtMs, s + 1);
      this.attenuationDb = withCapacity(this.attenuationDb, s + 1);
      this.seconds = withCapacity(this.seconds, s + 1);
    }
    this.scanAtMs[s] = atMs;
    this.attenuationDb[s] = attenuationDb;
    this.seconds[s] = seconds;
  }

  /** Ends the window begun last, with its timeline span. */
  span(from: number, to: number): void {
    this.spanFrom[this.count] = from;
    this.spanTo[this.count] = to;
    this.firstScan[++this.count] = this.scans;
  }
}

/**
 * How often idle handles are let go, ms of simulated time: every 10 minutes, so that a city
 * matched in one-minute chunks does not rebuild its table of millions of handles every minute.
 */
const HANDLE_SWEEP_MS = 10 * 60_000;

/** The handle table's least size. */
const MIN_SLOTS = 1 << 16;

/** Slot of (receiver, exposure) in a table of `mask + 1` slots. */
function slotOf(receiver: number, exposure: number, mask: number): number {
  return (Math.imul(receiver, 0x9e3779b1) ^ Math.imul(exposure, 0x85ebca6b)) & mask;
}

/** Largest bit set `HeardKeys` allocates (16 MB); beyond it, a table of the pairs. */
const MAX_HEARD_BITS = 1 << 27;

/**
 * A set of (receiver, exposure) pairs, exposures being index cases' day slots: a bit per
 * possible pair when that fits in `MAX_HEARD_BITS` (2 MB for 1,000 agents who are all index
 * cases), else a `PairTable` of the pairs.
 */
export class HeardKeys {
  private readonly ordinal: Int32Array;
  private readonly bits: Uint32Array | undefined;
  private readonly table: PairTable | undefined;
  private readonly perReceiver: number;

  constructor(agents: number, indexCases: readonly number[], maxBits = MAX_HEARD_BITS) {
    this.ordinal = new Int32Array(agents).fill(-1);
    indexCases.forEach((agent, k) => {
      this.ordinal[agent] = k;
    });
    this.perReceiver = indexCases.length * DAY_SLOTS;
    const bits = agents * this.perReceiver;
    if (bits <= maxBits) this.bits = new Uint32Array(Math.ceil(bits / 32));
    else this.table = new PairTable(2);
  }

  has(receiver: number, exposure: number): boolean {
    if (this.table) return this.table.find(receiver, exposure) >= 0;
    const bit = this.bitOf(receiver, exposure);
    return (this.bits![bit >>> 5] & (1 << (bit & 31))) !== 0;
  }

  add(receiver: number, exposure: number): void {
    if (this.table) {
      this.table.findOrAdd(receiver, exposure);
      return;
    }
    const bit = this.bitOf(receiver, exposure);
    this.bits![bit >>> 5] |= 1 << (bit & 31);
  }

  get bytes(): number {
    return this.table ? this.table.bytes : this.bits!.byteLength;
  }

  private bitOf(receiver: number, exposure: number): number {
    const agent = Math.floor(exposure / DAY_SLOTS);
    const k = this.ordinal[agent];
    if (k < 0) throw new RangeError(`agent ${agent} publishes no keys`);
    return receiver * this.perReceiver + k * DAY_SLOTS + (exposure % DAY_SLOTS);
  }
}

/** Most counting-sort buckets `stableOrder` allocates beyond 4 per key: 8 MB of counts. */
const MAX_EXTRA_BUCKETS = 1 << 21;

/**
 * Positions 0 .. n - 1 of `key` in order of key, then position (a stable sort). A chunk's matches
 * come in no useful order but at whole milliseconds spanning the chunk, so a counting sort over
 * the span (2.4 MB of counts for ten minutes) does it in two passes; other keys take a
 * comparator sort.
 */
function stableOrder(key: Float64Array): Int32Array {
  const n = key.length;
  const order = new Int32Array(n);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let whole = true;
  for (let i = 0; i < n; i++) {
    const k = key[i];
    if (!Number.isInteger(k)) whole = false;
    if (k < min) min = k;
    if (k > max) max = k;
  }
  for (let i = 0; i < n; i++) order[i] = i;
  if (n > 0 && whole && max - min < 4 * n + MAX_EXTRA_BUCKETS) {
    const bucket = new Int32Array(n);
    for (let i = 0; i < n; i++) bucket[i] = key[i] - min;
    return stableCountingSort(order, bucket, max - min + 1);
  }
  return order.sort((x, y) => key[x] - key[y] || x - y);
}

/**
 * Emitted windows in columns: receiver, exposure (agent * DAY_SLOTS + day slot), start (ms since
 * the epoch), and scan instances `firstScan[w] .. firstScan[w + 1] - 1` (ms since the run's start,
 * typical attenuation, seconds since the last scan).
 */
class WindowStore {
  windows = 0;
  scans = 0;
  receiver = new Int32Array(1024);
  exposure = new Int32Array(1024);
  startMs = new Float64Array(1024);
  firstScan = new Int32Array(1025);
  scanAtMs = new Uint32Array(4096);
  scanTypical = new Int16Array(4096);
  scanSeconds = new Uint16Array(4096);

  get bytes(): number {
    return (
      this.receiver.byteLength +
      this.exposure.byteLength +
      this.startMs.byteLength +
      this.firstScan.byteLength +
      this.scanAtMs.byteLength +
      this.scanTypical.byteLength +
      this.scanSeconds.byteLength
    );
  }

  /** Adds a window of `scans` scan instances; returns its first scan row (the caller fills the rows). */
  add(receiver: number, exposure: number, startMs: number, scans: number): number {
    const w = this.windows;
    this.receiver = withCapacity(this.receiver, w + 1);
    this.exposure = withCapacity(this.exposure, w + 1);
    this.startMs = withCapacity(this.startMs, w + 1);
    this.firstScan = withCapacity(this.firstScan, w + 2);
    this.scanAtMs = withCapacity(this.scanAtMs, this.scans + scans);
    this.scanTypical = withCapacity(this.scanTypical, this.scans + scans);
    this.scanSeconds = withCapacity(this.scanSeconds, this.scans + scans);
    this.receiver[w] = receiver;
    this.exposure[w] = exposure;
    this.startMs[w] = startMs;
    const first = this.scans;
    this.firstScan[w] = first;
    this.scans += scans;
    this.windows = w + 1;
    this.firstScan[w + 1] = this.scans;
    return first;
  }

  clear(): void {
    this.windows = 0;
    this.scans = 0;
  }
}

/** Bytes of one spilled window before its scans, and of each scan. */
const SPILL_WINDOW_BYTES = 4 + 4 + 8 + 4;
const SPILL_SCAN_BYTES = 4 + 2 + 2;
/** Partitions: ranges of receivers, read back (and held in memory) one at a time. */
const SPILL_PARTITIONS = 32;

/**
 * Windows on disk until scoring, in `SPILL_PARTITIONS` files by receiver range, so that scoring
 * partition by partition keeps the receivers' order and holds one partition in memory.
 */
class WindowSpill {
  readonly partitions = SPILL_PARTITIONS;
  windows = 0;
  private readonly dir: string;
  private readonly files: number[];
  private readonly perPartition: number;

  constructor(agents: number) {
    this.dir = mkdtempSync(join(tmpdir(), "proxkit-windows-"));
    this.perPartition = Math.max(1, Math.ceil(agents / SPILL_PARTITIONS));
    this.files = Array.from({ length: SPILL_PARTITIONS }, (_, p) =>
      openSync(join(this.dir, `${p}.bin`), "w+"),
    );
  }

  /** Appends every window of `store` to its receiver's partition. */
  write(store: WindowStore): void {
    // Bytes per partition first, then one buffer per partition.
    const size = new Float64Array(SPILL_PARTITIONS);
    for (let w = 0; w < store.windows; w++)
      size[this.partitionOf(store.receiver[w])] +=
        SPILL_WINDOW_BYTES + SPILL_SCAN_BYTES * (store.firstScan[w + 1] - store.firstScan[w]);
    const buffers = Array.from(size, (n) => Buffer.allocUnsafe(n));
    const at = new Float64Array(SPILL_PARTITIONS);
    for (let w = 0; w < store.windows; w++) {
      const p = this.partitionOf(store.receiver[w]);
      const b = buffers[p];
      let o = at[p];
      const from = store.firstScan[w];
      const to = store.firstScan[w + 1];
      b.writeInt32LE(store.receiver[w], o);
      b.writeInt32LE(store.exposure[w], o + 4);
      b.writeDoubleLE(store.startMs[w], o + 8);
      b.writeInt32LE(to - from, o + 16);
      o += SPILL_WINDOW_BYTES;
      for (let s = from; s < to; s++) {
        b.writeUInt32LE(store.scanAtMs[s], o);
        b.writeInt16LE(store.scanTypical[s], o + 4);
        b.writeUInt16LE(store.scanSeconds[s], o + 6);
        o += SPILL_SCAN_BYTES;
      }
      at[p] = o;
    }
    for (let p = 0; p < SPILL_PARTITIONS; p++)
      if (buffers[p].length > 0) writeSync(this.files[p], buffers[p]);
    this.windows += store.windows;
  }

  /** Partition `p`'s windows, read back. */
  read(p: number): WindowStore {
    const fd = this.files[p];
    const size = fstatSync(fd).size;
    const b = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) read += readSync(fd, b, read, size - read, read);
    const store = new WindowStore();
    let o = 0;
    while (o < size) {
      const scans = b.readInt32LE(o + 16);
      const base = o + SPILL_WINDOW_BYTES;
      const first = store.add(b.readInt32LE(o), b.readInt32LE(o + 4), b.readDoubleLE(o + 8), scans);
      for (let k = 0; k < scans; k++) {
        const at = base + SPILL_SCAN_BYTES * k;
        store.scanAtMs[first + k] = b.readUInt32LE(at);
        store.scanTypical[first + k] = b.readInt16LE(at + 4);
        store.scanSeconds[first + k] = b.readUInt16LE(at + 6);
      }
      o = base + SPILL_SCAN_BYTES * scans;
    }
    return store;
  }

  remove(): void {
    for (const fd of this.files) closeSync(fd);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private partitionOf(receiver: number): number {
    return Math.min(SPILL_PARTITIONS - 1, Math.floor(receiver / this.perPartition));
  }
}

/**
 * The checkpoint daemon: scans with an injected `Radio` (continuously or on a duty cycle),
 * optionally advertises a venue beacon, accumulates sightings into GAEN v2 exposure windows
 * (one per rolling ID; nothing is linked across IDs) with the exposure core, and writes to the
 * `CheckpointStore` once a second in one transaction: windows still open are rewritten (so a
 * crash loses at most the last second), closed ones are stored and queued in the outbox.
 *
 * Scan instances last at most `maxScanInstanceMs` (default one minute): a checkpoint that scans
 * continuously hears a phone every second, and the EN API's 25.5 s rule alone would make its
 * 30-minute windows one scan each (secondsSinceLastScan 120). With one-minute scans every scan
 * counts 60 s and the stored windows' durations add up to the stay. A duty cycle whose scans end
 * before a minute and pause more than 25.5 s keeps the EN API's scans exactly; one with shorter
 * pauses is a continuous scanner to the windows, and a minute suits it too (its own period
 * would, below a minute, give every scan 0 s).
 *
 * Time: a Raspberry Pi has no real-time clock. The wall clock is trusted only once it is past
 * `earliestTrustedMs` (the build date), the system does not say it is unsynchronised (systemd-
 * timesyncd), and it has not jumped for `settleMs`; a jump is a
 * difference between wall-clock and monotonic progress of more than `jumpThresholdMs`. On a
 * jump every open window is closed as it stood, and accumulation starts afresh (new handles),
 * so a jump of hours either way neither duplicates nor loses windows. While untrusted, the
 * beacon is off (its IDs depend on the date) and what is stored is marked `clock_trusted = 0`;
 * retention does not delete anything.
 */
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import type { Clock } from "../core/clock.js";
import { systemClock } from "../core/clock.js";
import { cryptoRandom, type Random } from "../core/random.js";
import {
  CONTINUOUS_SCAN_PERIOD_MS,
  type ExposureWindow,
} from "../exposure/exposure-window-builder.js";
import { SightingIngest } from "../exposure/sighting-ingest.js";
import { KeyStore } from "../protocols/key-store.js";
import { PROTOCOLS, type Protocol } from "../protocols/rolling-id-scheme.js";
import { RotatingAdvertiser } from "../protocols/rotating-advertiser.js";
import { schemeFor } from "../protocols/schemes.js";
import type { Radio, RadioSighting, RadioState } from "../radio/radio.js";
import {
  type CheckpointStore,
  type ClockEventRow,
  type OpenWindow,
  type RawSightingRow,
  type StoredWindow,
  windowId,
} from "./checkpoint-store.js";

/** Build date of this code: a clock reading earlier than this cannot be right. */
export const BUILD_DATE_MS = Date.UTC(2026, 10, 27);
export const DEFAULT_RETENTION_DAYS = 14;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** While the store cannot be written: closed windows kept in memory, at most (oldest dropped first). */
export const MAX_PENDING_WINDOWS = 20_000;
/** Research mode: raw sightings kept in memory while the store cannot be written, at most. */
export const MAX_PENDING_SIGHTINGS = 200_000;
const MAX_PENDING_CLOCK_EVENTS = 1_000;
/** Retries of a failing store start 1 s apart and double up to this. */
const MAX_STORE_RETRY_MS = 60_000;

export interface BeaconOptions {
  protocol: Protocol;
  /** Advertising interval, ms (default the radio's). */
  intervalMs?: number;
  txPowerDbm?: number;
}

export interface CheckpointDaemonOptions {
  radio: Radio;
  store: CheckpointStore;
  /** Wall clock (default the system clock). */
  clock?: Clock;
  /** A clock that never jumps, ms (default `performance.now`; pass the virtual clock in simulations). */
  monotonicMs?: () => number;
  /** Repeating timer: runs `task` every `everyMs` until the returned function is called. */
  every?: (everyMs: number, task: () => void) => () => void;
  protocols?: readonly Protocol[];
  /** Scan duty cycle: `windowMs` every `intervalMs` (default continuous). */
  scanWindowMs?: number;
  scanIntervalMs?: number;
  /**
   * Longest scan instance of the stored windows, ms (default `CONTINUOUS_SCAN_PERIOD_MS`, one
   * minute; `Infinity` for the EN API's own scan instances). See the module comment.
   */
  maxScanInstanceMs?: number;
  /** Default 1000: at most this much is lost on a crash. */
  flushIntervalMs?: number;
  retentionDays?: number;
  /** Keep raw sightings (without addresses unless `storeAddresses`). */
  research?: boolean;
  storeAddresses?: boolean;
  beacon?: BeaconOptions;
  random?: Random;
  earliestTrustedMs?: number;
  jumpThresholdMs?: number;
  /** How long the clock must run without jumping before it is trusted again. Default 60 s. */
  settleMs?: number;
  /** Receiver RSSI correction, dB (calibration table). */
  rxRssiCorrectionDb?: number;
  /**
   * Whether the system says its clock is synchronised (`undefined`: it cannot tell). On Linux
   * with systemd-timesyncd, `timesyncSynchronized`.
   */
  clockSynchronized?: () => boolean | undefined;
  /** Closed windows kept in memory while the store cannot be written. Default `MAX_PENDING_WINDOWS`. */
  maxPendingWindows?: number;
}

/**
 * systemd-timesyncd creates /run/systemd/timesync/synchronized once it has set the clock from
 * NTP (systemd 239+); where timesyncd is not in use this says nothing.
 */
export function timesyncSynchronized(): boolean | undefined {
  if (!existsSync("/run/systemd/timesync")) return undefined;
  return existsSync("/run/systemd/timesync/synchronized");
}

/**
 * The store could not be written (a full disk, a failing card) or can be again. While it fails
 * the daemon keeps scanning and keeps what it must store in memory, bounded
 * (`MAX_PENDING_WINDOWS`, `MAX_PENDING_SIGHTINGS`), and retries 1 s, 2 s, 4 s … up to a minute
 * apart; it reports the first failure and the recovery, not every attempt.
 */
export type StoreHealthEvent =
  | { readonly state: "failing"; readonly atMs: number; readonly reason: string }
  | {
      readonly state: "recovered";
      readonly atMs: number;
      readonly failedForMs: number;
      readonly attempts: number;
      /** Kept in memory meanwhile and now stored. */
      readonly windowsStored: number;
      /** Dropped because the memory bound was reached. */
      readonly windowsDropped: number;
      readonly sightingsDropped: number;
    }
  /** At stop, the store still fails: what is in memory is lost. */
  | {
      readonly state: "lost";
      readonly atMs: number;
      readonly reason: string;
      readonly windows: number;
      readonly sightings: number;
    };

export interface CheckpointDaemonEvents {
  /** After each flush: how many windows were closed and stored. */
  flushed: [{ atMs: number; closed: readonly StoredWindow[]; open: number }];
  clock: [{ atMs: number; kind: "jump" | "trusted" | "untrusted"; jumpMs: number }];
  store: [StoreHealthEvent];
  error: [Error];
}

/** A store that cannot be written: since when, why, when to try again. */
interface StoreFailure {
  readonly sinceMs: number;
  readonly reason: string;
  attempts: number;
  delayMs: number;
  retryAtMono: number;
  windowsDropped: number;
  sightingsDropped: number;
}

/** Counters exposed in the health table. */
export interface DaemonCounters {
  sightings: number;
  windowsStored: number;
  clockJumps: number;
  flushes: number;
  /** Times the store went from writable to failing. */
  storeFailures: number;
  /** Closed windows and raw sightings dropped while the store could not be written. */
  windowsDropped: number;
  sightingsDropped: number;
}

export class CheckpointDaemon extends EventEmitter<CheckpointDaemonEvents> {
  readonly counters: DaemonCounters = {
    sightings: 0,
    windowsStored: 0,
    clockJumps: 0,
    flushes: 0,
    storeFailures: 0,
    windowsDropped: 0,
    sightingsDropped: 0,
  };
  private readonly options: CheckpointDaemonOptions;
  private readonly store: CheckpointStore;
  private readonly radio: Radio;
  private readonly clock: Clock;
  private readonly monotonicMs: () => number;
  private readonly flushIntervalMs: number;
  private readonly retentionMs: number;
  private readonly jumpThresholdMs: number;
  private readonly settleMs: number;
  private readonly earliestTrustedMs: number;
  private readonly protocols: ReadonlySet<Protocol>;

  private ingest!: SightingIngest;
  /** Interned IDs of the current epoch: `<protocol char><hex>` -> handle. */
  private handles = new Map<string, number>();
  private freeHandles: number[] = [];
  private idOfHandle: (Uint8Array | undefined)[] = [];
  private protocolOfHandle: Protocol[] = [];
  private lastSeenMs = new Float64Array(1024);
  private windowOpen = new Uint8Array(1024);
  private untrusted = new Uint8Array(1024);
  private dirty = new Set<number>();
  private closedSinceFlush: (StoredWindow & { slot: number })[] = [];
  private toForget: number[] = [];
  private rawSightings: RawSightingRow[] = [];
  private minuteCounts = new Map<number, number>();
  private clockEvents: ClockEventRow[] = [];
  private storeFailure: StoreFailure | undefined;
  private lastStoreFailure: { atMs: number; reason: string } | undefined;

  private running = false;
  private cancelTimer: (() => void) | undefined;
  private startedMs = 0;
  private lastWallMs = 0;
  private lastMonoMs = 0;
  /** Time of the previous sighting: a step in it prompts a clock check. */
  private lastAtMs = 0;
  private lastJumpMono = Number.NEGATIVE_INFINITY;
  private trusted = false;
  private lastPruneMs = Number.NEGATIVE_INFINITY;
  private adapterState: RadioState = "idle";
  private beaconOn = false;
  private sinceCheck = 0;
  private readonly onSightingBound = (s: RadioSighting) => this.onSighting(s);
  private readonly onStateBound = (state: RadioState) => {
    this.adapterState = state;
  };
  private readonly onErrorBound = (error: Error) => this.emit("error", error);

  constructor(options: CheckpointDaemonOptions) {
    super();
    this.options = options;
    this.store = options.store;
    this.radio = options.radio;
    this.clock = options.clock ?? systemClock;
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.retentionMs = (options.retentionDays ?? DEFAULT_RETENTION_DAYS) * 86_400_000;
    this.jumpThresholdMs = options.jumpThresholdMs ?? 2000;
    this.settleMs = options.settleMs ?? 60_000;
    this.earliestTrustedMs = options.earliestTrustedMs ?? BUILD_DATE_MS;
    this.protocols = new Set(options.protocols ?? PROTOCOLS);
    this.newEpoch();
  }

  get isRunning(): boolean {
    return this.running;
  }

  get clockTrusted(): boolean {
    return this.trusted;
  }

  /** Recovers what a previous run left open, starts the scanner (and beacon), starts flushing. */
  async start(): Promise<void> {
    if (this.running) return;
    const nowMs = this.clock.nowMs();
    this.store.recoverOpenWindows(nowMs);
    this.startedMs = nowMs;
    this.lastWallMs = nowMs;
    this.lastMonoMs = this.monotonicMs();
    this.trusted = nowMs >= this.earliestTrustedMs && this.options.clockSynchronized?.() !== false;
    if (!this.trusted) {
      this.clockEvent(nowMs, "untrusted", 0);
      this.emit("clock", { atMs: nowMs, kind: "untrusted", jumpMs: 0 });
    }
    const scanner = this.radio.scanner;
    scanner.on("sighting", this.onSightingBound);
    scanner.on("state", this.onStateBound);
    scanner.on("error", this.onErrorBound);
    this.radio.advertiser.on("error", this.onErrorBound);
    this.running = true;
    await scanner.start({
      protocols: [...this.protocols],
      ...(this.options.scanIntervalMs
        ? { windowMs: this.options.scanWindowMs, intervalMs: this.options.scanIntervalMs }
        : {}),
    });
    this.adapterState = scanner.state;
    await this.updateBeacon();
    const every =
      this.options.every ??
      ((everyMs: number, task: () => void) => {
        const timer = setInterval(task, everyMs);
        return () => clearInterval(timer);
      });
    this.cancelTimer = every(this.flushIntervalMs, () => this.tick());
    this.flush();
  }

  /** Stops the radio, closes every open window, stores everything; the store stays open. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const scanner = this.radio.scanner;
    scanner.off("sighting", this.onSightingBound);
    try {
      await this.radio.stop();
    } finally {
      scanner.off("state", this.onStateBound);
      scanner.off("error", this.onErrorBound);
      this.radio.advertiser.off("error", this.onErrorBound);
      this.adapterState = "stopped";
      this.ingest.flush();
      this.flush(true);
      const failure = this.storeFailure;
      if (failure)
        this.emit("store", {
          state: "lost",
          atMs: this.clock.nowMs(),
          reason: failure.reason,
          windows: this.closedSinceFlush.length,
          sightings: this.rawSightings.length,
        });
    }
  }

  /** True while the store cannot be written (see `StoreHealthEvent`). */
  get storeFailing(): boolean {
    return this.storeFailure !== undefined;
  }

  /** Clock events go to the store with the next flush (one transaction, retried with it). */
  private clockEvent(atMs: number, kind: string, jumpMs: number): void {
    if (this.clockEvents.length >= MAX_PENDING_CLOCK_EVENTS) this.clockEvents.shift();
    this.clockEvents.push({ atMs: Math.round(atMs), kind, jumpMs: Math.round(jumpMs) });
  }

  /** One timer tick: checks the clock, closes what is over, writes to the store. */
  tick(): void {
    if (!this.running) return;
    try {
      this.checkClock();
      this.ingest.advanceTo(this.clock.nowMs() - this.jumpThresholdMs);
      this.flush();
      void this.updateBeacon().catch((error: Error) => this.emit("error", error));
    } catch (error) {
      this.emit("error", error as Error);
    }
  }

  private onSighting(s: RadioSighting): void {
    if (!this.running || !this.protocols.has(s.protocol)) return;
    // A clock step shows first as sightings stamped out of order; check it at once then.
    if (++this.sinceCheck >= 256 || Math.abs(s.atMs - this.lastAtMs) > this.jumpThresholdMs) {
      this.sinceCheck = 0;
      this.checkClock();
    }
    this.lastAtMs = s.atMs;
    const key = idKey(s.protocol, s.id);
    let handle = this.handles.get(key);
    if (handle === undefined) {
      handle = this.freeHandles.pop() ?? this.idOfHandle.length;
      if (handle >= this.lastSeenMs.length) this.grow(handle + 1);
      this.handles.set(key, handle);
      this.idOfHandle[handle] = s.id.slice();
      this.protocolOfHandle[handle] = s.protocol;
      this.untrusted[handle] = 0;
    }
    this.ingest.push(handle, s.atMs, s.rssiDbm, s.txPowerDbm ?? Number.NaN);
    // Set after push: a push that rolls a 30-minute window over closes one and opens the next.
    this.windowOpen[handle] = 1;
    this.lastSeenMs[handle] = s.atMs;
    if (!this.trusted) this.untrusted[handle] = 1;
    this.dirty.add(handle);
    this.counters.sightings++;
    const minuteMs = Math.floor(s.atMs / MINUTE_MS) * MINUTE_MS;
    this.minuteCounts.set(minuteMs, (this.minuteCounts.get(minuteMs) ?? 0) + 1);
    if (this.options.research) {
      if (this.rawSightings.length >= MAX_PENDING_SIGHTINGS) {
        // Only while the store fails: a flush a second empties this list otherwise.
        this.counters.sightingsDropped++;
        if (this.storeFailure) this.storeFailure.sightingsDropped++;
        return;
      }
      this.rawSightings.push({
        atMs: s.atMs,
        protocol: s.protocol,
        rollingId: s.id.slice(),
        rssiDbm: s.rssiDbm,
        txPowerDbm: s.txPowerDbm,
        channel: s.channel,
        address: this.options.storeAddresses ? s.address.slice() : undefined,
        clockTrusted: this.trusted,
      });
    }
  }

  private onWindow(window: ExposureWindow): void {
    const handle = window.handle;
    this.closedSinceFlush.push({ ...this.toStored(window, this.lastSeenMs[handle]), slot: handle });
    this.windowOpen[handle] = 0;
    this.toForget.push(handle);
  }

  private toStored(window: ExposureWindow, lastSeenMs: number): StoredWindow {
    const handle = window.handle;
    const id = this.idOfHandle[handle]!;
    let sightings = 0;
    let minAttenuationDb = Number.POSITIVE_INFINITY;
    for (const scan of window.scanInstances) {
      sightings += scan.sightings;
      if (scan.minAttenuationDb < minAttenuationDb) minAttenuationDb = scan.minAttenuationDb;
    }
    return {
      id: windowId(this.store.checkpoint, id, window.startMs),
      protocol: this.protocolOfHandle[handle],
      rollingId: id,
      startMs: Math.round(window.startMs),
      endMs: Math.round(Math.max(window.startMs, lastSeenMs)),
      sightings,
      minAttenuationDb,
      scanInstances: window.scanInstances.map((scan) => ({
        ...scan,
        atMs: Math.round(scan.atMs),
        minAttenuationDb: Math.round(scan.minAttenuationDb * 10) / 10,
      })),
      clockTrusted: this.untrusted[handle] === 0,
    };
  }

  /**
   * Writes the open windows touched since the last flush and every closed one, in one
   * transaction. While the store fails it only retries when the backoff allows (`force` at
   * stop), and keeps what it must write, bounded.
   */
  private flush(force = false): void {
    const nowMs = this.clock.nowMs();
    const failure = this.storeFailure;
    if (failure && !force && this.monotonicMs() < failure.retryAtMono) {
      this.forgetClosedHandles();
      this.boundPending(failure);
      return;
    }
    const open: OpenWindow[] = [];
    for (const handle of this.dirty) {
      if (!this.windowOpen[handle]) continue;
      const snapshot = this.ingest.snapshot(handle);
      if (snapshot)
        open.push({ ...this.toStored(snapshot, this.lastSeenMs[handle]), slot: handle });
    }
    const closed = this.closedSinceFlush;
    const last = this.lastStoreFailure;
    try {
      // A failing store is first probed with one small write, not the whole backlog.
      if (failure) this.store.setHealth("heartbeat_ms", nowMs, nowMs);
      this.store.commit({
        nowMs,
        open,
        closed,
        sightings: this.rawSightings,
        minuteCounts: this.minuteCounts,
        clockEvents: this.clockEvents,
        health: {
          started_ms: this.startedMs,
          heartbeat_ms: nowMs,
          adapter_state: this.adapterState,
          clock_trusted: this.trusted ? 1 : 0,
          beacon: this.beaconOn ? (this.options.beacon?.protocol ?? "off") : "off",
          sightings_total: this.counters.sightings,
          windows_stored_total: this.counters.windowsStored + closed.length,
          open_windows: open.length,
          clock_jumps: this.counters.clockJumps,
          running: this.running ? 1 : 0,
          site: this.store.site,
          checkpoint: this.store.checkpoint,
          store_failures_total: this.counters.storeFailures,
          windows_dropped_total: this.counters.windowsDropped,
          sightings_dropped_total: this.counters.sightingsDropped,
          ...(last ? { store_last_failure_ms: last.atMs, store_last_failure: last.reason } : {}),
        },
      });
    } catch (error) {
      this.storeFailed(error as Error);
      this.forgetClosedHandles();
      return;
    }
    if (failure) {
      this.storeFailure = undefined;
      this.emit("store", {
        state: "recovered",
        atMs: nowMs,
        failedForMs: nowMs - failure.sinceMs,
        attempts: failure.attempts,
        windowsStored: closed.length,
        windowsDropped: failure.windowsDropped,
        sightingsDropped: failure.sightingsDropped,
      });
    }
    this.counters.windowsStored += closed.length;
    this.counters.flushes++;
    this.dirty.clear();
    this.closedSinceFlush = [];
    this.rawSightings = [];
    this.minuteCounts = new Map();
    this.clockEvents = [];
    this.forgetClosedHandles();
    if (this.trusted && nowMs - this.lastPruneMs >= HOUR_MS) {
      this.lastPruneMs = nowMs;
      try {
        this.store.prune(nowMs - this.retentionMs);
      } catch (error) {
        this.storeFailed(error as Error);
      }
    }
    this.emit("flushed", { atMs: nowMs, closed, open: open.length });
  }

  /** A write failed: back off, report the first failure of a run of them. */
  private storeFailed(error: Error): void {
    const failure = this.storeFailure;
    const mono = this.monotonicMs();
    if (failure) {
      failure.attempts++;
      failure.delayMs = Math.min(failure.delayMs * 2, MAX_STORE_RETRY_MS);
      failure.retryAtMono = mono + failure.delayMs;
      this.boundPending(failure);
      return;
    }
    const atMs = this.clock.nowMs();
    const cause = (error as { cause?: unknown }).cause;
    const reason = cause instanceof Error ? cause.message : error.message;
    this.counters.storeFailures++;
    this.lastStoreFailure = { atMs, reason };
    this.storeFailure = {
      sinceMs: atMs,
      reason,
      attempts: 1,
      delayMs: 1000,
      retryAtMono: mono + 1000,
      windowsDropped: 0,
      sightingsDropped: 0,
    };
    this.emit("store", { state: "failing", atMs, reason });
  }

  /** Keeps at most `MAX_PENDING_WINDOWS` closed windows in memory, dropping the oldest. */
  private boundPending(failure: StoreFailure): void {
    const excess =
      this.closedSinceFlush.length - (this.options.maxPendingWindows ?? MAX_PENDING_WINDOWS);
    if (excess > 0) {
      this.closedSinceFlush.splice(0, excess);
      failure.windowsDropped += excess;
      this.counters.windowsDropped += excess;
    }
  }

  /** Handles whose window closed and did not reopen are free for other IDs. */
  private forgetClosedHandles(): void {
    for (const handle of this.toForget) {
      if (this.windowOpen[handle]) continue;
      const id = this.idOfHandle[handle];
      if (id === undefined) continue;
      this.handles.delete(idKey(this.protocolOfHandle[handle], id));
      this.idOfHandle[handle] = undefined;
      this.ingest.forget(handle);
      this.freeHandles.push(handle);
      this.dirty.delete(handle);
    }
    this.toForget = [];
  }

  /** Detects clock jumps (wall vs monotonic) and trust changes. */
  private checkClock(): void {
    const wall = this.clock.nowMs();
    const mono = this.monotonicMs();
    const jumpMs = wall - this.lastWallMs - (mono - this.lastMonoMs);
    this.lastWallMs = wall;
    this.lastMonoMs = mono;
    if (Math.abs(jumpMs) > this.jumpThresholdMs) {
      this.counters.clockJumps++;
      this.lastJumpMono = mono;
      this.clockEvent(wall, "jump", jumpMs);
      this.emit("clock", { atMs: wall, kind: "jump", jumpMs });
      // Close every window as it stood before the jump; start accumulating afresh.
      this.ingest.flush();
      this.flush();
      this.newEpoch();
    }
    const trusted =
      wall >= this.earliestTrustedMs &&
      mono - this.lastJumpMono >= this.settleMs &&
      this.options.clockSynchronized?.() !== false;
    if (trusted !== this.trusted) {
      this.trusted = trusted;
      const kind = trusted ? "trusted" : "untrusted";
      this.clockEvent(wall, kind, 0);
      this.emit("clock", { atMs: wall, kind, jumpMs: 0 });
    }
  }

  private newEpoch(): void {
    this.ingest = new SightingIngest({
      rxRssiCorrectionDb: this.options.rxRssiCorrectionDb,
      maxScanInstanceMs: this.options.maxScanInstanceMs ?? CONTINUOUS_SCAN_PERIOD_MS,
      onWindow: (w) => this.onWindow(w),
    });
    this.handles = new Map();
    this.freeHandles = [];
    this.idOfHandle = [];
    this.protocolOfHandle = [];
    this.lastSeenMs.fill(0);
    this.windowOpen.fill(0);
    this.untrusted.fill(0);
    this.dirty.clear();
    this.toForget = [];
  }

  /** The beacon advertises rotating IDs only while the clock is trusted. */
  private async updateBeacon(): Promise<void> {
    const beacon = this.options.beacon;
    if (!beacon) return;
    const want = this.running && this.trusted;
    if (want === this.beaconOn) return;
    this.beaconOn = want;
    const advertiser = this.radio.advertiser;
    if (!want) {
      await advertiser.stop();
      return;
    }
    const random = this.options.random ?? cryptoRandom;
    const stored = this.store.ownKeys(beacon.protocol);
    const keys = new KeyStore(beacon.protocol, {
      retentionDays: Math.ceil(this.retentionMs / 86_400_000),
      keys: stored.map((k) => ({ day: k.day, key: k.key })),
    });
    const source = new RotatingAdvertiser({
      scheme: schemeFor(beacon.protocol),
      keyForDay: (_day, atMs) => {
        const key = keys.ensureCurrent(atMs, random);
        for (const k of keys.all()) this.store.saveOwnKey(beacon.protocol, k.day, k.key, atMs);
        return key;
      },
      random,
      txPowerDbm: beacon.txPowerDbm ?? -8,
    });
    // Make today's key now, so it is stored before anything goes on the air.
    source.at(this.clock.nowMs());
    await advertiser.start({
      source,
      ...(beacon.intervalMs ? { intervalMs: beacon.intervalMs } : {}),
    });
  }

  private grow(minLength: number): void {
    let n = this.lastSeenMs.length;
    while (n < minLength) n *= 2;
    const seen = new Float64Array(n);
    seen.set(this.lastSeenMs);
    this.lastSeenMs = seen;
    const open = new Uint8Array(n);
    open.set(this.windowOpen);
    this.windowOpen = open;
    const untrusted = new Uint8Array(n);
    untrusted.set(this.untrusted);
    this.untrusted = untrusted;
  }
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function idKey(protocol: Protocol, id: Uint8Array): string {
  let key = protocol[0];
  for (let i = 0; i < id.length; i++) key += HEX[id[i]];
  return key;
}

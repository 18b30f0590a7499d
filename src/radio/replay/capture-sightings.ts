/**
 * From capture records to sightings: the LE advertising reports of HCI events, decoded with
 * the advertising codecs, filtered by protocol. Shared by the replay radio and by tools that
 * read a whole capture at once.
 */
import { classifyAdvertisement, rollingIdOf } from "../../ble/classify-advertisement.js";
import { CodecError } from "../../core/errors.js";
import { PROTOCOLS, type Protocol } from "../../protocols/rolling-id-scheme.js";
import type { RadioSighting } from "../radio.js";
import { type BtsnoopRecord, hciPacketOf, readBtsnoopFileSync } from "./btsnoop.js";
import {
  type AdvertisingReport,
  forEachAdvertisingReport,
  RSSI_NOT_AVAILABLE,
} from "./hci-events.js";

/** A sighting out of a capture, with the link-layer details the report gave. */
export interface CaptureSighting extends RadioSighting {
  /** 0 public, 1 random, 2/3 identity addresses (resolved by the controller). */
  readonly addressType: number;
  /** Controller index (monitor captures; 0 otherwise). */
  readonly controller: number;
}

export interface CaptureCounts {
  records: number;
  reports: number;
  sightings: number;
  /** Reports without RSSI, incomplete extended data, or malformed advertising data. */
  skipped: number;
  /** Records skipped for an implausible time (before 2010, or over a day past the wall clock). */
  badTime: number;
  /** Forward steps of over a day between consecutive records (a clock set late, e.g. by NTP). */
  timeJumps: number;
}

/**
 * Earliest plausible record time, 2010-01-01: the contact-tracing protocols date from 2020, and
 * a Pi without a real-time clock stamps 1970 (or an old saved time) until NTP sets its clock.
 */
export const EARLIEST_CAPTURE_MS = Date.UTC(2010, 0, 1);
/** How far past the wall clock a record may be (clock skew between machines); more is corrupt. */
export const MAX_CAPTURE_AHEAD_MS = 86_400_000;
/** A forward step between records longer than this is a clock jump: counted, not waited for. */
export const MAX_CAPTURE_STEP_MS = 86_400_000;

/** What a reader should be told about `counts.badTime` and `counts.timeJumps` (empty if none). */
export function captureTimeWarning(counts: CaptureCounts): string {
  const parts: string[] = [];
  if (counts.badTime > 0)
    parts.push(
      `skipped ${counts.badTime} record${counts.badTime === 1 ? "" : "s"} with an implausible time (before 2010 or over a day past this machine's clock)`,
    );
  if (counts.timeJumps > 0)
    parts.push(
      `its clock jumped forward by over a day ${counts.timeJumps} time${counts.timeJumps === 1 ? "" : "s"} (not waited for)`,
    );
  return parts.join("; ");
}

/** Zeroed counts. */
export function emptyCaptureCounts(): CaptureCounts {
  return { records: 0, reports: 0, sightings: 0, skipped: 0, badTime: 0, timeJumps: 0 };
}

/**
 * Records with an implausible time are skipped and counted rather than failing the capture: a
 * checkpoint's capture of a day is worth keeping when a few records were stamped before its
 * clock was set. A forward jump of over a day is kept (after the jump the clock is right) and
 * counted; pacing does not wait for it.
 */
export class CaptureSightingDecoder {
  readonly counts: CaptureCounts = emptyCaptureCounts();
  /** Time of the first record of the capture with a plausible time, ms since the Unix epoch. */
  firstMs: number | undefined;
  /** Time of the latest record with a plausible time. */
  lastMs: number | undefined;
  private readonly protocols: ReadonlySet<Protocol>;
  private readonly wallClockMs: () => number;
  /** Latest time accepted without looking at the wall clock again. */
  private latestOkMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly onSighting: (sighting: CaptureSighting) => void,
    protocols: readonly Protocol[] = PROTOCOLS,
    options: { wallClockMs?: () => number } = {},
  ) {
    this.protocols = new Set(protocols);
    this.wallClockMs = options.wallClockMs ?? Date.now;
  }

  /** Feeds one record of a capture of `datalink`. */
  record(record: BtsnoopRecord, datalink: number): void {
    this.counts.records++;
    const atMs = record.unixUs / 1000;
    if (!this.plausible(atMs)) {
      this.counts.badTime++;
      return;
    }
    if (this.lastMs !== undefined && atMs - this.lastMs > MAX_CAPTURE_STEP_MS)
      this.counts.timeJumps++;
    this.lastMs = atMs;
    this.firstMs ??= atMs;
    const packet = hciPacketOf(datalink, record);
    // A record cut by the snapshot length cannot be decoded reliably.
    if (packet.kind !== "event" || record.originalLength !== record.data.length) return;
    forEachAdvertisingReport(packet.packet, packet.offset, (report) =>
      this.report(report, atMs, packet.index),
    );
  }

  private plausible(atMs: number): boolean {
    if (!(atMs >= EARLIEST_CAPTURE_MS)) return false;
    // The wall clock is read only when a record passes the last limit (follow mode runs for days).
    if (atMs > this.latestOkMs) this.latestOkMs = this.wallClockMs() + MAX_CAPTURE_AHEAD_MS;
    return atMs <= this.latestOkMs;
  }

  private report(report: AdvertisingReport, atMs: number, controller: number): void {
    this.counts.reports++;
    if (report.rssiDbm === RSSI_NOT_AVAILABLE || !report.complete) {
      this.counts.skipped++;
      return;
    }
    let classified: ReturnType<typeof classifyAdvertisement>;
    try {
      classified = classifyAdvertisement(report.data);
    } catch (error) {
      if (error instanceof CodecError) {
        this.counts.skipped++;
        return;
      }
      throw error;
    }
    if (classified.protocol === "unknown" || !this.protocols.has(classified.protocol)) return;
    const id = rollingIdOf(classified)!;
    this.counts.sightings++;
    this.onSighting({
      atMs,
      protocol: classified.protocol,
      id: id.slice(),
      ...(classified.protocol === "gaen" ? { aem: classified.aem.slice() } : {}),
      rssiDbm: report.rssiDbm,
      ...(report.txPowerDbm !== undefined && report.txPowerDbm !== RSSI_NOT_AVAILABLE
        ? { txPowerDbm: report.txPowerDbm }
        : {}),
      address: report.address,
      addressType: report.addressType,
      controller,
      payload: report.data.slice(),
    });
  }
}

/** Every sighting in the capture at `path`, read synchronously in bounded memory. */
export function readCaptureSightingsSync(
  path: string,
  onSighting: (sighting: CaptureSighting) => void,
  protocols?: readonly Protocol[],
): CaptureCounts & { bytes: number } {
  const decoder = new CaptureSightingDecoder(onSighting, protocols);
  const { bytes } = readBtsnoopFileSync(path, (record, datalink) =>
    decoder.record(record, datalink),
  );
  return { ...decoder.counts, bytes };
}

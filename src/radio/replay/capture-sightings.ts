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
}

export class CaptureSightingDecoder {
  readonly counts: CaptureCounts = { records: 0, reports: 0, sightings: 0, skipped: 0 };
  /** Time of the first record of the capture, ms since the Unix epoch. */
  firstMs: number | undefined;
  private readonly protocols: ReadonlySet<Protocol>;

  constructor(
    private readonly onSighting: (sighting: CaptureSighting) => void,
    protocols: readonly Protocol[] = PROTOCOLS,
  ) {
    this.protocols = new Set(protocols);
  }

  /** Feeds one record of a capture of `datalink`. */
  record(record: BtsnoopRecord, datalink: number): void {
    this.counts.records++;
    const atMs = record.unixUs / 1000;
    this.firstMs ??= atMs;
    const packet = hciPacketOf(datalink, record);
    // A record cut by the snapshot length cannot be decoded reliably.
    if (packet.kind !== "event" || record.originalLength !== record.data.length) return;
    forEachAdvertisingReport(packet.packet, packet.offset, (report) =>
      this.report(report, atMs, packet.index),
    );
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

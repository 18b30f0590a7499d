/**
 * The DP-3T anechoic folders' raw Android HCI captures (`NN.btsnoop`, phone NN receiving),
 * read with the replay radio's capture decoder, their sightings attributed to the phone that
 * sent them through the other phones' `.ephids` files (each lists the 20-byte GAEN payloads,
 * RPI + AEM, its phone advertised). A check that the replay code reads real captures, and the
 * source of the sqlite files: each of their 2,326 rows with an Android receiver is one of its
 * capture's sightings (same instant, RSSI and sender); the captures also hold the sightings
 * outside each placement's window. The Pixel 4 captures' clock (exp28/exp29, phones 23 and 24)
 * runs exactly 2 h behind the sqlite files and the Wireshark exports; the Samsungs' agrees.
 *
 * Source: DP-3T/bt-measurements, experiments 25, 28 and 29 (`dp3t-epfl/exp2x-*`; exp27 has
 * iPhones only, whose PacketLogger captures were not copied), CC BY-ND 4.0, EPFL and ETH Zurich.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../core/errors.js";
import { toHex } from "../core/hex.js";
import { PROTOCOLS, type Protocol } from "../protocols/rolling-id-scheme.js";
import { readBtsnoopFileSync } from "../radio/replay/btsnoop.js";
import { type CaptureSighting, CaptureSightingDecoder } from "../radio/replay/capture-sightings.js";
import { median } from "../signal/distance/fit-points.js";

/** Sightings of one sender. */
export interface SenderSightings {
  readonly count: number;
  readonly medianRssiDbm: number;
}

export interface CaptureAttribution {
  /** The btsnoop datalink (1002: Android's H4 snoop log). */
  readonly datalink: number;
  readonly records: number;
  /** LE advertising reports, of any protocol. */
  readonly reports: number;
  /** Reports without RSSI, with incomplete data, or undecodable. */
  readonly skipped: number;
  /** Decoded sightings per protocol. */
  readonly sightings: Readonly<Record<Protocol, number>>;
  /**
   * First and last sighting, ms since the Unix epoch, by the capture's clock (the Pixel 4
   * captures of exp28/exp29 run exactly 2 h behind the sqlite files and Wireshark exports).
   */
  readonly firstSightingMs?: number;
  readonly lastSightingMs?: number;
  /** Sightings whose payload one of `ephidsByDevice` lists, by device. */
  readonly senders: Readonly<Record<string, SenderSightings>>;
  /** Sightings no device's payload list holds. */
  readonly unattributed: SenderSightings;
}

/** Payloads in `.ephids` form: colon-separated hex, one per line. */
export function parseEphids(text: string, where: string): Uint8Array[] {
  const payloads: Uint8Array[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const hex = line.trim().replace(/:/g, "");
    if (hex === "") return;
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex))
      throw new ConfigError(`${where} line ${i + 1}: not colon-separated hex`, "E_INPUT");
    payloads.push(Uint8Array.from(hex.match(/../g)!.map((h) => Number.parseInt(h, 16))));
  });
  return payloads;
}

/** The payloads of every `NN.ephids` in `folder`, by device ("02", "110"). */
export function readEphidsFolder(folder: string): Map<string, Uint8Array[]> {
  let names: string[];
  try {
    names = readdirSync(folder).filter((f) => f.endsWith(".ephids"));
  } catch {
    throw new ConfigError(`the capture folder ${folder} does not exist`, "E_INPUT");
  }
  const byDevice = new Map<string, Uint8Array[]>();
  for (const name of names.sort()) {
    const path = join(folder, name);
    byDevice.set(name.slice(0, -".ephids".length), parseEphids(readFileSync(path, "utf8"), path));
  }
  return byDevice;
}

/** The payload key of a sighting: GAEN RPI + AEM (20 bytes) or a DP-3T EphID (16 bytes). */
function payloadKey(sighting: CaptureSighting): string {
  return sighting.aem ? toHex(sighting.id) + toHex(sighting.aem) : toHex(sighting.id);
}

function summary(rssis: readonly number[]): SenderSightings {
  return { count: rssis.length, medianRssiDbm: median(rssis) };
}

/**
 * Reads the capture at `capturePath` and attributes its sightings to the devices whose
 * payloads (`ephidsByDevice`, as `readEphidsFolder` returns them) they carry. A payload of
 * 20 bytes matches a GAEN sighting's RPI + AEM, and its first 16 bytes a DP-3T EphID.
 */
export function attributeCaptureSightings(
  capturePath: string,
  ephidsByDevice: ReadonlyMap<string, readonly Uint8Array[]>,
): CaptureAttribution {
  const owner = new Map<string, string>();
  for (const [device, payloads] of ephidsByDevice) {
    for (const payload of payloads) {
      owner.set(toHex(payload), device);
      if (payload.length > 16) owner.set(toHex(payload.subarray(0, 16)), device);
    }
  }
  const sightings = Object.fromEntries(PROTOCOLS.map((p) => [p, 0])) as Record<Protocol, number>;
  const bySender = new Map<string, number[]>();
  const unattributed: number[] = [];
  let firstSightingMs: number | undefined;
  let lastSightingMs: number | undefined;
  const decoder = new CaptureSightingDecoder((sighting) => {
    sightings[sighting.protocol]++;
    firstSightingMs ??= sighting.atMs;
    lastSightingMs = sighting.atMs;
    const device = owner.get(payloadKey(sighting));
    if (device === undefined) {
      unattributed.push(sighting.rssiDbm);
      return;
    }
    let list = bySender.get(device);
    if (!list) {
      list = [];
      bySender.set(device, list);
    }
    list.push(sighting.rssiDbm);
  });
  let datalink = 0;
  readBtsnoopFileSync(capturePath, (record, link) => {
    datalink = link;
    decoder.record(record, link);
  });
  const senders: Record<string, SenderSightings> = {};
  for (const device of [...bySender.keys()].sort())
    senders[device] = summary(bySender.get(device)!);
  return {
    datalink,
    records: decoder.counts.records,
    reports: decoder.counts.reports,
    skipped: decoder.counts.skipped,
    sightings,
    ...(firstSightingMs === undefined ? {} : { firstSightingMs, lastSightingMs }),
    senders,
    unattributed: summary(unattributed),
  };
}

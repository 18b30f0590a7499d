/**
 * The `Radio` contract: one interface for every back-end (simulated, Linux HCI, replay of
 * captures). A radio gives an `Advertiser` (puts a rotating ID on the air) and a `Scanner`
 * (reports what it hears as sightings). Both have typed events and an explicit `stop()`.
 */
import type { EventEmitter } from "node:events";
import type { Protocol } from "../protocols/rolling-id-scheme.js";
import type { RotatingAdvertiser } from "../protocols/rotating-advertiser.js";
import type { Sighting } from "../signal/sighting.js";

/** Life cycle of a radio part. */
export type RadioState = "idle" | "starting" | "running" | "stopping" | "stopped" | "unavailable";

/** A sighting as a radio reports it: the decoded advertisement plus link-layer details. */
export interface RadioSighting extends Sighting {
  /** The advertiser's address, most significant byte first (kept only if the caller wants it). */
  readonly address: Uint8Array;
  /** The raw advertising data. */
  readonly payload: Uint8Array;
}

export interface AdvertiserOptions {
  /** What to put on the air: the rotating ID, payload and address for any time. */
  readonly source: RotatingAdvertiser;
  /** Advertising interval, ms (GAEN recommends 200-270 ms); the link layer adds its 0-10 ms delay. */
  readonly intervalMs?: number;
}

export interface ScannerOptions {
  /** Protocols to report (default: all three); other advertisements are ignored. */
  readonly protocols?: readonly Protocol[];
  /** Duty cycle: scan `windowMs` every `intervalMs` (default: continuous). */
  readonly windowMs?: number;
  readonly intervalMs?: number;
}

export interface AdvertiserEvents {
  state: [RadioState];
  /** A rotation put a new ID and address on the air. */
  rotated: [{ atMs: number; rotation: number }];
  error: [Error];
}

export interface ScannerEvents {
  state: [RadioState];
  sighting: [RadioSighting];
  error: [Error];
}

export interface Advertiser extends EventEmitter<AdvertiserEvents> {
  readonly state: RadioState;
  start(options: AdvertiserOptions): Promise<void>;
  stop(): Promise<void>;
}

export interface Scanner extends EventEmitter<ScannerEvents> {
  readonly state: RadioState;
  start(options?: ScannerOptions): Promise<void>;
  stop(): Promise<void>;
}

export interface Radio {
  /** Back-end name: "sim", "hci", "replay". */
  readonly backend: string;
  readonly advertiser: Advertiser;
  readonly scanner: Scanner;
  /** Stops both parts and releases the back-end (sockets, timers); idempotent. */
  stop(): Promise<void>;
}

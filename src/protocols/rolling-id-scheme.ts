import type { Random } from "../core/random.js";

/** The rolling-ID protocols proxkit speaks. */
export type Protocol = "gaen" | "dp3t" | "bluezone";

export const PROTOCOLS: readonly Protocol[] = ["gaen", "dp3t", "bluezone"];

export const MS_PER_DAY = 86_400_000;

/** A key that covers one UTC day (`day` = whole days since 1970-01-01). */
export interface DayKey {
  readonly day: number;
  readonly key: Uint8Array;
}

/** One rolling ID and the time slot it belongs to. */
export interface RollingId {
  /** Slot number within the day (GAEN: interval 0..143 of the key; DP-3T epoch, Bluezone slot: 0..95). */
  readonly slot: number;
  /** Start of the slot, ms since the Unix epoch. */
  readonly startMs: number;
  /** The ID bytes (GAEN RPI 16, DP-3T EphID 16, Bluezone 12). */
  readonly id: Uint8Array;
}

/** Per-advertisement metadata a scheme may carry (GAEN encrypts it into the AEM). */
export interface AdvertisementMeta {
  readonly txPowerDbm: number;
}

/**
 * A rolling-ID protocol as pure functions of (key, time). Keys are day keys: GAEN TEKs are
 * random per day, DP-3T and Bluezone keys are chained by SHA-256 from day to day.
 */
export interface RollingIdScheme {
  readonly protocol: Protocol;
  /** Length of one ID slot. */
  readonly slotMs: number;
  /** Slots per day key. */
  readonly slotsPerDay: number;
  /** ID length in bytes. */
  readonly idBytes: number;
  /** Day-key length in bytes. */
  readonly keyBytes: number;
  /** True when each day's key is derived from the previous one (DP-3T, Bluezone), false for fresh keys (GAEN). */
  readonly chainedKeys: boolean;
  /** True when the protocol broadcasts a day's IDs in a shuffled order (DP-3T). */
  readonly shuffledBroadcast: boolean;
  /** The next day's key: fresh randomness (GAEN) or the chain step (DP-3T, Bluezone). */
  nextDayKey(previous: DayKey, random: Random): DayKey;
  /** A new first key for `day`. */
  newDayKey(day: number, random: Random): DayKey;
  /** The ID broadcast in counter order at `atMs`, or `undefined` when `atMs` is outside the key's day. */
  idAt(key: DayKey, atMs: number): RollingId | undefined;
  /** All the IDs of the key's day, in counter (matching) order. */
  idsForDay(key: DayKey): RollingId[];
  /** The 31-byte legacy advertising data that carries `id` (and, for GAEN, its encrypted metadata). */
  payload(key: DayKey, id: RollingId, meta: AdvertisementMeta): Uint8Array;
}

/** UTC day number of `atMs`. */
export function dayOf(atMs: number): number {
  return Math.floor(atMs / MS_PER_DAY);
}

/** The UTC date of day number `day`, "YYYY-MM-DD". */
export function utcDate(day: number): string {
  // Scoring asks for the same few days millions of times: remember the last one.
  if (day !== lastDay) {
    lastDate = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDate;
}
let lastDay = Number.NaN;
let lastDate = "";

/**
 * A device's own rolling keys: one per UTC day, generated or chained at day boundaries and
 * deleted after the retention period. Pure: time and randomness are passed in; reading and
 * writing the file is `src/io/key-store-file.ts`.
 */
import { KeyFileError } from "../core/errors.js";
import { fromHex, toHex } from "../core/hex.js";
import type { Random } from "../core/random.js";
import {
  type DayKey,
  dayOf,
  PROTOCOLS,
  type Protocol,
  type RollingIdScheme,
  utcDate,
} from "./rolling-id-scheme.js";
import { schemeFor } from "./schemes.js";

/** Days of own keys kept (GAEN keeps 14; DP-3T may be configured to 21). */
export const DEFAULT_RETENTION_DAYS = 14;
/**
 * Most days a store's newest key may be behind (or ahead of) the day asked for. Chained
 * protocols step through every missed day; ten years is longer than any deployment of these
 * protocols (they date from 2020) yet only 3,650 SHA-256 steps, while a corrupt day such as
 * -9007199254740991 would otherwise chain for ever.
 */
export const MAX_KEY_STORE_REACH_DAYS = 3650;
/** Last day a key may have: 9999-12-31, the last date the store's "YYYY-MM-DD" field can hold. */
export const MAX_KEY_DAY = 2_932_896;
export const KEY_STORE_FORMAT = "proxkit-key-store";
export const KEY_STORE_VERSION = 1;

/** The serialised form (a JSON file). */
export interface KeyStoreJson {
  format: typeof KEY_STORE_FORMAT;
  version: number;
  protocol: Protocol;
  retentionDays: number;
  keys: { day: number; date: string; key: string }[];
}

export class KeyStore {
  readonly protocol: Protocol;
  readonly retentionDays: number;
  private readonly scheme: RollingIdScheme;
  private keys: DayKey[];

  constructor(protocol: Protocol, options: { retentionDays?: number; keys?: DayKey[] } = {}) {
    this.protocol = protocol;
    this.scheme = schemeFor(protocol);
    this.retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    if (
      !Number.isInteger(this.retentionDays) ||
      this.retentionDays < 1 ||
      this.retentionDays > 366
    ) {
      throw new KeyFileError(
        `retention must be a whole number of days in 1..366, got ${this.retentionDays}`,
        "E_RETENTION",
      );
    }
    this.keys = [...(options.keys ?? [])].sort((a, b) => a.day - b.day);
  }

  /** The keys held, oldest first. */
  all(): readonly DayKey[] {
    return this.keys;
  }

  /** The key of `day`, or `undefined`. */
  keyForDay(day: number): DayKey | undefined {
    return this.keys.find((k) => k.day === day);
  }

  /**
   * Makes sure the key of `atMs`'s day exists (a fresh key for GAEN, or the chain stepped
   * forward for DP-3T and Bluezone), deletes keys past the retention, and returns today's key.
   */
  ensureCurrent(atMs: number, random: Random): DayKey {
    const today = dayOf(atMs);
    this.checkReach(today);
    let last = this.keys.at(-1);
    if (!last || last.day > today) {
      // Empty store, or the clock went back before our newest key: never reuse a future key's chain.
      const existing = this.keyForDay(today);
      if (existing) return existing;
      last = this.scheme.newDayKey(today, random);
      this.keys = [
        ...this.keys.filter((k) => k.day < today),
        last,
        ...this.keys.filter((k) => k.day > today),
      ];
    } else if (last.day < today) {
      if (this.scheme.chainedKeys) {
        // Chained protocols step through every missed day so the chain stays verifiable.
        while (last.day < today) {
          last = this.scheme.nextDayKey(last, random);
          if (last.day >= today - this.retentionDays) this.keys.push(last);
        }
      } else {
        last = this.scheme.newDayKey(today, random);
        this.keys.push(last);
      }
    }
    this.prune(atMs);
    return this.keyForDay(today)!;
  }

  /**
   * Throws a `KeyFileError` when the newest key is more than `MAX_KEY_STORE_REACH_DAYS` before
   * or after `day`: a wrong clock or a corrupt store, and a chain that would never end.
   */
  checkReach(day: number): void {
    const newest = this.keys.at(-1);
    if (!newest) return;
    if (!Number.isInteger(day) || Math.abs(day - newest.day) > MAX_KEY_STORE_REACH_DAYS) {
      const when =
        Number.isInteger(day) && Math.abs(day) <= MAX_KEY_DAY ? utcDate(day) : `day ${day}`;
      throw new KeyFileError(
        `the key store's newest key (${utcDate(newest.day)}) is more than ${MAX_KEY_STORE_REACH_DAYS} days from ${when}, the most a store may be behind or ahead; check the clock and the time asked for, or start a new store (proxkit keys new)`,
        "E_KEY_STORE_DAYS",
      );
    }
  }

  /** Deletes keys older than the retention period before `atMs`'s day. */
  prune(atMs: number): void {
    const oldestKept = dayOf(atMs) - this.retentionDays + 1;
    this.keys = this.keys.filter((k) => k.day >= oldestKept);
  }

  toJson(): KeyStoreJson {
    return {
      format: KEY_STORE_FORMAT,
      version: KEY_STORE_VERSION,
      protocol: this.protocol,
      retentionDays: this.retentionDays,
      keys: this.keys.map((k) => ({
        day: k.day,
        date: utcDate(k.day),
        key: toHex(k.key),
      })),
    };
  }

  /** Parses and validates the serialised form; anything off is a `KeyFileError` naming it. */
  static fromJson(value: unknown, source = "key store"): KeyStore {
    const fail = (what: string): never => {
      throw new KeyFileError(`${source}: ${what}`, "E_KEY_STORE");
    };
    if (typeof value !== "object" || value === null) fail("not a JSON object");
    const json = value as Partial<KeyStoreJson>;
    if (json.format !== KEY_STORE_FORMAT)
      fail(`not a proxkit key store (format is ${JSON.stringify(json.format)})`);
    if (json.version !== KEY_STORE_VERSION)
      fail(`unsupported version ${JSON.stringify(json.version)}`);
    if (!PROTOCOLS.includes(json.protocol as Protocol))
      fail(`unknown protocol ${JSON.stringify(json.protocol)}`);
    const scheme = schemeFor(json.protocol as Protocol);
    if (!Array.isArray(json.keys)) fail("keys is not a list");
    const keys = (json.keys as unknown[]).map((entry, i) => {
      if (typeof entry !== "object" || entry === null) fail(`key ${i} is not a JSON object`);
      const k = entry as { day?: unknown; key?: unknown };
      if (!Number.isInteger(k.day)) fail(`key ${i}: day is not a whole number`);
      // Day numbers count from 1970-01-01; anything outside the dates a store can write is corrupt.
      if ((k.day as number) < 0 || (k.day as number) > MAX_KEY_DAY)
        fail(`key ${i}: day ${k.day} is outside 0..${MAX_KEY_DAY} (1970-01-01..9999-12-31)`);
      if (typeof k.key !== "string") fail(`key ${i}: key is not a hex string`);
      let bytes: Uint8Array;
      try {
        bytes = fromHex(k.key as string, `key ${i}`, scheme.keyBytes);
      } catch (error) {
        return fail((error as Error).message);
      }
      return { day: k.day as number, key: bytes };
    });
    return new KeyStore(json.protocol as Protocol, {
      retentionDays: json.retentionDays ?? DEFAULT_RETENTION_DAYS,
      keys,
    });
  }
}

import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KeyFileError } from "../../src/core/errors.js";
import { toHex } from "../../src/core/hex.js";
import { SeededRandom } from "../../src/core/random.js";
import { KeyStore, MAX_KEY_DAY, MAX_KEY_STORE_REACH_DAYS } from "../../src/protocols/key-store.js";
import { dayOf, MS_PER_DAY } from "../../src/protocols/rolling-id-scheme.js";

const T0 = Date.UTC(2020, 3, 2, 12);

describe("KeyStore", () => {
  it("GAEN: a fresh random TEK per day, 14 kept", () => {
    const random = new SeededRandom(1);
    const store = new KeyStore("gaen");
    for (let d = 0; d < 20; d++) store.ensureCurrent(T0 + d * MS_PER_DAY, random);
    const keys = store.all();
    expect(keys.length).toBe(14);
    expect(keys[0].day).toBe(dayOf(T0) + 6);
    expect(keys.at(-1)!.day).toBe(dayOf(T0) + 19);
    expect(new Set(keys.map((k) => toHex(k.key))).size).toBe(14);
  });

  it("DP-3T: the chain is stepped through every day, even skipped ones; 21 days when configured", () => {
    const random = new SeededRandom(2);
    const store = new KeyStore("dp3t", { retentionDays: 21 });
    store.ensureCurrent(T0, random);
    store.ensureCurrent(T0 + 30 * MS_PER_DAY, random); // device off for a month
    const keys = store.all();
    expect(keys.length).toBe(21);
    for (let i = 1; i < keys.length; i++) {
      expect(keys[i].day).toBe(keys[i - 1].day + 1);
      expect(toHex(keys[i].key)).toBe(
        createHash("sha256")
          .update(keys[i - 1].key)
          .digest("hex"),
      );
    }
  });

  it("Bluezone: SHA-256 chain from day to day", () => {
    const random = new SeededRandom(3);
    const store = new KeyStore("bluezone");
    const first = store.ensureCurrent(T0, random);
    const second = store.ensureCurrent(T0 + MS_PER_DAY, random);
    expect(toHex(second.key)).toBe(createHash("sha256").update(first.key).digest("hex"));
  });

  it("ensureCurrent is idempotent within a day and survives the clock going back", () => {
    const random = new SeededRandom(4);
    const store = new KeyStore("gaen");
    const a = store.ensureCurrent(T0, random);
    expect(store.ensureCurrent(T0 + 1000, random)).toBe(a);
    store.ensureCurrent(T0 + 2 * MS_PER_DAY, random);
    const back = store.ensureCurrent(T0 + MS_PER_DAY, random);
    expect(back.day).toBe(dayOf(T0) + 1);
    expect(store.all().map((k) => k.day)).toEqual([0, 1, 2].map((d) => dayOf(T0) + d));
  });

  it("round-trips through JSON", () => {
    const random = new SeededRandom(5);
    const store = new KeyStore("bluezone", { retentionDays: 7 });
    for (let d = 0; d < 3; d++) store.ensureCurrent(T0 + d * MS_PER_DAY, random);
    const copy = KeyStore.fromJson(JSON.parse(JSON.stringify(store.toJson())));
    expect(copy.protocol).toBe("bluezone");
    expect(copy.retentionDays).toBe(7);
    expect(copy.all().map((k) => toHex(k.key))).toEqual(store.all().map((k) => toHex(k.key)));
  });

  it.each([
    [null, /not a JSON object/],
    [{ format: "x" }, /not a proxkit key store/],
    [{ format: "proxkit-key-store", version: 9 }, /unsupported version/],
    [{ format: "proxkit-key-store", version: 1, protocol: "foo", keys: [] }, /unknown protocol/],
    [
      {
        format: "proxkit-key-store",
        version: 1,
        protocol: "gaen",
        keys: [{ day: 1, key: "abcd" }],
      },
      /must be 16 bytes/,
    ],
    [
      {
        format: "proxkit-key-store",
        version: 1,
        protocol: "gaen",
        keys: [{ day: 1.5, key: "00" }],
      },
      /day is not a whole number/,
    ],
    [
      { format: "proxkit-key-store", version: 1, protocol: "gaen", keys: [{ day: 1, key: "zz" }] },
      /not hex/,
    ],
  ])("rejects a malformed store %#", (json, message) => {
    expect(() => KeyStore.fromJson(json)).toThrow(KeyFileError);
    expect(() => KeyStore.fromJson(json)).toThrow(message);
  });

  it("rejects a nonsense retention", () => {
    expect(() => new KeyStore("gaen", { retentionDays: 0 })).toThrow(/retention/);
  });

  describe("corrupt or far-off days (issue 11)", () => {
    const store = (keys: unknown[]) => ({
      format: "proxkit-key-store",
      version: 1,
      protocol: "dp3t",
      keys,
    });
    const KEY = "ab".repeat(32);

    it.each([
      [[{ day: -9007199254740991, key: KEY }], /day -9007199254740991 is outside 0\.\.2932896/],
      [[{ day: 1e9, key: KEY }], /day 1000000000 is outside/],
      [[{ day: -1, key: KEY }], /day -1 is outside/],
      [[{ day: MAX_KEY_DAY + 1, key: KEY }], /is outside/],
      [[{ day: 20_000, key: null }], /key 0: key is not a hex string/],
      [[null], /key 0 is not a JSON object/],
      [[{ day: null, key: KEY }], /day is not a whole number/],
    ])("rejects keys %j at load", (keys, message) => {
      expect(() => KeyStore.fromJson(store(keys))).toThrow(KeyFileError);
      expect(() => KeyStore.fromJson(store(keys))).toThrow(message);
    });

    it("accepts the extreme days a store can write", () => {
      const s = KeyStore.fromJson(
        store([
          { day: 0, key: KEY },
          { day: MAX_KEY_DAY, key: KEY },
        ]),
      );
      expect(s.all().map((k) => k.day)).toEqual([0, MAX_KEY_DAY]);
    });

    it("refuses, at once, to chain a key decades old forward, for every protocol", () => {
      for (const protocol of ["gaen", "dp3t", "bluezone"] as const) {
        const old = new KeyStore(protocol);
        old.ensureCurrent(0, new SeededRandom(1)); // 1970-01-01
        const t0 = performance.now();
        expect(() => old.ensureCurrent(T0, new SeededRandom(1))).toThrow(KeyFileError);
        expect(() => old.ensureCurrent(T0, new SeededRandom(1))).toThrow(
          /newest key \(1970-01-01\) is more than 3650 days from 2020-04-02/,
        );
        expect(performance.now() - t0).toBeLessThan(1000);
        expect(old.all()).toHaveLength(1); // nothing added
      }
    });

    it("refuses a store whose keys are more than the limit ahead of today", () => {
      const ahead = new KeyStore("bluezone");
      ahead.ensureCurrent(T0 + (MAX_KEY_STORE_REACH_DAYS + 1) * MS_PER_DAY, new SeededRandom(1));
      expect(() => ahead.ensureCurrent(T0, new SeededRandom(1))).toThrow(/more than 3650 days/);
    });

    it("still chains a device that was off for the whole limit", () => {
      const s = new KeyStore("dp3t");
      s.ensureCurrent(T0, new SeededRandom(1));
      const later = T0 + MAX_KEY_STORE_REACH_DAYS * MS_PER_DAY;
      expect(s.ensureCurrent(later, new SeededRandom(1)).day).toBe(dayOf(later));
    });
  });
});

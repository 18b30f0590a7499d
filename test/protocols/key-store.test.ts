import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KeyFileError } from "../../src/core/errors.js";
import { toHex } from "../../src/core/hex.js";
import { SeededRandom } from "../../src/core/random.js";
import { KeyStore } from "../../src/protocols/key-store.js";
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
});

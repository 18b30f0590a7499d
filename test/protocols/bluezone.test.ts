import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KeyFileError } from "../../src/core/errors.js";
import { fromHex, toHex } from "../../src/core/hex.js";
import { chainBluezoneDailyKey, deriveBluezoneIds } from "../../src/protocols/bluezone.js";

const sha256 = (...parts: (Uint8Array | string)[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};

describe("Bluezone v2 IDs", () => {
  const dailyKey = fromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

  it("follows the published construction slot by slot", () => {
    const ids = deriveBluezoneIds(dailyKey);
    let subKey = sha256(dailyKey, "bluzonesubkey");
    for (let slot = 0; slot < 96; slot++) {
      if (slot > 0) subKey = sha256(subKey);
      const expected = [0, 4, 8, 12, 16, 18, 20, 22, 24, 26, 28, 30].map((i) => subKey[i]);
      expect(Array.from(ids.subarray(slot * 12, slot * 12 + 12))).toEqual(expected);
    }
  });

  it("keeps a golden value (guards against silent changes)", () => {
    expect(toHex(deriveBluezoneIds(dailyKey).subarray(0, 12))).toMatchInlineSnapshot(
      `"130cea6472130c185d8643df"`,
    );
  });

  it("chains daily keys with SHA-256", () => {
    expect(toHex(chainBluezoneDailyKey(dailyKey, 1))).toBe(sha256(dailyKey).toString("hex"));
  });

  it("rejects keys of the wrong length", () => {
    expect(() => deriveBluezoneIds(new Uint8Array(16))).toThrow(KeyFileError);
  });
});

import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/hex.js";
import { chainDp3tDayKey, deriveEphIds, nextDp3tDayKey } from "../../src/protocols/dp3t.js";
import { DP3T_SDK_VECTOR as V } from "./dp3t-sdk.js";

describe("DP-3T SDK vector", () => {
  const sk = new Uint8Array(Buffer.from(V.dayKeyBase64, "base64"));

  it("derives EphID 0 of the day key", () => {
    const ephIds = deriveEphIds(sk);
    expect(ephIds.length).toBe(96 * 16);
    expect(toHex(ephIds.subarray(0, 16))).toBe(V.ephId0);
    expect(Buffer.from(ephIds.subarray(0, 16)).toString("base64")).toBe(V.ephId0Base64);
  });

  it("96 distinct EphIDs, and the chain step is SHA-256", () => {
    const ephIds = deriveEphIds(sk);
    const set = new Set(
      Array.from({ length: 96 }, (_, i) => toHex(ephIds.subarray(16 * i, 16 * i + 16))),
    );
    expect(set.size).toBe(96);
    expect(toHex(chainDp3tDayKey(sk, 2))).toBe(toHex(nextDp3tDayKey(nextDp3tDayKey(sk))));
    expect(toHex(chainDp3tDayKey(sk, 0))).toBe(toHex(sk));
  });
});

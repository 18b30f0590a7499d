import { hkdfSync, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hkdfInfo, hkdfSha256 } from "../../src/protocols/hkdf-sha256.js";

describe("hkdfSha256", () => {
  it("matches node:crypto hkdfSync for random 16-byte keys and several infos", () => {
    for (const text of ["EN-RPIK", "EN-AEMK", "", "x".repeat(54)]) {
      const info = hkdfInfo(text);
      for (let i = 0; i < 50; i++) {
        const ikm = randomBytes(16);
        for (const length of [16, 32]) {
          const expected = Buffer.from(hkdfSync("sha256", ikm, Buffer.alloc(0), text, length));
          expect(Buffer.from(hkdfSha256(ikm, info, length))).toEqual(expected);
        }
      }
    }
  });

  it("agrees with hkdfSync on arbitrary keys (property)", () => {
    const info = hkdfInfo("EN-RPIK");
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (ikm) => {
        const expected = Buffer.from(hkdfSync("sha256", ikm, Buffer.alloc(0), "EN-RPIK", 16));
        expect(Buffer.from(hkdfSha256(ikm, info, 16))).toEqual(expected);
      }),
    );
  });

  it("rejects info strings that would need a second block", () => {
    expect(() => hkdfInfo("x".repeat(55))).toThrow(RangeError);
  });
});

import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256Short } from "../../src/protocols/sha256.js";

describe("sha256Short", () => {
  it("matches node:crypto for every length 0..55, in place too", () => {
    for (let length = 0; length <= 55; length++) {
      const input = randomBytes(length + 3);
      const out = new Uint8Array(40);
      sha256Short(input, 3, length, out, 5);
      expect(Buffer.from(out.subarray(5, 37)).toString("hex")).toBe(
        createHash("sha256").update(input.subarray(3)).digest("hex"),
      );
    }
    const chained = new Uint8Array(randomBytes(32));
    const expected = createHash("sha256").update(chained).digest("hex");
    sha256Short(chained, 0, 32, chained, 0);
    expect(Buffer.from(chained).toString("hex")).toBe(expected);
  });

  it("refuses messages that need a second block", () => {
    expect(() => sha256Short(new Uint8Array(56), 0, 56, new Uint8Array(32), 0)).toThrow(RangeError);
  });
});

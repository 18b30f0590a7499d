import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatAddress,
  isNonResolvablePrivateAddress,
  randomNonResolvableAddress,
} from "../../src/ble/random-address.js";
import { ProxkitError } from "../../src/core/errors.js";
import { fromHex } from "../../src/core/hex.js";
import { type Random, SeededRandom } from "../../src/core/random.js";
import { expectCodecError } from "./expect-codec-error.js";

/** A random source that replays `draws` (6 bytes each), then repeats the last. */
function scripted(...draws: string[]): Random {
  let next = 0;
  return {
    bytes: () => fromHex(draws[Math.min(next++, draws.length - 1)]),
    float: () => 0,
    int: () => 0,
  };
}

describe("randomNonResolvableAddress", () => {
  it("clears the two most significant bits", () => {
    expect(formatAddress(randomNonResolvableAddress(scripted("ffeeddccbbaa")))).toBe(
      "3f:ee:dd:cc:bb:aa",
    );
  });

  it("redraws an address whose random part is all zeros or all ones", () => {
    expect(
      formatAddress(
        randomNonResolvableAddress(scripted("c00000000000", "ffffffffffff", "000000000001")),
      ),
    ).toBe("00:00:00:00:00:01");
  });

  it("gives up on a broken random source instead of hanging", () => {
    expect(() => randomNonResolvableAddress(scripted("000000000000"))).toThrow(ProxkitError);
  });

  it("always satisfies the NRPA rules (property)", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const random = new SeededRandom(seed);
        for (let i = 0; i < 10; i++) {
          const address = randomNonResolvableAddress(random);
          expect(address).toHaveLength(6);
          expect(address[0] >> 6).toBe(0);
          expect(isNonResolvablePrivateAddress(address)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("is reproducible from a seed and differs between draws", () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const first = randomNonResolvableAddress(a);
    expect(randomNonResolvableAddress(b)).toEqual(first);
    expect(randomNonResolvableAddress(a)).not.toEqual(first);
  });
});

describe("isNonResolvablePrivateAddress", () => {
  it.each([
    ["000000000001", true],
    ["3ffffffffffe", true],
    ["000000000000", false],
    ["3fffffffffff", false],
    ["400000000001", false], // resolvable private address (0b01)
    ["c00000000001", false], // static random address (0b11)
    ["0000000001", false],
  ])("%s → %s", (hex, expected) => {
    expect(isNonResolvablePrivateAddress(fromHex(hex))).toBe(expected);
  });
});

describe("formatAddress", () => {
  it("prints lower-case, most significant byte first", () => {
    expect(formatAddress(fromHex("1A2B3C4D5E6F"))).toBe("1a:2b:3c:4d:5e:6f");
  });

  it("rejects anything but 6 bytes", () => {
    expectCodecError(() => formatAddress(new Uint8Array(5)), undefined, /6 bytes, got 5/);
  });
});

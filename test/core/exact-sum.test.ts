import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExactSum } from "../../src/core/exact-sum.js";

const sumOf = (xs: readonly number[]) => {
  const s = new ExactSum();
  for (const x of xs) s.add(x);
  return s.value;
};

describe("ExactSum", () => {
  it("rounds once, where a running sum loses terms", () => {
    expect(sumOf([])).toBe(0);
    expect(sumOf([1e100, 1, -1e100])).toBe(1);
    expect(sumOf(Array(10).fill(0.1))).toBe(1);
    expect(sumOf([0.1, 0.2, 0.3])).toBe(0.6);
    // Half-way: 2^53 + 1 rounds to even (2^53), and to 2^53 + 2 when a tail tips it.
    expect(sumOf([2 ** 53, 1])).toBe(2 ** 53);
    expect(sumOf([2 ** 53, 1, 1e-10])).toBe(2 ** 53 + 2);
  });

  it("gives the same bits in any order, and exactly the sum of whole numbers", () => {
    const term = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(fc.array(term, { maxLength: 60 }), fc.integer(), (xs, seed) => {
        const shuffled = [...xs];
        let r = seed;
        for (let k = shuffled.length - 1; k > 0; k--) {
          r = (Math.imul(r, 1103515245) + 12345) | 0;
          const j = Math.abs(r) % (k + 1);
          [shuffled[k], shuffled[j]] = [shuffled[j], shuffled[k]];
        }
        expect(Object.is(sumOf(xs) + 0, sumOf(shuffled) + 0)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e9, max: 1e9 })), (xs) => {
        expect(sumOf(xs)).toBe(xs.reduce((s, x) => s + x, 0));
      }),
    );
  });

  it("matches an exact rational sum of multiples of a power of two", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), { maxLength: 50 }),
        (ks) => {
          // Terms k / 2^30: their sum is exact in BigInt, then rounded once by Number().
          const exact = ks.reduce((s, k) => s + BigInt(k), 0n);
          expect(sumOf(ks.map((k) => k / 2 ** 30))).toBe(Number(exact) / 2 ** 30);
        },
      ),
    );
  });

  it("refuses NaN and infinities", () => {
    expect(() => new ExactSum().add(Number.NaN)).toThrow(/finite/);
    expect(() => new ExactSum().add(Number.POSITIVE_INFINITY)).toThrow(/finite/);
  });
});

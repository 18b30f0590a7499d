import { describe, expect, it } from "vitest";
import { PairCache } from "../../../sim/world/pair-cache.js";

describe("pair cache", () => {
  it("doubles past its maximum load, 70 % unless given", () => {
    const fill = (cache: PairCache, pairs: number) => {
      for (let k = 0; k < pairs; k++) cache.findOrInsert(k, k + 1);
      return cache.slotCount;
    };
    expect(fill(new PairCache(100, 2, 16), 12)).toBe(32);
    const fuller = new PairCache(100, 2, 16, 0.8);
    expect(fill(fuller, 12)).toBe(16);
    for (let k = 0; k < 12; k++) expect(fuller.find(k + 1, k)).toBeGreaterThanOrEqual(0);
    expect(fill(fuller, 13)).toBe(32);
    expect(() => new PairCache(100, 2, 16, 1)).toThrow(RangeError);
  });
});

import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../src/core/random.js";

describe("SeededRandom", () => {
  it("is deterministic from its seed and differs between seeds", () => {
    expect(new SeededRandom(5).bytes(16)).toEqual(new SeededRandom(5).bytes(16));
    expect(new SeededRandom(5).bytes(16)).not.toEqual(new SeededRandom(6).bytes(16));
  });

  it("has no warm-up bias: first draws of small seeds are spread over [0, 1)", () => {
    const firsts = Array.from({ length: 1000 }, (_, seed) => new SeededRandom(seed).float());
    const mean = firsts.reduce((a, b) => a + b, 0) / firsts.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(Math.max(...firsts.slice(0, 10))).toBeLessThan(0.9999);
  });

  it("draws integers in range", () => {
    const r = new SeededRandom(1);
    for (let i = 0; i < 1000; i++) {
      const n = r.int(7);
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThan(7);
    }
  });

  it("forks streams that do not overlap: a child after some draws is no other child's start", () => {
    const parent = new SeededRandom(9);
    const children = Array.from({ length: 8 }, () => parent.fork());
    const starts = new Set(children.map((c) => Buffer.from(c.bytes(16)).toString("hex")));
    expect(starts.size).toBe(8);
    // Drawing on: no child's later words repeat another child's first 16 bytes.
    for (const c of children)
      for (let k = 0; k < 32; k++)
        expect(starts.has(Buffer.from(c.bytes(16)).toString("hex"))).toBe(false);
  });
});

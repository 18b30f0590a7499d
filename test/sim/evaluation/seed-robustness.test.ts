import { describe, expect, it } from "vitest";
import { parseSeedList, seedRow, summarise } from "../../../sim/evaluation/seed-robustness.js";

const evaluation = (ours: number, presets: Record<string, number>, ceiling?: number) => ({
  closeContacts: 10,
  detectors: [
    { name: "proxkit", f1: ours },
    ...Object.entries(presets).map(([name, f1]) => ({ name, f1 })),
  ],
  references: [
    { name: "heard", f1: 0.2 },
    ...(ceiling === undefined ? [] : [{ name: "ceiling-scans", f1: ceiling }]),
  ],
});

describe("seed robustness", () => {
  it("a row sets ours against the best preset and the ceiling at the scans", () => {
    const row = seedRow("tram", 7, "proxkit", evaluation(0.5, { nhs: 0.45, immuni: 0.6 }, 0.55));
    expect(row).toMatchObject({ bestPreset: "immuni", bestPresetF1: 0.6, ceilingScans: 0.55 });
    expect(row.ceilingShare).toBeCloseTo(0.5 / 0.55);
    expect(row.gapToBest).toBeCloseTo(-0.1);
    expect(() => seedRow("tram", 7, "ours", evaluation(0.5, {}))).toThrow(/no detector/);
  });

  it("the worst seed is the lowest share of the ceiling; targets hold only on every seed", () => {
    const rows = [
      seedRow("a", 1, "proxkit", evaluation(0.6, { p: 0.55 }, 0.6)),
      seedRow("a", 2, "proxkit", evaluation(0.58, { p: 0.59 }, 0.6)),
      seedRow("b", 1, "proxkit", evaluation(0.6, { p: 0.5 }, 0.6)),
      seedRow("b", 2, "proxkit", evaluation(0.4, { p: 0.5 }, 0.6)),
      seedRow("c", 1, "proxkit", evaluation(0.6, { p: 0.5 })),
    ];
    const [a, b, c] = summarise(rows);
    expect(a).toMatchObject({ scenario: "a", seeds: 2, targetsMet: true });
    expect(a.worst.seed).toBe(2);
    expect(a.meanOurs).toBeCloseTo(0.59);
    expect(b).toMatchObject({ targetsMet: false });
    expect(b.worst.seed).toBe(2);
    expect(b.minGapToBest).toBeCloseTo(-0.1);
    // No ceiling: the target cannot be said to hold.
    expect(c).toMatchObject({ minCeilingShare: undefined, targetsMet: false });
  });
});

describe("parseSeedList", () => {
  it("reads a range or a list", () => {
    expect(parseSeedList("1-4")).toEqual([1, 2, 3, 4]);
    expect(parseSeedList("3,7,9")).toEqual([3, 7, 9]);
    expect(parseSeedList("5")).toEqual([5]);
  });
});

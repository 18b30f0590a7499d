import { describe, expect, it } from "vitest";
import { Study, type StudyRow, shareOf } from "../../../sim/evaluation/detector-choice.js";

const row = (
  scenario: string,
  channel: string,
  seed: number,
  ceilingScans: number | null,
  f1: Record<string, number>,
): StudyRow => ({ scenario, channel, seed, closeContacts: 10, ceilingScans, f1 });

describe("the choice of our default detector", () => {
  it("a share is F1 over ceiling-scans, or on a real recording over the best rule's F1", () => {
    expect(shareOf(row("tram", "v2", 1, 0.5, { a: 0.4 }), "a", 0.9)).toBeCloseTo(0.8, 12);
    expect(shareOf(row("lunch", "real", 0, null, { a: 0.3 }), "a", 0.6)).toBeCloseTo(0.5, 12);
    // Nothing achievable: every rule has all of it.
    expect(shareOf(row("bus", "v2", 1, 0, { a: 0 }), "a", 0)).toBe(1);
  });

  // a: best on v2, poor on herald-only; b: good on both; c: best on the real recording.
  const rows = [
    row("tram", "v2", 1, 1, { a: 0.9, b: 0.7, c: 0.1 }),
    row("tram", "v2", 2, 1, { a: 0.9, b: 0.7, c: 0.1 }),
    row("office", "v2", 1, 0.5, { a: 0.5, b: 0.4, c: 0.1 }),
    row("tram", "herald-only", 1, 1, { a: 0.1, b: 0.7, c: 0.2 }),
    row("office", "herald-only", 1, 1, { a: 0.2, b: 0.6, c: 0.2 }),
    row("lunch", "real", 0, null, { a: 0.1, b: 0.2, c: 0.4 }),
  ];

  it("means over seeds, then scenarios, per channel; chooses by the mean over channels", () => {
    const study = new Study(rows);
    const a = study.channelShares("a", () => true, ["v2", "herald-only"]);
    expect(a.get("v2")).toBeCloseTo((0.9 + 1) / 2, 12);
    expect(a.get("herald-only")).toBeCloseTo(0.15, 12);
    const chosen = study.choose(["a", "b", "c"], ["v2", "herald-only"]);
    expect(chosen.name).toBe("b");
    expect(study.choose(["a", "b", "c"], ["v2"]).name).toBe("a");
    expect(study.choose(["a", "b", "c"], ["real"]).name).toBe("c");
  });

  it("the worst channel decides with aggregate worst; scenarios can be left out", () => {
    const worst = new Study(rows, "worst");
    expect(worst.choose(["a", "b", "c"], ["v2", "herald-only", "real"]).name).toBe("b");
    const study = new Study(rows);
    // Without the office, b's herald-only share rises to 0.7; a's v2 share stays 0.9.
    const noOffice = study.channelShares("b", (s) => s !== "office", ["herald-only"]);
    expect(noOffice.get("herald-only")).toBeCloseTo(0.7, 12);
  });
});

import { describe, expect, it } from "vitest";
import {
  ALTBEACON_SAMPLE_EXPIRATION_MS,
  TrimmedMean,
} from "../../../src/signal/filters/trimmed-mean.js";

function fill(filter: TrimmedMean, values: number[], stepMs = 100): void {
  values.forEach((value, i) => {
    filter.push({ atMs: i * stepMs, value });
  });
}

describe("TrimmedMean", () => {
  it("follows AltBeacon's index rule: of 10 sorted samples, indices 2..7", () => {
    const f = new TrimmedMean();
    fill(f, [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]);
    expect(f.value()).toBe((3 + 4 + 5 + 6 + 7 + 8) / 6);
  });

  it("keeps only the middle of three and both of two", () => {
    const three = new TrimmedMean();
    fill(three, [-70, -30, -72]);
    expect(three.value()).toBe(-70);
    const two = new TrimmedMean();
    fill(two, [-70, -80]);
    expect(two.value()).toBe(-75);
  });

  it("trims a symmetric fraction when asked", () => {
    const f = new TrimmedMean({ trimFraction: 0.2 });
    fill(f, [1, 2, 3, 4, 5, 6, 7, 8, 9, 100]);
    expect(f.value()).toBe((3 + 4 + 5 + 6 + 7 + 8) / 6);
    expect(() => new TrimmedMean({ trimFraction: 0.5 })).toThrow(RangeError);
  });

  it("expires samples 20 s old (AltBeacon)", () => {
    expect(ALTBEACON_SAMPLE_EXPIRATION_MS).toBe(20_000);
    const f = new TrimmedMean();
    f.push({ atMs: 0, value: -90 });
    f.push({ atMs: 19_999, value: -60 });
    expect(f.value()).toBe(-75);
    f.push({ atMs: 20_000, value: -60 });
    expect(f.value()).toBe(-60);
    f.reset();
    expect(f.value()).toBeUndefined();
  });
});

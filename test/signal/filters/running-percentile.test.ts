import { describe, expect, it } from "vitest";
import {
  HERALD_MAX_RSSI_PERCENTILE,
  RunningPercentile,
} from "../../../src/signal/filters/running-percentile.js";

describe("RunningPercentile", () => {
  it("interpolates between closest ranks", () => {
    const f = new RunningPercentile({ percentile: 75, windowMs: 60_000 });
    for (const [t, v] of [
      [0, -80],
      [1000, -70],
      [2000, -90],
      [3000, -60],
      [4000, -75],
    ])
      f.push({ atMs: t, value: v });
    // sorted -90 -80 -75 -70 -60; rank 0.75 * 4 = 3
    expect(f.value()).toBe(-70);
  });

  it("is the maximum at 100 and the minimum at 0, over the window only", () => {
    const max = new RunningPercentile({ percentile: 100, windowMs: 10_000 });
    const min = new RunningPercentile({ percentile: 0, windowMs: 10_000 });
    for (const [t, v] of [
      [0, -50],
      [5000, -70],
      [10_000, -80],
    ]) {
      max.push({ atMs: t, value: v });
      min.push({ atMs: t, value: v });
    }
    expect(max.value()).toBe(-70);
    expect(min.value()).toBe(-80);
  });

  it("defaults to Herald's 95th percentile and rejects nonsense", () => {
    expect(new RunningPercentile().percentile).toBe(HERALD_MAX_RSSI_PERCENTILE);
    expect(HERALD_MAX_RSSI_PERCENTILE).toBe(95);
    expect(() => new RunningPercentile({ percentile: 101 })).toThrow(RangeError);
    const f = new RunningPercentile();
    expect(f.value()).toBeUndefined();
    f.push({ atMs: 0, value: 1 });
    f.reset();
    expect(f.value()).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import {
  HERALD_SMOOTHING_WINDOW_MS,
  MovingMedian,
} from "../../../src/signal/filters/moving-median.js";

describe("MovingMedian", () => {
  it("is the median of the last 60 s by default (Herald)", () => {
    expect(HERALD_SMOOTHING_WINDOW_MS).toBe(60_000);
    const m = new MovingMedian();
    expect(m.value()).toBeUndefined();
    m.push({ atMs: 0, value: -75 });
    m.push({ atMs: 10_000, value: -71 });
    m.push({ atMs: 20_000, value: -73 });
    expect(m.value()).toBe(-73);
    m.push({ atMs: 30_000, value: -60 }); // -75 -73 -71 -60: mean of the middle two
    expect(m.value()).toBe(-72);
    m.push({ atMs: 65_000, value: -80 }); // the sample at 0 s expired: -80 -73 -71 -60
    expect(m.value()).toBe(-72);
    m.push({ atMs: 80_000, value: -90 }); // 10 s and 20 s expired too: -90 -80 -60
    expect(m.value()).toBe(-80);
  });

  it("is robust to a spike", () => {
    const m = new MovingMedian({ windowMs: 5000 });
    for (const [t, v] of [
      [0, -70],
      [1000, -71],
      [2000, -20],
      [3000, -70],
      [4000, -72],
    ])
      m.push({ atMs: t, value: v });
    expect(m.value()).toBe(-70);
  });

  it("waits for minSamples and forgets on reset", () => {
    const m = new MovingMedian({ minSamples: 3 });
    m.push({ atMs: 0, value: 1 });
    m.push({ atMs: 1, value: 2 });
    expect(m.value()).toBeUndefined();
    m.push({ atMs: 2, value: 9 });
    expect(m.value()).toBe(2);
    m.reset();
    expect(m.value()).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { ExponentialMovingAverage } from "../../../src/signal/filters/exponential-moving-average.js";
import { MovingMedian } from "../../../src/signal/filters/moving-median.js";
import { FilterChain, type SignalFilter } from "../../../src/signal/filters/signal-filter.js";

describe("FilterChain", () => {
  it("feeds each stage's output into the next at the same time", () => {
    const chain = new FilterChain([
      new MovingMedian({ windowMs: 10_000 }),
      new ExponentialMovingAverage({ smoothingFactor: 0.5 }),
    ]);
    chain.push({ atMs: 0, value: 10 }); // median 10 -> ema 10
    chain.push({ atMs: 1000, value: 20 }); // median 15 -> ema 12.5
    chain.push({ atMs: 2000, value: 0 }); // median 10 -> ema 11.25
    expect(chain.value()).toBe(11.25);
    chain.reset();
    expect(chain.value()).toBeUndefined();
  });

  it("stops at a stage that has no output yet", () => {
    const seen: number[] = [];
    const recorder: SignalFilter = {
      push: (s) => seen.push(s.value),
      value: () => seen.at(-1),
      reset: () => {},
    };
    const chain = new FilterChain([new MovingMedian({ minSamples: 2 }), recorder]);
    chain.push({ atMs: 0, value: 1 });
    expect(seen).toEqual([]);
    chain.push({ atMs: 1, value: 3 });
    expect(seen).toEqual([2]);
  });

  it("has no value without stages", () => {
    expect(new FilterChain([]).value()).toBeUndefined();
  });
});

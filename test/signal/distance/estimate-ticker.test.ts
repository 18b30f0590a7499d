import { describe, expect, it } from "vitest";
import {
  ESTIMATE_INTERVAL_MS,
  EstimateTicker,
} from "../../../src/signal/distance/estimate-ticker.js";

describe("EstimateTicker", () => {
  it("reports each 30 s tick once a later sample arrives", () => {
    expect(ESTIMATE_INTERVAL_MS).toBe(30_000);
    const ticker = new EstimateTicker();
    const reported = [5_000, 20_000, 30_000, 31_000, 59_000, 61_000].map((t) =>
      ticker.beforeSample(t),
    );
    // 30 000 itself belongs to the tick at 30 000, reported when 31 000 arrives.
    expect(reported).toEqual([undefined, undefined, undefined, 30_000, undefined, 60_000]);
    expect(ticker.finish()).toBe(90_000);
    expect(ticker.finish()).toBeUndefined();
  });

  it("skips ticks in a gap", () => {
    const ticker = new EstimateTicker(10_000);
    expect(ticker.beforeSample(1_000)).toBeUndefined();
    expect(ticker.beforeSample(95_000)).toBe(10_000);
    expect(ticker.beforeSample(101_000)).toBe(100_000);
    expect(() => new EstimateTicker(0)).toThrow(RangeError);
  });
});

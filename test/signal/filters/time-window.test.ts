import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TimeWindow } from "../../../src/signal/filters/time-window.js";

describe("TimeWindow", () => {
  it("keeps samples younger than the window, sorted", () => {
    const w = new TimeWindow(1000);
    w.push(0, 5);
    w.push(500, 1);
    w.push(999, 3);
    expect([w.nth(0), w.nth(1), w.nth(2)]).toEqual([1, 3, 5]);
    w.push(1000, 4); // the sample at 0 is now 1000 ms old: gone
    expect(w.size).toBe(3);
    expect(w.oldestMs()).toBe(500);
    expect(w.percentile(0)).toBe(1);
    expect(w.percentile(100)).toBe(4);
    expect(w.percentile(50)).toBe(3);
    expect(w.percentile(75)).toBe(3.5);
    w.clear();
    expect(w.percentile(50)).toBeUndefined();
  });

  it("matches a naive window on random streams", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: -100, max: -30 })), {
          maxLength: 300,
        }),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 0, max: 100 }),
        (steps, windowMs, p) => {
          const w = new TimeWindow(windowMs);
          const all: [number, number][] = [];
          let t = 0;
          for (const [dt, v] of steps) {
            t += dt;
            w.push(t, v);
            all.push([t, v]);
            const live = all
              .filter(([at]) => at > t - windowMs)
              .map(([, x]) => x)
              .sort((a, b) => a - b);
            expect(w.size).toBe(live.length);
            const rank = (p / 100) * (live.length - 1);
            const lo = Math.floor(rank);
            const hi = Math.min(live.length - 1, lo + 1);
            expect(w.percentile(p)).toBeCloseTo(live[lo] + (rank - lo) * (live[hi] - live[lo]), 9);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Agents } from "../../../sim/world/agents.js";
import { PairCache } from "../../../sim/world/pair-cache.js";
import { SpatialGrid } from "../../../sim/world/spatial-grid.js";

const positions = fc.array(
  fc.record({
    x: fc.double({ min: -5, max: 45, noNaN: true }),
    y: fc.double({ min: -5, max: 25, noNaN: true }),
    present: fc.boolean(),
  }),
  { minLength: 1, maxLength: 120 },
);

function build(points: { x: number; y: number; present: boolean }[], cellSizeM: number) {
  const agents = new Agents(points.length);
  for (const p of points) agents.add({ xM: p.x, yM: p.y, present: p.present });
  const grid = new SpatialGrid(agents, { xM: 0, yM: 0, widthM: 40, heightM: 20 }, cellSizeM);
  grid.rebuild();
  return { agents, grid };
}

describe("SpatialGrid", () => {
  it("finds exactly the present neighbours a brute-force scan finds", () => {
    fc.assert(
      fc.property(
        positions,
        fc.double({ min: 0.5, max: 30, noNaN: true }),
        fc.double({ min: 0.5, max: 15, noNaN: true }),
        (points, rangeM, cellM) => {
          const { agents, grid } = build(points, cellM);
          const out = new Int32Array(points.length);
          for (let i = 0; i < points.length; i++) {
            if (!points[i].present) continue;
            const expected: number[] = [];
            for (let j = 0; j < points.length; j++) {
              if (j !== i && points[j].present && agents.distanceM(i, j) <= rangeM)
                expected.push(j);
            }
            const n = grid.neighboursOf(i, rangeM, out);
            expect([...out.subarray(0, n)].sort((a, b) => a - b)).toEqual(expected);
            const viaCallback: number[] = [];
            grid.forEachNeighbour(i, rangeM, (j) => viaCallback.push(j));
            expect(viaCallback.sort((a, b) => a - b)).toEqual(expected);
          }
          let brutePairs = 0;
          for (let a = 0; a < points.length; a++)
            for (let b = a + 1; b < points.length; b++)
              if (points[a].present && points[b].present && agents.distanceM(a, b) <= rangeM)
                brutePairs++;
          const seen = new Set<string>();
          const pairs = grid.forEachPair(rangeM, (a, b, d) => {
            expect(a).toBeLessThan(b);
            expect(d).toBeCloseTo(agents.distanceM(a, b), 9);
            seen.add(`${a},${b}`);
          });
          expect(pairs).toBe(brutePairs);
          expect(seen.size).toBe(brutePairs);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("counts the people standing near the segment between two agents", () => {
    fc.assert(
      fc.property(positions, (points) => {
        if (points.length < 2) return;
        points[0].present = true;
        points[1].present = true;
        const { agents, grid } = build(points, 3);
        const r = 0.5;
        const [ax, ay, bx, by] = [points[0].x, points[0].y, points[1].x, points[1].y];
        const len2 = (bx - ax) ** 2 + (by - ay) ** 2;
        let expected = 0;
        if (len2 > 4 * r * r) {
          for (let j = 2; j < points.length; j++) {
            if (!points[j].present) continue;
            const t = ((points[j].x - ax) * (bx - ax) + (points[j].y - ay) * (by - ay)) / len2;
            // A point on a boundary (rounding decides either way) makes the case ambiguous.
            if (Math.abs(t) < 1e-9 || Math.abs(t - 1) < 1e-9) return;
            if (t <= 0 || t >= 1) continue;
            const dist = Math.hypot(
              points[j].x - (ax + t * (bx - ax)),
              points[j].y - (ay + t * (by - ay)),
            );
            if (Math.abs(dist - r) < 1e-9) return;
            if (dist <= r) expected++;
          }
        }
        expect(grid.countNearSegment(0, 1, r, 1000)).toBe(expected);
        expect(grid.countNearSegment(0, 1, r, 1)).toBe(Math.min(1, expected));
        void agents;
      }),
      { numRuns: 100 },
    );
  });
});

describe("PairCache", () => {
  it("behaves like a map keyed by unordered pairs, through growth and sweeps", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 49 }), fc.integer({ min: 0, max: 49 }), fc.boolean()),
          { maxLength: 400 },
        ),
        (ops) => {
          const cache = new PairCache(50, 2, 16);
          const model = new Map<string, number>();
          let stamp = 0;
          for (const [a, b, sweep] of ops) {
            if (a === b) continue;
            const key = `${Math.min(a, b)},${Math.max(a, b)}`;
            const slot = cache.findOrInsert(a, b);
            expect(cache.inserted).toBe(!model.has(key));
            cache.values[slot * cache.stride] = ++stamp;
            model.set(key, stamp);
            if (sweep) {
              cache.sweep((s) => cache.values[s * cache.stride] % 3 !== 0);
              for (const [k, v] of model) if (v % 3 === 0) model.delete(k);
            }
          }
          expect(cache.size).toBe(model.size);
          for (const [key, v] of model) {
            const [a, b] = key.split(",").map(Number);
            const slot = cache.find(b, a);
            expect(slot).toBeGreaterThanOrEqual(0);
            expect(cache.values[slot * cache.stride]).toBe(v);
            expect(cache.lowAt(slot)).toBe(a);
            expect(cache.highAt(slot)).toBe(b);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("splits neighbours by class: kept ones first with their squared distances, the others from the back, none lost", () => {
    fc.assert(
      fc.property(
        positions,
        fc.double({ min: 0.5, max: 30, noNaN: true }),
        fc.double({ min: 0.5, max: 15, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 400, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (points, rangeM, cellM, limits) => {
          const { agents, grid } = build(points, cellM);
          const classOf = new Uint8Array(points.length).map((_, i) => i % 3);
          const keepD2 = Float64Array.from(limits);
          const all = new Int32Array(points.length);
          const split = new Int32Array(points.length);
          const splitD2 = new Float64Array(points.length);
          for (let i = 0; i < points.length; i++) {
            if (!points[i].present) continue;
            const n = grid.neighboursOf(i, rangeM, all);
            expect(grid.neighboursByClass(i, rangeM, classOf, keepD2, split, splitD2)).toBe(n);
            const kept = [...split.subarray(0, grid.kept)];
            kept.forEach((j, k) => {
              const dx = agents.xM[j] - agents.xM[i];
              const dy = agents.yM[j] - agents.yM[i];
              expect(splitD2[k]).toBe(dx * dx + dy * dy);
            });
            const culled = [...split.subarray(split.length - (n - grid.kept))];
            expect([...kept, ...culled].sort((x, y) => x - y)).toEqual(
              [...all.subarray(0, n)].sort((x, y) => x - y),
            );
            for (const j of kept)
              expect(agents.distanceM(i, j) ** 2).toBeLessThanOrEqual(
                keepD2[classOf[j]] * (1 + 1e-12),
              );
            for (const j of culled)
              expect(agents.distanceM(i, j) ** 2).toBeGreaterThan(keepD2[classOf[j]] * (1 - 1e-12));
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

import { describe, expect, it } from "vitest";
import { Agents } from "../../../sim/world/agents.js";
import {
  DEFAULT_PROPAGATION,
  Propagation,
  ricianFadingTableDb,
} from "../../../sim/world/propagation.js";
import { randomNormal } from "../../../sim/world/random-normal.js";
import {
  DRAW_FAR,
  DRAW_MOVING,
  DRAW_STILL,
  erfc,
  ReceptionTables,
} from "../../../sim/world/reception.js";
import { SpatialGrid } from "../../../sim/world/spatial-grid.js";
import { SeededRandom } from "../../../src/core/random.js";

const p = DEFAULT_PROPAGATION;
const still = ricianFadingTableDb(p.ricianKDb);
const moving = ricianFadingTableDb(p.movingRicianKDb);
const tables = new ReceptionTables(still, moving, p.shadowingSigmaDb);

/** The per-advertisement term exactly as `Propagation.rssiDbm` draws it for a far pair. */
function perEventFarTerm(random: SeededRandom): number {
  return p.shadowingSigmaDb * randomNormal(random) + moving[(random.float() * moving.length) | 0];
}

describe("reception tables", () => {
  it("erfc matches known values", () => {
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(1)).toBeCloseTo(0.157299207, 7);
    expect(erfc(-1)).toBeCloseTo(1.842700793, 7);
    expect(erfc(3) / 2.209049699858544e-5).toBeCloseTo(1, 5);
  });

  it("cached-shadowing kinds: the tail is the fading table's own, the draw stays above the cut", () => {
    const random = new SeededRandom(3).fork();
    for (const [kind, table] of [
      [DRAW_STILL, still],
      [DRAW_MOVING, moving],
    ] as const) {
      for (const cut of [-20, -3, 0, 1.5, 2.5, 10]) {
        const above = table.filter((x) => x >= cut).length;
        expect(tables.probabilityAtLeast(kind, cut)).toBe(above / table.length);
        if (above === 0) continue;
        let sum = 0;
        for (let k = 0; k < 2000; k++) {
          const x = tables.drawAtLeast(kind, cut, random.float());
          expect(x).toBeGreaterThanOrEqual(cut);
          sum += x;
        }
        const exact = table.filter((x) => x >= cut).reduce((s, x) => s + x, 0) / above;
        expect(Math.abs(sum / 2000 - exact)).toBeLessThan(0.15);
      }
    }
  });

  it("far pairs: tail probability and conditional draw match the per-advertisement model (Monte Carlo)", () => {
    const random = new SeededRandom(11).fork();
    const n = 2_000_000;
    const draws = new Float64Array(n);
    for (let k = 0; k < n; k++) draws[k] = perEventFarTerm(random);
    for (const cut of [-5, 3, 8, 12, 16]) {
      let hits = 0;
      let sum = 0;
      for (let k = 0; k < n; k++) {
        if (draws[k] >= cut) {
          hits++;
          sum += draws[k];
        }
      }
      const predicted = tables.probabilityAtLeast(DRAW_FAR, cut);
      // Binomial standard error of the Monte Carlo count: the prediction within 4.5 of them.
      const sd = Math.sqrt(n * predicted * (1 - predicted));
      expect(Math.abs(hits - n * predicted)).toBeLessThan(4.5 * sd + 1);
      if (hits < 200) continue;
      // Conditional mean of the received term: sampled by inversion vs Monte Carlo.
      let drawn = 0;
      const m = 20_000;
      for (let k = 0; k < m; k++) {
        const x = tables.drawAtLeast(DRAW_FAR, cut, random.float());
        expect(x).toBeGreaterThanOrEqual(cut);
        drawn += x;
      }
      expect(Math.abs(drawn / m - sum / hits)).toBeLessThan(0.1);
    }
    expect(tables.probabilityAtLeast(DRAW_FAR, 200)).toBe(0);
    expect(tables.probabilityAtLeast(DRAW_FAR, -200)).toBeCloseTo(1, 12);
  });
});

describe("reception bounds used to skip work", () => {
  it("the far-pair bound is never below the exact chance, and leaving out bodies never lowers the mean", () => {
    const random = new SeededRandom(17).fork();
    const n = 400;
    const agents = new Agents(n);
    for (let i = 0; i < n; i++) {
      agents.add({
        xM: random.float() * 120,
        yM: random.float() * 120,
        carry: random.int(3) as 0 | 1 | 2,
        deviceIndex: random.int(3),
      });
    }
    const grid = new SpatialGrid(agents, { xM: 0, yM: 0, widthM: 120, heightM: 120 }, 5);
    grid.rebuild();
    const propagation = new Propagation(agents, grid, new SeededRandom(2).fork(), {
      ...p,
      txGainDb: [0, 2, -3],
      rxOffsetDb: [1.5, 0, -2],
    });
    propagation.onStep(1000);
    let far = 0;
    let near = 0;
    for (let k = 0; k < 20_000; k++) {
      const tx = random.int(n);
      const rx = random.int(n);
      if (tx === rx) continue;
      const bound = propagation.receptionBound(tx, rx);
      const upper = propagation.linkMeanUpperDbm(tx, rx);
      const mean = propagation.linkMeanDbm(tx, rx);
      const kind = propagation.drawKind;
      expect(upper).toBeGreaterThanOrEqual(mean);
      if (mean === Number.NEGATIVE_INFINITY) {
        expect(bound).toBe(0);
        continue;
      }
      const exact = tables.probabilityAtLeast(kind, p.sensitivityDbm - mean);
      if (bound === Number.POSITIVE_INFINITY) near++;
      else {
        far++;
        expect(kind).toBe(DRAW_FAR);
        expect(bound).toBeGreaterThanOrEqual(exact);
      }
    }
    expect(far).toBeGreaterThan(1000);
    expect(near).toBeGreaterThan(100);
  });
});

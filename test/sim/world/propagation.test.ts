import { describe, expect, it } from "vitest";
import { Agents, CarryPosition } from "../../../sim/world/agents.js";
import {
  DEFAULT_PROPAGATION,
  Propagation,
  type PropagationParams,
  pathLossDb,
  receptionRangeM,
  ricianFadingTableDb,
} from "../../../sim/world/propagation.js";
import { SpatialGrid } from "../../../sim/world/spatial-grid.js";
import { SeededRandom } from "../../../src/core/random.js";

function pair(distanceM: number, params: Partial<PropagationParams> = {}, seed = 1) {
  const agents = new Agents(8);
  agents.add({ xM: 0, yM: 0 });
  agents.add({ xM: distanceM, yM: 0 });
  const grid = new SpatialGrid(agents, { xM: -5, yM: -5, widthM: 30, heightM: 10 }, 5);
  grid.rebuild();
  // A fork: the first draws of a freshly seeded SeededRandom are close to 1 (see the report).
  const propagation = new Propagation(agents, grid, new SeededRandom(seed).fork(), {
    ...DEFAULT_PROPAGATION,
    ...params,
  });
  return { agents, grid, propagation };
}

const noisless: Partial<PropagationParams> = {
  shadowingSigmaDb: 0,
  ricianKDb: 60,
  movingRicianKDb: 60,
  sensitivityDbm: -200,
  saturationDbm: 100,
};

describe("propagation", () => {
  it("path loss follows the two-slope log-distance formula", () => {
    const p = DEFAULT_PROPAGATION;
    expect(pathLossDb(1, p)).toBeCloseTo(p.refPathLossDb, 9);
    expect(pathLossDb(0.01, p)).toBe(pathLossDb(p.minDistanceM, p));
    expect(pathLossDb(2, p) - pathLossDb(1, p)).toBeCloseTo(10 * p.exponentNear * Math.log10(2), 9);
    expect(pathLossDb(30, p) - pathLossDb(3, p)).toBeCloseTo(10 * p.exponentFar, 9);
  });

  it("fading tables have unit mean power", () => {
    for (const k of [0, 7, 15.7]) {
      const t = ricianFadingTableDb(k);
      const meanPower = t.reduce((s, db) => s + 10 ** (db / 10), 0) / t.length;
      expect(meanPower).toBeCloseTo(1, 1);
    }
  });

  it("mean received power over many draws matches the model's formula", () => {
    for (const d of [0.5, 2, 8]) {
      const { propagation } = pair(d, {
        ...noisless,
        shadowingSigmaDb: 4.5,
        ricianKDb: 7,
        shadowingTauS: 1e-3,
      });
      let sum = 0;
      const n = 20_000;
      for (let k = 0; k < n; k++) {
        propagation.onStep(k * 1000);
        sum += propagation.rssiDbm(1, 0, 37)!;
      }
      // Shadowing has zero mean in dB; the fading's mean in dB is the table's mean.
      const t = ricianFadingTableDb(7);
      const fadingMeanDb = t.reduce((s, x) => s + x, 0) / t.length;
      expect(sum / n).toBeCloseTo(-pathLossDb(d, DEFAULT_PROPAGATION) + fadingMeanDb, 0);
    }
  });

  it("adds carry and body losses", () => {
    const { agents, propagation } = pair(4, noisless);
    const base = propagation.meanRssiDbm(1, 0);
    agents.carry[0] = CarryPosition.pocket;
    agents.carry[1] = CarryPosition.bag;
    expect(propagation.meanRssiDbm(1, 0)).toBeCloseTo(base - 5 - 8, 5);
    const crowd = new Agents(5);
    crowd.add({ xM: 0, yM: 0 });
    crowd.add({ xM: 4, yM: 0 });
    crowd.add({ xM: 1, yM: 0.1 });
    crowd.add({ xM: 2, yM: -0.2 });
    crowd.add({ xM: 3, yM: 1.0 }); // off the line
    const grid = new SpatialGrid(crowd, { xM: -5, yM: -5, widthM: 30, heightM: 10 }, 5);
    grid.rebuild();
    const blocked = new Propagation(crowd, grid, new SeededRandom(1).fork(), {
      ...DEFAULT_PROPAGATION,
      ...noisless,
    });
    expect(blocked.meanRssiDbm(1, 0)).toBeCloseTo(base - 2 * DEFAULT_PROPAGATION.bodyLossDb, 5);
  });

  it("cuts at the sensitivity and saturates strong signals", () => {
    const near = pair(0.1, { ...noisless, saturationDbm: -80 }).propagation;
    expect(near.rssiDbm(1, 0, 37)).toBe(-80);
    const { propagation } = pair(5, noisless);
    const rssi = propagation.rssiDbm(1, 0, 38)!;
    expect(Number.isInteger(rssi)).toBe(true);
    const cut = pair(5, { ...noisless, sensitivityDbm: rssi + 1 }).propagation;
    expect(cut.rssiDbm(1, 0, 38)).toBeUndefined();
    // Beyond the reception range nobody is heard.
    const far = pair(receptionRangeM() + 1).propagation;
    for (let k = 0; k < 1000; k++) expect(far.rssiDbm(1, 0, 39)).toBeUndefined();
  });

  it("shadowing autocorrelation decays with the time constant", () => {
    const tauS = 20;
    const { propagation } = pair(2, { shadowingTauS: tauS, shadowingSigmaDb: 4 });
    const n = 40_000;
    const series = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      propagation.onStep(k * 1000);
      series[k] = propagation.shadowingDb(0, 1);
    }
    const mean = series.reduce((s, x) => s + x, 0) / n;
    const variance = series.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
    expect(Math.sqrt(variance)).toBeCloseTo(4, 0);
    for (const lagS of [5, 20, 40]) {
      let c = 0;
      for (let k = 0; k + lagS < n; k++) c += (series[k] - mean) * (series[k + lagS] - mean);
      const rho = c / (n - lagS) / variance;
      expect(rho).toBeCloseTo(Math.exp(-lagS / tauS), 1);
    }
  });

  it("shadowing decorrelates when the pair's distance changes", () => {
    const { agents, propagation } = pair(2, { shadowingTauS: 1e9, shadowingDecorrelationM: 0.5 });
    const still: number[] = [];
    for (let k = 0; k < 50; k++) {
      propagation.onStep(k * 1000);
      still.push(propagation.shadowingDb(0, 1));
    }
    expect(Math.max(...still) - Math.min(...still)).toBeLessThan(0.05);
    agents.xM[1] = 4;
    propagation.onStep(51_000);
    expect(Math.abs(propagation.shadowingDb(0, 1) - still[0])).toBeGreaterThan(0.05);
  });

  it("is deterministic for a seed", () => {
    const stream = (seed: number) => {
      const { propagation } = pair(3, {}, seed);
      const out: (number | undefined)[] = [];
      for (let k = 0; k < 500; k++) {
        propagation.onStep(k * 250);
        out.push(propagation.rssiDbm(1, 0, 37 + (k % 3)));
      }
      return out;
    };
    expect(stream(9)).toEqual(stream(9));
    expect(stream(9)).not.toEqual(stream(10));
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ADVERTISING_INTERVAL_MS,
  intervalOffset,
  PDU_AIRTIME_MS,
} from "../../../sim/engine/advertising.js";
import { runSimulation } from "../../../sim/engine/run-simulation.js";
import { validateScenario } from "../../../sim/world/scenario.js";
import { buildWorld } from "../../../sim/world/world.js";

/** Two phones in hand, `distanceM` apart, standing still, scanning continuously. */
function twoPhones(distanceM: number) {
  const at = (xM: number) => ({
    role: "phone",
    count: 1,
    carry: { hand: 1, pocket: 0, bag: 0 },
    mobility: { kind: "stationary", at: { xM, yM: 5 } },
  });
  return validateScenario({
    name: "two-phones",
    durationS: 3600,
    // The engine's own model (DEFAULT_PROPAGATION), whatever the default channel.
    channel: "herald-only",
    geometry: { area: { xM: 0, yM: 0, widthM: distanceM + 10, heightM: 10 } },
    agents: [at(5), at(5 + distanceM)],
    protocolMix: { gaen: 1 },
    scanning: "continuous",
  });
}

describe("link layer: a phone's first advertising event", () => {
  it("is offset from the step's start as the two remainders give it, to the bit", () => {
    const I = ADVERTISING_INTERVAL_MS;
    const remainders = (x: number) => ((x % I) + I) % I;
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: I, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 0, max: 7 * 86_400 }),
        fc.double({ min: -1e12, max: 1e12, noNaN: true }),
        (phaseMs, stepS, x) => {
          expect(Object.is(intervalOffset(x), remainders(x))).toBe(true);
          const y = phaseMs - stepS * 1000; // a phase against a step's start
          expect(Object.is(intervalOffset(y), remainders(y))).toBe(true);
        },
      ),
      { numRuns: 20_000 },
    );
    // One ulp either side of each multiple: just below I, `r + I` rounds up to 2 I (fast-check
    // found 254.99999999999997).
    const step = (x: number, up: boolean) => {
      const word = new BigInt64Array(new Float64Array([x]).buffer);
      word[0] += x > 0 === up ? 1n : -1n;
      return new Float64Array(word.buffer)[0];
    };
    for (let k = -1000; k <= 1000; k++)
      for (const x of [k * I, k * I + 1e-9, k * I - 1e-9, k, k + 0.5])
        expect(Object.is(intervalOffset(x), remainders(x))).toBe(true);
    for (let k = -1000; k <= 1000; k++)
      for (const x of k === 0 ? [] : [step(k * I, true), step(k * I, false)])
        expect(Object.is(intervalOffset(x), remainders(x))).toBe(true);
  });
});

describe("link layer: receptions drawn by count", () => {
  // 32 m in hand: beyond the distance where shadowing is cached, so every advertisement gets a
  // fresh shadowing and fading draw in the per-advertisement model, and ~1.5 % are heard.
  it("a far pair's sampled receptions match the per-advertisement model's expected count and RSSI", () => {
    const scenario = twoPhones(32);
    const durationS = 12 * 3600;
    let sightings = 0;
    let rssiSum = 0;
    const run = runSimulation(scenario, {
      seed: 5,
      durationS,
      onSighting: (_r, s) => {
        sightings++;
        rssiSum += s.rssiDbm;
      },
    });
    // The per-advertisement model: Propagation.rssiDbm drawn event by event on the same world.
    const world = buildWorld(scenario, { seed: 9 });
    let heard = 0;
    let heardSum = 0;
    const draws = 2_000_000;
    for (let k = 0; k < draws; k++) {
      const rssi = world.propagation.rssiDbm(k & 1, 1 - (k & 1), 37);
      if (rssi !== undefined) {
        heard++;
        heardSum += rssi;
      }
    }
    const pEvent = heard / draws;
    expect(pEvent).toBeGreaterThan(0.003);
    expect(pEvent).toBeLessThan(0.05);
    const events = run.counts.advertisingEventsHeardAt;
    // Every event of both phones during the whole run: 2 x duration / interval.
    expect(Math.abs(events - (2 * durationS * 1000) / ADVERTISING_INTERVAL_MS)).toBeLessThan(4);
    const collisionP = 1 - Math.exp((-2 * PDU_AIRTIME_MS) / ADVERTISING_INTERVAL_MS);
    const expected = events * pEvent * (1 - collisionP);
    // Binomial sd of the run, plus the Monte Carlo estimate's own error (relative).
    const sd = Math.sqrt(expected) + expected * Math.sqrt((1 - pEvent) / (pEvent * draws));
    expect(Math.abs(sightings - expected)).toBeLessThan(4 * sd);
    expect(run.counts.sightings).toBe(sightings);
    expect(run.counts.belowSensitivity + run.counts.collisions + sightings).toBe(events);
    // Received RSSI: same conditional distribution (mean within a few tenths of a dB).
    expect(Math.abs(rssiSum / sightings - heardSum / heard)).toBeLessThan(0.25);
  });

  it("a near pair is heard at almost every advertisement, with its counts adding up", () => {
    const run = runSimulation(twoPhones(1), { seed: 2, durationS: 600 });
    const c = run.counts;
    expect(c.advertisingEventsHeardAt).toBeGreaterThan(4000);
    expect(c.belowSensitivity).toBe(0);
    expect(c.sightings + c.collisions).toBe(c.advertisingEventsHeardAt);
  });

  it("is deterministic on the plaza too (far pairs dominate there)", () => {
    const digest = () => {
      let h = 0;
      const run = runSimulation(builtPlaza(), {
        seed: 4,
        agents: 300,
        durationS: 120,
        onSighting: (r, s) => {
          h = (Math.imul(h, 31) + r * 7 + s.rssiDbm + s.atMs + s.id[0]) | 0;
        },
      });
      return [h, run.counts.sightings];
    };
    expect(digest()).toEqual(digest());
  });
});

function builtPlaza() {
  return validateScenario({
    name: "small-plaza",
    durationS: 120,
    channel: "herald-only",
    geometry: { area: { xM: 0, yM: 0, widthM: 110, heightM: 110 } },
    agents: [
      {
        role: "walker",
        count: 300,
        mobility: { kind: "random-waypoint", speedMps: [0.9, 1.5], pauseS: [0, 60] },
        carry: { hand: 0.3, pocket: 0.5, bag: 0.2 },
      },
    ],
    protocolMix: { gaen: 0.8, bluezone: 0.2 },
    scanning: "continuous",
  });
}

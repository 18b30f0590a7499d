import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulateRun } from "../../../sim/pipeline/simulate-run.js";
import { Agents } from "../../../sim/world/agents.js";
import {
  channelPropagation,
  DEFAULT_CHANNEL,
  nominalDeviceDb,
  resolveChannelProfile,
} from "../../../sim/world/channel-propagation.js";
import { CHANNEL_PROFILES, heraldOnlyProfile } from "../../../sim/world/channel-profiles.js";
import {
  type ChannelProfile,
  linkDistribution,
  linkMeanDbm,
} from "../../../sim/world/channel-v2.js";
import {
  DEFAULT_PROPAGATION,
  gaussianFadingTableDb,
  Propagation,
  pathLossDb,
  receptionRangeM,
} from "../../../sim/world/propagation.js";
import { builtInScenario, loadScenario } from "../../../sim/world/scenario.js";
import { SpatialGrid } from "../../../sim/world/spatial-grid.js";
import { ConfigError } from "../../../src/core/errors.js";
import { SeededRandom } from "../../../src/core/random.js";

const v2 = CHANNEL_PROFILES.v2;

/** `pairs` still pairs of hand-held nominal phones `distanceM` apart, rows 50 m apart. */
function stillPairs(profile: ChannelProfile, distanceM: number, pairs: number, seed = 1) {
  const agents = new Agents(2 * pairs);
  for (let k = 0; k < pairs; k++) {
    agents.add({ xM: 0, yM: 50 * k });
    agents.add({ xM: distanceM, yM: 50 * k });
  }
  const grid = new SpatialGrid(agents, { xM: -10, yM: -10, widthM: 40, heightM: 50 * pairs }, 5);
  grid.rebuild();
  const propagation = new Propagation(agents, grid, new SeededRandom(seed).fork(), {
    ...DEFAULT_PROPAGATION,
    ...channelPropagation(profile),
  });
  propagation.onStep(0);
  return propagation;
}

describe("channel profiles in the simulator", () => {
  it("herald-only maps to no override: DEFAULT_PROPAGATION as before", () => {
    expect(channelPropagation(CHANNEL_PROFILES["herald-only"])).toEqual({});
    // A copy of it (as from a file) maps onto the same numbers as the defaults.
    const copy = JSON.parse(JSON.stringify(heraldOnlyProfile())) as ChannelProfile;
    const mapped = { ...DEFAULT_PROPAGATION, ...channelPropagation(copy) };
    expect(mapped).toEqual(DEFAULT_PROPAGATION);
  });

  it("v2 maps its terms: two slopes, Gaussian fading, carry losses, nominal device", () => {
    const p = { ...DEFAULT_PROPAGATION, ...channelPropagation(v2) };
    const p0 = -v2.refPowerDbm.value;
    const n = v2.exponentNear.value;
    expect(p.breakpointM).toBe(6);
    expect(p.exponentNear).toBe(n);
    expect(p.exponentFar).toBe(3);
    expect(p.fadingSigmaDb).toBe(v2.fading.value.kind === "gaussian" ? v2.fading.value.sigmaDb : 0);
    expect(p.carryLossDb).toEqual([0, v2.carryLossDb.value.pocket, v2.carryLossDb.value.bag]);
    expect(nominalDeviceDb(v2)).toBe(-19);
    expect(p.refPathLossDb).toBeCloseTo(p0 + 19, 9);
    expect(pathLossDb(5, p)).toBeCloseTo(p0 + 19 + 10 * n * Math.log10(5), 9);
    expect(pathLossDb(60, p)).toBeCloseTo(p0 + 19 + 10 * n * Math.log10(6) + 30, 9);
    expect(Number.isFinite(receptionRangeM(p))).toBe(true);
    const table = gaussianFadingTableDb(4.92);
    const mean = table.reduce((a, b) => a + b, 0) / table.length;
    const sd = Math.sqrt(table.reduce((a, b) => a + (b - mean) ** 2, 0) / table.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(sd).toBeCloseTo(4.92, 1);
  });

  it("v2: a still pair's mean RSSI at 2 m matches the profile's formula", () => {
    const pairs = 3000;
    const link = {
      distanceM: 2,
      environment: "office" as const,
      txCarry: "hand" as const,
      rxCarry: "hand" as const,
      txDeviceDb: -24,
      rxDeviceDb: 5,
    };
    const expected = linkMeanDbm(v2, link);
    const propagation = stillPairs(v2, 2, pairs);
    let sum = 0;
    let sum2 = 0;
    for (let k = 0; k < pairs; k++) {
      const m = propagation.meanRssiDbm(2 * k, 2 * k + 1);
      sum += m;
      sum2 += m * m;
    }
    const mean = sum / pairs;
    const sd = Math.sqrt(sum2 / pairs - mean * mean);
    // Shadowing σ 6.84 over 3000 pairs: standard error 0.12 dB.
    expect(mean).toBeCloseTo(expected, 0);
    expect(Math.abs(mean - expected)).toBeLessThan(0.5);
    expect(sd).toBeGreaterThan(6.4);
    expect(sd).toBeLessThan(7.3);
    // Per advertisement (shadowing and Gaussian fading, rounded): the profile's distribution.
    const dist = linkDistribution(v2, link);
    let s = 0;
    let s2 = 0;
    let n = 0;
    for (let k = 0; k < pairs; k++) {
      const r = propagation.rssiDbm(2 * k, 2 * k + 1, 37);
      if (r === undefined) continue;
      s += r;
      s2 += r * r;
      n++;
    }
    // Readings below the sensitivity (−100 dBm, 3.2 σ below the mean here) are not received.
    expect(n).toBeGreaterThan(pairs * 0.995);
    expect(Math.abs(s / n - dist.meanDbm)).toBeLessThan(0.6);
    expect(Math.sqrt(s2 / n - (s / n) ** 2)).toBeCloseTo(dist.sdDb, 0);
  });

  it("v2 runs deterministically (same seed, same bytes)", () => {
    const scenario = builtInScenario("classroom");
    const run = () => simulateRun(scenario, { seed: 3, agents: 8, durationS: 300, channel: "v2" });
    const a = run();
    const b = run();
    expect(JSON.stringify(a.sightings)).toBe(JSON.stringify(b.sightings));
    expect(a.meta.channel).toBe("v2");
    // The phones apply the calibration table's default correction, as real phones do.
    expect(a.meta.rxRssiCorrectionDb).toBe(-5);
    const herald = simulateRun(scenario, {
      seed: 3,
      agents: 8,
      durationS: 300,
      channel: "herald-only",
    });
    expect(JSON.stringify(herald.sightings)).not.toBe(JSON.stringify(a.sightings));
    expect(herald.meta.channel).toBeUndefined();
    expect(herald.meta.rxRssiCorrectionDb).toBeUndefined();
  });

  it("v2 is the default channel: no --channel gives --channel v2's bytes", () => {
    expect(DEFAULT_CHANNEL).toBe("v2");
    const scenario = builtInScenario("classroom");
    const base = simulateRun(scenario, { seed: 3, agents: 8, durationS: 300 });
    const explicit = simulateRun(scenario, { seed: 3, agents: 8, durationS: 300, channel: "v2" });
    expect(explicit.sightingCount).toBeGreaterThan(0);
    expect(JSON.stringify(explicit.sightings)).toBe(JSON.stringify(base.sightings));
    expect(JSON.stringify(explicit.meta)).toBe(JSON.stringify(base.meta));
  });

  it("the plaza keeps herald-only (distances far beyond v2's data); --channel v2 overrides", () => {
    expect(builtInScenario("plaza").channel).toBe("herald-only");
    const plaza = simulateRun(builtInScenario("plaza"), { seed: 1, agents: 20, durationS: 60 });
    expect(plaza.meta.channel).toBeUndefined();
    const v2run = simulateRun(builtInScenario("plaza"), {
      seed: 1,
      agents: 20,
      durationS: 60,
      channel: "v2",
    });
    expect(v2run.meta.channel).toBe("v2");
  });

  it("bad names and files are ConfigErrors (E_CHANNEL); a profile file loads", () => {
    expect(() => resolveChannelProfile("v3")).toThrow(ConfigError);
    expect(() => resolveChannelProfile("v3")).toThrow(
      /no such profile or file.*names: v2, herald-only/,
    );
    const dir = mkdtempSync(join(tmpdir(), "proxkit-channel-"));
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{not json");
    expect(() => resolveChannelProfile(broken)).toThrow(ConfigError);
    const partial = join(dir, "partial.json");
    writeFileSync(partial, JSON.stringify({ ...v2, exponentNear: undefined }));
    expect(() => resolveChannelProfile(partial)).toThrow(/exponentNear/);
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify({ ...v2, name: "mine" }));
    expect(resolveChannelProfile(good).name).toBe("mine");
    try {
      resolveChannelProfile("nope");
    } catch (e) {
      expect((e as ConfigError).code).toBe("E_CHANNEL");
    }
  });

  it("the scenario's environment adds the profile's offset", () => {
    const withEnv = {
      ...v2,
      environmentOffsetDb: { value: { vehicle: -3 }, source: "test" },
    } as ChannelProfile;
    const base = channelPropagation(withEnv).refPathLossDb!;
    expect(channelPropagation(withEnv, "vehicle").refPathLossDb).toBeCloseTo(base + 3, 9);
    expect(channelPropagation(withEnv, "office").refPathLossDb).toBe(base);
    const doc = { ...builtInScenario("classroom"), environment: "submarine" };
    expect(() => loadScenario(doc)).toThrow(/environment/);
    expect(() => loadScenario({ ...builtInScenario("classroom"), channel: "v9" })).toThrow(
      /channel/,
    );
    expect(loadScenario({ ...builtInScenario("classroom"), channel: "v2" }).channel).toBe("v2");
  });

  it("a scenario's channel is validated and used; the option overrides it", () => {
    const scenario = { ...builtInScenario("classroom"), channel: "v2" };
    const fromScenario = simulateRun(scenario, { seed: 3, agents: 8, durationS: 120 });
    expect(fromScenario.meta.channel).toBe("v2");
    const overridden = simulateRun(scenario, {
      seed: 3,
      agents: 8,
      durationS: 120,
      channel: "herald-only",
    });
    expect(overridden.meta.channel).toBeUndefined();
  });
});

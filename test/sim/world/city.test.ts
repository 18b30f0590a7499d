import { describe, expect, it } from "vitest";
import { CityDay } from "../../../sim/world/mobility/city-day.js";
import { BUILT_IN_SCENARIOS, builtInScenario } from "../../../sim/world/scenario.js";
import { buildWorld } from "../../../sim/world/world.js";

describe("city scenario", () => {
  it("is a built-in made of venues out of radio range of each other", () => {
    expect(BUILT_IN_SCENARIOS).toContain("city");
    const world = buildWorld(builtInScenario("city"), { agents: 3000 });
    expect(world.agents.count).toBe(3000);
    expect(world.venueOf).toBeDefined();
    const city = world.models.find((m) => m instanceof CityDay) as CityDay;
    // Every present agent is inside its venue; venues are further apart than anyone hears.
    for (let i = 0; i < world.agents.count; i++) {
      const v = world.venueOf![i];
      expect(v >= 0).toBe(world.agents.present[i] === 1);
      if (v < 0) continue;
      const r = city.rectOf(v);
      expect(world.agents.xM[i]).toBeGreaterThanOrEqual(r.xM - 0.5);
      expect(world.agents.xM[i]).toBeLessThanOrEqual(r.xM + r.widthM + 0.5);
    }
    const a = city.rectOf(0);
    const b = city.rectOf(1);
    const gap = Math.max(b.xM - (a.xM + a.widthM), b.yM - (a.yM + a.heightM));
    expect(gap).toBeGreaterThan(world.receptionRangeM);
  });

  it("moves people from home by tram to offices and classrooms over the morning", () => {
    const world = buildWorld(builtInScenario("city"), { agents: 2000, seed: 3 });
    const city = world.models.find((m) => m instanceof CityDay) as CityDay;
    const kindsAt = () => {
      const n = [0, 0, 0, 0, 0];
      for (let i = 0; i < world.agents.count; i++) {
        const v = world.venueOf![i];
        if (v >= 0) n[city.venueKind[v]]++;
      }
      return n;
    };
    const before = kindsAt();
    let trams = 0;
    for (let s = 0; s < 3600; s++) {
      world.step(1000);
      if (s % 300 === 0) trams = Math.max(trams, kindsAt()[3]);
    }
    const after = kindsAt();
    expect(before[0]).toBeGreaterThan(after[0]); // fewer at home
    expect(after[1] + after[2]).toBeGreaterThan(before[1] + before[2] + 500); // at work or school
    expect(trams).toBeGreaterThan(50);
  });

  it("is deterministic from the seed", () => {
    const at = (seed: number) => {
      const world = buildWorld(builtInScenario("city"), { agents: 500, seed });
      for (let s = 0; s < 120; s++) world.step(1000);
      return Array.from(world.agents.xM.subarray(0, 500));
    };
    expect(at(5)).toEqual(at(5));
    expect(at(5)).not.toEqual(at(6));
  });

  it("builds a world of 70,000 agents (past the old 65,535 limit)", () => {
    const world = buildWorld(builtInScenario("city"), { agents: 70_000, groundTruth: false });
    expect(world.agents.count).toBe(70_000);
    world.step(1000);
  }, 60_000);
});

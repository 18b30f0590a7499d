import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILT_IN_SCENARIOS, builtInScenario, loadScenario } from "../../../sim/world/scenario.js";
import { buildWorld } from "../../../sim/world/world.js";
import { ConfigError } from "../../../src/core/errors.js";

const minimal = {
  name: "room",
  durationS: 60,
  geometry: { area: { xM: 0, yM: 0, widthM: 10, heightM: 10 } },
  agents: [{ role: "walker", count: 5, mobility: { kind: "random-waypoint" } }],
  protocolMix: { gaen: 1 },
  scanning: "gaen",
};

function errorOf(doc: unknown): ConfigError {
  try {
    loadScenario(doc as object);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("scenarios", () => {
  it("loads every built-in and builds its world", () => {
    expect(BUILT_IN_SCENARIOS).toEqual([
      "tram",
      "bus",
      "classroom",
      "checkpoint-queue",
      "office",
      "plaza",
      "city",
      "epfl-lunch",
      "epfl-train",
      "epfl-office",
      "epfl-queue",
      "epfl-party",
    ]);
    // The EPFL replays read ../shared/data: test/sim/world/trajectory.test.ts loads them.
    for (const name of BUILT_IN_SCENARIOS.filter((n) => !n.startsWith("epfl-"))) {
      const scenario = builtInScenario(name);
      expect(scenario.name).toBe(name);
      const world = buildWorld(scenario, {
        agents: name === "plaza" ? 200 : name === "city" ? 1000 : undefined,
      });
      for (let s = 0; s < 30; s++) world.step(1000);
      expect(world.agents.presentCount()).toBeGreaterThan(0);
    }
  });

  it("names the unknown built-in and lists the others", () => {
    expect(() => builtInScenario("train")).toThrow(/unknown scenario "train".*tram, bus/);
  });

  it("reads JSON text and files", () => {
    expect(loadScenario(JSON.stringify(minimal)).name).toBe("room");
    const dir = mkdtempSync(join(tmpdir(), "proxkit-scenario-"));
    const path = join(dir, "room.json");
    writeFileSync(path, JSON.stringify(minimal));
    expect(loadScenario(path).agents[0].count).toBe(5);
    expect(() => loadScenario(join(dir, "missing.json"))).toThrow(ConfigError);
    expect(() => loadScenario("{ not json")).toThrow(/not valid JSON/);
  });

  it("errors name the field at fault", () => {
    expect(errorOf({ ...minimal, durationS: -1 }).message).toMatch(
      /"room": durationS must be above 0/,
    );
    expect(
      errorOf({ ...minimal, geometry: { area: { xM: 0, yM: 0, widthM: 0, heightM: 1 } } }).message,
    ).toMatch(/geometry\.area\.widthM/);
    expect(
      errorOf({ ...minimal, agents: [{ role: "x", count: 1, mobility: { kind: "teleport" } }] })
        .message,
    ).toMatch(/agents\[0\]\.mobility\.kind must be one of stationary, seated/);
    expect(errorOf({ ...minimal, protocolMix: { gaen: 0.5 } }).message).toMatch(
      /protocolMix shares must add up to 1/,
    );
    expect(errorOf({ ...minimal, protocolMix: { zoom: 1 } }).message).toMatch(
      /protocolMix key "zoom"/,
    );
    expect(errorOf({ ...minimal, scanning: "sometimes" }).message).toMatch(
      /scanning must be one of gaen, bluezone, continuous/,
    );
    expect(
      errorOf({ ...minimal, agents: [{ role: "x", count: 1, mobility: { kind: "boarding" } }] })
        .message,
    ).toMatch(/agents\[0\]\.mobility\.kind "boarding" needs at least two schedule\.stops/);
    expect(
      errorOf({
        ...minimal,
        agents: [{ role: "x", count: 1, mobility: { kind: "stationary", at: "door" } }],
      }).message,
    ).toMatch(/agents\[0\]\.mobility\.at names no point of geometry\.points: "door"/);
    expect(
      errorOf({ ...minimal, agents: [{ role: "x", count: 1.5, mobility: { kind: "seated" } }] })
        .message,
    ).toMatch(/agents\[0\]\.count must be an integer/);
    expect(errorOf({ ...minimal, propagation: { bogus: 1 } }).message).toMatch(
      /propagation\.bogus/,
    );
    expect(
      errorOf({ ...minimal, agents: [{ ...minimal.agents[0], carry: { hand: 0.5 } }] }).message,
    ).toMatch(/agents\[0\]\.carry shares must add up to 1/);
    expect(errorOf([]).message).toMatch(/scenario must be an object/);
  });

  it("an agent-count override scales the non-fixed groups and, for the plaza, the square", () => {
    const classroom = builtInScenario("classroom");
    const world = buildWorld(classroom, { agents: 21 });
    expect(world.groups.map((g) => g.count)).toEqual([20, 1]);
    expect(() => buildWorld(classroom, { agents: 60 })).toThrow(
      /agents\[0\]\.count 59 needs seats/,
    );
    const plaza = buildWorld(builtInScenario("plaza"), { agents: 4000 });
    expect(plaza.agents.count).toBe(4000);
    expect(plaza.scale).toBeCloseTo(2, 9);
    let maxX = 0;
    for (let i = 0; i < plaza.agents.count; i++) maxX = Math.max(maxX, plaza.agents.xM[i]);
    expect(maxX).toBeGreaterThan(300);
    expect(maxX).toBeLessThanOrEqual(400 + 1e-9);
  });

  it("assigns carry positions and protocols by the mix", () => {
    const world = buildWorld(builtInScenario("plaza"), { agents: 4000, seed: 2 });
    const protocols = [0, 0, 0];
    const carry = [0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      protocols[world.agents.protocolIndex[i]]++;
      carry[world.agents.carry[i]]++;
    }
    expect(protocols[0] / 4000).toBeCloseTo(0.8, 1);
    expect(protocols[1]).toBe(0);
    expect(carry[1] / 4000).toBeCloseTo(0.5, 1);
  });
});

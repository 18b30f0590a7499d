import { describe, expect, it } from "vitest";
import { benchWorld } from "../../../sim/world/bench-world.js";
import { builtInScenario } from "../../../sim/world/scenario.js";
import { buildWorld } from "../../../sim/world/world.js";

function run(seed: number, name: string, agents?: number) {
  const world = buildWorld(builtInScenario(name), { seed, agents, deviceCount: 4 });
  const out = new Int32Array(world.agents.capacity);
  const rssi: (number | undefined)[] = [];
  for (let s = 0; s < 120; s++) {
    world.step(1000);
    for (let rx = 0; rx < world.agents.count; rx += 7) {
      if (!world.agents.present[rx]) continue;
      const n = world.radioGrid.neighboursOf(rx, world.receptionRangeM, out);
      for (let k = 0; k < Math.min(n, 5); k++)
        rssi.push(world.propagation.rssiDbm(out[k], rx, 37 + (k % 3)));
    }
  }
  return { world, positions: [...world.agents.xM, ...world.agents.yM], rssi };
}

describe("World", () => {
  it("is deterministic: same seed, same positions and RSSI streams", () => {
    for (const name of ["tram", "plaza", "checkpoint-queue"]) {
      const a = run(5, name, name === "plaza" ? 300 : undefined);
      const b = run(5, name, name === "plaza" ? 300 : undefined);
      const c = run(6, name, name === "plaza" ? 300 : undefined);
      expect(a.positions).toEqual(b.positions);
      expect(a.rssi).toEqual(b.rssi);
      expect(a.rssi.filter((x) => x !== undefined).length).toBeGreaterThan(10);
      expect(c.positions).not.toEqual(a.positions);
    }
  });

  it("a tram carries 60-120 passengers between stops and yields close contacts", () => {
    const world = buildWorld(builtInScenario("tram"), { seed: 3 });
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let s = 1; s <= 1440; s++) {
      world.step(1000);
      if (
        s > 150 &&
        s < 1300 &&
        world.scenario.schedule.stops.every((st) => s < st.atS || s > st.atS + st.dwellS)
      ) {
        const n = world.agents.presentCount();
        min = Math.min(min, n);
        max = Math.max(max, n);
      }
    }
    expect(min).toBeGreaterThanOrEqual(40);
    expect(max).toBeLessThanOrEqual(137);
    expect(max).toBeGreaterThanOrEqual(60);
    expect(world.groundTruth!.closeContacts().length).toBeGreaterThan(0);
  });

  it("benchWorld reports timings", () => {
    const r = benchWorld(300, 5);
    expect(r.rssiCalls).toBeGreaterThan(0);
    expect(r.received).toBeGreaterThan(0);
    expect(r.totalMs).toBeGreaterThan(0);
    expect(r.bytesPerAgent).toBeGreaterThan(0);
  });
});

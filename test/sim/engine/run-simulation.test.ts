import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runSimulation } from "../../../sim/engine/run-simulation.js";
import { builtInScenario } from "../../../sim/world/scenario.js";
import { toHex } from "../../../src/core/hex.js";
import type { Sighting } from "../../../src/signal/sighting.js";

function digest(seed: number) {
  const hash = createHash("sha256");
  let n = 0;
  const run = runSimulation(builtInScenario("classroom"), {
    seed,
    durationS: 600,
    onSighting: (receiver, s) => {
      n++;
      hash.update(`${receiver} ${s.atMs} ${toHex(s.id)} ${s.rssiDbm} ${s.channel}\n`);
    },
  });
  return { hex: hash.digest("hex"), n, run };
}

describe("runSimulation", () => {
  it("hands a copying callee one reused object per shape, with the same sightings field for field", () => {
    const fields = (reuse: boolean) => {
      const seen: string[] = [];
      const objects = new Set<Sighting>();
      runSimulation(builtInScenario("tram"), {
        seed: 4,
        agents: 30,
        durationS: 600,
        reuseSightings: () => reuse,
        onSighting: (receiver, s, sender) => {
          objects.add(s);
          seen.push(
            `${receiver} ${sender} ${s.atMs} ${s.protocol} ${toHex(s.id)} ${s.aem ? toHex(s.aem) : "-"} ${s.rssiDbm} ${s.channel} ${Object.keys(s).join(",")}`,
          );
        },
      });
      return { seen, objects: objects.size };
    };
    const fresh = fields(false);
    const reused = fields(true);
    expect(fresh.seen.length).toBeGreaterThan(500);
    expect(reused.seen).toEqual(fresh.seen);
    expect(fresh.objects).toBe(fresh.seen.length);
    expect(reused.objects).toBeLessThanOrEqual(2);
  });

  it("is deterministic: same seed, byte-identical sightings; another seed differs", () => {
    const a = digest(7);
    const b = digest(7);
    expect(a.n).toBeGreaterThan(0);
    expect(a.hex).toBe(b.hex);
    expect(digest(8).hex).not.toBe(a.hex);
  });

  it("in a classroom with GAEN cadence, every phone hears its neighbours during its 4 s scans only", () => {
    const perReceiver = new Map<number, Sighting[]>();
    const run = runSimulation(builtInScenario("classroom"), {
      seed: 3,
      durationS: 900,
      onSighting: (r, s) => perReceiver.set(r, [...(perReceiver.get(r) ?? []), s]),
    });
    expect(run.counts.sightings).toBeGreaterThan(0);
    // Everyone in a 9 m x 10 m room hears someone within 15 minutes (at least 3 scans).
    expect(perReceiver.size).toBe(run.world.agents.count);
    for (const sightings of perReceiver.values()) {
      const times = sightings.map((s) => s.atMs).sort((x, y) => x - y);
      // Scans are 4 s long: sightings cluster in bursts no longer than 4 s, separated by minutes.
      let burstStart = times[0];
      for (let i = 1; i < times.length; i++) {
        if (times[i] - times[i - 1] > 60_000) burstStart = times[i];
        expect(times[i] - burstStart).toBeLessThanOrEqual(4_000);
      }
      for (const s of sightings) {
        expect(s.protocol).toBe("gaen");
        expect(s.rssiDbm).toBeLessThanOrEqual(-20);
        expect(s.rssiDbm).toBeGreaterThanOrEqual(-100);
      }
    }
  });

  it("rejects a nonsense duration", () => {
    expect(() => runSimulation(builtInScenario("classroom"), { durationS: -5 })).toThrow(
      /duration/,
    );
  });
});

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { runSimulation } from "../../../sim/engine/run-simulation.js";
import { builtInScenario } from "../../../sim/world/scenario.js";
import { DIST } from "../../support/dist.js";

// Shards run compiled JavaScript in worker threads: compared in a child process on dist/, which
// test/global-setup.ts builds from the current sources before any test file runs.
const dist = join(DIST, "sim/engine/run-simulation.js");

describe("link layer: venue shards", () => {
  it("hears a small city in this thread, deterministically", () => {
    const digest = () => {
      let h = 0;
      const run = runSimulation(builtInScenario("city"), {
        seed: 2,
        agents: 600,
        durationS: 120,
        onSighting: (r, s, t) => {
          h = (Math.imul(h, 31) + r * 7 + t * 13 + s.rssiDbm + s.atMs) | 0;
        },
      });
      return [h, run.counts.sightings];
    };
    const [h, sightings] = digest();
    expect(sightings).toBeGreaterThan(100);
    expect(digest()).toEqual([h, sightings]);
  });

  it("gives the same sightings, in the same order, for 0, 1 and 2 worker threads, and exits", () => {
    const scenarioUrl = pathToFileURL(join(DIST, "sim/world/scenario.js")).href;
    const script = `
        import { createHash } from "node:crypto";
        import { runSimulation } from ${JSON.stringify(pathToFileURL(dist).href)};
        import { builtInScenario } from ${JSON.stringify(scenarioUrl)};
        const out = [];
        for (const workers of [0, 1, 2]) {
          const hash = createHash("sha256");
          const truth = createHash("sha256");
          const steps = [];
          const run = runSimulation(builtInScenario("city"), {
            seed: 3, agents: 1500, durationS: 300, workers,
            groundTruth: { rangeM: 5, onSample: (a, b, d, t) => truth.update(a + " " + b + " " + d + " " + t + "\\n") },
            onSighting: (r, s, t) => hash.update(r + " " + t + " " + s.atMs + " " + Buffer.from(s.id).toString("hex") + " " + s.rssiDbm + " " + s.channel + "\\n"),
            onStepEnd: (atMs) => steps.push(atMs),
          });
          out.push({ hash: hash.digest("hex"), truth: truth.digest("hex"), steps: steps.length, ...run.counts });
        }
        console.log(JSON.stringify(out));`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    const [w0, w1, w2] = JSON.parse(child.stdout);
    expect(w0.sightings).toBeGreaterThan(1000);
    expect(w1).toEqual(w0);
    expect(w2).toEqual(w0);
  }, 150_000);
});

import { describe, expect, it } from "vitest";
import { SCAN_CADENCES } from "../../../sim/engine/link-layer.js";
import { defaultDetectors, detectContacts } from "../../../sim/pipeline/detect-contacts.js";
import { simulateRun } from "../../../sim/pipeline/simulate-run.js";
import { builtInScenario, loadScenario } from "../../../sim/world/scenario.js";
import { CONTINUOUS_SCAN_PERIOD_MS } from "../../../src/exposure/exposure-window-builder.js";

/** Two phones in hand 1 m apart for 20 minutes, scanning as `scanning` says. */
function pairAtOneMetre(scanning: string) {
  return loadScenario({
    name: `pair-${scanning}`,
    description: "two phones 1 m apart",
    channel: "herald-only",
    durationS: 1200,
    geometry: {
      area: { xM: 0, yM: 0, widthM: 10, heightM: 10 },
      points: { a: { xM: 4, yM: 5 }, b: { xM: 5, yM: 5 } },
    },
    agents: [
      {
        role: "a",
        count: 1,
        fixed: true,
        carry: { hand: 1 },
        mobility: { kind: "stationary", at: "a" },
      },
      {
        role: "b",
        count: 1,
        fixed: true,
        carry: { hand: 1 },
        mobility: { kind: "stationary", at: "b" },
      },
    ],
    protocolMix: { gaen: 1 },
    scanning,
  });
}

const detectors = defaultDetectors(["proxkit", "cwa-v1"]);

describe("detectContacts: scan instances of continuous and duty-cycled receivers", () => {
  it("a one-minute limit never cuts a duty-cycled scan: every duty cycle scans for less", () => {
    for (const [name, cadence] of Object.entries(SCAN_CADENCES))
      if (name !== "continuous") expect(cadence.windowMs).toBeLessThan(CONTINUOUS_SCAN_PERIOD_MS);
  });

  it("leaves duty-cycled receivers (GAEN and Bluezone cadences) exactly as the EN API", () => {
    for (const [scenario, seed] of [
      ["classroom", 5],
      ["bus", 2],
    ] as const) {
      const run = simulateRun(builtInScenario(scenario), { seed, agents: 12, durationS: 1200 });
      const exact = detectContacts(run, { maxScanInstanceMs: Number.POSITIVE_INFINITY });
      expect(exact.length).toBeGreaterThan(0);
      expect(detectContacts(run)).toEqual(exact);
    }
  });

  it("gives a continuous scanner one-minute scans, so 20 minutes together count about 20", () => {
    const run = simulateRun(pairAtOneMetre("continuous"), { seed: 3 });
    const minutes = (maxScanInstanceMs?: number) =>
      detectContacts(run, { presets: detectors, maxScanInstanceMs })
        .filter((d) => d.receiver === 0)
        .map((d) => [d.detector, d.estimatedMinutes]);
    // The EN API's rule alone: heard every second, the whole stay is one scan per window.
    expect(minutes(Number.POSITIVE_INFINITY)).toEqual([
      ["proxkit", 2],
      ["cwa-v1", 2],
    ]);
    const [[, proxkit], [, cwa]] = minutes();
    // 20 one-minute scans: the first counts 120 s (previous scan unknown), the rest 60 s each.
    expect(cwa).toBe(21);
    // Our detector credits the real time between scans (and the median gap to the first).
    expect(proxkit).toBeGreaterThanOrEqual(19.5);
    expect(proxkit).toBeLessThanOrEqual(20.5);
  });

  it("leaves a duty-cycled pair's minutes to its scans", () => {
    const run = simulateRun(pairAtOneMetre("gaen"), { seed: 3 });
    const exact = detectContacts(run, {
      presets: detectors,
      maxScanInstanceMs: Number.POSITIVE_INFINITY,
    });
    expect(detectContacts(run, { presets: detectors })).toEqual(exact);
  });
});

import { describe, expect, it } from "vitest";
import {
  type DetectionRow,
  defaultDetectors,
  detectContacts,
} from "../../../sim/pipeline/detect-contacts.js";
import { type SimulateRunOptions, simulateRun } from "../../../sim/pipeline/simulate-run.js";
import { decisionRows, StreamingDetector } from "../../../sim/pipeline/stream-detect.js";
import { builtInScenario } from "../../../sim/world/scenario.js";
import type { DayKey } from "../../../src/protocols/rolling-id-scheme.js";

/**
 * The streamed detection (matching chunk by chunk as the run goes, windows kept compactly,
 * every pair scored at the end) against `detectContacts` on the same run's stored sightings.
 */
function both(
  scenario: string,
  options: SimulateRunOptions,
  chunkMs?: number,
  spillAfterScans?: number,
  sweepMinHandles?: number,
) {
  const detectors = defaultDetectors();
  let detector: StreamingDetector | undefined;
  let keysNow: ((agent: number) => readonly DayKey[]) | undefined;
  const data = simulateRun(builtInScenario(scenario), options, {
    start: ({ meta, indexCases, protocolOf }) => {
      detector = new StreamingDetector({
        presets: detectors,
        startMs: meta.startMs,
        agents: meta.agents,
        indexCases,
        protocolOf,
        rxRssiCorrectionDb: meta.rxRssiCorrectionDb ?? 0,
        chunkMs,
        spillAfterScans,
        sweepMinHandles,
      });
    },
    sighting: (receiver, s) => detector!.sighting(receiver, s),
    stepEnd: (atMs, keysOf) => {
      keysNow = keysOf;
      detector!.advanceTo(atMs, keysOf);
    },
  });
  const rows: DetectionRow[] = [];
  const spans = new Map<string, [number, number][]>();
  detector!.finish(keysNow!, {
    decisions: (index, receiver, d) =>
      rows.push(
        ...decisionRows(
          detectors.map((p) => p.name),
          index,
          receiver,
          d,
        ),
      ),
    window: (index, receiver, s, e) => {
      const key = `${index}/${receiver}`;
      spans.set(key, [...(spans.get(key) ?? []), [s, e]]);
    },
  });
  expect(detector!.spilledWindows > 0).toBe(spillAfterScans !== undefined);
  const streamed = rows.map((d) => ({ ...d, windows: spans.get(`${d.index}/${d.receiver}`)! }));
  return {
    streamed,
    inMemory: detectContacts(data, { presets: detectors }),
    data,
    handlesLetGo: detector!.handlesLetGo,
  };
}

describe("streaming detection", () => {
  it("lets idle handles go and gives a key that comes back the same windows (plaza, 2 h)", () => {
    const { streamed, inMemory, handlesLetGo } = both(
      "plaza",
      { seed: 4, agents: 60, durationS: 7200 },
      undefined,
      undefined,
      0,
    );
    expect(handlesLetGo).toBeGreaterThan(100);
    expect(inMemory.length).toBeGreaterThan(100);
    expect(streamed).toEqual(inMemory);
  });

  it("decides every pair as detectContacts does: classroom, GAEN", () => {
    const { streamed, inMemory } = both("classroom", { seed: 3, agents: 25, durationS: 1500 });
    expect(inMemory.length).toBeGreaterThan(100);
    expect(streamed).toEqual(inMemory);
  });

  it("does so with chunks that do not align with GAEN intervals and windows crossing them", () => {
    const { streamed, inMemory } = both("tram", { seed: 2, agents: 40, durationS: 2400 }, 97_000);
    expect(inMemory.length).toBeGreaterThan(100);
    expect(streamed).toEqual(inMemory);
  });

  it("does so for a continuous scanner (checkpoint queue) and for Bluezone and DP-3T", () => {
    for (const protocol of [undefined, "bluezone", "dp3t"] as const) {
      const { streamed, inMemory } = both("checkpoint-queue", {
        seed: 5,
        agents: 30,
        durationS: 1200,
        protocol,
      });
      expect(inMemory.length).toBeGreaterThan(10);
      expect(streamed).toEqual(inMemory);
    }
  });

  it("does so when its windows go to spill files and come back partition by partition", () => {
    const { streamed, inMemory } = both(
      "tram",
      { seed: 6, agents: 60, durationS: 1800 },
      undefined,
      40,
    );
    expect(inMemory.length).toBeGreaterThan(100);
    expect(streamed).toEqual(inMemory);
  });

  it("does so when only some agents publish, across midnight", () => {
    const { streamed, inMemory } = both("classroom", {
      seed: 4,
      agents: 20,
      durationS: 1800,
      indexShare: 0.4,
      startMs: Date.UTC(2021, 0, 4, 23, 45),
    });
    expect(inMemory.length).toBeGreaterThan(20);
    expect(streamed).toEqual(inMemory);
  });
});

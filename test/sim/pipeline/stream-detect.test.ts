import { describe, expect, it } from "vitest";
import {
  type DetectionRow,
  defaultDetectors,
  detectContacts,
} from "../../../sim/pipeline/detect-contacts.js";
import { type SimulateRunOptions, simulateRun } from "../../../sim/pipeline/simulate-run.js";
import { decisionRows, HeardKeys, StreamingDetector } from "../../../sim/pipeline/stream-detect.js";
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

describe("HeardKeys", () => {
  it("answers the same as a bit per pair and as a table of the pairs", () => {
    // 50 receivers, index cases 3, 7, 20 and 41, exposures agent * 16 + day slot.
    const indexCases = [3, 7, 20, 41];
    const bits = new HeardKeys(50, indexCases);
    const table = new HeardKeys(50, indexCases, 0);
    expect(bits.bytes).toBe(Math.ceil((50 * 4 * 16) / 32) * 4);
    const added = new Set<string>();
    let x = 12345;
    for (let k = 0; k < 400; k++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const receiver = x % 50;
      const exposure = indexCases[(x >>> 8) % 4] * 16 + ((x >>> 12) % 16);
      for (const set of [bits, table]) set.add(receiver, exposure);
      added.add(`${receiver}/${exposure}`);
    }
    for (let receiver = 0; receiver < 50; receiver++)
      for (const agent of indexCases)
        for (let slot = 0; slot < 16; slot++) {
          const e = agent * 16 + slot;
          const want = added.has(`${receiver}/${e}`);
          expect([bits.has(receiver, e), table.has(receiver, e)]).toEqual([want, want]);
        }
    expect(() => bits.add(0, 5 * 16)).toThrow(/agent 5 publishes no keys/);
  });
});

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

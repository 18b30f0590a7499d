import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/core/errors.js";
import { PRESET_NAMES } from "../../../src/exposure/risk-preset.js";
import { canonicalJson, expandGrid, runId, shardEntries } from "../../../sim/sweep/grid.js";

describe("sweep grid", () => {
  it("expands every combination in canonical order, seed innermost", () => {
    const grid = expandGrid({
      scenario: ["classroom", "tram"],
      agents: [20, 40],
      seeds: "1-3",
      channel: "v2",
    });
    expect(grid.entries).toHaveLength(12);
    expect(grid.swept).toEqual(["scenario", "agents", "seed"]);
    expect(grid.entries.map((e) => e.index)).toEqual([...Array(12).keys()]);
    expect(
      grid.entries.slice(0, 4).map((e) => [e.params.scenario, e.params.agents, e.params.seed]),
    ).toEqual([
      ["classroom", 20, 1],
      ["classroom", 20, 2],
      ["classroom", 20, 3],
      ["classroom", 40, 1],
    ]);
    const first = grid.entries[0].params;
    expect(first).toMatchObject({
      protocol: "mixed",
      durationS: null,
      channel: "v2",
      presetSet: "all",
    });
    expect(first.presets).toEqual([...PRESET_NAMES]);
  });

  it("gives each run an id from its parameters alone: the same in another grid, distinct in this one", () => {
    const a = expandGrid({ scenario: "classroom", agents: [20, 40], seed: [1, 2] });
    const b = expandGrid({ seeds: { from: 2, to: 2 }, agents: 40, scenario: ["classroom"] });
    expect(new Set(a.entries.map((e) => e.id)).size).toBe(4);
    expect(b.entries[0].id).toBe(a.entries[3].id);
    for (const e of a.entries) expect(e.id).toMatch(/^r[0-9a-f]{15}$/);
    expect(runId(a.entries[0].params)).toBe(a.entries[0].id);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
  });

  it("reads preset sets: a name, a list of names as one set, or all", () => {
    const grid = expandGrid({
      scenario: "classroom",
      seed: 1,
      presets: ["all", "proxkit", ["proxkit", "cwa-v2"]],
    });
    expect(grid.entries.map((e) => [e.params.presetSet, e.params.presets.length])).toEqual([
      ["all", PRESET_NAMES.length],
      ["proxkit", 1],
      ["proxkit+cwa-v2", 2],
    ]);
  });

  it("names every mistake, one line each, as one ConfigError", () => {
    let error: unknown;
    try {
      expandGrid(
        {
          scenario: ["classroom", "atlantis"],
          agents: [20, -1, "x"],
          seed: 1,
          seeds: "1-3",
          channel: "v9",
          presets: ["proxkit", "nope"],
          colour: "red",
        },
        "g.json",
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^g\.json: 7 mistakes:/);
    for (const part of [
      'unknown parameter "colour"',
      '"scenario"[1] must be a built-in scenario',
      '"agents"[1] must be an integer 1..1000000, got -1',
      '"agents"[2] must be an integer 1..1000000, got "x"',
      'give one of "seed" and "seeds", not both',
      '"channel" must be a built-in channel profile (v2, herald-only), got "v9"',
      '"presets"[1] unknown preset "nope"',
    ])
      expect(message).toContain(part);
    expect(() => expandGrid({ agents: 20 })).toThrow(/"scenario" is missing/);
    expect(() => expandGrid({ scenario: "classroom", seed: [1, 1] })).toThrow(/lists 1 twice/);
    expect(() => expandGrid({ scenario: "classroom", seeds: "5-2" })).toThrow(
      /"seeds" must be an integer/,
    );
    expect(() => expandGrid([])).toThrow(/must be a JSON object/);
  });

  it("splits the runs into shards by index modulo the shard count", () => {
    const { entries } = expandGrid({ scenario: "classroom", seeds: "1-7" });
    const shards = [0, 1, 2].map((i) => shardEntries(entries, i, 3).map((e) => e.index));
    expect(shards).toEqual([
      [0, 3, 6],
      [1, 4],
      [2, 5],
    ]);
  });
});

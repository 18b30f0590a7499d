import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runSimulation } from "../../../sim/engine/run-simulation.js";
import { MobilityKind } from "../../../sim/world/agents.js";
import { simulatedDevice } from "../../../sim/world/devices.js";
import { EPFL_SCENARIO_NAMES, EPFL_SCENARIOS } from "../../../sim/world/epfl-scenarios.js";
import { builtInScenario, loadScenario } from "../../../sim/world/scenario.js";
import {
  makeTrack,
  parseCsvTracks,
  parseJsonTracks,
  readTrackFile,
  TrackFileError,
  trackPosition,
} from "../../../sim/world/tracks.js";
import { buildWorld } from "../../../sim/world/world.js";
import { loadCameraTracks } from "../../../src/campaigns/exp05-camera-truth.js";
import { EXP05_SOLDIERS } from "../../../src/campaigns/load-dp3t-exp05.js";
import { ConfigError } from "../../../src/core/errors.js";
import { defaultDataRoot } from "../../../src/io/data-root.js";
import { describeWith, needData } from "../../support/requirements.js";

const at = (
  track: ReturnType<typeof makeTrack>,
  tS: number,
  maxGapS = Number.POSITIVE_INFINITY,
) => {
  const out = { xM: Number.NaN, yM: Number.NaN };
  return trackPosition(track, tS * 1000, maxGapS * 1000, out) ? out : undefined;
};

/** Two walkers and one who leaves: samples at irregular times, one hole, one exit. */
const TRACKS = {
  tracks: {
    a: [
      [0, 0, 0],
      [2, 2, 0],
      [2.5, 2, 1.5],
      [10, 9.5, 1.5],
    ],
    b: [
      [1, 1, 0.5],
      [4, 1, 3.5],
      [30, 4, 3.5],
    ],
    c: [
      [0, 0.3, 0.2],
      [5, 0.7, 0.2],
      [6, null, null],
      [8, 0.7, 0.4],
      [12, 0.7, 0.4],
    ],
  },
};

function scenarioDoc(trackFile: string, extra: object = {}) {
  return {
    name: "replay",
    durationS: 40,
    geometry: { area: { xM: 0, yM: 0, widthM: 10, heightM: 5 } },
    tracks: { file: trackFile, maxGapS: 20 },
    agents: [
      {
        role: "walker",
        device: "Samsung SM-G973F",
        carry: { hand: 1 },
        mobility: { kind: "trajectory", tracks: ["a", "b"] },
      },
      { role: "leaver", count: 1, mobility: { kind: "trajectory", track: "c" } },
    ],
    protocolMix: { gaen: 1 },
    scanning: "continuous",
    ...extra,
  };
}

function tempScenario(extra: object = {}, tracks: object | string = TRACKS, name = "crowd.json") {
  const dir = mkdtempSync(join(tmpdir(), "proxkit-tracks-"));
  writeFileSync(join(dir, name), typeof tracks === "string" ? tracks : JSON.stringify(tracks));
  const path = join(dir, "scenario.json");
  writeFileSync(path, JSON.stringify(scenarioDoc(name, extra)));
  return { dir, path };
}

function trackError(fn: () => unknown): TrackFileError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TrackFileError) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("trajectory tracks", () => {
  const a = makeTrack("a", TRACKS.tracks.a as [number, number, number][]);
  const c = makeTrack("c", TRACKS.tracks.c as [number, number | null, number | null][]);

  it("is exactly at each sample at its time", () => {
    for (const [tS, x, y] of TRACKS.tracks.a) expect(at(a, tS)).toEqual({ xM: x, yM: y });
  });

  it("interpolates linearly between samples", () => {
    expect(at(a, 1)).toEqual({ xM: 1, yM: 0 });
    expect(at(a, 0.5)).toEqual({ xM: 0.5, yM: 0 });
    expect(at(a, 2.25)).toEqual({ xM: 2, yM: 0.75 });
    const p = at(a, 6.25)!;
    expect(p.xM).toBeCloseTo(5.75, 12);
    expect(p.yM).toBe(1.5);
  });

  it("is absent before the first sample, after the last, across long holes and after an exit", () => {
    expect(at(a, -0.001)).toBeUndefined();
    expect(at(a, 10.001)).toBeUndefined();
    // Hole of 7.5 s between 2.5 and 10: bridged up to maxGapS 7.5, not below.
    expect(at(a, 5, 7.5)).toBeDefined();
    expect(at(a, 5, 7)).toBeUndefined();
    expect(at(a, 2.5, 7)).toEqual({ xM: 2, yM: 1.5 });
    expect(at(a, 10, 7)).toEqual({ xM: 9.5, yM: 1.5 });
    // c: leaves at 6, back at 8.
    expect(at(c, 5.5)).toBeUndefined();
    expect(at(c, 6)).toBeUndefined();
    expect(at(c, 7)).toBeUndefined();
    expect(at(c, 8)).toEqual({ xM: 0.7, yM: 0.4 });
    expect(at(c, 10)).toEqual({ xM: 0.7, yM: 0.4 });
  });

  it("reads the same tracks from CSV as from JSON", () => {
    const csv = [
      "track,t_s,x_m,y_m",
      "# comment",
      ...Object.entries(TRACKS.tracks).flatMap(([id, list]) =>
        list.map(([t, x, y]) => `${id},${t},${x ?? ""},${y ?? ""}`),
      ),
      "",
    ].join("\n");
    expect(parseCsvTracks("x.csv", csv)).toEqual(parseJsonTracks("x.json", JSON.stringify(TRACKS)));
  });

  it("names the file and the entry or line of malformed input", () => {
    const json = (doc: unknown) => trackError(() => parseJsonTracks("t.json", JSON.stringify(doc)));
    expect(trackError(() => parseJsonTracks("t.json", "{ nope")).message).toMatch(
      /^t\.json: is not valid JSON/,
    );
    expect(json({ a: [] }).message).toMatch(/"tracks" object/);
    expect(json({ tracks: { a: [[0, 1]] } }).message).toMatch(/t\.json, tracks\["a"\]\[0\]/);
    expect(json({ tracks: { a: [[0, 1, "2"]] } }).where).toBe('tracks["a"][0]');
    expect(
      json({
        tracks: {
          a: [
            [0, 1, 2],
            [0, 1, 2],
          ],
        },
      }).message,
    ).toMatch(/tracks\["a"\]\[1\]: time 0 s is not after the previous sample/);
    expect(json({ tracks: { a: [[-1, 1, 2]] } }).where).toBe('tracks["a"][0]');
    expect(json({ tracks: { a: [] } }).message).toMatch(/has no samples/);

    const csv = (text: string) => trackError(() => parseCsvTracks("t.csv", text));
    expect(csv("id,t,x,y\n").message).toMatch(/t\.csv, line 1: the header must be/);
    expect(csv("").message).toMatch(/is empty/);
    expect(csv("track,t_s,x_m,y_m\na,0,1,2\na,1,1\n").where).toBe("line 3");
    expect(csv("track,t_s,x_m,y_m\na,0,1,2\n\na,zero,1,2\n").message).toMatch(
      /line 4: t_s "zero" is not a number/,
    );
    expect(csv("track,t_s,x_m,y_m\na,0,1,\n").message).toMatch(/line 2: x_m and y_m must both/);
    expect(csv("track,t_s,x_m,y_m\na,5,1,2\nb,0,0,0\na,4,1,2\n").message).toMatch(
      /line 4: time 4 s is not after/,
    );
    const dir = mkdtempSync(join(tmpdir(), "proxkit-tracks-"));
    writeFileSync(join(dir, "empty.json"), '{"tracks": {}}');
    expect(() => readTrackFile(join(dir, "empty.json"))).toThrow(/holds no tracks/);
  });
});

describe("trajectory scenarios", () => {
  it("replays the tracks exactly in the world, with the named phone model", () => {
    const { path } = tempScenario();
    const scenario = loadScenario(path);
    expect(scenario.agents.map((g) => [g.count, g.fixed, g.device])).toEqual([
      [2, true, "Samsung SM-G973F"],
      [1, true, undefined],
    ]);
    const world = buildWorld(scenario, { seed: 3 });
    const ag = world.agents;
    const s10 = simulatedDevice("SM-G973F")!.device;
    expect(world.propagation.params.txGainDb).toEqual([0, s10.txGainDb]);
    expect([...ag.deviceIndex]).toEqual([1, 1, 0]);
    expect([...ag.mobility]).toEqual([MobilityKind.trajectory, MobilityKind.trajectory, 6]);
    const tracks = scenario.tracks!.tracks;
    for (let tS = 0; tS <= 40; tS++) {
      if (tS > 0) world.step(1000);
      ["a", "b", "c"].forEach((id, i) => {
        const p = at(tracks.get(id)!, tS, 20);
        expect(ag.present[i], `${id} at ${tS} s`).toBe(p === undefined ? 0 : 1);
        if (p !== undefined) expect([ag.xM[i], ag.yM[i]]).toEqual([p.xM, p.yM]);
      });
    }
    // b: 26 s between its last two samples, more than maxGapS 20: absent in between.
    expect(at(tracks.get("b")!, 10, 20)).toBeUndefined();
  });

  it("runs through runSimulation deterministically, the same positions whatever the seed", () => {
    const { path } = tempScenario({ durationS: 12 });
    const run = (seed: number) => {
      const sightings: string[] = [];
      const positions: number[] = [];
      const result = runSimulation(loadScenario(path), {
        seed,
        onSighting: (r, s) =>
          sightings.push(`${r} ${s.atMs} ${s.rssiDbm} ${Buffer.from(s.id).toString("hex")}`),
      });
      const a = result.world.agents;
      for (let i = 0; i < a.count; i++) positions.push(a.xM[i], a.yM[i], a.present[i]);
      return { sightings, positions };
    };
    const first = run(5);
    expect(first.sightings.length).toBeGreaterThan(50);
    expect(run(5)).toEqual(first);
    const other = run(6);
    expect(other.positions).toEqual(first.positions);
    expect(other.sightings).not.toEqual(first.sightings);
  });

  it("reads a CSV track file relative to the scenario file", () => {
    const csv = `track,t_s,x_m,y_m\n${Object.entries(TRACKS.tracks)
      .flatMap(([id, list]) => list.map(([t, x, y]) => `${id},${t},${x ?? ""},${y ?? ""}`))
      .join("\n")}\n`;
    const { path } = tempScenario({}, csv, "crowd.csv");
    expect(loadScenario(path).tracks!.tracks.get("c")!.timesMs).toEqual(
      Float64Array.of(0, 5000, 6000, 8000, 12000),
    );
  });

  it("rejects bad trajectory groups with the field named", () => {
    const fails = (extra: object, pattern: RegExp) => {
      const { path } = tempScenario(extra);
      expect(() => loadScenario(path)).toThrow(ConfigError);
      expect(() => loadScenario(path)).toThrow(pattern);
    };
    const group = (mobility: object, more: object = {}) => ({
      agents: [{ role: "x", mobility: { kind: "trajectory", ...mobility }, ...more }],
    });
    fails(
      group({ track: "zz" }),
      /agents\[0\]\.mobility\.track names no track of .*crowd\.json: "zz"/,
    );
    fails(
      group({ tracks: ["a"] }, { count: 2 }),
      /agents\[0\]\.count must equal the number of tracks \(1\)/,
    );
    fails(group({}), /needs either "track"/);
    fails(
      group({ track: "a" }, { device: "Nokia 3310" }),
      /agents\[0\]\.device "Nokia 3310" has no fitted offsets/,
    );
    fails(
      {
        agents: [
          ...scenarioDoc("crowd.json").agents,
          { role: "y", mobility: { kind: "trajectory", track: "a" } },
        ],
      },
      /agents\[2\]\.mobility\.tracks\[0\] track "a" is already followed/,
    );
    fails({ scaleWithAgents: true }, /scaleWithAgents cannot be true with trajectory groups/);
    const noTracks = { ...scenarioDoc("crowd.json"), tracks: undefined };
    expect(() => loadScenario(noTracks)).toThrow(/"trajectory" needs the scenario's "tracks"/);
    const { dir } = tempScenario();
    expect(() => loadScenario({ ...scenarioDoc(join(dir, "missing.json")) })).toThrow(
      /missing\.json/,
    );
  });

  it("keeps recorded people out of an agent-count override", () => {
    const { path } = tempScenario();
    expect(() => buildWorld(loadScenario(path), { agents: 10 })).toThrow(/cannot be met/);
    expect(buildWorld(loadScenario(path), { agents: 3 }).agents.count).toBe(3);
  });
});

const dataRoot = defaultDataRoot();
const exp05 = join(dataRoot, "dp3t-epfl", "exp05-epfl-soldiers");
const REAL_DATA = needData("dp3t-epfl/exp05-epfl-soldiers/ground_truth");

describeWith(REAL_DATA)("EPFL replays (exp05 camera tracks)", () => {
  it.each(EPFL_SCENARIO_NAMES)(
    "%s: one agent per tracked person, on the camera's positions",
    (name) => {
      const scenario = builtInScenario(name);
      const camera = loadCameraTracks(exp05, EPFL_SCENARIOS[name]);
      const ids = camera.ids.filter((id) => camera.positionsOf(id)!.some((v) => !Number.isNaN(v)));
      expect(scenario.agents.map((g) => g.role.split(" ")[0])).toEqual(ids);
      expect(scenario.agents.map((g) => g.device)).toEqual(
        ids.map((id) => EXP05_SOLDIERS[id].model),
      );
      const frames = camera.frames;
      expect(scenario.durationS).toBe(Math.floor((frames[frames.length - 1] - frames[0]) / 1000));
      // Every second of the first 3 minutes is a camera frame: the agents stand on it.
      const world = buildWorld(scenario, { seed: 1 });
      const a = world.agents;
      for (let s = 0; s <= 180; s++) {
        if (s > 0) world.step(1000);
        const frame = camera.frameAt(frames[0] + world.atMs);
        expect(frames[frame]).toBe(frames[0] + world.atMs);
        ids.forEach((id, i) => {
          const p = camera.position(id, frame);
          if (p === undefined) return;
          expect(a.present[i]).toBe(1);
          expect([a.xM[i], a.yM[i]]).toEqual([p.xM, p.yM]);
        });
      }
      // Five minutes: every phone scans at least once (a GAEN scan every 3.5-5 minutes).
      const run = () => runSimulation(scenario, { seed: 1, durationS: 300 }).counts;
      const counts = run();
      expect(counts.sightings).toBeGreaterThan(0);
      expect(run()).toEqual(counts);
    },
  );
});

describe("EPFL replays without the data", () => {
  it("says in one line where the data folder is missing", () => {
    const missing = join(tmpdir(), "no-such-data-root");
    expect(() => builtInScenario("epfl-lunch", { dataRoot: missing })).toThrow(ConfigError);
    try {
      builtInScenario("epfl-party", { dataRoot: missing });
    } catch (e) {
      expect((e as Error).message).not.toContain("\n");
      expect((e as Error).message).toMatch(/epfl-party.*no-such-data-root/);
    }
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CAMERA_FRAME_INTERVAL_MS,
  cameraSpans,
  loadCameraTracks,
  pairCloseness,
  pairDistanceSeries,
} from "../../src/campaigns/exp05-camera-truth.js";
import { loadDp3tExp05 } from "../../src/campaigns/load-dp3t-exp05.js";
import { CodecError, ConfigError } from "../../src/core/errors.js";
import { describeWith, needData, sharedData } from "../support/requirements.js";

/** DP-3T experiment 05 (DP-3T/bt-measurements, CC BY-ND 4.0) beside the repository. */
const DATA_DIR = sharedData("dp3t-epfl/exp05-epfl-soldiers");
const REAL_DATA = needData("dp3t-epfl/exp05-epfl-soldiers");

/**
 * Measured on the real tracks (and independently with a python3 script over the JSON, holes of
 * up to 10 s interpolated): frames, first frame (UTC), ids, pairs seen together, pairs at least
 * 15 min within 2 m and within 1.5 m; SQLite rows whose ground_truth_distance the tracks cover.
 */
const EXPECTED = {
  lunch: {
    frames: 9600,
    firstUtc: "2020-04-17T05:56:47.400Z",
    ids: 16,
    pairs: 120,
    close2: 17,
    close15: 8,
    rowsChecked: 13017,
  },
  train: {
    frames: 6000,
    firstUtc: "2020-04-17T06:48:57.400Z",
    ids: 20,
    pairs: 190,
    close2: 56,
    close15: 30,
    rowsChecked: 31453,
  },
  office: {
    frames: 9600,
    firstUtc: "2020-04-17T07:32:07.400Z",
    ids: 11,
    pairs: 55,
    close2: 8,
    close15: 5,
    rowsChecked: 22041,
  },
  queue: {
    frames: 6600,
    firstUtc: "2020-04-17T08:23:57.400Z",
    ids: 20,
    pairs: 154,
    close2: 2,
    close15: 2,
    rowsChecked: 10914,
  },
  party: {
    frames: 9600,
    firstUtc: "2020-04-17T08:52:27.400Z",
    ids: 20,
    pairs: 190,
    close2: 58,
    close15: 32,
    rowsChecked: 43100,
  },
} as const;

const FIFTEEN_MIN_S = 15 * 60;

describeWith(REAL_DATA)("exp05 camera tracks on the real campaign", () => {
  it.each(Object.entries(EXPECTED))(
    "%s: frames, spans, close pairs, agreement with the SQLite",
    (scenario, expected) => {
      const tracks = loadCameraTracks(DATA_DIR, scenario);
      expect(tracks.frames.length).toBe(expected.frames);
      expect(new Date(tracks.frames[0]).toISOString()).toBe(expected.firstUtc);
      expect(tracks.ids.length).toBe(expected.ids);
      // The parts follow each other without a gap: one span, 5 frames a second.
      expect(cameraSpans(tracks)).toEqual([
        {
          fromMs: tracks.frames[0] - CAMERA_FRAME_INTERVAL_MS / 2,
          toMs: tracks.frames[0] + (expected.frames - 0.5) * CAMERA_FRAME_INTERVAL_MS,
        },
      ]);

      const within2 = pairCloseness(tracks, 2);
      const within15 = pairCloseness(tracks, 1.5);
      expect(within2.size).toBe(expected.pairs);
      const closeCount = (m: typeof within2) =>
        [...m.values()].filter((c) => c.closeS >= FIFTEEN_MIN_S).length;
      expect(closeCount(within2)).toBe(expected.close2);
      expect(closeCount(within15)).toBe(expected.close15);
      for (const c of within2.values()) {
        expect(c.closeS).toBeLessThanOrEqual(c.observedS);
        expect(c.coveredToMs - c.coveredFromMs).toBeGreaterThanOrEqual(c.observedS * 1000 - 1e-6);
      }

      // ground_truth_distance is the 2-D track distance at the nearest frame (UTC+2 applied).
      let checked = 0;
      let worstM = 0;
      for (const record of loadDp3tExp05(DATA_DIR, {
        scenarios: [scenario],
        withUnknownDistance: false,
      })) {
        const frame = tracks.frameAt(record.atMs);
        if (frame < 0) continue;
        const cameraM = tracks.distanceM(record.rxId, record.txId, frame);
        checked++;
        worstM = Math.max(
          worstM,
          Number.isNaN(cameraM)
            ? Number.POSITIVE_INFINITY
            : Math.abs(cameraM - (record.distanceM as number)),
        );
      }
      expect(checked).toBe(expected.rowsChecked);
      // Float32 positions: agreement to the micrometre.
      expect(worstM).toBeLessThan(1e-5);
    },
  );

  it("names the lunch pairs at the first table as close, the second table (15 min seated) just short", () => {
    const within2 = pairCloseness(loadCameraTracks(DATA_DIR, "lunch"), 2);
    expect(within2.get("1-5")?.closeS).toBeGreaterThan(FIFTEEN_MIN_S);
    const secondTable = within2.get("8-9")?.closeS ?? 0;
    expect(secondTable).toBeGreaterThan(14 * 60);
    expect(secondTable).toBeLessThan(FIFTEEN_MIN_S);
  });

  it("covers only 20 of the train's 31 minutes of RSSI: 2_cff_part3.json is missing upstream", () => {
    const [span] = cameraSpans(loadCameraTracks(DATA_DIR, "train"));
    let inside = 0;
    let rows = 0;
    for (const record of loadDp3tExp05(DATA_DIR, { scenarios: ["train"] })) {
      rows++;
      if (record.atMs >= span.fromMs && record.atMs < span.toMs) inside++;
    }
    expect(rows).toBe(65419);
    expect(inside).toBe(42014);
  });

  it("gives walls, which was not filmed, empty tracks", () => {
    const tracks = loadCameraTracks(DATA_DIR, "walls");
    expect(tracks.frames.length).toBe(0);
    expect(cameraSpans(tracks)).toEqual([]);
    expect(pairCloseness(tracks, 2).size).toBe(0);
  });
});

describe("exp05 camera tracks, synthetic", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "proxkit-exp05-camera-"));
    mkdirSync(join(dir, "ground_truth"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (file: string, content: unknown) =>
    writeFileSync(
      join(dir, "ground_truth", file),
      typeof content === "string" ? content : JSON.stringify(content),
    );
  const at = (s: string) => `2020-04-17 08:00:${s}`;

  /**
   * Lunch in three parts: part 1 (5 frames) has a 2-frame hole in soldier 2's track; part 2
   * starts a minute later; part 3 follows part 2 without a gap and has no soldier 1.
   */
  function writeLunch(): void {
    write("1_lunch_part1.json", {
      "1": [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
      "2": [[1, 0, 0], null, null, [1.6, 0, 0], [1.6, 0, 0]],
      datetime: [at("00"), at("00.200000"), at("00.400000"), at("00.600000"), at("00.800000")],
    });
    write("1_lunch_part2.json", {
      "1": [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
      "2": [null, [5, 0, 0], [5, 0, 0]],
      "3": [
        [0, 1, 0],
        [0, 1, 0],
        [0, 1, 0],
      ],
      datetime: ["2020-04-17 08:01:00", "2020-04-17 08:01:00.200000", "2020-04-17 08:01:00.400000"],
    });
    write("1_lunch_part3.json", {
      "2": [
        [5, 0, 0],
        [5, 0, 0],
      ],
      datetime: ["2020-04-17 08:01:00.600000", "2020-04-17 08:01:00.800000"],
    });
  }

  it("reads CEST datetimes as UTC, joins parts and splits spans at gaps", () => {
    writeLunch();
    const tracks = loadCameraTracks(dir, "lunch");
    const t0 = Date.UTC(2020, 3, 17, 6, 0, 0);
    expect([...tracks.frames]).toEqual(
      [0, 200, 400, 600, 800, 60_000, 60_200, 60_400, 60_600, 60_800].map((ms) => t0 + ms),
    );
    expect(tracks.ids).toEqual(["1", "2", "3"]);
    expect(cameraSpans(tracks)).toEqual([
      { fromMs: t0 - 100, toMs: t0 + 900 },
      { fromMs: t0 + 59_900, toMs: t0 + 60_900 },
    ]);
    expect(tracks.position("2", 1)).toBeUndefined();
    expect(tracks.position("2", 3)?.xM).toBeCloseTo(1.6, 6);
    expect(tracks.position("1", 8)).toBeUndefined();
    expect(tracks.frameAt(t0 + 99)).toBe(0);
    expect(tracks.frameAt(t0 + 100)).toBe(0);
    expect(tracks.frameAt(t0 + 101)).toBe(1);
    expect(tracks.frameAt(t0 + 30_000)).toBe(-1);
    expect(tracks.frameAt(t0 - 101)).toBe(-1);
  });

  it("fills short holes in a span, never across a camera gap, and integrates close time", () => {
    writeLunch();
    const tracks = loadCameraTracks(dir, "lunch");
    const t0 = Date.UTC(2020, 3, 17, 6, 0, 0);
    const series = [...pairDistanceSeries(tracks, "1", "2")];
    const expected = [1, 1.2, 1.4, 1.6, 1.6, Number.NaN, 5, 5, Number.NaN, Number.NaN];
    series.forEach((d, i) => {
      if (Number.isNaN(expected[i])) expect(d).toBeNaN();
      else expect(d).toBeCloseTo(expected[i], 5);
    });

    const close = pairCloseness(tracks, 1.5);
    expect([...close.keys()].sort()).toEqual(["1-2", "1-3", "2-3"]);
    const pair12 = close.get("1-2");
    expect(pair12?.observedS).toBeCloseTo(1.4, 9);
    expect(pair12?.closeS).toBeCloseTo(0.6, 9);
    expect(pair12?.coveredFromMs).toBe(t0 - 100);
    expect(pair12?.coveredToMs).toBe(t0 + 60_500);
    expect(close.get("1-3")?.closeS).toBeCloseTo(0.6, 9);
    expect(close.get("2-3")?.observedS).toBeCloseTo(0.4, 9);
    expect(close.get("2-3")?.closeS).toBe(0);

    // No filling: the hole stays unknown; a long maxGapS still does not bridge the camera gap.
    expect(pairCloseness(tracks, 1.5, { maxGapS: 0 }).get("1-2")).toMatchObject({
      observedS: 1,
      closeS: 0.2,
    });
    expect(pairCloseness(tracks, 1.5, { maxGapS: 300 }).get("1-2")?.observedS).toBeCloseTo(1.4, 9);
    // A hole longer than maxGapS stays unknown.
    expect(pairCloseness(tracks, 1.5, { maxGapS: 0.5 }).get("1-2")?.observedS).toBeCloseTo(1, 9);
    expect(() => pairCloseness(tracks, -1)).toThrow(ConfigError);
  });

  it.each([
    ["truncated JSON", '{"1": [[0, 0, 0], [0, 0', /1_lunch_part1\.json: not valid JSON/],
    ["no datetime", { "1": [] }, /1_lunch_part1\.json: no "datetime" array/],
    ["a bad datetime", { datetime: ["17.04.2020 08:00"] }, /1_lunch_part1\.json: datetime 0/],
    ["an unknown soldier", { "99": [null], datetime: [at("00")] }, /1_lunch_part1\.json: key "99"/],
    [
      "a short track",
      { "1": [], datetime: [at("00")] },
      /1_lunch_part1\.json: soldier 1: not an array of 1/,
    ],
    [
      "a text position",
      { "1": [["a", 0, 0]], datetime: [at("00")] },
      /1_lunch_part1\.json: soldier 1, frame 0/,
    ],
    [
      "time going back",
      { datetime: [at("01"), at("00")] },
      /1_lunch_part1\.json: datetime 1 is not after/,
    ],
  ])("rejects %s with a CodecError naming the file", (_what, content, pattern) => {
    write("1_lunch_part1.json", content);
    let error: unknown;
    try {
      loadCameraTracks(dir, "lunch");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).code).toBe("E_CAMPAIGN");
    expect((error as Error).message).toMatch(pattern);
  });

  it("refuses a missing folder, a missing part and an unknown scenario with a ConfigError", () => {
    expect(() => loadCameraTracks("/nonexistent/exp05", "lunch")).toThrow(ConfigError);
    write("1_lunch_part1.json", { datetime: [] });
    expect(() => loadCameraTracks(dir, "lunch")).toThrow(/1_lunch_part2\.json/);
    expect(() => loadCameraTracks(dir, "lunch")).toThrow(ConfigError);
    expect(() => loadCameraTracks(dir, "disco")).toThrow(ConfigError);
  });
});

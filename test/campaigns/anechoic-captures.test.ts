/**
 * The DP-3T anechoic folders' real Android HCI captures (DP-3T/bt-measurements exp25, exp28,
 * exp29, CC BY-ND 4.0) read through the replay code, with their sightings attributed to their
 * senders. The counts were cross-checked by an independent Python btsnoop parser (same records,
 * reports, GAEN sightings, attributions and medians) and, below, against each capture's
 * Wireshark export (`NN.json`), whose "HCI Rx RPI" frames are the received GAEN reports.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  attributeCaptureSightings,
  parseEphids,
  readEphidsFolder,
} from "../../src/campaigns/anechoic-captures.js";
import { DP3T_ANECHOIC_EXPERIMENTS } from "../../src/campaigns/load-dp3t-anechoic.js";
import { ConfigError } from "../../src/core/errors.js";
import { describeWith, needData, sharedData } from "../support/requirements.js";

const DATA_DIR = sharedData("dp3t-epfl");
const REAL_DATA = needData("dp3t-epfl");

type Senders = Record<string, [count: number, medianRssiDbm: number]>;
/** [records, advertising reports, GAEN sightings, senders, unattributed sightings]. */
type Expected = [number, number, number, Senders, number];

/**
 * Measured on the captures; every one is datalink 1002 (H4) with no DP-3T or Bluezone sighting.
 * The unattributed sightings of the two Pixel 4s (23, 24) are each other's first RPI of
 * scenario01 (one address, RSSI as the partner's), which the partner's `.ephids` lacks; the
 * sqlite files start after it.
 */
const EXPECTED: Record<string, Record<string, Expected>> = {
  exp25: {
    "02": [4443, 488, 197, { "110": [197, -45] }, 0],
    "03": [8286, 313, 236, { "110": [236, -43] }, 0],
    "06": [3045, 202, 202, { "110": [202, -51] }, 0],
    "08": [4459, 75, 42, { "110": [42, -46.5] }, 0],
    "10": [3773, 236, 196, { "110": [196, -41.5] }, 0],
    "18": [3075, 258, 198, { "110": [198, -52] }, 0],
  },
  exp27: {},
  exp28: {
    "02": [2715, 198, 98, { "23": [98, -72] }, 0],
    "06": [3499, 154, 89, { "23": [89, -73] }, 0],
    "08": [4394, 158, 23, { "23": [23, -73] }, 0],
    "10": [3071, 248, 96, { "23": [96, -76] }, 0],
    "18": [3105, 302, 104, { "23": [104, -73] }, 0],
    "23": [
      2891,
      810,
      409,
      {
        "02": [54, -78],
        "06": [41, -79],
        "08": [49, -74],
        "10": [54, -84],
        "18": [89, -73],
        "24": [81, -79],
      },
      41,
    ],
    "24": [1333, 234, 118, { "23": [80, -81] }, 38],
  },
  exp29: {
    "03": [3239, 197, 104, { "23": [104, -75] }, 0],
    "23": [
      2714,
      629,
      440,
      {
        "01": [53, -60],
        "02": [42, -58],
        "03": [89, -82],
        "06": [57, -53],
        "08": [56, -58],
        "10": [39, -53],
        "24": [67, -80],
      },
      37,
    ],
    "24": [1435, 234, 118, { "23": [76, -81] }, 42],
  },
};

describe("parseEphids", () => {
  it("reads colon-separated hex lines and refuses anything else", () => {
    expect(parseEphids("01:ff\n\n0a:0b:0c\n", "x")).toEqual([
      Uint8Array.from([1, 255]),
      Uint8Array.from([10, 11, 12]),
    ]);
    expect(() => parseEphids("01:fg\n", "x.ephids")).toThrow(/x\.ephids line 1/);
    expect(() => readEphidsFolder("/nonexistent/folder")).toThrow(ConfigError);
  });
});

describeWith(REAL_DATA)("the anechoic captures through the replay code", () => {
  for (const { exp, folder } of DP3T_ANECHOIC_EXPERIMENTS) {
    it(`${exp}: every capture parses, counts and attributions as measured`, () => {
      const dir = join(DATA_DIR, folder);
      const ephids = readEphidsFolder(dir);
      const captures = readdirSync(dir).filter((f) => f.endsWith(".btsnoop"));
      expect(captures.map((f) => f.slice(0, -".btsnoop".length)).sort()).toEqual(
        Object.keys(EXPECTED[exp]).sort(),
      );
      for (const capture of captures) {
        const device = capture.slice(0, -".btsnoop".length);
        const [records, reports, gaen, senders, unattributed] = EXPECTED[exp][device];
        const got = attributeCaptureSightings(join(dir, capture), ephids);
        const { firstSightingMs, lastSightingMs, ...counts } = got;
        expect({
          capture,
          ...counts,
          senders: undefined,
          unattributed: got.unattributed.count,
        }).toEqual({
          capture,
          datalink: 1002,
          records,
          reports,
          skipped: 0,
          sightings: { gaen, dp3t: 0, bluezone: 0 },
          senders: undefined,
          unattributed,
        });
        expect(
          Object.fromEntries(
            Object.entries(got.senders).map(([d, s]) => [d, [s.count, s.medianRssiDbm]]),
          ),
        ).toEqual(senders);
        // A phone never hears itself.
        expect(got.senders[device]).toBeUndefined();

        // Independent count: the Wireshark export's received-RPI frames, one report each.
        const exported = JSON.parse(readFileSync(join(dir, `${device}.json`), "utf8")) as {
          _source: { layers: { frame: Record<string, string> } };
        }[];
        const rxFrames = exported
          .map((p) => p._source.layers.frame)
          .filter((f) => f["frame.coloring_rule.name"] === "HCI Rx RPI");
        expect(rxFrames.length, capture).toBe(gaen);
        // Same instants, except that the export (like the sqlite files) puts the Pixel 4
        // captures (exp28/exp29 23 and 24) exactly 2 h later than their btsnoop timestamps.
        const shiftMs = exp !== "exp25" && (device === "23" || device === "24") ? 7_200_000 : 0;
        const epochMs = (f: Record<string, string>) => Number(f["frame.time_epoch"]) * 1000;
        expect(epochMs(rxFrames[0]) - shiftMs - firstSightingMs!, capture).toBeCloseTo(0, 0);
        expect(epochMs(rxFrames.at(-1)!) - shiftMs - lastSightingMs!, capture).toBeCloseTo(0, 0);
      }
    });
  }
});

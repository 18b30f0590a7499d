/**
 * Built-in scenarios that replay real crowds: the camera tracks of DP-3T experiment 05 ("Soldiers
 * in real life scenarios", EPFL BC atrium, 2020-04-17; DP-3T/bt-measurements, EPFL and ETH
 * Zurich, CC BY-ND 4.0), read at run time from `../shared/data/dp3t-epfl/exp05-epfl-soldiers`
 * (never copied into the repository). See docs/simulator-epfl.md.
 *
 * One agent per person the cameras tracked, in numeric id order. Camera person id N is soldier N
 * of the exp05 README ("1AliceGS10" is id "1"), the same N as the SQLite files' receiver_id /
 * transmitter_id, and carries that soldier's phone (`EXP05_SOLDIERS`: 1, 2, 7, 9, 11, 12 Galaxy
 * S10 SM-G973F; 3, 4 Galaxy S10e SM-G970F; 5, 13-20 Galaxy A40 SM-A405FN; 6 Galaxy S20
 * SM-G981B; 8 Galaxy A90 SM-A908B; 10 Galaxy A51 SM-A515F).
 *
 * Assumptions, all scenarios:
 * - time 0 is the first camera frame; the duration is the recording's (last frame - first
 *   frame), rounded down to the second so that every 1 s step falls inside it;
 * - frames where a person was not detected are holes: holes up to `DEFAULT_MAX_GAP_S` (10 s, as
 *   the campaign's own contact truth uses) are interpolated, longer ones leave the person out of
 *   the scene (absent: no advertising, no scanning, no ground truth), as before their first and
 *   after their last detection;
 * - the area is the tracks' bounding box rounded out to the metre (the camera grid covers part
 *   of the 40 m × 15 m atrium; the recorded x, y are the floor plan): tables, counters and
 *   walls have no coordinates in the README, so there are no obstacles; bodies still block links;
 * - carry: the README's per-scenario script (`EXP05_SCENARIOS`): pocket (lunch, train, party),
 *   on the desk for the office (modelled as "hand": no body loss at the phone), and pocket for
 *   the queue, where the README does not say; the scripted moments when a few people take their
 *   phone out are not modelled;
 * - phones run GAEN with the GAEN scan cadence (the exp05 app was DP-3T's pre-GAEN calibration
 *   app advertising 4 times a second at ultra-low power, close to GAEN; its 20 s-per-minute
 *   scanning is not modelled); the channel is the simulator's default with per-model offsets
 *   (`devices.ts`).
 */

import { campaignFolder, campaignInfo } from "../../src/campaigns/campaigns.js";
import { DEFAULT_MAX_GAP_S, loadCameraTracks } from "../../src/campaigns/exp05-camera-truth.js";
import {
  EXP05_SCENARIOS,
  EXP05_SOLDIERS,
  type Exp05Scenario,
} from "../../src/campaigns/load-dp3t-exp05.js";
import { ConfigError } from "../../src/core/errors.js";
import { defaultDataRoot } from "../../src/io/data-root.js";
import type { Track, TrackSet } from "./tracks.js";

/** Built-in name → exp05 scenario. */
export const EPFL_SCENARIOS: Readonly<Record<string, Exp05Scenario>> = {
  "epfl-lunch": "lunch",
  "epfl-train": "train",
  "epfl-office": "office",
  "epfl-queue": "queue",
  "epfl-party": "party",
};

export const EPFL_SCENARIO_NAMES: readonly string[] = Object.keys(EPFL_SCENARIOS);

/** What each replay is, from the exp05 README (people counted from the camera tracks). */
const DESCRIPTIONS: Readonly<Record<Exp05Scenario, string>> = {
  lunch:
    "Lunch break: two tables of 7 colleagues (the second sits down after 15 min), two waiters roaming; phones in pockets.",
  train:
    "Train compartment played in the atrium: 8 seated, 8 then 4 more standing in the hallway; phones in pockets. The last 10 minutes have no camera file upstream.",
  office:
    "Open-space office: 9 people at 3 tables 2 m apart, 2 walking between them; phones on the desks.",
  queue:
    "Supermarket queues: a line of 9, 1 m apart, served one by one; a second queue opens after 10 min.",
  party: "Bar or club: 20 people intermingling, moving around every 5 minutes; phones in pockets.",
  walls: "",
};

/**
 * The scenario document of an EPFL replay and its tracks (validated by the caller). A
 * `ConfigError` (one line) when the data folder or a camera file is absent.
 */
export function epflScenarioDocument(
  name: string,
  dataRoot: string = defaultDataRoot(),
): { doc: object; tracks: TrackSet } {
  const scenario = EPFL_SCENARIOS[name];
  if (scenario === undefined) throw new ConfigError(`unknown EPFL scenario "${name}"`);
  let folder: string;
  try {
    folder = campaignFolder(campaignInfo("dp3t-exp05"), dataRoot);
  } catch (error) {
    throw new ConfigError(
      `scenario "${name}" replays the DP-3T exp05 camera tracks, but ${(error as Error).message}`,
      "E_INPUT",
    );
  }
  const camera = loadCameraTracks(folder, scenario);
  const frames = camera.frames;
  const t0 = frames[0];
  const tracks = new Map<string, Track>();
  let minX = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (const id of camera.ids) {
    const xy = camera.positionsOf(id) as Float32Array;
    const kept: number[] = [];
    for (let i = 0; i < frames.length; i++) if (!Number.isNaN(xy[2 * i])) kept.push(i);
    if (kept.length === 0) continue;
    const timesMs = new Float64Array(kept.length);
    const xM = new Float64Array(kept.length);
    const yM = new Float64Array(kept.length);
    kept.forEach((i, k) => {
      timesMs[k] = frames[i] - t0;
      xM[k] = xy[2 * i];
      yM[k] = xy[2 * i + 1];
      minX = Math.min(minX, xM[k]);
      maxX = Math.max(maxX, xM[k]);
      minY = Math.min(minY, yM[k]);
      maxY = Math.max(maxY, yM[k]);
    });
    tracks.set(id, { id, timesMs, xM, yM });
  }
  if (tracks.size === 0) throw new ConfigError(`scenario "${name}": the camera tracked nobody`);
  const carry = EXP05_SCENARIOS[scenario].carry === "table" ? { hand: 1 } : { pocket: 1 };
  const x0 = Math.floor(minX);
  const y0 = Math.floor(minY);
  const doc = {
    name,
    description: `${DESCRIPTIONS[scenario]} Replays the DP-3T exp05 camera tracks (EPFL BC atrium, 2020-04-17; DP-3T/bt-measurements, EPFL and ETH Zurich, CC BY-ND 4.0), one agent per tracked person with the phone model that person carried.`,
    durationS: Math.floor((frames[frames.length - 1] - t0) / 1000),
    geometry: {
      area: {
        xM: x0,
        yM: y0,
        widthM: Math.max(1, Math.ceil(maxX) - x0),
        heightM: Math.max(1, Math.ceil(maxY) - y0),
      },
    },
    agents: [...tracks.keys()].map((id) => {
      const soldier = EXP05_SOLDIERS[id];
      return {
        role: `${id} ${soldier.name}`,
        count: 1,
        device: soldier.model,
        carry,
        mobility: { kind: "trajectory", track: id },
      };
    }),
    protocolMix: { gaen: 1 },
    scanning: "gaen",
  };
  return {
    doc,
    tracks: {
      source: `DP-3T exp05 camera tracks (${EXP05_SCENARIOS[scenario].cameraParts.join(", ")})`,
      maxGapS: DEFAULT_MAX_GAP_S,
      tracks,
    },
  };
}

/**
 * Runs a scenario through the simulator and keeps what the real system would have: each
 * receiver's stored sightings (decoded from the air by the link layer), the keys the index cases
 * publish (taken from the very key stores their phones advertised from), and the ground truth
 * (every pair's time within the close distance, as intervals). Deterministic from the seed.
 */
import { ConfigError } from "../../src/core/errors.js";
import { toHex } from "../../src/core/hex.js";
import { SeededRandom } from "../../src/core/random.js";
import { GAEN_ROLLING_PERIOD } from "../../src/protocols/gaen.js";
import type { Sighting } from "../../src/signal/sighting.js";
import { runSimulation } from "../engine/run-simulation.js";
import {
  DEFAULT_CHANNEL,
  HERALD_ONLY_CHANNEL,
  receiverCorrectionDb,
  resolveChannelProfile,
} from "../world/channel-propagation.js";
import { PROTOCOL_NAMES, type ProtocolName, type Scenario } from "../world/scenario.js";
import {
  PAIR_KEY_BASE,
  type PublishedKeySet,
  type RssiDistanceSample,
  type RunData,
  type TruthAgent,
  type TruthPair,
} from "./run-data.js";
import { senderOfId } from "./sender-of-id.js";

export interface SimulateRunOptions {
  seed?: number;
  agents?: number;
  durationS?: number;
  /** Every agent runs this protocol (and its scanning cadence, unless the scenario scans continuously). */
  protocol?: ProtocolName;
  /** Share of agents who publish their keys, 0..1 (default 1: every ordered pair is scored). */
  indexShare?: number;
  /** Ground truth: close distance, metres (default 2). */
  closeDistanceM?: number;
  /** Ground truth: cumulative close minutes for a close contact (default 15). */
  closeMinutes?: number;
  /** Wall-clock time of the run's start, ms (default 2021-01-04 09:00 UTC). */
  startMs?: number;
  /** RSSI/distance points kept for the report (a uniform sample of the sightings). */
  rssiSamples?: number;
  onProgress?: (fraction: number) => void;
  /**
   * Channel profile, a name or a profile JSON file (`channel-propagation.ts`), overriding the
   * scenario's `channel` [default: the scenario's, else `herald-only`].
   */
  channel?: string;
}

export interface SimulatedRun extends RunData {
  /** A uniform sample of (true distance, RSSI) over the sightings of senders within 5 m. */
  readonly rssiVsDistance: RssiDistanceSample[];
  readonly sightingCount: number;
  readonly wallMs: number;
}

export const DEFAULT_START_MS = Date.UTC(2021, 0, 4, 9);
/** Pairs farther apart are not traced by the ground truth, metres. */
const TRUTH_RANGE_M = 5;

/** The scenario with every agent on `protocol` (scanning on that protocol's duty cycle). */
export function withProtocol(scenario: Scenario, protocol: ProtocolName | undefined): Scenario {
  if (protocol === undefined) return scenario;
  const scanning =
    scenario.scanning === "continuous"
      ? "continuous"
      : protocol === "bluezone"
        ? "bluezone"
        : "gaen";
  return { ...scenario, protocolMix: { [protocol]: 1 }, scanning };
}

/** The scenario on channel profile `channel` (name or file), unchanged when undefined. */
export function withChannel(scenario: Scenario, channel: string | undefined): Scenario {
  return channel === undefined ? scenario : { ...scenario, channel };
}

/** Index cases: `round(share x n)` agents drawn without replacement from the seed, ascending. */
export function pickIndexCases(n: number, share: number, seed: number): number[] {
  if (!(share >= 0 && share <= 1))
    throw new ConfigError(`index share must be in 0..1, got ${share}`, "E_INDEX_SHARE");
  const all = Array.from({ length: n }, (_, i) => i);
  const k = Math.round(share * n);
  if (k === n) return all;
  const random = new SeededRandom(seed ^ 0x1d3c);
  for (let i = 0; i < k; i++) {
    const j = i + random.int(n - i);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, k).sort((x, y) => x - y);
}

/** The protocol every agent runs, or "mixed". */
function protocolLabel(scenario: Scenario): string {
  const used = Object.entries(scenario.protocolMix).filter(([, share]) => (share ?? 0) > 0);
  return used.length === 1 ? used[0][0] : "mixed";
}

export function simulateRun(scenario: Scenario, options: SimulateRunOptions = {}): SimulatedRun {
  const seed = options.seed ?? 1;
  const startMs = options.startMs ?? DEFAULT_START_MS;
  const closeDistanceM = options.closeDistanceM ?? 2;
  const closeMinutes = options.closeMinutes ?? 15;
  const indexShare = options.indexShare ?? 1;
  if (!(closeDistanceM > 0 && closeDistanceM <= TRUTH_RANGE_M))
    throw new ConfigError(
      `close distance must be in (0, ${TRUTH_RANGE_M}] m, got ${closeDistanceM}`,
      "E_CLOSE",
    );
  if (!(closeMinutes > 0)) throw new ConfigError(`close minutes must be positive`, "E_CLOSE");
  const sc = withChannel(withProtocol(scenario, options.protocol), options.channel);
  const profile = resolveChannelProfile(sc.channel ?? DEFAULT_CHANNEL);
  const channelName = profile.name;
  const rxRssiCorrectionDb = receiverCorrectionDb(profile);

  // Ground truth trace: close intervals per pair, and this step's distances for the RSSI sample.
  const intervals = new Map<number, number[]>();
  let stepMs = -1;
  const stepA: number[] = [];
  const stepB: number[] = [];
  const stepD: number[] = [];
  const onSample = (a: number, b: number, distanceM: number, atMs: number) => {
    if (atMs !== stepMs) {
      stepMs = atMs;
      stepA.length = 0;
      stepB.length = 0;
      stepD.length = 0;
    }
    stepA.push(a);
    stepB.push(b);
    stepD.push(distanceM);
    if (distanceM > closeDistanceM) return;
    const key = Math.min(a, b) * PAIR_KEY_BASE + Math.max(a, b);
    const t = Math.round(atMs / 1000);
    const list = intervals.get(key);
    if (!list) intervals.set(key, [t, t + 1]);
    else if (list[list.length - 1] === t) list[list.length - 1] = t + 1;
    else if (list[list.length - 1] < t) list.push(t, t + 1);
  };

  // Reservoir sample of sightings with the receiver's neighbours' distances at that step.
  const sampleSize = options.rssiSamples ?? 3000;
  const reservoir: { id: string; rssiDbm: number; near: Map<number, number> }[] = [];
  const sampleRandom = new SeededRandom(seed ^ 0x5a17);
  const sightings: Sighting[][] = [];
  let count = 0;
  const onSighting = (receiver: number, s: Sighting) => {
    while (sightings.length <= receiver) sightings.push([]);
    // A phone stores receive times in whole milliseconds.
    sightings[receiver].push({ ...s, atMs: Math.round(s.atMs) });
    count++;
    const slot = reservoir.length < sampleSize ? reservoir.length : sampleRandom.int(count);
    if (slot >= sampleSize) return;
    const near = new Map<number, number>();
    for (let k = 0; k < stepA.length; k++) {
      if (stepA[k] === receiver) near.set(stepB[k], stepD[k]);
      else if (stepB[k] === receiver) near.set(stepA[k], stepD[k]);
    }
    reservoir[slot] = { id: toHex(s.id), rssiDbm: s.rssiDbm, near };
  };

  const run = runSimulation(sc, {
    seed,
    agents: options.agents,
    durationS: options.durationS,
    startMs,
    groundTruth: { closeDistanceM, closeMinutes, rangeM: TRUTH_RANGE_M, onSample },
    onSighting,
    onProgress: options.onProgress,
  });
  const world = run.world;
  const n = world.agents.count;
  while (sightings.length < n) sightings.push([]);

  const roles = new Array<string>(n);
  for (const g of world.groups) for (let i = g.first; i < g.first + g.count; i++) roles[i] = g.role;
  const agents: TruthAgent[] = [];
  for (let i = 0; i < n; i++) {
    agents.push({
      agent: i,
      role: roles[i] ?? "agent",
      protocol: PROTOCOL_NAMES[world.agents.protocolIndex[i]],
      keys: run.keyStores[i].all(),
    });
  }

  const pairs: TruthPair[] = [];
  const truth = world.groundTruth!;
  for (const [key, list] of [...intervals.entries()].sort((x, y) => x[0] - y[0])) {
    const a = Math.floor(key / PAIR_KEY_BASE);
    const b = key % PAIR_KEY_BASE;
    const closeIntervals: [number, number][] = [];
    for (let k = 0; k < list.length; k += 2) closeIntervals.push([list[k], list[k + 1]]);
    pairs.push({
      a,
      b,
      closeS: truth.closeSeconds(a, b),
      minDistanceM: truth.minDistanceM(a, b) ?? 0,
      closeIntervals,
    });
  }

  const indexCases = pickIndexCases(n, indexShare, seed);
  const published: PublishedKeySet = { gaen: [], dayKeys: [] };
  for (const i of indexCases) {
    for (const key of agents[i].keys) {
      if (agents[i].protocol === "gaen") {
        published.gaen.push({
          keyData: key.key,
          rollingStartIntervalNumber: key.day * GAEN_ROLLING_PERIOD,
          rollingPeriod: GAEN_ROLLING_PERIOD,
        });
      } else {
        published.dayKeys.push({
          protocol: agents[i].protocol as "dp3t" | "bluezone",
          key,
          days: 1,
        });
      }
    }
  }

  const sender = senderOfId(agents);
  const rssiVsDistance: RssiDistanceSample[] = [];
  for (const r of reservoir) {
    const from = sender.get(r.id);
    const distanceM = from === undefined ? undefined : r.near.get(from);
    if (distanceM !== undefined)
      rssiVsDistance.push({ distanceM: Math.round(distanceM * 1000) / 1000, rssiDbm: r.rssiDbm });
  }

  return {
    meta: {
      scenario: scenario.name,
      protocol: protocolLabel(sc),
      agents: n,
      durationS: run.durationS,
      seed,
      startMs,
      indexShare,
      closeDistanceM,
      closeMinutes,
      // Absent = herald-only: the folders written before v2 was the default.
      ...(channelName === HERALD_ONLY_CHANNEL ? {} : { channel: channelName }),
      ...(rxRssiCorrectionDb === 0 ? {} : { rxRssiCorrectionDb }),
    },
    sightings,
    indexCases,
    published,
    truth: { agents, pairs },
    rssiVsDistance,
    sightingCount: count,
    wallMs: run.wallMs,
  };
}

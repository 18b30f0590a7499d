/**
 * Runs a scenario through the simulator and keeps what the real system would have: each
 * receiver's stored sightings (decoded from the air by the link layer), the keys the index cases
 * publish (taken from the very key stores their phones advertised from), and the ground truth
 * (every pair's time within the close distance, as intervals). Deterministic from the seed.
 */
import { ConfigError } from "../../src/core/errors.js";
import { SeededRandom } from "../../src/core/random.js";
import { GAEN_ROLLING_PERIOD } from "../../src/protocols/gaen.js";
import type { KeyStore } from "../../src/protocols/key-store.js";
import type { DayKey, Protocol } from "../../src/protocols/rolling-id-scheme.js";
import type { Sighting } from "../../src/signal/sighting.js";
import { runSimulation } from "../engine/run-simulation.js";
import {
  DEFAULT_CHANNEL,
  HERALD_ONLY_CHANNEL,
  receiverCorrectionDb,
  resolveChannelProfile,
} from "../world/channel-propagation.js";
import type { Agents } from "../world/agents.js";
import type { GroundTruth } from "../world/ground-truth.js";
import { PROTOCOL_NAMES, type ProtocolName, type Scenario } from "../world/scenario.js";
import type { SpatialGrid } from "../world/spatial-grid.js";
import {
  PAIR_KEY_BASE,
  type PublishedKeySet,
  type RssiDistanceSample,
  type RunData,
  type RunMeta,
  type TruthAgent,
  type TruthPair,
} from "./run-data.js";

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
   * Worker threads of the engine (`SimulationOptions.workers`): in a world of venues (the city)
   * N hears the venues as N shards; same sightings for any N. Default: the engine's.
   */
  workers?: number;
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
/**
 * The RSSI sample's range (sightings of senders farther away have no distance) and the longest
 * close distance, metres.
 */
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

/** What a streamed run tells its observer as it goes. */
export interface RunObserver {
  /** The world is built (before the first step): the run's metadata and index cases are known. */
  start?(run: StreamStart): void;
  /** A stored sighting (receive time in whole ms, as a phone stores it) and who sent it. */
  sighting?(receiver: number, sighting: Sighting, sender: number): void;
  /**
   * Asked once after `start`: true when `sighting` copies what it keeps during the call, so the
   * run may hand it one object refilled for every sighting. Default false (a new object each).
   */
  copiesSightings?(): boolean;
  /**
   * Pair {a, b} (a < b) was within the close distance at every whole second in [fromS, toS)
   * since the run's start. A pair's spans come in time order, at most a few seconds late.
   */
  close?(a: number, b: number, fromS: number, toS: number): void;
  /**
   * After each step: no sighting earlier than `atMs` (wall clock, ms) will come; `keysOf` gives an
   * agent's day keys as its phone holds them now.
   */
  stepEnd?(atMs: number, keysOf: (agent: number) => readonly DayKey[]): void;
}

export interface StreamStart {
  readonly meta: RunMeta;
  readonly indexCases: readonly number[];
  readonly protocolOf: (agent: number) => Protocol;
}

/** What a streamed run leaves behind once over: everything but the sightings and the pairs. */
export interface StreamedRun {
  readonly meta: RunMeta;
  readonly indexCases: readonly number[];
  readonly published: PublishedKeySet;
  /** Every agent's role, protocol and keys (the truth's agent lines). */
  readonly agents: readonly TruthAgent[];
  /** The world's own ground truth: each pair's close seconds and minimum distance. */
  readonly groundTruth: GroundTruth;
  /** Agent `i`'s day keys as its phone held them at the end. */
  readonly keysOf: (agent: number) => readonly DayKey[];
  readonly rssiVsDistance: RssiDistanceSample[];
  readonly sightingCount: number;
  readonly wallMs: number;
}

/**
 * Runs a scenario and streams what happens to `observer`: nothing is kept but the run's small
 * parts (agents, keys, an RSSI sample), so memory does not grow with the sightings.
 */
export function simulateStream(
  scenario: Scenario,
  options: SimulateRunOptions,
  observer: RunObserver,
): StreamedRun {
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
  if (!(indexShare >= 0 && indexShare <= 1))
    throw new ConfigError(`index share must be in 0..1, got ${indexShare}`, "E_INDEX_SHARE");
  const sc = withChannel(withProtocol(scenario, options.protocol), options.channel);
  const profile = resolveChannelProfile(sc.channel ?? DEFAULT_CHANNEL);
  const channelName = profile.name;
  const rxRssiCorrectionDb = receiverCorrectionDb(profile);
  const durationS = options.durationS ?? sc.durationS;
  let meta: RunMeta | undefined;
  let indexCases: number[] = [];
  let protocolIndex: Uint8Array = new Uint8Array(0);
  const protocolOf = (agent: number) => PROTOCOL_NAMES[protocolIndex[agent]];

  // The world samples its truth once while it is built, before the observer has started: that
  // sample only opens spans, so every span comes after `start`.
  const onCloseSpan = observer.close?.bind(observer);

  // Reservoir sample of sightings with the distance to their sender at that step: the world's
  // positions, as the truth sampled them before the step's sightings (the distance the truth's
  // own pass would give, without tracing every pair within range each step), none beyond range.
  const sampleSize = options.rssiSamples ?? 3000;
  const reservoir: RssiDistanceSample[] = [];
  const sampleRandom = new SeededRandom(seed ^ 0x5a17);
  let count = 0;
  let scene: { readonly agents: Agents; readonly grid: SpatialGrid } | undefined;
  const rangeSquared = TRUTH_RANGE_M * TRUTH_RANGE_M;
  const distanceAt = (receiver: number, sender: number): number => {
    const { agents, grid } = scene!;
    if (!grid.contains(receiver) || !grid.contains(sender)) return Number.NaN;
    const dx = agents.xM[sender] - agents.xM[receiver];
    const dy = agents.yM[sender] - agents.yM[receiver];
    const d2 = dx * dx + dy * dy;
    return d2 <= rangeSquared ? Math.round(Math.sqrt(d2) * 1000) / 1000 : Number.NaN;
  };
  const onSighting = (receiver: number, s: Sighting, sender: number) => {
    // A phone stores receive times in whole milliseconds. The link layer makes a new object per
    // sighting and keeps none, so it is rounded in place rather than copied (7 M copies an hour
    // in a crowd of 10,000).
    (s as { atMs: number }).atMs = Math.round(s.atMs);
    observer.sighting?.(receiver, s, sender);
    count++;
    const slot = reservoir.length < sampleSize ? reservoir.length : sampleRandom.int(count);
    if (slot >= sampleSize) return;
    reservoir[slot] = { distanceM: distanceAt(receiver, sender), rssiDbm: s.rssiDbm };
  };

  const keyDays = (store: KeyStore) => store.all();
  const run = runSimulation(sc, {
    seed,
    agents: options.agents,
    durationS,
    startMs,
    groundTruth: { closeDistanceM, closeMinutes, onCloseSpan },
    onSighting,
    reuseSightings: () => observer.copiesSightings?.() === true,
    workers: options.workers,
    onStart: (built) => {
      scene = built;
      const n = built.agents.count;
      protocolIndex = built.agents.protocolIndex;
      indexCases = pickIndexCases(n, indexShare, seed);
      meta = {
        scenario: scenario.name,
        protocol: protocolLabel(sc),
        agents: n,
        durationS,
        seed,
        startMs,
        indexShare,
        closeDistanceM,
        closeMinutes,
        // Absent = herald-only: the folders written before v2 was the default.
        ...(channelName === HERALD_ONLY_CHANNEL ? {} : { channel: channelName }),
        ...(rxRssiCorrectionDb === 0 ? {} : { rxRssiCorrectionDb }),
      };
      observer.start?.({ meta, indexCases, protocolOf });
    },
    onStepEnd: observer.stepEnd
      ? (atMs, keyStoreOf) => observer.stepEnd!(startMs + atMs, (i) => keyDays(keyStoreOf(i)))
      : undefined,
    onProgress: options.onProgress,
  });
  const world = run.world;
  const n = world.agents.count;

  const roles = new Array<string>(n);
  for (const g of world.groups) for (let i = g.first; i < g.first + g.count; i++) roles[i] = g.role;
  const stores = run.keyStores;
  const agents: TruthAgent[] = [];
  for (let i = 0; i < n; i++) {
    agents.push({
      agent: i,
      role: roles[i] ?? "agent",
      protocol: PROTOCOL_NAMES[world.agents.protocolIndex[i]],
      keys: stores[i].all(),
    });
  }

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

  return {
    meta: meta!,
    indexCases,
    published,
    agents,
    groundTruth: world.groundTruth!,
    keysOf: (i) => agents[i].keys,
    // Sightings of senders beyond the truth's range have no distance: left out.
    rssiVsDistance: reservoir.filter((r) => !Number.isNaN(r.distanceM)),
    sightingCount: count,
    wallMs: run.wallMs,
  };
}

/**
 * `simulateStream` keeping everything: each receiver's sightings and every close pair with its
 * intervals (for small runs, the in-memory detection and the tests).
 */
export function simulateRun(
  scenario: Scenario,
  options: SimulateRunOptions = {},
  /** Also told everything, as by `simulateStream`. */
  also: RunObserver = {},
): SimulatedRun {
  const sightings: Sighting[][] = [];
  const intervals = new Map<number, number[]>();
  const run = simulateStream(scenario, options, {
    start: also.start,
    stepEnd: also.stepEnd,
    sighting: (receiver, s, sender) => {
      while (sightings.length <= receiver) sightings.push([]);
      sightings[receiver].push(s);
      also.sighting?.(receiver, s, sender);
    },
    close: (a, b, fromS, toS) => {
      also.close?.(a, b, fromS, toS);
      const key = a * PAIR_KEY_BASE + b;
      const list = intervals.get(key);
      if (!list) intervals.set(key, [fromS, toS]);
      else if (list[list.length - 1] >= fromS)
        list[list.length - 1] = Math.max(list[list.length - 1], toS);
      else list.push(fromS, toS);
    },
  });
  const n = run.meta.agents;
  while (sightings.length < n) sightings.push([]);
  const pairs: TruthPair[] = [];
  for (const [key, list] of [...intervals.entries()].sort((x, y) => x[0] - y[0])) {
    const a = Math.floor(key / PAIR_KEY_BASE);
    const b = key % PAIR_KEY_BASE;
    const closeIntervals: [number, number][] = [];
    for (let k = 0; k < list.length; k += 2) closeIntervals.push([list[k], list[k + 1]]);
    pairs.push({
      a,
      b,
      closeS: run.groundTruth.closeSeconds(a, b),
      minDistanceM: run.groundTruth.minDistanceM(a, b) ?? 0,
      closeIntervals,
    });
  }
  return {
    meta: run.meta,
    sightings,
    indexCases: run.indexCases,
    published: run.published,
    truth: { agents: run.agents, pairs },
    rssiVsDistance: run.rssiVsDistance,
    sightingCount: run.sightingCount,
    wallMs: run.wallMs,
  };
}

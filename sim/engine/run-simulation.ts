/**
 * Runs a scenario: the world moves in 1 s steps and after each step the link layer hears what
 * was on the air during it. Deterministic from the seed.
 */
import { ConfigError } from "../../src/core/errors.js";
import type { KeyStore } from "../../src/protocols/key-store.js";
import type { Sighting } from "../../src/signal/sighting.js";
import type { GroundTruthOptions } from "../world/ground-truth.js";
import type { Scenario } from "../world/scenario.js";
import { buildWorld, type World } from "../world/world.js";
import { LinkLayer, type LinkLayerCounts } from "./link-layer.js";

/** World step: at most 1 s keeps boarding and queue service exact. */
export const STEP_MS = 1_000;

export interface SimulationOptions {
  seed?: number;
  agents?: number;
  /** Simulated duration, s (default: the scenario's). */
  durationS?: number;
  startMs?: number;
  /** Ground-truth options (close distance and minutes, a per-sample callback), passed to the world. */
  groundTruth?: GroundTruthOptions;
  /** Each stored sighting, with the agent that sent it (the simulator's truth). */
  onSighting?: (receiver: number, sighting: Sighting, sender: number) => void;
  /**
   * Called after each step's sightings with the world's time, ms since time 0 (every sighting
   * still to come is at or after it) and each agent's key store as of now (the keys its phone
   * broadcast from so far: what an index case could publish).
   */
  onStepEnd?: (atMs: number, keyStoreOf: (agent: number) => KeyStore) => void;
  /**
   * Worker threads (see `LinkLayerOptions.workers`): in a world of venues (the city), N >= 1
   * hears the venues as N shards: the same sightings, in the same order, as 0, the default (all
   * in this thread). Other worlds are heard in this thread whatever N.
   */
  workers?: number;
  /** Called once the world is built, before the first step. */
  onStart?: (world: World) => void;
  /**
   * Asked once after `onStart`: true when `onSighting` copies what it keeps during the call, so
   * that the link layer may hand it one object refilled for every sighting (no garbage per
   * sighting). Default false: a new object each.
   */
  reuseSightings?: () => boolean;
  /** Called after every simulated minute with the fraction done (and the world, to look at). */
  onProgress?: (fraction: number, world: World) => void;
}

export interface SimulationRun {
  readonly world: World;
  readonly counts: LinkLayerCounts;
  /**
   * Each agent's key store, by agent index (what an index case publishes). Built from the
   * phones' compact state when first read.
   */
  readonly keyStores: readonly KeyStore[];
  /** Bytes of the link layer's per-phone state (the world's are `world.bytes`). */
  readonly linkBytes: number;
  readonly durationS: number;
  readonly wallMs: number;
}

export function runSimulation(scenario: Scenario, options: SimulationOptions = {}): SimulationRun {
  const durationS = options.durationS ?? scenario.durationS;
  if (!(durationS > 0 && durationS <= 7 * 86_400))
    throw new ConfigError(`duration must be 1 s to 7 days, got ${durationS} s`, "E_DURATION");
  const started = performance.now();
  const world = buildWorld(scenario, {
    seed: options.seed,
    agents: options.agents,
    groundTruth: options.groundTruth,
  });
  const link = new LinkLayer(world, {
    seed: options.seed,
    startMs: options.startMs,
    onSighting: options.onSighting,
    workers: options.workers,
  });
  const steps = Math.ceil((durationS * 1000) / STEP_MS);
  options.onStart?.(world);
  link.reuseSightings = options.reuseSightings?.() ?? false;
  const keyStoreOf = (agent: number) => link.keyStoreOf(agent);
  // The step's ground-truth sample is taken inside `hear`, once its worker threads (if any) are
  // hearing the step: the two overlap, and every sample still comes before the step's sightings.
  const observeTruth = () => world.observeTruth();
  try {
    for (let s = 0; s < steps; s++) {
      const fromMs = world.atMs;
      world.move(STEP_MS);
      link.hear(fromMs, world.atMs, observeTruth);
      // The truth's last close spans belong to the last step.
      if (s === steps - 1) world.groundTruth?.flushCloseSpans();
      options.onStepEnd?.(world.atMs, keyStoreOf);
      if (options.onProgress && (s + 1) % 60 === 0) options.onProgress((s + 1) / steps, world);
    }
  } finally {
    link.close();
  }
  let keyStores: KeyStore[] | undefined;
  return {
    world,
    counts: link.counts,
    get keyStores() {
      keyStores ??= link.keyStores;
      return keyStores;
    },
    linkBytes: link.bytes,
    durationS,
    wallMs: performance.now() - started,
  };
}

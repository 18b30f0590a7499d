/**
 * The simulator's link layer: every agent's phone advertises its rotating ID (real keys,
 * real payloads) and scans on its protocol's duty cycle; for each scan, each neighbour in
 * radio range is heard at its advertising events, on the channel the scanner listens to,
 * with the world's propagation (shadowing, bodies, fading, sensitivity) and a probability of
 * collision with the other advertisers on the air. What is heard is decoded from the
 * advertisement bytes into a sighting, exactly as a receiving phone would.
 *
 * Cost grows with (scanning receivers x neighbours in range x advertising events heard), not
 * with the square of the crowd; nothing is allocated per advertising event.
 *
 * Receptions are drawn by count: a pair's advertisements in a step are independent Bernoulli
 * trials with the per-advertisement probability of reaching the receiver's cut (`reception.ts`),
 * so the index of the next reception is drawn by inverting its geometric law and only received
 * advertisements get a value, drawn from the per-advertisement law above the cut. Per receiver
 * and step, near pairs (cached shadowing, `Propagation`'s state) are heard first, with the link
 * layer's stream; then far pairs (fresh shadowing per advertisement, no state), with a stream of
 * their own per (receiver, step). Far pairs, most of the work, can run in a worker thread
 * (`workers: 1`): it reads positions from shared memory and hands back its receptions, and the
 * sightings are byte-identical either way.
 */
import { isMainThread, Worker, workerData } from "node:worker_threads";
import { SeededRandom } from "../../src/core/random.js";
import { workerScript } from "../../src/core/worker-thread.js";
import type { KeyStore } from "../../src/protocols/key-store.js";
import type { Protocol } from "../../src/protocols/rolling-id-scheme.js";
import type { Sighting } from "../../src/signal/sighting.js";
import { Agents } from "../world/agents.js";
import type { Rect } from "../world/geometry.js";
import { Propagation, type PropagationParams } from "../world/propagation.js";
import { DRAW_NONE } from "../world/reception.js";
import type { ScanningCadence } from "../world/scenario.js";
import { SpatialGrid } from "../world/spatial-grid.js";
import { StreamRandom } from "../world/stream-random.js";
import type { World } from "../world/world.js";
import { Phones } from "./phones.js";

/** This module as a worker script (see `workerScript`). */
const workerUrl = () => workerScript(import.meta.url, "sim/engine/link-layer");

/** Mean advertising interval (GAEN BT spec v1.2 recommends 200-270 ms) plus the 0-10 ms advDelay mean. */
export const ADVERTISING_INTERVAL_MS = 255;
/** Air time of one legacy advertising PDU with 31 bytes of data at 1 Mbit/s: (1+4+2+6+31+3) bytes. */
export const PDU_AIRTIME_MS = 0.376;
/** Continuous scanning changes channel every 5.12 s, as Android controllers do. */
const CONTINUOUS_CHANNEL_DWELL_MS = 5120;

/** Scan duty cycles (docs/protocols.md, Rotation, addresses and scanning). */
export const SCAN_CADENCES: Record<
  ScanningCadence,
  { windowMs: number; minPeriodMs: number; maxPeriodMs: number }
> = {
  // Android GAEN reference: a 4 s scan every 210-300 s.
  gaen: { windowMs: 4_000, minPeriodMs: 210_000, maxPeriodMs: 300_000 },
  // Bluezone: 40 s every 260 s.
  bluezone: { windowMs: 40_000, minPeriodMs: 260_000, maxPeriodMs: 260_000 },
  continuous: { windowMs: Number.POSITIVE_INFINITY, minPeriodMs: 0, maxPeriodMs: 0 },
};

export interface LinkLayerOptions {
  seed?: number;
  /** Wall-clock time of the world's time 0 (keys and IDs depend on the date). */
  startMs?: number;
  /** TX power each phone writes in its GAEN metadata, dBm (the radiated power is the propagation model's). */
  txPowerDbm?: number;
  /** Receives every decoded sighting, with the receiving agent's index. */
  /** Each stored sighting, with the agent that sent it (the simulator's truth, not the phone's). */
  onSighting?: (receiver: number, sighting: Sighting, sender: number) => void;
  /**
   * 1: hear far pairs in a worker thread while this thread hears near pairs, decodes and
   * delivers (call `close()` when done). 0 (default): all in this thread. Same sightings.
   * In a world of venues (the city), N >= 1 hears the venues in N worker threads (venue v in
   * thread v mod N) and 0 in this thread; same sightings, in the same order, whatever N.
   */
  workers?: number;
}

export interface LinkLayerCounts {
  advertisingEventsHeardAt: number;
  belowSensitivity: number;
  collisions: number;
  sightings: number;
}

export class LinkLayer {
  readonly counts: LinkLayerCounts = {
    advertisingEventsHeardAt: 0,
    belowSensitivity: 0,
    collisions: 0,
    sightings: 0,
  };
  /** Every phone's keys, rotation state and current broadcast, as columns. */
  readonly phones: Phones;
  private readonly world: World;
  private readonly startMs: number;
  private readonly random: SeededRandom;
  private readonly phaseMs: Float64Array;
  private readonly firstEvents: FirstEvents;
  private readonly scanStartMs: Float64Array;
  private readonly scanEndMs: Float64Array;
  /** Near neighbours of a receiver and their squared distances, when a worker hears far pairs. */
  private readonly neighbours: Int32Array;
  private readonly neighbourD2: Float64Array;
  /** This step's scan interval per phone (`scanA` NaN when not scanning). */
  private readonly scanA: Float64Array;
  private readonly scanB: Float64Array;
  private stepIndex = 0;
  private readonly dwellMs: number;
  /** Near pairs: squared distance limit by the transmitter's carry, per receiver carry. */
  private readonly nearD2: Float64Array[];
  private readonly nearRangeM: number[];
  private readonly far: FarPairPass;
  private readonly local = new FarReceptions(1024);
  private remote: FarPairWorker | undefined;
  /** Worlds of venues: every receiver heard whole (near and far) by `venuePass` or `shards`. */
  private readonly venuePass: VenuePass | undefined;
  private shards: VenueShards | undefined;
  private readonly txPowerDbm: number;
  private readonly onSighting: (receiver: number, sighting: Sighting, sender: number) => void;
  /**
   * Whether `onSighting` gets one object per shape (with an AEM, without), refilled for every
   * sighting, instead of a new one each: for a callee that copies what it keeps during the call.
   * A city of 100,000 delivers 148 M sightings an hour, and their objects cost the collector
   * about a minute of this thread's time.
   */
  reuseSightings = false;
  private readonly withAem = {
    atMs: 0,
    protocol: "gaen" as Protocol,
    id: new Uint8Array(0) as Uint8Array,
    aem: new Uint8Array(0) as Uint8Array,
    rssiDbm: 0,
    channel: 0,
  };
  private readonly withoutAem = {
    atMs: 0,
    protocol: "gaen" as Protocol,
    id: new Uint8Array(0) as Uint8Array,
    rssiDbm: 0,
    channel: 0,
  };

  constructor(world: World, options: LinkLayerOptions = {}) {
    this.world = world;
    this.startMs = options.startMs ?? Date.UTC(2021, 0, 4, 9);
    this.random = new SeededRandom(options.seed ?? 1).fork();
    this.txPowerDbm = options.txPowerDbm ?? -24;
    this.onSighting = options.onSighting ?? (() => {});
    const n = world.agents.count;
    this.phaseMs = new Float64Array(n);
    this.scanStartMs = new Float64Array(n);
    this.scanEndMs = new Float64Array(n);
    this.neighbours = new Int32Array(n);
    this.neighbourD2 = new Float64Array(n);
    this.scanA = new Float64Array(n);
    this.scanB = new Float64Array(n);
    this.phones = new Phones(world.agents.protocolIndex, n, this.txPowerDbm);
    const cadence = SCAN_CADENCES[world.scenario.scanning];
    for (let i = 0; i < n; i++) {
      // Each phone's own stream: its advertising phase and first scan, then its keys,
      // rotation periods and addresses (kept as four words in `phones`, not as an object).
      const random = this.random.fork();
      this.phaseMs[i] = random.float() * ADVERTISING_INTERVAL_MS;
      // Phones do not scan in step: each starts at a random point of its first period.
      this.scanStartMs[i] = Number.isFinite(cadence.windowMs)
        ? random.float() * cadence.maxPeriodMs
        : 0;
      this.scanEndMs[i] = this.scanStartMs[i] + cadence.windowMs;
      this.phones.setStream(i, random);
    }
    this.firstEvents = new FirstEvents(this.phaseMs);
    this.dwellMs = Number.isFinite(cadence.windowMs)
      ? cadence.windowMs
      : CONTINUOUS_CHANNEL_DWELL_MS;
    const propagation = world.propagation;
    this.nearD2 = [0, 1, 2].map((c) => propagation.nearDistancesSquared(c, new Float64Array(3)));
    this.nearRangeM = this.nearD2.map((d2) =>
      Math.min(world.receptionRangeM, Math.sqrt(Math.max(...d2))),
    );
    const farSeed = this.random.int(2 ** 31);
    this.far = new FarPairPass(
      world.agents,
      world.radioGrid,
      propagation,
      world.receptionRangeM,
      this.dwellMs,
      farSeed,
    );
    if (world.venueOf !== undefined) {
      this.venuePass = new VenuePass(
        world.agents,
        world.radioGrid,
        propagation,
        world.receptionRangeM,
        this.dwellMs,
        farSeed,
      );
      const workers = options.workers ?? 0;
      if (workers > 0)
        this.shards = new VenueShards(world, workers, this.dwellMs, farSeed, this.phaseMs, [
          this.scanA,
          this.scanB,
          this.scanStartMs,
        ]);
    } else if (options.workers === 1) {
      this.remote = new FarPairWorker(world, this.dwellMs, farSeed, this.phaseMs, [
        this.scanA,
        this.scanB,
        this.scanStartMs,
      ]);
    }
  }

  /**
   * Runs the link layer over the world's last step, `[world.atMs - dtMs, world.atMs)`.
   * `meanwhile` (the step's ground-truth sample) is called once, before any sighting is
   * delivered: once the venue shards are hearing the step when there are any (it then runs
   * alongside them), else first.
   */
  hear(fromMs: number, toMs: number, meanwhile?: () => void): void {
    if (this.shards === undefined) meanwhile?.();
    const { world, counts, random } = this;
    const agents = world.agents;
    const present = agents.present;
    const propagation = world.propagation;
    const tables = propagation.reception;
    const cadence = SCAN_CADENCES[world.scenario.scanning];
    const { sensitivityDbm, saturationDbm } = propagation.params;
    const neighbours = this.neighbours;
    const n = agents.count;
    const scanA = this.scanA;
    const scanB = this.scanB;
    const stepIndex = this.stepIndex++;
    // Which phones scan during this step, and over which part of it (NaN: not scanning).
    let scanning = 0;
    for (let r = 0; r < n; r++) {
      scanA[r] = Number.NaN;
      if (!present[r]) continue;
      // Advance this phone's scan schedule past `fromMs`.
      while (this.scanEndMs[r] <= fromMs) {
        const period =
          cadence.minPeriodMs + random.float() * (cadence.maxPeriodMs - cadence.minPeriodMs);
        this.scanStartMs[r] += period;
        this.scanEndMs[r] = this.scanStartMs[r] + cadence.windowMs;
      }
      const a = Math.max(fromMs, this.scanStartMs[r]);
      const b = Math.min(toMs, this.scanEndMs[r]);
      if (a >= b) continue;
      scanA[r] = a;
      scanB[r] = b;
      scanning++;
    }
    if (this.venuePass !== undefined) {
      this.hearVenues(fromMs, stepIndex, scanning, meanwhile);
      return;
    }
    if (scanning === 0) return;
    const firstEvents = this.firstEvents;
    firstEvents.begin(stepIndex, fromMs);
    const remote = this.remote;
    const useRemote =
      remote !== undefined && toMs - fromMs <= remote.maxStepMs && remote.start(stepIndex, fromMs);
    let heardAt = 0;
    let below = 0;
    let collisions = 0;
    for (let r = 0; r < n; r++) {
      const a = scanA[r];
      if (Number.isNaN(a)) continue; // not scanning
      const b = scanB[r];
      const scanStartMs = this.scanStartMs[r];
      // Far pairs first (here or in the worker): they also count the advertisers on the air.
      const count = useRemote
        ? remote.countFor(r)
        : this.far.run(r, a, b, scanStartMs, firstEvents, stepIndex, this.local);
      // Chance that another advertiser's PDU overlaps one on the same channel (pure ALOHA).
      const collisionP = 1 - Math.exp((-2 * count * PDU_AIRTIME_MS) / ADVERTISING_INTERVAL_MS);
      // Near pairs: here, those the far pass set aside (in grid order, the order a query of
      // their own would give); with a worker, a query of their own.
      let list = this.far.near;
      let listD2 = this.far.nearD2;
      let listed = this.far.nearCount;
      if (useRemote) {
        const rxCarry = agents.carry[r];
        world.radioGrid.neighboursByClass(
          r,
          this.nearRangeM[rxCarry],
          agents.carry,
          this.nearD2[rxCarry],
          neighbours,
          this.neighbourD2,
        );
        list = neighbours;
        listD2 = this.neighbourD2;
        listed = world.radioGrid.kept;
      }
      for (let k = 0; k < listed; k++) {
        const t = list[k];
        const d2 = listD2[k];
        const firstMs = firstEvents.at(t, a);
        if (firstMs >= b) continue;
        const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
        heardAt += events;
        // People in between only weaken the signal: when even without them no advertisement
        // can reach the cut, they need not be counted (and nothing is drawn either way).
        const upperDbm = propagation.linkMeanUpperDbm(t, r, d2);
        if (!(tables.probabilityAtLeast(propagation.drawKind, sensitivityDbm - upperDbm) > 0)) {
          below += events;
          continue;
        }
        const meanDbm = propagation.linkMeanDbm(t, r, d2);
        const kind = propagation.drawKind;
        // Each advertisement is received when its per-advertisement term reaches `cutDb`.
        const cutDb = sensitivityDbm - meanDbm;
        const p = kind === DRAW_NONE ? 0 : tables.probabilityAtLeast(kind, cutDb);
        if (!(p > 0)) {
          below += events;
          continue;
        }
        const miss = 1 - p;
        let received = 0;
        for (let e = 0; e < events; ) {
          // Index of the next reception: invert its geometric law with one uniform, whose
          // position inside the winning interval is the uniform of the received value.
          const w = 1 - random.float(); // (0, 1]
          let before = 1; // P(no reception among the first m events left)
          let after = miss; // ... among the first m + 1
          let m = 0;
          const left = events - e;
          while (m < left && after >= w) {
            before = after;
            after *= miss;
            m++;
          }
          if (m === left) break;
          e += m;
          received++;
          const v = (before - w) / (before - after);
          const eventMs = firstMs + e * ADVERTISING_INTERVAL_MS;
          e++;
          if (collisionP > 0 && random.float() < collisionP) {
            collisions++;
            continue;
          }
          const dbm = meanDbm + tables.drawAtLeast(kind, cutDb, v < 1 ? v : 0);
          const rssiDbm = Math.min(Math.round(dbm), saturationDbm);
          const channel = 37 + (Math.floor((eventMs - scanStartMs) / this.dwellMs) % 3);
          this.deliver(r, t, this.startMs + eventMs, rssiDbm, channel);
        }
        below += events - received;
      }
      // Then what the far pairs brought.
      if (useRemote) remote.deliverFor(r, this.deliverFar);
      else this.local.drain(this.deliverFar);
    }
    const far = useRemote ? remote.finish() : this.far.takeCounts();
    counts.advertisingEventsHeardAt += heardAt + far[0];
    counts.belowSensitivity += below + far[1];
    counts.collisions += collisions + far[2];
  }

  /**
   * A world of venues: each scanning receiver is heard whole, in index order, by the venue pass
   * here or by the shard that holds its venue; either way from streams of its own, so the
   * sightings and their order are the same for any number of shards.
   */
  private hearVenues(
    fromMs: number,
    stepIndex: number,
    scanning: number,
    meanwhile: (() => void) | undefined,
  ): void {
    const n = this.world.agents.count;
    const { scanA, scanB, scanStartMs } = this;
    const shards = this.shards;
    let far: [number, number, number];
    if (shards !== undefined) {
      shards.start(stepIndex, fromMs, this.world.atMs);
      meanwhile?.();
      if (scanning > 0)
        for (let r = 0; r < n; r++)
          if (!Number.isNaN(scanA[r])) shards.deliverFor(r, this.deliverFar);
      far = shards.finish();
    } else {
      const pass = this.venuePass!;
      const firstEvents = this.firstEvents;
      firstEvents.begin(stepIndex, fromMs);
      for (let r = 0; r < n && scanning > 0; r++) {
        const a = scanA[r];
        if (Number.isNaN(a)) continue;
        pass.run(r, a, scanB[r], scanStartMs[r], firstEvents, stepIndex, this.local);
        this.local.drain(this.deliverFar);
      }
      far = pass.takeCounts();
    }
    this.counts.advertisingEventsHeardAt += far[0];
    this.counts.belowSensitivity += far[1];
    this.counts.collisions += far[2];
  }

  /**
   * Each agent's own key store (the keys its broadcasts used so far), by agent index: built
   * from the phones' columns at each call, so read it once after the run.
   */
  get keyStores(): KeyStore[] {
    return this.phones.keyStores();
  }

  /** Agent `i`'s key store as of now (a new object per call, built from the phones' columns). */
  keyStoreOf(i: number): KeyStore {
    return this.phones.keyStore(i);
  }

  /** Bytes of the link layer's per-phone state (typed arrays; the phones' columns included). */
  get bytes(): number {
    return (
      this.phones.bytes +
      this.phaseMs.byteLength +
      this.scanStartMs.byteLength +
      this.scanEndMs.byteLength +
      this.neighbours.byteLength +
      this.neighbourD2.byteLength +
      this.scanA.byteLength +
      this.scanB.byteLength +
      this.firstEvents.bytes +
      this.far.bytes
    );
  }

  /** Stops the far-pair worker, if any (the link layer then hears everything in this thread). */
  close(): void {
    this.remote?.close();
    this.remote = undefined;
    this.shards?.close();
    this.shards = undefined;
  }

  private readonly deliverFar = (
    receiver: number,
    sender: number,
    eventMs: number,
    rssiDbm: number,
    channel: number,
  ): void => {
    this.deliver(receiver, sender, this.startMs + eventMs, rssiDbm, channel);
  };

  private deliver(
    receiver: number,
    sender: number,
    atMs: number,
    rssiDbm: number,
    channel: number,
  ): void {
    // The sender's broadcast at that instant (rotating it if due), decoded from its bytes.
    const d = this.phones.decodedAt(sender, atMs);
    if (!d) return;
    this.counts.sightings++;
    if (this.reuseSightings) {
      let s: { atMs: number; protocol: Protocol; id: Uint8Array; rssiDbm: number; channel: number };
      if (d.aem) {
        s = this.withAem;
        this.withAem.aem = d.aem;
      } else s = this.withoutAem;
      s.atMs = atMs;
      s.protocol = d.protocol;
      s.id = d.id;
      s.rssiDbm = rssiDbm;
      s.channel = channel;
      this.onSighting(receiver, s, sender);
      return;
    }
    this.onSighting(
      receiver,
      d.aem
        ? { atMs, protocol: d.protocol, id: d.id, aem: d.aem, rssiDbm, channel }
        : { atMs, protocol: d.protocol, id: d.id, rssiDbm, channel },
      sender,
    );
  }
}

/**
 * Each phone's first advertising event of the step, computed when first asked for (a step of
 * GAEN scanning looks at the neighbours of 2 % of the phones, not at all of them).
 */
class FirstEvents {
  private readonly phaseMs: Float64Array;
  private readonly firstMs: Float64Array;
  private readonly stamp: Int32Array;
  private step = -1;
  private fromMs = 0;

  constructor(phaseMs: Float64Array) {
    this.phaseMs = phaseMs;
    this.firstMs = new Float64Array(phaseMs.length);
    this.stamp = new Int32Array(phaseMs.length).fill(-1);
  }

  get bytes(): number {
    return this.firstMs.byteLength + this.stamp.byteLength;
  }

  begin(step: number, fromMs: number): void {
    this.step = step;
    this.fromMs = fromMs;
  }

  /** Phone `t`'s first advertising event at or after `a` (not before the step's start). */
  at(t: number, a: number): number {
    if (this.stamp[t] !== this.step) {
      this.stamp[t] = this.step;
      const from = this.fromMs;
      this.firstMs[t] = from + intervalOffset(this.phaseMs[t] - from);
    }
    const first = this.firstMs[t];
    // A scan that began inside the step: its first event of this phone.
    return first >= a
      ? first
      : first + Math.ceil((a - first) / ADVERTISING_INTERVAL_MS) * ADVERTISING_INTERVAL_MS;
  }
}

/**
 * `((x % I) + I) % I` for the advertising interval I, to the bit, without its two `fmod` calls
 * (each a call into C, paid per phone per step). `x - trunc(x / I) * I` is exact (an integer
 * number of intervals off `x`, no larger than it) but the rounded quotient can be one off, which
 * the signs reveal; the rest is the expression's own rounding of `r + I`, then the exact
 * `fmod` of a value in [0, 2 I] (`r + I` can round up to 2 I itself, whose remainder is 0).
 */
export function intervalOffset(x: number): number {
  const i = ADVERTISING_INTERVAL_MS;
  let r = x - Math.trunc(x / i) * i;
  if (x >= 0) {
    if (r < 0) r += i;
    else if (r >= i) r -= i;
  } else if (r > 0) r -= i;
  else if (r <= -i) r += i;
  const y = r + i;
  return y < i ? y : y < 2 * i ? y - i : y - 2 * i;
}

/** Where far-pair receptions go: (receiver, sender, virtual ms, RSSI, channel). */
interface ReceptionSink {
  push(receiver: number, sender: number, eventMs: number, rssiDbm: number, channel: number): void;
}

type DeliverFar = (
  receiver: number,
  sender: number,
  eventMs: number,
  rssiDbm: number,
  channel: number,
) => void;

/** Receptions as columns, growing as needed (the in-thread sink). */
class FarReceptions implements ReceptionSink {
  private receiver: Int32Array;
  private sender: Int32Array;
  private atMs: Float64Array;
  private rssi: Int16Array;
  private channel: Uint8Array;
  private size = 0;

  constructor(capacity: number) {
    this.receiver = new Int32Array(capacity);
    this.sender = new Int32Array(capacity);
    this.atMs = new Float64Array(capacity);
    this.rssi = new Int16Array(capacity);
    this.channel = new Uint8Array(capacity);
  }

  push(receiver: number, sender: number, eventMs: number, rssiDbm: number, channel: number): void {
    if (this.size === this.receiver.length) this.grow();
    const i = this.size++;
    this.receiver[i] = receiver;
    this.sender[i] = sender;
    this.atMs[i] = eventMs;
    this.rssi[i] = rssiDbm;
    this.channel[i] = channel;
  }

  drain(deliver: DeliverFar): void {
    for (let i = 0; i < this.size; i++) {
      deliver(this.receiver[i], this.sender[i], this.atMs[i], this.rssi[i], this.channel[i]);
    }
    this.size = 0;
  }

  private grow(): void {
    const grown = (a: Int32Array | Float64Array | Int16Array | Uint8Array) => {
      const b = new (a.constructor as new (n: number) => typeof a)(a.length * 2);
      b.set(a as never);
      return b;
    };
    this.receiver = grown(this.receiver) as Int32Array;
    this.sender = grown(this.sender) as Int32Array;
    this.atMs = grown(this.atMs) as Float64Array;
    this.rssi = grown(this.rssi) as Int16Array;
    this.channel = grown(this.channel) as Uint8Array;
  }
}

/**
 * One receiver's far pairs for one step: the neighbour query over the whole reception range
 * (which also counts the advertisers on the air), the events of culled neighbours, and the
 * receptions of far ones drawn by count. Near pairs are skipped (the link layer's own loop).
 * Touches no shared state but its counters: safe to run in another thread over a copy of the
 * positions.
 */
class FarPairPass {
  private readonly agents: Agents;
  private readonly grid: SpatialGrid;
  private readonly propagation: Propagation;
  private readonly rangeM: number;
  private readonly dwellMs: number;
  private readonly seed: number;
  private readonly random = new StreamRandom();
  private readonly neighbours: Int32Array;
  private readonly neighbourD2: Float64Array;
  /** The last `run`'s near neighbours (in grid order) and their squared distances: `nearCount`. */
  readonly near: Int32Array;
  readonly nearD2: Float64Array;
  nearCount = 0;
  private readonly cullD2: Float64Array[];
  private heardAt = 0;
  private below = 0;
  private collisions = 0;

  constructor(
    agents: Agents,
    grid: SpatialGrid,
    propagation: Propagation,
    rangeM: number,
    dwellMs: number,
    seed: number,
  ) {
    this.agents = agents;
    this.grid = grid;
    this.propagation = propagation;
    this.rangeM = rangeM;
    this.dwellMs = dwellMs;
    this.seed = seed;
    this.neighbours = new Int32Array(agents.capacity);
    this.neighbourD2 = new Float64Array(agents.capacity);
    this.near = new Int32Array(agents.capacity);
    this.nearD2 = new Float64Array(agents.capacity);
    this.cullD2 = [0, 1, 2].map((c) => propagation.cullDistancesSquared(c, new Float64Array(3)));
  }

  /** Bytes of the neighbour lists. */
  get bytes(): number {
    return (
      this.neighbours.byteLength +
      this.neighbourD2.byteLength +
      this.near.byteLength +
      this.nearD2.byteLength
    );
  }

  /** Events, events below sensitivity and collisions since the last call. */
  takeCounts(): [number, number, number] {
    const out: [number, number, number] = [this.heardAt, this.below, this.collisions];
    this.heardAt = 0;
    this.below = 0;
    this.collisions = 0;
    return out;
  }

  /** Hears receiver `r`'s far pairs over `[a, b)`; returns the advertisers within range. */
  run(
    r: number,
    a: number,
    b: number,
    scanStartMs: number,
    firstEvents: FirstEvents,
    step: number,
    sink: ReceptionSink,
  ): number {
    const { agents, grid, propagation, neighbours, neighbourD2, near, nearD2, random } = this;
    const tables = propagation.reception;
    const { sensitivityDbm, saturationDbm } = propagation.params;
    const count = grid.neighboursByClass(
      r,
      this.rangeM,
      agents.carry,
      this.cullD2[agents.carry[r]],
      neighbours,
      neighbourD2,
    );
    const kept = grid.kept;
    let nearCount = 0;
    let heardAt = 0;
    let below = 0;
    let collisions = 0;
    // Neighbours that cannot be heard at all (by their carry position): only their events.
    for (let n = neighbours.length - (count - kept); n < neighbours.length; n++) {
      const firstMs = firstEvents.at(neighbours[n], a);
      if (firstMs >= b) continue;
      const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
      heardAt += events;
      below += events;
    }
    random.reseed(this.seed, r, step);
    const collisionP = 1 - Math.exp((-2 * count * PDU_AIRTIME_MS) / ADVERTISING_INTERVAL_MS);
    for (let n = 0; n < kept; n++) {
      const t = neighbours[n];
      const d2 = neighbourD2[n];
      const bound = propagation.receptionBound(t, r, d2);
      if (bound === Number.POSITIVE_INFINITY) {
        // A near pair, for the link layer's own loop.
        near[nearCount] = t;
        nearD2[nearCount++] = d2;
        continue;
      }
      const firstMs = firstEvents.at(t, a);
      if (firstMs >= b) continue;
      const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
      heardAt += events;
      // The first uniform decides whether anything is received at all (nothing iff
      // w <= (1 - p)^events, and (1 - p)^events >= 1 - events * bound): most far pairs stop
      // here, before their path loss is computed.
      let w = 1 - random.float(); // (0, 1]
      if (w <= 1 - events * bound) {
        below += events;
        continue;
      }
      const meanDbm = propagation.linkMeanDbm(t, r, d2);
      const kind = propagation.drawKind;
      const cutDb = sensitivityDbm - meanDbm;
      const p = kind === DRAW_NONE ? 0 : tables.probabilityAtLeast(kind, cutDb);
      if (!(p > 0)) {
        below += events;
        continue;
      }
      const miss = 1 - p;
      let received = 0;
      for (let e = 0; e < events; ) {
        if (w === 0) w = 1 - random.float();
        let before = 1;
        let after = miss;
        let m = 0;
        const left = events - e;
        while (m < left && after >= w) {
          before = after;
          after *= miss;
          m++;
        }
        if (m === left) break;
        e += m;
        received++;
        const v = (before - w) / (before - after);
        w = 0;
        const eventMs = firstMs + e * ADVERTISING_INTERVAL_MS;
        e++;
        if (collisionP > 0 && random.float() < collisionP) {
          collisions++;
          continue;
        }
        const dbm = meanDbm + tables.drawAtLeast(kind, cutDb, v < 1 ? v : 0);
        const rssiDbm = Math.min(Math.round(dbm), saturationDbm);
        const channel = 37 + (Math.floor((eventMs - scanStartMs) / this.dwellMs) % 3);
        sink.push(r, t, eventMs, rssiDbm, channel);
      }
      below += events - received;
    }
    this.nearCount = nearCount;
    this.heardAt += heardAt;
    this.below += below;
    this.collisions += collisions;
    return count;
  }
}

// Control words shared with the far-pair worker.
const SEQ = 0;
const PROGRESS = 1;
const DONE = 2;
const WRITTEN = 3;
const CONSUMED = 4;
const MAIN_WAITING = 5;
const WORKER_WAITING = 6;
const READY = 7;
const CONTROL_WORDS = 8;
/** A worker silent this long is taken as dead (its error event cannot arrive while we block). */
const WORKER_TIMEOUT_MS = 60_000;

interface FarWorkerData {
  proxkitFarPairs: true;
  count: number;
  capacity: number;
  ringSize: number;
  carry: Uint8Array;
  deviceIndex: Uint16Array;
  bounds: Rect;
  cellSizeM: number;
  params: PropagationParams;
  rangeM: number;
  dwellMs: number;
  seed: number;
  phaseMs: Float64Array;
  buffers: {
    control: SharedArrayBuffer;
    header: SharedArrayBuffer;
    xM: SharedArrayBuffer;
    yM: SharedArrayBuffer;
    present: SharedArrayBuffer;
    scanA: SharedArrayBuffer;
    scanB: SharedArrayBuffer;
    scanStart: SharedArrayBuffer;
    counts: SharedArrayBuffer;
    farCounts: SharedArrayBuffer;
    receiver: SharedArrayBuffer;
    sender: SharedArrayBuffer;
    atMs: SharedArrayBuffer;
    rssi: SharedArrayBuffer;
    channel: SharedArrayBuffer;
  };
}

/** Typed views over a worker's shared buffers. */
function views(data: FarWorkerData) {
  const b = data.buffers;
  return {
    control: new Int32Array(b.control),
    header: new Float64Array(b.header),
    xM: new Float64Array(b.xM),
    yM: new Float64Array(b.yM),
    present: new Uint8Array(b.present),
    scanA: new Float64Array(b.scanA),
    scanB: new Float64Array(b.scanB),
    scanStart: new Float64Array(b.scanStart),
    counts: new Int32Array(b.counts),
    farCounts: new Float64Array(b.farCounts),
    receiver: new Int32Array(b.receiver),
    sender: new Int32Array(b.sender),
    atMs: new Float64Array(b.atMs),
    rssi: new Int16Array(b.rssi),
    channel: new Uint8Array(b.channel),
  };
}

/** Blocks until `control[index]` satisfies `done`, flagging `flag` so the other side notifies. */
function waitFor(control: Int32Array, index: number, flag: number, done: (v: number) => boolean) {
  const started = Date.now();
  for (;;) {
    const v = Atomics.load(control, index);
    if (done(v)) return v;
    Atomics.store(control, flag, 1);
    const again = Atomics.load(control, index);
    if (done(again)) return again;
    Atomics.wait(control, index, again, 200);
    if (Date.now() - started > WORKER_TIMEOUT_MS) {
      throw new Error("link layer: the far-pair worker stopped answering");
    }
  }
}

/** The main thread's side of the far-pair worker. */
class FarPairWorker {
  readonly maxStepMs: number;
  private readonly worker: Worker;
  private readonly v: ReturnType<typeof views>;
  private readonly world: World;
  private readonly scans: [Float64Array, Float64Array, Float64Array];
  private readonly mask: number;
  private seq = 0;
  private consumed = 0;

  constructor(
    world: World,
    dwellMs: number,
    seed: number,
    phaseMs: Float64Array,
    scans: [Float64Array, Float64Array, Float64Array],
  ) {
    const agents = world.agents;
    const n = agents.count;
    let ringSize = 65_536;
    while (ringSize < 6 * n) ringSize *= 2;
    const sab = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes));
    const data: FarWorkerData = {
      proxkitFarPairs: true,
      count: n,
      capacity: agents.capacity,
      ringSize,
      carry: agents.carry.slice(0, n),
      deviceIndex: agents.deviceIndex.slice(0, n),
      bounds: world.radioGrid.bounds,
      cellSizeM: world.radioGrid.requestedCellSizeM,
      params: world.propagation.params,
      rangeM: world.receptionRangeM,
      dwellMs,
      seed,
      phaseMs,
      buffers: {
        control: sab(4 * CONTROL_WORDS),
        header: sab(8 * 4),
        xM: sab(8 * n),
        yM: sab(8 * n),
        present: sab(n),
        scanA: sab(8 * n),
        scanB: sab(8 * n),
        scanStart: sab(8 * n),
        counts: sab(4 * n),
        farCounts: sab(8 * 3),
        receiver: sab(4 * ringSize),
        sender: sab(4 * ringSize),
        atMs: sab(8 * ringSize),
        rssi: sab(2 * ringSize),
        channel: sab(ringSize),
      },
    };
    this.v = views(data);
    this.world = world;
    this.scans = scans;
    this.mask = ringSize - 1;
    // A pair has at most ceil(step / interval) + 1 events per step: keep a receiver's worst case
    // inside the ring (it is drained receiver by receiver).
    this.maxStepMs = (Math.floor(ringSize / Math.max(1, n)) - 1) * ADVERTISING_INTERVAL_MS;
    // No inherited flags: `--input-type`, `--eval` and the like would stop a file worker.
    this.worker = new Worker(workerUrl(), { workerData: data, execArgv: [] });
    this.worker.unref();
    const started = Date.now();
    while (Atomics.load(this.v.control, READY) === 0) {
      Atomics.wait(this.v.control, READY, 0, 100);
      if (Date.now() - started > 20_000) {
        void this.worker.terminate();
        throw new Error(`link layer: the far-pair worker did not start (${workerUrl().href})`);
      }
    }
  }

  /** Hands the step to the worker. */
  start(step: number, fromMs: number): boolean {
    const { v, world } = this;
    const n = world.agents.count;
    v.xM.set(world.agents.xM.subarray(0, n));
    v.yM.set(world.agents.yM.subarray(0, n));
    v.present.set(world.agents.present.subarray(0, n));
    v.scanA.set(this.scans[0]);
    v.scanB.set(this.scans[1]);
    v.scanStart.set(this.scans[2]);
    v.header[0] = step;
    v.header[1] = fromMs;
    Atomics.store(v.control, PROGRESS, 0);
    this.seq++;
    Atomics.store(v.control, SEQ, this.seq);
    Atomics.notify(v.control, SEQ);
    return true;
  }

  /** The advertisers within range of receiver `r` (waits until the worker is past it). */
  countFor(r: number): number {
    waitFor(this.v.control, PROGRESS, MAIN_WAITING, (p) => p > r);
    return this.v.counts[r];
  }

  /** Delivers the worker's receptions for receiver `r` (call after `countFor(r)`). */
  deliverFor(r: number, deliver: DeliverFar): void {
    const { v, mask } = this;
    const written = Atomics.load(v.control, WRITTEN);
    let c = this.consumed;
    while (c !== written && v.receiver[c & mask] === r) {
      const i = c & mask;
      deliver(r, v.sender[i], v.atMs[i], v.rssi[i], v.channel[i]);
      c = (c + 1) | 0;
    }
    this.consumed = c;
    Atomics.store(v.control, CONSUMED, c);
    if (Atomics.load(v.control, WORKER_WAITING) === 1) {
      Atomics.store(v.control, WORKER_WAITING, 0);
      Atomics.notify(v.control, CONSUMED);
    }
  }

  /** Waits for the end of the step; returns its far-pair counts. */
  finish(): [number, number, number] {
    const seq = this.seq;
    waitFor(this.v.control, DONE, MAIN_WAITING, (d) => d === seq);
    const c = this.v.farCounts;
    return [c[0], c[1], c[2]];
  }

  close(): void {
    Atomics.store(this.v.control, SEQ, -1);
    Atomics.notify(this.v.control, SEQ);
    void this.worker.terminate();
  }
}

/** The worker: hears far pairs step by step over the shared positions. */
function runFarPairWorker(data: FarWorkerData): void {
  const v = views(data);
  const n = data.count;
  const agents = new Agents(data.capacity);
  for (let i = 0; i < n; i++) {
    agents.add({
      xM: 0,
      yM: 0,
      carry: data.carry[i] as 0 | 1 | 2,
      deviceIndex: data.deviceIndex[i],
    });
  }
  const grid = new SpatialGrid(agents, data.bounds, data.cellSizeM);
  const propagation = new Propagation(agents, grid, new SeededRandom(1), data.params);
  const pass = new FarPairPass(agents, grid, propagation, data.rangeM, data.dwellMs, data.seed);
  const firstEvents = new FirstEvents(data.phaseMs);
  const mask = data.ringSize - 1;
  let written = Atomics.load(v.control, WRITTEN);
  const sink: ReceptionSink = {
    push(receiver, sender, eventMs, rssiDbm, channel) {
      waitFor(v.control, CONSUMED, WORKER_WAITING, (c) => ((written - c) | 0) < data.ringSize);
      const i = written & mask;
      v.receiver[i] = receiver;
      v.sender[i] = sender;
      v.atMs[i] = eventMs;
      v.rssi[i] = rssiDbm;
      v.channel[i] = channel;
      written = (written + 1) | 0;
    },
  };
  let seen = 0;
  Atomics.store(v.control, READY, 1);
  Atomics.notify(v.control, READY);
  for (;;) {
    Atomics.wait(v.control, SEQ, seen);
    const seq = Atomics.load(v.control, SEQ);
    if (seq < 0) return;
    if (seq === seen) continue;
    seen = seq;
    agents.xM.set(v.xM);
    agents.yM.set(v.yM);
    agents.present.set(v.present);
    grid.rebuild();
    const step = v.header[0];
    firstEvents.begin(step, v.header[1]);
    for (let r = 0; r < n; r++) {
      const a = v.scanA[r];
      if (Number.isNaN(a)) continue;
      v.counts[r] = pass.run(r, a, v.scanB[r], v.scanStart[r], firstEvents, step, sink);
      Atomics.store(v.control, WRITTEN, written);
      Atomics.store(v.control, PROGRESS, r + 1);
      if (Atomics.load(v.control, MAIN_WAITING) === 1) {
        Atomics.store(v.control, MAIN_WAITING, 0);
        Atomics.notify(v.control, PROGRESS);
      }
    }
    v.farCounts.set(pass.takeCounts());
    Atomics.store(v.control, PROGRESS, n);
    Atomics.store(v.control, DONE, seq);
    Atomics.store(v.control, MAIN_WAITING, 0);
    Atomics.notify(v.control, DONE);
    Atomics.notify(v.control, PROGRESS);
  }
}

if (!isMainThread && (workerData as { proxkitFarPairs?: boolean } | null)?.proxkitFarPairs) {
  runFarPairWorker(workerData as FarWorkerData);
}

/**
 * One receiver of a world of venues, heard whole for one step: the neighbour query over the
 * reception range (everyone it returns is in the receiver's venue), then each neighbour near or
 * far as the link layer's two passes do, all from one stream per (receiver, step). With the
 * propagation model's pair streams (`Propagation.usePairStreams`), what it hears depends only on
 * the world's state and the receiver's venue-mates: any thread holding a copy of the venue gets
 * the same receptions.
 */
class VenuePass {
  private readonly agents: Agents;
  private readonly grid: SpatialGrid;
  private readonly propagation: Propagation;
  private readonly rangeM: number;
  private readonly dwellMs: number;
  private readonly seed: number;
  private readonly random = new StreamRandom();
  private readonly neighbours: Int32Array;
  private readonly neighbourD2: Float64Array;
  private readonly cullD2: Float64Array[];
  private heardAt = 0;
  private below = 0;
  private collisions = 0;

  constructor(
    agents: Agents,
    grid: SpatialGrid,
    propagation: Propagation,
    rangeM: number,
    dwellMs: number,
    seed: number,
  ) {
    this.agents = agents;
    this.grid = grid;
    this.propagation = propagation;
    this.rangeM = rangeM;
    this.dwellMs = dwellMs;
    this.seed = seed;
    this.neighbours = new Int32Array(agents.capacity);
    this.neighbourD2 = new Float64Array(agents.capacity);
    this.cullD2 = [0, 1, 2].map((c) => propagation.cullDistancesSquared(c, new Float64Array(3)));
  }

  takeCounts(): [number, number, number] {
    const out: [number, number, number] = [this.heardAt, this.below, this.collisions];
    this.heardAt = 0;
    this.below = 0;
    this.collisions = 0;
    return out;
  }

  run(
    r: number,
    a: number,
    b: number,
    scanStartMs: number,
    firstEvents: FirstEvents,
    step: number,
    sink: ReceptionSink,
  ): void {
    const { agents, grid, propagation, neighbours, neighbourD2, random } = this;
    const tables = propagation.reception;
    const { sensitivityDbm, saturationDbm } = propagation.params;
    const count = grid.neighboursByClass(
      r,
      this.rangeM,
      agents.carry,
      this.cullD2[agents.carry[r]],
      neighbours,
      neighbourD2,
    );
    const kept = grid.kept;
    let heardAt = 0;
    let below = 0;
    let collisions = 0;
    for (let n = neighbours.length - (count - kept); n < neighbours.length; n++) {
      const firstMs = firstEvents.at(neighbours[n], a);
      if (firstMs >= b) continue;
      const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
      heardAt += events;
      below += events;
    }
    random.reseed(this.seed, r, step);
    const collisionP = 1 - Math.exp((-2 * count * PDU_AIRTIME_MS) / ADVERTISING_INTERVAL_MS);
    for (let n = 0; n < kept; n++) {
      const t = neighbours[n];
      const d2 = neighbourD2[n];
      const firstMs = firstEvents.at(t, a);
      if (firstMs >= b) continue;
      const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
      heardAt += events;
      const bound = propagation.receptionBound(t, r, d2);
      let w = 1 - random.float(); // (0, 1]
      if (bound === Number.POSITIVE_INFINITY) {
        // A near pair: skip it without counting people in between when even without them
        // nothing can be heard.
        const upperDbm = propagation.linkMeanUpperDbm(t, r, d2);
        if (!(tables.probabilityAtLeast(propagation.drawKind, sensitivityDbm - upperDbm) > 0)) {
          below += events;
          continue;
        }
      } else if (w <= 1 - events * bound) {
        below += events;
        continue;
      }
      const meanDbm = propagation.linkMeanDbm(t, r, d2);
      const kind = propagation.drawKind;
      const cutDb = sensitivityDbm - meanDbm;
      const p = kind === DRAW_NONE ? 0 : tables.probabilityAtLeast(kind, cutDb);
      if (!(p > 0)) {
        below += events;
        continue;
      }
      const miss = 1 - p;
      let received = 0;
      for (let e = 0; e < events; ) {
        if (w === 0) w = 1 - random.float();
        let before = 1;
        let after = miss;
        let m = 0;
        const left = events - e;
        while (m < left && after >= w) {
          before = after;
          after *= miss;
          m++;
        }
        if (m === left) break;
        e += m;
        received++;
        const v = (before - w) / (before - after);
        w = 0;
        const eventMs = firstMs + e * ADVERTISING_INTERVAL_MS;
        e++;
        if (collisionP > 0 && random.float() < collisionP) {
          collisions++;
          continue;
        }
        const dbm = meanDbm + tables.drawAtLeast(kind, cutDb, v < 1 ? v : 0);
        const rssiDbm = Math.min(Math.round(dbm), saturationDbm);
        const channel = 37 + (Math.floor((eventMs - scanStartMs) / this.dwellMs) % 3);
        sink.push(r, t, eventMs, rssiDbm, channel);
      }
      below += events - received;
    }
    this.heardAt += heardAt;
    this.below += below;
    this.collisions += collisions;
  }
}

// Control words of a venue shard (one block per worker).
const V_SEQ = 0;
const V_PROGRESS = 1;
const V_DONE = 2;
const V_WRITTEN = 3;
const V_CONSUMED = 4;
const V_MAIN_WAITING = 5;
const V_WORKER_WAITING = 6;
const V_READY = 7;
const V_SIGNAL = 8;
const V_CONTROL_WORDS = 16;
const SHARD_RING = 1 << 18;

interface VenueShardData {
  proxkitVenueShard: true;
  shard: number;
  shards: number;
  count: number;
  capacity: number;
  carry: Uint8Array;
  deviceIndex: Uint16Array;
  bounds: Rect;
  radioCellSizeM: number;
  cellSizeM: number;
  params: PropagationParams;
  pairSeed: number;
  rangeM: number;
  dwellMs: number;
  seed: number;
  phaseMs: Float64Array;
  /** Shared by all shards: the step's world. */
  world: {
    header: SharedArrayBuffer;
    xM: SharedArrayBuffer;
    yM: SharedArrayBuffer;
    vxMps: SharedArrayBuffer;
    vyMps: SharedArrayBuffer;
    present: SharedArrayBuffer;
    venueOf: SharedArrayBuffer;
    scanA: SharedArrayBuffer;
    scanB: SharedArrayBuffer;
    scanStart: SharedArrayBuffer;
  };
  /** This shard's own: control words, counts and its ring of receptions. */
  own: {
    control: SharedArrayBuffer;
    counts: SharedArrayBuffer;
    receiver: SharedArrayBuffer;
    sender: SharedArrayBuffer;
    atMs: SharedArrayBuffer;
    rssi: SharedArrayBuffer;
    channel: SharedArrayBuffer;
  };
}

function shardViews(d: VenueShardData) {
  const w = d.world;
  const o = d.own;
  return {
    header: new Float64Array(w.header),
    xM: new Float64Array(w.xM),
    yM: new Float64Array(w.yM),
    vxMps: new Float32Array(w.vxMps),
    vyMps: new Float32Array(w.vyMps),
    present: new Uint8Array(w.present),
    venueOf: new Int32Array(w.venueOf),
    scanA: new Float64Array(w.scanA),
    scanB: new Float64Array(w.scanB),
    scanStart: new Float64Array(w.scanStart),
    control: new Int32Array(o.control),
    counts: new Float64Array(o.counts),
    receiver: new Int32Array(o.receiver),
    sender: new Int32Array(o.sender),
    atMs: new Float64Array(o.atMs),
    rssi: new Int16Array(o.rssi),
    channel: new Uint8Array(o.channel),
  };
}

/**
 * The main thread's side of the venue shards: each step it copies the world's positions into
 * shared memory and wakes every shard; shard k hears the scanning receivers whose venue is k mod
 * N, in index order, into a ring of its own; `deliverFor(r)` takes receiver r's receptions from
 * its shard's ring, so the sightings come out in receiver order whatever N.
 */
class VenueShards {
  private readonly workers: Worker[] = [];
  private readonly v: ReturnType<typeof shardViews>[] = [];
  private readonly world: World;
  private readonly venueOf: Int32Array;
  private readonly scans: [Float64Array, Float64Array, Float64Array];
  private readonly consumed: number[] = [];
  private seq = 0;

  constructor(
    world: World,
    shards: number,
    dwellMs: number,
    seed: number,
    phaseMs: Float64Array,
    scans: [Float64Array, Float64Array, Float64Array],
  ) {
    const agents = world.agents;
    const n = agents.count;
    this.world = world;
    this.venueOf = world.venueOf!;
    this.scans = scans;
    const sab = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes));
    const shared = {
      header: sab(8 * 4),
      xM: sab(8 * n),
      yM: sab(8 * n),
      vxMps: sab(4 * n),
      vyMps: sab(4 * n),
      present: sab(n),
      venueOf: sab(4 * n),
      scanA: sab(8 * n),
      scanB: sab(8 * n),
      scanStart: sab(8 * n),
    };
    const carry = agents.carry.slice(0, n);
    const deviceIndex = agents.deviceIndex.slice(0, n);
    for (let k = 0; k < shards; k++) {
      const data: VenueShardData = {
        proxkitVenueShard: true,
        shard: k,
        shards,
        count: n,
        capacity: agents.capacity,
        carry,
        deviceIndex,
        bounds: world.radioGrid.bounds,
        radioCellSizeM: world.radioGrid.requestedCellSizeM,
        cellSizeM: world.grid.requestedCellSizeM,
        params: world.propagation.params,
        pairSeed: world.propagation.pairStreamSeed,
        rangeM: world.receptionRangeM,
        dwellMs,
        seed,
        phaseMs,
        world: shared,
        own: {
          control: sab(4 * V_CONTROL_WORDS),
          counts: sab(8 * 3),
          receiver: sab(4 * SHARD_RING),
          sender: sab(4 * SHARD_RING),
          atMs: sab(8 * SHARD_RING),
          rssi: sab(2 * SHARD_RING),
          channel: sab(SHARD_RING),
        },
      };
      this.v.push(shardViews(data));
      this.consumed.push(0);
      // No inherited flags: `--input-type`, `--eval` and the like would stop a file worker.
      const worker = new Worker(workerUrl(), { workerData: data, execArgv: [] });
      worker.unref();
      this.workers.push(worker);
    }
    const started = Date.now();
    for (const v of this.v) {
      while (Atomics.load(v.control, V_READY) === 0) {
        Atomics.wait(v.control, V_READY, 0, 100);
        if (Date.now() - started > 20_000) {
          this.close();
          throw new Error(`link layer: a venue shard did not start (${workerUrl().href})`);
        }
      }
    }
  }

  /** Hands the step to every shard (each step, scanning or not: their models sweep in step). */
  start(step: number, fromMs: number, atMs: number): void {
    const a = this.world.agents;
    const n = a.count;
    const v0 = this.v[0];
    v0.xM.set(a.xM.subarray(0, n));
    v0.yM.set(a.yM.subarray(0, n));
    v0.vxMps.set(a.vxMps.subarray(0, n));
    v0.vyMps.set(a.vyMps.subarray(0, n));
    v0.present.set(a.present.subarray(0, n));
    v0.venueOf.set(this.venueOf.subarray(0, n));
    v0.scanA.set(this.scans[0]);
    v0.scanB.set(this.scans[1]);
    v0.scanStart.set(this.scans[2]);
    v0.header[0] = step;
    v0.header[1] = fromMs;
    v0.header[2] = atMs;
    this.seq++;
    for (const v of this.v) {
      Atomics.store(v.control, V_PROGRESS, 0);
      Atomics.store(v.control, V_SEQ, this.seq);
      Atomics.notify(v.control, V_SEQ);
    }
  }

  /** Delivers receiver `r`'s receptions, waiting for its shard as needed. */
  deliverFor(r: number, deliver: DeliverFar): void {
    const k = this.venueOf[r] % this.v.length;
    const v = this.v[k];
    const mask = SHARD_RING - 1;
    const started = Date.now();
    let c = this.consumed[k];
    for (;;) {
      const signal = Atomics.load(v.control, V_SIGNAL);
      const done = Atomics.load(v.control, V_PROGRESS) > r;
      const written = Atomics.load(v.control, V_WRITTEN);
      while (c !== written && v.receiver[c & mask] === r) {
        const i = c & mask;
        deliver(r, v.sender[i], v.atMs[i], v.rssi[i], v.channel[i]);
        c = (c + 1) | 0;
      }
      this.consumed[k] = c;
      Atomics.store(v.control, V_CONSUMED, c);
      if (Atomics.load(v.control, V_WORKER_WAITING) === 1) {
        Atomics.store(v.control, V_WORKER_WAITING, 0);
        Atomics.notify(v.control, V_CONSUMED);
      }
      if (done) return;
      Atomics.store(v.control, V_MAIN_WAITING, 1);
      Atomics.wait(v.control, V_SIGNAL, signal, 200);
      if (Date.now() - started > WORKER_TIMEOUT_MS)
        throw new Error("link layer: a venue shard stopped answering");
    }
  }

  /** Waits for every shard's end of step; returns the step's counts. */
  finish(): [number, number, number] {
    const out: [number, number, number] = [0, 0, 0];
    for (const v of this.v) {
      waitFor(v.control, V_DONE, V_MAIN_WAITING, (d) => d === this.seq);
      out[0] += v.counts[0];
      out[1] += v.counts[1];
      out[2] += v.counts[2];
    }
    return out;
  }

  close(): void {
    for (const v of this.v) {
      Atomics.store(v.control, V_SEQ, -1);
      Atomics.notify(v.control, V_SEQ);
    }
    for (const w of this.workers) void w.terminate();
  }
}

/** A venue shard: hears its venues' scanning receivers step by step over the shared world. */
function runVenueShard(data: VenueShardData): void {
  const v = shardViews(data);
  const n = data.count;
  const agents = new Agents(data.capacity);
  for (let i = 0; i < n; i++) {
    agents.add({
      xM: 0,
      yM: 0,
      carry: data.carry[i] as 0 | 1 | 2,
      deviceIndex: data.deviceIndex[i],
    });
  }
  const grid = new SpatialGrid(agents, data.bounds, data.cellSizeM);
  const radioGrid = new SpatialGrid(agents, data.bounds, data.radioCellSizeM);
  const propagation = new Propagation(agents, grid, new SeededRandom(1), data.params);
  propagation.usePairStreams(data.pairSeed);
  propagation.onStep(0);
  const pass = new VenuePass(agents, radioGrid, propagation, data.rangeM, data.dwellMs, data.seed);
  const firstEvents = new FirstEvents(data.phaseMs);
  const mask = SHARD_RING - 1;
  let written = 0;
  const signal = () => {
    Atomics.store(v.control, V_WRITTEN, written);
    Atomics.add(v.control, V_SIGNAL, 1);
    if (Atomics.load(v.control, V_MAIN_WAITING) === 1) {
      Atomics.store(v.control, V_MAIN_WAITING, 0);
      Atomics.notify(v.control, V_SIGNAL);
    }
  };
  const sink: ReceptionSink = {
    push(receiver, sender, eventMs, rssiDbm, channel) {
      if (((written - Atomics.load(v.control, V_CONSUMED)) | 0) >= SHARD_RING) {
        signal();
        waitFor(v.control, V_CONSUMED, V_WORKER_WAITING, (c) => ((written - c) | 0) < SHARD_RING);
      }
      const i = written & mask;
      v.receiver[i] = receiver;
      v.sender[i] = sender;
      v.atMs[i] = eventMs;
      v.rssi[i] = rssiDbm;
      v.channel[i] = channel;
      written = (written + 1) | 0;
    },
  };
  let seen = 0;
  Atomics.store(v.control, V_READY, 1);
  Atomics.notify(v.control, V_READY);
  for (;;) {
    Atomics.wait(v.control, V_SEQ, seen);
    const seq = Atomics.load(v.control, V_SEQ);
    if (seq < 0) return;
    if (seq === seen) continue;
    seen = seq;
    agents.xM.set(v.xM);
    agents.yM.set(v.yM);
    agents.vxMps.set(v.vxMps);
    agents.vyMps.set(v.vyMps);
    agents.present.set(v.present);
    grid.rebuild();
    radioGrid.rebuild();
    propagation.onStep(v.header[2]);
    const step = v.header[0];
    firstEvents.begin(step, v.header[1]);
    for (let r = 0; r < n; r++) {
      const a = v.scanA[r];
      if (Number.isNaN(a) || v.venueOf[r] % data.shards !== data.shard) continue;
      pass.run(r, a, v.scanB[r], v.scanStart[r], firstEvents, step, sink);
      // Rows first, then progress: a main thread that sees the progress sees the rows.
      Atomics.store(v.control, V_WRITTEN, written);
      Atomics.store(v.control, V_PROGRESS, r + 1);
      signal();
    }
    v.counts.set(pass.takeCounts());
    Atomics.store(v.control, V_PROGRESS, n);
    Atomics.store(v.control, V_DONE, seq);
    signal();
    Atomics.notify(v.control, V_DONE);
  }
}

if (!isMainThread && (workerData as { proxkitVenueShard?: boolean } | null)?.proxkitVenueShard) {
  runVenueShard(workerData as VenueShardData);
}

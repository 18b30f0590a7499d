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
import type { KeyStore } from "../../src/protocols/key-store.js";
import type { Sighting } from "../../src/signal/sighting.js";
import { Agents } from "../world/agents.js";
import type { Rect } from "../world/geometry.js";
import { Propagation, type PropagationParams } from "../world/propagation.js";
import { DRAW_NONE } from "../world/reception.js";
import type { ScanningCadence } from "../world/scenario.js";
import { SpatialGrid } from "../world/spatial-grid.js";
import type { World } from "../world/world.js";
import { Phones } from "./phones.js";

/** Mean advertising interval (GAEN BT spec v1.2 recommends 200-270 ms) plus the 0-10 ms advDelay mean. */
export const ADVERTISING_INTERVAL_MS = 255;
/** Air time of one legacy advertising PDU with 31 bytes of data at 1 Mbit/s: (1+4+2+6+31+3) bytes. */
export const PDU_AIRTIME_MS = 0.376;
/** Continuous scanning changes channel every 5.12 s, as Android controllers do. */
const CONTINUOUS_CHANNEL_DWELL_MS = 5120;

/** Scan duty cycles (PROTOCOLS.md §2 and §5). */
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
   */
  workers?: 0 | 1;
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
  private readonly neighbours: Int32Array;
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
  private readonly txPowerDbm: number;
  private readonly onSighting: (receiver: number, sighting: Sighting, sender: number) => void;

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
    if (options.workers === 1) {
      this.remote = new FarPairWorker(world, this.dwellMs, farSeed, this.phaseMs, [
        this.scanA,
        this.scanB,
        this.scanStartMs,
      ]);
    }
  }

  /** Runs the link layer over the world's last step, `[world.atMs - dtMs, world.atMs)`. */
  hear(fromMs: number, toMs: number): void {
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
      // Near pairs: here, the far pass's neighbour list (in grid order, so the near ones come
      // in the order a query of their own would give); with a worker, a query of their own.
      const rxCarry = agents.carry[r];
      const nearD2 = this.nearD2[rxCarry];
      let list = this.far.neighbours;
      let listed = this.far.kept;
      if (useRemote) {
        world.radioGrid.neighboursByClass(
          r,
          this.nearRangeM[rxCarry],
          agents.carry,
          nearD2,
          neighbours,
        );
        list = neighbours;
        listed = world.radioGrid.kept;
      }
      const xM = agents.xM;
      const yM = agents.yM;
      for (let k = 0; k < listed; k++) {
        const t = list[k];
        if (!useRemote) {
          const dx = xM[t] - xM[r];
          const dy = yM[t] - yM[r];
          if (dx * dx + dy * dy > nearD2[agents.carry[t]]) continue;
        }
        const firstMs = firstEvents.at(t, a);
        if (firstMs >= b) continue;
        const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
        heardAt += events;
        // People in between only weaken the signal: when even without them no advertisement
        // can reach the cut, they need not be counted (and nothing is drawn either way).
        const upperDbm = propagation.linkMeanUpperDbm(t, r);
        if (!(tables.probabilityAtLeast(propagation.drawKind, sensitivityDbm - upperDbm) > 0)) {
          below += events;
          continue;
        }
        const meanDbm = propagation.linkMeanDbm(t, r);
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
      this.scanA.byteLength +
      this.scanB.byteLength +
      this.firstEvents.bytes +
      this.far.neighbours.byteLength
    );
  }

  /** Stops the far-pair worker, if any (the link layer then hears everything in this thread). */
  close(): void {
    this.remote?.close();
    this.remote = undefined;
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
      this.firstMs[t] =
        from +
        ((((this.phaseMs[t] - from) % ADVERTISING_INTERVAL_MS) + ADVERTISING_INTERVAL_MS) %
          ADVERTISING_INTERVAL_MS);
    }
    const first = this.firstMs[t];
    // A scan that began inside the step: its first event of this phone.
    return first >= a
      ? first
      : first + Math.ceil((a - first) / ADVERTISING_INTERVAL_MS) * ADVERTISING_INTERVAL_MS;
  }
}

/**
 * xoshiro128** (Blackman & Vigna), reseeded per (receiver, step) from splitmix32: the far
 * pairs' draws depend on neither the thread that hears them nor the order receivers are heard in.
 */
class StreamRandom {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  reseed(seed: number, receiver: number, step: number): void {
    let z = (seed ^ Math.imul(receiver + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x632be5ab)) | 0;
    z = splitmix32(z);
    this.s0 = z = splitmix32(z + 0x9e3779b9);
    this.s1 = z = splitmix32(z + 0x9e3779b9);
    this.s2 = z = splitmix32(z + 0x9e3779b9);
    this.s3 = splitmix32(z + 0x9e3779b9) | 1;
  }

  private next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits. */
  float(): number {
    return ((this.next() >>> 5) * 67108864 + (this.next() >>> 6)) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function splitmix32(seed: number): number {
  let z = seed | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
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
  /** The last `run`'s neighbours that can be heard (near and far), in grid order: `kept` of them. */
  readonly neighbours: Int32Array;
  kept = 0;
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
    this.cullD2 = [0, 1, 2].map((c) => propagation.cullDistancesSquared(c, new Float64Array(3)));
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
    const { agents, grid, propagation, neighbours, random } = this;
    const tables = propagation.reception;
    const { sensitivityDbm, saturationDbm } = propagation.params;
    const count = grid.neighboursByClass(
      r,
      this.rangeM,
      agents.carry,
      this.cullD2[agents.carry[r]],
      neighbours,
    );
    const kept = grid.kept;
    this.kept = kept;
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
      const bound = propagation.receptionBound(t, r);
      if (bound === Number.POSITIVE_INFINITY) continue; // a near pair
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
      const meanDbm = propagation.linkMeanDbm(t, r);
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

/** This module as a worker script (the compiled one when running from TypeScript sources). */
function workerUrl(): URL {
  const here = new URL(import.meta.url);
  if (!here.pathname.endsWith(".ts")) return here;
  return new URL("../../dist/sim/engine/link-layer.js", here);
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

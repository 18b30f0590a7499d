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
 * their own per (receiver, step).
 *
 * The parts: advertising events and reception columns (`advertising.ts`), one receiver's
 * neighbours and their draws (`receiver-pass.ts`: far pairs then near
 * ones, or in a world of venues each receiver whole, here or in the venue shards of
 * `venue-shards.ts`); this module holds the phones' scan schedules and delivers the sightings.
 *
 * Far pairs once had a worker thread of their own (`workers: 1` outside a world of venues). It
 * bought nothing and was removed (issue 14): `sim.run.*.workers` ×0.87-0.94 of one thread, and
 * on a quiet 2-core machine `simulate -s plaza -n 1000 -d 2h --no-thread` took 17.2 s and 20.0 s
 * with it against 17.4 s and 16.9 s without.
 */
import { SeededRandom } from "../../src/core/random.js";
import type { KeyStore } from "../../src/protocols/key-store.js";
import type { Protocol } from "../../src/protocols/rolling-id-scheme.js";
import type { Sighting } from "../../src/signal/sighting.js";
import type { ScanningCadence } from "../world/scenario.js";
import type { World } from "../world/world.js";
import {
  ADVERTISING_INTERVAL_MS,
  FarReceptions,
  FirstEvents,
  type ReceptionSink,
} from "./advertising.js";
import { Phones } from "./phones.js";
import { ReceiverPass } from "./receiver-pass.js";
import { VenueShards } from "./venue-shards.js";

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
   * In a world of venues (the city), N >= 1 hears the venues in N worker threads (venue v in
   * thread v mod N; call `close()` when done) and 0 (default) in this thread: the same
   * sightings, in the same order, whatever N. Other worlds are heard in this thread.
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
  /** This step's scan interval per phone (`scanA` NaN when not scanning). */
  private readonly scanA: Float64Array;
  private readonly scanB: Float64Array;
  private stepIndex = 0;
  private readonly dwellMs: number;
  /** Far pairs then near ones, or in a world of venues each receiver whole. */
  private readonly pass: ReceiverPass;
  /** Where near pairs' receptions go: delivered as they are drawn. */
  private readonly nearSink: ReceptionSink;
  private readonly local = new FarReceptions(1024);
  /** A world of venues heard in worker threads (else by `pass`, here). */
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
    this.nearSink = { push: this.deliverFar };
    const farSeed = this.random.int(2 ** 31);
    const venues = world.venueOf !== undefined;
    this.pass = new ReceiverPass(world.agents, world.radioGrid, propagation, {
      rangeM: world.receptionRangeM,
      dwellMs: this.dwellMs,
      seed: farSeed,
      nearAside: !venues,
    });
    const workers = options.workers ?? 0;
    if (venues && workers > 0)
      this.shards = new VenueShards(world, workers, this.dwellMs, farSeed, this.phaseMs, [
        this.scanA,
        this.scanB,
        this.scanStartMs,
      ]);
  }

  /**
   * Runs the link layer over the world's last step, `[world.atMs - dtMs, world.atMs)`.
   * `meanwhile` (the step's ground-truth sample) is called once, before any sighting is
   * delivered: once the venue shards are hearing the step when there are any (it then runs
   * alongside them), else first.
   */
  hear(fromMs: number, toMs: number, meanwhile?: () => void): void {
    if (this.shards === undefined) meanwhile?.();
    const { world, random } = this;
    const agents = world.agents;
    const present = agents.present;
    const cadence = SCAN_CADENCES[world.scenario.scanning];
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
    if (this.shards !== undefined) {
      this.hearShards(this.shards, fromMs, stepIndex, scanning, meanwhile);
      return;
    }
    if (scanning === 0) return;
    const firstEvents = this.firstEvents;
    firstEvents.begin(stepIndex, fromMs);
    const pass = this.pass;
    for (let r = 0; r < n; r++) {
      const a = scanA[r];
      if (Number.isNaN(a)) continue; // not scanning
      const b = scanB[r];
      const scanStartMs = this.scanStartMs[r];
      // Far pairs first (they also count the advertisers on the air), then the near ones they
      // set aside, delivered as they are drawn, then what the far pairs brought. In a world of
      // venues the pass hears each receiver whole and sets nothing aside.
      pass.run(r, a, b, scanStartMs, firstEvents, stepIndex, this.local);
      pass.runNear(r, a, b, scanStartMs, firstEvents, random, this.nearSink);
      this.local.drain(this.deliverFar);
    }
    this.addCounts(pass.takeCounts());
  }

  /**
   * A world of venues heard by the shards: each scanning receiver whole, in index order, from
   * streams of its own, so the sightings and their order are those of the pass in this thread,
   * for any number of shards.
   */
  private hearShards(
    shards: VenueShards,
    fromMs: number,
    stepIndex: number,
    scanning: number,
    meanwhile: (() => void) | undefined,
  ): void {
    shards.start(stepIndex, fromMs, this.world.atMs);
    meanwhile?.();
    const { scanA } = this;
    if (scanning > 0)
      for (let r = 0; r < this.world.agents.count; r++)
        if (!Number.isNaN(scanA[r])) shards.deliverFor(r, this.deliverFar);
    this.addCounts(shards.finish());
  }

  private addCounts([heardAt, below, collisions]: [number, number, number]): void {
    this.counts.advertisingEventsHeardAt += heardAt;
    this.counts.belowSensitivity += below;
    this.counts.collisions += collisions;
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
      this.scanA.byteLength +
      this.scanB.byteLength +
      this.firstEvents.bytes +
      this.pass.bytes
    );
  }

  /** Stops the venue shards, if any (the link layer then hears everything in this thread). */
  close(): void {
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

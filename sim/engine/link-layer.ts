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
 */
import { classifyAdvertisement, rollingIdOf } from "../../src/ble/classify-advertisement.js";
import { SeededRandom } from "../../src/core/random.js";
import { KeyStore } from "../../src/protocols/key-store.js";
import type { Protocol } from "../../src/protocols/rolling-id-scheme.js";
import type { Broadcast } from "../../src/protocols/rotating-advertiser.js";
import { RotatingAdvertiser } from "../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import type { Sighting } from "../../src/signal/sighting.js";
import { DRAW_NONE } from "../world/reception.js";
import { PROTOCOL_NAMES, type ScanningCadence } from "../world/scenario.js";
import type { World } from "../world/world.js";

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
  onSighting?: (receiver: number, sighting: Sighting) => void;
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
  /** Each agent's own key store (the keys its advertiser rotates through), by agent index. */
  readonly keyStores: KeyStore[] = [];
  private readonly world: World;
  private readonly startMs: number;
  private readonly random: SeededRandom;
  private readonly advertisers: RotatingAdvertiser[] = [];
  private readonly phaseMs: Float64Array;
  private readonly firstEventMs: Float64Array;
  private readonly scanStartMs: Float64Array;
  private readonly scanEndMs: Float64Array;
  private readonly neighbours: Int32Array;
  private readonly broadcasts: (Broadcast | undefined)[];
  /** What receivers decode from each sender's current broadcast (undefined: not a sighting). */
  private readonly decoded: (
    | { protocol: Protocol; id: Uint8Array; aem: Uint8Array | undefined }
    | undefined
  )[];
  private readonly txPowerDbm: number;
  private readonly onSighting: (receiver: number, sighting: Sighting) => void;

  constructor(world: World, options: LinkLayerOptions = {}) {
    this.world = world;
    this.startMs = options.startMs ?? Date.UTC(2021, 0, 4, 9);
    this.random = new SeededRandom(options.seed ?? 1).fork();
    this.txPowerDbm = options.txPowerDbm ?? -24;
    this.onSighting = options.onSighting ?? (() => {});
    const n = world.agents.count;
    this.phaseMs = new Float64Array(n);
    this.firstEventMs = new Float64Array(n);
    this.scanStartMs = new Float64Array(n);
    this.scanEndMs = new Float64Array(n);
    this.neighbours = new Int32Array(n);
    this.broadcasts = new Array(n);
    this.decoded = new Array(n);
    const cadence = SCAN_CADENCES[world.scenario.scanning];
    for (let i = 0; i < n; i++) {
      const random = this.random.fork();
      const protocol = PROTOCOL_NAMES[world.agents.protocolIndex[i]];
      const store = new KeyStore(protocol);
      this.keyStores.push(store);
      this.advertisers.push(
        new RotatingAdvertiser({
          scheme: schemeFor(protocol),
          // A fresh DayKey object per rotation: schemes cache a day's derived IDs per key
          // object (2.3 KB for GAEN), which would otherwise live as long as the key store.
          // Re-deriving them at each rotation (every 10-20 min) costs ~10 µs; same key, same IDs.
          keyForDay: (_day, atMs) => {
            const key = store.ensureCurrent(atMs, random);
            return { day: key.day, key: key.key.slice() };
          },
          random,
          txPowerDbm: this.txPowerDbm,
        }),
      );
      this.phaseMs[i] = random.float() * ADVERTISING_INTERVAL_MS;
      // Phones do not scan in step: each starts at a random point of its first period.
      this.scanStartMs[i] = Number.isFinite(cadence.windowMs)
        ? random.float() * cadence.maxPeriodMs
        : 0;
      this.scanEndMs[i] = this.scanStartMs[i] + cadence.windowMs;
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
    const rangeM = world.receptionRangeM;
    const cullD2 = [0, 1, 2].map((c) => propagation.cullDistancesSquared(c, new Float64Array(3)));
    const { sensitivityDbm, saturationDbm } = propagation.params;
    const neighbours = this.neighbours;
    const dwellMs = Number.isFinite(cadence.windowMs)
      ? cadence.windowMs
      : CONTINUOUS_CHANNEL_DWELL_MS;
    let heardAt = 0;
    let below = 0;
    let collisions = 0;
    // Each phone's first advertising event at or after `fromMs`, computed once for the step.
    const firstFrom = this.firstEventMs;
    let firstDone = false;
    for (let r = 0; r < agents.count; r++) {
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
      const scanStartMs = this.scanStartMs[r];
      if (!firstDone) {
        firstDone = true;
        for (let t = 0; t < agents.count; t++) {
          firstFrom[t] =
            fromMs +
            ((((this.phaseMs[t] - fromMs) % ADVERTISING_INTERVAL_MS) + ADVERTISING_INTERVAL_MS) %
              ADVERTISING_INTERVAL_MS);
        }
      }
      // Neighbours that can be heard at all (by their carry position) come first; the others
      // only count their events and, as advertisers on the air, towards collisions.
      const count = world.radioGrid.neighboursByClass(
        r,
        rangeM,
        agents.carry,
        cullD2[agents.carry[r]],
        neighbours,
      );
      const kept = world.radioGrid.kept;
      for (let n = neighbours.length - (count - kept); n < neighbours.length; n++) {
        const t = neighbours[n];
        let firstMs = firstFrom[t];
        if (firstMs < a)
          firstMs += Math.ceil((a - firstMs) / ADVERTISING_INTERVAL_MS) * ADVERTISING_INTERVAL_MS;
        if (firstMs >= b) continue;
        const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
        heardAt += events;
        below += events;
      }
      // Chance that another advertiser's PDU overlaps one on the same channel (pure ALOHA).
      const collisionP = 1 - Math.exp((-2 * count * PDU_AIRTIME_MS) / ADVERTISING_INTERVAL_MS);
      for (let n = 0; n < kept; n++) {
        const t = neighbours[n];
        let firstMs = firstFrom[t];
        if (firstMs < a) {
          // The scan began inside this step: its first event of this phone.
          firstMs += Math.ceil((a - firstMs) / ADVERTISING_INTERVAL_MS) * ADVERTISING_INTERVAL_MS;
        }
        if (firstMs >= b) continue;
        const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
        heardAt += events;
        // Receptions are independent Bernoulli(p) events. The first uniform decides whether
        // any happens at all (none iff w <= (1 - p)^events); for far pairs a tabulated bound on
        // p settles most of those before the path loss is even computed.
        const bound = propagation.receptionBound(t, r);
        let w = 0;
        if (bound < 1) {
          w = 1 - random.float(); // (0, 1]
          if (w <= 1 - events * bound) {
            below += events;
            continue;
          }
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
        // Draw the index of the next reception by inverting its geometric law (one uniform per
        // reception, plus one when none is left), and the received value from the term's law
        // above the cut, with the same uniform.
        const miss = 1 - p;
        let received = 0;
        for (let e = 0; e < events; ) {
          if (w === 0) w = 1 - random.float();
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
          w = 0;
          const eventMs = firstMs + e * ADVERTISING_INTERVAL_MS;
          e++;
          if (collisionP > 0 && random.float() < collisionP) {
            collisions++;
            continue;
          }
          const dbm = meanDbm + tables.drawAtLeast(kind, cutDb, v < 1 ? v : 0);
          const rssiDbm = Math.min(Math.round(dbm), saturationDbm);
          const channel = 37 + (Math.floor((eventMs - scanStartMs) / dwellMs) % 3);
          this.deliver(r, t, this.startMs + eventMs, rssiDbm, channel);
        }
        below += events - received;
      }
    }
    counts.advertisingEventsHeardAt += heardAt;
    counts.belowSensitivity += below;
    counts.collisions += collisions;
  }

  private deliver(
    receiver: number,
    sender: number,
    atMs: number,
    rssiDbm: number,
    channel: number,
  ): void {
    let broadcast = this.broadcasts[sender];
    if (!broadcast || atMs < broadcast.sinceMs || atMs >= broadcast.untilMs) {
      broadcast = this.advertisers[sender].at(atMs);
      this.broadcasts[sender] = broadcast;
      // Decode the bytes on the air, as the receiving phone does: once per broadcast, since
      // every receiver decodes the same bytes to the same fields.
      const c = classifyAdvertisement(broadcast.payload);
      const id = rollingIdOf(c);
      this.decoded[sender] =
        c.protocol === "unknown" || !id
          ? undefined
          : { protocol: c.protocol, id, aem: c.protocol === "gaen" ? c.aem : undefined };
    }
    const d = this.decoded[sender];
    if (!d) return;
    this.counts.sightings++;
    this.onSighting(
      receiver,
      d.aem
        ? { atMs, protocol: d.protocol, id: d.id, aem: d.aem, rssiDbm, channel }
        : { atMs, protocol: d.protocol, id: d.id, rssiDbm, channel },
    );
  }
}

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
import type { Broadcast } from "../../src/protocols/rotating-advertiser.js";
import { RotatingAdvertiser } from "../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import type { Sighting } from "../../src/signal/sighting.js";
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
  private readonly scanStartMs: Float64Array;
  private readonly scanEndMs: Float64Array;
  private readonly neighbours: Int32Array;
  private readonly broadcasts: (Broadcast | undefined)[];
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
    this.scanStartMs = new Float64Array(n);
    this.scanEndMs = new Float64Array(n);
    this.neighbours = new Int32Array(n);
    this.broadcasts = new Array(n);
    const cadence = SCAN_CADENCES[world.scenario.scanning];
    for (let i = 0; i < n; i++) {
      const random = this.random.fork();
      const protocol = PROTOCOL_NAMES[world.agents.protocolIndex[i]];
      const store = new KeyStore(protocol);
      this.keyStores.push(store);
      this.advertisers.push(
        new RotatingAdvertiser({
          scheme: schemeFor(protocol),
          keyForDay: (_day, atMs) => store.ensureCurrent(atMs, random),
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
    const { world } = this;
    const agents = world.agents;
    const cadence = SCAN_CADENCES[world.scenario.scanning];
    const rangeM = world.receptionRangeM;
    const sensitivityDbm = world.propagation.params.sensitivityDbm;
    for (let r = 0; r < agents.count; r++) {
      if (!agents.present[r]) continue;
      // Advance this phone's scan schedule past `fromMs`.
      while (this.scanEndMs[r] <= fromMs) {
        const period =
          cadence.minPeriodMs + this.random.float() * (cadence.maxPeriodMs - cadence.minPeriodMs);
        this.scanStartMs[r] += period;
        this.scanEndMs[r] = this.scanStartMs[r] + cadence.windowMs;
      }
      const a = Math.max(fromMs, this.scanStartMs[r]);
      const b = Math.min(toMs, this.scanEndMs[r]);
      if (a >= b) continue;
      const count = world.radioGrid.neighboursOf(r, rangeM, this.neighbours);
      // Chance that another advertiser's PDU overlaps one on the same channel (pure ALOHA).
      const collisionP = 1 - Math.exp((-2 * count * PDU_AIRTIME_MS) / ADVERTISING_INTERVAL_MS);
      const dwellMs = Number.isFinite(cadence.windowMs)
        ? cadence.windowMs
        : CONTINUOUS_CHANNEL_DWELL_MS;
      for (let k = 0; k < count; k++) {
        const t = this.neighbours[k];
        if (!agents.present[t]) continue;
        const phase = this.phaseMs[t];
        let eventMs =
          a +
          ((((phase - a) % ADVERTISING_INTERVAL_MS) + ADVERTISING_INTERVAL_MS) %
            ADVERTISING_INTERVAL_MS);
        if (world.propagation.upperBoundRssiDbm(t, r) < sensitivityDbm) {
          // Not even the strongest fade gets this pair over the receiver's cut during this step.
          const events = eventMs < b ? Math.ceil((b - eventMs) / ADVERTISING_INTERVAL_MS) : 0;
          this.counts.advertisingEventsHeardAt += events;
          this.counts.belowSensitivity += events;
          continue;
        }
        for (; eventMs < b; eventMs += ADVERTISING_INTERVAL_MS) {
          this.counts.advertisingEventsHeardAt++;
          const channel = 37 + (Math.floor((eventMs - this.scanStartMs[r]) / dwellMs) % 3);
          const rssiDbm = world.propagation.rssiDbm(t, r, channel);
          if (rssiDbm === undefined) {
            this.counts.belowSensitivity++;
            continue;
          }
          if (collisionP > 0 && this.random.float() < collisionP) {
            this.counts.collisions++;
            continue;
          }
          this.deliver(r, t, this.startMs + eventMs, rssiDbm, channel);
        }
      }
    }
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
    }
    // Decode the bytes on the air, as the receiving phone does.
    const c = classifyAdvertisement(broadcast.payload);
    const id = rollingIdOf(c);
    if (c.protocol === "unknown" || !id) return;
    this.counts.sightings++;
    this.onSighting(receiver, {
      atMs,
      protocol: c.protocol,
      id,
      ...(c.protocol === "gaen" ? { aem: c.aem } : {}),
      rssiDbm,
      channel,
    });
  }
}

/**
 * The simulated radio back-end: a node in a `SimMedium`. Its advertiser sends an advertising
 * event every interval plus the link layer's 0-10 ms random delay, on channels 37, 38 and 39;
 * its scanner listens on one channel at a time (changing every scan window, as controllers do)
 * with an optional duty cycle, and decodes what it hears into sightings.
 */
import { EventEmitter } from "node:events";
import { classifyAdvertisement, rollingIdOf } from "../../ble/classify-advertisement.js";
import { CodecError } from "../../core/errors.js";
import { SeededRandom } from "../../core/random.js";
import type {
  Advertiser,
  AdvertiserEvents,
  AdvertiserOptions,
  Radio,
  RadioSighting,
  RadioState,
  Scanner,
  ScannerEvents,
  ScannerOptions,
} from "../radio.js";
import { planAdvertising, planScan } from "../start-options.js";
import type { SimMedium } from "./sim-medium.js";

export interface SimRadioOptions {
  medium: SimMedium;
  /** Position of this radio in the medium, metres. */
  x?: number;
  y?: number;
  /** An existing node id instead of a new one at (x, y). */
  node?: number;
}

/** Bluetooth Core spec Vol 6 Part B §4.4.2.2.1: advDelay is a pseudo-random 0-10 ms. */
const MAX_ADV_DELAY_MS = 10;
const CHANNELS = [37, 38, 39] as const;
/** GAEN BT spec v1.2: advertising interval 200-270 ms. */

class SimAdvertiser extends EventEmitter<AdvertiserEvents> implements Advertiser {
  state: RadioState = "idle";
  private generation = 0;

  constructor(
    private readonly medium: SimMedium,
    private readonly node: number,
  ) {
    super();
  }

  async start(options: AdvertiserOptions): Promise<void> {
    const intervalMs = planAdvertising(options, this.state === "running");
    const generation = ++this.generation;
    const scheduler = this.medium.scheduler;
    let rotation = -1;
    let jitter = new SeededRandom(0);
    const event = () => {
      if (generation !== this.generation) return;
      const atMs = scheduler.nowMs();
      const broadcast = options.source.at(atMs);
      if (broadcast.rotation !== rotation) {
        rotation = broadcast.rotation;
        // The delay sequence restarts from the rotation's own seed, so it cannot link rotations.
        jitter = new SeededRandom(broadcast.intervalJitterSeed | 0);
        this.emit("rotated", { atMs, rotation });
      }
      CHANNELS.forEach((channel, i) => {
        // The three PDUs of one event follow each other within a few hundred microseconds.
        this.medium.transmit(
          this.node,
          atMs + i * 0.4,
          channel,
          broadcast.txPowerDbm,
          broadcast.payload,
          broadcast.address,
        );
      });
      scheduler.at(atMs + intervalMs + jitter.float() * MAX_ADV_DELAY_MS, event);
    };
    this.setState("running");
    scheduler.at(scheduler.nowMs(), event);
  }

  async stop(): Promise<void> {
    this.generation++;
    if (this.state === "running") this.setState("stopped");
  }

  private setState(state: RadioState): void {
    this.state = state;
    this.emit("state", state);
  }
}

class SimScanner extends EventEmitter<ScannerEvents> implements Scanner {
  state: RadioState = "idle";

  constructor(
    private readonly medium: SimMedium,
    private readonly node: number,
  ) {
    super();
  }

  async start(options: ScannerOptions = {}): Promise<void> {
    const { protocols, intervalMs, windowMs } = planScan(options, this.state === "running");
    const startMs = this.medium.scheduler.nowMs();
    // Continuous scanning still changes channel, every 5.12 s as Android's controllers do.
    const channelDwellMs = intervalMs > 0 ? intervalMs : 5120;
    this.medium.listen(this.node, (pdu) => {
      const sinceMs = pdu.atMs - startMs;
      if (intervalMs > 0 && sinceMs % intervalMs >= windowMs) return;
      const channel = 37 + (Math.floor(sinceMs / channelDwellMs) % 3);
      if (pdu.channel !== channel) return;
      let classified: ReturnType<typeof classifyAdvertisement>;
      try {
        classified = classifyAdvertisement(pdu.payload);
      } catch (error) {
        if (error instanceof CodecError) return; // malformed frames are dropped, as a controller would
        throw error;
      }
      if (classified.protocol === "unknown" || !protocols.has(classified.protocol)) return;
      const id = rollingIdOf(classified)!;
      const sighting: RadioSighting = {
        atMs: pdu.atMs,
        protocol: classified.protocol,
        id: id.slice(),
        ...(classified.protocol === "gaen" ? { aem: classified.aem.slice() } : {}),
        rssiDbm: pdu.rssiDbm,
        channel: pdu.channel,
        address: pdu.address,
        payload: pdu.payload,
      };
      this.emit("sighting", sighting);
    });
    this.setState("running");
  }

  async stop(): Promise<void> {
    this.medium.listen(this.node, undefined);
    if (this.state === "running") this.setState("stopped");
  }

  private setState(state: RadioState): void {
    this.state = state;
    this.emit("state", state);
  }
}

export class SimRadio implements Radio {
  readonly backend = "sim";
  readonly node: number;
  readonly advertiser: SimAdvertiser;
  readonly scanner: SimScanner;

  constructor(options: SimRadioOptions) {
    this.node = options.node ?? options.medium.addNode(options.x ?? 0, options.y ?? 0);
    this.advertiser = new SimAdvertiser(options.medium, this.node);
    this.scanner = new SimScanner(options.medium, this.node);
  }

  async stop(): Promise<void> {
    await Promise.all([this.advertiser.stop(), this.scanner.stop()]);
  }
}

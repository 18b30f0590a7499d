/**
 * A `Radio` whose scanner is a scenario's fixed scanner agent (the `checkpoint-queue` scenario's
 * Raspberry Pi): the world and its link layer are stepped as in `runSimulation` on a virtual
 * clock, and what the scanner agent hears comes out as sightings, with the advertising bytes
 * and a random non-resolvable address per rolling ID, as a controller would report them.
 * Timers scheduled on `scheduler` (the daemon's flush) fire in virtual time between steps, and
 * `run` yields to the event loop every few simulated minutes so signals are still handled.
 *
 * The advertiser keeps its rotating source's schedule on the virtual clock (state and
 * `rotated` events); the world's phones do not record foreign beacons, so nobody hears it.
 */
import { EventEmitter } from "node:events";
import { encodeBluezoneAdvertisement } from "../../src/ble/bluezone-advertisement.js";
import { encodeDp3tAdvertisement } from "../../src/ble/dp3t-advertisement.js";
import { encodeGaenAdvertisement } from "../../src/ble/gaen-advertisement.js";
import { randomNonResolvableAddress } from "../../src/ble/random-address.js";
import { ConfigError } from "../../src/core/errors.js";
import { SeededRandom } from "../../src/core/random.js";
import { PROTOCOLS, type Protocol } from "../../src/protocols/rolling-id-scheme.js";
import type {
  Advertiser,
  AdvertiserEvents,
  AdvertiserOptions,
  Radio,
  RadioState,
  Scanner,
  ScannerEvents,
  ScannerOptions,
} from "../../src/radio/radio.js";
import { VirtualScheduler } from "../../src/radio/sim/virtual-scheduler.js";
import { planScan } from "../../src/radio/start-options.js";
import type { Sighting } from "../../src/signal/sighting.js";
import type { Scenario } from "../world/scenario.js";
import { buildWorld, type World } from "../world/world.js";
import { LinkLayer } from "./link-layer.js";
import { STEP_MS } from "./run-simulation.js";

export interface WorldRadioOptions {
  scenario: Scenario;
  seed?: number;
  /** Agent count override (non-fixed groups scale). */
  agents?: number;
  /** Wall-clock time of the world's time 0, ms since the Unix epoch. */
  startMs: number;
  /** Role of the agent that is this radio (default "scanner"). */
  scannerRole?: string;
}

class WorldScanner extends EventEmitter<ScannerEvents> implements Scanner {
  state: RadioState = "idle";
  protocols: ReadonlySet<Protocol> = new Set(PROTOCOLS);
  windowMs = 0;
  intervalMs = 0;
  startMs = 0;

  constructor(private readonly scheduler: VirtualScheduler) {
    super();
  }

  async start(options: ScannerOptions = {}): Promise<void> {
    const { protocols, intervalMs, windowMs } = planScan(options, this.state === "running");
    this.protocols = protocols;
    this.intervalMs = intervalMs;
    this.windowMs = windowMs;
    this.startMs = this.scheduler.nowMs();
    this.setState("running");
  }

  async stop(): Promise<void> {
    if (this.state === "running") this.setState("stopped");
  }

  /** Delivers what the scanner agent heard, as a controller would report it. */
  hear(sighting: Sighting): void {
    if (this.state !== "running" || !this.protocols.has(sighting.protocol)) return;
    if (this.intervalMs > 0 && (sighting.atMs - this.startMs) % this.intervalMs >= this.windowMs)
      return;
    const payload =
      sighting.protocol === "gaen"
        ? encodeGaenAdvertisement(sighting.id, sighting.aem!)
        : sighting.protocol === "dp3t"
          ? encodeDp3tAdvertisement(sighting.id)
          : encodeBluezoneAdvertisement(sighting.id);
    // The address rotates with the ID, so one derived from the ID stands in for it faithfully.
    const seed =
      (sighting.id[0] | (sighting.id[1] << 8) | (sighting.id[2] << 16) | (sighting.id[3] << 24)) >>>
      0;
    const address = randomNonResolvableAddress(new SeededRandom(seed));
    this.emit("sighting", { ...sighting, address, payload });
  }

  private setState(state: RadioState): void {
    this.state = state;
    this.emit("state", state);
  }
}

class WorldAdvertiser extends EventEmitter<AdvertiserEvents> implements Advertiser {
  state: RadioState = "idle";
  private generation = 0;

  constructor(private readonly scheduler: VirtualScheduler) {
    super();
  }

  async start(options: AdvertiserOptions): Promise<void> {
    if (this.state === "running")
      throw new ConfigError("the advertiser is already running; stop it first", "E_RADIO_STATE");
    const generation = ++this.generation;
    let rotation = -1;
    const rotate = () => {
      if (generation !== this.generation) return;
      const atMs = this.scheduler.nowMs();
      const broadcast = options.source.at(atMs);
      if (broadcast.rotation !== rotation) {
        rotation = broadcast.rotation;
        this.emit("rotated", { atMs, rotation });
      }
      this.scheduler.at(broadcast.untilMs, rotate);
    };
    this.state = "running";
    this.emit("state", "running");
    rotate();
  }

  async stop(): Promise<void> {
    this.generation++;
    if (this.state === "running") {
      this.state = "stopped";
      this.emit("state", "stopped");
    }
  }
}

export class WorldRadio implements Radio {
  readonly backend = "sim";
  /** The virtual clock: the daemon's clock and timers. */
  readonly scheduler: VirtualScheduler;
  readonly world: World;
  readonly link: LinkLayer;
  readonly scannerAgent: number;
  readonly advertiser: WorldAdvertiser;
  readonly scanner: WorldScanner;
  private readonly startMs: number;
  private stopped = false;

  constructor(options: WorldRadioOptions) {
    this.startMs = options.startMs;
    this.scheduler = new VirtualScheduler(options.startMs);
    this.world = buildWorld(options.scenario, {
      seed: options.seed,
      agents: options.agents,
      groundTruth: false,
    });
    const role = options.scannerRole ?? "scanner";
    const group = this.world.groups.find((g) => g.role === role && g.count > 0);
    if (!group) {
      throw new ConfigError(
        `scenario "${options.scenario.name}" has no "${role}" agent to be the checkpoint's radio`,
        "E_SCENARIO",
      );
    }
    this.scannerAgent = group.first;
    this.scanner = new WorldScanner(this.scheduler);
    this.advertiser = new WorldAdvertiser(this.scheduler);
    this.link = new LinkLayer(this.world, {
      seed: options.seed,
      startMs: options.startMs,
      onSighting: (receiver, sighting) => {
        if (receiver === this.scannerAgent) this.scanner.hear(sighting);
      },
    });
  }

  /** Virtual time now, ms since the Unix epoch. */
  nowMs(): number {
    return this.scheduler.nowMs();
  }

  /** A repeating timer on the virtual clock (for the daemon's `every`). */
  readonly every = (everyMs: number, task: () => void): (() => void) => {
    let live = true;
    const run = () => {
      if (!live) return;
      task();
      this.scheduler.at(this.scheduler.nowMs() + everyMs, run);
    };
    this.scheduler.at(this.scheduler.nowMs() + everyMs, run);
    return () => {
      live = false;
    };
  };

  /**
   * Steps the world in 1 s steps until virtual time `untilMs` (or `stop()`), firing timers
   * between steps; yields to the event loop every `yieldEveryS` simulated seconds.
   */
  async run(
    untilMs: number,
    options: { yieldEveryS?: number; onProgress?: (atMs: number) => void } = {},
  ): Promise<void> {
    const yieldEvery = options.yieldEveryS ?? 60;
    let steps = 0;
    while (!this.stopped && this.startMs + this.world.atMs < untilMs) {
      const fromMs = this.world.atMs;
      this.world.step(STEP_MS);
      this.link.hear(fromMs, this.world.atMs);
      this.scheduler.runUntil(this.startMs + this.world.atMs);
      if (++steps % yieldEvery === 0) {
        options.onProgress?.(this.scheduler.nowMs());
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.advertiser.stop(), this.scanner.stop()]);
  }
}

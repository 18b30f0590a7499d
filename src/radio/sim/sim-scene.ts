/**
 * A small simulated scene, to try scanning without hardware: the scanner at the origin and
 * `devices` phones (GAEN, DP-3T and Bluezone in turn) walking slow circles 0.5-8 m around it,
 * each with its own key store and rotation, in the default log-distance propagation with 4 dB
 * fading. Distances change over a minute or two; IDs rotate as the protocols do (GAEN every
 * 10-20 min, DP-3T and Bluezone at slot ends). The radio registry opens it as the `sim` radio
 * when it is given `scene` options (`proxkit scan --radio sim`).
 */
import { SeededRandom } from "../../core/random.js";
import { KeyStore } from "../../protocols/key-store.js";
import { PROTOCOLS } from "../../protocols/rolling-id-scheme.js";
import { RotatingAdvertiser } from "../../protocols/rotating-advertiser.js";
import { schemeFor } from "../../protocols/schemes.js";
import type { Advertiser, Radio, Scanner } from "../radio.js";
import { SimMedium } from "./sim-medium.js";
import { SimRadio } from "./sim-radio.js";

export interface SimSceneOptions {
  /** The scene's start, ms since the Unix epoch. */
  startMs: number;
  /** How many phones walk around the scanner [default 6]. */
  devices?: number;
  /** Seed of the walks, rotations and fading [default 1]. */
  seed?: number;
}

/** The scene's scanner as a `Radio`; `stop()` also stops the phones. */
export class SimSceneRadio implements Radio {
  readonly backend = "sim";
  /** The scene's medium: its scheduler is the scene's clock, which the caller runs. */
  readonly medium: SimMedium;
  private readonly radio: SimRadio;
  private readonly phones: Radio[] = [];

  private constructor(medium: SimMedium) {
    this.medium = medium;
    // After the phones' nodes (the order the scene has always had: same seed, same scene).
    this.radio = new SimRadio({ medium, x: 0, y: 0 });
  }

  get advertiser(): Advertiser {
    return this.radio.advertiser;
  }

  get scanner(): Scanner {
    return this.radio.scanner;
  }

  /** Builds the scene with its phones advertising; the scanner is left for the caller. */
  static async open(options: SimSceneOptions): Promise<SimSceneRadio> {
    const { startMs } = options;
    const devices = options.devices ?? 6;
    const seed = options.seed ?? 1;
    const medium = new SimMedium({ startMs, seed });
    const random = new SeededRandom(seed);
    const phones: { node: number; source: RotatingAdvertiser }[] = [];
    for (let i = 0; i < devices; i++) {
      const protocol = PROTOCOLS[i % PROTOCOLS.length];
      const radiusM = 0.5 + (7.5 * i) / Math.max(1, devices - 1);
      const periodMs = 60_000 + random.int(120_000);
      const phase = random.float() * 2 * Math.PI;
      const position = (atMs: number) => {
        const angle = phase + (2 * Math.PI * (atMs - startMs)) / periodMs;
        // An ellipse, so the distance to the scanner changes as the device walks.
        return { x: radiusM * Math.cos(angle) + 0.6 * radiusM, y: 0.5 * radiusM * Math.sin(angle) };
      };
      const start = position(startMs);
      const node = medium.addNode(start.x, start.y);
      const deviceRandom = new SeededRandom(seed * 1000 + i + 1);
      const store = new KeyStore(protocol);
      const source = new RotatingAdvertiser({
        scheme: schemeFor(protocol),
        keyForDay: (_day, atMs) => store.ensureCurrent(atMs, deviceRandom),
        random: deviceRandom,
        // About -72 dBm at 1 m through the default propagation, as phones on the Herald rig,
        // whose recordings the distance estimators were fitted on.
        txPowerDbm: -32,
      });
      phones.push({ node, source });
      const walk = () => {
        const p = position(medium.scheduler.nowMs());
        medium.moveNode(node, p.x, p.y);
        medium.scheduler.at(medium.scheduler.nowMs() + 1000, walk);
      };
      medium.scheduler.at(startMs + 1000, walk);
    }
    const scene = new SimSceneRadio(medium);
    try {
      for (const { node, source } of phones) {
        const phone = new SimRadio({ medium, node });
        scene.phones.push(phone);
        await phone.advertiser.start({ source, intervalMs: 250 });
      }
    } catch (error) {
      await scene.stop();
      throw error;
    }
    return scene;
  }

  async stop(): Promise<void> {
    await this.radio.stop();
    for (const phone of this.phones) await phone.stop();
  }
}

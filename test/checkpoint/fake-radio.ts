/** A radio for daemon tests: the test pushes sightings; the advertiser records what it was asked. */
import { EventEmitter } from "node:events";
import type { Protocol } from "../../src/protocols/rolling-id-scheme.js";
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
} from "../../src/radio/radio.js";

class FakeScanner extends EventEmitter<ScannerEvents> implements Scanner {
  state: RadioState = "idle";
  options: ScannerOptions | undefined;
  async start(options?: ScannerOptions): Promise<void> {
    this.options = options;
    this.state = "running";
    this.emit("state", "running");
  }
  async stop(): Promise<void> {
    this.state = "stopped";
    this.emit("state", "stopped");
  }
}

class FakeAdvertiser extends EventEmitter<AdvertiserEvents> implements Advertiser {
  state: RadioState = "idle";
  starts = 0;
  options: AdvertiserOptions | undefined;
  async start(options: AdvertiserOptions): Promise<void> {
    this.starts++;
    this.options = options;
    this.state = "running";
  }
  async stop(): Promise<void> {
    this.state = "stopped";
  }
}

export class FakeRadio implements Radio {
  readonly backend = "fake";
  readonly scanner = new FakeScanner();
  readonly advertiser = new FakeAdvertiser();
  async stop(): Promise<void> {
    await this.scanner.stop();
    await this.advertiser.stop();
  }
  /** Emits one sighting of `id` (a number made into 16 bytes). */
  hear(id: number, atMs: number, rssiDbm = -60, protocol: Protocol = "gaen"): void {
    const bytes = new Uint8Array(protocol === "bluezone" ? 12 : 16);
    new DataView(bytes.buffer).setUint32(0, id);
    bytes[4] = 0xab;
    const sighting: RadioSighting = {
      atMs,
      protocol,
      id: bytes,
      ...(protocol === "gaen" ? { aem: new Uint8Array(4) } : {}),
      rssiDbm,
      channel: 37,
      address: Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0x9a, id & 0xff),
      payload: new Uint8Array(31),
    };
    this.scanner.emit("sighting", sighting);
  }
}

/** A repeating timer the test fires by hand. */
export class ManualTimer {
  private tasks = new Set<() => void>();
  readonly every = (_everyMs: number, task: () => void) => {
    this.tasks.add(task);
    return () => this.tasks.delete(task);
  };
  fire(): void {
    for (const task of [...this.tasks]) task();
  }
}

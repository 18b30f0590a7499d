/**
 * The HCI scanner: noble scanning with duplicates allowed, every advertising report becomes a
 * sighting. It prefers the raw advertising data of noble's HCI layer (`_hci` reports) and
 * falls back to rebuilding it from noble's parsed fields. Duty cycles switch scanning on and
 * off on the timers; when the adapter resets or disappears the scanner goes "unavailable" and
 * restarts with backoff (1 s doubling to 30 s; every third attempt reopens noble from scratch).
 */
import { EventEmitter } from "node:events";
import { classifyAdvertisement, rollingIdOf } from "../../ble/classify-advertisement.js";
import { CodecError } from "../../core/errors.js";
import { PROTOCOLS, type Protocol } from "../../protocols/rolling-id-scheme.js";
import type {
  RadioSighting,
  RadioState,
  Scanner,
  ScannerEvents,
  ScannerOptions,
} from "../radio.js";
import { planScan } from "../start-options.js";
import { type HciSettings, type Internals, openBleLibrary } from "./hci-settings.js";
import type { LibraryGuard } from "./library-guard.js";
import { addressBytes, advertisingDataOf, type NobleAdvertisement } from "./noble-advertisement.js";
import { DoublingBackoff, PendingTimers } from "./timers.js";

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/** noble and its HCI layer keep a record per address seen; with rotating addresses, that grows. */
const FORGET_EVERY_MS = 60_000;
/** HCI LE Advertising Report: RSSI 127 means "not available" (Core spec Vol 4 Part E §7.7.65.2). */
const RSSI_NOT_AVAILABLE = 127;

export class HciScanner extends EventEmitter<ScannerEvents> implements Scanner {
  state: RadioState = "idle";
  private noble: Internals;
  private guard: LibraryGuard | undefined;
  private rawReports: Internals;
  private protocols = new Set<Protocol>(PROTOCOLS);
  private windowMs = 0;
  private intervalMs = 0;
  private cycleStartMs = 0;
  private windowOpen = false;
  /** Between a successful start() and stop(), including "unavailable" spells. */
  private active = false;
  private generation = 0;
  private readonly backoff = new DoublingBackoff(FIRST_BACKOFF_MS, MAX_BACKOFF_MS);
  private attempts = 0;
  private readonly pending: PendingTimers;

  constructor(private readonly settings: HciSettings) {
    super();
    this.pending = new PendingTimers(settings.timers);
  }

  async start(options: ScannerOptions = {}): Promise<void> {
    const plan = planScan(options, this.active || this.state === "starting");
    this.protocols = plan.protocols;
    this.intervalMs = plan.intervalMs;
    this.windowMs = plan.windowMs;
    const generation = ++this.generation;
    this.setState("starting");
    try {
      await this.open();
    } catch (error) {
      this.release();
      if (generation === this.generation) this.setState("unavailable");
      throw error;
    }
    if (generation !== this.generation) {
      this.release();
      return;
    }
    this.cycleStartMs = this.settings.timers.nowMs();
    this.active = true;
    this.setState("running");
    this.openWindow(0);
    this.every(FORGET_EVERY_MS, () => this.forget());
  }

  async stop(): Promise<void> {
    this.generation++;
    this.active = false;
    if (this.state === "idle" || this.state === "stopped") return;
    this.setState("stopping");
    this.release();
    this.setState("stopped");
  }

  private async open(): Promise<void> {
    const { library, guard } = await openBleLibrary("noble", this.settings, (error) =>
      this.adapterLost(error),
    );
    this.noble = library;
    this.guard = guard;
    library.on("stateChange", this.onAdapterState);
    const hci = library._bindings?._hci;
    if (hci && typeof hci.on === "function") {
      this.rawReports = hci;
      hci.on("leAdvertisingReport", this.onRawReport);
      hci.on("leExtendedAdvertisingReport", this.onRawExtendedReport);
    } else {
      library.on("discover", this.onDiscover);
    }
  }

  /** Stops noble and (unless `keepTimers`) every timer; safe to call more than once. */
  private release(keepTimers = false): void {
    if (!keepTimers) this.pending.clear();
    this.windowOpen = false;
    const noble = this.noble;
    const raw = this.rawReports;
    this.noble = undefined;
    this.rawReports = undefined;
    if (raw) {
      raw.removeListener("leAdvertisingReport", this.onRawReport);
      raw.removeListener("leExtendedAdvertisingReport", this.onRawExtendedReport);
    }
    if (noble) {
      noble.removeListener("stateChange", this.onAdapterState);
      noble.removeListener("discover", this.onDiscover);
      const guard = this.guard;
      if (guard) {
        guard.stop(() => noble.stopScanning());
        guard.stop(() => noble.stop());
      }
    }
    this.guard = undefined;
  }

  private every(periodMs: number, task: () => void): void {
    this.pending.after(periodMs, () => {
      task();
      this.every(periodMs, task);
    });
  }

  /** Opens scan window `k` (continuous scanning is one window that never closes). */
  private openWindow(k: number): void {
    this.windowOpen = true;
    this.startScanning();
    if (this.intervalMs === 0 || this.windowMs === this.intervalMs) return;
    const { timers } = this.settings;
    const windowStartMs = this.cycleStartMs + k * this.intervalMs;
    this.pending.after(windowStartMs + this.windowMs - timers.nowMs(), () => {
      this.windowOpen = false;
      this.stopScanning();
      this.pending.after(windowStartMs + this.intervalMs - timers.nowMs(), () =>
        this.openWindow(k + 1),
      );
    });
  }

  private startScanning(): void {
    const noble = this.noble;
    if (!noble || this.state !== "running" || !this.windowOpen) return;
    try {
      noble.startScanning([], true, (error?: Error | null) => {
        if (error && noble === this.noble && this.state === "running") this.adapterLost(error);
      });
    } catch (error) {
      this.adapterLost(error as Error);
    }
  }

  private stopScanning(): void {
    try {
      this.noble?.stopScanning();
    } catch {
      // Not scanning (or no adapter): nothing to stop.
    }
  }

  private readonly onAdapterState = (adapterState: string): void => {
    if (adapterState === "poweredOn") {
      if (this.state === "unavailable") this.resume();
    } else if (this.state === "running") {
      this.adapterLost(undefined);
    }
  };

  private adapterLost(error: Error | undefined): void {
    if (error && this.listenerCount("error") > 0) this.emit("error", error);
    if (this.state !== "running") return;
    this.setState("unavailable");
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const generation = this.generation;
    this.pending.after(this.backoff.next(), () => void this.attemptRestart(generation));
  }

  private async attemptRestart(generation: number): Promise<void> {
    if (generation !== this.generation || this.state !== "unavailable") return;
    this.attempts++;
    let ready = false;
    try {
      ready = this.noble?.state === "poweredOn";
    } catch {
      ready = false;
    }
    if (!ready && this.attempts % 3 === 0) {
      // The adapter may have been unplugged and come back as a new device: start afresh.
      const windowOpen = this.windowOpen;
      this.releaseLibrary();
      try {
        await this.open();
        ready = true;
      } catch (error) {
        if (this.listenerCount("error") > 0) this.emit("error", error as Error);
      }
      this.windowOpen = windowOpen;
      if (generation !== this.generation) {
        this.release();
        return;
      }
    }
    if (ready) this.resume();
    else this.scheduleRestart();
  }

  /** Releases noble but keeps the duty-cycle timers. */
  private releaseLibrary(): void {
    this.release(true);
  }

  private resume(): void {
    if (this.state !== "unavailable") return;
    this.backoff.reset();
    this.attempts = 0;
    this.setState("running");
    this.startScanning();
  }

  private forget(): void {
    const noble = this.noble;
    if (!noble) return;
    if (typeof noble._cleanupPeriperals === "function") noble._cleanupPeriperals();
    const bindings = noble._bindings;
    for (const field of ["_addresses", "_addresseTypes", "_connectable", "scannable"]) {
      if (bindings && typeof bindings[field] === "object" && bindings[field] !== null)
        bindings[field] = {};
    }
    if (bindings?._gap && typeof bindings._gap._discoveries === "object")
      bindings._gap._discoveries = {};
  }

  private readonly onDiscover = (peripheral: {
    address?: string;
    rssi: number;
    advertisement: NobleAdvertisement;
  }): void => {
    const payload = advertisingDataOf(peripheral.advertisement);
    if (payload) this.report(payload, peripheral.address, peripheral.rssi);
  };

  private readonly onRawReport = (
    _status: number,
    _type: number,
    address: string,
    _addressType: string,
    eir: Uint8Array,
    rssi: number,
  ): void => {
    this.report(eir, address, rssi);
  };

  private readonly onRawExtendedReport = (
    _status: number,
    _type: number,
    address: string,
    _addressType: string,
    _txPower: number,
    rssi: number,
    eir: Uint8Array,
  ): void => {
    this.report(eir, address, rssi);
  };

  private report(data: Uint8Array, address: string | undefined, rssiDbm: number): void {
    if (!this.windowOpen || this.state !== "running" || rssiDbm === RSSI_NOT_AVAILABLE) return;
    if (typeof rssiDbm !== "number" || !Number.isFinite(rssiDbm)) return;
    let classified: ReturnType<typeof classifyAdvertisement>;
    try {
      classified = classifyAdvertisement(data, { extended: data.length > 31 });
    } catch (error) {
      if (error instanceof CodecError) return; // malformed frames are dropped
      throw error;
    }
    if (classified.protocol === "unknown" || !this.protocols.has(classified.protocol)) return;
    const payload = Uint8Array.from(data);
    const id = rollingIdOf(classified)!;
    const sighting: RadioSighting = {
      atMs: this.settings.timers.nowMs(),
      protocol: classified.protocol,
      id: id.slice(),
      ...(classified.protocol === "gaen" ? { aem: classified.aem.slice() } : {}),
      rssiDbm: Math.round(rssiDbm),
      address: addressBytes(address),
      payload,
    };
    this.emit("sighting", sighting);
  }

  private setState(state: RadioState): void {
    this.state = state;
    this.emit("state", state);
  }
}

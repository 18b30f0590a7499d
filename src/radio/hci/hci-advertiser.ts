/**
 * The HCI advertiser: bleno's `startAdvertisingWithEIRData` with the protocol's payload, and,
 * for privacy, a random non-resolvable address that rotates together with the ID. bleno
 * advertises from the adapter's public address and has no command for a random one, so the
 * address and the advertising parameters (non-connectable, own address random, the interval)
 * are sent through bleno's own HCI socket. At each rotation: advertising off, new address,
 * parameters, new data, advertising on, in that order, so no advertisement ever pairs the
 * old ID with the new address or the other way round.
 */
import { EventEmitter } from "node:events";
import { formatAddress } from "../../ble/random-address.js";
import { RadioError } from "../../core/errors.js";
import { mention, optionText } from "../../core/option-text.js";
import type { Broadcast, RotatingAdvertiser } from "../../protocols/rotating-advertiser.js";
import type { Advertiser, AdvertiserEvents, AdvertiserOptions, RadioState } from "../radio.js";
import { DEFAULT_ADVERTISING_INTERVAL_MS, planAdvertising } from "../start-options.js";
import {
  leSetAdvertisingEnable,
  leSetAdvertisingParameters,
  leSetRandomAddress,
  OWN_ADDRESS_PUBLIC,
  OWN_ADDRESS_RANDOM,
} from "./hci-commands.js";
import { type HciControl, hciControlOf } from "./hci-control.js";
import { type HciSettings, type Internals, openBleLibrary } from "./hci-settings.js";
import type { LibraryGuard } from "./library-guard.js";
import { DoublingBackoff, PendingTimers } from "./timers.js";

/** GAEN BT spec v1.2: advertising interval 200-270 ms. */
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

/** Core spec Vol 1 Part F: the HCI status codes an advertiser is likely to meet. */
const HCI_STATUS: Record<number, string> = {
  1: "unknown HCI command",
  12: "command disallowed",
  17: "unsupported feature or parameter value",
  18: "invalid HCI command parameters",
};

export const STATIC_ADDRESS_EXPOSURE =
  "every rotating ID is then sent from the adapter's fixed address, so anyone recording it can link all of this device's IDs to each other and to the device";

function privacyRefusal(why: string): RadioError {
  return new RadioError(
    optionText`refusing to advertise a rotating ID without a rotating address: ${why}; ${STATIC_ADDRESS_EXPOSURE} (${mention("allowStaticAddress", { value: true })} to accept that)`,
    "E_RADIO_PRIVACY",
  );
}

function statusText(status: number): string {
  return `HCI status 0x${status.toString(16).padStart(2, "0")}${HCI_STATUS[status] ? `, ${HCI_STATUS[status]}` : ""}`;
}

export class HciAdvertiser extends EventEmitter<AdvertiserEvents> implements Advertiser {
  state: RadioState = "idle";
  /** How the address is chosen once started: rotating random, or the adapter's fixed one. */
  addressMode: "random" | "static" | undefined;
  /** The address on the air ("aa:bb:..."), when known. */
  currentAddress: string | undefined;
  private bleno: Internals;
  private guard: LibraryGuard | undefined;
  private control: HciControl | undefined;
  private source: RotatingAdvertiser | undefined;
  private intervalMs = DEFAULT_ADVERTISING_INTERVAL_MS;
  private rotation = -1;
  private generation = 0;
  private active = false;
  private readonly backoff = new DoublingBackoff(FIRST_BACKOFF_MS, MAX_BACKOFF_MS);
  private recovering = false;
  /** The source failed: nothing goes back on the air until the next start(). */
  private failed = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly pending: PendingTimers;

  constructor(private readonly settings: HciSettings) {
    super();
    this.pending = new PendingTimers(settings.timers);
  }

  async start(options: AdvertiserOptions): Promise<void> {
    const intervalMs = planAdvertising(options, this.active || this.state === "starting");
    this.intervalMs = intervalMs;
    this.source = options.source;
    this.rotation = -1;
    this.failed = false;
    const generation = ++this.generation;
    this.setState("starting");
    try {
      await this.open();
      if (generation !== this.generation)
        throw new RadioError("stopped while starting", "E_RADIO_STOPPED");
      const broadcast = this.source.at(this.settings.timers.nowMs());
      await this.apply(broadcast);
      this.noteRotation(broadcast);
    } catch (error) {
      this.release();
      if (generation === this.generation) this.setState("unavailable");
      if (error instanceof RadioError && error.code === "E_RADIO_STOPPED") return;
      throw error;
    }
    this.active = true;
    this.setState("running");
    this.scheduleRotation();
  }

  async stop(): Promise<void> {
    this.generation++;
    this.active = false;
    if (this.state === "idle" || this.state === "stopped") return;
    this.setState("stopping");
    this.release();
    this.setState("stopped");
  }

  /** Puts the current broadcast on the air again (after another user of the adapter reset it). */
  reapply(): void {
    if (this.state !== "running" || !this.source) return;
    const broadcast = this.broadcastAt(this.source);
    if (broadcast) this.enqueue(broadcast).catch((error) => this.lost(error));
  }

  private async open(): Promise<void> {
    const { library, guard } = await openBleLibrary(
      "bleno",
      this.settings,
      () => this.lost(),
      (bindings) => {
        // bleno sets its advertising parameters itself when the adapter comes up (public
        // address, connectable, BLENO_ADVERTISING_INTERVAL): make those ours.
        process.env.BLENO_ADVERTISING_INTERVAL = String(this.intervalMs);
        const hci = bindings?._hci;
        if (hci && typeof hci.setAdvertisingParameters === "function" && hci._socket) {
          hci.setAdvertisingParameters = () =>
            hci._socket.write(
              Buffer.from(
                leSetAdvertisingParameters({
                  intervalMs: this.intervalMs,
                  ownAddressType:
                    this.addressMode === "static" ? OWN_ADDRESS_PUBLIC : OWN_ADDRESS_RANDOM,
                }),
              ),
            );
        }
      },
    );
    this.bleno = library;
    this.guard = guard;
    library.on("stateChange", this.onAdapterState);
    this.control = hciControlOf(library._bindings, this.settings.timers);
    if (this.control) this.addressMode = "random";
    else if (this.settings.allowStaticAddress) this.addressMode = "static";
    else {
      throw privacyRefusal(
        `${this.bleno.platform === "darwin" ? "macOS" : "this Bluetooth library"} gives no access to the HCI socket, so no random address can be set`,
      );
    }
  }

  private release(): void {
    this.pending.clear();
    const bleno = this.bleno;
    const control = this.control;
    this.bleno = undefined;
    this.control = undefined;
    this.currentAddress = undefined;
    if (bleno) {
      bleno.removeListener("stateChange", this.onAdapterState);
      const guard = this.guard;
      if (control) guard?.stop(() => control.write(leSetAdvertisingEnable(false)));
      control?.close();
      guard?.stop(() => bleno.stopAdvertising());
      guard?.stop(() => bleno.stop());
    }
    this.guard = undefined;
  }

  /** Applies broadcasts one at a time, in order. */
  private enqueue(broadcast: Broadcast): Promise<void> {
    const next = this.queue.then(() => this.apply(broadcast));
    this.queue = next.catch(() => {});
    return next;
  }

  private async apply(broadcast: Broadcast): Promise<void> {
    const control = this.control;
    const bleno = this.bleno;
    if (!bleno) return;
    if (control && this.addressMode === "random") {
      control.write(leSetAdvertisingEnable(false));
      const [addressStatus, parameterStatus] = await Promise.all([
        control.command(leSetRandomAddress(broadcast.address)),
        control.command(
          leSetAdvertisingParameters({
            intervalMs: this.intervalMs,
            ownAddressType: OWN_ADDRESS_RANDOM,
          }),
        ),
      ]);
      if (addressStatus !== 0) {
        if (!this.settings.allowStaticAddress) {
          throw privacyRefusal(
            `the adapter rejected LE Set Random Address (${statusText(addressStatus)})`,
          );
        }
        this.addressMode = "static";
        return this.apply(broadcast);
      }
      if (parameterStatus !== 0) {
        throw new RadioError(
          optionText`the adapter rejected the advertising parameters (${statusText(parameterStatus)}; interval ${this.intervalMs} ms, non-connectable): try ${mention("intervalMs", { value: "250" })}`,
          "E_RADIO_PARAMETERS",
        );
      }
      this.currentAddress = formatAddress(broadcast.address);
    } else if (control) {
      control.write(leSetAdvertisingEnable(false));
      await control.command(
        leSetAdvertisingParameters({
          intervalMs: this.intervalMs,
          ownAddressType: OWN_ADDRESS_PUBLIC,
        }),
      );
      this.currentAddress = bleno.address;
    } else {
      this.currentAddress = bleno.address;
    }
    await new Promise<void>((resolve, reject) => {
      bleno.startAdvertisingWithEIRData(
        Buffer.from(broadcast.payload),
        Buffer.alloc(0),
        (error?: Error | null) => {
          if (!error) resolve();
          else
            reject(
              new RadioError(
                `the adapter would not start advertising: ${error.message}`,
                "E_RADIO_ADVERTISE",
                {
                  cause: error,
                },
              ),
            );
        },
      );
    });
  }

  private noteRotation(broadcast: Broadcast): void {
    if (broadcast.rotation === this.rotation) return;
    this.rotation = broadcast.rotation;
    this.emit("rotated", { atMs: this.settings.timers.nowMs(), rotation: broadcast.rotation });
  }

  private scheduleRotation(): void {
    const source = this.source;
    if (!source) return;
    const { timers } = this.settings;
    const current = this.broadcastAt(source);
    if (!current) return;
    const generation = this.generation;
    this.pending.after(current.untilMs - timers.nowMs(), () => {
      if (generation !== this.generation) return;
      this.scheduleRotation();
      if (this.state !== "running") return;
      // Off the air at the rotation instant itself; the new address and data follow.
      try {
        this.control?.write(leSetAdvertisingEnable(false));
      } catch {
        // Reported by the apply below.
      }
      const broadcast = this.broadcastAt(source);
      if (!broadcast) return;
      this.enqueue(broadcast).then(
        () => this.noteRotation(broadcast),
        (error) => this.lost(error),
      );
    });
  }

  /** The broadcast due now, or `undefined` after `fail` when the source cannot give one. */
  private broadcastAt(source: RotatingAdvertiser): Broadcast | undefined {
    try {
      return source.at(this.settings.timers.nowMs());
    } catch (error) {
      this.fail(error);
      return undefined;
    }
  }

  /**
   * The source failed (its key store cannot be written, say): retrying cannot help, and the
   * old ID must not stay on the air past its time, so advertising stops until `stop()`.
   */
  private fail(error: unknown): void {
    this.generation++;
    this.failed = true;
    const bleno = this.bleno;
    try {
      this.control?.write(leSetAdvertisingEnable(false));
      bleno?.stopAdvertising();
    } catch {
      // Off the air or gone: either way nothing is advertised.
    }
    if (this.state === "running") this.setState("unavailable");
    if (this.listenerCount("error") > 0)
      this.emit("error", error instanceof Error ? error : new Error(String(error)));
  }

  private readonly onAdapterState = (adapterState: string): void => {
    if (adapterState === "poweredOn") {
      if (this.state === "unavailable" && this.active) this.recover();
    } else if (this.state === "running") {
      this.lost();
    }
  };

  private lost(error?: Error): void {
    if (error && this.listenerCount("error") > 0) this.emit("error", error);
    if (this.state !== "running") return;
    this.setState("unavailable");
    this.scheduleRecovery();
  }

  private scheduleRecovery(): void {
    const generation = this.generation;
    this.pending.after(this.backoff.next(), () => {
      if (generation === this.generation && this.state === "unavailable") this.recover();
    });
  }

  /** Puts the current broadcast back on the air after the adapter returned. */
  private recover(): void {
    const source = this.source;
    if (!source || !this.bleno || this.recovering || this.failed) return;
    const broadcast = this.broadcastAt(source);
    if (!broadcast) return;
    const generation = this.generation;
    this.recovering = true;
    this.enqueue(broadcast).then(
      () => {
        this.recovering = false;
        if (generation !== this.generation || this.state !== "unavailable") return;
        this.backoff.reset();
        this.setState("running");
        this.noteRotation(broadcast);
      },
      (error) => {
        this.recovering = false;
        if (error && this.listenerCount("error") > 0) this.emit("error", error);
        if (generation === this.generation && this.state === "unavailable") this.scheduleRecovery();
      },
    );
  }

  private setState(state: RadioState): void {
    this.state = state;
    this.emit("state", state);
  }
}

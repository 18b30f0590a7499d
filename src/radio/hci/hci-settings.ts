/**
 * Options of the HCI back-end, and the one routine both parts use to bring their library up:
 * load it, check the adapter, start it over its bindings and wait for "poweredOn", or fail
 * with one sentence saying why.
 */
import type { RadioError } from "../../core/errors.js";
import {
  type AdapterProbe,
  adapterNotReady,
  checkAdapterPresent,
  systemProbe,
} from "./adapter-diagnosis.js";
import { type BleRole, type ImportModule, importModule, loadBleLibrary } from "./ble-library.js";
import { LibraryGuard, waitForPoweredOn } from "./library-guard.js";
import { systemTimers, type Timers } from "./timers.js";

export interface HciRadioOptions {
  /** Adapter index (0 for hci0). Default: NOBLE_HCI_DEVICE_ID / BLENO_HCI_DEVICE_ID, else the first. */
  deviceId?: number;
  /**
   * Advertise from the adapter's own address when a random address cannot be set. Off by
   * default: a fixed address links every rotating ID to the device.
   */
  allowStaticAddress?: boolean;
  /** How long to wait for the adapter to power on before failing, ms (default 3000). */
  readyTimeoutMs?: number;
  timers?: Timers;
  probe?: AdapterProbe;
  importModule?: ImportModule;
  /** Bindings for `new Noble(bindings)` instead of the HCI socket ones (tests, other transports). */
  nobleBindings?: () => unknown;
  /** Bindings for `new Bleno(bindings)` likewise. */
  blenoBindings?: () => unknown;
}

export interface HciSettings {
  readonly deviceId: number | undefined;
  readonly allowStaticAddress: boolean;
  readonly readyTimeoutMs: number;
  readonly timers: Timers;
  readonly probe: AdapterProbe;
  readonly importModule: ImportModule;
  readonly nobleBindings: (() => unknown) | undefined;
  readonly blenoBindings: (() => unknown) | undefined;
}

export const DEFAULT_READY_TIMEOUT_MS = 3000;

export function hciSettings(options: HciRadioOptions = {}): HciSettings {
  return {
    deviceId: options.deviceId,
    allowStaticAddress: options.allowStaticAddress ?? false,
    readyTimeoutMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    timers: options.timers ?? systemTimers,
    probe: options.probe ?? systemProbe,
    importModule: options.importModule ?? importModule,
    nobleBindings: options.nobleBindings,
    blenoBindings: options.blenoBindings,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: noble and bleno internals are untyped.
export type Internals = any;

export interface OpenedLibrary {
  readonly packageName: string;
  /** The noble or bleno instance, started and powered on. */
  readonly library: Internals;
  readonly guard: LibraryGuard;
}

/**
 * Loads and starts noble or bleno. `beforeStart` sees the bindings before they open the
 * adapter; `onError` gets what the library throws later (see `LibraryGuard`).
 */
export async function openBleLibrary(
  role: BleRole,
  settings: HciSettings,
  onError: (error: Error) => void,
  beforeStart?: (bindings: Internals) => void,
): Promise<OpenedLibrary> {
  const loaded = await loadBleLibrary<Internals>(
    role,
    { deviceId: settings.deviceId },
    settings.importModule,
  );
  const injected = role === "noble" ? settings.nobleBindings : settings.blenoBindings;
  // The adapter the library will open: ours, or the one its environment variable names.
  const envId = Number.parseInt(process.env[`${role.toUpperCase()}_HCI_DEVICE_ID`] ?? "", 10);
  const deviceId = settings.deviceId ?? (Number.isInteger(envId) ? envId : undefined);
  if (!injected) {
    const problem = checkAdapterPresent(deviceId, settings.probe);
    if (problem) throw problem;
  }
  const library = await loaded.create(injected?.());
  let startError: Error | undefined;
  let failWait: (() => void) | undefined;
  const guard = new LibraryGuard((error) => {
    startError ??= error;
    if (failWait) failWait();
    else onError(error);
  });
  guard.guard(library._bindings);
  beforeStart?.(library._bindings);
  const wait = waitForPoweredOn(library, settings.timers, settings.readyTimeoutMs);
  failWait = wait.fail;
  const state = await wait.done;
  failWait = undefined;
  if (state !== "poweredOn") {
    guard.stop(() => library.stop());
    let error: RadioError = adapterNotReady(
      state,
      deviceId,
      settings.readyTimeoutMs,
      settings.probe,
    );
    if (startError && error.code === "E_RADIO_NOT_READY")
      error = adapterNotReady("unsupported", deviceId, 0, settings.probe);
    throw error;
  }
  return { packageName: loaded.packageName, library, guard };
}

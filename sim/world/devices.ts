/**
 * Phone models in the simulated channel: a scenario group may name the `device` its people carry
 * (a model of `src/signal/device-offsets.json`, e.g. "Samsung SM-G973F"), and the world gives
 * that model's transmit gain and receive offset to the propagation model.
 *
 * The offsets are the ones fitted on the DP-3T anechoic pairs (1 m, no multipath), taken
 * relative to the mean of the fitted Android phones: the simulator's channel was fitted on
 * Android phones (the Herald rig's Pixel 2, Galaxy A20 and Note 8), so an average Android phone
 * stays the channel as fitted and only the differences between models are added. The GAEN
 * calibration table is not applied on top: it gives all six Samsung models of exp05 the same
 * values (RSSI correction -3 dB, TX -24 dBm), a common shift the relative offsets leave out.
 */
import fitted from "../../src/signal/device-offsets.json" with { type: "json" };

/** What a model adds to the channel, dB. */
export interface SimulatedDevice {
  /** Added to the power it radiates (`PropagationParams.txGainDb`). */
  readonly txGainDb: number;
  /** Added to what it reports receiving (`PropagationParams.rxOffsetDb`). */
  readonly rxOffsetDb: number;
}

const DEVICES = fitted.devices as Record<string, { rxOffsetDb: number; txOffsetDb: number }>;

function compact(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

const ANDROID = Object.keys(DEVICES).filter((name) => !name.startsWith("Apple "));
const MEAN_TX = ANDROID.reduce((s, name) => s + DEVICES[name].txOffsetDb, 0) / ANDROID.length;
const MEAN_RX = ANDROID.reduce((s, name) => s + DEVICES[name].rxOffsetDb, 0) / ANDROID.length;

const BY_NAME = new Map<string, { name: string; device: SimulatedDevice }>();
for (const [name, d] of Object.entries(DEVICES)) {
  const device = { txGainDb: d.txOffsetDb - MEAN_TX, rxOffsetDb: d.rxOffsetDb - MEAN_RX };
  BY_NAME.set(compact(name), { name, device });
  // The model without its OEM ("SM-G973F").
  const space = name.indexOf(" ");
  if (space > 0) BY_NAME.set(compact(name.slice(space + 1)), { name, device });
}

/** The models a scenario may name, as the offsets file spells them. */
export const SIMULATED_DEVICE_MODELS: readonly string[] = Object.keys(DEVICES);

/**
 * The model's offsets in the simulated channel (any case and spacing, with or without the OEM),
 * with its canonical name; `undefined` for a model the anechoic fit did not have.
 */
export function simulatedDevice(
  model: string,
): { name: string; device: SimulatedDevice } | undefined {
  return BY_NAME.get(compact(model));
}

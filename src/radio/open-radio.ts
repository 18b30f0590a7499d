/**
 * Picks a radio back-end by name and loads it only then (`await import`), so that a machine
 * without the native Bluetooth libraries can still use the simulated radio.
 */
import { ConfigError } from "../core/errors.js";
import type { HciRadioOptions } from "./hci/hci-radio.js";
import type { Radio } from "./radio.js";
import type { ReplayRadioOptions } from "./replay/replay-radio.js";
import type { SimRadioOptions } from "./sim/sim-radio.js";

export interface RadioOptions {
  sim?: SimRadioOptions;
  replay?: ReplayRadioOptions;
  hci?: HciRadioOptions;
}

type Loader = (options: RadioOptions) => Promise<Radio>;

const BACKENDS: Record<string, Loader> = {
  sim: async (options) => {
    const { SimRadio } = await import("./sim/sim-radio.js");
    if (!options.sim)
      throw new ConfigError("the sim radio needs a medium (options.sim.medium)", "E_RADIO_OPTIONS");
    return new SimRadio(options.sim);
  },
  replay: async (options) => {
    const { ReplayRadio } = await import("./replay/replay-radio.js");
    if (!options.replay)
      throw new ConfigError(
        "the replay radio needs a capture (options.replay.capture)",
        "E_RADIO_OPTIONS",
      );
    return new ReplayRadio(options.replay);
  },
  hci: async (options) => {
    const { HciRadio } = await import("./hci/hci-radio.js");
    return new HciRadio(options.hci);
  },
};

/** The names of the back-ends this build knows. */
export function radioBackends(): string[] {
  return Object.keys(BACKENDS);
}

/** Opens the radio back-end `name`; an unknown name fails with the valid ones. */
export async function openRadio(name: string, options: RadioOptions = {}): Promise<Radio> {
  const load = BACKENDS[name];
  if (!load)
    throw new ConfigError(
      `unknown radio "${name}": use one of ${radioBackends().join(", ")}`,
      "E_RADIO",
    );
  return load(options);
}

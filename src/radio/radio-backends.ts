/**
 * The one list of radio back-ends: what each is, what it can do, and how to open it. The CLI's
 * `scan`, `advertise` and `checkpoint` take their `--radio` choices and help from it. Every
 * back-end loads only when opened (`await import`), so that a machine without the native
 * Bluetooth libraries can still use the simulated radio.
 */
import type { WorldRadioOptions } from "../../sim/engine/world-radio.js";
import { ConfigError } from "../core/errors.js";
import type { HciRadioOptions } from "./hci/hci-radio.js";
import type { Radio } from "./radio.js";
import type { ReplayRadioOptions } from "./replay/replay-radio.js";
import type { SimRadioOptions } from "./sim/sim-radio.js";
import type { SimSceneOptions } from "./sim/sim-scene.js";

/** What to open; each back-end reads its own part, so one object can serve every choice. */
export interface RadioOptions {
  /** `sim`: a radio in a medium the caller runs. */
  sim?: SimRadioOptions;
  /** `sim`: the scanner of a small scene of walking phones (`SimSceneRadio`). */
  scene?: SimSceneOptions;
  /** `sim`: the fixed scanner of a crowd simulator's scenario (`WorldRadio`). */
  world?: WorldRadioOptions;
  replay?: ReplayRadioOptions;
  hci?: HciRadioOptions;
}

export interface RadioBackend {
  /** What users type after `--radio`. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** Whether its scanner reports sightings. */
  readonly scans: boolean;
  /** Whether its advertiser puts IDs on the air. */
  readonly advertises: boolean;
  /** What it cannot do, as the end of a sentence after "it cannot"; absent when nothing. */
  readonly cannot?: string;
  open(options: RadioOptions): Promise<Radio>;
}

/**
 * The back-ends, in the order `--help` lists them. Each runs the Radio contract suite
 * (test/radio/radio-contract.ts) or says here what it cannot do. `sim` runs it as `SimRadio`;
 * its scene's scanner is a `SimRadio`, and its crowd scenario's `WorldRadio` (checkpoint) is
 * tested on its own (test/sim/engine/world-radio.test.ts): the crowd's phones record no
 * foreign beacon, so what it advertises is heard by nobody.
 */
export const RADIO_BACKENDS: readonly RadioBackend[] = [
  {
    name: "sim",
    description:
      "simulated radios on a virtual clock: a scene of phones walking around the scanner, a phone 1 m away, or a crowd scenario",
    scans: true,
    advertises: true,
    async open(options) {
      if (options.world) {
        const { WorldRadio } = await import("../../sim/engine/world-radio.js");
        return new WorldRadio(options.world);
      }
      if (options.scene) {
        const { SimSceneRadio } = await import("./sim/sim-scene.js");
        return SimSceneRadio.open(options.scene);
      }
      const { SimRadio } = await import("./sim/sim-radio.js");
      if (!options.sim)
        throw new ConfigError(
          "the sim radio needs a medium (options.sim.medium), a scene (options.scene) or a scenario (options.world)",
          "E_RADIO_OPTIONS",
        );
      return new SimRadio(options.sim);
    },
  },
  {
    name: "replay",
    description: "a btsnoop capture (btmon -w, or Android's HCI snoop log), played back",
    scans: true,
    advertises: false,
    cannot: "advertise: it plays back a capture, which holds only what was heard",
    async open(options) {
      const { ReplayRadio } = await import("./replay/replay-radio.js");
      if (!options.replay)
        throw new ConfigError(
          "the replay radio needs a capture (options.replay.capture)",
          "E_RADIO_OPTIONS",
        );
      return new ReplayRadio(options.replay);
    },
  },
  {
    name: "hci",
    description: "a Bluetooth LE adapter (Linux; noble to scan, bleno to advertise)",
    scans: true,
    advertises: true,
    async open(options) {
      const { HciRadio } = await import("./hci/hci-radio.js");
      return new HciRadio(options.hci);
    },
  },
];

/** The names of the back-ends this build knows. */
export function radioBackends(): string[] {
  return RADIO_BACKENDS.map((b) => b.name);
}

/** The back-end `name`; an unknown name fails with the valid ones. */
export function radioBackend(name: string): RadioBackend {
  const backend = RADIO_BACKENDS.find((b) => b.name === name);
  if (!backend)
    throw new ConfigError(
      `unknown radio "${name}": use one of ${radioBackends().join(", ")}`,
      "E_RADIO",
    );
  return backend;
}

/**
 * Throws unless back-end `name` can do `what` ("scan" or "advertise"): "the replay radio cannot
 * advertise: it plays back a capture, ...; use hci or sim".
 */
export function checkRadioCan(name: string, what: "scan" | "advertise"): RadioBackend {
  const backend = radioBackend(name);
  if (what === "scan" ? backend.scans : backend.advertises) return backend;
  const others = RADIO_BACKENDS.filter((b) => (what === "scan" ? b.scans : b.advertises));
  throw new ConfigError(
    `the ${name} radio cannot ${backend.cannot ?? what}; use ${others.map((b) => b.name).join(" or ")}`,
    "E_RADIO_CANNOT",
  );
}

/**
 * The back-ends as `--help` text: "sim: ...; replay: ...; hci: ...", with per-command notes,
 * and "(cannot advertise)" after those that cannot do what the command `needs`.
 */
export function describeRadios(
  notes: Readonly<Record<string, string>> = {},
  needs?: "scan" | "advertise",
): string {
  return RADIO_BACKENDS.map((b) => {
    const able = needs === undefined || (needs === "scan" ? b.scans : b.advertises);
    return `${b.name}: ${notes[b.name] ?? b.description}${able ? "" : ` (cannot ${needs})`}`;
  }).join("; ");
}

/** Opens the radio back-end `name`; an unknown name fails with the valid ones. */
export async function openRadio(name: string, options: RadioOptions = {}): Promise<Radio> {
  return radioBackend(name).open(options);
}

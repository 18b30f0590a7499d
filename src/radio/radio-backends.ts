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

/**
 * A part of the Radio contract suite (test/radio/radio-contract.ts), by what it needs of the
 * radios: `air`, a scanner of another radio decodes exactly what this radio's advertiser sends;
 * `scanner`, what this radio's scanner reports of what is on the air (the protocols asked for,
 * the duty cycle, stop(), addresses that change with the IDs); `advertiser`, this radio's
 * advertiser alone (its states, the rotations of its source, a second start refused).
 */
export type RadioContractPart = "air" | "scanner" | "advertiser";

/**
 * One kind of radio a back-end opens, asked for by one field of `RadioOptions`. Every variant
 * runs the Radio contract suite, but for the parts it says here it does not, each with why.
 */
export interface RadioVariant {
  /** The class it opens: "SimRadio", "WorldRadio". */
  readonly name: string;
  /** The field of `RadioOptions` that asks for it. */
  readonly option: keyof RadioOptions;
  /** What it is and who opens it, in one line. */
  readonly description: string;
  /** The parts of the contract suite it does not run, each with why; absent: it runs them all. */
  readonly untested?: Readonly<Partial<Record<RadioContractPart, string>>>;
  open(options: RadioOptions): Promise<Radio>;
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
  /**
   * The radios it can open: `open` opens the first whose `option` the options give, or else
   * the first (which then says what it needs).
   */
  readonly variants: readonly RadioVariant[];
  open(options: RadioOptions): Promise<Radio>;
}

/** A back-end whose `open` opens the first of its variants whose option is given, or its first. */
function withVariants(spec: Omit<RadioBackend, "open">): RadioBackend {
  return {
    ...spec,
    open(options) {
      const variant =
        spec.variants.find((v) => options[v.option] !== undefined) ?? spec.variants[0];
      return variant.open(options);
    },
  };
}

/** What a variant that cannot open without its options says when they are missing. */
const MISSING = {
  sim: "the sim radio needs a medium (options.sim.medium), a scene (options.scene) or a scenario (options.world)",
  scene: "the sim radio's scene needs options.scene",
  world: "the sim radio's scenario needs options.world",
  replay: "the replay radio needs a capture (options.replay.capture)",
} as const;

/** `options[key]`, or a `ConfigError` saying that it is missing. */
function given<K extends keyof typeof MISSING>(
  options: RadioOptions,
  key: K,
): NonNullable<RadioOptions[K]> {
  const value = options[key];
  if (value === undefined) throw new ConfigError(MISSING[key], "E_RADIO_OPTIONS");
  return value;
}

const REPLAY_CANNOT = "advertise: it plays back a capture, which holds only what was heard";

/**
 * The back-ends, in the order `--help` lists them, each with the radios it can open. Every one
 * of those runs the Radio contract suite (test/radio/radio-backends.test.ts runs it on each) but
 * for the parts its `untested` names, with why.
 */
export const RADIO_BACKENDS: readonly RadioBackend[] = [
  withVariants({
    name: "sim",
    description:
      "simulated radios on a virtual clock: a scene of phones walking around the scanner, a phone 1 m away, or a crowd scenario",
    scans: true,
    advertises: true,
    variants: [
      {
        name: "SimRadio",
        option: "sim",
        description: "a radio in a medium the caller runs (proxkit advertise --radio sim)",
        async open(options) {
          const sim = given(options, "sim");
          const { SimRadio } = await import("./sim/sim-radio.js");
          return new SimRadio(sim);
        },
      },
      {
        name: "SimSceneRadio",
        option: "scene",
        description:
          "the scanner of a small scene of phones walking around it (proxkit scan --radio sim)",
        async open(options) {
          const scene = given(options, "scene");
          const { SimSceneRadio } = await import("./sim/sim-scene.js");
          return SimSceneRadio.open(scene);
        },
      },
      {
        name: "WorldRadio",
        option: "world",
        description:
          "the fixed scanner of a crowd simulator's scenario (proxkit checkpoint --radio sim --scenario)",
        untested: {
          air: "no other radio shares its air: its scanner hears only the crowd's phones, and the crowd records no foreign beacon, so what its advertiser sends is heard by nobody",
        },
        async open(options) {
          const world = given(options, "world");
          const { WorldRadio } = await import("../../sim/engine/world-radio.js");
          return new WorldRadio(world);
        },
      },
    ],
  }),
  withVariants({
    name: "replay",
    description: "a btsnoop capture (btmon -w, or Android's HCI snoop log), played back",
    scans: true,
    advertises: false,
    cannot: REPLAY_CANNOT,
    variants: [
      {
        name: "ReplayRadio",
        option: "replay",
        description: "a capture played back (proxkit scan and checkpoint --radio replay)",
        untested: { advertiser: `it cannot ${REPLAY_CANNOT}` },
        async open(options) {
          const replay = given(options, "replay");
          const { ReplayRadio } = await import("./replay/replay-radio.js");
          return new ReplayRadio(replay);
        },
      },
    ],
  }),
  withVariants({
    name: "hci",
    description: "a Bluetooth LE adapter (Linux; noble to scan, bleno to advertise)",
    scans: true,
    advertises: true,
    variants: [
      {
        name: "HciRadio",
        option: "hci",
        description: "a Bluetooth adapter (proxkit scan, advertise and checkpoint --radio hci)",
        async open(options) {
          const { HciRadio } = await import("./hci/hci-radio.js");
          return new HciRadio(options.hci);
        },
      },
    ],
  }),
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

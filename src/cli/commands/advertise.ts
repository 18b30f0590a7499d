/**
 * `proxkit advertise`: puts a device's rotating ID on the air from its key store, rotating ID
 * and address together, until stopped (Ctrl-C, SIGTERM) or for --duration. One JSON line per
 * rotation on stdout; new day keys are saved back to the key store.
 */
import type { Argv, CommandModule } from "yargs";
import { formatAddress } from "../../ble/random-address.js";
import { ConfigError, RadioError } from "../../core/errors.js";
import { toHex } from "../../core/hex.js";
import { cryptoRandom, type Random } from "../../core/random.js";
import { loadKeyStore, saveKeyStore } from "../../io/key-store-file.js";
import { dayOf, PROTOCOLS, type Protocol } from "../../protocols/rolling-id-scheme.js";
import { RotatingAdvertiser } from "../../protocols/rotating-advertiser.js";
import { schemeFor } from "../../protocols/schemes.js";
import { STATIC_ADDRESS_EXPOSURE } from "../../radio/hci/hci-advertiser.js";
import type { HciRadioOptions } from "../../radio/hci/hci-settings.js";
import type { Radio, RadioSighting } from "../../radio/radio.js";
import {
  checkRadioCan,
  describeRadios,
  openRadio,
  RADIO_BACKENDS,
} from "../../radio/radio-backends.js";
import { SimMedium } from "../../radio/sim/sim-medium.js";
import { ID_FIELD } from "../../signal/sighting.js";
import { errorInFlags } from "../option-names.js";
import { parseDurationMs, parseInteger } from "../parse.js";
import { parseSpeed, runPaced, stopSignal } from "./scan.js";

/**
 * Every back-end of the radio registry: one that cannot advertise (replay) is refused with the
 * reason, not as an unknown choice.
 */
export const ADVERTISE_RADIOS = RADIO_BACKENDS.map((b) => b.name);

export interface AdvertiseOptions {
  /** A radio back-end that can advertise: hci or sim. */
  readonly radio: string;
  readonly protocol: Protocol;
  readonly keyStore: string;
  readonly allowStaticAddress?: boolean;
  readonly deviceId?: number;
  readonly durationMs?: number;
  readonly intervalMs?: number;
  readonly txPowerDbm?: number;
  /** --radio sim: 1 = real time, Infinity = as fast as possible. */
  readonly speed?: number;
  readonly random?: Random;
  /** --radio sim: where the simulation starts (default now). */
  readonly startMs?: number;
  /** Extra HCI options (tests inject fake bindings). */
  readonly hci?: HciRadioOptions;
}

export interface AdvertiseIo {
  write(text: string): void;
  warn(text: string): void;
  readonly signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function abortPromise(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Advertises until the duration or the abort signal; returns the rotations put on the air. */
export async function runAdvertise(
  options: AdvertiseOptions,
  io: AdvertiseIo,
): Promise<{ rotations: number; heard?: number }> {
  checkRadioCan(options.radio, "advertise");
  const store = loadKeyStore(options.keyStore);
  if (store.protocol !== options.protocol) {
    throw new ConfigError(
      `key store ${options.keyStore} holds ${store.protocol} keys, not ${options.protocol}`,
      "E_KEY_STORE_PROTOCOL",
    );
  }
  // Fails before the radio opens when the store is years from now (a chain without end).
  store.checkReach(dayOf(options.radio === "sim" ? (options.startMs ?? Date.now()) : Date.now()));
  const speed = options.speed ?? 1;
  if (options.radio === "sim" && speed === Number.POSITIVE_INFINITY && !options.durationMs)
    throw new ConfigError("--speed max with --radio sim needs --duration", "E_USAGE");
  if (options.radio === "sim" && options.allowStaticAddress)
    io.warn("--allow-static-address has no effect with --radio sim (it always rotates)");
  const random = options.random ?? cryptoRandom;
  let savedKeys = JSON.stringify(store.toJson().keys);
  const source = new RotatingAdvertiser({
    scheme: schemeFor(options.protocol),
    keyForDay: (_day, atMs) => {
      const key = store.ensureCurrent(atMs, random);
      const keys = JSON.stringify(store.toJson().keys);
      // A new day's key must survive a restart, or the device would advertise unmatchable IDs.
      if (keys !== savedKeys) {
        saveKeyStore(options.keyStore, store, { overwrite: true });
        savedKeys = keys;
      }
      return key;
    },
    random,
    txPowerDbm: options.txPowerDbm ?? 0,
  });

  let medium: SimMedium | undefined;
  let listener: Radio | undefined;
  let heard = 0;
  let radio: Radio;
  if (options.radio === "sim") {
    medium = new SimMedium({ startMs: options.startMs ?? Date.now() });
    radio = await openRadio("sim", { sim: { medium, x: 0, y: 0 } });
    // A scanner a metre away, to show what a phone nearby would hear.
    listener = await openRadio("sim", { sim: { medium, x: 1, y: 0 } });
    listener.scanner.on("sighting", (_s: RadioSighting) => {
      heard++;
    });
    await listener.scanner.start({ protocols: [options.protocol] });
  } else {
    radio = await openRadio(options.radio, {
      hci: {
        deviceId: options.deviceId,
        allowStaticAddress: options.allowStaticAddress,
        ...options.hci,
      },
    });
  }
  const nowMs = () => (medium ? medium.scheduler.nowMs() : Date.now());
  let rotations = 0;
  const idField = ID_FIELD[options.protocol];
  radio.advertiser.on("rotated", ({ atMs, rotation }) => {
    rotations++;
    const broadcast = source.at(atMs);
    const address =
      options.radio === "hci" &&
      (radio.advertiser as { addressMode?: string }).addressMode === "static"
        ? "adapter"
        : formatAddress(broadcast.address);
    io.write(
      `${JSON.stringify({
        t: atMs / 1000,
        event: "rotated",
        rotation,
        protocol: options.protocol,
        [idField]: toHex(broadcast.id.id),
        address,
        until: broadcast.untilMs / 1000,
      })}\n`,
    );
  });
  // A failure the advertiser cannot retry (the key store cannot be saved) ends the command;
  // adapter trouble is retried by the radio and only noted.
  let fatal: Error | undefined;
  let endFatal: () => void = () => {};
  const fatalPromise = new Promise<void>((resolve) => {
    endFatal = resolve;
  });
  let lost = false;
  let wasRunning = false;
  radio.advertiser.on("error", (error) => {
    if (error instanceof RadioError) io.warn(errorInFlags(error));
    else {
      fatal = error;
      endFatal();
    }
  });
  radio.advertiser.on("state", (state) => {
    if (state === "unavailable" && wasRunning && !lost && !fatal) {
      lost = true;
      io.warn("the adapter went away (reset, powered off or unplugged); retrying with backoff");
    } else if (state === "running") {
      wasRunning = true;
      if (lost) io.warn("the adapter is back; advertising again");
      lost = false;
    }
  });
  try {
    await radio.advertiser.start({ source, intervalMs: options.intervalMs });
    const advertiser = radio.advertiser as { addressMode?: string; currentAddress?: string };
    if (advertiser.addressMode === "static") {
      io.warn(
        `warning: advertising from the adapter's fixed address ${advertiser.currentAddress ?? ""} (--allow-static-address): ${STATIC_ADDRESS_EXPOSURE}`,
      );
    }
    const waits: Promise<unknown>[] = [abortPromise(io.signal), fatalPromise];
    if (medium) waits.push(runPaced(medium, speed, options.durationMs, io.signal, 60_000));
    else if (options.durationMs !== undefined) waits.push(sleep(options.durationMs));
    await Promise.race(waits);
  } finally {
    await radio.stop();
    await listener?.stop();
  }
  if (fatal) throw fatal;
  io.warn(
    `stopped after ${rotations} rotation${rotations === 1 ? "" : "s"} at ${new Date(nowMs()).toISOString()}${listener ? `; a simulated phone 1 m away heard ${heard} advertisements` : ""}`,
  );
  return listener ? { rotations, heard } : { rotations };
}

interface AdvertiseArgs {
  radio: string;
  protocol: string;
  "key-store": string;
  "allow-static-address"?: boolean;
  hci?: string;
  duration?: string;
  interval?: string;
  "tx-power"?: string;
  speed?: string;
}

export const advertiseCommand: CommandModule<object, AdvertiseArgs> = {
  command: "advertise",
  describe:
    "Advertise a device's rotating ID from its key store until stopped (ID and address rotate together)",
  builder: (yargs: Argv) =>
    yargs
      .option("radio", {
        alias: "r",
        type: "string",
        choices: ADVERTISE_RADIOS,
        default: "hci",
        describe: describeRadios(
          {
            sim: "a simulated radio with a simulated phone 1 m away",
            hci: "a Bluetooth adapter (Linux; bleno)",
          },
          "advertise",
        ),
      })
      .option("protocol", {
        alias: "p",
        type: "string",
        choices: PROTOCOLS,
        demandOption: true,
        describe: "The protocol to advertise (must match the key store)",
      })
      .option("key-store", {
        alias: "k",
        type: "string",
        demandOption: true,
        describe: "The device's key store (proxkit keys new); new day keys are saved back to it",
      })
      .option("allow-static-address", {
        type: "boolean",
        default: false,
        describe:
          "--radio hci: advertise even where no random address can be set. The adapter's fixed address then goes out with every ID, so anyone recording it can link all the IDs to each other and to this device",
      })
      .option("hci", {
        type: "string",
        describe:
          "--radio hci: the adapter number (0 for hci0) [default: $BLENO_HCI_DEVICE_ID, else the first adapter]",
      })
      .option("duration", {
        alias: "d",
        type: "string",
        describe:
          "Stop after this long, e.g. 30m, 8h [default: until Ctrl-C or SIGTERM]; simulated time with --radio sim",
      })
      .option("interval", {
        type: "string",
        describe: "Advertising interval, ms, 20-10240 [default: 250, within GAEN's 200-270]",
      })
      .option("tx-power", {
        type: "string",
        describe: "Transmit power written into the payload (GAEN metadata), dBm [default: 0]",
      })
      .option("speed", {
        type: "string",
        describe:
          '--radio sim: 1 = real time, N = N times faster, "max" = as fast as possible [default: 1]',
      })
      .example(
        "$0 keys new -p gaen -o pi.keys.json && $0 advertise -p gaen -k pi.keys.json",
        "A Pi advertising GAEN",
      )
      .example(
        "$0 advertise -p dp3t -k phone.keys.json --radio sim --speed max -d 2h",
        "Two simulated hours of DP-3T rotations",
      )
      .epilogue(
        [
          "Prints one JSON line per rotation: time, rotation, the ID now on the air, the random address and when it rotates next. Stops cleanly on Ctrl-C or SIGTERM (advertising off, adapter released).",
          "Privacy: with --radio hci, each rotation sets a new random non-resolvable address (LE Set Random Address) together with the new ID, so consecutive IDs cannot be linked by address. Where that is impossible the command refuses, unless --allow-static-address.",
          "--radio hci needs a Bluetooth LE adapter, @stoprocent/bleno (an optional dependency) and CAP_NET_RAW/CAP_NET_ADMIN; when something is missing it says which, and how to fix it.",
        ].join("\n\n"),
      ) as unknown as Argv<AdvertiseArgs>,
  handler: async (args) => {
    const options: AdvertiseOptions = {
      radio: args.radio,
      protocol: args.protocol as Protocol,
      keyStore: args["key-store"],
      allowStaticAddress: args["allow-static-address"],
      deviceId: args.hci === undefined ? undefined : parseInteger(args.hci, "--hci", 0, 15),
      durationMs:
        args.duration === undefined ? undefined : parseDurationMs(args.duration, "--duration"),
      intervalMs:
        args.interval === undefined
          ? undefined
          : parseInteger(args.interval, "--interval", 20, 10_240),
      txPowerDbm:
        args["tx-power"] === undefined
          ? undefined
          : parseInteger(args["tx-power"], "--tx-power", -127, 20),
      speed: parseSpeed(args.speed),
    };
    if (args.hci !== undefined && options.radio !== "hci")
      throw new ConfigError("--hci is only for --radio hci", "E_USAGE");
    if (args.speed !== undefined && options.radio !== "sim")
      throw new ConfigError("--speed is only for --radio sim", "E_USAGE");
    const stop = stopSignal();
    try {
      await runAdvertise(options, {
        write: (text) => process.stdout.write(text),
        warn: (text) => process.stderr.write(`proxkit: ${text}\n`),
        signal: stop.signal,
      });
    } finally {
      stop.dispose();
    }
  },
};

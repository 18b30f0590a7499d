import { existsSync } from "node:fs";
import type { Argv, CommandModule } from "yargs";
import { formatAddress } from "../../ble/random-address.js";
import { ConfigError } from "../../core/errors.js";
import { toHex } from "../../core/hex.js";
import { cryptoRandom, SeededRandom } from "../../core/random.js";
import { GAEN_DEFAULT_TX_POWER_DBM } from "../../protocols/gaen.js";
import { type DayKey, PROTOCOLS, type Protocol } from "../../protocols/rolling-id-scheme.js";
import { RotatingAdvertiser } from "../../protocols/rotating-advertiser.js";
import { schemeFor } from "../../protocols/schemes.js";
import { ADVERTISING_INTERVALS, rotationSource } from "../../radio/firmware-schedule.js";
import {
  advertisingCommands,
  commandPacket,
  commandsAsC,
  h4CommandPacket,
  hcitoolLine,
  leSetScanEnable,
} from "../../radio/hci-commands.js";
import { DATALINK_H4, DATALINK_MONITOR } from "../../radio/replay/btsnoop.js";
import { BtsnoopWriter } from "../../radio/replay/btsnoop-writer.js";
import {
  encodeAdvertisingReportEvent,
  encodeExtendedAdvertisingReportEvent,
} from "../../radio/replay/hci-events.js";
import { SimMedium } from "../../radio/sim/sim-medium.js";
import { SimRadio } from "../../radio/sim/sim-radio.js";
import {
  keyStoreOption,
  keyStoreProtocolOption,
  loadProtocolKeyStore,
  parseTimeOption,
  parseTxPower,
  saveAddedKeys,
  txPowerOption,
} from "../key-store-options.js";
import { parseDurationMs, parseInteger } from "../parse.js";

const HCI_FORMATS = ["hcitool", "hex", "c"] as const;

interface CommandsArgs {
  protocol: string;
  "key-store": string;
  at?: string;
  format: string;
  hci: string;
  "tx-power"?: string;
}

const commandsCommand: CommandModule<object, CommandsArgs> = {
  command: "commands",
  describe:
    "Print the HCI commands that make a bare controller advertise the current ID (hcitool lines, hex packets or a C array)",
  builder: (yargs: Argv) =>
    yargs
      .option("protocol", keyStoreProtocolOption)
      .option(
        "key-store",
        keyStoreOption(
          "Key store (proxkit keys new); a missing day's key is added to it (GAEN: a fresh key, which must be kept to be published)",
        ),
      )
      .option("at", {
        type: "string",
        describe: "The time whose ID to advertise, ISO date-time (UTC if no zone) [default: now]",
      })
      .option("format", {
        alias: "f",
        type: "string",
        choices: HCI_FORMATS,
        default: "hcitool",
        describe:
          "hcitool: `hcitool -i hciN cmd OGF OCF bytes` lines (a shell script); hex: one raw H4 packet per line; c: a C array for microcontroller firmware",
      })
      .option("hci", {
        type: "string",
        default: "0",
        describe: "Adapter number for hcitool's -i (hci0, hci1, ...)",
      })
      .option("tx-power", txPowerOption("TX power"))
      .epilogue(
        "The sequence is: LE Set Advertising Enable (off), LE Set Random Address (a fresh random non-resolvable address), " +
          "LE Set Advertising Parameters (non-connectable ADV_NONCONN_IND, own address random, the protocol's interval, channels 37-39), " +
          "LE Set Advertising Data (31 bytes), LE Set Advertising Enable (on). The ID is valid until the time printed on stderr: " +
          "run the command again then, so that ID and address change together. Stop BlueZ's own advertising first " +
          "(bluetoothctl advertise off) and run hcitool as root.",
      )
      .example(
        "$0 hci commands -p gaen -k device.keys.json | sudo sh",
        "Advertise the current GAEN RPI from hci0",
      )
      .example(
        "$0 hci commands -p dp3t -k beacon.keys.json --at 2026-11-28T09:00Z -f c",
        "The packets as a C array, for a controller driven over UART",
      ) as unknown as Argv<CommandsArgs>,
  handler: (args) => {
    const nowMs = Date.now();
    const atMs = parseTimeOption(args.at, "--at", nowMs);
    const adapter = parseInteger(args.hci, "--hci", 0, 255);
    const txPowerDbm = parseTxPower(args["tx-power"]);
    const store = loadProtocolKeyStore(args["key-store"], args.protocol);
    const source = rotationSource(store, atMs, atMs + 1, cryptoRandom, txPowerDbm);
    const broadcast = source.advertiser.at(atMs);
    saveAddedKeys(args["key-store"], source);
    const protocol = args.protocol as Protocol;
    const commands = advertisingCommands(broadcast, ADVERTISING_INTERVALS[protocol]);
    const until = new Date(broadcast.untilMs).toISOString();
    const summary = `${protocol} ID ${toHex(broadcast.id.id)} from address ${formatAddress(broadcast.address)}, valid until ${until}`;
    if (args.format === "hcitool") {
      const lines = [`# proxkit hci commands: ${summary}`];
      for (const command of commands)
        lines.push(`# ${command.name}`, hcitoolLine(command, `hci${adapter}`));
      process.stdout.write(`${lines.join("\n")}\n`);
    } else if (args.format === "hex") {
      process.stdout.write(`${commands.map((c) => toHex(h4CommandPacket(c))).join("\n")}\n`);
    } else {
      process.stdout.write(
        commandsAsC(commands, "proxkit_hci_commands", `proxkit hci commands: ${summary}`),
      );
    }
    process.stderr.write(`${summary}: run again then (ID and address must change together)\n`);
  },
};

interface CaptureArgs {
  out: string;
  protocol?: string[];
  devices: string;
  duration: string;
  start?: string;
  datalink: string;
  reports: string;
  seed: string;
  force?: boolean;
}

const captureCommand: CommandModule<object, CaptureArgs> = {
  command: "capture",
  describe:
    "Write a synthetic btsnoop capture: simulated devices around one scanner, as btmon or an Android snoop log would record them (to try the replay radio without hardware)",
  builder: (yargs: Argv) =>
    yargs
      .option("out", {
        alias: "o",
        type: "string",
        demandOption: true,
        describe: "The capture file to write",
      })
      .option("protocol", {
        alias: "p",
        type: "string",
        array: true,
        choices: PROTOCOLS,
        describe: "Protocols of the simulated devices, assigned in turn [default: all three]",
      })
      .option("devices", { type: "string", default: "5", describe: "How many advertising devices" })
      .option("duration", {
        type: "string",
        default: "60s",
        describe: "Recorded time, e.g. 90s, 10m, 2h",
      })
      .option("start", {
        type: "string",
        describe: "Capture clock start, ISO date-time [default: now]",
      })
      .option("datalink", {
        type: "string",
        choices: ["monitor", "h4"],
        default: "monitor",
        describe: "monitor: btsnoop 2001 as `btmon -w` writes; h4: 1002 as Android's HCI snoop log",
      })
      .option("reports", {
        type: "string",
        choices: ["legacy", "extended"],
        default: "legacy",
        describe: "LE Advertising Report events, or LE Extended Advertising Report events",
      })
      .option("seed", {
        type: "string",
        default: "1",
        describe: "Random seed (keys, positions, fading)",
      })
      .option("force", {
        type: "boolean",
        default: false,
        describe: "Overwrite --out if it exists",
      })
      .example(
        "$0 hci capture -o demo.btsnoop --devices 20 --duration 10m",
        "Ten minutes of 20 devices (all protocols)",
      )
      .example(
        "$0 scan --radio replay --capture demo.btsnoop",
        "Replay it as a live scan",
      ) as unknown as Argv<CaptureArgs>,
  handler: (args) => {
    const devices = parseInteger(args.devices, "--devices", 1, 10_000);
    const durationMs = parseDurationMs(args.duration, "--duration");
    if (durationMs > 7 * 86_400_000)
      throw new ConfigError(`--duration must be at most 7d, got ${args.duration}`, "E_RANGE");
    const seed = parseInteger(args.seed, "--seed", 0, 0xffffffff);
    const startMs = parseTimeOption(args.start, "--start", Date.now());
    if (!args.force && existsSync(args.out))
      throw new ConfigError(`${args.out} already exists (use --force to replace it)`, "E_EXISTS");
    const protocols = (args.protocol ?? PROTOCOLS) as Protocol[];
    const count = writeSyntheticCapture({
      path: args.out,
      protocols,
      devices,
      startMs,
      durationMs,
      seed,
      datalink: args.datalink === "h4" ? DATALINK_H4 : DATALINK_MONITOR,
      extended: args.reports === "extended",
    });
    process.stderr.write(
      `wrote ${args.out}: ${count} advertising reports from ${devices} simulated devices over ${args.duration} (synthetic: test keys, not a real recording)\n`,
    );
  },
};

/** Simulated devices around one scanner, recorded as a btsnoop capture. Returns the reports written. */
export function writeSyntheticCapture(options: {
  path: string;
  protocols: readonly Protocol[];
  devices: number;
  startMs: number;
  durationMs: number;
  seed: number;
  datalink: typeof DATALINK_H4 | typeof DATALINK_MONITOR;
  extended: boolean;
}): number {
  const random = new SeededRandom(options.seed);
  const medium = new SimMedium({ startMs: options.startMs, seed: options.seed });
  const writer = new BtsnoopWriter(options.path, options.datalink);
  try {
    const scanner = new SimRadio({ medium, x: 0, y: 0 });
    writer.newIndex(options.startMs, Uint8Array.of(0xb8, 0x27, 0xeb, 0, 0, 1));
    writer.command(options.startMs, commandPacket(leSetScanEnable(true)));
    const encode = options.extended
      ? encodeExtendedAdvertisingReportEvent
      : encodeAdvertisingReportEvent;
    let reports = 0;
    scanner.scanner.on("sighting", (s) => {
      writer.event(s.atMs, encode([{ address: s.address, rssiDbm: s.rssiDbm, data: s.payload }]));
      reports++;
    });
    void scanner.scanner.start();
    for (let i = 0; i < options.devices; i++) {
      const protocol = options.protocols[i % options.protocols.length];
      const angle = random.float() * 2 * Math.PI;
      const distance = 0.5 + random.float() * 9.5;
      const radio = new SimRadio({
        medium,
        x: distance * Math.cos(angle),
        y: distance * Math.sin(angle),
      });
      const deviceRandom = new SeededRandom(random.int(2 ** 31));
      const keys = new Map<number, DayKey>();
      const scheme = schemeFor(protocol);
      const advertiser = new RotatingAdvertiser({
        scheme,
        keyForDay: (day) => {
          let key = keys.get(day);
          if (!key) {
            const previous = keys.get(day - 1);
            key = previous
              ? scheme.nextDayKey(previous, deviceRandom)
              : scheme.newDayKey(day, deviceRandom);
            keys.set(day, key);
          }
          return key;
        },
        random: deviceRandom,
        txPowerDbm: GAEN_DEFAULT_TX_POWER_DBM,
      });
      void radio.advertiser.start({ source: advertiser });
    }
    medium.scheduler.runFor(options.durationMs);
    return reports;
  } finally {
    writer.close();
  }
}

export const hciCommand: CommandModule = {
  command: "hci",
  describe:
    "HCI tooling: advertising command packets for bare controllers, synthetic btsnoop captures",
  builder: (yargs: Argv) =>
    yargs
      .command(commandsCommand)
      .command(captureCommand)
      .demandCommand(1, "hci needs a subcommand: commands or capture"),
  handler: () => {},
};

import { existsSync } from "node:fs";
import type { Argv, CommandModule } from "yargs";
import { ConfigError } from "../../core/errors.js";
import { cryptoRandom } from "../../core/random.js";
import { prepareFileAtomic } from "../../io/atomic-write.js";
import type { Protocol } from "../../protocols/rolling-id-scheme.js";
import {
  buildSchedule,
  keyMaterialWarning,
  scheduleToC,
  scheduleToJson,
} from "../../radio/firmware-schedule.js";
import {
  keyStoreOption,
  keyStoreProtocolOption,
  loadProtocolKeyStore,
  parseTimeOption,
  parseTxPower,
  saveAddedKeys,
  txPowerOption,
} from "../key-store-options.js";
import { parseInteger } from "../parse.js";

/** Longest schedule: a year (a GAEN year is ~36,000 rotations, ~1.5 MB of flash). */
const MAX_DAYS = 366;

interface ScheduleArgs {
  protocol: string;
  "key-store": string;
  days: string;
  from?: string;
  format: string;
  "tx-power"?: string;
  out?: string;
  force?: boolean;
}

const scheduleCommand: CommandModule<object, ScheduleArgs> = {
  command: "schedule",
  describe:
    "Export the precomputed rotation schedule (start time, random address, advertising data with the ID) for a beacon that cannot run the cryptography (nRF52, ESP32)",
  builder: (yargs: Argv) =>
    yargs
      .option("protocol", keyStoreProtocolOption)
      .option(
        "key-store",
        keyStoreOption(
          "The beacon's key store; keys for the schedule's future days are added to it (GAEN: fresh keys, kept so the beacon's keys can be published)",
        ),
      )
      .option("days", {
        alias: "n",
        type: "string",
        demandOption: true,
        describe: `Days covered, 1..${MAX_DAYS}`,
      })
      .option("from", {
        type: "string",
        describe:
          "Start, ISO date or date-time (UTC if no zone), rounded down to the second [default: now]",
      })
      .option("format", {
        alias: "f",
        type: "string",
        choices: ["c", "json"],
        demandOption: true,
        describe: "c: a header with a const array of rotations; json: one document",
      })
      .option("tx-power", txPowerOption("the beacon's TX power,"))
      .option("out", {
        alias: "o",
        type: "string",
        describe:
          "Write the schedule to this file, mode 0600 (it is key material) [default: stdout]",
      })
      .option("force", {
        type: "boolean",
        default: false,
        describe: "Replace --out if it exists",
      })
      .epilogue(
        "Each entry is one rotation: at its start the beacon stops advertising, sets the entry's random address and advertising data, and starts again " +
          "(non-connectable, own address random), so ID and address change together. The schedule is KEY MATERIAL: anyone who has it can recognise and " +
          "link every ID the beacon will send (and, for GAEN, learns RPIs that stay secret until the keys are published). Keep it 0600, flash it, delete it.",
      )
      .example(
        "$0 firmware schedule -p bluezone -k venue.keys.json --days 30 --from 2026-12-01 -f c -o schedule.h",
        "A month of rotations as a C header for the beacon's firmware",
      )
      .example(
        "$0 firmware schedule -p gaen -k venue.keys.json -n 7 -f json",
        "A week of GAEN rotations as JSON",
      ) as unknown as Argv<ScheduleArgs>,
  handler: (args) => {
    const days = parseInteger(args.days, "--days", 1, MAX_DAYS);
    const fromMs = parseTimeOption(args.from, "--from", Date.now());
    const txPowerDbm = parseTxPower(args["tx-power"]);
    if (args.format !== "c" && args.format !== "json")
      throw new ConfigError(`unknown format "${args.format}": use c or json`, "E_FORMAT");
    const store = loadProtocolKeyStore(args["key-store"], args.protocol);
    const result = buildSchedule({ store, fromMs, days, random: cryptoRandom, txPowerDbm });
    const text =
      args.format === "c"
        ? scheduleToC(result.schedule)
        : `${JSON.stringify(scheduleToJson(result.schedule), null, 2)}\n`;
    // --out is written (beside itself) before the key store changes: a path that cannot be
    // written fails here, and the key store stays byte for byte as it was.
    if (args.out !== undefined && !args.force && existsSync(args.out))
      throw new ConfigError(`${args.out} already exists (use --force to replace it)`, "E_EXISTS");
    const prepared =
      args.out === undefined
        ? undefined
        : prepareFileAtomic(args.out, text, {
            mode: 0o600,
            overwrite: args.force ?? false,
            what: "schedule",
          });
    try {
      saveAddedKeys(args["key-store"], result);
    } catch (error) {
      prepared?.abort();
      throw error;
    }
    // Keys first, then the schedule: a schedule whose keys the store lacks must never be flashed.
    prepared?.commit();
    process.stderr.write(`proxkit: ${keyMaterialWarning(args.protocol as Protocol)}\n`);
    if (args.out === undefined) process.stdout.write(text);
    process.stderr.write(
      `${result.schedule.entries.length} rotations from ${new Date(result.schedule.fromMs).toISOString()} to ${new Date(result.schedule.toMs).toISOString()}\n`,
    );
  },
};

export const firmwareCommand: CommandModule = {
  command: "firmware",
  describe: "Tooling for beacon firmware: precomputed ID/address schedules",
  builder: (yargs: Argv) =>
    yargs.command(scheduleCommand).demandCommand(1, "firmware needs a subcommand: schedule"),
  handler: () => {},
};

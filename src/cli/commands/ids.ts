import type { Argv, CommandModule } from "yargs";
import { ConfigError } from "../../core/errors.js";
import { toHex } from "../../core/hex.js";
import {
  BLUEZONE_KEY_BYTES,
  BLUEZONE_SLOTS_PER_DAY,
  chainBluezoneDailyKey,
  deriveBluezoneIds,
} from "../../protocols/bluezone.js";
import {
  chainDp3tDayKey,
  DP3T_EPOCHS_PER_DAY,
  DP3T_KEY_BYTES,
  deriveEphIds,
} from "../../protocols/dp3t.js";
import {
  cryptAems,
  deriveRpikAndAemk,
  deriveRpis,
  encodeMetadata,
  enIntervalNumber,
  GAEN_DEFAULT_TX_POWER_DBM,
  GAEN_KEY_BYTES,
  GAEN_ROLLING_PERIOD,
  rollingStartFor,
} from "../../protocols/gaen.js";
import { PROTOCOLS } from "../../protocols/rolling-id-scheme.js";
import { resolveFormat, writeRows } from "../output.js";
import { parseInteger, parseIsoTimeMs, parseKey } from "../parse.js";

interface IdsArgs {
  protocol: string;
  key: string;
  start?: string;
  day?: string;
  count?: string;
  "tx-power"?: string;
  format?: string;
}

/** Largest --count: a year of GAEN intervals. */
const MAX_COUNT = 366 * GAEN_ROLLING_PERIOD;

/** The GAEN start interval: an ENIN, or an ISO date-time whose interval is used. Default: today's rolling start. */
function parseStartInterval(text: string | undefined, nowMs: number): number {
  if (text === undefined) return rollingStartFor(enIntervalNumber(nowMs));
  const atMs = parseIsoTimeMs(text);
  if (atMs !== undefined) return enIntervalNumber(atMs);
  return parseInteger(text, "--start (an EN interval number or an ISO date-time)", 0, 0xffffffff);
}

function* gaenRows(args: IdsArgs, nowMs: number) {
  const tek = parseKey(args.key, "--key (a GAEN TEK)", GAEN_KEY_BYTES);
  const start = parseStartInterval(args.start, nowMs);
  const count =
    args.count === undefined
      ? GAEN_ROLLING_PERIOD
      : parseInteger(args.count, "--count", 1, MAX_COUNT);
  const txPowerDbm =
    args["tx-power"] === undefined
      ? GAEN_DEFAULT_TX_POWER_DBM
      : parseInteger(args["tx-power"], "--tx-power (dBm)", -128, 127);
  if (args.day !== undefined)
    throw new ConfigError(
      "--day is for dp3t and bluezone; GAEN keys cover one day each: use --start",
      "E_OPTION",
    );
  const { rpik, aemk } = deriveRpikAndAemk(tek);
  const rpis = deriveRpis(rpik, start, count);
  const metadata = encodeMetadata(txPowerDbm);
  const allMetadata = new Uint8Array(4 * count);
  for (let j = 0; j < count; j++) allMetadata.set(metadata, 4 * j);
  const aems = cryptAems(aemk, rpis, allMetadata);
  for (let j = 0; j < count; j++) {
    yield {
      interval: start + j,
      rpi: toHex(rpis.subarray(16 * j, 16 * j + 16)),
      aem: toHex(aems.subarray(4 * j, 4 * j + 4)),
    };
  }
}

function chainedDayArgs(args: IdsArgs, slots: number) {
  if (args.start !== undefined)
    throw new ConfigError(
      `--start is for gaen; ${args.protocol} keys are chained by day: use --day N`,
      "E_OPTION",
    );
  if (args["tx-power"] !== undefined)
    throw new ConfigError(
      `--tx-power is for gaen (${args.protocol} carries no TX power)`,
      "E_OPTION",
    );
  return {
    day: args.day === undefined ? 0 : parseInteger(args.day, "--day", 0, 100_000),
    count: args.count === undefined ? slots : parseInteger(args.count, "--count", 1, slots),
  };
}

function* dp3tRows(args: IdsArgs) {
  const key = parseKey(args.key, "--key (a DP-3T day key)", DP3T_KEY_BYTES, true);
  const { day, count } = chainedDayArgs(args, DP3T_EPOCHS_PER_DAY);
  const ephIds = deriveEphIds(chainDp3tDayKey(key, day));
  for (let epoch = 0; epoch < count; epoch++)
    yield { epoch, ephid: toHex(ephIds.subarray(16 * epoch, 16 * epoch + 16)) };
}

function* bluezoneRows(args: IdsArgs) {
  const key = parseKey(args.key, "--key (a Bluezone daily key)", BLUEZONE_KEY_BYTES);
  const { day, count } = chainedDayArgs(args, BLUEZONE_SLOTS_PER_DAY);
  const ids = deriveBluezoneIds(chainBluezoneDailyKey(key, day));
  for (let slot = 0; slot < count; slot++)
    yield { slot, id: toHex(ids.subarray(12 * slot, 12 * slot + 12)) };
}

export const idsCommand: CommandModule<object, IdsArgs> = {
  command: "ids",
  describe:
    "Derive the rolling IDs of a key (bit-exact GAEN RPIs/AEMs, DP-3T EphIDs, Bluezone IDs)",
  builder: (yargs: Argv) =>
    yargs
      .option("protocol", {
        alias: "p",
        type: "string",
        choices: PROTOCOLS,
        demandOption: true,
        describe: "Rolling-ID protocol",
      })
      .option("key", {
        alias: "k",
        type: "string",
        demandOption: true,
        describe:
          "gaen: TEK, 32 hex digits; dp3t: 32-byte day key, hex or base64; bluezone: 32-byte daily key, hex",
      })
      .option("start", {
        type: "string",
        describe:
          "gaen: first interval, as an EN interval number or ISO date-time (UTC if no zone) [default: today's rolling start]",
      })
      .option("day", {
        type: "string",
        describe:
          "dp3t/bluezone: derive for the day N days after the key's day (the key chained N times) [default: 0]",
      })
      .option("count", {
        alias: "n",
        type: "string",
        describe: "How many IDs [default: gaen 144, dp3t/bluezone 96]",
      })
      .option("tx-power", {
        type: "string",
        describe: `gaen: TX power in the encrypted metadata, dBm [default: ${GAEN_DEFAULT_TX_POWER_DBM}]`,
      })
      .option("format", {
        alias: "f",
        type: "string",
        choices: ["jsonl", "csv", "table"],
        describe: "Output format [default: table on a terminal, jsonl otherwise]",
      })
      .example(
        "$0 ids -p gaen -k 75c734c6dd1a782de7a965da5eb93125 --start 2642976 -n 2",
        "The official GAEN v1.2 vector",
      )
      .example(
        "$0 ids -p dp3t -k kII4qPNuq5STANO8KUs7+/JiGhiSfJZYrL58eXpDzhk= --day 1",
        "Tomorrow's EphIDs of a DP-3T day key",
      )
      .example(
        "$0 ids -p bluezone -k <64 hex> -f csv",
        "A day of Bluezone IDs as CSV",
      ) as unknown as Argv<IdsArgs>,
  handler: (args) => {
    const format = resolveFormat(args.format);
    if (args.protocol === "gaen")
      writeRows(gaenRows(args, Date.now()), format, ["interval", "rpi", "aem"]);
    else if (args.protocol === "dp3t") writeRows(dp3tRows(args), format, ["epoch", "ephid"]);
    else writeRows(bluezoneRows(args), format, ["slot", "id"]);
  },
};

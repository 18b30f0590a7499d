import type { Argv, CommandModule } from "yargs";
import { encodeBluezoneAdvertisement } from "../../ble/bluezone-advertisement.js";
import { advertisementToJson, classifyAdvertisement } from "../../ble/classify-advertisement.js";
import { encodeDp3tAdvertisement } from "../../ble/dp3t-advertisement.js";
import { encodeGaenAdvertisement } from "../../ble/gaen-advertisement.js";
import { fromHex, toHex } from "../../core/hex.js";
import { PROTOCOLS } from "../../protocols/rolling-id-scheme.js";
import { writeJson } from "../output.js";

interface DecodeArgs {
  hex: string;
  extended?: boolean;
}

interface EncodeArgs {
  protocol: string;
  id: string;
  aem?: string;
}

const decodeCommand: CommandModule<object, DecodeArgs> = {
  command: "decode <hex>",
  describe: "Decode raw advertising data and say which protocol it carries",
  builder: (yargs: Argv) =>
    yargs
      .positional("hex", {
        type: "string",
        demandOption: true,
        describe: "Advertising data as hex (spaces and colons allowed)",
      })
      .option("extended", {
        type: "boolean",
        default: false,
        describe: "Allow extended advertising data (up to 254 bytes) instead of legacy (31)",
      })
      .example(
        "$0 adv decode 02011a03036ffd17166ffd8be6cd371c5c891604bfbe49df84509672033874",
        "A GAEN advertisement",
      ) as unknown as Argv<DecodeArgs>,
  handler: (args) => {
    const bytes = fromHex(String(args.hex), "advertising data");
    writeJson(advertisementToJson(classifyAdvertisement(bytes, { extended: args.extended })));
  },
};

const encodeCommand: CommandModule<object, EncodeArgs> = {
  command: "encode",
  describe: "Build the legacy advertising data that carries a rolling ID",
  builder: (yargs: Argv) =>
    yargs
      .option("protocol", { alias: "p", type: "string", choices: PROTOCOLS, demandOption: true })
      .option("id", {
        type: "string",
        demandOption: true,
        describe: "gaen: RPI (16 bytes); dp3t: EphID (16 bytes); bluezone: ID (12 bytes); hex",
      })
      .option("aem", { type: "string", describe: "gaen: the 4-byte AEM, hex [default: 00000000]" })
      .example(
        "$0 adv encode -p gaen --id 8be6cd371c5c891604bfbe49df845096 --aem 72033874",
        "The official GAEN vector",
      ) as unknown as Argv<EncodeArgs>,
  handler: (args) => {
    let bytes: Uint8Array;
    if (args.protocol === "gaen") {
      bytes = encodeGaenAdvertisement(
        fromHex(args.id, "--id (RPI)", 16),
        fromHex(args.aem ?? "00000000", "--aem", 4),
      );
    } else if (args.protocol === "dp3t") {
      bytes = encodeDp3tAdvertisement(fromHex(args.id, "--id (EphID)", 16));
    } else {
      bytes = encodeBluezoneAdvertisement(fromHex(args.id, "--id (Bluezone ID)", 12));
    }
    if (args.aem !== undefined && args.protocol !== "gaen") {
      process.stderr.write(`proxkit: --aem ignored: ${args.protocol} carries no AEM\n`);
    }
    process.stdout.write(`${toHex(bytes)}\n`);
  },
};

export const advCommand: CommandModule = {
  command: "adv",
  describe: "Encode and decode BLE advertising data (GAEN, DP-3T, Bluezone)",
  builder: (yargs: Argv) =>
    yargs
      .command(decodeCommand)
      .command(encodeCommand)
      .demandCommand(1, "adv needs a subcommand: decode or encode"),
  handler: () => {},
};

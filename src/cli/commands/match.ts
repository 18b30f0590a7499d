import type { Argv, CommandModule } from "yargs";
import { matchExposures } from "../../exposure/match-exposures.js";
import { PRESET_NAMES, presetFor } from "../../exposure/risk-preset.js";
import { readPublishedKeys } from "../../io/published-keys-file.js";
import { readSightingsFile } from "../../io/sightings-file.js";
import { writeJson } from "../output.js";
import { maxMegabytes } from "../parse.js";

interface MatchArgs {
  keys: string[];
  sightings: string;
  preset: string;
  "rx-correction"?: number;
  "max-mb"?: number;
  format?: string;
}

export const matchCommand: CommandModule<object, MatchArgs> = {
  command: "match",
  describe:
    "Match published keys against what a device heard: exposure windows, daily summaries, notification",
  builder: (yargs: Argv) =>
    yargs
      .option("keys", {
        type: "string",
        array: true,
        demandOption: true,
        describe:
          "Published keys: GAEN key files (.zip or export.bin) and/or JSON lines (.jsonl) of GAEN, Bluezone or DP-3T keys",
      })
      .option("sightings", {
        type: "string",
        demandOption: true,
        describe:
          'What the device heard, JSON lines: {"t": <unix s>, "protocol": "gaen", "rpi": "...", "aem": "...", "rssi": -67}',
      })
      .option("preset", {
        type: "string",
        default: "proxkit",
        describe: `Risk scoring: ${PRESET_NAMES.join(", ")}`,
      })
      .option("rx-correction", {
        type: "number",
        describe: "The receiver's RSSI correction from the calibration table, dB [default: 0]",
      })
      .option("max-mb", {
        type: "number",
        default: 64,
        describe: "Largest key file accepted, MB (also the limit on a zip's declared content)",
      })
      .option("format", { type: "string", choices: ["json"], default: "json" })
      .example(
        "$0 match --keys export.zip --sightings heard.jsonl --preset cwa-v2",
        "Score a day's sightings with the German v2 rule",
      )
      .epilogue(
        "A GAEN sighting counts only within ±2 h of its RPI's interval and with a decrypted TX power in [-50, +20] dBm. Bluezone IDs count inside their 15-minute slot, DP-3T EphIDs inside their UTC day.",
      ) as unknown as Argv<MatchArgs>,
  handler: async (args) => {
    const preset = presetFor(args.preset);
    const published = { gaen: [], dayKeys: [] };
    const maxBytes = maxMegabytes(args["max-mb"]);
    for (const path of args.keys) readPublishedKeys(path, published, { maxBytes });
    const sightings = await readSightingsFile(args.sightings);
    const result = matchExposures(published, sightings, {
      preset,
      rxRssiCorrectionDb: args["rx-correction"],
    });
    writeJson({
      windows: result.windows,
      dailySummaries: result.dailySummaries,
      notified: result.notified,
      preset: result.preset,
      counts: result.counts,
    });
  },
};

import type { Argv, CommandModule } from "yargs";
import { ConfigError } from "../../core/errors.js";
import { parseScanPeriodS } from "../../exposure/exposure-window-builder.js";
import { matchExposures } from "../../exposure/match-exposures.js";
import { PRESET_NAMES, presetFor } from "../../exposure/risk-preset.js";
import { readPublishedKeys } from "../../io/published-keys-file.js";
import { readSightingsFile } from "../../io/sightings-file.js";
import { CALIBRATION_OPTION_HELP, resolveDeviceModels } from "../device-models.js";
import { writeJson } from "../output.js";
import { maxMegabytes } from "../parse.js";

/** Largest --rx-correction: the GAEN calibration table's corrections are -37..14 dB. */
const MAX_RX_CORRECTION_DB = 100;

interface MatchArgs {
  keys: string[];
  sightings: string;
  preset: string;
  "rx-correction"?: number;
  "rx-model"?: string;
  calibration?: string;
  "max-mb"?: number;
  "scan-period"?: string;
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
      .option("rx-model", {
        type: "string",
        describe:
          'The phone that heard the sightings, as in the GAEN calibration table ("Pixel 3", "Samsung SM-G960F"): its RSSI correction calibrates attenuation',
      })
      .option("rx-correction", {
        type: "number",
        describe:
          "The receiver's RSSI correction, dB, instead of --rx-model [default: 0, an uncalibrated receiver]",
      })
      .option("calibration", { type: "string", describe: CALIBRATION_OPTION_HELP })
      .option("max-mb", {
        type: "number",
        default: 64,
        describe: "Largest key file accepted, MB (also the limit on a zip's declared content)",
      })
      .option("scan-period", {
        type: "string",
        describe:
          "For sightings recorded by a continuous scanner (a checkpoint, a research logger): the longest scan instance, seconds (60, 120, 180, 240 or 300). The EN API's rule (sightings up to 25.5 s apart are one scan) makes a 30-minute stay heard every second one scan worth 2 minutes; with 60 each minute is a scan worth 60 s, so durations add up. Phones' duty-cycled sightings (4 s scans minutes apart) give the same windows either way [default: 0, the EN API's own scan instances]",
      })
      .option("format", { type: "string", choices: ["json"], default: "json" })
      .example(
        "$0 match --keys export.zip --sightings heard.jsonl --preset cwa-v2",
        "Score a day's sightings with the German v2 rule",
      )
      .example(
        '$0 match --keys export.zip --sightings heard.jsonl --rx-model "Pixel 3"',
        "The same, with attenuation calibrated for the receiving phone",
      )
      .example(
        "$0 match --keys export.zip --sightings checkpoint.jsonl --scan-period 60",
        "Sightings a continuously scanning checkpoint recorded: one scan per minute heard",
      )
      .epilogue(
        "A GAEN sighting counts only within ±2 h of its RPI's interval and with a decrypted TX power in [-50, +20] dBm. Bluezone IDs count inside their 15-minute slot, DP-3T EphIDs inside their UTC day.",
      ) as unknown as Argv<MatchArgs>,
  handler: async (args) => {
    const maxScanInstanceMs =
      args["scan-period"] === undefined
        ? undefined
        : parseScanPeriodS(args["scan-period"], "--scan-period");
    const correction = args["rx-correction"];
    if (correction !== undefined && !(Math.abs(correction) <= MAX_RX_CORRECTION_DB))
      throw new ConfigError(
        `--rx-correction must be -${MAX_RX_CORRECTION_DB}..${MAX_RX_CORRECTION_DB} dB, got ${correction}`,
        "E_RANGE",
      );
    if (args["rx-model"] !== undefined && args["rx-correction"] !== undefined)
      throw new ConfigError(
        "give --rx-model or --rx-correction, not both: the model's correction comes from the calibration table",
        "E_USAGE",
      );
    const preset = presetFor(args.preset);
    const { rx, rxOffsetDb } = resolveDeviceModels(
      { rxModel: args["rx-model"], calibration: args.calibration },
      (text) => process.stderr.write(`proxkit: ${text}\n`),
    );
    // The table's correction refined by the anechoic offset, as our estimator calibrates it.
    const rxCorrection =
      args["rx-correction"] ??
      (args["rx-model"] !== undefined ? rx.rssiCorrectionDb - rxOffsetDb : undefined);
    const published = { gaen: [], dayKeys: [] };
    const maxBytes = maxMegabytes(args["max-mb"]);
    for (const path of args.keys) readPublishedKeys(path, published, { maxBytes });
    const sightings = await readSightingsFile(args.sightings);
    const result = matchExposures(published, sightings, {
      preset,
      rxRssiCorrectionDb: rxCorrection,
      maxScanInstanceMs,
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

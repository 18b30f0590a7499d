import type { Argv, CommandModule } from "yargs";
import { ConfigError } from "../../core/errors.js";
import { checkInputFile, readInputLines } from "../../io/read-input-file.js";
import { EstimateTicker } from "../../signal/distance/estimate-ticker.js";
import {
  DEFAULT_ESTIMATOR,
  ESTIMATOR_DESCRIPTIONS,
  ESTIMATOR_NAMES,
  estimatorFor,
} from "../../signal/distance/estimators.js";
import { RssiCsvReader } from "../../signal/rssi-csv.js";
import {
  CALIBRATION_OPTION_HELP,
  type DeviceModelOptions,
  resolveDeviceModels,
} from "../device-models.js";
import { type OutputFormat, resolveFormat, writeRows } from "../output.js";

interface DistanceArgs {
  input: string;
  "rx-model"?: string;
  "tx-model"?: string;
  estimator?: string;
  calibration?: string;
  format?: string;
}

export interface DistanceOptions extends DeviceModelOptions {
  /** The `time,rssi` CSV. */
  readonly input: string;
  readonly estimator?: string;
  readonly format: OutputFormat;
}

/**
 * Reads the CSV line by line (it may be large) and writes a causal distance estimate every
 * 30 s of the recording: `{"t": <unix s>, "distance_m": 1.42}`. Bad input is a `ConfigError`
 * or `CodecError` with one line saying what and where; `warn` gets notes on device fallbacks.
 */
export async function runDistance(
  options: DistanceOptions,
  write: (text: string) => void = (text) => process.stdout.write(text),
  warn: (text: string) => void = (text) => process.stderr.write(`proxkit: ${text}\n`),
): Promise<void> {
  const name = options.estimator ?? DEFAULT_ESTIMATOR;
  estimatorFor(name);

  const { rx, tx, rxOffsetDb, txOffsetDb } = resolveDeviceModels(options, warn);

  const path = options.input;
  // Checked before the estimator is built so a bad path fails first; lines are at most 1 MB.
  checkInputFile(path, { what: "--input", maxBytes: Number.POSITIVE_INFINITY });

  const estimator = estimatorFor(name, { rx, tx, rxOffsetDb, txOffsetDb });
  const ticker = new EstimateTicker();
  const reader = new RssiCsvReader(path);
  const columns = ["t", "distance_m"];
  const buffered: { t: number; distance_m: number }[] = [];
  const emit = (tickMs: number | undefined) => {
    if (tickMs === undefined) return;
    const distanceM = estimator.distanceM();
    if (distanceM === undefined) return;
    const row = { t: tickMs / 1000, distance_m: Math.round(distanceM * 100) / 100 };
    if (options.format === "jsonl") writeRows([row], "jsonl", columns, write);
    else buffered.push(row);
  };

  let lineNumber = 0;
  for await (const line of readInputLines(path, { what: "--input" })) {
    lineNumber++;
    if (lineNumber === 1) {
      reader.header(line);
      continue;
    }
    const row = reader.row(line, lineNumber);
    if (row === undefined) continue;
    emit(ticker.beforeSample(row.atMs));
    estimator.push(row.atMs, row.rssiDbm);
  }
  if (lineNumber === 0 || !reader.hasHeader)
    throw new ConfigError(
      `--input ${path} is empty: it needs a header "time,rssi" and rows`,
      "E_INPUT",
    );
  emit(ticker.finish());
  if (options.format !== "jsonl") writeRows(buffered, options.format, columns, write);
}

export const distanceCommand: CommandModule<object, DistanceArgs> = {
  command: "distance",
  describe: "Estimate distance from a recording of RSSI (time,rssi CSV), causally, every 30 s",
  builder: (yargs: Argv) =>
    yargs
      .option("input", {
        alias: "i",
        type: "string",
        demandOption: true,
        describe:
          'CSV with a header naming "time" and "rssi" (other columns ignored); time as "2021-01-04 14:22:03" (UTC unless a zone is given) or Unix seconds',
      })
      .option("rx-model", {
        type: "string",
        describe:
          'The receiving phone, as in the GAEN calibration table ("Samsung SM-G960F", "Pixel 3")',
      })
      .option("tx-model", {
        type: "string",
        describe: "The transmitting phone, as in the GAEN calibration table",
      })
      .option("estimator", {
        alias: "e",
        type: "string",
        describe: `One of ${ESTIMATOR_NAMES.join(", ")} [default: ${DEFAULT_ESTIMATOR}]`,
      })
      .option("calibration", {
        type: "string",
        describe: CALIBRATION_OPTION_HELP,
      })
      .option("format", {
        alias: "f",
        type: "string",
        choices: ["jsonl", "csv", "table"],
        describe: "Output format [default: table on a terminal, jsonl otherwise]",
      })
      .example("$0 distance -i walk.csv", '{"t": 1609770150, "distance_m": 1.42} every 30 s')
      .example(
        '$0 distance -i walk.csv --rx-model "Pixel 3" --tx-model "Samsung SM-G960F" -e nhs-ukf -f csv',
        "The NHS app's filter on calibrated attenuation, as CSV",
      )
      .epilogue(
        `Estimators:\n${ESTIMATOR_NAMES.map((n) => `  ${n.padEnd(13)} ${ESTIMATOR_DESCRIPTIONS[n]}`).join("\n")}\nEach estimate uses only the samples up to its time; ticks are every 30 s on the Unix clock, skipped where nothing was received.`,
      ) as unknown as Argv<DistanceArgs>,
  handler: async (args) => {
    await runDistance({
      input: args.input,
      rxModel: args["rx-model"],
      txModel: args["tx-model"],
      estimator: args.estimator,
      calibration: args.calibration,
      format: resolveFormat(args.format),
    });
  },
};

/**
 * `proxkit checkpoint`'s options: the command line over the JSON configuration (`--config`)
 * over the defaults, checked and resolved into what `runCheckpoint` takes. Pure: files (the
 * configuration, the scenario, MQTT passwords and keys) are read by the caller.
 */
import type { CheckpointConfig } from "../checkpoint/checkpoint-config.js";
import type { CheckpointRunOptions } from "../checkpoint/run-checkpoint.js";
import { ConfigError } from "../core/errors.js";
import { parseScanPeriodS } from "../exposure/exposure-window-builder.js";
import { PROTOCOLS, type Protocol } from "../protocols/rolling-id-scheme.js";
import { checkRadioCan } from "../radio/radio-backends.js";
import type { MqttCliArgs } from "./mqtt-options.js";
import { parseDurationMs, parseInteger, parseIsoTimeMs } from "./parse.js";

/** The daemon's command line, as yargs parses it. */
export interface CheckpointArgs extends MqttCliArgs {
  radio: string;
  db: string;
  site?: string;
  checkpoint?: string;
  mqtt?: string;
  config?: string;
  research?: boolean;
  "store-addresses"?: boolean;
  protocol?: string[];
  scenario?: string;
  clock?: string;
  for?: string;
  start?: string;
  seed?: number;
  agents?: number;
  capture?: string;
  speed?: number;
  hci?: number;
  beacon?: string;
  "retention-days"?: number;
  "scan-period"?: string;
  "echo-windows"?: boolean;
}

/** Options that only one radio reads. */
export const RADIO_OPTIONS: Readonly<Record<string, readonly (keyof CheckpointArgs)[]>> = {
  hci: ["hci"],
  sim: ["scenario", "seed", "agents", "start"],
  replay: ["capture", "speed"],
};

/** The run's options, but for what the caller reads from files. */
export interface ResolvedCheckpointOptions {
  readonly run: Omit<CheckpointRunOptions, "scenario" | "mqtt">;
  /** sim: a built-in scenario's name or a scenario file. */
  readonly scenario?: string;
  /** The broker, from --mqtt or the configuration. */
  readonly mqttUrl?: string;
}

/** An ISO date or date-time option, or undefined when not given. */
export function timeOption(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseIsoTimeMs(text);
  if (ms === undefined)
    throw new ConfigError(
      `${what} must be an ISO date or date-time (2026-11-27T09:00Z), got ${JSON.stringify(text)}`,
      "E_TIME",
    );
  return ms;
}

function protocolsOption(list: string[] | undefined): Protocol[] | undefined {
  if (!list || list.length === 0) return undefined;
  return list.map((p) => {
    if (!PROTOCOLS.includes(p as Protocol))
      throw new ConfigError(
        `--protocol must be one of ${PROTOCOLS.join(", ")}, got ${JSON.stringify(p)}`,
        "E_PROTOCOL",
      );
    return p as Protocol;
  });
}

/** Checks the command line against itself and `config`, and resolves every option. */
export function resolveCheckpointOptions(
  args: CheckpointArgs,
  config: CheckpointConfig = {},
): ResolvedCheckpointOptions {
  checkRadioCan(args.radio, "scan");
  // An option of another radio is a mistake, not something to ignore silently.
  for (const [radio, options] of Object.entries(RADIO_OPTIONS))
    for (const option of options)
      if (args[option] !== undefined && args.radio !== radio)
        throw new ConfigError(`--${option} is for --radio ${radio}, not ${args.radio}`, "E_USAGE");
  const hci = args.hci === undefined ? config.hci : parseInteger(args.hci, "--hci", 0, 63);
  const seed =
    args.seed === undefined ? undefined : parseInteger(args.seed, "--seed", 0, 2 ** 31 - 1);
  const agents =
    args.agents === undefined ? undefined : parseInteger(args.agents, "--agents", 1, 1_000_000);
  if (args.speed !== undefined && !(args.speed >= 0 && args.speed <= 1_000_000))
    throw new ConfigError(
      `--speed must be 0 (as fast as possible) or a factor up to 1000000, got ${args.speed}`,
      "E_RANGE",
    );
  const virtual = (args.clock ?? (args.radio === "sim" ? "virtual" : "real")) === "virtual";
  if (args.clock !== undefined && args.clock !== "virtual" && args.clock !== "real")
    throw new ConfigError(`--clock must be real or virtual, got "${args.clock}"`, "E_CLOCK");
  if (virtual && args.radio !== "sim")
    throw new ConfigError("--clock virtual needs --radio sim", "E_CLOCK");
  if (args.radio === "sim" && !args.scenario)
    throw new ConfigError(
      "--radio sim needs --scenario (e.g. --scenario checkpoint-queue)",
      "E_SCENARIO",
    );
  if (args.radio === "replay" && !args.capture)
    throw new ConfigError("--radio replay needs --capture FILE (a btsnoop capture)", "E_CAPTURE");
  const forMs = args.for === undefined ? undefined : parseDurationMs(args.for, "--for");
  if (virtual && forMs === undefined)
    throw new ConfigError("--clock virtual needs --for (e.g. --for 24h)", "E_DURATION");
  const startMs = timeOption(args.start, "--start");
  const protocols = protocolsOption(args.protocol) ?? config.protocols;
  const retentionDays =
    args["retention-days"] !== undefined
      ? parseInteger(args["retention-days"], "--retention-days", 1, 3650)
      : config.retentionDays;
  const scanPeriod = args["scan-period"] ?? config.scanPeriodS;
  const maxScanInstanceMs =
    scanPeriod === undefined
      ? undefined
      : parseScanPeriodS(
          scanPeriod,
          args["scan-period"] !== undefined ? "--scan-period" : "scanPeriodS",
        );
  const beaconProtocol = args.beacon ?? config.beacon?.protocol;
  if (beaconProtocol !== undefined && !PROTOCOLS.includes(beaconProtocol as Protocol))
    throw new ConfigError(
      `--beacon must be one of ${PROTOCOLS.join(", ")}, got "${beaconProtocol}"`,
      "E_PROTOCOL",
    );
  return {
    run: {
      radio: args.radio,
      db: args.db,
      site: args.site ?? config.site,
      checkpoint: args.checkpoint ?? config.checkpoint,
      virtual,
      forMs,
      startMs,
      seed,
      agents,
      capture: args.capture,
      speed: args.speed,
      hci,
      protocols,
      scanWindowMs: config.scan?.windowMs,
      scanIntervalMs: config.scan?.intervalMs,
      maxScanInstanceMs,
      retentionDays,
      research: args.research ?? config.research ?? false,
      storeAddresses: args["store-addresses"] ?? config.storeAddresses ?? false,
      beacon: beaconProtocol
        ? {
            protocol: beaconProtocol as Protocol,
            intervalMs: config.beacon?.intervalMs,
            txPowerDbm: config.beacon?.txPowerDbm,
          }
        : undefined,
      rxRssiCorrectionDb: config.rxRssiCorrectionDb,
      echoWindows: args["echo-windows"] ?? false,
    },
    scenario: args.scenario,
    mqttUrl: args.mqtt ?? config.mqtt,
  };
}

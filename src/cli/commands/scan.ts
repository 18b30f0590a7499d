/**
 * `proxkit scan`: prints what a radio hears, live. JSON lines (one sighting a line) or a table
 * redrawn every second with one row per rolling ID: smoothed RSSI and estimated distance.
 * Radios: `hci` (a Bluetooth adapter), `replay` (a btsnoop capture) and `sim` (a small
 * simulated scene, to try things without hardware).
 */
import type { Argv, CommandModule } from "yargs";
import { formatAddress } from "../../ble/random-address.js";
import { ConfigError } from "../../core/errors.js";
import { toHex } from "../../core/hex.js";
import { PROTOCOLS, type Protocol } from "../../protocols/rolling-id-scheme.js";
import type { HciRadioOptions } from "../../radio/hci/hci-settings.js";
import type { RadioSighting, RadioState } from "../../radio/radio.js";
import {
  checkRadioCan,
  describeRadios,
  openRadio,
  RADIO_BACKENDS,
} from "../../radio/radio-backends.js";
import { type CaptureCounts, captureTimeWarning } from "../../radio/replay/capture-sightings.js";
import type { SimMedium } from "../../radio/sim/sim-medium.js";
import { SimSceneRadio } from "../../radio/sim/sim-scene.js";
import type { DistanceEstimator } from "../../signal/distance/distance-estimator.js";
import { ESTIMATOR_NAMES, estimatorFor } from "../../signal/distance/estimators.js";
import { ExponentialMovingAverage } from "../../signal/filters/exponential-moving-average.js";
import { sightingToJson } from "../../signal/sighting.js";
import { writeRows } from "../output.js";
import { parseDurationMs, parseInteger } from "../parse.js";

/** The back-ends that can scan, from the radio registry. */
export const SCAN_RADIOS = RADIO_BACKENDS.filter((b) => b.scans).map((b) => b.name);
export type ScanRadio = string;

export interface ScanOptions {
  readonly radio: ScanRadio;
  readonly protocols?: readonly Protocol[];
  /** Stop after this long (wall-clock for hci and replay, simulated time for sim). */
  readonly durationMs?: number;
  readonly format: "jsonl" | "table";
  readonly deviceId?: number;
  readonly capture?: string;
  /** Replay and sim pace: 1 = real time, N = N times faster, Infinity = as fast as possible. */
  readonly speed?: number;
  readonly scanWindowMs?: number;
  readonly scanIntervalMs?: number;
  readonly estimator?: string;
  /** Print the advertiser's address in JSON lines. */
  readonly addresses?: boolean;
  /** The sim scene: how many devices, its seed, and its start time (default: now). */
  readonly simDevices?: number;
  readonly seed?: number;
  readonly simStartMs?: number;
  /** Extra HCI options (tests inject fake bindings). */
  readonly hci?: HciRadioOptions;
}

export interface ScanIo {
  write(text: string): void;
  /** Notes on stderr (adapter lost and back). */
  warn?(text: string): void;
  /** Redraw the table in place (a terminal) rather than print it once at the end. */
  readonly live: boolean;
  /** Aborting stops the scan cleanly (the CLI wires SIGINT and SIGTERM to it). */
  readonly signal?: AbortSignal;
}

/**
 * The table's estimator: a 60 s median through log-distance follows a walking phone. (The
 * default of `proxkit distance`, a 5-minute peak, is better at detecting contacts but shows
 * a phone that walked away as near for 5 minutes.)
 */
export const SCAN_ESTIMATOR = "log-distance";

/** Rows older than this (scan time) leave the table: the ID has rotated or the device left. */
const TABLE_FORGET_MS = 120_000;
const REDRAW_MS = 1000;

/** One row of the live table: an ID, its smoothed RSSI and its distance estimate. */
class IdTrack {
  count = 0;
  lastRssiDbm = 0;
  lastMs = 0;
  private readonly smoothed = new ExponentialMovingAverage();

  constructor(
    readonly protocol: Protocol,
    readonly idHex: string,
    private readonly estimator: DistanceEstimator,
  ) {}

  push(s: RadioSighting): void {
    this.count++;
    this.lastRssiDbm = s.rssiDbm;
    this.lastMs = s.atMs;
    this.smoothed.push({ atMs: s.atMs, value: s.rssiDbm });
    this.estimator.push(s.atMs, s.rssiDbm);
  }

  row(nowMs: number) {
    const smoothed = this.smoothed.value();
    const distanceM = this.estimator.distanceM();
    return {
      protocol: this.protocol,
      id: this.idHex,
      seen: this.count,
      rssi: this.lastRssiDbm,
      smoothed_rssi: smoothed === undefined ? undefined : Math.round(smoothed * 10) / 10,
      distance_m: distanceM === undefined ? undefined : Math.round(distanceM * 100) / 100,
      age_s: Math.max(0, Math.round((nowMs - this.lastMs) / 1000)),
    };
  }
}

const TABLE_COLUMNS = ["protocol", "id", "seen", "rssi", "smoothed_rssi", "distance_m", "age_s"];

function abortPromise(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Scans until the duration, the end of a replay, or the abort signal; returns the count. */
export async function runScan(options: ScanOptions, io: ScanIo): Promise<{ sightings: number }> {
  const estimatorName = options.estimator ?? SCAN_ESTIMATOR;
  estimatorFor(estimatorName);
  const speed = options.speed ?? 1;
  if (options.radio === "replay" && !options.capture)
    throw new ConfigError("--radio replay needs --capture FILE (a btsnoop capture)", "E_USAGE");
  if (options.radio !== "replay" && options.capture)
    throw new ConfigError("--capture is only for --radio replay", "E_USAGE");
  if (options.radio === "sim" && speed === Number.POSITIVE_INFINITY && !options.durationMs)
    throw new ConfigError("--speed max with --radio sim needs --duration", "E_USAGE");

  checkRadioCan(options.radio, "scan");
  const radio = await openRadio(options.radio, {
    scene: {
      startMs: options.simStartMs ?? Date.now(),
      devices: options.simDevices,
      seed: options.seed,
    },
    replay: options.capture
      ? { capture: options.capture, speed: speed === Number.POSITIVE_INFINITY ? 0 : speed }
      : undefined,
    hci: { deviceId: options.deviceId, ...options.hci },
  });
  // The sim scene runs on a virtual clock, which the scan paces.
  const scene = radio instanceof SimSceneRadio ? radio : undefined;

  const tracks = new Map<string, IdTrack>();
  let count = 0;
  let latestMs = 0;
  const onSighting = (s: RadioSighting) => {
    count++;
    latestMs = Math.max(latestMs, s.atMs);
    if (options.format === "jsonl") {
      const json: Record<string, string | number> = sightingToJson(s);
      if (options.addresses) json.address = formatAddress(s.address);
      io.write(`${JSON.stringify(json)}\n`);
      return;
    }
    const idHex = toHex(s.id);
    const key = `${s.protocol}:${idHex}`;
    let track = tracks.get(key);
    if (!track) {
      track = new IdTrack(s.protocol, idHex, estimatorFor(estimatorName));
      tracks.set(key, track);
    }
    track.push(s);
  };
  const table = () => {
    const rows = [];
    for (const [key, track] of tracks) {
      if (latestMs - track.lastMs > TABLE_FORGET_MS) tracks.delete(key);
      else rows.push(track.row(latestMs));
    }
    rows.sort((a, b) => (b.smoothed_rssi ?? -200) - (a.smoothed_rssi ?? -200));
    let text = "";
    writeRows(rows, "table", TABLE_COLUMNS, (t) => {
      text += t;
    });
    return { text, ids: rows.length };
  };

  let ended: () => void = () => {};
  const endedByRadio = new Promise<void>((resolve) => {
    ended = resolve;
  });
  let stopping = false;
  let lost = false;
  let wasRunning = false;
  const onState = (state: RadioState) => {
    if (state === "stopped" && !stopping) ended();
    else if (state === "unavailable" && wasRunning && !lost) {
      lost = true;
      io.warn?.("the adapter went away (reset, powered off or unplugged); retrying with backoff");
    } else if (state === "running") {
      wasRunning = true;
      if (lost) io.warn?.("the adapter is back; scanning again");
      lost = false;
    }
  };
  radio.scanner.on("sighting", onSighting);
  radio.scanner.on("state", onState);
  const abort = abortPromise(io.signal);
  let redraw: NodeJS.Timeout | undefined;
  const startedMs = Date.now();
  try {
    await radio.scanner.start({
      protocols: options.protocols,
      windowMs: options.scanWindowMs,
      intervalMs: options.scanIntervalMs,
    });
    if (options.format === "table" && io.live) {
      redraw = setInterval(() => {
        const { text, ids } = table();
        const elapsedS = Math.round((Date.now() - startedMs) / 1000);
        io.write(
          `\x1b[H\x1b[J proxkit scan --radio ${options.radio}: ${count} sightings, ${ids} IDs, ${elapsedS} s (Ctrl-C to stop)\n\n${text}`,
        );
      }, REDRAW_MS);
    }
    const waits: Promise<unknown>[] = [abort, endedByRadio];
    if (scene) waits.push(runPaced(scene.medium, speed, options.durationMs, io.signal, 10_000));
    else if (options.durationMs !== undefined) waits.push(sleep(options.durationMs));
    await Promise.race(waits);
    stopping = true;
    const replayDone = (radio.scanner as { stopped?: () => Promise<void> }).stopped;
    // Only a replay that ended by itself has a result to wait for (a bad capture rejects);
    // after --duration or Ctrl-C the capture may still be playing: radio.stop() ends it.
    if (options.radio === "replay" && replayDone && radio.scanner.state !== "running")
      await replayDone.call(radio.scanner);
  } finally {
    stopping = true;
    if (redraw) clearInterval(redraw);
    radio.scanner.off("sighting", onSighting);
    radio.scanner.off("state", onState);
    await radio.stop();
  }
  const replayCounts =
    options.radio === "replay" ? (radio.scanner as { counts?: CaptureCounts }).counts : undefined;
  const timeWarning = replayCounts ? captureTimeWarning(replayCounts) : "";
  if (timeWarning) io.warn?.(`capture ${options.capture}: ${timeWarning}`);
  if (options.format === "table") {
    const { text } = table();
    if (io.live) io.write("\x1b[H\x1b[J");
    io.write(text);
    io.write(`${count} sightings\n`);
  }
  return { sightings: count };
}

/**
 * Runs a simulated medium's clock for `durationMs` (or until `signal`): paced at `speed` times
 * real time, or flat out in steps of `flatOutStepMs` of simulated time between event-loop turns.
 */
export async function runPaced(
  medium: SimMedium,
  speed: number,
  durationMs: number | undefined,
  signal: AbortSignal | undefined,
  flatOutStepMs: number,
): Promise<void> {
  const scheduler = medium.scheduler;
  const startMs = scheduler.nowMs();
  const endMs = durationMs === undefined ? Number.POSITIVE_INFINITY : startMs + durationMs;
  const wallStart = Date.now();
  while (!signal?.aborted && scheduler.nowMs() < endMs) {
    if (speed === Number.POSITIVE_INFINITY) {
      scheduler.runUntil(Math.min(endMs, scheduler.nowMs() + flatOutStepMs));
      await new Promise((resolve) => setImmediate(resolve));
    } else {
      await sleep(50);
      scheduler.runUntil(Math.min(endMs, startMs + (Date.now() - wallStart) * speed));
    }
  }
}

export function parseSpeed(value: string | undefined): number {
  if (value === undefined) return 1;
  if (value === "max") return Number.POSITIVE_INFINITY;
  const speed = Number(value);
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new ConfigError(
      `--speed must be a positive number or "max", got ${JSON.stringify(value)}`,
      "E_RANGE",
    );
  return speed;
}

interface ScanArgs {
  radio: string;
  protocol?: string[];
  duration?: string;
  format?: string;
  hci?: string;
  capture?: string;
  speed?: string;
  "scan-window"?: string;
  "scan-interval"?: string;
  estimator?: string;
  addresses?: boolean;
  devices?: string;
  seed?: string;
}

/** SIGINT/SIGTERM as an abort signal, for the commands that run until stopped. */
export function stopSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

export const scanCommand: CommandModule<object, ScanArgs> = {
  command: "scan",
  describe: "Print what a radio hears, live: sightings as JSON lines, or a table per rolling ID",
  builder: (yargs: Argv) =>
    yargs
      .option("radio", {
        alias: "r",
        type: "string",
        choices: SCAN_RADIOS,
        default: "hci",
        describe: describeRadios(
          {
            sim: "a simulated scene of phones walking around the scanner",
            replay: "a btsnoop capture (--capture)",
            hci: "a Bluetooth adapter (Linux; noble)",
          },
          "scan",
        ),
      })
      .option("protocol", {
        alias: "p",
        type: "string",
        array: true,
        choices: PROTOCOLS,
        describe: "Report only these protocols [default: all]",
      })
      .option("duration", {
        alias: "d",
        type: "string",
        describe:
          "Stop after this long, e.g. 30s, 10m, 2h [default: until Ctrl-C; a replay stops at the end of its capture]; simulated time with --radio sim",
      })
      .option("format", {
        alias: "f",
        type: "string",
        choices: ["jsonl", "table"],
        describe:
          "jsonl: one sighting a line as it arrives; table: one row per ID with smoothed RSSI and estimated distance, redrawn every second [default: table on a terminal, jsonl otherwise]",
      })
      .option("hci", {
        type: "string",
        describe:
          "--radio hci: the adapter number (0 for hci0) [default: $NOBLE_HCI_DEVICE_ID, else the first adapter]",
      })
      .option("capture", {
        type: "string",
        describe: "--radio replay: the btsnoop capture (btmon -w, or Android's HCI snoop log)",
      })
      .option("speed", {
        type: "string",
        describe:
          '--radio replay and sim: 1 = real time, N = N times faster, "max" = as fast as possible [default: 1]',
      })
      .option("scan-window", {
        type: "string",
        describe:
          "Duty cycle: scan this long (e.g. 2s) every --scan-interval [default: continuous]",
      })
      .option("scan-interval", {
        type: "string",
        describe: "Duty cycle period, e.g. 10s (with --scan-window)",
      })
      .option("estimator", {
        alias: "e",
        type: "string",
        choices: ESTIMATOR_NAMES,
        describe: `Distance estimator of the table [default: ${SCAN_ESTIMATOR}, a 60 s median]; see proxkit distance --help`,
      })
      .option("addresses", {
        type: "boolean",
        default: false,
        describe: "jsonl: add the advertiser's address (random and rotating for these protocols)",
      })
      .option("devices", {
        type: "string",
        describe: "--radio sim: how many simulated phones [default: 6]",
      })
      .option("seed", {
        type: "string",
        describe: "--radio sim: seed of the scene [default: 1]",
      })
      .example("$0 scan", "Scan with the first Bluetooth adapter, table on a terminal")
      .example(
        "$0 scan --hci 1 -p gaen -d 10m -f jsonl > gaen.jsonl",
        "Ten minutes of GAEN sightings from hci1",
      )
      .example(
        "$0 scan --radio replay --capture pi.btsnoop --speed max -f jsonl",
        "Sightings of a recorded capture",
      )
      .example("$0 scan --radio sim", "Six simulated phones walking around the scanner, live")
      .example(
        "$0 scan --radio sim --speed max -d 1h -f table",
        "An hour of the simulated scene, then the table",
      )
      .epilogue(
        [
          "The table shows, per rolling ID: sightings, last RSSI, smoothed RSSI (exponential average, 9.5 s time constant) and the distance estimate; an ID leaves the table 2 minutes after it was last heard (it rotated, or the phone left).",
          "--radio hci needs a Bluetooth LE adapter, @stoprocent/noble (an optional dependency) and CAP_NET_RAW/CAP_NET_ADMIN; when something is missing it says which, and how to fix it. See docs/hardware.md.",
          "--radio sim: the scanner at the origin, GAEN, DP-3T and Bluezone phones in turn on slow elliptical walks 0.5-8 m away, log-distance propagation with 4 dB fading; IDs and addresses rotate as each protocol does.",
        ].join("\n\n"),
      ) as unknown as Argv<ScanArgs>,
  handler: async (args) => {
    const format = (args.format ?? (process.stdout.isTTY ? "table" : "jsonl")) as "jsonl" | "table";
    const options: ScanOptions = {
      radio: args.radio as ScanRadio,
      protocols: args.protocol as Protocol[] | undefined,
      durationMs:
        args.duration === undefined ? undefined : parseDurationMs(args.duration, "--duration"),
      format,
      deviceId: args.hci === undefined ? undefined : parseInteger(args.hci, "--hci", 0, 15),
      capture: args.capture,
      speed: parseSpeed(args.speed),
      scanWindowMs:
        args["scan-window"] === undefined
          ? undefined
          : parseDurationMs(args["scan-window"], "--scan-window"),
      scanIntervalMs:
        args["scan-interval"] === undefined
          ? undefined
          : parseDurationMs(args["scan-interval"], "--scan-interval"),
      estimator: args.estimator,
      addresses: args.addresses,
      simDevices:
        args.devices === undefined ? undefined : parseInteger(args.devices, "--devices", 1, 1000),
      seed: args.seed === undefined ? undefined : parseInteger(args.seed, "--seed", 0, 2 ** 31 - 1),
    };
    if (args.hci !== undefined && options.radio !== "hci")
      throw new ConfigError("--hci is only for --radio hci", "E_USAGE");
    if (args.speed !== undefined && options.radio === "hci")
      throw new ConfigError("--speed is only for --radio replay and sim", "E_USAGE");
    if ((options.scanWindowMs === undefined) !== (options.scanIntervalMs === undefined))
      throw new ConfigError("--scan-window and --scan-interval go together", "E_USAGE");
    const stop = stopSignal();
    try {
      await runScan(options, {
        write: (text) => process.stdout.write(text),
        warn: (text) => process.stderr.write(`proxkit: ${text}\n`),
        live: format === "table" && process.stdout.isTTY === true,
        signal: stop.signal,
      });
    } finally {
      stop.dispose();
    }
  },
};

/**
 * `proxkit checkpoint`: runs the checkpoint daemon (scan, accumulate exposure windows, store in
 * SQLite, forward over MQTT), and its `status` and `report` subcommands.
 */
import type { Argv, CommandModule } from "yargs";
import type { AdoptionReport } from "../../checkpoint/adoption-report.js";
import { type CheckpointConfig, loadCheckpointConfig } from "../../checkpoint/checkpoint-config.js";
import { ConfigError } from "../../core/errors.js";
import type { OptionText } from "../../core/option-text.js";
import { PROTOCOLS } from "../../protocols/rolling-id-scheme.js";
import { describeRadios, RADIO_BACKENDS } from "../../radio/radio-backends.js";
import {
  type CheckpointArgs,
  resolveCheckpointOptions,
  timeOption,
} from "../checkpoint-options.js";
import { forwarderLogger, mqttSecurityOptions, resolveMqttOptions } from "../mqtt-options.js";
import { inFlags, nameOption } from "../option-names.js";
import { writeJson, writeRows } from "../output.js";
import { parseDurationMs, parseInteger } from "../parse.js";
import { stopSignal } from "./scan.js";

/** `proxkit checkpoint`: resolves the options, reads their files, and runs until a signal. */
async function checkpointHandler(args: CheckpointArgs): Promise<void> {
  const config: CheckpointConfig = args.config ? loadCheckpointConfig(args.config, "--config") : {};
  const resolved = resolveCheckpointOptions(args, config);
  const mqttUrl = resolved.mqttUrl;
  if (mqttUrl !== undefined) {
    const { parseMqttUrl } = await import("../../checkpoint/mqtt-forwarder.js");
    parseMqttUrl(mqttUrl, "--mqtt");
  }
  // Login, TLS and receipt key (files read, combinations checked) before anything starts.
  const mqttOptions = resolveMqttOptions("checkpoint", mqttUrl, args, config);
  let scenario: import("../../../sim/world/scenario.js").Scenario | undefined;
  if (resolved.scenario !== undefined) {
    const { builtInScenario, loadScenario, BUILT_IN_SCENARIOS } = await import(
      "../../../sim/world/scenario.js"
    );
    scenario = BUILT_IN_SCENARIOS.includes(resolved.scenario)
      ? builtInScenario(resolved.scenario)
      : loadScenario(resolved.scenario);
  }
  const { runCheckpoint } = await import("../../checkpoint/run-checkpoint.js");
  const warn = (line: string | OptionText) => process.stderr.write(`proxkit: ${inFlags(line)}\n`);
  const stop = stopSignal();
  try {
    const result = await runCheckpoint(
      {
        ...resolved.run,
        scenario,
        mqtt:
          mqttUrl !== undefined && mqttOptions
            ? {
                url: mqttUrl,
                displayUrl: mqttOptions.displayUrl,
                connection: mqttOptions.connection,
                receiptKey: mqttOptions.receiptKey,
                notices: mqttOptions.notices,
                onState: forwarderLogger(mqttOptions.displayUrl, (line) =>
                  warn(`checkpoint: ${line}`),
                ),
              }
            : undefined,
      },
      {
        write: (text) => process.stdout.write(text),
        warn,
        signal: stop.signal,
        shutdownTooLong: () => process.exit(1),
      },
    );
    if (result.alreadyRunUntilMs !== undefined)
      warn(
        `checkpoint: ${args.db} already holds a simulated run up to ${new Date(result.alreadyRunUntilMs).toISOString()}; give --start for another`,
      );
  } catch (error) {
    throw nameOption(error, args.db, "--db");
  } finally {
    stop.dispose();
  }
}

/** Opens the database to read, naming --db in what goes wrong. */
function openReadonly<T>(
  Store: { open(path: string, options: { readonly: true }): T },
  db: string,
): T {
  try {
    return Store.open(db, { readonly: true });
  } catch (error) {
    throw nameOption(error, db, "--db");
  }
}

function formatBytes(n: number | undefined): string {
  if (n === undefined) return "unknown";
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function formatDuration(s: number | undefined): string {
  if (s === undefined) return "-";
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : `${m}m ${Math.round(s % 60)}s`;
}

function iso(ms: number | undefined): string {
  return ms === undefined ? "-" : new Date(ms).toISOString();
}

async function runStatus(args: { db: string; format?: string }): Promise<void> {
  const format = args.format ?? (process.stdout.isTTY ? "table" : "json");
  if (format !== "table" && format !== "json")
    throw new ConfigError(`--format must be table or json, got "${format}"`, "E_FORMAT");
  const { CheckpointStore } = await import("../../checkpoint/checkpoint-store.js");
  const { checkpointStatus } = await import("../../checkpoint/checkpoint-status.js");
  const store = openReadonly(CheckpointStore, args.db);
  try {
    const s = checkpointStatus(store, Date.now());
    if (format === "json") {
      writeJson(s);
      return;
    }
    const lines: [string, string][] = [
      ["checkpoint", `${s.checkpoint ?? "-"} at ${s.site ?? "-"}`],
      [
        "daemon",
        s.running
          ? `running, up ${formatDuration(s.uptimeS)}`
          : s.writeState === "disk-full"
            ? `NOT WRITING: the disk is full (${formatBytes(s.diskFreeBytes)} free) since the last heartbeat ${iso(s.heartbeatMs)}; the daemon keeps windows in memory and retries, free space to resume`
            : s.writeState === "no-heartbeat"
              ? `NOT RESPONDING: no heartbeat since ${iso(s.heartbeatMs)} and it did not stop (killed, hung, or the storage failing)`
              : `not running (last heartbeat ${iso(s.heartbeatMs)})`,
      ],
      [
        "store writes",
        s.storeFailures === 0
          ? "no failure"
          : `${s.storeFailures} failure(s), last ${iso(s.lastStoreFailure?.atMs)}: ${s.lastStoreFailure?.reason ?? "-"}${s.windowsDropped + s.sightingsDropped > 0 ? `; ${s.windowsDropped} windows, ${s.sightingsDropped} raw sightings dropped` : ""}`,
      ],
      ["adapter", s.adapterState],
      ["clock", s.clockTrusted === false ? "NOT trusted" : "trusted"],
      ["clock jumps", String(s.clockJumps)],
      ["beacon", s.beacon],
      [
        "sightings/min",
        `${s.sightingsPerMinute} (10-minute mean), ${s.sightingsLastMinute} last minute`,
      ],
      ["windows stored", `${s.windowsStored} closed, ${s.windowsOpen} open`],
      ["outbox depth", String(s.outboxDepth)],
      ["raw sightings", String(s.rawSightings)],
      ["disk use", `${formatBytes(s.dbBytes)} (free: ${formatBytes(s.diskFreeBytes)})`],
      ["schema version", String(s.schemaVersion)],
    ];
    const width = Math.max(...lines.map(([k]) => k.length));
    process.stdout.write(`${lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n")}\n`);
  } finally {
    store.close();
  }
}

function writeReport(report: AdoptionReport, format: string): void {
  if (format === "json") {
    writeJson(report);
    return;
  }
  const totals = report.totals.map((t) => ({
    period: `${iso(report.fromMs)}..${iso(report.toMs)}`,
    protocol: t.protocol,
    devices: t.devices,
    rolling_ids: t.rollingIds,
    windows: t.windows,
    dwell_mean_s: t.dwell.meanS,
    dwell_p10_s: t.dwell.p10S,
    dwell_p50_s: t.dwell.p50S,
    dwell_p90_s: t.dwell.p90S,
    dwell_lt_1m: t.dwell.histogram[0],
    dwell_1_5m: t.dwell.histogram[1],
    dwell_5_15m: t.dwell.histogram[2],
    dwell_15_30m: t.dwell.histogram[3],
    dwell_30_60m: t.dwell.histogram[4],
    dwell_ge_60m: t.dwell.histogram[5],
    share: t.share === undefined ? undefined : Math.round(t.share * 1000) / 10,
  }));
  const buckets = report.buckets.map((b) => ({
    [report.per]: iso(b.startMs),
    protocol: b.protocol,
    devices: b.devices,
    arrivals: b.arrivals,
    dwell_p50_s: b.dwellP50S,
    dwell_p90_s: b.dwellP90S,
  }));
  const totalColumns = [
    "protocol",
    "devices",
    "rolling_ids",
    "windows",
    "dwell_mean_s",
    "dwell_p10_s",
    "dwell_p50_s",
    "dwell_p90_s",
    "dwell_lt_1m",
    "dwell_1_5m",
    "dwell_5_15m",
    "dwell_15_30m",
    "dwell_30_60m",
    "dwell_ge_60m",
    ...(report.footfall ? ["share"] : []),
  ];
  const bucketColumns = [
    report.per,
    "protocol",
    "devices",
    "arrivals",
    "dwell_p50_s",
    "dwell_p90_s",
  ];
  if (format === "csv") {
    writeRows(buckets, "csv", bucketColumns);
    return;
  }
  process.stdout.write(
    `Adoption ${iso(report.fromMs)} .. ${iso(report.toMs)}${report.footfall ? `, footfall ${report.footfall}` : ""}${report.untrustedWindows ? ` (${report.untrustedWindows} windows stored before the clock was trusted)` : ""}\n\n`,
  );
  writeRows(totals, "table", report.footfall ? totalColumns : totalColumns);
  process.stdout.write(report.footfall ? "(share: % of the footfall carrying an app)\n" : "");
  process.stdout.write(`\nPer ${report.per}:\n`);
  writeRows(buckets, "table", bucketColumns);
}

async function runReport(args: {
  db: string;
  from?: string;
  to?: string;
  footfall?: number;
  format?: string;
  per?: string;
  "link-gap"?: string;
}): Promise<void> {
  const format = args.format ?? "table";
  if (!["table", "csv", "json"].includes(format))
    throw new ConfigError(`--format must be table, csv or json, got "${format}"`, "E_FORMAT");
  const per = args.per ?? "hour";
  if (per !== "hour" && per !== "day")
    throw new ConfigError(`--per must be hour or day, got "${per}"`, "E_PER");
  const fromMs = timeOption(args.from, "--from");
  const toMs = timeOption(args.to, "--to");
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs)
    throw new ConfigError("--to must be after --from", "E_TIME");
  const footfall =
    args.footfall === undefined
      ? undefined
      : parseInteger(args.footfall, "--footfall", 1, 1_000_000_000);
  const linkGapMs =
    args["link-gap"] === undefined ? undefined : parseDurationMs(args["link-gap"], "--link-gap");
  const { CheckpointStore } = await import("../../checkpoint/checkpoint-store.js");
  const { adoptionReport } = await import("../../checkpoint/adoption-report.js");
  const store = openReadonly(CheckpointStore, args.db);
  try {
    const report = adoptionReport(store.windows(fromMs, toMs), {
      fromMs,
      toMs,
      footfall,
      per,
      linkGapMs,
    });
    writeReport(report, format);
  } finally {
    store.close();
  }
}

export const checkpointCommand: CommandModule = {
  command: "checkpoint",
  describe: "Run a checkpoint (scan, store exposure windows, forward over MQTT); status; report",
  builder: (yargs: Argv) =>
    yargs
      .command({
        command: "$0",
        describe: "Run the checkpoint daemon until SIGTERM (or --for)",
        builder: (y: Argv) =>
          y
            .option("radio", {
              type: "string",
              demandOption: true,
              choices: RADIO_BACKENDS.filter((b) => b.scans).map((b) => b.name),
              describe: `Radio back-end: ${describeRadios(
                {
                  sim: "a simulated crowd scenario (--scenario)",
                  replay: "a btsnoop capture (--capture)",
                  hci: "a Bluetooth adapter",
                },
                "scan",
              )}`,
            })
            .option("db", {
              type: "string",
              demandOption: true,
              describe: "SQLite database to store in (created with mode 0600, WAL)",
            })
            .option("site", {
              type: "string",
              describe: "Site name (MQTT topic level) [default: site]",
            })
            .option("checkpoint", {
              type: "string",
              describe: "Checkpoint name (MQTT topic level) [default: the host name]",
            })
            .option("mqtt", {
              type: "string",
              describe:
                "Forward closed windows to this broker (mqtt://host:1883, or mqtts://host:8883 with --ca) from the durable outbox; log in with --mqtt-username and --mqtt-password-file, not user:password@ in the URL",
            })
            .options(mqttSecurityOptions("checkpoint"))
            .option("config", {
              type: "string",
              describe:
                "JSON configuration (site, checkpoint, mqtt, mqttUsername, mqttPasswordFile, tls {ca, cert, key}, receiptKey, protocols, scan duty cycle, scanPeriodS, retentionDays, research, beacon, hci); options override it",
            })
            .option("research", {
              type: "boolean",
              describe:
                "Also store raw sightings (never the peer's address unless --store-addresses)",
            })
            .option("store-addresses", {
              type: "boolean",
              describe: "Research mode: keep the advertisers' Bluetooth addresses too",
            })
            .option("protocol", {
              type: "string",
              array: true,
              describe: `Protocols to record (${PROTOCOLS.join(", ")}) [default: all]`,
            })
            .option("beacon", {
              type: "string",
              describe:
                "Also advertise a venue beacon of this protocol (only while the clock is trusted)",
            })
            .option("retention-days", {
              type: "number",
              describe:
                "Delete everything older than this from every table holding a rolling ID or key (windows, outbox, raw sightings, own keys) and the per-minute counters, hourly [default: 14]",
            })
            .option("scan-period", {
              type: "string",
              describe:
                "Longest scan instance of the stored windows, seconds: 60, 120, 180, 240 or 300, or 0 for the EN API's own. A checkpoint hears a phone every second, and the EN API's rule (sightings up to 25.5 s apart are one scan) would make a 30-minute stay one scan worth 2 minutes; with 60 each minute is a scan worth 60 s, so durations add up. A phone-like duty cycle (scans under a minute, pauses over 25.5 s) gives the same windows either way [default: 60, or the config's scanPeriodS]",
            })
            .option("hci", { type: "number", describe: "--radio hci: adapter index (0 = hci0)" })
            .option("capture", { type: "string", describe: "--radio replay: the btsnoop capture" })
            .option("speed", {
              type: "number",
              describe:
                "--radio replay: 1 = recorded pace, N = N times faster, 0 = as fast as possible",
            })
            .option("scenario", {
              type: "string",
              describe: "--radio sim: a built-in scenario (checkpoint-queue) or a scenario file",
            })
            .option("clock", {
              type: "string",
              describe:
                "--radio sim: virtual (as fast as the machine allows) or real (one simulated second per second) [default: virtual]",
            })
            .option("for", {
              type: "string",
              describe:
                "Run for this long (90s, 10m, 24h, 1d); with --clock virtual, simulated time",
            })
            .option("start", {
              type: "string",
              describe:
                "--radio sim: simulated start (ISO date-time) [default: with --clock virtual 2026-11-27T00:00Z, or just after the last heartbeat of an unfinished run in --db; with --clock real, now]",
            })
            .option("seed", { type: "number", describe: "--radio sim: world seed" })
            .option("agents", { type: "number", describe: "--radio sim: agent count override" })
            .option("echo-windows", {
              type: "boolean",
              describe: "Print each stored closed window's id as a JSON line once committed",
            })
            .example(
              "$0 checkpoint --radio hci --db /var/lib/proxkit/checkpoint.sqlite --site library --checkpoint door-1 --mqtt mqtt://collector:1883",
              "A Raspberry Pi checkpoint",
            )
            .example(
              "$0 checkpoint --radio sim --scenario checkpoint-queue --clock virtual --for 24h --db day.sqlite",
              "A simulated day, as fast as the machine allows",
            )
            .example(
              "$0 checkpoint --radio replay --capture btmon.log --speed 0 --db replay.sqlite",
              "Store the windows of a recorded capture",
            )
            .example(
              "$0 checkpoint --radio hci --db cp.sqlite --scan-period 0",
              "Store the scan instances a phone's EN API would make of the same sightings",
            ),
        handler: (argv) => checkpointHandler(argv as unknown as CheckpointArgs),
      })
      .command({
        command: "status",
        describe:
          "Uptime, adapter state, sightings per minute, windows stored, outbox depth, disk use",
        builder: (y: Argv) =>
          y
            .option("db", {
              type: "string",
              demandOption: true,
              describe: "The checkpoint database",
            })
            .option("format", {
              type: "string",
              describe: "table or json [default: table on a terminal, else json]",
            })
            .example("$0 checkpoint status --db /var/lib/proxkit/checkpoint.sqlite", ""),
        handler: (argv) => runStatus(argv as unknown as { db: string; format?: string }),
      })
      .command({
        command: "report",
        describe:
          "Adoption report: distinct app devices per protocol and hour/day, dwell times, share of the footfall",
        builder: (y: Argv) =>
          y
            .option("db", {
              type: "string",
              demandOption: true,
              describe: "The checkpoint database",
            })
            .option("from", {
              type: "string",
              describe: "Start of the period (ISO date or date-time, UTC)",
            })
            .option("to", { type: "string", describe: "End of the period (exclusive)" })
            .option("footfall", {
              type: "number",
              describe:
                "Visitors counted in the period (door counter): adds the share carrying an app",
            })
            .option("per", { type: "string", describe: "Bucket: hour or day [default: hour]" })
            .option("format", {
              type: "string",
              describe: "table, csv (the buckets) or json [default: table]",
            })
            .option("link-gap", {
              type: "string",
              describe:
                "Longest gap between one rolling ID's last sighting and the next one's first for them to count as one device [default: 5s]",
            })
            .example(
              "$0 checkpoint report --db checkpoint.sqlite --from 2026-11-27 --to 2026-11-28 --footfall 5200",
              "One day, with the door counter's footfall",
            ),
        handler: (argv) => runReport(argv as never),
      })
      .epilogue(
        "A device is counted once across its rolling-ID changes only by presence: the next ID must appear right after the previous one. Nothing is decrypted or linked by address.",
      ),
  handler: () => {},
};

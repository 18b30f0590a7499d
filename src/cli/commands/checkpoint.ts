/**
 * `proxkit checkpoint`: runs the checkpoint daemon (scan, accumulate exposure windows, store in
 * SQLite, forward over MQTT), and its `status` and `report` subcommands.
 */
import { hostname } from "node:os";
import type { Argv, CommandModule } from "yargs";
import type { AdoptionReport } from "../../checkpoint/adoption-report.js";
import { type CheckpointConfig, loadCheckpointConfig } from "../../checkpoint/checkpoint-config.js";
import type { Clock } from "../../core/clock.js";
import { ConfigError } from "../../core/errors.js";
import { parseScanPeriodS } from "../../exposure/exposure-window-builder.js";
import { PROTOCOLS, type Protocol } from "../../protocols/rolling-id-scheme.js";
import type { Radio } from "../../radio/radio.js";
import {
  forwarderLogger,
  type MqttCliArgs,
  mqttSecurityOptions,
  resolveMqttOptions,
} from "../mqtt-options.js";
import { writeJson, writeRows } from "../output.js";
import { parseDurationMs, parseInteger, parseIsoTimeMs } from "../parse.js";

const RADIOS = ["hci", "sim", "replay"] as const;
/** Options that only one radio reads. */
const RADIO_OPTIONS: Record<(typeof RADIOS)[number], readonly string[]> = {
  hci: ["hci"],
  sim: ["scenario", "seed", "agents", "start"],
  replay: ["capture", "speed"],
};
/** SIGTERM must end the process within 2 s; this leaves room for the last flush. */
const TERM_DEADLINE_MS = 1_800;
/** How long a finished simulated run waits for the MQTT outbox to drain. */
const DRAIN_TIMEOUT_MS = 30_000;
/** A broker not connected this long after a simulated run is not waited for. */
const CONNECT_GRACE_MS = 1_000;
/** Connected, but no window confirmed for this long: no collector is listening. */
const STALL_MS = 5_000;
/** A heartbeat younger than this (the daemon beats every second) means a daemon is running. */
const LIVE_HEARTBEAT_MS = 3_000;

interface RunArgs extends MqttCliArgs {
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

function timeOption(text: string | undefined, what: string): number | undefined {
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

/**
 * After a simulated run: waits while the forwarder empties the outbox, but not for a broker that
 * cannot be reached (`CONNECT_GRACE_MS` without a connection) nor for receipts that stopped
 * coming (`STALL_MS` without progress), nor beyond `DRAIN_TIMEOUT_MS`. Returns what is left.
 */
async function drainOutbox(
  forwarder: { readonly depth: number; readonly connected: boolean },
  stopped: () => boolean,
): Promise<{ windows: number; why: string } | undefined> {
  const startedMs = Date.now();
  let lastDepth = forwarder.depth;
  let progressMs = startedMs;
  for (;;) {
    // One outbox count per look.
    const depth = forwarder.depth;
    if (depth === 0) return undefined;
    if (stopped()) return { windows: depth, why: "stopped" };
    const nowMs = Date.now();
    if (depth < lastDepth) {
      lastDepth = depth;
      progressMs = nowMs;
    }
    if (nowMs - startedMs >= DRAIN_TIMEOUT_MS)
      return { windows: depth, why: `not all confirmed within ${DRAIN_TIMEOUT_MS / 1000} s` };
    if (!forwarder.connected && nowMs - startedMs >= CONNECT_GRACE_MS)
      return { windows: depth, why: "the broker cannot be reached" };
    if (forwarder.connected && nowMs - progressMs >= STALL_MS)
      return { windows: depth, why: `no collector confirmed any for ${STALL_MS / 1000} s` };
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the daemon until SIGTERM/SIGINT, the end of `--for`, or the end of a replay. */
export async function runCheckpoint(args: RunArgs): Promise<void> {
  if (!(RADIOS as readonly string[]).includes(args.radio))
    throw new ConfigError(
      `unknown radio "${args.radio}": use one of ${RADIOS.join(", ")}`,
      "E_RADIO",
    );
  // An option of another radio is a mistake, not something to ignore silently.
  for (const [radio, options] of Object.entries(RADIO_OPTIONS))
    for (const option of options)
      if (args[option as keyof RunArgs] !== undefined && args.radio !== radio)
        throw new ConfigError(`--${option} is for --radio ${radio}, not ${args.radio}`, "E_USAGE");
  if (args.hci !== undefined) parseInteger(args.hci, "--hci", 0, 63);
  if (args.seed !== undefined) parseInteger(args.seed, "--seed", 0, 2 ** 31 - 1);
  if (args.agents !== undefined) parseInteger(args.agents, "--agents", 1, 1_000_000);
  if (args.speed !== undefined && !(args.speed >= 0 && args.speed <= 1_000_000))
    throw new ConfigError(
      `--speed must be 0 (as fast as possible) or a factor up to 1000000, got ${args.speed}`,
      "E_RANGE",
    );
  const config: CheckpointConfig = args.config ? loadCheckpointConfig(args.config) : {};
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
  const startOption = timeOption(args.start, "--start");
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
  const mqttUrl = args.mqtt ?? config.mqtt;
  let forwarderModule: typeof import("../../checkpoint/mqtt-forwarder.js") | undefined;
  if (mqttUrl !== undefined) {
    forwarderModule = await import("../../checkpoint/mqtt-forwarder.js");
    forwarderModule.parseMqttUrl(mqttUrl, "--mqtt");
  }
  // Login, TLS and receipt key (files read, combinations checked) before anything starts.
  const mqttOptions = resolveMqttOptions("checkpoint", mqttUrl, args, config);
  let scenario: import("../../../sim/world/scenario.js").Scenario | undefined;
  if (args.radio === "sim") {
    const { builtInScenario, loadScenario, BUILT_IN_SCENARIOS } = await import(
      "../../../sim/world/scenario.js"
    );
    scenario = BUILT_IN_SCENARIOS.includes(args.scenario!)
      ? builtInScenario(args.scenario!)
      : loadScenario(args.scenario!);
  }

  // SQLite, MQTT and the simulator load only for this command.
  const { CheckpointStore } = await import("../../checkpoint/checkpoint-store.js");
  const { BUILD_DATE_MS, CheckpointDaemon, MAX_PENDING_WINDOWS, timesyncSynchronized } =
    await import("../../checkpoint/checkpoint-daemon.js");
  const store = CheckpointStore.open(args.db, {
    synchronous: virtual ? "normal" : "full",
    // An outbox only when a forwarder will empty it.
    outbox: mqttUrl !== undefined,
    site: args.site ?? config.site ?? "site",
    checkpoint: args.checkpoint ?? config.checkpoint ?? hostname(),
  });
  if (!virtual && args.radio !== "replay") {
    // Two daemons on one database would overwrite each other's open windows.
    const beat = store.health();
    const ageMs = beat.heartbeat_ms ? Date.now() - beat.heartbeat_ms.updatedMs : Infinity;
    if (beat.running?.value === "1" && Math.abs(ageMs) < LIVE_HEARTBEAT_MS) {
      store.close();
      throw new ConfigError(
        `another checkpoint daemon is writing to --db ${args.db} (heartbeat ${Math.round(ageMs / 1000)} s ago); stop it first`,
        "E_DB_BUSY",
      );
    }
  }
  let radio: Radio;
  let clock: Clock | undefined;
  let runVirtual: ((stop: () => boolean) => Promise<void>) | undefined;
  let every: ((everyMs: number, task: () => void) => () => void) | undefined;
  /** The radio stops at the end of its input (a replayed capture). */
  let endsByItself = false;
  try {
    if (args.radio === "sim") {
      const { WorldRadio } = await import("../../../sim/engine/world-radio.js");
      // A simulated day killed part way resumes after its last heartbeat.
      const health = store.health();
      const untilStored = health.sim_until_ms ? Number(health.sim_until_ms.value) : undefined;
      const heartbeat = health.heartbeat_ms ? Number(health.heartbeat_ms.value) : undefined;
      if (
        virtual &&
        startOption === undefined &&
        untilStored !== undefined &&
        heartbeat !== undefined &&
        heartbeat >= untilStored
      ) {
        store.close();
        process.stderr.write(
          `proxkit: checkpoint: ${args.db} already holds a simulated run up to ${new Date(untilStored).toISOString()}; give --start for another\n`,
        );
        return;
      }
      // Paced (--clock real) runs keep simulated time on the wall clock, so status reads right.
      let startMs = startOption ?? (virtual ? BUILD_DATE_MS : Math.floor(Date.now() / 1000) * 1000);
      let untilMs = startMs + (forMs ?? 0);
      if (
        virtual &&
        startOption === undefined &&
        untilStored !== undefined &&
        heartbeat !== undefined &&
        heartbeat < untilStored
      ) {
        startMs = Math.ceil((heartbeat + 1) / 1000) * 1000;
        untilMs = untilStored;
      }
      store.setHealth("sim_until_ms", untilMs, startMs);
      const world = new WorldRadio({
        scenario: scenario!,
        seed: args.seed ?? startMs / 1000,
        agents: args.agents,
        startMs,
      });
      radio = world;
      clock = world.scheduler;
      every = world.every;
      if (virtual) {
        runVirtual = async (stopped) => {
          if (!stopped()) await world.run(untilMs);
        };
      } else {
        // Paced: one simulated second per wall second.
        runVirtual = async (stopped) => {
          const t0 = Date.now();
          while (!stopped() && world.nowMs() < untilMs) {
            await world.run(world.nowMs() + 1000);
            const lagMs = world.nowMs() - startMs - (Date.now() - t0);
            if (lagMs > 0) await new Promise((r) => setTimeout(r, lagMs));
          }
        };
      }
    } else {
      const { openRadio } = await import("../../radio/open-radio.js");
      const options: Record<string, unknown> = {
        hci: { deviceId: args.hci ?? config.hci },
        replay: { capture: args.capture, speed: args.speed ?? 1 },
      };
      radio = await openRadio(args.radio, options as never);
      if (args.radio === "replay") {
        // A capture keeps its recorded times: the daemon's clock is the time of the latest
        // sighting (registered before the daemon's listener, so it is current when it runs).
        let captureNowMs = Date.now();
        radio.scanner.on("sighting", (s) => {
          if (s.atMs > captureNowMs || captureNowMs > s.atMs + 60_000) captureNowMs = s.atMs;
        });
        const captureClock: Clock = { nowMs: () => captureNowMs };
        clock = captureClock;
        endsByItself = true;
      }
    }
  } catch (error) {
    store.close();
    throw error;
  }

  const daemon = new CheckpointDaemon({
    radio,
    store,
    ...(clock ? { clock, monotonicMs: () => clock.nowMs(), earliestTrustedMs: 0 } : {}),
    ...(every ? { every } : {}),
    // A live radio runs on the system clock: trust it only once NTP has set it.
    ...(args.radio === "hci" ? { clockSynchronized: timesyncSynchronized } : {}),
    protocols,
    scanWindowMs: config.scan?.windowMs,
    scanIntervalMs: config.scan?.intervalMs,
    maxScanInstanceMs,
    retentionDays,
    research: args.research ?? config.research ?? false,
    storeAddresses: args["store-addresses"] ?? config.storeAddresses ?? false,
    ...(beaconProtocol
      ? {
          beacon: {
            protocol: beaconProtocol as Protocol,
            intervalMs: config.beacon?.intervalMs,
            txPowerDbm: config.beacon?.txPowerDbm,
          },
        }
      : {}),
    rxRssiCorrectionDb: config.rxRssiCorrectionDb,
  });
  daemon.on("error", (error) => process.stderr.write(`proxkit: checkpoint: ${error.message}\n`));
  daemon.on("store", (e) => {
    const db = args.db;
    if (e.state === "failing")
      process.stderr.write(
        `proxkit: checkpoint: cannot write to ${db} (${e.reason}); still scanning, keeping up to ${MAX_PENDING_WINDOWS} closed windows in memory and retrying every minute at most\n`,
      );
    else if (e.state === "recovered")
      process.stderr.write(
        `proxkit: checkpoint: writing to ${db} again after ${Math.round(e.failedForMs / 1000)} s: ${e.windowsStored} windows kept meanwhile are stored${e.windowsDropped + e.sightingsDropped > 0 ? `; ${e.windowsDropped} windows and ${e.sightingsDropped} raw sightings were dropped to bound memory` : ""}\n`,
      );
    else
      process.stderr.write(
        `proxkit: checkpoint: ${db} still cannot be written (${e.reason}): ${e.windows} closed windows and ${e.sightings} raw sightings held in memory are lost; open windows as of the last successful write are recovered at the next start\n`,
      );
  });
  daemon.on("clock", (e) => {
    if (e.kind === "jump")
      process.stderr.write(
        `proxkit: checkpoint: the clock jumped by ${Math.round(e.jumpMs / 1000)} s; open windows closed\n`,
      );
    else
      process.stderr.write(
        `proxkit: checkpoint: clock ${e.kind === "trusted" ? "trusted" : "not trusted yet (before the build date or jumping): beacon off, windows marked"}\n`,
      );
  });
  if (args["echo-windows"]) {
    daemon.on("flushed", ({ closed }) => {
      for (const w of closed)
        process.stdout.write(`${JSON.stringify({ id: w.id, sightings: w.sightings })}\n`);
    });
  }

  let stopping = false;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const forwarder =
    forwarderModule && mqttUrl
      ? new forwarderModule.MqttForwarder(store.db, {
          url: mqttUrl,
          connection: mqttOptions?.connection,
          receiptKey: mqttOptions?.receiptKey,
          onState: forwarderLogger(mqttOptions?.displayUrl ?? mqttUrl, (line) =>
            process.stderr.write(`proxkit: checkpoint: ${line}\n`),
          ),
          ...(clock ? { clock } : {}),
        })
      : undefined;
  if (forwarder) daemon.on("flushed", ({ closed }) => closed.length > 0 && forwarder.wake());

  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const deadline = setTimeout(() => {
      process.stderr.write("proxkit: checkpoint: shutdown took too long; exiting\n");
      process.exit(1);
    }, TERM_DEADLINE_MS);
    deadline.unref();
    try {
      await daemon.stop();
      await forwarder?.stop();
    } finally {
      store.close();
      clearTimeout(deadline);
      finished();
    }
  };
  const onSignal = () => {
    void shutdown();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  if (endsByItself)
    radio.scanner.on("state", (state) => {
      if (state === "stopped") void shutdown();
    });
  try {
    await daemon.start();
    await forwarder?.start();
    process.stderr.write(
      `proxkit: checkpoint ${store.checkpoint} at ${store.site}: ${args.radio} radio, storing in ${args.db}${mqttOptions ? `, forwarding to ${mqttOptions.displayUrl}` : ""}\n`,
    );
    for (const line of mqttOptions?.notices ?? [])
      process.stderr.write(`proxkit: checkpoint: ${line}\n`);
    if (runVirtual) {
      await runVirtual(() => stopping);
      if (forwarder && !stopping) {
        // A simulated run ends in seconds: give the forwarder time to empty the outbox (what it
        // cannot send stays queued in the database for the next run).
        await daemon.stop();
        const left = await drainOutbox(forwarder, () => stopping);
        if (left)
          process.stderr.write(
            `proxkit: checkpoint: ${left.windows} windows stay in the outbox of ${args.db} for the next run (${left.why})\n`,
          );
      }
      await shutdown();
    } else if (forMs !== undefined) {
      const timer = setTimeout(() => void shutdown(), forMs);
      await done;
      clearTimeout(timer);
    } else {
      await done;
    }
    await done;
  } catch (error) {
    if (!stopping) {
      stopping = true;
      await daemon.stop().catch(() => {});
      await forwarder?.stop().catch(() => {});
      store.close();
    }
    throw error;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
  const c = daemon.counters;
  process.stderr.write(
    `proxkit: checkpoint stopped: ${c.sightings} sightings, ${c.windowsStored} windows stored\n`,
  );
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
  const store = CheckpointStore.open(args.db, { readonly: true });
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
  const store = CheckpointStore.open(args.db, { readonly: true });
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
              describe:
                "Radio back-end: hci (a Bluetooth adapter), sim (a simulated scenario), replay (a btsnoop capture)",
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
        handler: (argv) => runCheckpoint(argv as unknown as RunArgs),
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

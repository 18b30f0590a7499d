/**
 * The checkpoint daemon's run: opens the radio (an adapter, a replayed capture, or a crowd
 * scenario on a simulated clock), the store and the MQTT forwarder, and runs until the abort
 * signal, the end of `forMs`, or the end of a replay. What it has to say goes to `io` one line
 * at a time; the CLI (`proxkit checkpoint`) resolves its options and wires the signals.
 */
import { hostname } from "node:os";
import type { Scenario } from "../../sim/world/scenario.js";
import type { Clock } from "../core/clock.js";
import { ConfigError, errorText } from "../core/errors.js";
import { type OptionText, optionText } from "../core/option-text.js";
import type { Protocol } from "../protocols/rolling-id-scheme.js";
import type { Radio } from "../radio/radio.js";
import { openRadio } from "../radio/radio-backends.js";
import type { MqttConnectionOptions } from "./mqtt-connection.js";
import type { ForwarderState } from "./mqtt-forwarder.js";
import type { ReceiptKey } from "./receipt-signature.js";

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

/** A checkpoint run, every option resolved (see the CLI's `resolveCheckpointOptions`). */
export interface CheckpointRunOptions {
  /** A radio back-end of the registry: hci, replay, or sim (a crowd scenario). */
  readonly radio: string;
  /** The SQLite database. */
  readonly db: string;
  readonly site?: string;
  /** Checkpoint name [default: the host name]. */
  readonly checkpoint?: string;
  /** sim: run on the simulated clock as fast as possible (else one simulated second a second). */
  readonly virtual: boolean;
  /** Run for this long (simulated time when `virtual`). */
  readonly forMs?: number;
  /** sim: the simulated start [default: the build date when virtual, now otherwise]. */
  readonly startMs?: number;
  /** sim: the scenario, its seed and agent count. */
  readonly scenario?: Scenario;
  readonly seed?: number;
  readonly agents?: number;
  /** replay: the capture and its pace (1 = recorded, 0 = as fast as possible). */
  readonly capture?: string;
  readonly speed?: number;
  /** hci: the adapter number. */
  readonly hci?: number;
  readonly protocols?: readonly Protocol[];
  readonly scanWindowMs?: number;
  readonly scanIntervalMs?: number;
  readonly maxScanInstanceMs?: number;
  readonly retentionDays?: number;
  readonly research: boolean;
  readonly storeAddresses: boolean;
  readonly beacon?: { protocol: Protocol; intervalMs?: number; txPowerDbm?: number };
  readonly rxRssiCorrectionDb?: number;
  /** Forward closed windows to this broker. */
  readonly mqtt?: {
    readonly url: string;
    /** The URL as it may be shown (no password). */
    readonly displayUrl: string;
    readonly connection?: MqttConnectionOptions;
    readonly receiptKey?: ReceiptKey;
    /** Lines to show once the run has started (warnings about the settings). */
    readonly notices?: readonly string[];
    /** The forwarder's state changes (the CLI logs them). */
    readonly onState?: (state: ForwarderState) => void;
  };
  /** Write each stored closed window's id as a JSON line. */
  readonly echoWindows?: boolean;
}

export interface CheckpointIo {
  /** Standard output (`echoWindows`). */
  write(text: string): void;
  /** One line of news or warning, without a newline; the options it names as data. */
  warn(line: string | OptionText): void;
  /** Aborting stops the run cleanly (the CLI wires SIGINT and SIGTERM to it). */
  readonly signal?: AbortSignal;
  /** The shutdown took longer than the 2 s a service manager allows (the CLI exits 1). */
  shutdownTooLong?(): void;
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

/** How a run ended. */
export interface CheckpointRunResult {
  /** Nothing ran: the database already holds the whole simulated run (give another start). */
  readonly alreadyRunUntilMs?: number;
}

/** Runs the daemon until `io.signal`, the end of `forMs`, or the end of a replay. */
export async function runCheckpoint(
  options: CheckpointRunOptions,
  io: CheckpointIo,
): Promise<CheckpointRunResult> {
  const { db, virtual, forMs } = options;
  // SQLite, MQTT and the simulator load only for this command.
  const { CheckpointStore } = await import("./checkpoint-store.js");
  const { BUILD_DATE_MS, CheckpointDaemon, MAX_PENDING_WINDOWS, timesyncSynchronized } =
    await import("./checkpoint-daemon.js");
  const forwarderModule = options.mqtt ? await import("./mqtt-forwarder.js") : undefined;
  const store = CheckpointStore.open(db, {
    synchronous: virtual ? "normal" : "full",
    // An outbox only when a forwarder will empty it.
    outbox: options.mqtt !== undefined,
    site: options.site ?? "site",
    checkpoint: options.checkpoint ?? hostname(),
  });
  if (!virtual && options.radio !== "replay") {
    // Two daemons on one database would overwrite each other's open windows.
    const beat = store.health();
    const ageMs = beat.heartbeat_ms ? Date.now() - beat.heartbeat_ms.updatedMs : Infinity;
    if (beat.running?.value === "1" && Math.abs(ageMs) < LIVE_HEARTBEAT_MS) {
      store.close();
      throw new ConfigError(
        `another checkpoint daemon is writing to ${db} (heartbeat ${Math.round(ageMs / 1000)} s ago); stop it first`,
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
    if (options.radio === "sim") {
      if (!options.scenario) throw new ConfigError("the sim radio needs a scenario", "E_SCENARIO");
      // A simulated day killed part way resumes after its last heartbeat.
      const health = store.health();
      const untilStored = health.sim_until_ms ? Number(health.sim_until_ms.value) : undefined;
      const heartbeat = health.heartbeat_ms ? Number(health.heartbeat_ms.value) : undefined;
      const startOption = options.startMs;
      if (
        virtual &&
        startOption === undefined &&
        untilStored !== undefined &&
        heartbeat !== undefined &&
        heartbeat >= untilStored
      ) {
        store.close();
        return { alreadyRunUntilMs: untilStored };
      }
      // Paced (real clock) runs keep simulated time on the wall clock, so status reads right.
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
      const world = (await openRadio("sim", {
        world: {
          scenario: options.scenario,
          seed: options.seed ?? startMs / 1000,
          agents: options.agents,
          startMs,
        },
      })) as import("../../sim/engine/world-radio.js").WorldRadio;
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
      radio = await openRadio(options.radio, {
        hci: { deviceId: options.hci },
        replay: options.capture
          ? { capture: options.capture, speed: options.speed ?? 1 }
          : undefined,
      });
      if (options.radio === "replay") {
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
    ...(options.radio === "hci" ? { clockSynchronized: timesyncSynchronized } : {}),
    protocols: options.protocols,
    scanWindowMs: options.scanWindowMs,
    scanIntervalMs: options.scanIntervalMs,
    maxScanInstanceMs: options.maxScanInstanceMs,
    retentionDays: options.retentionDays,
    research: options.research,
    storeAddresses: options.storeAddresses,
    ...(options.beacon ? { beacon: options.beacon } : {}),
    rxRssiCorrectionDb: options.rxRssiCorrectionDb,
  });
  daemon.on("error", (error) => io.warn(optionText`checkpoint: ${errorText(error)}`));
  daemon.on("store", (e) => {
    if (e.state === "failing")
      io.warn(
        `checkpoint: cannot write to ${db} (${e.reason}); still scanning, keeping up to ${MAX_PENDING_WINDOWS} closed windows in memory and retrying every minute at most`,
      );
    else if (e.state === "recovered")
      io.warn(
        `checkpoint: writing to ${db} again after ${Math.round(e.failedForMs / 1000)} s: ${e.windowsStored} windows kept meanwhile are stored${e.windowsDropped + e.sightingsDropped > 0 ? `; ${e.windowsDropped} windows and ${e.sightingsDropped} raw sightings were dropped to bound memory` : ""}`,
      );
    else
      io.warn(
        `checkpoint: ${db} still cannot be written (${e.reason}): ${e.windows} closed windows and ${e.sightings} raw sightings held in memory are lost; open windows as of the last successful write are recovered at the next start`,
      );
  });
  daemon.on("clock", (e) => {
    if (e.kind === "jump")
      io.warn(
        `checkpoint: the clock jumped by ${Math.round(e.jumpMs / 1000)} s; open windows closed`,
      );
    else
      io.warn(
        `checkpoint: clock ${e.kind === "trusted" ? "trusted" : "not trusted yet (before the build date or jumping): beacon off, windows marked"}`,
      );
  });
  if (options.echoWindows) {
    daemon.on("flushed", ({ closed }) => {
      for (const w of closed) io.write(`${JSON.stringify({ id: w.id, sightings: w.sightings })}\n`);
    });
  }

  let stopping = false;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const mqtt = options.mqtt;
  const forwarder =
    forwarderModule && mqtt
      ? new forwarderModule.MqttForwarder(store.db, {
          url: mqtt.url,
          connection: mqtt.connection,
          receiptKey: mqtt.receiptKey,
          onState: mqtt.onState,
          ...(clock ? { clock } : {}),
        })
      : undefined;
  if (forwarder) daemon.on("flushed", ({ closed }) => closed.length > 0 && forwarder.wake());

  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const deadline = setTimeout(() => {
      io.warn("checkpoint: shutdown took too long; exiting");
      io.shutdownTooLong?.();
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
  const onAbort = () => {
    void shutdown();
  };
  io.signal?.addEventListener("abort", onAbort, { once: true });
  if (endsByItself)
    radio.scanner.on("state", (state) => {
      if (state === "stopped") void shutdown();
    });
  try {
    await daemon.start();
    await forwarder?.start();
    io.warn(
      `checkpoint ${store.checkpoint} at ${store.site}: ${options.radio} radio, storing in ${db}${mqtt ? `, forwarding to ${mqtt.displayUrl}` : ""}`,
    );
    for (const line of mqtt?.notices ?? []) io.warn(`checkpoint: ${line}`);
    if (io.signal?.aborted) void shutdown();
    if (runVirtual) {
      await runVirtual(() => stopping);
      if (forwarder && !stopping) {
        // A simulated run ends in seconds: give the forwarder time to empty the outbox (what it
        // cannot send stays queued in the database for the next run).
        await daemon.stop();
        const left = await drainOutbox(forwarder, () => stopping);
        if (left)
          io.warn(
            `checkpoint: ${left.windows} windows stay in the outbox of ${db} for the next run (${left.why})`,
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
    io.signal?.removeEventListener("abort", onAbort);
  }
  const c = daemon.counters;
  io.warn(`checkpoint stopped: ${c.sightings} sightings, ${c.windowsStored} windows stored`);
  return {};
}

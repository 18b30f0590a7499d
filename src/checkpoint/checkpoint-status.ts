/**
 * The health of a checkpoint from its database alone (the daemon may run or not): uptime,
 * adapter state, sightings per minute, windows stored, outbox depth, disk use, clock trust.
 */
import { existsSync, statfsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { CheckpointStore } from "./checkpoint-store.js";

/** A heartbeat older than this means the daemon is not running. */
export const STALE_HEARTBEAT_MS = 5_000;
/** Less free space than this next to the database: the daemon's writes fail or soon will. */
export const LOW_DISK_BYTES = 4 * 1024 * 1024;

/**
 * Whether the daemon is writing: `ok` (a fresh heartbeat), `stopped` (it said so), `disk-full`
 * (it did not stop, its heartbeat is stale, and the disk has no room: it is running and keeping
 * windows in memory, retrying, or it died), `no-heartbeat` (it did not stop and is not writing:
 * killed, hung, or the card failing).
 */
export type StoreWriteState = "ok" | "stopped" | "disk-full" | "no-heartbeat" | "never-started";

export interface CheckpointStatus {
  readonly site: string | undefined;
  readonly checkpoint: string | undefined;
  /** Running = a heartbeat within the last 5 s (by the reader's clock) from a daemon not stopped. */
  readonly running: boolean;
  readonly startedMs: number | undefined;
  readonly heartbeatMs: number | undefined;
  readonly uptimeS: number | undefined;
  readonly adapterState: string;
  readonly clockTrusted: boolean | undefined;
  readonly clockJumps: number;
  readonly beacon: string;
  /** Mean over the last 10 complete minutes before the heartbeat. */
  readonly sightingsPerMinute: number;
  readonly sightingsLastMinute: number;
  readonly windowsStored: number;
  readonly windowsOpen: number;
  readonly outboxDepth: number;
  readonly rawSightings: number;
  readonly dbBytes: number;
  readonly diskFreeBytes: number | undefined;
  readonly schemaVersion: number;
  readonly writeState: StoreWriteState;
  /** Times the daemon found the store unwritable, and the last such failure (once written again). */
  readonly storeFailures: number;
  readonly lastStoreFailure: { readonly atMs: number; readonly reason: string } | undefined;
  /** Closed windows and raw sightings dropped to bound memory while the store could not be written. */
  readonly windowsDropped: number;
  readonly sightingsDropped: number;
}

export function checkpointStatus(store: CheckpointStore, nowMs: number): CheckpointStatus {
  const health = store.health();
  const num = (key: string) => (health[key] ? Number(health[key].value) : undefined);
  const heartbeatMs = num("heartbeat_ms");
  const startedMs = num("started_ms");
  const running =
    heartbeatMs !== undefined &&
    num("running") === 1 &&
    Math.abs(nowMs - health.heartbeat_ms.updatedMs) <= STALE_HEARTBEAT_MS;
  const db = store.db;
  const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000;
  const lastFull = heartbeatMs === undefined ? 0 : minuteOf(heartbeatMs) - 60_000;
  const sumMinutes = (from: number, to: number) =>
    (
      db
        .prepare(
          "SELECT coalesce(sum(sightings), 0) AS n FROM health_minutes WHERE minute_ms >= ? AND minute_ms <= ?",
        )
        .get(from, to) as { n: number }
    ).n;
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  let dbBytes = 0;
  for (const suffix of ["", "-wal", "-shm"]) {
    const path = store.path + suffix;
    if (existsSync(path)) dbBytes += statSync(path).size;
  }
  let diskFreeBytes: number | undefined;
  try {
    const fs = statfsSync(dirname(store.path));
    diskFreeBytes = fs.bavail * fs.bsize;
  } catch {
    diskFreeBytes = undefined;
  }
  return {
    site: health.site?.value,
    checkpoint: health.checkpoint?.value,
    running,
    startedMs,
    heartbeatMs,
    uptimeS:
      running && startedMs !== undefined && heartbeatMs !== undefined
        ? Math.round((heartbeatMs - startedMs) / 1000)
        : undefined,
    adapterState: running ? (health.adapter_state?.value ?? "unknown") : "stopped",
    clockTrusted: health.clock_trusted ? health.clock_trusted.value === "1" : undefined,
    clockJumps: num("clock_jumps") ?? 0,
    beacon: health.beacon?.value ?? "off",
    sightingsPerMinute:
      heartbeatMs === undefined
        ? 0
        : Math.round((sumMinutes(lastFull - 9 * 60_000, lastFull) / 10) * 10) / 10,
    sightingsLastMinute: heartbeatMs === undefined ? 0 : sumMinutes(lastFull, lastFull),
    windowsStored: count("SELECT count(*) AS n FROM windows"),
    windowsOpen: count("SELECT count(*) AS n FROM open_windows"),
    outboxDepth: count("SELECT count(*) AS n FROM outbox"),
    rawSightings: count("SELECT count(*) AS n FROM sightings"),
    dbBytes,
    diskFreeBytes,
    schemaVersion: db.pragma("user_version", { simple: true }) as number,
    writeState:
      heartbeatMs === undefined
        ? "never-started"
        : running
          ? "ok"
          : num("running") !== 1
            ? "stopped"
            : diskFreeBytes !== undefined && diskFreeBytes < LOW_DISK_BYTES
              ? "disk-full"
              : "no-heartbeat",
    storeFailures: num("store_failures_total") ?? 0,
    lastStoreFailure:
      health.store_last_failure_ms && health.store_last_failure
        ? {
            atMs: Number(health.store_last_failure_ms.value),
            reason: health.store_last_failure.value,
          }
        : undefined,
    windowsDropped: num("windows_dropped_total") ?? 0,
    sightingsDropped: num("sightings_dropped_total") ?? 0,
  };
}

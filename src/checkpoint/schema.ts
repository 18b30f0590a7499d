/**
 * The checkpoint database schema as numbered migrations. `PRAGMA user_version` holds the number
 * of migrations applied; `migrate` applies the missing ones in one transaction each, so a
 * database is always at a whole version. Never edit a released migration: append a new one.
 *
 * Tables:
 * - `windows`: closed exposure windows, one per rolling ID and at most 30 minutes (GAEN v2),
 *   with their scan instances as JSON; `clock_trusted = 0` when any of its sightings was stamped
 *   by a clock not yet trustworthy.
 * - `open_windows`: the windows the daemon still accumulates, by its integer slot (cheap to
 *   rewrite every flush, so a crash loses at most the last second); moved to `windows` on close.
 * - `sightings`: raw sightings, research mode only; `address` stays NULL unless asked for.
 * - `own_keys`: the venue beacon's daily keys (deleted with the rest after the retention period).
 * - `health`: the daemon's heartbeat, adapter state and counters (key/value).
 * - `health_minutes`: sightings heard per minute, for `checkpoint status`.
 * - `clock_events`: clock jumps and trust changes, as the daemon saw them.
 * - `outbox`: closed windows waiting for the MQTT forwarder, which deletes a row once the collector's receipt confirms it is stored (after the broker's PUBACK). Written only when a forwarder is configured.
 *
 * Every table that holds a rolling ID (`windows`, `open_windows`, `sightings`, `outbox`, and the
 * beacon's `own_keys`) is pruned by retention; see `CheckpointStore.prune`.
 *
 * The SQLite header's `application_id` is `CHECKPOINT_APPLICATION_ID` from migration 2 on, so a
 * checkpoint database is told apart from any other SQLite file (a collector's is "PRKC").
 */
import type { Database } from "better-sqlite3";

export const MIGRATIONS: readonly string[] = [
  // 1: first schema.
  `
  CREATE TABLE windows (
    id TEXT PRIMARY KEY,
    protocol TEXT NOT NULL,
    rolling_id BLOB NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    sightings INTEGER NOT NULL,
    min_attenuation_db INTEGER NOT NULL,
    scan_instances TEXT NOT NULL,
    clock_trusted INTEGER NOT NULL,
    stored_ms INTEGER NOT NULL
  );
  CREATE INDEX windows_by_start ON windows (start_ms);
  CREATE TABLE open_windows (
    slot INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    protocol TEXT NOT NULL,
    rolling_id BLOB NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    sightings INTEGER NOT NULL,
    min_attenuation_db INTEGER NOT NULL,
    scan_instances TEXT NOT NULL,
    clock_trusted INTEGER NOT NULL,
    stored_ms INTEGER NOT NULL
  );
  CREATE TABLE sightings (
    at_ms INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    rolling_id BLOB NOT NULL,
    rssi_dbm INTEGER NOT NULL,
    tx_power_dbm INTEGER,
    channel INTEGER,
    address BLOB,
    clock_trusted INTEGER NOT NULL
  );
  CREATE INDEX sightings_by_time ON sightings (at_ms);
  CREATE TABLE own_keys (
    protocol TEXT NOT NULL,
    day INTEGER NOT NULL,
    key BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (protocol, day)
  );
  CREATE TABLE health (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
  );
  CREATE TABLE health_minutes (
    minute_ms INTEGER PRIMARY KEY,
    sightings INTEGER NOT NULL
  );
  CREATE TABLE clock_events (
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    jump_ms INTEGER NOT NULL
  );
  CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload TEXT NOT NULL, created_ms INTEGER NOT NULL);
  `,
  // 2: the file says what it is; retention finds old outbox rows by index.
  `
  PRAGMA application_id = 1347570512;
  CREATE INDEX outbox_by_created ON outbox (created_ms);
  `,
];

/** "PRKP" in the SQLite header of a checkpoint database (from schema version 2). */
export const CHECKPOINT_APPLICATION_ID = 0x50524b50;

/** "PRKC": the collector's database (`collector.ts`), which a checkpoint must not adopt. */
export const COLLECTOR_APPLICATION_ID = 0x50524b43;

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The database's schema version (`PRAGMA user_version`). */
export function schemaVersion(db: Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/**
 * Applies the migrations the database lacks; returns how many. A database newer than this
 * build is refused (`newer` is returned so the caller can say so).
 */
export function migrate(db: Database): { applied: number; newer: boolean } {
  const from = schemaVersion(db);
  if (from > MIGRATIONS.length) return { applied: 0, newer: true };
  for (let v = from; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
  return { applied: MIGRATIONS.length - from, newer: false };
}

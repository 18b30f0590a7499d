/**
 * The checkpoint's SQLite store (better-sqlite3): WAL journal, `synchronous = FULL` by default
 * (each commit is on disk before the daemon goes on: a power cut loses at most the last
 * flush), created with mode 0600, migrated on open. Every write the daemon makes in one flush
 * is one transaction: open windows rewritten, closed windows stored and queued in the outbox,
 * raw sightings (research mode), health counters.
 */
import { chmodSync, closeSync, existsSync, openSync, statSync } from "node:fs";
import BetterSqlite3, { type Database } from "better-sqlite3";
import { ConfigError, StoreError } from "../core/errors.js";
import { toHex } from "../core/hex.js";
import type { ScanInstance } from "../exposure/exposure-window-builder.js";
import type { Protocol } from "../protocols/rolling-id-scheme.js";
import { windowsTopic } from "./mqtt-forwarder.js";
import {
  CHECKPOINT_APPLICATION_ID,
  COLLECTOR_APPLICATION_ID,
  migrate,
  SCHEMA_VERSION,
} from "./schema.js";

/** An exposure window as the checkpoint stores it. */
export interface StoredWindow {
  /** `<checkpoint>:<rolling ID hex>:<start ms>`: stable, so a collector can store idempotently. */
  readonly id: string;
  readonly protocol: Protocol;
  readonly rollingId: Uint8Array;
  /** First and last sighting, ms since the Unix epoch. */
  readonly startMs: number;
  readonly endMs: number;
  readonly sightings: number;
  readonly minAttenuationDb: number;
  readonly scanInstances: readonly ScanInstance[];
  /** False when a sighting of the window was stamped by a clock not yet trustworthy. */
  readonly clockTrusted: boolean;
}

/** A closed window as published to `proxkit/<site>/<checkpoint>/windows` (JSON). */
export interface WindowPayload {
  readonly id: string;
  readonly site: string;
  readonly checkpoint: string;
  readonly protocol: Protocol;
  readonly rollingId: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly sightings: number;
  readonly minAttenuationDb: number;
  readonly clockTrusted: boolean;
  readonly scanInstances: readonly ScanInstance[];
}

/** A raw sighting kept in research mode. */
export interface RawSightingRow {
  readonly atMs: number;
  readonly protocol: Protocol;
  readonly rollingId: Uint8Array;
  readonly rssiDbm: number;
  readonly txPowerDbm: number | undefined;
  readonly channel: number | undefined;
  /** Only when the operator asked to keep addresses. */
  readonly address: Uint8Array | undefined;
  readonly clockTrusted: boolean;
}

/** A window still open, with the daemon's slot for it. */
export interface OpenWindow extends StoredWindow {
  readonly slot: number;
}

/** What one flush writes, in one transaction. */
export interface FlushBatch {
  readonly nowMs: number;
  /** Open windows touched since the last flush (rewritten by slot). */
  readonly open: readonly OpenWindow[];
  /** Closed windows; those that were open under `slot` leave `open_windows`. */
  readonly closed: readonly (StoredWindow & { readonly slot?: number })[];
  readonly sightings: readonly RawSightingRow[];
  /** Sightings heard per minute since the last flush: [minute start ms, count]. */
  readonly minuteCounts: ReadonlyMap<number, number>;
  readonly health: Readonly<Record<string, string | number>>;
  /** Clock events (jumps, trust changes) since the last flush. */
  readonly clockEvents?: readonly ClockEventRow[];
}

/** A clock jump or trust change, as `clock_events` stores it. */
export interface ClockEventRow {
  readonly atMs: number;
  readonly kind: string;
  readonly jumpMs: number;
}

export interface CheckpointStoreOptions {
  /** `full` (default): durable at every commit; `normal`: survives a process kill, not a power cut. */
  synchronous?: "full" | "normal";
  readonly?: boolean;
  /**
   * Queue closed windows in the `outbox` for an MQTT forwarder (default false). Without a
   * forwarder nothing would ever take them out, so an outbox is written only when one runs.
   */
  outbox?: boolean;
  site?: string;
  checkpoint?: string;
}

/** Rows deleted by one `prune`, per table. */
export interface PruneCounts {
  readonly windows: number;
  readonly openWindows: number;
  readonly outbox: number;
  readonly sightings: number;
  readonly ownKeys: number;
  readonly minutes: number;
  readonly clockEvents: number;
}

/** The stable window id. */
export function windowId(checkpoint: string, rollingId: Uint8Array, startMs: number): string {
  return `${checkpoint}:${toHex(rollingId)}:${Math.round(startMs)}`;
}

interface WindowRow {
  id: string;
  protocol: string;
  rolling_id: Buffer;
  start_ms: number;
  end_ms: number;
  sightings: number;
  min_attenuation_db: number;
  scan_instances: string;
  clock_trusted: number;
}

function rowToWindow(row: WindowRow): StoredWindow {
  return {
    id: row.id,
    protocol: row.protocol as Protocol,
    rollingId: new Uint8Array(row.rolling_id),
    startMs: row.start_ms,
    endMs: row.end_ms,
    sightings: row.sightings,
    minAttenuationDb: row.min_attenuation_db,
    scanInstances: JSON.parse(row.scan_instances) as ScanInstance[],
    clockTrusted: row.clock_trusted === 1,
  };
}

/** The tables of schema version 1, which had no application id yet. */
const VERSION_1_TABLES = ["windows", "open_windows", "sightings", "own_keys", "outbox"];

/**
 * Why the open SQLite file at `path` is not a checkpoint database this build may use, as a
 * `ConfigError`; `undefined` when it is one (or, when writing, a new empty file). Read before
 * anything is written, so a foreign file is left exactly as it was.
 */
function refusalOf(db: Database, path: string, readonly: boolean): ConfigError | undefined {
  const version = db.pragma("user_version", { simple: true }) as number;
  const applicationId = db.pragma("application_id", { simple: true }) as number;
  const tables = (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as { name: string }[]
  ).map((row) => row.name);
  const notOurs = (what: string) =>
    new ConfigError(
      `${path} ${what}, not a proxkit checkpoint database; it was left untouched: give a new file or a checkpoint's database`,
      "E_DB_FOREIGN",
    );
  if (applicationId === COLLECTOR_APPLICATION_ID) return notOurs("is a collector's database");
  if (applicationId !== 0 && applicationId !== CHECKPOINT_APPLICATION_ID)
    return notOurs(
      `belongs to another application (application_id 0x${applicationId.toString(16)})`,
    );
  if (version === 0) {
    if (tables.length > 0)
      return notOurs(
        `holds other tables (${tables.slice(0, 5).join(", ")}${tables.length > 5 ? ", …" : ""})`,
      );
    if (readonly) return notOurs("is empty");
    return undefined;
  }
  if (applicationId === 0 && (version !== 1 || VERSION_1_TABLES.some((t) => !tables.includes(t))))
    return notOurs(`has schema version ${version} but not the checkpoint's tables`);
  if (version > SCHEMA_VERSION)
    return new ConfigError(
      `${path} has schema version ${version}, newer than this proxkit reads (${SCHEMA_VERSION}); upgrade proxkit`,
      "E_DB_VERSION",
    );
  return undefined;
}

export class CheckpointStore {
  readonly db: Database;
  readonly path: string;
  readonly site: string;
  readonly checkpoint: string;
  /** `proxkit/<site>/<checkpoint>/windows`. */
  readonly topic: string;
  private readonly upsertWindow: BetterSqlite3.Statement;
  private readonly putOpen: { run(params: Record<string, unknown>): void };
  private readonly dropOpen: BetterSqlite3.Statement;
  private readonly insertOutbox: BetterSqlite3.Statement;
  private readonly insertSighting: BetterSqlite3.Statement;
  private readonly upsertHealth: BetterSqlite3.Statement;
  private readonly addMinute: BetterSqlite3.Statement;
  private readonly flushTx: (batch: FlushBatch) => void;
  private readonly outbox: boolean;
  private readonly readonly: boolean;

  private constructor(db: Database, path: string, options: CheckpointStoreOptions) {
    this.db = db;
    this.path = path;
    this.site = options.site ?? "site";
    this.checkpoint = options.checkpoint ?? "checkpoint";
    this.topic = windowsTopic(this.site, this.checkpoint);
    this.outbox = options.outbox ?? false;
    this.readonly = options.readonly ?? false;
    if (options.readonly) {
      // Statements that write are never prepared on a read-only connection.
      this.upsertWindow = this.insertOutbox = this.insertSighting = undefined as never;
      this.putOpen = this.dropOpen = undefined as never;
      this.upsertHealth = this.addMinute = undefined as never;
      this.flushTx = () => {
        throw new StoreError("the store is open read-only", "E_STORE_READONLY");
      };
      return;
    }
    // A re-stored window (same id) replaces the stored one only when it holds more.
    this.upsertWindow = db.prepare(`
      INSERT INTO windows (id, protocol, rolling_id, start_ms, end_ms, sightings,
        min_attenuation_db, scan_instances, clock_trusted, stored_ms)
      VALUES (@id, @protocol, @rolling_id, @start_ms, @end_ms, @sightings,
        @min_attenuation_db, @scan_instances, @clock_trusted, @stored_ms)
      ON CONFLICT (id) DO UPDATE SET end_ms = excluded.end_ms, sightings = excluded.sightings,
        min_attenuation_db = excluded.min_attenuation_db, scan_instances = excluded.scan_instances,
        clock_trusted = excluded.clock_trusted, stored_ms = excluded.stored_ms
      WHERE excluded.sightings > windows.sightings`);
    // Rewriting an open window by its integer slot is the cheapest write SQLite offers.
    const updateOpen = db.prepare(`
      UPDATE open_windows SET id = @id, protocol = @protocol, rolling_id = @rolling_id,
        start_ms = @start_ms, end_ms = @end_ms, sightings = @sightings,
        min_attenuation_db = @min_attenuation_db, scan_instances = @scan_instances,
        clock_trusted = @clock_trusted, stored_ms = @stored_ms
      WHERE slot = @slot`);
    const insertOpen = db.prepare(`
      INSERT INTO open_windows (slot, id, protocol, rolling_id, start_ms, end_ms,
        sightings, min_attenuation_db, scan_instances, clock_trusted, stored_ms)
      VALUES (@slot, @id, @protocol, @rolling_id, @start_ms, @end_ms, @sightings,
        @min_attenuation_db, @scan_instances, @clock_trusted, @stored_ms)`);
    this.putOpen = {
      run: (params: Record<string, unknown>) => {
        if (updateOpen.run(params).changes === 0) insertOpen.run(params);
      },
    };
    this.dropOpen = db.prepare("DELETE FROM open_windows WHERE slot = ? AND id = ?");
    this.insertOutbox = db.prepare(
      "INSERT INTO outbox (topic, payload, created_ms) VALUES (?, ?, ?)",
    );
    this.insertSighting = db.prepare(
      `INSERT INTO sightings (at_ms, protocol, rolling_id, rssi_dbm, tx_power_dbm, channel,
        address, clock_trusted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.upsertHealth = db.prepare(
      `INSERT INTO health (key, value, updated_ms) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms`,
    );
    this.addMinute = db.prepare(
      `INSERT INTO health_minutes (minute_ms, sightings) VALUES (?, ?)
       ON CONFLICT (minute_ms) DO UPDATE SET sightings = sightings + excluded.sightings`,
    );
    const insertClockEvent = db.prepare(
      "INSERT INTO clock_events (at_ms, kind, jump_ms) VALUES (?, ?, ?)",
    );
    this.flushTx = db.transaction((batch: FlushBatch) => {
      for (const w of batch.closed) {
        this.writeClosed(w, batch.nowMs);
        if (w.slot !== undefined) this.dropOpen.run(w.slot, w.id);
      }
      for (const w of batch.open) this.putOpen.run(this.params(w, batch.nowMs, w.slot));
      for (const s of batch.sightings) {
        this.insertSighting.run(
          Math.round(s.atMs),
          s.protocol,
          s.rollingId,
          s.rssiDbm,
          s.txPowerDbm ?? null,
          s.channel ?? null,
          s.address ?? null,
          s.clockTrusted ? 1 : 0,
        );
      }
      for (const [minuteMs, count] of batch.minuteCounts) this.addMinute.run(minuteMs, count);
      for (const e of batch.clockEvents ?? []) insertClockEvent.run(e.atMs, e.kind, e.jumpMs);
      for (const [key, value] of Object.entries(batch.health))
        this.upsertHealth.run(key, String(value), batch.nowMs);
    });
  }

  /**
   * Opens (creating with mode 0600 unless read-only) and migrates the database at `path`.
   * A file that is not a proxkit checkpoint database is bad input (`ConfigError`) and is left
   * untouched.
   */
  static open(path: string, options: CheckpointStoreOptions = {}): CheckpointStore {
    const readonly = options.readonly ?? false;
    windowsTopic(options.site ?? "site", options.checkpoint ?? "checkpoint");
    if (readonly && !existsSync(path))
      throw new ConfigError(`${path}: no such file`, "E_DB_MISSING");
    if (existsSync(path) && !statSync(path).isFile())
      throw new ConfigError(`${path} is not a file`, "E_DB");
    if (!readonly && !existsSync(path)) {
      try {
        closeSync(openSync(path, "wx", 0o600));
        chmodSync(path, 0o600);
      } catch (cause) {
        throw new ConfigError(
          `cannot create ${path}: ${(cause as Error).message.replace(/^\w+: /, "")}`,
          "E_DB",
        );
      }
    }
    let db: Database;
    try {
      db = new BetterSqlite3(path, { readonly, fileMustExist: true });
    } catch (cause) {
      throw new ConfigError(`cannot open ${path}: ${(cause as Error).message}`, "E_DB");
    }
    try {
      db.pragma("busy_timeout = 5000");
      // Nothing is written before the file is known to be ours (or new and empty).
      const refusal = refusalOf(db, path, readonly);
      if (refusal) throw refusal;
      if (!readonly) {
        db.pragma("journal_mode = WAL");
        db.pragma(`synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
        migrate(db);
      }
    } catch (cause) {
      if (db.open) db.close();
      if (cause instanceof ConfigError) throw cause;
      const message = (cause as Error).message;
      const code = (cause as { code?: string }).code ?? "";
      if (/not a database|malformed|file is encrypted/i.test(message))
        throw new ConfigError(`${path} is not a SQLite database (${message})`, "E_DB");
      if (readonly && /^SQLITE_(READONLY|CANTOPEN)/.test(code))
        throw new ConfigError(
          `cannot read ${path} read-only (${message}): it is in WAL mode and its folder is not writable, so SQLite cannot make ${path}-shm; a daemon that stops cleanly leaves it readable anywhere, so run this as the daemon's user or while it runs`,
          "E_DB_READONLY",
        );
      throw new StoreError(`${path}: ${message}`, "E_STORE", { cause });
    }
    return new CheckpointStore(db, path, options);
  }

  /** Writes one flush in one transaction. */
  commit(batch: FlushBatch): void {
    this.writing(() => this.flushTx(batch));
  }

  /** Runs a write; a failure (a full disk, a read-only file) is a `StoreError` naming the file. */
  private writing(write: () => void): void {
    try {
      write();
    } catch (cause) {
      throw new StoreError(`cannot write to ${this.path}: ${(cause as Error).message}`, "E_STORE", {
        cause,
      });
    }
  }

  /** The payload a closed window is published with. */
  payloadOf(w: StoredWindow): WindowPayload {
    return {
      id: w.id,
      site: this.site,
      checkpoint: this.checkpoint,
      protocol: w.protocol,
      rollingId: toHex(w.rollingId),
      startMs: w.startMs,
      endMs: w.endMs,
      sightings: w.sightings,
      minAttenuationDb: w.minAttenuationDb,
      clockTrusted: w.clockTrusted,
      scanInstances: w.scanInstances,
    };
  }

  /**
   * Closes the windows a previous run left open (it crashed or lost power): they end at their
   * last flush and go to the outbox like any closed window. Returns how many.
   */
  recoverOpenWindows(nowMs: number): number {
    const rows = this.db.prepare("SELECT * FROM open_windows").all() as WindowRow[];
    if (rows.length === 0) return 0;
    this.db.transaction(() => {
      for (const row of rows) this.writeClosed(rowToWindow(row), nowMs);
      this.db.prepare("DELETE FROM open_windows").run();
    })();
    return rows.length;
  }

  /**
   * Retention: deletes everything older than `cutoffMs` from every table that holds a rolling
   * ID or says when someone was there: closed and open windows (by last sighting), outbox rows
   * (stored or ended before the cutoff: a window the collector never confirmed in time is not
   * kept beyond retention either), raw sightings, own keys of days before the cutoff's day,
   * per-minute counters and clock events. Returns what was deleted per table.
   */
  prune(cutoffMs: number): PruneCounts {
    const cutoff = Math.floor(cutoffMs);
    const day = Math.floor(cutoff / 86_400_000);
    const run = (sql: string, ...params: number[]) => this.db.prepare(sql).run(...params).changes;
    return this.db.transaction(() => ({
      windows: run("DELETE FROM windows WHERE end_ms < ?", cutoff),
      openWindows: run("DELETE FROM open_windows WHERE end_ms < ?", cutoff),
      outbox: run(
        "DELETE FROM outbox WHERE created_ms < ? OR json_extract(payload, '$.endMs') < ?",
        cutoff,
        cutoff,
      ),
      sightings: run("DELETE FROM sightings WHERE at_ms < ?", cutoff),
      ownKeys: run("DELETE FROM own_keys WHERE day < ?", day),
      minutes: run("DELETE FROM health_minutes WHERE minute_ms < ?", cutoff),
      clockEvents: run("DELETE FROM clock_events WHERE at_ms < ?", cutoff),
    }))();
  }

  /** The venue beacon's stored day keys for `protocol`. */
  ownKeys(protocol: Protocol): { day: number; key: Uint8Array }[] {
    const rows = this.db
      .prepare("SELECT day, key FROM own_keys WHERE protocol = ? ORDER BY day")
      .all(protocol) as { day: number; key: Buffer }[];
    return rows.map((r) => ({ day: r.day, key: new Uint8Array(r.key) }));
  }

  saveOwnKey(protocol: Protocol, day: number, key: Uint8Array, nowMs: number): void {
    this.db
      .prepare(
        "INSERT OR IGNORE INTO own_keys (protocol, day, key, created_ms) VALUES (?, ?, ?, ?)",
      )
      .run(protocol, day, key, Math.round(nowMs));
  }

  /**
   * Windows (closed, and those still open as of the last flush) whose last sighting is at or
   * after `fromMs` and first before `toMs`, by start.
   */
  windows(fromMs = Number.NEGATIVE_INFINITY, toMs = Number.POSITIVE_INFINITY): StoredWindow[] {
    const columns =
      "id, protocol, rolling_id, start_ms, end_ms, sightings, min_attenuation_db, scan_instances, clock_trusted";
    const rows = this.db
      .prepare(
        `SELECT ${columns} FROM windows WHERE end_ms >= @from AND start_ms < @to
         UNION ALL SELECT ${columns} FROM open_windows WHERE end_ms >= @from AND start_ms < @to
         ORDER BY start_ms, id`,
      )
      .all({
        from: Number.isFinite(fromMs) ? fromMs : -1e18,
        to: Number.isFinite(toMs) ? toMs : 1e18,
      }) as WindowRow[];
    return rows.map(rowToWindow);
  }

  health(): Record<string, { value: string; updatedMs: number }> {
    const rows = this.db.prepare("SELECT key, value, updated_ms FROM health").all() as {
      key: string;
      value: string;
      updated_ms: number;
    }[];
    return Object.fromEntries(
      rows.map((r) => [r.key, { value: r.value, updatedMs: r.updated_ms }]),
    );
  }

  /** Sets one health entry (outside a flush). */
  setHealth(key: string, value: string | number, nowMs: number): void {
    this.writing(() => this.upsertHealth.run(key, String(value), Math.round(nowMs)));
  }

  count(table: "windows" | "open_windows" | "outbox" | "sightings" | "own_keys"): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  }

  /**
   * Closes the database. A writer leaves it in rollback-journal mode (the WAL folded in), so the
   * file alone holds everything and `status`/`report` can read it where its folder is read-only
   * or on another machine; the daemon turns WAL on again when it opens it.
   */
  close(): void {
    if (!this.db.open) return;
    if (!this.readonly) {
      try {
        this.db.pragma("busy_timeout = 200");
        this.db.pragma("journal_mode = DELETE");
      } catch {
        // Another connection is reading, or the disk is full: it stays in WAL mode, which is fine.
      }
    }
    this.db.close();
  }

  private params(w: StoredWindow, nowMs: number, slot?: number): Record<string, unknown> {
    return {
      ...(slot === undefined ? {} : { slot }),
      id: w.id,
      protocol: w.protocol,
      rolling_id: w.rollingId,
      start_ms: Math.round(w.startMs),
      end_ms: Math.round(w.endMs),
      sightings: w.sightings,
      min_attenuation_db: Math.round(w.minAttenuationDb),
      scan_instances: JSON.stringify(w.scanInstances),
      clock_trusted: w.clockTrusted ? 1 : 0,
      stored_ms: Math.round(nowMs),
    };
  }

  private writeClosed(w: StoredWindow, nowMs: number): void {
    if (this.upsertWindow.run(this.params(w, nowMs)).changes > 0 && this.outbox)
      this.insertOutbox.run(this.topic, JSON.stringify(this.payloadOf(w)), Math.round(nowMs));
  }
}

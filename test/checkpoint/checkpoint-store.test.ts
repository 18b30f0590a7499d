import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CheckpointStore, type StoredWindow } from "../../src/checkpoint/checkpoint-store.js";
import {
  CHECKPOINT_APPLICATION_ID,
  MIGRATIONS,
  migrate,
  SCHEMA_VERSION,
  schemaVersion,
} from "../../src/checkpoint/schema.js";
import { ConfigError } from "../../src/core/errors.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "proxkit-store-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const window = (id: string, startMs: number, sightings = 3, open = false): StoredWindow => ({
  id,
  protocol: "gaen",
  rollingId: new Uint8Array(16).fill(7),
  startMs,
  endMs: startMs + 10_000,
  sightings,
  minAttenuationDb: 48,
  scanInstances: [
    {
      atMs: startMs,
      typicalAttenuationDb: 50,
      minAttenuationDb: 48,
      secondsSinceLastScan: 120,
      sightings,
    },
  ],
  clockTrusted: !open,
});

const batch = (open: StoredWindow[], closed: StoredWindow[]) => ({
  nowMs: 1000,
  open: open.map((w, slot) => ({ ...w, slot })),
  closed,
  sightings: [],
  minuteCounts: new Map([[0, 5]]),
  health: { heartbeat_ms: 1000 },
});

describe("CheckpointStore", () => {
  it("creates the database with mode 0600, WAL, and every migration", () => {
    const path = join(dir, "cp.sqlite");
    const store = CheckpointStore.open(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(store.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(store.db.pragma("synchronous", { simple: true })).toBe(2); // FULL
    expect(schemaVersion(store.db)).toBe(SCHEMA_VERSION);
    const outbox = store.db
      .prepare("SELECT sql FROM sqlite_master WHERE name = 'outbox'")
      .get() as { sql: string };
    expect(outbox.sql).toBe(
      "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload TEXT NOT NULL, created_ms INTEGER NOT NULL)",
    );
    store.close();
    // Reopening applies nothing twice.
    const again = CheckpointStore.open(path);
    expect(migrate(again.db)).toEqual({ applied: 0, newer: false });
    again.close();
  });

  it("migrates an older database step by step and refuses a newer one", () => {
    const path = join(dir, "old.sqlite");
    const db = new BetterSqlite3(path);
    expect(migrate(db)).toEqual({ applied: MIGRATIONS.length, newer: false });
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => CheckpointStore.open(path)).toThrow(/newer than this proxkit/);
  });

  it("leaves a file that is not a database untouched and says so (bad input)", () => {
    const path = join(dir, "notes.txt");
    writeFileSync(path, "my notes, not a database\n".repeat(100));
    const before = readFileSync(path);
    let error: unknown;
    try {
      CheckpointStore.open(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/not a SQLite database/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("refuses another application's SQLite file, a collector's and an empty one (read-only), leaving each byte-identical", () => {
    const cases: [string, (db: BetterSqlite3.Database) => void, RegExp][] = [
      [
        "app.sqlite",
        (db) => db.exec("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('x')"),
        /holds other tables \(notes\)/,
      ],
      [
        "collector.sqlite",
        (db) => {
          db.exec("CREATE TABLE collected_windows (id TEXT)");
          db.pragma("application_id = 1347570499");
          db.pragma("user_version = 1");
        },
        /collector's database/,
      ],
      [
        "other.sqlite",
        (db) => {
          db.exec("CREATE TABLE t (x)");
          db.pragma("application_id = 42");
          db.pragma("user_version = 3");
        },
        /another application/,
      ],
      [
        "versioned.sqlite",
        (db) => {
          db.exec("CREATE TABLE windows (x)");
          db.pragma("user_version = 1");
        },
        /not the checkpoint's tables/,
      ],
    ];
    for (const [name, make, why] of cases) {
      const path = join(dir, name);
      const db = new BetterSqlite3(path);
      make(db);
      db.close();
      const before = readFileSync(path);
      for (const readonly of [false, true]) {
        let error: unknown;
        try {
          CheckpointStore.open(path, { readonly });
        } catch (e) {
          error = e;
        }
        expect(error, name).toBeInstanceOf(ConfigError);
        expect((error as Error).message, name).toMatch(why);
        expect((error as Error).message, name).toMatch(/left untouched/);
      }
      expect(readFileSync(path).equals(before), name).toBe(true);
      expect(existsSync(`${path}-wal`), name).toBe(false);
    }
    const empty = join(dir, "empty.sqlite");
    new BetterSqlite3(empty).close();
    expect(() => CheckpointStore.open(empty, { readonly: true })).toThrow(/is empty/);
  });

  it("opens a version-1 database (no application id yet), migrates it, and marks it as a checkpoint's", () => {
    const path = join(dir, "v1.sqlite");
    const db = new BetterSqlite3(path);
    db.exec(MIGRATIONS[0]);
    db.pragma("user_version = 1");
    db.close();
    const store = CheckpointStore.open(path);
    expect(schemaVersion(store.db)).toBe(SCHEMA_VERSION);
    expect(store.db.pragma("application_id", { simple: true })).toBe(CHECKPOINT_APPLICATION_ID);
    store.close();
  });

  it("read-only: refuses a newer schema with the versions, and writes nothing", () => {
    const path = join(dir, "newer.sqlite");
    CheckpointStore.open(path).close();
    const db = new BetterSqlite3(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = readFileSync(path);
    expect(() => CheckpointStore.open(path, { readonly: true })).toThrow(
      new RegExp(
        `schema version ${SCHEMA_VERSION + 1}, newer than this proxkit reads \\(${SCHEMA_VERSION}\\)`,
      ),
    );
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("a writer leaves the file self-contained (no WAL) when it closes, so readers need no write access", () => {
    const path = join(dir, "closed.sqlite");
    const store = CheckpointStore.open(path, { outbox: true });
    store.commit(batch([], [window("a", 0)]));
    expect(store.db.pragma("journal_mode", { simple: true })).toBe("wal");
    store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reader = CheckpointStore.open(path, { readonly: true });
    expect(reader.count("windows")).toBe(1);
    reader.close();
    const again = CheckpointStore.open(path);
    expect(again.db.pragma("journal_mode", { simple: true })).toBe("wal");
    again.close();
  });

  it("stores closed windows and their outbox rows together; open windows are rewritten and recovered", () => {
    const store = CheckpointStore.open(join(dir, "cp.sqlite"), {
      site: "s",
      checkpoint: "c",
      outbox: true,
    });
    store.commit(batch([window("a", 0, 2, true)], [window("b", 5)]));
    store.commit(batch([window("a", 0, 9, true)], []));
    expect(store.count("windows")).toBe(1);
    expect(store.count("open_windows")).toBe(1);
    expect(store.count("outbox")).toBe(1);
    const a = store.db.prepare("SELECT sightings FROM open_windows WHERE id = 'a'").get();
    expect(a).toEqual({ sightings: 9 });
    expect(store.windows().map((w) => w.id)).toEqual(["a", "b"]);
    expect(store.recoverOpenWindows(2000)).toBe(1);
    expect(store.count("open_windows")).toBe(0);
    expect(store.count("outbox")).toBe(2);
    const payloads = (
      store.db.prepare("SELECT payload FROM outbox ORDER BY id").all() as {
        payload: string;
      }[]
    ).map((r) => JSON.parse(r.payload));
    expect(payloads.map((p) => p.id)).toEqual(["b", "a"]);
    expect(payloads[1]).toMatchObject({ site: "s", checkpoint: "c", sightings: 9 });
    // Storing the same closed window again does not queue it twice.
    store.commit(batch([], [window("b", 5)]));
    store.commit(batch([], [window("b", 5, 1)]));
    expect(store.count("outbox")).toBe(2);
    store.close();
  });

  it("a failed transaction leaves nothing half written", () => {
    const store = CheckpointStore.open(join(dir, "cp.sqlite"));
    const bad = { ...window("x", 0), protocol: null as never };
    expect(() => store.commit(batch([], [window("ok", 0), bad]))).toThrow();
    expect(store.count("windows")).toBe(0);
    expect(store.count("outbox")).toBe(0);
    store.close();
  });

  it("rejects site or checkpoint names that cannot be MQTT topic levels", () => {
    expect(() => CheckpointStore.open(join(dir, "t.sqlite"), { site: "a/b" })).toThrow(ConfigError);
  });
});

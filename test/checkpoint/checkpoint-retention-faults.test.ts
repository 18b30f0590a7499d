/**
 * Issue 11, items 2 and 8: retention reaches every table that holds a rolling ID, an outbox is
 * written only for a forwarder, and a store that cannot be written (a full disk, simulated with
 * SQLite's `max_page_count`) makes the daemon back off with bounded memory and resume cleanly.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  BUILD_DATE_MS,
  CheckpointDaemon,
  type StoreHealthEvent,
} from "../../src/checkpoint/checkpoint-daemon.js";
import { CheckpointStore } from "../../src/checkpoint/checkpoint-store.js";
import { checkpointStatus } from "../../src/checkpoint/checkpoint-status.js";
import { ManualClock } from "../../src/core/clock.js";
import { SeededRandom } from "../../src/core/random.js";
import { FakeRadio, ManualTimer } from "./fake-radio.js";

const T0 = BUILD_DATE_MS + 86_400_000;
const DAY_MS = 86_400_000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "proxkit-retention-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function rig(options: { outbox: boolean; retentionDays?: number; maxPendingWindows?: number }) {
  const path = join(dir, "cp.sqlite");
  const store = CheckpointStore.open(path, {
    site: "lib",
    checkpoint: "door1",
    synchronous: "normal",
    outbox: options.outbox,
  });
  const wall = new ManualClock(T0);
  let mono = 0;
  const radio = new FakeRadio();
  const timer = new ManualTimer();
  const events: StoreHealthEvent[] = [];
  const daemon = new CheckpointDaemon({
    radio,
    store,
    clock: wall,
    monotonicMs: () => mono,
    every: timer.every,
    research: true,
    retentionDays: options.retentionDays,
    maxPendingWindows: options.maxPendingWindows,
    beacon: { protocol: "gaen" },
    random: new SeededRandom(5),
  });
  daemon.on("store", (e) => events.push(e));
  /**
   * `ms` of a venue in `stepMs` steps: two phones at a time, each with a new rolling ID every
   * 15 minutes (so windows close all the time); the timer ticks every step.
   */
  const run = (ms: number, stepMs = 30_000) => {
    for (let t = 0; t < ms; t += stepMs) {
      wall.advance(stepMs);
      mono += stepMs;
      const slot = Math.floor(wall.nowMs() / 900_000);
      radio.hear(slot * 2, wall.nowMs());
      radio.hear(slot * 2 + 1, wall.nowMs(), -70);
      timer.fire();
    }
  };
  return { path, store, wall, daemon, run, events };
}

/**
 * Each table of the schema and the column that dates its rows; `undefined` for tables that hold
 * no rolling ID, key or sighting time. A new table fails the test until it is classified here.
 */
const DATED: Record<string, string | undefined> = {
  windows: "end_ms",
  open_windows: "end_ms",
  sightings: "at_ms",
  outbox: "min(created_ms, json_extract(payload, '$.endMs'))",
  own_keys: "(day + 1) * 86400000 - 1",
  health_minutes: "minute_ms",
  clock_events: "at_ms",
  health: undefined,
  sqlite_sequence: undefined,
};

describe("retention and the outbox", () => {
  it("after a multi-day run nothing in any table is older than the retention period", async () => {
    const r = rig({ outbox: true, retentionDays: 1 });
    await r.daemon.start();
    r.run(3 * DAY_MS + 2 * 3_600_000);
    expect(r.store.count("windows")).toBeGreaterThan(0);
    const nowMs = r.wall.nowMs();
    // Pruning runs hourly, so an hour's slack.
    const cutoff = nowMs - DAY_MS - 3_600_000;
    const tables = (
      r.store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
        name: string;
      }[]
    ).map((t) => t.name);
    for (const table of tables) {
      expect(Object.keys(DATED), `table ${table} is not classified`).toContain(table);
      const dated = DATED[table];
      if (!dated) continue;
      const { oldest, n } = r.store.db
        .prepare(`SELECT min(${dated}) AS oldest, count(*) AS n FROM ${table}`)
        .get() as { oldest: number | null; n: number };
      // Rows were written and pruned, not never written (the fake advertiser asks for the first
      // day's key only, which retention deletes; the clock never jumps).
      if (["windows", "sightings", "outbox", "health_minutes"].includes(table))
        expect(n, table).toBeGreaterThan(0);
      if (oldest !== null) expect(oldest, table).toBeGreaterThanOrEqual(cutoff);
    }
    // The outbox was never emptied (no forwarder ran) and still holds only a day's windows.
    const outbox = r.store.count("outbox");
    expect(outbox).toBeLessThan(r.daemon.counters.windowsStored / 2);
    await r.daemon.stop();
    r.store.close();
  });

  it("writes no outbox without a forwarder", async () => {
    const r = rig({ outbox: false });
    await r.daemon.start();
    r.run(2 * 3_600_000);
    await r.daemon.stop();
    expect(r.store.count("windows")).toBeGreaterThan(5);
    expect(r.store.count("outbox")).toBe(0);
    r.store.close();
  });
});

describe("a store that cannot be written (a full disk)", () => {
  it("backs off, keeps scanning with bounded memory, reports once, and resumes losing nothing kept", async () => {
    const r = rig({ outbox: false });
    await r.daemon.start();
    r.run(3_600_000);
    const before = r.store.count("windows");
    const pages = r.store.db.pragma("page_count", { simple: true }) as number;
    // The database may not grow: every write that needs a page fails with SQLITE_FULL.
    r.store.db.pragma(`max_page_count = ${pages}`);
    const commit = r.store.commit.bind(r.store);
    let attempts = 0;
    r.store.commit = (batch) => {
      attempts++;
      commit(batch);
    };
    r.run(4 * 3_600_000);
    expect(r.daemon.storeFailing).toBe(true);
    expect(r.events.map((e) => e.state)).toEqual(["failing"]);
    expect(r.events[0]).toMatchObject({ reason: expect.stringMatching(/full/) });
    // Four hours of one tick per 30 s (480 ticks): retries 1, 2, 4 … 60 s apart, not every tick.
    expect(attempts).toBeLessThan(260);
    // Room again: the next retry stores what was kept.
    r.store.db.pragma("max_page_count = 1073741823");
    r.run(2 * 60_000);
    expect(r.daemon.storeFailing).toBe(false);
    expect(r.events.map((e) => e.state)).toEqual(["failing", "recovered"]);
    const recovered = r.events[1] as Extract<StoreHealthEvent, { state: "recovered" }>;
    expect(recovered.windowsDropped).toBe(0);
    expect(recovered.windowsStored).toBeGreaterThan(20);
    // Two phones, an ID each per 15 minutes: every window of the 4 h outage is there.
    expect(r.store.count("windows") - before).toBeGreaterThanOrEqual(4 * 4 * 2 - 2);
    const status = checkpointStatus(r.store, r.wall.nowMs());
    expect(status.storeFailures).toBe(1);
    expect(status.lastStoreFailure?.reason).toMatch(/full/);
    await r.daemon.stop();
    r.store.close();
  });

  it("drops the oldest windows beyond its memory bound and says how many", async () => {
    const r = rig({ outbox: false, maxPendingWindows: 5 });
    await r.daemon.start();
    r.run(600_000);
    r.store.db.pragma(`max_page_count = ${r.store.db.pragma("page_count", { simple: true })}`);
    r.run(3 * 3_600_000);
    r.store.db.pragma("max_page_count = 1073741823");
    r.run(2 * 60_000);
    const recovered = r.events.at(-1) as Extract<StoreHealthEvent, { state: "recovered" }>;
    expect(recovered.state).toBe("recovered");
    expect(recovered.windowsStored).toBeLessThanOrEqual(5);
    expect(recovered.windowsDropped).toBeGreaterThan(10);
    expect(r.daemon.counters.windowsDropped).toBe(recovered.windowsDropped);
    await r.daemon.stop();
    r.store.close();
  });

  it("a stop while the store still fails reports what is lost instead of throwing", async () => {
    const r = rig({ outbox: false });
    await r.daemon.start();
    r.run(600_000);
    r.store.db.pragma(`max_page_count = ${r.store.db.pragma("page_count", { simple: true })}`);
    r.run(3_600_000);
    await expect(r.daemon.stop()).resolves.toBeUndefined();
    expect(r.events.at(-1)).toMatchObject({ state: "lost" });
    r.store.close();
  });
});

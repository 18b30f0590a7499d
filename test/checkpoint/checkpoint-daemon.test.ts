import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BUILD_DATE_MS, CheckpointDaemon } from "../../src/checkpoint/checkpoint-daemon.js";
import { CheckpointStore } from "../../src/checkpoint/checkpoint-store.js";
import { ManualClock } from "../../src/core/clock.js";
import { SeededRandom } from "../../src/core/random.js";
import { FakeRadio, ManualTimer } from "./fake-radio.js";

const T0 = BUILD_DATE_MS + 86_400_000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "proxkit-daemon-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A daemon on a fake radio with a wall clock and a monotonic clock the test moves. */
function rig(
  options: {
    startMs?: number;
    research?: boolean;
    storeAddresses?: boolean;
    beacon?: boolean;
    retentionDays?: number;
    maxScanInstanceMs?: number;
    outbox?: boolean;
  } = {},
) {
  const path = join(dir, "cp.sqlite");
  const store = CheckpointStore.open(path, {
    site: "lib",
    checkpoint: "door1",
    outbox: options.outbox ?? true,
  });
  const wall = new ManualClock(options.startMs ?? T0);
  let mono = 0;
  const radio = new FakeRadio();
  const timer = new ManualTimer();
  const daemon = new CheckpointDaemon({
    radio,
    store,
    clock: wall,
    monotonicMs: () => mono,
    every: timer.every,
    research: options.research,
    storeAddresses: options.storeAddresses,
    retentionDays: options.retentionDays,
    maxScanInstanceMs: options.maxScanInstanceMs,
    random: new SeededRandom(3),
    ...(options.beacon ? { beacon: { protocol: "gaen" as const } } : {}),
  });
  let heard = 0;
  /** Advances both clocks by `ms` in 250 ms steps, hearing `ids` each step, ticking each second. */
  const run = (ms: number, ids: number[]) => {
    for (let t = 0; t < ms; t += 250) {
      wall.advance(250);
      mono += 250;
      for (const id of ids) {
        radio.hear(id, wall.nowMs());
        heard++;
      }
      if (mono % 1000 === 0) timer.fire();
    }
  };
  const jump = (ms: number) => wall.advance(ms);
  const rows = () =>
    store.db
      .prepare(
        "SELECT *, 0 AS open FROM windows UNION ALL SELECT id, protocol, rolling_id, start_ms, end_ms, sightings, min_attenuation_db, scan_instances, clock_trusted, stored_ms, 1 AS open FROM open_windows ORDER BY start_ms",
      )
      .all() as {
      id: string;
      start_ms: number;
      end_ms: number;
      sightings: number;
      open: number;
      clock_trusted: number;
      address?: unknown;
    }[];
  return { path, store, wall, radio, timer, daemon, run, jump, rows, heard: () => heard };
}

describe("CheckpointDaemon", () => {
  it("stores one window per rolling ID, at most 30 minutes, closed ones in the outbox in the same transaction", async () => {
    const r = rig();
    await r.daemon.start();
    r.run(40 * 60_000, [1, 2]);
    const mid = r.rows();
    expect(mid.filter((w) => w.open === 0)).toHaveLength(2);
    expect(mid.filter((w) => w.open === 1)).toHaveLength(2);
    await r.daemon.stop();
    const rows = r.rows();
    expect(rows).toHaveLength(4);
    expect(rows.every((w) => w.open === 0 && w.clock_trusted === 1)).toBe(true);
    expect(rows.reduce((s, w) => s + w.sightings, 0)).toBe(r.heard());
    for (const w of rows) expect(w.end_ms - w.start_ms).toBeLessThan(30 * 60_000);
    const outbox = r.store.db.prepare("SELECT topic, payload FROM outbox").all() as {
      topic: string;
      payload: string;
    }[];
    expect(outbox).toHaveLength(4);
    expect(outbox[0].topic).toBe("proxkit/lib/door1/windows");
    const payload = JSON.parse(outbox[0].payload);
    expect(rows.map((w) => w.id)).toContain(payload.id);
    expect(payload.id).toMatch(/^door1:[0-9a-f]{32}:\d+$/);
    expect(payload.scanInstances[0]).toHaveProperty("typicalAttenuationDb");
    r.store.close();
  });

  it("scans continuously, so its windows hold one-minute scans that add up to the stay (EN API's own on request)", async () => {
    const scansOf = (r: ReturnType<typeof rig>) => {
      const windows = r.store.db
        .prepare("SELECT scan_instances FROM windows ORDER BY start_ms")
        .all() as { scan_instances: string }[];
      return windows.map(
        (w) => JSON.parse(w.scan_instances) as { atMs: number; secondsSinceLastScan: number }[],
      );
    };
    const r = rig();
    await r.daemon.start();
    r.run(40 * 60_000, [1]);
    // The open window, rewritten each second, already holds its finished minutes.
    const open = r.store.db.prepare("SELECT scan_instances FROM open_windows").get() as {
      scan_instances: string;
    };
    expect(JSON.parse(open.scan_instances)).toHaveLength(10);
    await r.daemon.stop();
    const [first, second] = scansOf(r);
    expect(first).toHaveLength(30);
    expect(first.map((s) => s.secondsSinceLastScan)).toEqual([120, ...Array(29).fill(60)]);
    expect(first[1].atMs - first[0].atMs).toBe(60_000);
    expect(second.map((s) => s.secondsSinceLastScan)).toEqual(Array(10).fill(60));
    const payload = JSON.parse(
      (r.store.db.prepare("SELECT payload FROM outbox").get() as { payload: string }).payload,
    );
    expect(payload.scanInstances).toHaveLength(30);
    r.store.close();
    rmSync(r.path);

    // The EN API's rule alone: 40 minutes heard every 250 ms are two scans worth 7 minutes.
    const exact = rig({ maxScanInstanceMs: Number.POSITIVE_INFINITY });
    await exact.daemon.start();
    exact.run(40 * 60_000, [1]);
    await exact.daemon.stop();
    expect(scansOf(exact).map((w) => w.map((s) => s.secondsSinceLastScan))).toEqual([[120], [300]]);
    exact.store.close();
  });

  it("a crash loses at most the sightings since the last flush; the next start closes what was open", async () => {
    const r = rig();
    await r.daemon.start();
    r.run(10 * 60_000 + 750, [7]); // 3 sightings after the last tick
    r.store.close(); // the process dies: no stop(), no flush
    const store = CheckpointStore.open(r.path, { site: "lib", checkpoint: "door1", outbox: true });
    const recovered = store.recoverOpenWindows(r.wall.nowMs());
    expect(recovered).toBe(1);
    const row = store.db.prepare("SELECT sightings FROM windows").get() as { sightings: number };
    expect(store.count("open_windows")).toBe(0);
    expect(r.heard() - row.sightings).toBeLessThanOrEqual(4);
    expect(store.count("outbox")).toBe(1);
    store.close();
  });

  it("a forward clock jump of hours closes the open windows as they stood: nothing duplicated or lost", async () => {
    const r = rig();
    await r.daemon.start();
    r.run(5 * 60_000, [1]);
    r.jump(3 * 3_600_000);
    r.run(5 * 60_000, [1]);
    await r.daemon.stop();
    const rows = r.rows();
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((w) => w.id)).size).toBe(2);
    expect(rows.reduce((s, w) => s + w.sightings, 0)).toBe(r.heard());
    expect(rows[1].start_ms - rows[0].end_ms).toBeGreaterThan(3 * 3_600_000 - 1000);
    // The first window ended before the jump and is trusted; the second began while settling.
    expect(rows.map((w) => w.clock_trusted)).toEqual([1, 0]);
    const events = r.store.db.prepare("SELECT kind, jump_ms FROM clock_events").all() as {
      kind: string;
      jump_ms: number;
    }[];
    expect(events[0].kind).toBe("jump");
    expect(Math.abs(events[0].jump_ms - 3 * 3_600_000)).toBeLessThanOrEqual(250);
    r.store.close();
  });

  it("a backward clock jump of hours neither merges nor loses windows", async () => {
    const r = rig();
    await r.daemon.start();
    r.run(5 * 60_000, [1, 2]);
    r.jump(-4 * 3_600_000);
    r.run(5 * 60_000, [1, 2]);
    await r.daemon.stop();
    const rows = r.rows();
    expect(rows).toHaveLength(4);
    expect(new Set(rows.map((w) => w.id)).size).toBe(4);
    expect(rows.reduce((s, w) => s + w.sightings, 0)).toBe(r.heard());
    for (const w of rows) expect(w.end_ms - w.start_ms).toBeLessThan(6 * 60_000);
    r.store.close();
  });

  it("before the clock is trustworthy, marks what it stores and keeps the beacon off", async () => {
    const r = rig({ startMs: Date.UTC(1970, 0, 1, 0, 1), beacon: true });
    await r.daemon.start();
    expect(r.daemon.clockTrusted).toBe(false);
    r.run(60_000, [1]);
    expect(r.radio.advertiser.starts).toBe(0);
    // NTP sets the clock: a jump to now, then a minute without jumps.
    r.jump(T0 - r.wall.nowMs());
    r.run(30_000, [1]);
    expect(r.daemon.clockTrusted).toBe(false);
    r.run(40_000, [1]);
    expect(r.daemon.clockTrusted).toBe(true);
    await Promise.resolve();
    expect(r.radio.advertiser.starts).toBe(1);
    expect(r.store.count("own_keys")).toBe(1);
    r.run(60_000, [3]);
    await r.daemon.stop();
    const rows = r.rows();
    expect(rows[0].clock_trusted).toBe(0);
    expect(rows.at(-1)!.clock_trusted).toBe(1);
    r.store.close();
  });

  it("does not trust a clock the system says is not synchronised yet", async () => {
    let synced = false;
    const path = join(dir, "sync.sqlite");
    const store = CheckpointStore.open(path);
    const radio = new FakeRadio();
    const timer = new ManualTimer();
    const wall = new ManualClock(T0);
    const daemon = new CheckpointDaemon({
      radio,
      store,
      clock: wall,
      monotonicMs: () => wall.nowMs(),
      every: timer.every,
      clockSynchronized: () => synced,
    });
    await daemon.start();
    expect(daemon.clockTrusted).toBe(false);
    synced = true;
    wall.advance(1000);
    timer.fire();
    expect(daemon.clockTrusted).toBe(true);
    await daemon.stop();
    store.close();
  });

  it("deletes windows, sightings and own keys older than the retention period", async () => {
    const r = rig({ retentionDays: 3 });
    const old = T0 - 5 * 86_400_000;
    const window = (id: string, atMs: number) => ({
      id,
      protocol: "gaen" as const,
      rollingId: new Uint8Array(16),
      startMs: atMs,
      endMs: atMs + 1000,
      sightings: 4,
      minAttenuationDb: 50,
      scanInstances: [],
      clockTrusted: true,
    });
    r.store.commit({
      nowMs: old,
      open: [],
      closed: [window("old", old), window("recent", T0 - 86_400_000)],
      sightings: [],
      minuteCounts: new Map(),
      health: {},
    });
    r.store.saveOwnKey("gaen", Math.floor(old / 86_400_000), new Uint8Array(16), old);
    r.store.saveOwnKey("gaen", Math.floor(T0 / 86_400_000), new Uint8Array(16), T0);
    await r.daemon.start();
    await r.daemon.stop();
    expect(r.rows().map((w) => w.id)).toEqual(["recent"]);
    expect(r.store.count("own_keys")).toBe(1);
    r.store.close();
  });

  it("research mode keeps raw sightings, without the peer's address unless asked", async () => {
    for (const storeAddresses of [false, true]) {
      const r = rig({ research: true, storeAddresses });
      await r.daemon.start();
      r.run(2000, [5]);
      await r.daemon.stop();
      const rows = r.store.db.prepare("SELECT address FROM sightings").all() as {
        address: Buffer | null;
      }[];
      expect(rows).toHaveLength(8);
      expect(rows.every((s) => (s.address === null) === !storeAddresses)).toBe(true);
      r.store.close();
      rmSync(r.path, { force: true });
      rmSync(`${r.path}-wal`, { force: true });
      rmSync(`${r.path}-shm`, { force: true });
    }
  });
});

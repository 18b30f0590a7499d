/** The daemon on the replay radio: a btsnoop capture (btmon's format) becomes stored windows. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SeededRandom } from "../../src/core/random.js";
import { RotatingAdvertiser } from "../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import { DATALINK_MONITOR } from "../../src/radio/replay/btsnoop.js";
import { BtsnoopWriter } from "../../src/radio/replay/btsnoop-writer.js";
import { encodeAdvertisingReportEvent } from "../../src/radio/replay/hci-events.js";
import { CLI } from "../support/dist.js";

const START_MS = Date.UTC(2026, 10, 26, 9);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "proxkit-cp-replay-"));
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("checkpoint --radio replay", () => {
  it("stores the windows of a recorded capture and exits at its end", () => {
    const capture = join(dir, "btmon.log");
    const random = new SeededRandom(8);
    const writer = new BtsnoopWriter(capture, DATALINK_MONITOR);
    const devices = Array.from({ length: 4 }, () => {
      const scheme = schemeFor("gaen");
      const key = scheme.newDayKey(Math.floor(START_MS / 86_400_000), random);
      return new RotatingAdvertiser({ scheme, keyForDay: () => key, random, txPowerDbm: -20 });
    });
    let reports = 0;
    // 40 minutes, each device once a second: more than one 30-minute window and several rotations.
    for (let s = 0; s < 40 * 60; s++) {
      devices.forEach((device, d) => {
        const atMs = START_MS + s * 1000 + d * 100;
        const b = device.at(atMs);
        writer.event(
          atMs,
          encodeAdvertisingReportEvent([{ address: b.address, rssiDbm: -60 - d, data: b.payload }]),
        );
        reports++;
      });
    }
    writer.close();
    const db = join(dir, "replay.sqlite");
    const run = spawnSync(
      process.execPath,
      [
        CLI,
        "checkpoint",
        "--radio",
        "replay",
        "--capture",
        capture,
        "--speed",
        "0",
        "--db",
        db,
        "--checkpoint",
        "pi",
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`stopped: ${reports} sightings`));
    const d = new BetterSqlite3(db, { readonly: true });
    const rows = d
      .prepare("SELECT start_ms, end_ms, sightings, clock_trusted FROM windows ORDER BY start_ms")
      .all() as { start_ms: number; end_ms: number; sightings: number; clock_trusted: number }[];
    const open = (d.prepare("SELECT count(*) AS n FROM open_windows").get() as { n: number }).n;
    d.close();
    expect(open).toBe(0);
    expect(rows.reduce((s, w) => s + w.sightings, 0)).toBe(reports);
    // Recorded times are kept; rotations every 10-20 minutes give 2-4 IDs per device.
    expect(rows[0].start_ms).toBe(START_MS);
    expect(rows.length).toBeGreaterThanOrEqual(8);
    expect(rows.length).toBeLessThanOrEqual(20);
    for (const w of rows) {
      expect(w.end_ms - w.start_ms).toBeLessThan(30 * 60_000);
      expect(w.clock_trusted).toBe(1);
    }
  }, 120_000);
});

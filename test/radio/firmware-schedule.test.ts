import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { classifyAdvertisement, rollingIdOf } from "../../src/ble/classify-advertisement.js";
import { isNonResolvablePrivateAddress } from "../../src/ble/random-address.js";
import { KeyFileError } from "../../src/core/errors.js";
import { toHex } from "../../src/core/hex.js";
import { SeededRandom } from "../../src/core/random.js";
import { KeyStore } from "../../src/protocols/key-store.js";
import { dayOf, MS_PER_DAY, PROTOCOLS } from "../../src/protocols/rolling-id-scheme.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import {
  buildSchedule,
  keyedBroadcastOrder,
  keysForDays,
  rotationSource,
  scheduleToC,
  scheduleToJson,
} from "../../src/radio/firmware-schedule.js";
import { itWith, needs } from "../support/requirements.js";

const FROM = Date.UTC(2026, 10, 27, 9, 30);
const dir = mkdtempSync(join(tmpdir(), "proxkit-firmware-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function storeWithToday(protocol: (typeof PROTOCOLS)[number], seed = 1) {
  const store = new KeyStore(protocol);
  store.ensureCurrent(FROM, new SeededRandom(seed));
  return store;
}

/** A C compiler, for the schedule header's syntax (not installed by .ci/run: a plain skip). */
const HAVE_CC = spawnSync("cc", ["--version"]).status === 0;

describe("firmware schedule", () => {
  it.each(PROTOCOLS)(
    "%s: contiguous rotations, ID and address change together, payload carries the ID",
    (protocol) => {
      const store = storeWithToday(protocol);
      const {
        schedule,
        added,
        store: updated,
      } = buildSchedule({
        store,
        fromMs: FROM + 123,
        days: 3,
        random: new SeededRandom(2),
      });
      expect(schedule.fromMs).toBe(FROM);
      expect(schedule.toMs).toBe(FROM + 3 * MS_PER_DAY);
      expect(added.map((k) => k.day)).toEqual([dayOf(FROM) + 1, dayOf(FROM) + 2, dayOf(FROM) + 3]);
      expect(updated.all()).toHaveLength(4);
      const { entries } = schedule;
      expect(entries[0].startMs).toBe(FROM);
      expect(entries.at(-1)!.endMs).toBe(schedule.toMs);
      for (let i = 1; i < entries.length; i++)
        expect(entries[i].startMs).toBe(entries[i - 1].endMs);
      expect(new Set(entries.map((e) => toHex(e.id))).size).toBe(entries.length);
      expect(new Set(entries.map((e) => toHex(e.address))).size).toBe(entries.length);
      const scheme = schemeFor(protocol);
      for (const e of entries) {
        expect(e.startMs % 1000).toBe(0);
        expect(isNonResolvablePrivateAddress(e.address)).toBe(true);
        const classified = classifyAdvertisement(e.payload);
        expect(classified.protocol).toBe(protocol);
        expect(toHex(rollingIdOf(classified)!)).toBe(toHex(e.id));
        const key = updated.keyForDay(dayOf(e.startMs))!;
        const dayIds = scheme.idsForDay(key).map((id) => toHex(id.id));
        expect(dayIds).toContain(toHex(e.id));
        if (protocol !== "dp3t") {
          // Counter order: the ID of the slot the rotation starts in.
          expect(toHex(e.id)).toBe(toHex(scheme.idAt(key, e.startMs)!.id));
        }
      }
      if (protocol === "gaen") {
        for (const e of entries) {
          const minutes = (e.endMs - e.startMs) / 60_000;
          if (e !== entries[0] && e !== entries.at(-1)) {
            expect(minutes).toBeGreaterThanOrEqual(10 - 1 / 60);
            expect(minutes).toBeLessThanOrEqual(20);
          }
        }
      } else {
        expect(entries).toHaveLength(3 * 96); // 09:30 is a slot boundary
      }
    },
  );

  it("dp3t: the day's EphIDs in the key's order, each once; the same order in every tool", () => {
    const store = storeWithToday("dp3t");
    const key = store.keyForDay(dayOf(FROM))!;
    const order = keyedBroadcastOrder(key, 96);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 96 }, (_, i) => i));
    expect(keyedBroadcastOrder(key, 96)).toEqual(order);
    expect(order).not.toEqual(Array.from({ length: 96 }, (_, i) => i));
    const midnight = dayOf(FROM) * MS_PER_DAY;
    const { schedule } = buildSchedule({
      store,
      fromMs: midnight,
      days: 1,
      random: new SeededRandom(3),
    });
    const ids = schemeFor("dp3t").idsForDay(key);
    expect(schedule.entries.map((e) => toHex(e.id))).toEqual(order.map((i) => toHex(ids[i].id)));
    // A one-off computation (proxkit hci commands) at any time agrees with the schedule.
    const at = midnight + 40 * 900_000 + 5_000;
    const one = rotationSource(store, at, at + 1, new SeededRandom(9)).advertiser.at(at);
    expect(toHex(one.id.id)).toBe(toHex(schedule.entries[40].id));
  });

  it("keys: chained forward for dp3t/bluezone, fresh for gaen, never before the first key", () => {
    const bluezone = storeWithToday("bluezone");
    const today = dayOf(FROM);
    const { keys, added } = keysForDays(bluezone, today, today + 2, new SeededRandom(1));
    const scheme = schemeFor("bluezone");
    const next = scheme.nextDayKey(bluezone.keyForDay(today)!, new SeededRandom(1));
    expect(toHex(keys.get(today + 1)!.key)).toBe(toHex(next.key));
    expect(added).toHaveLength(2);
    expect(keysForDays(bluezone, today, today, new SeededRandom(1)).added).toHaveLength(0);
    const gaen = storeWithToday("gaen");
    const fresh = keysForDays(gaen, today + 5, today + 5, new SeededRandom(4));
    expect(fresh.added.map((k) => k.day)).toEqual([today + 5]);
    expect(fresh.store.keyForDay(today)).toBeDefined();
    expect(() => keysForDays(gaen, today - 1, today, new SeededRandom(1))).toThrow(
      /first key is for 2026-11-27; it has no key for 2026-11-26/,
    );
  });

  const gaenSchedule = () =>
    buildSchedule({
      store: storeWithToday("gaen"),
      fromMs: FROM,
      days: 1,
      random: new SeededRandom(5),
    }).schedule;

  it("JSON and C forms", () => {
    const schedule = gaenSchedule();
    const json = scheduleToJson(schedule);
    expect(json.entries).toHaveLength(schedule.entries.length);
    expect(json.warning).toMatch(/key material.*future GAEN RPIs/);
    expect(json.entries[0]).toMatchObject({ start: "2026-11-27T09:30:00.000Z", slot: 57 });
    const c = scheduleToC(schedule);
    expect(c).toContain("KEY MATERIAL");
    expect(c.match(/^\s+\{ \d+u, \{/gm)).toHaveLength(schedule.entries.length);
  });

  itWith(needs(HAVE_CC, "no C compiler (cc) here"))("the C header compiles and runs", () => {
    const schedule = gaenSchedule();
    const c = scheduleToC(schedule);
    const header = join(dir, "schedule.h");
    writeFileSync(header, c);
    const main = join(dir, "main.c");
    writeFileSync(
      main,
      `#include "schedule.h"\n#include <stdio.h>\nint main(void) { printf("%u %u\\n", (unsigned) PROXKIT_SCHEDULE_COUNT, (unsigned) proxkit_schedule[0].adv_data_len); return 0; }\n`,
    );
    const exe = join(dir, "main");
    const built = spawnSync("cc", ["-Wall", "-Werror", "-o", exe, main], { encoding: "utf8" });
    expect(built.stderr).toBe("");
    const run = spawnSync(exe, { encoding: "utf8" });
    expect(run.stdout.trim()).toBe(`${schedule.entries.length} 31`);
  });
});

describe("key stores far from the days asked for (issue 11)", () => {
  const T = Date.UTC(2026, 0, 5, 9);

  it.each(["dp3t", "bluezone", "gaen"] as const)(
    "%s: a store decades behind is a KeyFileError before any chaining",
    (protocol) => {
      const store = KeyStore.fromJson({
        format: "proxkit-key-store",
        version: 1,
        protocol,
        keys: [{ day: 0, key: "cd".repeat(schemeFor(protocol).keyBytes) }],
      });
      const t0 = performance.now();
      expect(() => keysForDays(store, dayOf(T), dayOf(T) + 1, new SeededRandom(1))).toThrow(
        KeyFileError,
      );
      expect(() => rotationSource(store, T, T + 1, new SeededRandom(1))).toThrow(
        /more than 3650 days/,
      );
      expect(() =>
        buildSchedule({ store, fromMs: T, days: 2, random: new SeededRandom(1) }),
      ).toThrow(/more than 3650 days/);
      expect(performance.now() - t0).toBeLessThan(1000);
    },
  );

  it("days out of any range are a KeyFileError too", () => {
    const store = new KeyStore("dp3t");
    store.ensureCurrent(T, new SeededRandom(1));
    for (const [from, to] of [
      [-1e15, dayOf(T)],
      [dayOf(T), 1e15],
      [Number.NaN, dayOf(T)],
    ])
      expect(() => keysForDays(store, from, to, new SeededRandom(1))).toThrow(KeyFileError);
  });

  it("refuses an unbounded span of days", () => {
    const store = new KeyStore("gaen");
    expect(() => keysForDays(store, 0, 1e9, new SeededRandom(1))).toThrow(/at most 3651/);
  });
});

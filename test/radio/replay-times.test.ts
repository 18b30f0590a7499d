/**
 * Captures whose timestamps jump decades (issue 11, item 7): records stamped before 2010 or
 * after the wall clock are skipped and counted; a forward jump of over a day is kept, counted,
 * and not waited for when replaying at the recorded pace.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CaptureSighting,
  readCaptureSightingsSync,
} from "../../src/radio/replay/capture-sightings.js";
import { ReplayRadio } from "../../src/radio/replay/replay-radio.js";
import { captureAt } from "./capture-at.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-replay-times-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2021, 0, 4, 9);
const YEAR_MS = 365.25 * 86_400_000;

describe("capture times", () => {
  it("skips records before 2010 or over a day past the clock, counts forward jumps", () => {
    const path = captureAt(join(dir, "decoder.btsnoop"), [
      Date.UTC(1970, 0, 1, 0, 0, 5), // a Pi before NTP
      T0,
      T0 + 1000,
      T0 + 30 * YEAR_MS, // decades ahead of the clock
      Date.UTC(2009, 11, 31),
      T0 + 2000,
      T0 + 5 * 86_400_000, // the clock set late: kept
      T0 + 5 * 86_400_000 + 1000,
    ]);
    const seen: CaptureSighting[] = [];
    const counts = readCaptureSightingsSync(path, (s) => seen.push(s));
    expect(counts).toMatchObject({ records: 8, sightings: 5, badTime: 3, timeJumps: 1 });
    expect(seen.map((s) => s.atMs)).toEqual([
      T0,
      T0 + 1000,
      T0 + 2000,
      T0 + 5 * 86_400_000,
      T0 + 5 * 86_400_000 + 1000,
    ]);
  });

  it("paced replay: a jump of years is not waited for; bad records are one warning", async () => {
    const start = Date.UTC(2011, 0, 1);
    const path = captureAt(join(dir, "paced.btsnoop"), [
      Date.UTC(1980, 0, 1),
      start,
      start + 200,
      start + 14 * YEAR_MS, // 2025: plausible, years later
      start + 14 * YEAR_MS + 200,
      Date.now() + 40 * YEAR_MS,
    ]);
    const radio = new ReplayRadio({ capture: path, speed: 1 });
    const seen: number[] = [];
    const warnings: string[] = [];
    radio.scanner.on("sighting", (s) => seen.push(s.atMs));
    radio.scanner.on("error", (e) => warnings.push(e.message));
    const t0 = performance.now();
    await radio.scanner.start();
    await radio.scanner.stopped();
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(seen).toEqual([start, start + 200, start + 14 * YEAR_MS, start + 14 * YEAR_MS + 200]);
    expect(radio.scanner.counts).toMatchObject({ badTime: 2, timeJumps: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped 2 records with an implausible time/);
    expect(warnings[0]).toMatch(/jumped forward by over a day 1 time/);
  });
});

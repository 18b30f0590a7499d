/**
 * A capture whose timestamps jump decades (issue 11, item 7), through the CLI: `scan --radio
 * replay` and a `checkpoint` replay end promptly at the recorded pace, and `checkpoint report`
 * gives bounded output or one typed line.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { captureAt } from "../radio/capture-at.js";
import { runCli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-capture-times-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const YEAR_MS = 365.25 * 86_400_000;
const EARLY = Date.UTC(2011, 0, 1, 9);
const LATE = Date.UTC(2021, 0, 4, 9);
/** Sightings 100 ms apart in 2011 and in 2021, and records stamped 1975 and 40 years ahead. */
const TIMES = [
  Date.UTC(1975, 0, 1),
  ...Array.from({ length: 5 }, (_, i) => EARLY + i * 100),
  Date.now() + 40 * YEAR_MS,
  ...Array.from({ length: 5 }, (_, i) => LATE + i * 100),
];

describe("a capture whose clock jumps decades", () => {
  const capture = captureAt(join(dir, "jumps.btsnoop"), TIMES);

  it("scan --radio replay (recorded pace) ends promptly, with one warning", () => {
    const t0 = Date.now();
    const run = runCli(["scan", "--radio", "replay", "--capture", capture, "-f", "jsonl"]);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(10);
    expect(run.stderr).toMatch(/skipped 2 records with an implausible time/);
    expect(run.stderr).toMatch(/jumped forward by over a day 1 time/);
  }, 60_000);

  it("checkpoint replay ends promptly; report is one typed line or bounded rows", () => {
    const db = join(dir, "jumps.sqlite");
    const t0 = Date.now();
    const run = runCli([
      "checkpoint",
      "--radio",
      "replay",
      "--capture",
      capture,
      "--db",
      db,
      "--checkpoint",
      "pi",
    ]);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/skipped 2 records with an implausible time/);

    // Ten years of hours is more periods than a report lists: one line, exit 2.
    for (const format of ["table", "json"]) {
      const hourly = runCli(["checkpoint", "report", "--db", db, "--format", format]);
      expect(hourly.code, hourly.stderr).toBe(2);
      expect(hourly.stdout).toBe("");
      expect(hourly.stderr.trim().split("\n")).toHaveLength(1);
      expect(hourly.stderr).toMatch(/more than the 10000 it lists/);
    }
    // Ten years of days is within the bound: a row per day, bounded output.
    for (const format of ["table", "json"]) {
      const daily = runCli([
        "checkpoint",
        "report",
        "--db",
        db,
        "--format",
        format,
        "--per",
        "day",
      ]);
      expect(daily.code, daily.stderr).toBe(0);
      expect(daily.stdout.length).toBeLessThan(5_000_000);
      if (format === "json") {
        const report = JSON.parse(daily.stdout);
        // One payload throughout: the same rolling ID, in a window of 2011 and one of 2021.
        expect(report.totals[0]).toMatchObject({ rollingIds: 1, windows: 2 });
        expect(report.buckets.length).toBeLessThanOrEqual(2 * 10_000);
      }
    }
    // Narrowed to the recent day, the hourly report is as usual.
    const narrow = runCli([
      "checkpoint",
      "report",
      "--db",
      db,
      "--format",
      "json",
      "--from",
      "2021-01-04",
      "--to",
      "2021-01-05",
    ]);
    expect(narrow.code, narrow.stderr).toBe(0);
    expect(JSON.parse(narrow.stdout).buckets).toHaveLength(48);
  }, 120_000);
});

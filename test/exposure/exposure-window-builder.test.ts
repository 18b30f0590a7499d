import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import {
  CONTINUOUS_SCAN_PERIOD_MS,
  type ExposureWindow,
  ExposureWindowBuilder,
  parseScanPeriodS,
  SCAN_GAP_MS,
  WINDOW_MAX_MS,
} from "../../src/exposure/exposure-window-builder.js";

function build(
  sightings: readonly [number, number, number][],
  maxScanInstanceMs?: number,
): ExposureWindow[] {
  const windows: ExposureWindow[] = [];
  const builder = new ExposureWindowBuilder((w) => windows.push(w), {
    expectedHandles: 2,
    maxScanInstanceMs,
  });
  for (const [handle, atMs, db] of sightings) builder.push(handle, atMs, db);
  builder.flush();
  return windows;
}

const canonical = (windows: ExposureWindow[]) => windows.map((w) => JSON.stringify(w)).sort();

describe("ExposureWindowBuilder", () => {
  it("merges sightings at most 25.5 s apart into one scan instance (typical = rounded mean, min)", () => {
    const [window] = build([
      [0, 0, 60],
      [0, 10_000, 61],
      [0, 35_500, 64], // 25.5 s after the previous: same scan
      [0, 35_500 + 180_000, 70], // 3 minutes later: a new scan
    ]);
    expect(window.startMs).toBe(0);
    expect(window.scanInstances).toEqual([
      {
        atMs: 0,
        typicalAttenuationDb: 62,
        minAttenuationDb: 60,
        secondsSinceLastScan: 120,
        sightings: 3,
      },
      {
        atMs: 215_500,
        typicalAttenuationDb: 70,
        minAttenuationDb: 70,
        secondsSinceLastScan: 180,
        sightings: 1,
      },
    ]);
  });

  it("caps secondsSinceLastScan at 5 minutes and counts whole minutes", () => {
    const [window] = build([
      [0, 0, 50],
      [0, 119_000, 50],
      [0, 119_000 + 900_000, 50],
    ]);
    expect(window.scanInstances.map((s) => s.secondsSinceLastScan)).toEqual([120, 60, 300]);
  });

  it("starts a new window 30 minutes after the window's first sighting, per key", () => {
    const windows = build([
      [0, 0, 50],
      [1, 1000, 55],
      [0, WINDOW_MAX_MS - 1, 51],
      [0, WINDOW_MAX_MS, 52],
      [1, WINDOW_MAX_MS + 1000, 56],
    ]);
    expect(windows.map((w) => [w.handle, w.startMs, w.scanInstances.length])).toEqual([
      [0, 0, 2],
      [1, 1000, 1],
      [0, WINDOW_MAX_MS, 1],
      [1, WINDOW_MAX_MS + 1000, 1],
    ]);
    // The scan history carries over into the next window of the same key.
    expect(windows[2].scanInstances[0].secondsSinceLastScan).toBe(0);
  });

  /** Time-ordered sightings of 4 keys, consecutive ones at most `maxGapMs` apart. */
  const streamOf = (maxGapMs: number) =>
    fc
      .array(
        fc.tuple(
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 0, max: maxGapMs }),
          fc.integer({ min: 20, max: 110 }),
        ),
        {
          maxLength: 200,
        },
      )
      .map((steps) => {
        // Turn gaps into a time-ordered stream.
        let t = 1_600_000_000_000;
        return steps.map(([handle, gapMs, db]) => {
          t += gapMs;
          return [handle, t, db] as [number, number, number];
        });
      });
  const stream = streamOf(120_000);
  /** Phone-like (sparse) and continuous-scanner-like (dense) streams. */
  const anyStream = fc.oneof(stream, streamOf(5_000));
  /** No limit (the EN API), a limit shorter than the scan gap, and continuous-scanner periods. */
  const maxScanInstance = fc.constantFrom(undefined, 1_000, 20_000, 60_000, 120_000);

  it("gives the same windows however the stream is split, with or without a longest scan instance (property)", () => {
    fc.assert(
      fc.property(
        anyStream,
        fc.array(fc.nat(), { maxLength: 10 }),
        maxScanInstance,
        (sightings, cuts, maxScanInstanceMs) => {
          const expected = canonical(build(sightings, maxScanInstanceMs));
          const windows: ExposureWindow[] = [];
          const builder = new ExposureWindowBuilder((w) => windows.push(w), {
            expectedHandles: 1,
            maxScanInstanceMs,
          });
          const cutSet = new Set(cuts.map((c) => c % (sightings.length + 1)));
          sightings.forEach(([handle, atMs, db], i) => {
            if (cutSet.has(i)) builder.advanceTo(atMs); // the receiver learns time has moved on
            builder.push(handle, atMs, db);
          });
          builder.flush();
          expect(canonical(windows)).toEqual(expected);
        },
      ),
    );
  });

  it("snapshots an open window as flush then emits it (property)", () => {
    fc.assert(
      fc.property(anyStream, maxScanInstance, (sightings, maxScanInstanceMs) => {
        const windows: ExposureWindow[] = [];
        const builder = new ExposureWindowBuilder((w) => windows.push(w), {
          expectedHandles: 1,
          maxScanInstanceMs,
        });
        for (const [handle, atMs, db] of sightings) builder.push(handle, atMs, db);
        const snapshots = [0, 1, 2, 3].map((h) => builder.snapshot(h)).filter((w) => w);
        const emitted = windows.length;
        builder.flush();
        expect(canonical(windows.slice(emitted))).toEqual(canonical(snapshots as ExposureWindow[]));
        expect(windows.length - emitted).toBe(snapshots.length);
      }),
    );
  });

  it("keeps the window invariants (property)", () => {
    fc.assert(
      fc.property(
        anyStream,
        fc.constantFrom(undefined, 30_000, 60_000, 120_000),
        (sightings, maxScanInstanceMs) => {
          const windows = build(sightings, maxScanInstanceMs);
          const total = windows.reduce(
            (sum, w) => sum + w.scanInstances.reduce((s, scan) => s + scan.sightings, 0),
            0,
          );
          expect(total).toBe(sightings.length);
          for (const w of windows) {
            const scans = w.scanInstances;
            expect(scans[0].atMs).toBe(w.startMs);
            for (let i = 0; i < scans.length; i++) {
              expect(scans[i].atMs - w.startMs).toBeLessThan(WINDOW_MAX_MS);
              expect(scans[i].minAttenuationDb).toBeLessThanOrEqual(scans[i].typicalAttenuationDb);
              expect([0, 60, 120, 180, 240, 300]).toContain(scans[i].secondsSinceLastScan);
              if (i > 0) expect(scans[i].atMs - scans[i - 1].atMs).toBeGreaterThan(SCAN_GAP_MS);
              // The scan holds its key's sightings from its start to the next scan's, all
              // within the longest scan instance of its start.
              const endMs = i + 1 < scans.length ? scans[i + 1].atMs : w.startMs + WINDOW_MAX_MS;
              const mine = sightings.filter(
                ([h, atMs]) => h === w.handle && atMs >= scans[i].atMs && atMs < endMs,
              );
              expect(mine).toHaveLength(scans[i].sightings);
              const lastMs = mine[mine.length - 1][1];
              if (maxScanInstanceMs !== undefined)
                expect(lastMs - scans[i].atMs).toBeLessThan(maxScanInstanceMs);
            }
          }
        },
      ),
    );
  });

  /** One sighting of key 0 every `everyMs` from `fromMs` to before `toMs`, at 55 dB. */
  const every = (fromMs: number, toMs: number, everyMs: number) => {
    const out: [number, number, number][] = [];
    for (let t = fromMs; t < toMs; t += everyMs) out.push([0, t, 55]);
    return out;
  };

  it("cuts a continuous scanner's 30 minutes into one-minute scans that add up to the stay", () => {
    const continuous = every(0, WINDOW_MAX_MS, 1000);
    const [exact] = build(continuous);
    expect(exact.scanInstances.map((s) => [s.secondsSinceLastScan, s.sightings])).toEqual([
      [120, 1800],
    ]);
    const [window] = build(continuous, CONTINUOUS_SCAN_PERIOD_MS);
    expect(window.scanInstances).toHaveLength(30);
    expect(window.scanInstances.map((s) => s.atMs)).toEqual(
      Array.from({ length: 30 }, (_, k) => k * 60_000),
    );
    expect(window.scanInstances.map((s) => s.secondsSinceLastScan)).toEqual([
      120,
      ...Array(29).fill(60),
    ]);
    expect(window.scanInstances.every((s) => s.sightings === 60)).toBe(true);
    // The next window of the same key continues the one-minute rhythm.
    const windows = build(every(0, 2 * WINDOW_MAX_MS, 1000), CONTINUOUS_SCAN_PERIOD_MS);
    expect(windows).toHaveLength(2);
    expect(windows[1].scanInstances.map((s) => s.secondsSinceLastScan)).toEqual(Array(30).fill(60));
  });

  it("starts the next scan at the first sighting after the limit (real sightings are not on a grid)", () => {
    const [window] = build(every(0, 200_000, 700), 60_000);
    // Sightings at multiples of 700 ms: the first at or after 60 s is 60.2 s, then 120.4 s, 180.6 s.
    expect(window.scanInstances.map((s) => s.atMs)).toEqual([0, 60_200, 120_400, 180_600]);
    expect(window.scanInstances.map((s) => s.secondsSinceLastScan)).toEqual([120, 60, 60, 60]);
  });

  it("leaves a duty-cycled phone's scans as the EN API defines them", () => {
    // A 4 s scan every 4 minutes (GAEN) and 40 s every 260 s (Bluezone), 200 ms apart.
    for (const [scanMs, periodMs] of [
      [4_000, 240_000],
      [40_000, 260_000],
    ]) {
      const sightings: [number, number, number][] = [];
      for (let start = 0; start < 3 * WINDOW_MAX_MS; start += periodMs)
        sightings.push(...every(start, start + scanMs, 200));
      expect(canonical(build(sightings, CONTINUOUS_SCAN_PERIOD_MS))).toEqual(
        canonical(build(sightings)),
      );
    }
  });

  it("treats a duty cycle with pauses under 25.5 s as continuous: one-minute scans, not its period", () => {
    // 4 s every 10 s (the checkpoint config's example): the EN API merges it all into one scan.
    const sightings: [number, number, number][] = [];
    for (let start = 0; start < WINDOW_MAX_MS; start += 10_000)
      sightings.push(...every(start, start + 4_000, 250));
    expect(build(sightings)[0].scanInstances).toHaveLength(1);
    const seconds = (ms: number) =>
      build(sightings, ms)[0].scanInstances.map((s) => s.secondsSinceLastScan);
    expect(seconds(CONTINUOUS_SCAN_PERIOD_MS)).toEqual([120, ...Array(29).fill(60)]);
    // Its own 10 s period would floor every later scan to 0 whole minutes.
    expect(new Set(seconds(10_000).slice(1))).toEqual(new Set([0]));
  });

  it("refuses a longest scan instance that is not positive", () => {
    for (const bad of [0, -1, Number.NaN])
      expect(() => new ExposureWindowBuilder(() => {}, { maxScanInstanceMs: bad })).toThrow(
        ConfigError,
      );
  });

  it("reads a user's scan period: 0 is the EN API's own, else whole minutes up to 5", () => {
    expect(parseScanPeriodS(0, "--scan-period")).toBe(Number.POSITIVE_INFINITY);
    expect(parseScanPeriodS("60", "--scan-period")).toBe(60_000);
    expect(parseScanPeriodS(300, "--scan-period")).toBe(300_000);
    for (const bad of [30, 90, 360, -60, "1m", "", undefined])
      expect(() => parseScanPeriodS(bad, "--scan-period")).toThrow(
        /--scan-period must be 0 .* or 60, 120, 180, 240, 300 seconds/,
      );
  });
});

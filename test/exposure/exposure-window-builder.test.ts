import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ExposureWindow,
  ExposureWindowBuilder,
  SCAN_GAP_MS,
  WINDOW_MAX_MS,
} from "../../src/exposure/exposure-window-builder.js";

function build(sightings: readonly [number, number, number][]): ExposureWindow[] {
  const windows: ExposureWindow[] = [];
  const builder = new ExposureWindowBuilder((w) => windows.push(w), 2);
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

  const stream = fc
    .array(
      fc.tuple(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 120_000 }),
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

  it("gives the same windows however the stream is split (property)", () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (sightings, cuts) => {
        const expected = canonical(build(sightings));
        const windows: ExposureWindow[] = [];
        const builder = new ExposureWindowBuilder((w) => windows.push(w), 1);
        const cutSet = new Set(cuts.map((c) => c % (sightings.length + 1)));
        sightings.forEach(([handle, atMs, db], i) => {
          if (cutSet.has(i)) builder.advanceTo(atMs); // the receiver learns time has moved on
          builder.push(handle, atMs, db);
        });
        builder.flush();
        expect(canonical(windows)).toEqual(expected);
      }),
    );
  });

  it("keeps the window invariants (property)", () => {
    fc.assert(
      fc.property(stream, (sightings) => {
        const windows = build(sightings);
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
          }
        }
      }),
    );
  });
});

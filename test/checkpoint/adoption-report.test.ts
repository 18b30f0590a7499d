import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adoptionReport,
  linkDeviceTracks,
  MAX_REPORT_PERIODS,
} from "../../src/checkpoint/adoption-report.js";
import { BUILD_DATE_MS, CheckpointDaemon } from "../../src/checkpoint/checkpoint-daemon.js";
import { CheckpointStore, type StoredWindow } from "../../src/checkpoint/checkpoint-store.js";
import { ConfigError } from "../../src/core/errors.js";
import { SeededRandom } from "../../src/core/random.js";
import { KeyStore } from "../../src/protocols/key-store.js";
import type { Protocol } from "../../src/protocols/rolling-id-scheme.js";
import { RotatingAdvertiser } from "../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import { SimMedium } from "../../src/radio/sim/sim-medium.js";
import { SimRadio } from "../../src/radio/sim/sim-radio.js";

const T0 = BUILD_DATE_MS + 9 * 3_600_000;

function w(
  idByte: number,
  startS: number,
  endS: number,
  db = 50,
  protocol: Protocol = "gaen",
): StoredWindow {
  return {
    id: `c:${idByte}:${startS}`,
    protocol,
    rollingId: new Uint8Array(16).fill(idByte),
    startMs: T0 + startS * 1000,
    endMs: T0 + endS * 1000,
    sightings: 10,
    minAttenuationDb: db,
    scanInstances: [
      {
        atMs: T0 + startS * 1000,
        typicalAttenuationDb: db,
        minAttenuationDb: db,
        secondsSinceLastScan: 120,
        sightings: 10,
      },
    ],
    clockTrusted: true,
  };
}

describe("linkDeviceTracks", () => {
  it("links an ID to the next one only when it appears right after, at a like signal level", () => {
    const tracks = linkDeviceTracks([
      w(1, 0, 600), // device A, first ID
      w(2, 600.4, 1500), // device A after rotation
      w(3, 300, 900, 70), // device B, in range meanwhile
      w(4, 960, 1200, 70), // device C arrives a minute after B left: not B
      w(5, 1500.5, 1800, 80), // starts as A's ID ends, but 30 dB weaker: someone else
      w(6, 0, 100, 50, "bluezone"), // another protocol is another device
    ]);
    expect(tracks).toHaveLength(5);
    const a = tracks.find((t) => t.ids === 2)!;
    expect(a.protocol).toBe("gaen");
    expect(a.endMs - a.startMs).toBe(1_500_000);
  });

  it("merges one ID's windows (30-minute pieces) into one presence", () => {
    const tracks = linkDeviceTracks([w(1, 0, 1799), w(1, 1800, 2400)]);
    expect(tracks).toEqual([{ protocol: "gaen", startMs: T0, endMs: T0 + 2_400_000, ids: 1 }]);
  });
});

describe("adoption report on a simulated day with known truth", () => {
  const visitors = 160;
  const appShare = 0.6;
  let dir: string;
  let store: CheckpointStore;
  const truth = {
    carriers: 0,
    byProtocol: { gaen: 0, dp3t: 0, bluezone: 0 } as Record<Protocol, number>,
    dwellS: [] as number[],
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "proxkit-report-"));
    store = CheckpointStore.open(join(dir, "day.sqlite"), { synchronous: "normal" });
    const medium = new SimMedium({ startMs: T0, seed: 11 });
    const scheduler = medium.scheduler;
    const checkpoint = new SimRadio({ medium, x: 0, y: 0 });
    const daemon = new CheckpointDaemon({
      radio: checkpoint,
      store,
      clock: scheduler,
      monotonicMs: () => scheduler.nowMs(),
      earliestTrustedMs: 0,
      every: (everyMs, task) => {
        let live = true;
        const run = () => {
          if (!live) return;
          task();
          scheduler.at(scheduler.nowMs() + everyMs, run);
        };
        scheduler.at(scheduler.nowMs() + everyMs, run);
        return () => {
          live = false;
        };
      },
    });
    await daemon.start();
    const random = new SeededRandom(5);
    const hours = 5;
    for (let v = 0; v < visitors; v++) {
      if (random.float() >= appShare) continue; // no app: invisible to the checkpoint
      const protocol: Protocol = random.float() < 0.75 ? "gaen" : "bluezone";
      const arriveMs = T0 + random.float() * (hours - 1) * 3_600_000;
      const dwellMs = (1 + random.float() * 45) * 60_000;
      truth.carriers++;
      truth.byProtocol[protocol]++;
      truth.dwellS.push(dwellMs / 1000);
      const angle = random.float() * 2 * Math.PI;
      const distanceM = 1 + random.float() * 3;
      const phone = new SimRadio({ medium, x: 1e5, y: 1e5 });
      const keys = new KeyStore(protocol);
      const phoneRandom = random.fork();
      const source = new RotatingAdvertiser({
        scheme: schemeFor(protocol),
        keyForDay: (_day, atMs) => keys.ensureCurrent(atMs, phoneRandom),
        random: phoneRandom,
        txPowerDbm: -8,
      });
      scheduler.at(arriveMs, () => {
        medium.moveNode(phone.node, distanceM * Math.cos(angle), distanceM * Math.sin(angle));
        void phone.advertiser.start({ source, intervalMs: 1000 });
      });
      scheduler.at(arriveMs + dwellMs, () => {
        void phone.advertiser.stop();
        medium.moveNode(phone.node, 1e5, 1e5);
      });
    }
    scheduler.runUntil(T0 + hours * 3_600_000);
    await daemon.stop();
  }, 120_000);

  afterAll(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts distinct app devices, not rolling IDs, and the share of the footfall", () => {
    const report = adoptionReport(store.windows(), { footfall: visitors });
    const all = report.totals.find((t) => t.protocol === "all")!;
    // Rotations happened (IDs outnumber devices), yet devices are counted once.
    expect(all.rollingIds).toBeGreaterThan(1.4 * truth.carriers);
    expect(Math.abs(all.devices - truth.carriers)).toBeLessThanOrEqual(
      Math.ceil(0.1 * truth.carriers),
    );
    expect(Math.abs(all.share! - truth.carriers / visitors)).toBeLessThan(0.06);
    for (const protocol of ["gaen", "bluezone"] as const) {
      const row = report.totals.find((t) => t.protocol === protocol)!;
      expect(Math.abs(row.devices - truth.byProtocol[protocol])).toBeLessThanOrEqual(
        Math.ceil(0.12 * truth.byProtocol[protocol]) + 1,
      );
    }
    // Dwell: the median within a few minutes of the truth's.
    const sorted = [...truth.dwellS].sort((a, b) => a - b);
    const trueMedian = sorted[Math.floor(sorted.length / 2)];
    expect(Math.abs(all.dwell.p50S - trueMedian)).toBeLessThan(300);
    // Per hour: every device arrives in exactly one hour.
    const arrivals = report.buckets
      .filter((b) => b.protocol === "all")
      .reduce((s, b) => s + b.arrivals, 0);
    expect(arrivals).toBe(all.devices);
  });

  it("restricts to a period", () => {
    const full = adoptionReport(store.windows());
    const firstHour = adoptionReport(store.windows(T0, T0 + 3_600_000), {
      fromMs: T0,
      toMs: T0 + 3_600_000,
    });
    expect(firstHour.buckets.filter((b) => b.protocol === "all")).toHaveLength(1);
    expect(firstHour.totals[0].devices).toBeLessThan(full.totals[0].devices);
    expect(firstHour.totals[0].devices).toBe(
      full.buckets.find((b) => b.protocol === "all")!.devices,
    );
  });
});

describe("a stored time range that is huge (issue 11)", () => {
  const DECADES_S = 30 * 365 * 86_400;

  it("refuses to list more periods than MAX_REPORT_PERIODS, at once, with a typed error", () => {
    const windows = [w(1, 0, 60), w(2, DECADES_S, DECADES_S + 60)];
    const t0 = performance.now();
    expect(() => adoptionReport(windows)).toThrow(ConfigError);
    expect(() => adoptionReport(windows)).toThrow(
      new RegExp(
        `would have \\d+ hourly periods .*more than the ${MAX_REPORT_PERIODS}.*narrower period \\(fromMs, toMs\\) or per day`,
      ),
    );
    expect(() => adoptionReport(windows, { per: "day" })).toThrow(/daily periods/);
    expect(performance.now() - t0).toBeLessThan(1000);
    // A range the user narrows is fine.
    const narrowed = adoptionReport(windows, { fromMs: T0, toMs: T0 + 3_600_000 });
    expect(narrowed.totals[0].devices).toBe(1);
    expect(narrowed.buckets).toHaveLength(2);
  });

  it("many devices do not overflow the stack", () => {
    // 200,000 rolling IDs 10 s apart: too far apart to link, so 200,000 devices.
    const windows = Array.from({ length: 200_000 }, (_, i) => {
      const window = w(0, i * 10, i * 10 + 1);
      const rollingId = new Uint8Array(16);
      new DataView(rollingId.buffer).setUint32(0, i);
      return { ...window, id: `c:${i}`, rollingId };
    });
    const report = adoptionReport(windows, { per: "day" });
    expect(report.totals[0].devices).toBe(200_000);
  }, 60_000);
});

/**
 * The `replay.parse` benchmark: a synthetic capture of `reports` LE advertising reports (three
 * protocols, a few hundred devices, btmon's monitor format), then the time to stream it back
 * into sightings, the replay radio's decoding path without its pacing.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { SeededRandom } from "../../core/random.js";
import { PROTOCOLS } from "../../protocols/rolling-id-scheme.js";
import { RotatingAdvertiser } from "../../protocols/rotating-advertiser.js";
import { schemeFor } from "../../protocols/schemes.js";
import { DATALINK_MONITOR } from "./btsnoop.js";
import { BtsnoopWriter } from "./btsnoop-writer.js";
import { readCaptureSightingsSync } from "./capture-sightings.js";
import { encodeAdvertisingReportEvent } from "./hci-events.js";

const START_MS = Date.UTC(2026, 10, 27, 9);
const DEVICES = 300;

export function benchReplayParse(reports: number): {
  sightings: number;
  seconds: number;
  fileBytes: number;
  writeSeconds: number;
  heapGrowthMb: number;
} {
  const dir = mkdtempSync(join(tmpdir(), "proxkit-bench-replay-"));
  try {
    const path = join(dir, "bench.btsnoop");
    const random = new SeededRandom(7);
    // One pre-encoded event per device; only timestamps vary (writing is not what is measured).
    const events = Array.from({ length: DEVICES }, (_, i) => {
      const protocol = PROTOCOLS[i % PROTOCOLS.length];
      const scheme = schemeFor(protocol);
      const key = scheme.newDayKey(Math.floor(START_MS / 86_400_000), random);
      const source = new RotatingAdvertiser({
        scheme,
        keyForDay: () => key,
        random,
        txPowerDbm: -20,
      });
      const b = source.at(START_MS);
      return encodeAdvertisingReportEvent([
        { address: b.address, rssiDbm: -40 - random.int(55), data: b.payload },
      ]);
    });
    const written = performance.now();
    const writer = new BtsnoopWriter(path, DATALINK_MONITOR);
    for (let i = 0; i < reports; i++) writer.event(START_MS + i * 0.25, events[i % DEVICES]);
    writer.close();
    const writeSeconds = (performance.now() - written) / 1000;
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    let sightings = 0;
    const started = performance.now();
    readCaptureSightingsSync(path, () => {
      if (++sightings % 100_000 === 0)
        heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    });
    const seconds = (performance.now() - started) / 1000;
    return {
      sightings,
      seconds,
      fileBytes: statSync(path).size,
      writeSeconds,
      heapGrowthMb: Math.max(0, heapPeak - heapBefore) / 2 ** 20,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Named benchmark workloads. Each prepares its input once, then `step()` does one batch of
 * work and returns how many operations it did (the unit is given by `unit`).
 */
import { spawnSync } from "node:child_process";
import { createCipheriv, hkdfSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runSimulation } from "../../sim/engine/run-simulation.js";
import { benchWorld } from "../../sim/world/bench-world.js";
import { builtInScenario } from "../../sim/world/scenario.js";
import type { World } from "../../sim/world/world.js";
import { encodeBluezoneAdvertisement } from "../../src/ble/bluezone-advertisement.js";
import { classifyAdvertisement } from "../../src/ble/classify-advertisement.js";
import { encodeDp3tAdvertisement } from "../../src/ble/dp3t-advertisement.js";
import { encodeGaenAdvertisement } from "../../src/ble/gaen-advertisement.js";
import { IdTable } from "../../src/core/id-table.js";
import { SeededRandom } from "../../src/core/random.js";
import { CONTINUOUS_SCAN_PERIOD_MS } from "../../src/exposure/exposure-window-builder.js";
import { GaenMatcher, newMatchCounts, type PublishedKey } from "../../src/exposure/gaen-matcher.js";
import { SightingIngest } from "../../src/exposure/sighting-ingest.js";
import { defaultDataRoot } from "../../src/io/data-root.js";
import { deriveBluezoneIds } from "../../src/protocols/bluezone.js";
import { deriveEphIds } from "../../src/protocols/dp3t.js";
import {
  cryptAem,
  deriveRpikAndAemk,
  deriveRpis,
  encodeMetadata,
  GAEN_ROLLING_PERIOD,
  GaenRpiBatchDeriver,
} from "../../src/protocols/gaen.js";
import { benchReplayParse } from "../../src/radio/replay/bench-replay.js";
import { PIPELINE_WORKLOADS } from "./pipeline-workloads.js";
import { probedPeaksMb } from "./rss-probe-mark.js";

export interface Workload {
  readonly name: string;
  readonly describe: string;
  /** What one operation is. */
  readonly unit: string;
  /** A workload this one is compared with in the same run. */
  readonly baseline?: string;
  /** Builds the input; returns the batch function (timed in segments by the runner). */
  setup?(quick: boolean): () => number;
  /**
   * Or: one whole measured run, for workloads whose unit of work is large (a full match).
   * Returns the operations done, the seconds they took and extra figures to report.
   */
  once?(quick: boolean): { ops: number; seconds: number; extra?: Record<string, unknown> };
}

const GAEN_START = 2642976;
const KEYS_PER_BATCH = 1000;

function randomKeys(count: number, bytes: number, seed: number): Uint8Array {
  return new SeededRandom(seed).bytes(count * bytes);
}

/**
 * Sightings through ID interning, calibration, attenuation smoothing and exposure-window
 * accumulation: 10,000 IDs in range, one sighting per ms, so each ID is heard every 10 s;
 * `maxScanInstanceMs` as a continuous scanner sets it (undefined: the EN API's scan instances).
 */
function ingestWorkload(
  name: string,
  describe: string,
  maxScanInstanceMs: number | undefined,
): Workload {
  return {
    name,
    describe,
    unit: "sighting",
    once(quick) {
      const idCount = 10_000;
      const total = quick ? 2_000_000 : 20_000_000;
      const random = new SeededRandom(7);
      const rpis = random.bytes(16 * idCount);
      const rssi = new Int16Array(4096);
      for (let i = 0; i < rssi.length; i++) rssi[i] = -50 - random.int(50);
      const ids = new IdTable(16, idCount);
      let windows = 0;
      const ingest = new SightingIngest({
        expectedIds: idCount,
        maxScanInstanceMs,
        onWindow: () => windows++,
      });
      const t0 = 1_600_000_000_000;
      const rssAt: number[] = [];
      const start = performance.now();
      for (let i = 0; i < total; i++) {
        const atMs = t0 + i;
        const id = (i * 7919) % idCount;
        ingest.push(ids.intern(rpis, 16 * id), atMs, rssi[i & 4095]);
        if ((i & 0xffff) === 0) ingest.advanceTo(atMs);
        if (i === total / 2 || i === total - 1) {
          // Collect garbage first so that the figures show what is retained, not what is pending.
          (globalThis as { gc?: () => void }).gc?.();
          rssAt.push(process.memoryUsage().heapUsed);
        }
      }
      ingest.flush();
      const seconds = (performance.now() - start) / 1000;
      const stateBytes = ingest.stateBytes + ids.byteLength;
      return {
        ops: total,
        seconds,
        extra: {
          ids: idCount,
          windows,
          bytes_per_tracked_id: Math.round(stateBytes / idCount),
          heap_mb_at_half: Math.round((rssAt[0] / 2 ** 20) * 10) / 10,
          heap_mb_at_end: Math.round((rssAt[1] / 2 ** 20) * 10) / 10,
        },
      };
    },
  };
}

export const WORKLOADS: readonly Workload[] = [
  {
    name: "gaen.rpi.derive.straightforward",
    describe:
      "GAEN RPIs the straightforward Node way: hkdfSync + one AES-ECB cipher per key over its 144 blocks (baseline)",
    unit: "RPI",
    setup() {
      const teks = randomKeys(KEYS_PER_BATCH, 16, 1);
      const padded = Buffer.alloc(16 * GAEN_ROLLING_PERIOD);
      for (let j = 0; j < GAEN_ROLLING_PERIOD; j++) {
        padded.write("EN-RPI", 16 * j, "ascii");
        padded.writeUInt32LE(GAEN_START + j, 16 * j + 12);
      }
      let sink = 0;
      return () => {
        for (let k = 0; k < KEYS_PER_BATCH; k++) {
          const rpik = hkdfSync(
            "sha256",
            teks.subarray(16 * k, 16 * k + 16),
            Buffer.alloc(0),
            "EN-RPIK",
            16,
          );
          const cipher = createCipheriv("aes-128-ecb", Buffer.from(rpik), null);
          cipher.setAutoPadding(false);
          sink ^= cipher.update(padded)[0];
        }
        return KEYS_PER_BATCH * GAEN_ROLLING_PERIOD + (sink & 0);
      };
    },
  },
  {
    name: "gaen.rpi.derive",
    describe:
      "GAEN RPIs with proxkit's batch deriver (JS HKDF with precomputed pad states, one AES-ECB call per key)",
    unit: "RPI",
    baseline: "gaen.rpi.derive.straightforward",
    setup() {
      const teks = randomKeys(KEYS_PER_BATCH, 16, 2);
      const starts = new Array<number>(KEYS_PER_BATCH).fill(GAEN_START);
      const out = new Uint8Array(KEYS_PER_BATCH * GAEN_ROLLING_PERIOD * 16);
      const deriver = new GaenRpiBatchDeriver();
      return () => {
        deriver.deriveAll(teks, starts, undefined, out);
        return KEYS_PER_BATCH * GAEN_ROLLING_PERIOD;
      };
    },
  },
  {
    name: "dp3t.day.derive",
    describe: "DP-3T days of 96 EphIDs (HMAC + AES-256-CTR over 96 blocks)",
    unit: "day",
    setup() {
      const keys = randomKeys(KEYS_PER_BATCH, 32, 3);
      return () => {
        for (let k = 0; k < KEYS_PER_BATCH; k++) deriveEphIds(keys.subarray(32 * k, 32 * k + 32));
        return KEYS_PER_BATCH;
      };
    },
  },
  {
    name: "bluezone.day.derive",
    describe: "Bluezone days of 96 IDs (97 SHA-256 each)",
    unit: "day",
    setup() {
      const keys = randomKeys(KEYS_PER_BATCH, 32, 4);
      return () => {
        for (let k = 0; k < KEYS_PER_BATCH; k++)
          deriveBluezoneIds(keys.subarray(32 * k, 32 * k + 32));
        return KEYS_PER_BATCH;
      };
    },
  },
  {
    name: "adv.decode",
    describe: "Classify raw advertising data (a mix of GAEN, DP-3T, Bluezone and unknown frames)",
    unit: "advertisement",
    setup() {
      const random = new SeededRandom(5);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 256; i++) {
        const kind = i % 4;
        if (kind === 0) frames.push(encodeGaenAdvertisement(random.bytes(16), random.bytes(4)));
        else if (kind === 1) frames.push(encodeDp3tAdvertisement(random.bytes(16)));
        else if (kind === 2) frames.push(encodeBluezoneAdvertisement(random.bytes(12)));
        else
          frames.push(
            Uint8Array.of(
              0x02,
              0x01,
              0x06,
              0x0a,
              0xff,
              0x4c,
              0x00,
              ...random.bytes(7),
              0x02,
              0x0a,
              0xf4,
            ),
          );
      }
      let sink = 0;
      return () => {
        for (let i = 0; i < 10_000; i++)
          sink ^= classifyAdvertisement(frames[i & 255]).protocol.length;
        return 10_000 + (sink & 0);
      };
    },
  },
  {
    name: "exposure.match",
    describe:
      "Match 100,000 published GAEN keys (14.4 M RPIs) against 1,000,000 stored sightings, index build included (--quick: 10,000 vs 100,000)",
    unit: "key",
    once(quick) {
      const keyCount = quick ? 10_000 : 100_000;
      const sightingCount = quick ? 100_000 : 1_000_000;
      const random = new SeededRandom(6);
      const keys: PublishedKey[] = Array.from({ length: keyCount }, (_, i) => ({
        keyData: random.bytes(16),
        rollingStartIntervalNumber: GAEN_START + 144 * (i % 14),
        rollingPeriod: 144,
      }));
      // 1% of the sightings are of published keys (20 per matched key), the rest of strangers.
      const columns = {
        count: sightingCount,
        atMs: new Float64Array(sightingCount),
        rssiDbm: new Int16Array(sightingCount).fill(-70),
        rpis: random.bytes(16 * sightingCount),
        aems: random.bytes(4 * sightingCount),
      };
      for (let i = 0; i < sightingCount; i++)
        columns.atMs[i] = (GAEN_START + random.int(14 * 144)) * 600_000;
      const matchedSightings = sightingCount / 100;
      for (let m = 0; m < matchedSightings; m++) {
        const key = keys[Math.floor(m / 20) * 7];
        const j = (m * 7) % 144;
        const { rpik, aemk } = deriveRpikAndAemk(key.keyData);
        const rpi = deriveRpis(rpik, key.rollingStartIntervalNumber + j, 1);
        columns.rpis.set(rpi, 16 * m);
        columns.aems.set(cryptAem(aemk, rpi, encodeMetadata(-10)), 4 * m);
        columns.atMs[m] = (key.rollingStartIntervalNumber + j) * 600_000 + 1000;
      }
      const rssBefore = process.memoryUsage().rss;
      const counts = newMatchCounts();
      const start = performance.now();
      const matches = new GaenMatcher(columns).match(keys, { counts });
      const seconds = (performance.now() - start) / 1000;
      return {
        ops: keyCount,
        seconds,
        extra: {
          keys: keyCount,
          sightings: sightingCount,
          rpis_per_s: Math.round(counts.rpis / seconds),
          matches: matches.length,
          match_s: Math.round(seconds * 1000) / 1000,
          rss_growth_mb: Math.round(((process.memoryUsage().rss - rssBefore) / 2 ** 20) * 10) / 10,
        },
      };
    },
  },
  ingestWorkload(
    "exposure.ingest",
    "Sightings through ID interning, calibration, attenuation smoothing and exposure-window accumulation (10,000 IDs in range, one sighting per ms)",
    undefined,
  ),
  ingestWorkload(
    "exposure.ingest.continuous",
    "exposure.ingest with one-minute scan instances, as a continuous scanner builds them (checkpoint, match --scan-period 60)",
    CONTINUOUS_SCAN_PERIOD_MS,
  ),
  {
    name: "sim.world",
    describe:
      "Simulator world: a plaza of 10,000 agents for one simulated minute, mobility, grid, ground truth and RSSI of every in-range pair each second (--quick: 1,000 agents, 10 s)",
    unit: "rssi-evaluation",
    once(quick) {
      const agents = quick ? 1_000 : 10_000;
      const simSeconds = quick ? 10 : 60;
      const r = benchWorld(agents, simSeconds, { seed: 1 });
      return {
        ops: r.rssiCalls,
        seconds: r.totalMs / 1000,
        extra: {
          agents,
          sim_seconds: simSeconds,
          received: r.received,
          ns_per_rssi: Math.round(r.nsPerRssi),
          bytes_per_agent: Math.round(r.bytesPerAgent),
        },
      };
    },
  },
  {
    name: "replay.parse",
    describe:
      "Replay radio decoding: stream a synthetic btmon capture of 1,000,000 LE advertising reports (300 devices, three protocols) into sightings (--quick: 100,000)",
    unit: "sighting",
    once(quick) {
      const r = benchReplayParse(quick ? 100_000 : 1_000_000);
      return {
        ops: r.sightings,
        seconds: r.seconds,
        extra: {
          file_mb: Math.round(r.fileBytes / 2 ** 20),
          mb_per_s: Math.round(r.fileBytes / 2 ** 20 / r.seconds),
          heap_growth_mb: Math.round(r.heapGrowthMb),
          write_s: Math.round(r.writeSeconds * 10) / 10,
        },
      };
    },
  },
  simRun(
    "sim.run.gaen",
    "Simulated plaza, 10,000 agents for one hour with GAEN scanning (4 s every 210-300 s): world + link layer + decoding; target <= 60 s (--quick: 1,000 agents, 5 min)",
    "gaen",
    [10_000, 3600],
    [1_000, 300],
  ),
  simRun(
    "sim.run.continuous",
    "Simulated plaza, 1,000 agents for one hour scanning continuously: world + link layer + decoding; target <= 120 s (--quick: 200 agents, 5 min)",
    "continuous",
    [1_000, 3600],
    [200, 300],
  ),
  {
    name: "sim.engine.city",
    describe:
      "The city scenario, engine only (runSimulation, ground-truth samples within 5 m and sightings counted), one hour at 10,000, 30,000 and 100,000 agents, each with 0 and 2 worker threads (venue shards), each run in a child process of its own; wall time, CPU time, peak RSS and agent-hours per second each; target for 100,000 agents: <= 4 min and <= 1.5 GB (--quick: 2,000 agents, 5 min; PROXKIT_CITY_SIZES=agents:seconds,... to choose)",
    unit: "agent-hour",
    once(quick) {
      const sizes: [number, number][] = process.env.PROXKIT_CITY_SIZES
        ? process.env.PROXKIT_CITY_SIZES.split(",").map((s) => {
            const [agents, seconds] = s.split(":").map(Number);
            return [agents, seconds || 3600];
          })
        : quick
          ? [[2_000, 300]]
          : [
              [10_000, 3600],
              [30_000, 3600],
              [100_000, 3600],
            ];
      const engine = new URL("../../sim/engine/run-simulation.js", import.meta.url).href;
      const scenarios = new URL("../../sim/world/scenario.js", import.meta.url).href;
      const rows: Record<string, number>[] = [];
      let agentHours = 0;
      let seconds = 0;
      for (const [agents, durationS] of sizes) {
        for (const workers of [0, 2]) {
          // A child per run: its peak RSS is its own.
          const script = `
            import { runSimulation } from ${JSON.stringify(engine)};
            import { builtInScenario } from ${JSON.stringify(scenarios)};
            let samples = 0;
            let sightings = 0;
            const cpu = process.cpuUsage();
            const run = runSimulation(builtInScenario("city"), {
              seed: 1, agents: ${agents}, durationS: ${durationS}, workers: ${workers},
              groundTruth: { rangeM: 5, onSample: () => { samples++; } },
              onSighting: () => { sightings++; },
            });
            const used = process.cpuUsage(cpu);
            console.log(JSON.stringify({
              wallS: run.wallMs / 1000, cpuS: (used.user + used.system) / 1e6,
              rssMb: process.resourceUsage().maxRSS / 1024, samples, sightings,
            }));`;
          const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
            encoding: "utf8",
            maxBuffer: 1 << 20,
          });
          if (child.status !== 0)
            throw new Error(`sim.engine.city ${agents} x ${durationS} s failed: ${child.stderr}`);
          const r = JSON.parse(child.stdout.trim().split("\n").at(-1)!) as {
            wallS: number;
            cpuS: number;
            rssMb: number;
            samples: number;
            sightings: number;
          };
          const hours = (agents * durationS) / 3600;
          agentHours += hours;
          seconds += r.wallS;
          rows.push({
            agents,
            sim_seconds: durationS,
            workers,
            wall_s: Math.round(r.wallS * 10) / 10,
            cpu_s: Math.round(r.cpuS * 10) / 10,
            peak_rss_mb: Math.round(r.rssMb),
            agent_hours_per_s: Math.round(hours / r.wallS),
            sightings: r.sightings,
            truth_samples: r.samples,
            load_avg_1m: Math.round(loadavg()[0] * 10) / 10,
          });
        }
      }
      return { ops: agentHours, seconds, extra: { runs: rows } };
    },
  },
  checkpointBench(
    "checkpoint.ingest",
    "Checkpoint daemon: 2,000 devices in range advertising every 250 ms for 24 simulated hours, windows flushed to SQLite every second; CPU share of one core (target <= 25%) and RSS (target <= 150 MB, flat after the first hour) (--quick: 1 hour)",
    "ingest",
    "sighting",
  ),
  checkpointBench(
    "checkpoint.kill",
    "Checkpoint daemon as a child process SIGKILLed 100 times at random instants of a simulated run (14 days, so that no restart finishes it between kills), then run to the end: corrupt databases and lost closed windows (target 0 and 0) (--quick: 10 kills, 2 days)",
    "kill",
    "kill",
  ),
  {
    name: "evaluate.dataset.all",
    describe:
      "proxkit evaluate --dataset all as a user runs it (the built CLI in a child process): six campaigns read, leave one campaign out, exp05 contacts, the tram; target under 3 min",
    unit: "record",
    once() {
      const here = dirname(fileURLToPath(import.meta.url));
      const cli = join(here, "..", "..", "src", "cli", "main.js");
      const probe = join(here, "rss-probe.js");
      const data = defaultDataRoot();
      if (!existsSync(data))
        throw new Error(`evaluate.dataset.all needs the campaigns in ${data} (../shared/data)`);
      const started = performance.now();
      const child = spawnSync(
        process.execPath,
        [
          "--import",
          probe,
          cli,
          "evaluate",
          "--dataset",
          "all",
          "--format",
          "json",
          "--data",
          data,
        ],
        { encoding: "utf8", maxBuffer: 64 * 2 ** 20 },
      );
      const seconds = (performance.now() - started) / 1000;
      if (child.status !== 0)
        throw new Error(`evaluate --dataset all failed: ${child.stderr.trim()}`);
      const evaluation = JSON.parse(child.stdout) as {
        campaigns: { records: number; role: string }[];
        estimators: { pooled: { estimator: string; decisions: { auc: { value: number } }[] }[] };
      };
      const [peak] = probedPeaksMb(child.stderr);
      const records = evaluation.campaigns
        .filter((c) => c.role === "estimators")
        .reduce((sum, c) => sum + c.records, 0);
      return {
        ops: records,
        seconds,
        extra: {
          wall_s: Math.round(seconds * 10) / 10,
          peak_rss_mb: peak ?? null,
          pooled_auc_2m: Object.fromEntries(
            evaluation.estimators.pooled.map((p) => [
              p.estimator,
              Math.round(p.decisions[0].auc.value * 1000) / 1000,
            ]),
          ),
        },
      };
    },
  },
  ...PIPELINE_WORKLOADS,
  sweepLocal(),
];

/**
 * A whole simulated plaza run: [agents, simulated seconds] for a full and a quick run.
 *
 * Memory: every 10 simulated minutes (and at the end) the heap is collected (the runner passes
 * --expose-gc) and `heapUsed + arrayBuffers` is compared with the figure before the world was
 * built; the peak, minus the ground-truth encounter store at that moment (the run's output: it
 * grows with contacts, not with the crowd), divided by the agent count, is `bytes_per_agent`.
 * It covers the world's typed arrays and caches and every phone's keys, advertiser and current
 * broadcast. The collections are not timed. `state_bytes_per_agent` is the world's own typed
 * arrays and caches without the store; `phone_bytes_per_agent` the link layer's per-phone
 * columns (keys, rotation state, current broadcast, scan schedule); `truth_bytes_per_agent`
 * the store.
 */
function simRun(
  name: string,
  describe: string,
  scanning: "gaen" | "continuous",
  full: [number, number],
  quickRun: [number, number],
): Workload {
  return {
    name,
    describe,
    unit: "sighting",
    once(quick) {
      const [agents, durationS] = quick ? quickRun : full;
      const gc = (globalThis as { gc?: () => void }).gc;
      const heapBytes = () => {
        // Twice: array buffers whose wrappers the first collection freed are released by then.
        gc?.();
        gc?.();
        const m = process.memoryUsage();
        return m.heapUsed + m.arrayBuffers;
      };
      const loadBefore = loadavg()[0];
      const baseBytes = heapBytes();
      let peakBytes = 0;
      let measureMs = 0;
      const measureMemory = (world: World) => {
        const t0 = performance.now();
        const truth = world.groundTruth?.storedBytes ?? 0;
        peakBytes = Math.max(peakBytes, heapBytes() - baseBytes - truth);
        measureMs += performance.now() - t0;
      };
      const cpuBefore = process.cpuUsage();
      const run = runSimulation(
        { ...builtInScenario("plaza"), scanning },
        {
          seed: 1,
          agents,
          durationS,
          onProgress: (fraction, world) => {
            if (Math.round(fraction * (durationS / 60)) % 10 === 0) measureMemory(world);
          },
        },
      );
      const cpu = process.cpuUsage(cpuBefore);
      measureMemory(run.world);
      const seconds = (run.wallMs - measureMs) / 1000;
      const truthBytes = run.world.groundTruth?.storedBytes ?? 0;
      return {
        ops: run.counts.sightings,
        seconds,
        extra: {
          agents,
          sim_seconds: durationS,
          wall_s: Math.round(seconds * 10) / 10,
          cpu_s: Math.round((cpu.user + cpu.system) / 1e5) / 10,
          load_avg_1m: [Math.round(loadBefore * 100) / 100, Math.round(loadavg()[0] * 100) / 100],
          ...run.counts,
          bytes_per_agent: gc ? Math.round(peakBytes / agents) : null,
          state_bytes_per_agent: Math.round((run.world.bytes - truthBytes) / agents),
          phone_bytes_per_agent: Math.round(run.linkBytes / agents),
          truth_bytes_per_agent: Math.round(truthBytes / agents),
        },
      };
    },
  };
}

/** A checkpoint workload, run in a child process (scripts/bench/checkpoint-bench.ts). */
function checkpointBench(
  name: string,
  describe: string,
  mode: "ingest" | "kill",
  unit: string,
): Workload {
  return {
    name,
    describe,
    unit,
    once(quick) {
      const script = join(dirname(fileURLToPath(import.meta.url)), "checkpoint-bench.js");
      const child = spawnSync(
        process.execPath,
        // The heap flags of scripts/proxkit-checkpoint.service: measured as deployed.
        ["--expose-gc", "--max-semi-space-size=2", script, mode, ...(quick ? ["--quick"] : [])],
        { encoding: "utf8", maxBuffer: 16 * 2 ** 20 },
      );
      if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr.trim()}`);
      const { ops, seconds, ...extra } = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
      return { ops, seconds, extra };
    },
  };
}

/**
 * `proxkit sweep` of 40 small runs (classroom, 31 agents, 50 min, 20 seeds on both channels; 12
 * runs of 20 agents and 20 min with --quick) as a user runs it, on one worker and then on three, each into a fresh
 * folder: wall time, runs per second, peak RSS (the sweep process and its run processes, each
 * reporting its own through rss-probe.js) and whether both tables are the same bytes.
 */
function sweepLocal(): Workload {
  return {
    name: "sweep.local",
    describe:
      "proxkit sweep of 40 small runs (classroom, 31 agents, 50 min, 20 seeds x 2 channels) on 1 and on 3 workers: wall time, runs/s, peak RSS, identical tables; target x1.7 (--quick: 12 runs of 20 agents, 20 min)",
    unit: "run",
    once(quick) {
      const here = dirname(fileURLToPath(import.meta.url));
      const cli = join(here, "..", "..", "src", "cli", "main.js");
      const probe = join(here, "rss-probe.js");
      const dir = mkdtempSync(join(tmpdir(), "proxkit-bench-sweep-"));
      const runs = quick ? 12 : 40;
      try {
        const grid = join(dir, "grid.json");
        writeFileSync(
          grid,
          JSON.stringify({
            scenario: "classroom",
            // Small runs, but not so small that starting a run process outweighs the run.
            agents: quick ? 20 : 31,
            durationS: quick ? 1200 : 3000,
            channel: ["v2", "herald-only"],
            seeds: `1-${runs / 2}`,
          }),
        );
        const sweep = (workers: number) => {
          const loadBefore = loadavg()[0];
          const started = performance.now();
          const child = spawnSync(
            process.execPath,
            [
              "--import",
              probe,
              cli,
              "sweep",
              "--grid",
              grid,
              "--out",
              join(dir, `w${workers}`),
              "--workers",
              String(workers),
            ],
            { encoding: "utf8", maxBuffer: 16 * 2 ** 20 },
          );
          const seconds = (performance.now() - started) / 1000;
          if (child.status !== 0) throw new Error(`sweep.local failed: ${child.stderr.trim()}`);
          // One line per process: the sweep's own, then each run process's as it leaves.
          const peaks = probedPeaksMb(child.stderr);
          return {
            seconds,
            load: [Math.round(loadBefore * 100) / 100, Math.round(loadavg()[0] * 100) / 100],
            peakMb: Math.max(...peaks),
            sumMb: Math.round(peaks.reduce((s, v) => s + v, 0)),
          };
        };
        const one = sweep(1);
        const three = sweep(3);
        const identical = readFileSync(join(dir, "w1", "results.parquet")).equals(
          readFileSync(join(dir, "w3", "results.parquet")),
        );
        const r2 = (x: number) => Math.round(x * 100) / 100;
        return {
          ops: runs,
          seconds: three.seconds,
          extra: {
            runs,
            cpus: availableParallelism(),
            one_worker_s: r2(one.seconds),
            three_workers_s: r2(three.seconds),
            speedup: r2(one.seconds / three.seconds),
            runs_per_s_1: r2(runs / one.seconds),
            runs_per_s_3: r2(runs / three.seconds),
            peak_rss_mb_1: one.peakMb,
            peak_rss_mb_3_largest_process: three.peakMb,
            peak_rss_mb_3_all_processes: three.sumMb,
            results_identical: identical,
            load_avg_1m: { one: one.load, three: three.load },
          },
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

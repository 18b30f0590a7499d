/**
 * The checkpoint benchmarks, run in a child process of the bench runner (they are asynchronous
 * and their CPU time and memory must be the daemon's alone). Prints one JSON line.
 *
 *   node checkpoint-bench.js ingest [--quick]   2,000 devices advertising every 250 ms
 *   node checkpoint-bench.js kill [--quick]     SIGKILLs of a child daemon during a simulated run
 */
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { CheckpointDaemon } from "../../src/checkpoint/checkpoint-daemon.js";
import { CheckpointStore } from "../../src/checkpoint/checkpoint-store.js";
import { ManualClock } from "../../src/core/clock.js";
import { SeededRandom } from "../../src/core/random.js";
import type {
  Advertiser,
  AdvertiserEvents,
  Radio,
  RadioSighting,
  RadioState,
  Scanner,
  ScannerEvents,
} from "../../src/radio/radio.js";
import {
  type CheckpointChild,
  simCheckpointArgs,
  spawnCheckpointDaemon,
} from "./checkpoint-child.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = join(HERE, "../../src/cli/main.js");

class NullAdvertiser extends EventEmitter<AdvertiserEvents> implements Advertiser {
  state: RadioState = "idle";
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

class PushScanner extends EventEmitter<ScannerEvents> implements Scanner {
  state: RadioState = "idle";
  async start(): Promise<void> {
    this.state = "running";
  }
  async stop(): Promise<void> {
    this.state = "stopped";
  }
}

/**
 * A crowd that never leaves: `devices` phones, each advertising every `intervalMs` with its own
 * phase, rotating its ID every 10-20 minutes (GAEN) or every 15 minutes on the slot (Bluezone).
 */
class CrowdRadio implements Radio {
  readonly backend = "bench";
  readonly advertiser = new NullAdvertiser();
  readonly scanner = new PushScanner();
  private readonly random = new SeededRandom(9);
  private readonly ids: Uint8Array[] = [];
  private readonly nextRotationMs: Float64Array;
  private readonly phaseMs: Float64Array;
  private readonly rssi: Int8Array;
  private readonly gaen: Uint8Array;
  private readonly aem = new Uint8Array(4);
  private readonly address = new Uint8Array(6);
  private readonly payload = new Uint8Array(31);

  constructor(
    private readonly devices: number,
    private readonly intervalMs: number,
    startMs: number,
  ) {
    this.nextRotationMs = new Float64Array(devices);
    this.phaseMs = new Float64Array(devices);
    this.rssi = new Int8Array(devices);
    this.gaen = new Uint8Array(devices);
    for (let d = 0; d < devices; d++) {
      this.gaen[d] = this.random.float() < 0.8 ? 1 : 0;
      this.ids.push(this.random.bytes(this.gaen[d] ? 16 : 12));
      this.nextRotationMs[d] = startMs + this.random.float() * 20 * 60_000;
      this.phaseMs[d] = this.random.float() * intervalMs;
      this.rssi[d] = -45 - this.random.int(50);
    }
  }

  async stop(): Promise<void> {
    await this.scanner.stop();
  }

  /** Emits every advertisement heard in [fromMs, fromMs + 1000). */
  second(fromMs: number): number {
    let n = 0;
    for (let d = 0; d < this.devices; d++) {
      if (fromMs >= this.nextRotationMs[d]) {
        this.ids[d] = this.random.bytes(this.gaen[d] ? 16 : 12);
        this.nextRotationMs[d] = fromMs + (10 + this.random.float() * 10) * 60_000;
      }
      for (let t = this.phaseMs[d]; t < 1000; t += this.intervalMs) {
        const sighting: RadioSighting = {
          atMs: fromMs + t,
          protocol: this.gaen[d] ? "gaen" : "bluezone",
          id: this.ids[d],
          ...(this.gaen[d] ? { aem: this.aem } : {}),
          rssiDbm: this.rssi[d] + ((n * 7) % 9) - 4,
          channel: 37,
          address: this.address,
          payload: this.payload,
        };
        this.scanner.emit("sighting", sighting);
        n++;
      }
    }
    return n;
  }
}

async function benchIngest(quick: boolean): Promise<Record<string, unknown>> {
  const devices = 2000;
  const hours = quick ? 1 : 24;
  const dir = mkdtempSync(join(tmpdir(), "proxkit-bench-ingest-"));
  try {
    const startMs = Date.UTC(2026, 11, 1);
    const clock = new ManualClock(startMs);
    const radio = new CrowdRadio(devices, 250, startMs);
    // NORMAL: the once-a-second fsync of FULL is I/O wait, not CPU, and would only slow the bench.
    const store = CheckpointStore.open(join(dir, "ingest.sqlite"), { synchronous: "normal" });
    let tick: () => void = () => {};
    const daemon = new CheckpointDaemon({
      radio,
      store,
      clock,
      monotonicMs: () => clock.nowMs(),
      earliestTrustedMs: 0,
      every: (_ms, task) => {
        tick = task;
        return () => {};
      },
    });
    await daemon.start();
    // The generator's own cost, measured alone over 10 simulated minutes, is subtracted.
    const probe = new CrowdRadio(devices, 250, startMs);
    const probeCpu = process.cpuUsage();
    for (let s = 0; s < 600; s++) probe.second(startMs + s * 1000);
    const probeUs = process.cpuUsage(probeCpu);
    const generatorUsPerSimS = (probeUs.user + probeUs.system) / 600;

    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    let sightings = 0;
    const rssMb: number[] = [];
    for (let s = 0; s < hours * 3600; s++) {
      const fromMs = startMs + s * 1000;
      sightings += radio.second(fromMs);
      clock.set(fromMs + 1000);
      tick();
      if ((s + 1) % 900 === 0) {
        (globalThis as { gc?: () => void }).gc?.();
        rssMb.push(Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10);
      }
      if ((s + 1) % 60 === 0) await new Promise((r) => setImmediate(r));
    }
    const cpu = process.cpuUsage(cpu0);
    const wallS = (performance.now() - wall0) / 1000;
    await daemon.stop();
    const windows = store.count("windows");
    store.close();
    const simS = hours * 3600;
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const daemonCpuS = Math.max(0, cpuS - (generatorUsPerSimS * simS) / 1e6);
    // Samples every 15 simulated minutes; "flat" compares everything after the first hour with it.
    const firstHour = rssMb[Math.min(3, rssMb.length - 1)];
    const afterFirst = rssMb.slice(4);
    return {
      ops: sightings,
      seconds: wallS,
      devices,
      sim_hours: hours,
      sightings_per_s: Math.round(sightings / simS),
      cpu_share_of_one_core_pct: Math.round((daemonCpuS / simS) * 1000) / 10,
      cpu_share_with_generator_pct: Math.round((cpuS / simS) * 1000) / 10,
      target_cpu_pct: 25,
      rss_mb_per_hour: rssMb.filter((_, i) => i % 4 === 3),
      rss_mb_max: Math.max(...rssMb),
      rss_mb_at_first_hour: firstHour,
      rss_growth_after_first_hour_mb:
        afterFirst.length > 0 ? Math.round((Math.max(...afterFirst) - firstHour) * 10) / 10 : 0,
      target_rss_mb: 150,
      windows_stored: windows,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function spawnDaemon(db: string, forArg: string): CheckpointChild {
  return spawnCheckpointDaemon(
    CLI,
    simCheckpointArgs(forArg, db, "--site", "bench", "--checkpoint", "kill", "--echo-windows"),
  );
}

async function benchKill(quick: boolean): Promise<Record<string, unknown>> {
  const kills = quick ? 10 : 100;
  // Long enough that no restart finishes the run between kills (a simulated day takes ~11 s
  // here, and every restart resumes it), so all the kills land at random instants of it.
  const forArg = quick ? "2d" : "14d";
  const dir = mkdtempSync(join(tmpdir(), "proxkit-bench-kill-"));
  const db = join(dir, "kill.sqlite");
  const random = new SeededRandom(2026);
  const committed = new Set<string>();
  let corrupt = 0;
  let lost = 0;
  let killed = 0;
  const wall0 = performance.now();
  const check = () => {
    const d = new BetterSqlite3(db);
    try {
      if (d.pragma("integrity_check", { simple: true }) !== "ok") corrupt++;
      const stored = new Set(
        (d.prepare("SELECT id FROM windows").all() as { id: string }[]).map((r) => r.id),
      );
      let missing = 0;
      for (const id of committed) if (!stored.has(id)) missing++;
      return missing;
    } finally {
      d.close();
    }
  };
  try {
    let finished = false;
    while (killed < kills && !finished) {
      const run = spawnDaemon(db, forArg);
      // Random instants: from process start-up (schema creation) to deep in the run.
      await new Promise((r) => setTimeout(r, 150 + random.float() * 1200));
      run.child.kill("SIGKILL");
      const { signal } = await run.exited;
      for (const id of run.committed) committed.add(id);
      if (signal === "SIGKILL") killed++;
      else finished = true;
      lost = Math.max(lost, check());
    }
    // Let the last run finish the simulated day.
    const last = spawnDaemon(db, forArg);
    const { code } = await last.exited;
    for (const id of last.committed) committed.add(id);
    lost = Math.max(lost, check());
    const d = new BetterSqlite3(db, { readonly: true });
    const windows = (d.prepare("SELECT count(*) AS n FROM windows").get() as { n: number }).n;
    const open = (d.prepare("SELECT count(*) AS n FROM open_windows").get() as { n: number }).n;
    d.close();
    return {
      ops: killed,
      seconds: (performance.now() - wall0) / 1000,
      kills: killed,
      simulated: forArg,
      corrupt_databases: corrupt,
      lost_closed_windows: lost,
      windows_stored: windows,
      windows_left_open: open,
      committed_windows_reported: committed.size,
      final_exit_code: code,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [mode, flag] = process.argv.slice(2);
const quick = flag === "--quick";
const result = mode === "kill" ? await benchKill(quick) : await benchIngest(quick);
process.stdout.write(`${JSON.stringify(result)}\n`);

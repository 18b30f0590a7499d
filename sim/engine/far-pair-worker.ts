/**
 * The far-pair worker (`workers: 1` outside a world of venues, `simulate --workers 1`): the far
 * pairs, most of the link layer's work, heard in a worker thread over positions in shared memory,
 * while the main thread hears the near pairs (a query of their own), decodes and delivers; the
 * receptions come back through a ring, receiver by receiver, so the sightings are byte-identical.
 * It is not the default anywhere.
 *
 * Measured (issue 14, 2 cores shared with four other busy sessions, load 6-14, so wall times
 * are noisy; CPU is user + sys over all threads):
 * - `simulate -s plaza -n 1000 -d 2h`: --workers 1 146 s and 143 s wall, 28.9 s and 27.5 s CPU;
 *   --workers 0 --no-thread 131 s and 92 s, 26.2 s and 27.7 s CPU (--workers 0 alone adds the
 *   pipeline thread: 153 s and 171 s, 27.9 s and 28.9 s CPU). No gain.
 * - In process (`runSimulation`, the plaza, 400 s, as its test runs it), one thread against
 *   the worker: continuous scanning, 250 agents, 23.6 s against 15.7 s wall at load 10, then
 *   6.8 s against 6.4 s at load 6, no more CPU; GAEN scanning, 1,500 agents, 8.3 s against
 *   9.6 s, then 1.6 s against 2.0 s.
 * It stays for now: a few per cent when far pairs dominate (continuous scanning), no more CPU,
 * never the default. It is the candidate for removal (this module, about 300 lines, and the
 * `useRemote` branch of `LinkLayer.hear`) if quiet cores confirm it buys nothing.
 */
import { isMainThread, Worker, workerData } from "node:worker_threads";
import { SeededRandom } from "../../src/core/random.js";
import { workerScript } from "../../src/core/worker-thread.js";
import { Agents } from "../world/agents.js";
import type { Rect } from "../world/geometry.js";
import { Propagation, type PropagationParams } from "../world/propagation.js";
import { SpatialGrid } from "../world/spatial-grid.js";
import type { World } from "../world/world.js";
import {
  ADVERTISING_INTERVAL_MS,
  type DeliverFar,
  FirstEvents,
  type ReceptionSink,
} from "./advertising.js";
import { FarPairPass } from "./far-pairs.js";
import { waitFor } from "./worker-wait.js";

/** This module as a worker script (see `workerScript`). */
const workerUrl = () => workerScript(import.meta.url, "sim/engine/far-pair-worker");

// Control words shared with the far-pair worker.
const SEQ = 0;
const PROGRESS = 1;
const DONE = 2;
const WRITTEN = 3;
const CONSUMED = 4;
const MAIN_WAITING = 5;
const WORKER_WAITING = 6;
const READY = 7;
const CONTROL_WORDS = 8;

interface FarWorkerData {
  proxkitFarPairs: true;
  count: number;
  capacity: number;
  ringSize: number;
  carry: Uint8Array;
  deviceIndex: Uint16Array;
  bounds: Rect;
  cellSizeM: number;
  params: PropagationParams;
  rangeM: number;
  dwellMs: number;
  seed: number;
  phaseMs: Float64Array;
  buffers: {
    control: SharedArrayBuffer;
    header: SharedArrayBuffer;
    xM: SharedArrayBuffer;
    yM: SharedArrayBuffer;
    present: SharedArrayBuffer;
    scanA: SharedArrayBuffer;
    scanB: SharedArrayBuffer;
    scanStart: SharedArrayBuffer;
    counts: SharedArrayBuffer;
    farCounts: SharedArrayBuffer;
    receiver: SharedArrayBuffer;
    sender: SharedArrayBuffer;
    atMs: SharedArrayBuffer;
    rssi: SharedArrayBuffer;
    channel: SharedArrayBuffer;
  };
}

/** Typed views over a worker's shared buffers. */
function views(data: FarWorkerData) {
  const b = data.buffers;
  return {
    control: new Int32Array(b.control),
    header: new Float64Array(b.header),
    xM: new Float64Array(b.xM),
    yM: new Float64Array(b.yM),
    present: new Uint8Array(b.present),
    scanA: new Float64Array(b.scanA),
    scanB: new Float64Array(b.scanB),
    scanStart: new Float64Array(b.scanStart),
    counts: new Int32Array(b.counts),
    farCounts: new Float64Array(b.farCounts),
    receiver: new Int32Array(b.receiver),
    sender: new Int32Array(b.sender),
    atMs: new Float64Array(b.atMs),
    rssi: new Int16Array(b.rssi),
    channel: new Uint8Array(b.channel),
  };
}

/** The main thread's side of the far-pair worker. */
export class FarPairWorker {
  readonly maxStepMs: number;
  private readonly worker: Worker;
  private readonly v: ReturnType<typeof views>;
  private readonly world: World;
  private readonly scans: [Float64Array, Float64Array, Float64Array];
  private readonly mask: number;
  private seq = 0;
  private consumed = 0;

  constructor(
    world: World,
    dwellMs: number,
    seed: number,
    phaseMs: Float64Array,
    scans: [Float64Array, Float64Array, Float64Array],
  ) {
    const agents = world.agents;
    const n = agents.count;
    let ringSize = 65_536;
    while (ringSize < 6 * n) ringSize *= 2;
    const sab = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes));
    const data: FarWorkerData = {
      proxkitFarPairs: true,
      count: n,
      capacity: agents.capacity,
      ringSize,
      carry: agents.carry.slice(0, n),
      deviceIndex: agents.deviceIndex.slice(0, n),
      bounds: world.radioGrid.bounds,
      cellSizeM: world.radioGrid.requestedCellSizeM,
      params: world.propagation.params,
      rangeM: world.receptionRangeM,
      dwellMs,
      seed,
      phaseMs,
      buffers: {
        control: sab(4 * CONTROL_WORDS),
        header: sab(8 * 4),
        xM: sab(8 * n),
        yM: sab(8 * n),
        present: sab(n),
        scanA: sab(8 * n),
        scanB: sab(8 * n),
        scanStart: sab(8 * n),
        counts: sab(4 * n),
        farCounts: sab(8 * 3),
        receiver: sab(4 * ringSize),
        sender: sab(4 * ringSize),
        atMs: sab(8 * ringSize),
        rssi: sab(2 * ringSize),
        channel: sab(ringSize),
      },
    };
    this.v = views(data);
    this.world = world;
    this.scans = scans;
    this.mask = ringSize - 1;
    // A pair has at most ceil(step / interval) + 1 events per step: keep a receiver's worst case
    // inside the ring (it is drained receiver by receiver).
    this.maxStepMs = (Math.floor(ringSize / Math.max(1, n)) - 1) * ADVERTISING_INTERVAL_MS;
    // No inherited flags: `--input-type`, `--eval` and the like would stop a file worker.
    this.worker = new Worker(workerUrl(), { workerData: data, execArgv: [] });
    this.worker.unref();
    const started = Date.now();
    while (Atomics.load(this.v.control, READY) === 0) {
      Atomics.wait(this.v.control, READY, 0, 100);
      if (Date.now() - started > 20_000) {
        void this.worker.terminate();
        throw new Error(`link layer: the far-pair worker did not start (${workerUrl().href})`);
      }
    }
  }

  /** Hands the step to the worker. */
  start(step: number, fromMs: number): boolean {
    const { v, world } = this;
    const n = world.agents.count;
    v.xM.set(world.agents.xM.subarray(0, n));
    v.yM.set(world.agents.yM.subarray(0, n));
    v.present.set(world.agents.present.subarray(0, n));
    v.scanA.set(this.scans[0]);
    v.scanB.set(this.scans[1]);
    v.scanStart.set(this.scans[2]);
    v.header[0] = step;
    v.header[1] = fromMs;
    Atomics.store(v.control, PROGRESS, 0);
    this.seq++;
    Atomics.store(v.control, SEQ, this.seq);
    Atomics.notify(v.control, SEQ);
    return true;
  }

  /** The advertisers within range of receiver `r` (waits until the worker is past it). */
  countFor(r: number): number {
    waitFor(this.v.control, PROGRESS, MAIN_WAITING, (p) => p > r);
    return this.v.counts[r];
  }

  /** Delivers the worker's receptions for receiver `r` (call after `countFor(r)`). */
  deliverFor(r: number, deliver: DeliverFar): void {
    const { v, mask } = this;
    const written = Atomics.load(v.control, WRITTEN);
    let c = this.consumed;
    while (c !== written && v.receiver[c & mask] === r) {
      const i = c & mask;
      deliver(r, v.sender[i], v.atMs[i], v.rssi[i], v.channel[i]);
      c = (c + 1) | 0;
    }
    this.consumed = c;
    Atomics.store(v.control, CONSUMED, c);
    if (Atomics.load(v.control, WORKER_WAITING) === 1) {
      Atomics.store(v.control, WORKER_WAITING, 0);
      Atomics.notify(v.control, CONSUMED);
    }
  }

  /** Waits for the end of the step; returns its far-pair counts. */
  finish(): [number, number, number] {
    const seq = this.seq;
    waitFor(this.v.control, DONE, MAIN_WAITING, (d) => d === seq);
    const c = this.v.farCounts;
    return [c[0], c[1], c[2]];
  }

  close(): void {
    Atomics.store(this.v.control, SEQ, -1);
    Atomics.notify(this.v.control, SEQ);
    void this.worker.terminate();
  }
}

/** The worker: hears far pairs step by step over the shared positions. */
function runFarPairWorker(data: FarWorkerData): void {
  const v = views(data);
  const n = data.count;
  const agents = new Agents(data.capacity);
  for (let i = 0; i < n; i++) {
    agents.add({
      xM: 0,
      yM: 0,
      carry: data.carry[i] as 0 | 1 | 2,
      deviceIndex: data.deviceIndex[i],
    });
  }
  const grid = new SpatialGrid(agents, data.bounds, data.cellSizeM);
  const propagation = new Propagation(agents, grid, new SeededRandom(1), data.params);
  const pass = new FarPairPass(agents, grid, propagation, data.rangeM, data.dwellMs, data.seed);
  const firstEvents = new FirstEvents(data.phaseMs);
  const mask = data.ringSize - 1;
  let written = Atomics.load(v.control, WRITTEN);
  const sink: ReceptionSink = {
    push(receiver, sender, eventMs, rssiDbm, channel) {
      waitFor(v.control, CONSUMED, WORKER_WAITING, (c) => ((written - c) | 0) < data.ringSize);
      const i = written & mask;
      v.receiver[i] = receiver;
      v.sender[i] = sender;
      v.atMs[i] = eventMs;
      v.rssi[i] = rssiDbm;
      v.channel[i] = channel;
      written = (written + 1) | 0;
    },
  };
  let seen = 0;
  Atomics.store(v.control, READY, 1);
  Atomics.notify(v.control, READY);
  for (;;) {
    Atomics.wait(v.control, SEQ, seen);
    const seq = Atomics.load(v.control, SEQ);
    if (seq < 0) return;
    if (seq === seen) continue;
    seen = seq;
    agents.xM.set(v.xM);
    agents.yM.set(v.yM);
    agents.present.set(v.present);
    grid.rebuild();
    const step = v.header[0];
    firstEvents.begin(step, v.header[1]);
    for (let r = 0; r < n; r++) {
      const a = v.scanA[r];
      if (Number.isNaN(a)) continue;
      v.counts[r] = pass.run(r, a, v.scanB[r], v.scanStart[r], firstEvents, step, sink);
      Atomics.store(v.control, WRITTEN, written);
      Atomics.store(v.control, PROGRESS, r + 1);
      if (Atomics.load(v.control, MAIN_WAITING) === 1) {
        Atomics.store(v.control, MAIN_WAITING, 0);
        Atomics.notify(v.control, PROGRESS);
      }
    }
    v.farCounts.set(pass.takeCounts());
    Atomics.store(v.control, PROGRESS, n);
    Atomics.store(v.control, DONE, seq);
    Atomics.store(v.control, MAIN_WAITING, 0);
    Atomics.notify(v.control, DONE);
    Atomics.notify(v.control, PROGRESS);
  }
}

if (!isMainThread && (workerData as { proxkitFarPairs?: boolean } | null)?.proxkitFarPairs) {
  runFarPairWorker(workerData as FarWorkerData);
}

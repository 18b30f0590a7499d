/**
 * The venue shards (a city, `simulate --workers N`, by default the CPUs less one for the pipeline
 * thread on big runs): each step the main thread copies the world into shared memory and N
 * worker threads hear the venues' receivers, venue v in thread v mod N, each receiver from
 * streams of its own, so the sightings and their order are the same for any N (and for 0, the
 * venue pass in this thread).
 *
 * Measured (issue 14, 2 cores shared with four other busy sessions, load 9-14, so wall times
 * are noisy; CPU is user + sys over all threads): `simulate -s city -n 20000 -d 30m`, by default
 * (one shard and the pipeline thread) 158 s and 289 s wall, 127 s and 108 s CPU, 0.94-0.95 GB;
 * --workers 0 (the pipeline thread still on) 363 s and 503 s wall, 120 s and 113 s CPU,
 * 0.91 GB. About the same CPU, much less wall time: the shard hears while the main thread
 * samples the ground truth and the pipeline thread matches. It stays, and stays the default.
 */
import { isMainThread, Worker, workerData } from "node:worker_threads";
import { SeededRandom } from "../../src/core/random.js";
import { workerScript } from "../../src/core/worker-thread.js";
import { Agents } from "../world/agents.js";
import type { Rect } from "../world/geometry.js";
import { Propagation, type PropagationParams } from "../world/propagation.js";
import { SpatialGrid } from "../world/spatial-grid.js";
import type { World } from "../world/world.js";
import { type DeliverFar, FirstEvents, type ReceptionSink } from "./advertising.js";
import { ReceiverPass } from "./receiver-pass.js";

/** A worker silent this long is taken as dead (its error event cannot arrive while we block). */
const WORKER_TIMEOUT_MS = 60_000;

/** Blocks until `control[index]` satisfies `done`, flagging `flag` so the other side notifies. */
function waitFor(control: Int32Array, index: number, flag: number, done: (v: number) => boolean) {
  const started = Date.now();
  for (;;) {
    const v = Atomics.load(control, index);
    if (done(v)) return v;
    Atomics.store(control, flag, 1);
    const again = Atomics.load(control, index);
    if (done(again)) return again;
    Atomics.wait(control, index, again, 200);
    if (Date.now() - started > WORKER_TIMEOUT_MS) {
      throw new Error("link layer: a venue shard stopped answering");
    }
  }
}

/** This module as a worker script (see `workerScript`). */
const workerUrl = () => workerScript(import.meta.url, "sim/engine/venue-shards");

// Control words of a venue shard (one block per worker).
const V_SEQ = 0;
const V_PROGRESS = 1;
const V_DONE = 2;
const V_WRITTEN = 3;
const V_CONSUMED = 4;
const V_MAIN_WAITING = 5;
const V_WORKER_WAITING = 6;
const V_READY = 7;
const V_SIGNAL = 8;
const V_CONTROL_WORDS = 16;
const SHARD_RING = 1 << 18;

/**
 * A shard's receptions in one shared buffer, as the columns of a ring of `SHARD_RING` rows (the
 * shard writes, the main thread reads): virtual ms first (8-byte aligned), then receiver, sender,
 * RSSI and channel.
 */
class ReceptionRing {
  static readonly BYTES = 19 * SHARD_RING;
  readonly atMs: Float64Array;
  readonly receiver: Int32Array;
  readonly sender: Int32Array;
  readonly rssi: Int16Array;
  readonly channel: Uint8Array;

  constructor(buffer: SharedArrayBuffer) {
    const n = SHARD_RING;
    this.atMs = new Float64Array(buffer, 0, n);
    this.receiver = new Int32Array(buffer, 8 * n, n);
    this.sender = new Int32Array(buffer, 12 * n, n);
    this.rssi = new Int16Array(buffer, 16 * n, n);
    this.channel = new Uint8Array(buffer, 18 * n, n);
  }
}

interface VenueShardData {
  proxkitVenueShard: true;
  shard: number;
  shards: number;
  count: number;
  capacity: number;
  carry: Uint8Array;
  deviceIndex: Uint16Array;
  bounds: Rect;
  radioCellSizeM: number;
  cellSizeM: number;
  params: PropagationParams;
  pairSeed: number;
  rangeM: number;
  dwellMs: number;
  seed: number;
  phaseMs: Float64Array;
  /** Shared by all shards: the step's world. */
  world: {
    header: SharedArrayBuffer;
    xM: SharedArrayBuffer;
    yM: SharedArrayBuffer;
    vxMps: SharedArrayBuffer;
    vyMps: SharedArrayBuffer;
    present: SharedArrayBuffer;
    venueOf: SharedArrayBuffer;
    scanA: SharedArrayBuffer;
    scanB: SharedArrayBuffer;
    scanStart: SharedArrayBuffer;
  };
  /** This shard's own: control words, counts and its ring of receptions (`ReceptionRing`). */
  own: {
    control: SharedArrayBuffer;
    counts: SharedArrayBuffer;
    ring: SharedArrayBuffer;
  };
}

function shardViews(d: VenueShardData) {
  const w = d.world;
  const o = d.own;
  return {
    header: new Float64Array(w.header),
    xM: new Float64Array(w.xM),
    yM: new Float64Array(w.yM),
    vxMps: new Float32Array(w.vxMps),
    vyMps: new Float32Array(w.vyMps),
    present: new Uint8Array(w.present),
    venueOf: new Int32Array(w.venueOf),
    scanA: new Float64Array(w.scanA),
    scanB: new Float64Array(w.scanB),
    scanStart: new Float64Array(w.scanStart),
    control: new Int32Array(o.control),
    counts: new Float64Array(o.counts),
    ring: new ReceptionRing(o.ring),
  };
}

/**
 * The main thread's side of the venue shards: each step it copies the world's positions into
 * shared memory and wakes every shard; shard k hears the scanning receivers whose venue is k mod
 * N, in index order, into a ring of its own; `deliverFor(r)` takes receiver r's receptions from
 * its shard's ring, so the sightings come out in receiver order whatever N.
 */
export class VenueShards {
  private readonly workers: Worker[] = [];
  private readonly v: ReturnType<typeof shardViews>[] = [];
  private readonly world: World;
  private readonly venueOf: Int32Array;
  private readonly scans: [Float64Array, Float64Array, Float64Array];
  private readonly consumed: number[] = [];
  private seq = 0;

  constructor(
    world: World,
    shards: number,
    dwellMs: number,
    seed: number,
    phaseMs: Float64Array,
    scans: [Float64Array, Float64Array, Float64Array],
  ) {
    const agents = world.agents;
    const n = agents.count;
    this.world = world;
    this.venueOf = world.venueOf!;
    this.scans = scans;
    const sab = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes));
    const shared = {
      header: sab(8 * 4),
      xM: sab(8 * n),
      yM: sab(8 * n),
      vxMps: sab(4 * n),
      vyMps: sab(4 * n),
      present: sab(n),
      venueOf: sab(4 * n),
      scanA: sab(8 * n),
      scanB: sab(8 * n),
      scanStart: sab(8 * n),
    };
    const carry = agents.carry.slice(0, n);
    const deviceIndex = agents.deviceIndex.slice(0, n);
    for (let k = 0; k < shards; k++) {
      const data: VenueShardData = {
        proxkitVenueShard: true,
        shard: k,
        shards,
        count: n,
        capacity: agents.capacity,
        carry,
        deviceIndex,
        bounds: world.radioGrid.bounds,
        radioCellSizeM: world.radioGrid.requestedCellSizeM,
        cellSizeM: world.grid.requestedCellSizeM,
        params: world.propagation.params,
        pairSeed: world.propagation.pairStreamSeed,
        rangeM: world.receptionRangeM,
        dwellMs,
        seed,
        phaseMs,
        world: shared,
        own: {
          control: sab(4 * V_CONTROL_WORDS),
          counts: sab(8 * 3),
          ring: sab(ReceptionRing.BYTES),
        },
      };
      this.v.push(shardViews(data));
      this.consumed.push(0);
      // No inherited flags: `--input-type`, `--eval` and the like would stop a file worker.
      const worker = new Worker(workerUrl(), { workerData: data, execArgv: [] });
      worker.unref();
      this.workers.push(worker);
    }
    const started = Date.now();
    for (const v of this.v) {
      while (Atomics.load(v.control, V_READY) === 0) {
        Atomics.wait(v.control, V_READY, 0, 100);
        if (Date.now() - started > 20_000) {
          this.close();
          throw new Error(`link layer: a venue shard did not start (${workerUrl().href})`);
        }
      }
    }
  }

  /** Hands the step to every shard (each step, scanning or not: their models sweep in step). */
  start(step: number, fromMs: number, atMs: number): void {
    const a = this.world.agents;
    const n = a.count;
    const v0 = this.v[0];
    v0.xM.set(a.xM.subarray(0, n));
    v0.yM.set(a.yM.subarray(0, n));
    v0.vxMps.set(a.vxMps.subarray(0, n));
    v0.vyMps.set(a.vyMps.subarray(0, n));
    v0.present.set(a.present.subarray(0, n));
    v0.venueOf.set(this.venueOf.subarray(0, n));
    v0.scanA.set(this.scans[0]);
    v0.scanB.set(this.scans[1]);
    v0.scanStart.set(this.scans[2]);
    v0.header[0] = step;
    v0.header[1] = fromMs;
    v0.header[2] = atMs;
    this.seq++;
    for (const v of this.v) {
      Atomics.store(v.control, V_PROGRESS, 0);
      Atomics.store(v.control, V_SEQ, this.seq);
      Atomics.notify(v.control, V_SEQ);
    }
  }

  /** Delivers receiver `r`'s receptions, waiting for its shard as needed. */
  deliverFor(r: number, deliver: DeliverFar): void {
    const k = this.venueOf[r] % this.v.length;
    const v = this.v[k];
    const ring = v.ring;
    const mask = SHARD_RING - 1;
    const started = Date.now();
    let c = this.consumed[k];
    for (;;) {
      const signal = Atomics.load(v.control, V_SIGNAL);
      const done = Atomics.load(v.control, V_PROGRESS) > r;
      const written = Atomics.load(v.control, V_WRITTEN);
      while (c !== written && ring.receiver[c & mask] === r) {
        const i = c & mask;
        deliver(r, ring.sender[i], ring.atMs[i], ring.rssi[i], ring.channel[i]);
        c = (c + 1) | 0;
      }
      this.consumed[k] = c;
      Atomics.store(v.control, V_CONSUMED, c);
      if (Atomics.load(v.control, V_WORKER_WAITING) === 1) {
        Atomics.store(v.control, V_WORKER_WAITING, 0);
        Atomics.notify(v.control, V_CONSUMED);
      }
      if (done) return;
      Atomics.store(v.control, V_MAIN_WAITING, 1);
      Atomics.wait(v.control, V_SIGNAL, signal, 200);
      if (Date.now() - started > WORKER_TIMEOUT_MS)
        throw new Error("link layer: a venue shard stopped answering");
    }
  }

  /** Waits for every shard's end of step; returns the step's counts. */
  finish(): [number, number, number] {
    const out: [number, number, number] = [0, 0, 0];
    for (const v of this.v) {
      waitFor(v.control, V_DONE, V_MAIN_WAITING, (d) => d === this.seq);
      out[0] += v.counts[0];
      out[1] += v.counts[1];
      out[2] += v.counts[2];
    }
    return out;
  }

  close(): void {
    for (const v of this.v) {
      Atomics.store(v.control, V_SEQ, -1);
      Atomics.notify(v.control, V_SEQ);
    }
    for (const w of this.workers) void w.terminate();
  }
}

/** A venue shard: hears its venues' scanning receivers step by step over the shared world. */
function runVenueShard(data: VenueShardData): void {
  const v = shardViews(data);
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
  const radioGrid = new SpatialGrid(agents, data.bounds, data.radioCellSizeM);
  const propagation = new Propagation(agents, grid, new SeededRandom(1), data.params);
  propagation.usePairStreams(data.pairSeed);
  propagation.onStep(0);
  const pass = new ReceiverPass(agents, radioGrid, propagation, {
    rangeM: data.rangeM,
    dwellMs: data.dwellMs,
    seed: data.seed,
    nearAside: false,
  });
  const firstEvents = new FirstEvents(data.phaseMs);
  const mask = SHARD_RING - 1;
  let written = 0;
  const signal = () => {
    Atomics.store(v.control, V_WRITTEN, written);
    Atomics.add(v.control, V_SIGNAL, 1);
    if (Atomics.load(v.control, V_MAIN_WAITING) === 1) {
      Atomics.store(v.control, V_MAIN_WAITING, 0);
      Atomics.notify(v.control, V_SIGNAL);
    }
  };
  const ring = v.ring;
  const sink: ReceptionSink = {
    push(receiver, sender, eventMs, rssiDbm, channel) {
      if (((written - Atomics.load(v.control, V_CONSUMED)) | 0) >= SHARD_RING) {
        signal();
        waitFor(v.control, V_CONSUMED, V_WORKER_WAITING, (c) => ((written - c) | 0) < SHARD_RING);
      }
      const i = written & mask;
      ring.receiver[i] = receiver;
      ring.sender[i] = sender;
      ring.atMs[i] = eventMs;
      ring.rssi[i] = rssiDbm;
      ring.channel[i] = channel;
      written = (written + 1) | 0;
    },
  };
  let seen = 0;
  Atomics.store(v.control, V_READY, 1);
  Atomics.notify(v.control, V_READY);
  for (;;) {
    Atomics.wait(v.control, V_SEQ, seen);
    const seq = Atomics.load(v.control, V_SEQ);
    if (seq < 0) return;
    if (seq === seen) continue;
    seen = seq;
    agents.xM.set(v.xM);
    agents.yM.set(v.yM);
    agents.vxMps.set(v.vxMps);
    agents.vyMps.set(v.vyMps);
    agents.present.set(v.present);
    grid.rebuild();
    radioGrid.rebuild();
    propagation.onStep(v.header[2]);
    const step = v.header[0];
    firstEvents.begin(step, v.header[1]);
    for (let r = 0; r < n; r++) {
      const a = v.scanA[r];
      if (Number.isNaN(a) || v.venueOf[r] % data.shards !== data.shard) continue;
      pass.run(r, a, v.scanB[r], v.scanStart[r], firstEvents, step, sink);
      // Rows first, then progress: a main thread that sees the progress sees the rows.
      Atomics.store(v.control, V_WRITTEN, written);
      Atomics.store(v.control, V_PROGRESS, r + 1);
      signal();
    }
    v.counts.set(pass.takeCounts());
    Atomics.store(v.control, V_PROGRESS, n);
    Atomics.store(v.control, V_DONE, seq);
    signal();
    Atomics.notify(v.control, V_DONE);
  }
}

if (!isMainThread && (workerData as { proxkitVenueShard?: boolean } | null)?.proxkitVenueShard) {
  runVenueShard(workerData as VenueShardData);
}

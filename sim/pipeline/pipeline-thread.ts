/**
 * The streaming pipeline's consumer (`RunConsumer`: files, matching, evaluation) in a worker
 * thread, so that on two cores it takes the second core while the engine keeps the first. The
 * simulation's thread packs each step's sightings and close seconds into typed arrays and sends
 * them in batches (transferred, not copied), with the index cases' keys at every matching chunk's
 * end; the worker replays them into a `RunConsumer` in the same order, so the run's files and
 * figures are the same as in one thread. At most `MAX_BATCHES_AHEAD` batches wait: the engine
 * blocks on a shared counter when the worker falls behind, so memory stays bounded.
 *
 * The end of the run is synchronous for the caller: the worker scores, evaluates and writes, and
 * its answer is read with `receiveMessageOnPort` while waiting on the shared counter.
 */
import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  parentPort,
  receiveMessageOnPort,
  Worker,
  workerData,
} from "node:worker_threads";
import { ConfigError } from "../../src/core/errors.js";
import { type NumberColumn, withCapacity } from "../../src/core/typed-arrays.js";
import { waitOnCounter, workerScript } from "../../src/core/worker-thread.js";
import type { RiskPreset } from "../../src/exposure/risk-preset.js";
import { GAEN_INTERVAL_MS } from "../../src/protocols/gaen.js";
import type { DayKey, Protocol } from "../../src/protocols/rolling-id-scheme.js";
import type { Sighting } from "../../src/signal/sighting.js";
import type { RunEvaluation } from "../evaluation/evaluate-run.js";
import type { ReportRun } from "../report/report-input.js";
import { type ClosePairColumns, closePairLookup } from "../world/ground-truth.js";
import { PROTOCOL_NAMES } from "../world/scenario.js";
import { RunConsumer, type RunConsumerInit, runSummary } from "./run-consumer.js";
import type {
  PublishedKeySet,
  RssiDistanceSample,
  RunCeiling,
  RunMeta,
  TruthAgent,
} from "./run-data.js";

/** Steps per batch, and batches the engine may run ahead of the worker. */
const STEPS_PER_BATCH = 20;
const MAX_BATCHES_AHEAD = 8;
/** Shared counters: [0] batches the worker has finished; [1] bumped with every answer. */
const DONE = 0;
const ANSWERED = 1;

const PROTOCOL_CODE: Record<Protocol, number> = { gaen: 0, dp3t: 1, bluezone: 2 };

/**
 * A growable typed column for one batch. It starts at the size its column reached in the batch
 * before (`sizeHint`), so a batch seldom regrows, and `take` hands over its buffer (the view of
 * its first `n` entries) rather than a copy: the buffer is transferred to the worker.
 */
class Col<T extends NumberColumn> {
  data: T;
  n = 0;
  constructor(make: (n: number) => T, sizeHint = 0) {
    this.data = make(Math.max(4096, Math.ceil(sizeHint * 1.125)));
  }
  push(v: number): void {
    if (this.n === this.data.length) this.data = withCapacity(this.data, this.n + 1);
    this.data[this.n++] = v;
  }
  bytes(src: Uint8Array): void {
    if (this.n + src.length > this.data.length)
      this.data = withCapacity(this.data, this.n + src.length);
    const data = this.data;
    // Byte by byte: `set` costs more than the copy for an ID's 16 bytes.
    for (let b = 0; b < src.length; b++) data[this.n + b] = src[b];
    this.n += src.length;
  }
  take(): T {
    return this.data.subarray(0, this.n) as T;
  }
}

/** One batch of steps: sightings, close seconds, step ends (with keys at chunk ends). */
interface Batch {
  type: "batch";
  receiver: Int32Array;
  sender: Int32Array;
  atMs: Float64Array;
  rssi: Int16Array;
  /** Protocol code; bit 4: has an AEM; bit 5: has a TX power; bit 6: has a channel. */
  flags: Uint8Array;
  tx: Int16Array;
  channel: Uint8Array;
  idLength: Uint8Array;
  ids: Uint8Array;
  aems: Uint8Array;
  /** Close spans, four values each: a, b, from and to (s). */
  closes: Int32Array;
  /** Per step: sightings and closes so far in the batch, and its time. */
  stepSightings: Int32Array;
  stepCloses: Int32Array;
  stepAtMs: Float64Array;
  /** Keys of the index cases at some steps: step index → [agent, day, key bytes...]. */
  keys: {
    step: number;
    agents: Int32Array;
    days: Int32Array;
    bytes: Uint8Array;
    lengths: Uint8Array;
  }[];
}

interface StartMessage {
  type: "start";
  meta: RunMeta;
  indexCases: readonly number[];
  protocolIndex: Uint8Array;
  detectors: readonly RiskPreset[];
  out?: { dir: string; format: "parquet" | "jsonl"; writerThread?: boolean };
  matchChunkMs?: number;
}

interface EndMessage {
  type: "end";
  keys: Batch["keys"][number];
  ceiling: RunCeiling;
  agents: readonly TruthAgent[];
  published: PublishedKeySet;
  /** The world's truth: every close pair's close seconds and minimum distance, sorted by key. */
  truth: ClosePairColumns;
  sightingCount: number;
  rssiVsDistance: readonly RssiDistanceSample[];
}

export interface ThreadedResult {
  readonly evaluation: RunEvaluation;
  readonly timeline: ReportRun["timeline"];
  readonly timings: { detectMs: number; ceilingMs: number; evaluateMs: number };
}

/** The simulation thread's side: packs the run's events and hands them to the worker. */
export class ThreadedConsumer {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private sent = 0;
  private readonly indexCases: readonly number[];
  private readonly chunkMs: number;
  private chunkEndMs: number;
  private batch = this.newBatch();
  private steps = 0;
  private failed: Error | undefined;

  constructor(
    init: RunConsumerInit,
    private readonly onMatchProgress?: (f: number) => void,
  ) {
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.indexCases = init.indexCases;
    this.chunkMs = init.matchChunkMs ?? GAEN_INTERVAL_MS;
    this.chunkEndMs = init.meta.startMs + this.chunkMs;
    const protocolIndex = new Uint8Array(init.meta.agents);
    for (let i = 0; i < init.meta.agents; i++)
      protocolIndex[i] = PROTOCOL_NAMES.indexOf(init.protocolOf(i));
    this.worker = new Worker(workerScript(import.meta.url, "sim/pipeline/pipeline-thread"), {
      workerData: { proxkitPipeline: true, port: channel.port2, control: this.control },
      transferList: [channel.port2],
      execArgv: [],
    });
    this.worker.unref();
    const start: StartMessage = {
      type: "start",
      meta: init.meta,
      indexCases: init.indexCases,
      protocolIndex,
      detectors: init.detectors,
      ...(init.out === undefined ? {} : { out: init.out }),
      ...(init.matchChunkMs === undefined ? {} : { matchChunkMs: init.matchChunkMs }),
    };
    this.worker.postMessage(start);
  }

  /** A batch's columns, sized for as many sightings, ID and AEM bytes and close values. */
  private newBatch(sightings = 0, ids = 0, aems = 0, closes = 0) {
    return {
      receiver: new Col((n) => new Int32Array(n), sightings),
      sender: new Col((n) => new Int32Array(n), sightings),
      atMs: new Col((n) => new Float64Array(n), sightings),
      rssi: new Col((n) => new Int16Array(n), sightings),
      flags: new Col((n) => new Uint8Array(n), sightings),
      tx: new Col((n) => new Int16Array(n), sightings),
      channel: new Col((n) => new Uint8Array(n), sightings),
      idLength: new Col((n) => new Uint8Array(n), sightings),
      ids: new Col((n) => new Uint8Array(n), ids),
      aems: new Col((n) => new Uint8Array(n), aems),
      closes: new Col((n) => new Int32Array(n), closes),
      stepSightings: new Col((n) => new Int32Array(n)),
      stepCloses: new Col((n) => new Int32Array(n)),
      stepAtMs: new Col((n) => new Float64Array(n)),
      keys: [] as Batch["keys"],
    };
  }

  sighting(receiver: number, s: Sighting, sender: number): void {
    const b = this.batch;
    b.receiver.push(receiver);
    b.sender.push(sender);
    b.atMs.push(s.atMs);
    b.rssi.push(s.rssiDbm);
    b.flags.push(
      PROTOCOL_CODE[s.protocol] |
        (s.aem ? 16 : 0) |
        (s.txPowerDbm !== undefined ? 32 : 0) |
        (s.channel !== undefined ? 64 : 0),
    );
    b.tx.push(s.txPowerDbm ?? 0);
    b.channel.push(s.channel ?? 0);
    b.idLength.push(s.id.length);
    b.ids.bytes(s.id);
    if (s.aem) b.aems.bytes(s.aem);
  }

  close(a: number, b: number, fromS: number, toS: number): void {
    const c = this.batch.closes;
    c.push(a);
    c.push(b);
    c.push(fromS);
    c.push(toS);
  }

  stepEnd(atMs: number, keysOf: (agent: number) => readonly DayKey[]): void {
    const b = this.batch;
    b.stepSightings.push(b.receiver.n);
    b.stepCloses.push(b.closes.n);
    b.stepAtMs.push(atMs);
    // The detector matches at these ends, with the keys as the phones hold them then.
    if (atMs >= this.chunkEndMs) {
      b.keys.push({ step: b.stepAtMs.n - 1, ...this.keySnapshot(keysOf) });
      while (this.chunkEndMs <= atMs) this.chunkEndMs += this.chunkMs;
    }
    if (++this.steps % STEPS_PER_BATCH === 0) this.flush();
  }

  /** Scores, evaluates and writes in the worker; returns what the report and summary need. */
  finish(
    keysOf: (agent: number) => readonly DayKey[],
    run: {
      readonly sightingCount: number;
      readonly rssiVsDistance: readonly RssiDistanceSample[];
      readonly agents: readonly TruthAgent[];
      readonly published: PublishedKeySet;
      readonly groundTruth: { takeClosePairs(): ClosePairColumns };
    },
    ceiling: RunCeiling,
  ): ThreadedResult {
    this.flush();
    // The truth's own sorted columns, handed over without a copy: millions of pairs at the run's
    // peak of memory, while the worker evaluates (the main thread needs them no more).
    const truth = run.groundTruth.takeClosePairs();
    const end: EndMessage = {
      type: "end",
      keys: { step: -1, ...this.keySnapshot(keysOf) },
      ceiling,
      agents: run.agents,
      published: run.published,
      truth,
      sightingCount: run.sightingCount,
      rssiVsDistance: run.rssiVsDistance,
    };
    this.worker.postMessage(end, [
      truth.keys.buffer as ArrayBuffer,
      truth.closeS.buffer as ArrayBuffer,
      truth.minDistanceM.buffer as ArrayBuffer,
    ]);
    for (;;) {
      const seen = Atomics.load(this.control, ANSWERED);
      for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
        const message = m.message as
          | { type: "progress"; fraction: number }
          | { type: "error"; message: string; code?: string; config?: boolean }
          | ({ type: "done" } & ThreadedResult);
        if (message.type === "progress") this.onMatchProgress?.(message.fraction);
        else if (message.type === "error") {
          void this.worker.terminate();
          throw message.config
            ? new ConfigError(message.message, message.code ?? "E_RUN")
            : new Error(message.message);
        } else {
          void this.worker.terminate();
          return message;
        }
      }
      Atomics.wait(this.control, ANSWERED, seen, 1000);
    }
  }

  abort(): void {
    this.worker.postMessage({ type: "abort" });
  }

  private keySnapshot(keysOf: (agent: number) => readonly DayKey[]) {
    const agents: number[] = [];
    const days: number[] = [];
    const lengths: number[] = [];
    const bytes: number[] = [];
    for (const i of this.indexCases)
      for (const k of keysOf(i)) {
        agents.push(i);
        days.push(k.day);
        lengths.push(k.key.length);
        for (const x of k.key) bytes.push(x);
      }
    return {
      agents: Int32Array.from(agents),
      days: Int32Array.from(days),
      bytes: Uint8Array.from(bytes),
      lengths: Uint8Array.from(lengths),
    };
  }

  private flush(): void {
    const b = this.batch;
    if (b.stepAtMs.n === 0) return;
    this.checkWorker();
    // Wait while the worker is too far behind (memory stays bounded by the batches in flight).
    waitOnCounter(
      this.control,
      DONE,
      (done) => this.sent - done < MAX_BATCHES_AHEAD,
      () => this.checkWorker(),
    );
    const message: Batch = {
      type: "batch",
      receiver: b.receiver.take(),
      sender: b.sender.take(),
      atMs: b.atMs.take(),
      rssi: b.rssi.take(),
      flags: b.flags.take(),
      tx: b.tx.take(),
      channel: b.channel.take(),
      idLength: b.idLength.take(),
      ids: b.ids.take(),
      aems: b.aems.take(),
      closes: b.closes.take(),
      stepSightings: b.stepSightings.take(),
      stepCloses: b.stepCloses.take(),
      stepAtMs: b.stepAtMs.take(),
      keys: b.keys,
    };
    this.worker.postMessage(message, [
      message.receiver.buffer as ArrayBuffer,
      message.sender.buffer as ArrayBuffer,
      message.atMs.buffer as ArrayBuffer,
      message.rssi.buffer as ArrayBuffer,
      message.flags.buffer as ArrayBuffer,
      message.tx.buffer as ArrayBuffer,
      message.channel.buffer as ArrayBuffer,
      message.idLength.buffer as ArrayBuffer,
      message.ids.buffer as ArrayBuffer,
      message.aems.buffer as ArrayBuffer,
      message.closes.buffer as ArrayBuffer,
      message.stepSightings.buffer as ArrayBuffer,
      message.stepCloses.buffer as ArrayBuffer,
      message.stepAtMs.buffer as ArrayBuffer,
    ]);
    this.sent++;
    // The next batch's columns sized as this one's ended: batches of a run are alike.
    this.batch = this.newBatch(b.receiver.n, b.ids.n, b.aems.n, b.closes.n);
  }

  /** A worker that failed mid-run says so on the port: raise it here. */
  private checkWorker(): void {
    if (this.failed) throw this.failed;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      const message = m.message as {
        type: string;
        message?: string;
        code?: string;
        config?: boolean;
      };
      if (message.type === "error") {
        void this.worker.terminate();
        this.failed = message.config
          ? new ConfigError(message.message!, message.code ?? "E_RUN")
          : new Error(message.message);
        throw this.failed;
      }
    }
  }
}

/** A key snapshot as `keysOf`. */
function keysFrom(snapshot: Batch["keys"][number]): (agent: number) => readonly DayKey[] {
  const byAgent = new Map<number, DayKey[]>();
  let o = 0;
  for (let k = 0; k < snapshot.agents.length; k++) {
    const n = snapshot.lengths[k];
    const list = byAgent.get(snapshot.agents[k]) ?? [];
    list.push({ day: snapshot.days[k], key: snapshot.bytes.slice(o, o + n) });
    byAgent.set(snapshot.agents[k], list);
    o += n;
  }
  return (agent) => byAgent.get(agent) ?? [];
}

/** The worker: replays the batches into a RunConsumer, then scores, evaluates and writes. */
function runPipelineWorker(data: { port: MessagePort; control: Int32Array }): void {
  const { port, control } = data;
  let consumer: RunConsumer | undefined;
  let start: StartMessage | undefined;
  const answer = (message: unknown) => {
    port.postMessage(message);
    Atomics.add(control, ANSWERED, 1);
    Atomics.notify(control, ANSWERED);
  };
  const fail = (error: unknown) => {
    consumer?.abort();
    consumer = undefined;
    const e = error as { message?: string; code?: string };
    answer({
      type: "error",
      message: e?.message ?? String(error),
      code: e?.code,
      config: error instanceof ConfigError,
    });
  };
  const onMessage = (message: StartMessage | Batch | EndMessage | { type: "abort" }) => {
    try {
      if (message.type === "start") {
        start = message;
        const protocols = message.protocolIndex;
        consumer = new RunConsumer({
          meta: message.meta,
          indexCases: message.indexCases,
          protocolOf: (agent) => PROTOCOL_NAMES[protocols[agent]],
          detectors: message.detectors,
          out: message.out,
          matchChunkMs: message.matchChunkMs,
        });
      } else if (message.type === "batch") {
        if (!consumer) return;
        replay(consumer, message);
        Atomics.add(control, DONE, 1);
        Atomics.notify(control, DONE);
      } else if (message.type === "end") {
        if (!consumer || !start) return;
        const keysOf = keysFrom(message.keys);
        // The world's close pairs, sorted by key for binary search (no Map of millions).
        const truth = closePairLookup(message.truth);
        const t0 = performance.now();
        consumer.score(keysOf, truth, (fraction) => answer({ type: "progress", fraction }));
        const t1 = performance.now();
        const accumulation = consumer.evaluate(start.meta, message.ceiling);
        const evaluation = accumulation.evaluation;
        const timeline = accumulation.timeline();
        consumer.finishFolder(
          accumulation,
          {
            meta: start.meta,
            indexCases: start.indexCases,
            agents: message.agents,
            published: message.published,
          },
          message.ceiling,
          runSummary(
            {
              meta: start.meta,
              indexCases: start.indexCases,
              sightingCount: message.sightingCount,
            },
            evaluation,
            message.rssiVsDistance,
          ),
        );
        accumulation.close();
        const t2 = performance.now();
        answer({
          type: "done",
          evaluation,
          timeline,
          timings: { detectMs: t1 - t0, ceilingMs: 0, evaluateMs: t2 - t1 },
        });
        port.close();
      } else if (message.type === "abort") {
        consumer?.abort();
        consumer = undefined;
        port.close();
      }
    } catch (error) {
      fail(error);
    }
  };
  // Messages from the simulation thread come on the worker's own port (postMessage).
  parentPort?.on("message", onMessage);
}

/** Replays one batch into the consumer, step by step, as `streamPipeline` would have called it. */
function replay(consumer: RunConsumer, b: Batch): void {
  let s = 0;
  let c = 0;
  let idAt = 0;
  let aemAt = 0;
  let keyAt = 0;
  let keysOf: (agent: number) => readonly DayKey[] = () => [];
  for (let step = 0; step < b.stepAtMs.length; step++) {
    for (; s < b.stepSightings[step]; s++) {
      const flags = b.flags[s];
      const id = b.ids.subarray(idAt, idAt + b.idLength[s]);
      idAt += b.idLength[s];
      let aem: Uint8Array | undefined;
      if (flags & 16) {
        aem = b.aems.subarray(aemAt, aemAt + 4);
        aemAt += 4;
      }
      const sighting: {
        atMs: number;
        protocol: Protocol;
        id: Uint8Array;
        aem?: Uint8Array;
        rssiDbm: number;
        txPowerDbm?: number;
        channel?: number;
      } = { atMs: b.atMs[s], protocol: PROTOCOL_NAMES[flags & 15], id, rssiDbm: b.rssi[s] };
      if (aem) sighting.aem = aem;
      if (flags & 32) sighting.txPowerDbm = b.tx[s];
      if (flags & 64) sighting.channel = b.channel[s];
      consumer.sighting(b.receiver[s], sighting, b.sender[s]);
    }
    for (; c < b.stepCloses[step]; c += 4)
      consumer.close(b.closes[c], b.closes[c + 1], b.closes[c + 2], b.closes[c + 3]);
    if (keyAt < b.keys.length && b.keys[keyAt].step === step) {
      keysOf = keysFrom(b.keys[keyAt]);
      keyAt++;
    }
    consumer.stepEnd(b.stepAtMs[step], keysOf);
  }
}

if (!isMainThread && (workerData as { proxkitPipeline?: boolean } | null)?.proxkitPipeline) {
  runPipelineWorker(workerData as { port: MessagePort; control: Int32Array });
}

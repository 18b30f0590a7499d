/**
 * The replay radio back-end: plays back a btsnoop capture (`btmon -w` on a Pi, or Android's
 * HCI snoop log) as if it were a live scan. Its scanner emits the LE advertising reports of
 * the capture as sightings, timed by the capture's clock, at the recorded pace or faster; in
 * `follow` mode it keeps reading as the file grows (a capture `btmon` is still writing).
 * It cannot transmit: its advertiser refuses to start.
 */
import { EventEmitter } from "node:events";
import { type FileHandle, open } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { CodecError, ConfigError, RadioError } from "../../core/errors.js";
import { checkInputFile } from "../../io/read-input-file.js";
import { PROTOCOLS } from "../../protocols/rolling-id-scheme.js";
import type {
  Advertiser,
  AdvertiserEvents,
  Radio,
  RadioState,
  Scanner,
  ScannerEvents,
  ScannerOptions,
} from "../radio.js";
import { planScan } from "../start-options.js";
import { BtsnoopDecoder, HEADER_BYTES, READ_CHUNK_BYTES } from "./btsnoop.js";
import {
  type CaptureCounts,
  type CaptureSighting,
  CaptureSightingDecoder,
  captureTimeWarning,
  emptyCaptureCounts,
  MAX_CAPTURE_STEP_MS,
} from "./capture-sightings.js";

export interface ReplayRadioOptions {
  /** Path of the btsnoop capture. */
  capture: string;
  /** 1 = the recorded pace (default), N = N times faster, 0 or Infinity = as fast as possible. */
  speed?: number;
  /** Keep reading as the file grows, like `tail -f` (default false: stop at its end). */
  follow?: boolean;
  /** Follow mode: how often to look for new data, ms [default 200]. */
  pollMs?: number;
}

/** Longest wait setTimeout can take. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Waits shorter than this are not worth a timer when pacing. */
const MIN_WAIT_MS = 1;

class ReplayAdvertiser extends EventEmitter<AdvertiserEvents> implements Advertiser {
  state: RadioState = "unavailable";

  async start(): Promise<void> {
    throw new RadioError(
      "a replay radio cannot transmit: it plays back a capture; advertise with the hci or sim radio",
      "E_RADIO_REPLAY",
      { isInputError: true },
    );
  }

  async stop(): Promise<void> {}
}

class ReplayScanner extends EventEmitter<ScannerEvents> implements Scanner {
  state: RadioState = "idle";
  /** Counts of the current (or last) run. */
  counts: CaptureCounts = emptyCaptureCounts();
  private generation = 0;
  private running: Promise<void> | undefined;
  private handle: FileHandle | undefined;
  private readSeq = 0;
  private waiters: { afterSeq: number; resolve: () => void }[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private stopWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(private readonly options: ReplayRadioOptions) {
    super();
  }

  async start(options: ScannerOptions = {}): Promise<void> {
    const { intervalMs, windowMs } = planScan(options, this.state === "running");
    const handle = await openCapture(this.options.capture, this.options.follow ?? false);
    const generation = ++this.generation;
    this.handle = handle;
    this.failure = undefined;
    this.counts = emptyCaptureCounts();
    this.setState("running");
    this.running = this.run(generation, handle, options, windowMs, intervalMs).catch((error) =>
      this.fail(generation, error as Error),
    );
  }

  async stop(): Promise<void> {
    this.generation++;
    this.wake?.();
    await this.running;
    await this.finishRun();
  }

  /**
   * Resolves once everything the capture file holds now has been emitted (follow mode), or at
   * once when the scanner is not running.
   */
  caughtUp(): Promise<void> {
    if (this.state !== "running") return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ afterSeq: this.readSeq, resolve });
      this.wake?.();
    });
  }

  /** Resolves when the scanner stops (end of capture or `stop()`); rejects on a bad capture. */
  stopped(): Promise<void> {
    if (this.state !== "running")
      return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    return new Promise((resolve, reject) => this.stopWaiters.push({ resolve, reject }));
  }

  private async run(
    generation: number,
    handle: FileHandle,
    options: ScannerOptions,
    windowMs: number,
    intervalMs: number,
  ): Promise<void> {
    const follow = this.options.follow ?? false;
    const pollMs = this.options.pollMs ?? 200;
    const speed = this.options.speed ?? 1;
    const paced = speed > 0 && Number.isFinite(speed);
    const batch: CaptureSighting[] = [];
    const sightings = new CaptureSightingDecoder(
      (s) => batch.push(s),
      options.protocols ?? PROTOCOLS,
    );
    this.counts = sightings.counts;
    const snoop: BtsnoopDecoder = new BtsnoopDecoder((record) =>
      sightings.record(record, snoop.datalink!),
    );
    const buffer = new Uint8Array(READ_CHUNK_BYTES);
    let position = 0;
    // The wall-clock instant of the capture's first record: pacing keeps the gaps, the first included.
    const wallStart = performance.now();
    let previousAtMs: number | undefined;
    let skippedMs = 0;
    const live = () => generation === this.generation;
    while (live()) {
      const seq = ++this.readSeq;
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (!live()) return;
      if (bytesRead === 0) {
        this.releaseWaiters(seq);
        if (!follow) {
          snoop.finish();
          break;
        }
        await this.sleep(pollMs);
        continue;
      }
      position += bytesRead;
      snoop.push(buffer.subarray(0, bytesRead));
      const anchorMs = sightings.firstMs ?? 0;
      for (const s of batch) {
        if (!live()) return;
        // A clock jump of over a day (either way) is not waited for: pacing resumes from it.
        if (previousAtMs !== undefined && Math.abs(s.atMs - previousAtMs) > MAX_CAPTURE_STEP_MS)
          skippedMs += s.atMs - previousAtMs;
        previousAtMs = s.atMs;
        // The duty cycle runs on the capture's clock, from its first record.
        if (intervalMs > 0) {
          const since = (((s.atMs - anchorMs) % intervalMs) + intervalMs) % intervalMs;
          if (since >= windowMs) continue;
        }
        if (paced) {
          const dueMs = wallStart + (s.atMs - anchorMs - skippedMs) / speed;
          // A wake-up (caughtUp, stop) may end the sleep early: wait again for what is left.
          for (let wait = dueMs - performance.now(); wait >= MIN_WAIT_MS; ) {
            await this.sleep(wait);
            if (!live()) return;
            wait = dueMs - performance.now();
          }
        }
        this.emit("sighting", s);
      }
      batch.length = 0;
      if (!paced) await yieldToEventLoop();
    }
    if (live()) await this.finishRun();
  }

  private async finishRun(): Promise<void> {
    if (this.handle) this.warnAboutTimes();
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => {});
    if (this.state === "running") this.setState("stopped");
    this.releaseWaiters(Number.POSITIVE_INFINITY);
    const waiters = this.stopWaiters;
    this.stopWaiters = [];
    for (const w of waiters) {
      if (this.failure) w.reject(this.failure);
      else w.resolve();
    }
  }

  /** One non-fatal `error` event (when someone listens) for records with implausible times. */
  private warnAboutTimes(): void {
    const { badTime, timeJumps } = this.counts;
    if ((badTime === 0 && timeJumps === 0) || this.listenerCount("error") === 0) return;
    this.emit(
      "error",
      new RadioError(
        `capture ${this.options.capture}: ${captureTimeWarning(this.counts)}`,
        "E_CAPTURE_TIME",
        { isInputError: true },
      ),
    );
  }

  private async fail(generation: number, error: Error): Promise<void> {
    if (generation !== this.generation) return;
    this.generation++;
    this.failure =
      error instanceof CodecError
        ? new CodecError(`capture ${this.options.capture}: ${error.message}`, undefined, error.code)
        : error;
    await this.finishRun();
    if (this.listenerCount("error") > 0) this.emit("error", this.failure);
  }

  private releaseWaiters(seq: number): void {
    const ready = this.waiters.filter((w) => w.afterSeq < seq);
    this.waiters = this.waiters.filter((w) => w.afterSeq >= seq);
    for (const w of ready) w.resolve();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // setTimeout turns anything past 2^31 - 1 ms into 1 ms: the caller waits again instead.
      const timer = setTimeout(done, Math.min(ms, MAX_TIMER_MS));
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wake === done) self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  private setState(state: RadioState): void {
    this.state = state;
    this.emit("state", state);
  }
}

/** Opens the capture and checks its header (unless following a file still being created). */
async function openCapture(path: string, follow: boolean): Promise<FileHandle> {
  // Not following, a capture must be a regular file: a FIFO would block the open, a device
  // would never end. Its size is not capped (it is streamed).
  if (!follow)
    checkInputFile(path, {
      what: "capture",
      maxBytes: Number.POSITIVE_INFINITY,
      code: "E_READ",
      missing: `capture ${path} does not exist`,
    });
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ConfigError(`capture ${path} does not exist`, "E_NOT_FOUND");
    throw new ConfigError(`cannot read capture ${path}: ${(error as Error).message}`, "E_READ");
  }
  try {
    const header = new Uint8Array(HEADER_BYTES);
    const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0);
    const decoder = new BtsnoopDecoder(() => {});
    decoder.push(header.subarray(0, bytesRead));
    if (!follow && bytesRead < HEADER_BYTES) decoder.finish();
    return handle;
  } catch (error) {
    await handle.close();
    if (error instanceof CodecError)
      throw new CodecError(`capture ${path}: ${error.message}`, undefined, error.code);
    throw new ConfigError(`cannot read capture ${path}: ${(error as Error).message}`, "E_READ");
  }
}

export class ReplayRadio implements Radio {
  readonly backend = "replay";
  readonly advertiser: ReplayAdvertiser;
  readonly scanner: ReplayScanner;

  constructor(options: ReplayRadioOptions) {
    if (typeof options.capture !== "string" || options.capture === "")
      throw new ConfigError(
        "the replay radio needs a capture file (options.replay.capture)",
        "E_RADIO_OPTIONS",
      );
    const speed = options.speed ?? 1;
    if (!(speed >= 0))
      throw new ConfigError(
        `replay speed must be 1 (recorded pace), N > 0 (N times faster) or 0 (as fast as possible), got ${speed}`,
        "E_RADIO_OPTIONS",
      );
    if (options.pollMs !== undefined && !(options.pollMs > 0))
      throw new ConfigError(`pollMs must be positive, got ${options.pollMs}`, "E_RADIO_OPTIONS");
    this.advertiser = new ReplayAdvertiser();
    this.scanner = new ReplayScanner(options);
  }

  async stop(): Promise<void> {
    await Promise.all([this.advertiser.stop(), this.scanner.stop()]);
  }
}

/**
 * Parquet encoding in a writer thread of its own: `ParquetTable` gathers a row group's values on
 * the caller's thread, packs them into a few flat typed arrays and hands them over (transferred,
 * not copied); the writer thread unpacks them into the arrays the encoder would have seen and
 * encodes them (`parquet-encoder.ts`), so the files are the same bytes. On two cores a big run's
 * encoding (dictionaries, snappy, delta-packed times: about a tenth of the plaza hour) then takes
 * the core the simulation leaves idle.
 *
 * Writes stay synchronous for the caller: at most `MAX_IN_FLIGHT` row groups wait in the thread
 * (the caller blocks on a shared counter when more are pending), and `finish` returns once the
 * file is complete. One thread serves every table of the process; it ends with the last table.
 * An error in the thread (a full disk) is thrown by the caller's next call.
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
import { waitOnCounter, workerScript } from "../../src/core/worker-thread.js";
import { type ColumnValues, openParquetFile, type RowGroupSink } from "./parquet-encoder.js";
import type { ColumnSpec } from "./table-writer.js";

/** Row groups handed over and not yet encoded, at most: a few MB each. */
const MAX_IN_FLIGHT = 4;
/** The writer thread is taken for stuck when the queue has not moved for this long. */
const STALL_MS = 120_000;

/** Control words shared with the thread. */
const IN_FLIGHT = 0;
const FAILED = 1;

/** One column of a row group, packed for the hand-over. */
type Packed =
  | { kind: "int32"; data: Int32Array }
  | { kind: "float64"; data: Float64Array }
  /** Strings as codes into `dictionary` (−1: null). */
  | { kind: "string"; codes: Int32Array; dictionary: string[] }
  /** Byte strings end to end in `flat`, their lengths in `lengths` (−1: null). */
  | { kind: "bytes"; lengths: Int32Array; flat: Uint8Array }
  /** Booleans as 1 and 0 (−1: null). */
  | { kind: "boolean"; data: Int8Array }
  /** Nullable numbers: the values, and 1 in `nulls` where null. */
  | { kind: "nullable-number"; data: Float64Array; nulls: Uint8Array };

type Message =
  | { type: "open"; id: number; path: string; columns: readonly ColumnSpec[] }
  | { type: "group"; id: number; n: number; columns: Packed[] }
  | { type: "finish"; id: number };

/** Rows 0 .. n − 1 of `values` (a column of `column`) packed into transferable arrays. */
function pack(column: ColumnSpec, values: ColumnValues, n: number): Packed {
  if (values instanceof Int32Array) return { kind: "int32", data: values.slice(0, n) };
  if (values instanceof Float64Array) return { kind: "float64", data: values.slice(0, n) };
  switch (column.type) {
    case "string": {
      const codes = new Int32Array(n);
      const dictionary: string[] = [];
      const codeOf = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const value = values[i] as string | null;
        if (value === null) {
          codes[i] = -1;
          continue;
        }
        let code = codeOf.get(value);
        if (code === undefined) {
          code = dictionary.push(value) - 1;
          codeOf.set(value, code);
        }
        codes[i] = code;
      }
      return { kind: "string", codes, dictionary };
    }
    case "bytes": {
      const lengths = new Int32Array(n);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const value = values[i] as Uint8Array | null;
        lengths[i] = value === null ? -1 : value.length;
        if (value !== null) total += value.length;
      }
      const flat = new Uint8Array(total);
      for (let i = 0, at = 0; i < n; i++) {
        const value = values[i] as Uint8Array | null;
        if (value === null) continue;
        // Byte by byte: `set` costs more than the copy for IDs of 16 bytes.
        for (let b = 0; b < value.length; b++) flat[at + b] = value[b];
        at += value.length;
      }
      return { kind: "bytes", lengths, flat };
    }
    case "boolean": {
      const data = new Int8Array(n);
      for (let i = 0; i < n; i++) {
        const value = values[i] as boolean | null;
        data[i] = value === null ? -1 : value ? 1 : 0;
      }
      return { kind: "boolean", data };
    }
    default: {
      const data = new Float64Array(n);
      const nulls = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const value = values[i] as number | null;
        if (value === null) nulls[i] = 1;
        else data[i] = value;
      }
      return { kind: "nullable-number", data, nulls };
    }
  }
}

function transferables(columns: readonly Packed[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const c of columns) {
    if (c.kind === "string") out.push(c.codes.buffer as ArrayBuffer);
    else if (c.kind === "bytes")
      out.push(c.lengths.buffer as ArrayBuffer, c.flat.buffer as ArrayBuffer);
    else if (c.kind === "nullable-number")
      out.push(c.data.buffer as ArrayBuffer, c.nulls.buffer as ArrayBuffer);
    else out.push(c.data.buffer as ArrayBuffer);
  }
  return out;
}

/** The values `ParquetTable` gathered, back from their packed form. */
function unpack(c: Packed, n: number): ColumnValues {
  switch (c.kind) {
    case "int32":
    case "float64":
      return c.data;
    case "string": {
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = c.codes[i] < 0 ? null : c.dictionary[c.codes[i]];
      return out;
    }
    case "bytes": {
      const out = new Array<unknown>(n);
      for (let i = 0, at = 0; i < n; i++) {
        const length = c.lengths[i];
        if (length < 0) out[i] = null;
        else {
          out[i] = c.flat.subarray(at, at + length);
          at += length;
        }
      }
      return out;
    }
    case "boolean": {
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = c.data[i] < 0 ? null : c.data[i] === 1;
      return out;
    }
    case "nullable-number": {
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = c.nulls[i] === 1 ? null : c.data[i];
      return out;
    }
  }
}

/** The process's writer thread, shared by its open tables. */
class WriterThread {
  private readonly worker: Worker;
  private readonly errors: MessagePort;
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private nextId = 0;
  /** The thread's first error, thrown again by every later call. */
  private failure: string | undefined;
  private ended = false;
  users = 0;

  constructor() {
    const channel = new MessageChannel();
    this.errors = channel.port1;
    this.worker = new Worker(workerScript(import.meta.url, "sim/io/parquet-thread"), {
      workerData: { proxkitParquet: true, control: this.control, errors: channel.port2 },
      transferList: [channel.port2],
      execArgv: [],
    });
    this.worker.unref();
  }

  open(path: string, columns: readonly ColumnSpec[]): number {
    const id = this.nextId++;
    this.post({ type: "open", id, path, columns }, []);
    // An unwritable file fails here, as a file opened in this thread would.
    this.waitBelow(1);
    return id;
  }

  group(id: number, n: number, columns: Packed[]): void {
    this.waitBelow(MAX_IN_FLIGHT);
    this.post({ type: "group", id, n, columns }, transferables(columns));
  }

  finish(id: number): void {
    this.post({ type: "finish", id }, []);
    this.waitBelow(1);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    void this.worker.terminate();
    this.errors.close();
  }

  private post(message: Message, transfer: ArrayBuffer[]): void {
    this.throwIfFailed();
    Atomics.add(this.control, IN_FLIGHT, 1);
    this.worker.postMessage(message, transfer);
  }

  /** Blocks until fewer than `limit` messages are pending in the thread. */
  private waitBelow(limit: number): void {
    waitOnCounter(
      this.control,
      IN_FLIGHT,
      (pending) => pending < limit,
      () => this.throwIfFailed(),
      {
        ms: STALL_MS,
        error: () => new Error(`the Parquet writer thread has not moved for ${STALL_MS / 1000} s`),
      },
    );
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (Atomics.load(this.control, FAILED) === 0) return;
    const report = receiveMessageOnPort(this.errors)?.message as { message: string } | undefined;
    this.failure ??= report?.message ?? "the Parquet writer thread failed";
    // Every table of this thread fails with it; tables opened later get a thread of their own.
    if (shared === this) shared = undefined;
    this.end();
    throw new Error(this.failure);
  }
}

let shared: WriterThread | undefined;

/** A `RowGroupSink` whose encoding runs in the process's writer thread. */
export function openThreadedParquetFile(
  path: string,
  columns: readonly ColumnSpec[],
): RowGroupSink {
  shared ??= new WriterThread();
  const thread = shared;
  thread.users++;
  let id: number;
  try {
    id = thread.open(path, columns);
  } catch (error) {
    release(thread);
    throw error;
  }
  let finished = false;
  return {
    write(n, values) {
      thread.group(
        id,
        n,
        columns.map((column, j) => pack(column, values[j], n)),
      );
    },
    finish() {
      if (finished) return;
      finished = true;
      try {
        thread.finish(id);
      } finally {
        release(thread);
      }
    },
  };
}

function release(thread: WriterThread): void {
  if (--thread.users > 0) return;
  thread.end();
  if (shared === thread) shared = undefined;
}

/** The thread's side: one `RowGroupSink` per open table, messages in order. */
function runWriterThread(data: { control: Int32Array; errors: MessagePort }): void {
  const { control, errors } = data;
  const sinks = new Map<number, RowGroupSink>();
  const failed = new Set<number>();
  parentPort!.on("message", (message: Message) => {
    try {
      if (failed.has(message.id)) return;
      if (message.type === "open")
        sinks.set(message.id, openParquetFile(message.path, message.columns));
      else if (message.type === "group")
        sinks.get(message.id)!.write(
          message.n,
          message.columns.map((c) => unpack(c, message.n)),
        );
      else {
        sinks.get(message.id)!.finish();
        sinks.delete(message.id);
      }
    } catch (error) {
      failed.add(message.id);
      sinks.delete(message.id);
      errors.postMessage({ message: (error as Error).message });
      Atomics.store(control, FAILED, 1);
    } finally {
      Atomics.sub(control, IN_FLIGHT, 1);
      Atomics.notify(control, IN_FLIGHT);
    }
  });
}

if (!isMainThread && (workerData as { proxkitParquet?: boolean } | null)?.proxkitParquet) {
  runWriterThread(workerData as { control: Int32Array; errors: MessagePort });
}

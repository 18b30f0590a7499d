/**
 * Rows of whole numbers (Int32) in partitions by agent range: held in memory until they pass
 * `memoryBytes`, then appended to one file per partition, and read back a partition at a time in
 * the order they were added. The accumulator puts the state of pairs no longer met here, so its
 * memory follows the pairs met lately rather than every pair of the run.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withCapacity } from "../../src/core/typed-arrays.js";

/** Partitions of a run's agents: one is read back (and held) at a time. */
export const PARTITIONS = 32;

/** Rows held in memory before they go to the files (4 MB). */
const MEMORY_BYTES = 4 << 20;

export class PartitionedRows {
  readonly partitions = PARTITIONS;
  private readonly perPartition: number;
  private readonly buffers: Int32Array[];
  private readonly used: Int32Array;
  /** Values held in memory, all partitions. */
  private held = 0;
  private files: number[] | undefined;
  private closed = false;

  constructor(
    agents: number,
    private readonly memoryBytes: number = MEMORY_BYTES,
  ) {
    this.perPartition = Math.max(1, Math.ceil(agents / PARTITIONS));
    this.buffers = Array.from({ length: PARTITIONS }, () => new Int32Array(256));
    this.used = new Int32Array(PARTITIONS);
  }

  /** The partition holding rows of `agent`. */
  partitionOf(agent: number): number {
    return Math.min(PARTITIONS - 1, Math.floor(agent / this.perPartition));
  }

  /**
   * Room for a row of `length` values in the partition of `agent`: the buffer and the offset to
   * write them at, valid until the next call.
   */
  row(agent: number, length: number): { buffer: Int32Array; at: number } {
    if (this.closed) throw new Error("the partitioned rows are closed");
    const p = this.partitionOf(agent);
    const at = this.used[p];
    const buffer = withCapacity(this.buffers[p], at + length);
    this.buffers[p] = buffer;
    this.used[p] = at + length;
    this.held += length;
    return { buffer, at };
  }

  /** To disk when memory holds more than allowed (call between rows). */
  settle(): void {
    if (this.held * 4 > this.memoryBytes) this.flush();
  }

  /** Bytes held in memory. */
  get bytes(): number {
    let n = 0;
    for (const b of this.buffers) n += b.byteLength;
    return n;
  }

  /** Whether rows went to files. */
  get onDisk(): boolean {
    return this.files !== undefined;
  }

  /** Partition `p`'s rows, in the order they were added. */
  read(p: number): Int32Array {
    if (this.closed) throw new Error("the partitioned rows are closed");
    const inMemory = this.buffers[p].subarray(0, this.used[p]);
    if (this.files === undefined) return inMemory;
    const fd = this.files[p];
    const size = fstatSync(fd).size;
    const out = new Int32Array(size / 4 + inMemory.length);
    const bytes = new Uint8Array(out.buffer, 0, size);
    let read = 0;
    while (read < size) read += readSync(fd, bytes, read, size - read, read);
    out.set(inMemory, size / 4);
    return out;
  }

  /** Closes the files (which are gone from the disk already); the rows cannot be read after. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.files) for (const fd of this.files) closeSync(fd);
    this.files = undefined;
  }

  private flush(): void {
    if (this.files === undefined) {
      // Opened, then unlinked: the files live while open and vanish with the process, even
      // when a run is killed before `close`.
      const dir = mkdtempSync(join(tmpdir(), "proxkit-pairs-"));
      this.files = Array.from({ length: PARTITIONS }, (_, p) =>
        openSync(join(dir, `${p}.bin`), "w+"),
      );
      rmSync(dir, { recursive: true, force: true });
    }
    for (let p = 0; p < PARTITIONS; p++) {
      const n = this.used[p];
      if (n === 0) continue;
      const buffer = this.buffers[p];
      writeSync(this.files[p], new Uint8Array(buffer.buffer, buffer.byteOffset, n * 4));
      this.used[p] = 0;
    }
    this.held = 0;
  }
}

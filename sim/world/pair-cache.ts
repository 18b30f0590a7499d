/**
 * Per-pair state for the pairs that matter now (in radio range, or ever close): an open-addressing
 * hash table (linear probing, Fibonacci hashing) keyed by the unordered pair, with a fixed number
 * of float32 columns per pair. Each slot holds its key and then its columns side by side in one
 * buffer, so a lookup that finds its pair has its columns in the same cache line or the next
 * (keys and columns in arrays of their own cost two misses in a table larger than the cache).
 * 8 bytes of key (a double: past 65,536 agents a key no longer fits 32 bits; below that the slots
 * are those of 32-bit keys, so are iteration orders) + 4 per column per slot, rounded up to a
 * multiple of 8 (`stride`); the table doubles past its maximum load (70 % unless given; it never
 * shrinks), and `sweep` drops pairs no longer worth keeping.
 */
import { MAX_AGENTS } from "./agents.js";

const EMPTY = -1;
const DEFAULT_MAX_LOAD = 0.7;
const GOLDEN = 0x9e3779b1;

export class PairCache {
  readonly columns: number;
  /** Float32 words per slot: two of key, then the columns, padded to keep the keys aligned. */
  readonly stride: number;
  /** Agent indices are below this; pair keys are `low * agentCapacity + high`. */
  readonly agentCapacity: number;
  private bits: number;
  /** Float64 words per slot (`stride / 2`): the key of `slot` is `keys[slot * half]`. */
  private readonly half: number;
  private keys: Float64Array;
  /**
   * Column `c` of the pair in `slot` is `values[slot * stride + c]` (a view of the table from its
   * first slot's columns on); re-read after inserts.
   */
  values: Float32Array;
  /** Pairs stored. */
  size = 0;
  /** Whether the last `findOrInsert` inserted the pair (its columns are then zero). */
  inserted = false;
  private readonly maxLoad: number;

  constructor(
    agentCapacity: number,
    columns: number,
    initialSlots = 1024,
    maxLoad = DEFAULT_MAX_LOAD,
  ) {
    if (agentCapacity > MAX_AGENTS) throw new RangeError(`at most ${MAX_AGENTS} agents`);
    if (!(maxLoad > 0 && maxLoad < 1))
      throw new RangeError(`load must be in (0, 1), got ${maxLoad}`);
    this.maxLoad = maxLoad;
    this.agentCapacity = agentCapacity;
    this.columns = columns;
    this.stride = PairCache.strideFor(columns);
    this.half = this.stride / 2;
    this.bits = Math.max(4, Math.ceil(Math.log2(initialSlots)));
    [this.keys, this.values] = this.table(1 << this.bits);
  }

  /** `stride` of a table of `columns` columns. */
  static strideFor(columns: number): number {
    return 2 * Math.ceil((2 + columns) / 2);
  }

  /** Slots in the table (stored pairs live in some of `0 .. slotCount - 1`). */
  get slotCount(): number {
    return 1 << this.bits;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.keys.byteLength;
  }

  /** The key of an unordered pair. */
  keyOf(a: number, b: number): number {
    return a < b ? a * this.agentCapacity + b : b * this.agentCapacity + a;
  }

  /** The lower agent index of the pair in `slot`, or -1 when the slot is empty. */
  lowAt(slot: number): number {
    const key = this.keys[slot * this.half];
    return key === EMPTY ? -1 : Math.floor(key / this.agentCapacity);
  }

  /** The higher agent index of the pair in `slot` (meaningful only when `lowAt(slot) >= 0`). */
  highAt(slot: number): number {
    const key = this.keys[slot * this.half];
    return key - Math.floor(key / this.agentCapacity) * this.agentCapacity;
  }

  /** The slot of pair {a, b}, or -1. */
  find(a: number, b: number): number {
    const key = this.keyOf(a, b);
    const mask = (1 << this.bits) - 1;
    let slot = Math.imul(key, GOLDEN) >>> (32 - this.bits);
    for (;;) {
      const k = this.keys[slot * this.half];
      if (k === key) return slot;
      if (k === EMPTY) return -1;
      slot = (slot + 1) & mask;
    }
  }

  /** The slot of pair {a, b}, inserting it (columns zeroed) when absent; sets `inserted`. */
  findOrInsert(a: number, b: number): number {
    const key = this.keyOf(a, b);
    const half = this.half;
    let mask = (1 << this.bits) - 1;
    let slot = Math.imul(key, GOLDEN) >>> (32 - this.bits);
    for (;;) {
      const k = this.keys[slot * half];
      if (k === key) {
        this.inserted = false;
        return slot;
      }
      if (k === EMPTY) break;
      slot = (slot + 1) & mask;
    }
    if (this.size + 1 > (mask + 1) * this.maxLoad) {
      this.resize(this.bits + 1);
      mask = (1 << this.bits) - 1;
      slot = Math.imul(key, GOLDEN) >>> (32 - this.bits);
      while (this.keys[slot * half] !== EMPTY) slot = (slot + 1) & mask;
    }
    this.keys[slot * half] = key;
    this.size++;
    this.inserted = true;
    return slot;
  }

  /**
   * Keeps only the pairs for which `keep(slot, low, high)` is true (it may read `values` at the
   * slot). In place, by backward-shift deletion (no tombstones, no allocation); a pair shifted
   * during the sweep may be offered to `keep` twice. Returns how many pairs were dropped.
   */
  sweep(keep: (slot: number, low: number, high: number) => boolean): number {
    const before = this.size;
    const keys = this.keys;
    const half = this.half;
    const n = 1 << this.bits;
    for (let s = 0; s < n; ) {
      const key = keys[s * half];
      if (key === EMPTY) {
        s++;
        continue;
      }
      const low = Math.floor(key / this.agentCapacity);
      if (keep(s, low, key - low * this.agentCapacity)) {
        s++;
        continue;
      }
      this.removeAt(s);
      // Slot s may now hold a pair shifted back from further on: look at it again.
    }
    return before - this.size;
  }

  /** Deletes the pair in `slot`, shifting later pairs of its probe run back. */
  private removeAt(slot: number): void {
    const keys = this.keys;
    const values = this.values;
    const cols = this.columns;
    const { stride, half } = this;
    const mask = (1 << this.bits) - 1;
    const shift = 32 - this.bits;
    let hole = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & mask;
      const key = keys[j * half];
      if (key === EMPTY) break;
      const home = Math.imul(key, GOLDEN) >>> shift;
      // Move j back into the hole unless its home lies cyclically in (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (between) continue;
      keys[hole * half] = key;
      for (let c = 0; c < cols; c++) values[hole * stride + c] = values[j * stride + c];
      hole = j;
    }
    keys[hole * half] = EMPTY;
    for (let c = 0; c < cols; c++) values[hole * stride + c] = 0;
    this.size--;
  }

  clear(): void {
    [this.keys, this.values] = this.table(1 << this.bits);
    this.size = 0;
  }

  /** A table of `slots` empty slots: its keys, and its columns' view. */
  private table(slots: number): [Float64Array, Float32Array] {
    const keys = new Float64Array(slots * this.half);
    for (let s = 0; s < slots; s++) keys[s * this.half] = EMPTY;
    return [keys, new Float32Array(keys.buffer, 8, slots * this.stride - 2)];
  }

  private resize(bits: number): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const oldSlots = 1 << this.bits;
    const { columns: cols, stride, half } = this;
    this.bits = bits;
    [this.keys, this.values] = this.table(1 << bits);
    const keys = this.keys;
    const values = this.values;
    const mask = (1 << bits) - 1;
    for (let s = 0; s < oldSlots; s++) {
      const key = oldKeys[s * half];
      if (key === EMPTY) continue;
      let slot = Math.imul(key, GOLDEN) >>> (32 - bits);
      while (keys[slot * half] !== EMPTY) slot = (slot + 1) & mask;
      keys[slot * half] = key;
      for (let c = 0; c < cols; c++) values[slot * stride + c] = oldValues[s * stride + c];
    }
  }
}

/**
 * Pairs of whole numbers (agent indices, or an agent and a key) interned as dense ids: the
 * accumulator's close and heard pairs, and the detector's keys heard before in big crowds.
 */
import { withCapacity } from "./typed-arrays.js";

/** A hash of the pair (x, y), for open addressing. */
export function hashPair(x: number, y: number): number {
  let h = Math.imul(x ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul((y + 0x7f4a7c15) | 0, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

/** Where a record keeps its pair's agents. */
export const FIRST = 0;
export const SECOND = 1;

/**
 * Pairs of agent indices to dense ids 0, 1, 2, … in order of arrival, each with a record of
 * `stride` Int32 fields in one array: the pair itself (`FIRST`, `SECOND`), then its owner's
 * state, which starts at 0. Linear probing over an Int32Array of ids (at most half full). A
 * lookup that finds its pair has read the record to compare it, so the owner's state comes in
 * the same cache line instead of from columns of their own (the tables outgrow the caches).
 */
export class PairTable {
  data: Int32Array;
  size = 0;
  /** Whether the last `findOrAdd` added its pair. */
  added = false;
  private slots = new Int32Array(32).fill(-1);

  constructor(readonly stride: number) {
    this.data = new Int32Array(16 * stride);
  }

  first(id: number): number {
    return this.data[id * this.stride + FIRST];
  }

  second(id: number): number {
    return this.data[id * this.stride + SECOND];
  }

  find(x: number, y: number): number {
    const mask = this.slots.length - 1;
    const { data, stride } = this;
    for (let h = hashPair(x, y) & mask; ; h = (h + 1) & mask) {
      const id = this.slots[h];
      if (id < 0 || (data[id * stride + FIRST] === x && data[id * stride + SECOND] === y))
        return id;
    }
  }

  findOrAdd(x: number, y: number): number {
    const mask = this.slots.length - 1;
    const stride = this.stride;
    let data = this.data;
    let h = hashPair(x, y) & mask;
    for (; ; h = (h + 1) & mask) {
      const id = this.slots[h];
      if (id < 0) break;
      if (data[id * stride + FIRST] === x && data[id * stride + SECOND] === y) {
        this.added = false;
        return id;
      }
    }
    const id = this.size++;
    if (this.size * stride > data.length) this.data = data = withCapacity(data, this.size * stride);
    data[id * stride + FIRST] = x;
    data[id * stride + SECOND] = y;
    this.slots[h] = id;
    if (this.size * 2 > this.slots.length) this.rehash();
    this.added = true;
    return id;
  }

  get bytes(): number {
    return this.data.byteLength + this.slots.byteLength;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    const { data, stride } = this;
    for (let id = 0; id < this.size; id++) {
      let h = hashPair(data[id * stride + FIRST], data[id * stride + SECOND]) & mask;
      while (slots[h] >= 0) h = (h + 1) & mask;
      slots[h] = id;
    }
    this.slots = slots;
  }
}

/**
 * Ground truth: who was how close to whom, for how long. Every `sampleEveryS` seconds of virtual
 * time the true distance of every pair within `closeDistanceM` is sampled (within `rangeM` when
 * an `onSample` trace is wanted); each sample within `closeDistanceM` adds `sampleEveryS` to the
 * pair's close time. A close contact is a pair with at least `closeMinutes` of cumulative close
 * time (ECDC/CDC: within 2 m for 15 minutes or more).
 *
 * Storage: a small `PairCache` of the pairs close at a recent sample (24 bytes per slot), and
 * a compact append-only store of the close time of pairs that have left it (12 bytes per
 * encounter, no hash-table slack, merged by pair when it fills and when queried). The hot table
 * stays the size of the crowd's current close pairs, so sampling stays cache-friendly however
 * many contacts accumulate; the store is the run's output (what `truth.jsonl` lists).
 */
import { PairCache } from "./pair-cache.js";
import type { SpatialGrid } from "./spatial-grid.js";

export interface GroundTruthOptions {
  /** Sampling period, seconds. Default 1. */
  sampleEveryS?: number;
  /** Range of the `onSample` trace, metres. Default 5. */
  rangeM?: number;
  /** Default 2 m (ECDC 2020, "Contact tracing: public health management of persons..."). */
  closeDistanceM?: number;
  /** Default 15 minutes (same source). */
  closeMinutes?: number;
  /** Called for every sampled pair within `rangeM` (a distance trace, if one is wanted). Without
   * it only pairs within `closeDistanceM` are looked at. */
  onSample?: (a: number, b: number, distanceM: number, atMs: number) => void;
  /**
   * Called with the close seconds of pair {a, b} (a < b) as spans: every whole second t in
   * [fromS, toS) since the run's start (the sample's time, rounded) at which the pair was within
   * `closeDistanceM`. A pair's spans come in time order, each at most `SWEEP_EVERY_S` seconds
   * after its last second; `flushCloseSpans` gives the last ones. None during the first sample
   * (it only opens spans; the first sweep is `SWEEP_EVERY_S` later). One call per span instead
   * of one per pair and second: a tenth of the calls for pairs that stay close.
   */
  onCloseSpan?: (a: number, b: number, fromS: number, toS: number) => void;
}

/** Every pair with some close time, one row each, sorted by key (see `takeClosePairs`). */
export interface ClosePairColumns {
  /** Pair {low, high} is keyed `low * agentCapacity + high`. */
  readonly agentCapacity: number;
  readonly keys: Float64Array;
  readonly closeS: Float32Array;
  readonly minDistanceM: Float32Array;
}

export interface CloseContact {
  readonly a: number;
  readonly b: number;
  readonly closeMinutes: number;
  readonly minDistanceM: number;
}

/** Virtual seconds between moves of out-of-range pairs from the hot table to the store. */
const SWEEP_EVERY_S = 10;

const CLOSE_S = 0;
const MIN_DISTANCE_M = 1;
/**
 * The pair's last span of close seconds [from, to), `to` being its last sample's second + 1 (so
 * also when it was last seen); `from` is −1 once the span is told to `onCloseSpan`. Four columns
 * keep a slot at 24 bytes: the table is read for every close pair at every sample.
 */
const SPAN_FROM_S = 2;
const SPAN_TO_S = 3;
const COLUMNS = 4;
/** Float32 words per slot of the pair cache (`PairCache.stride`). */
const STRIDE = PairCache.strideFor(COLUMNS);

export class GroundTruth {
  readonly sampleEveryS: number;
  readonly rangeM: number;
  readonly closeDistanceM: number;
  readonly closeMinutes: number;
  /** Samples taken so far. */
  samples = 0;
  private readonly grid: SpatialGrid;
  /** Pairs within `rangeM` at a recent sample. */
  private readonly cache: PairCache;
  /** Close time of encounters that have ended. */
  private store = new EncounterStore();
  private readonly onSample: GroundTruthOptions["onSample"];
  private readonly onCloseSpan: GroundTruthOptions["onCloseSpan"];
  private nextSampleMs = 0;
  private sampleAtMs = 0;
  /** The sample's second since time 0 (its time, rounded): the unit of close spans. */
  private sampleS = 0;
  private weightS = 0;
  private lastSweepS = 0;

  constructor(grid: SpatialGrid, options: GroundTruthOptions = {}) {
    this.grid = grid;
    this.sampleEveryS = options.sampleEveryS ?? 1;
    this.rangeM = options.rangeM ?? 5;
    this.closeDistanceM = options.closeDistanceM ?? 2;
    this.closeMinutes = options.closeMinutes ?? 15;
    this.onSample = options.onSample;
    this.onCloseSpan = options.onCloseSpan;
    if (this.closeDistanceM > this.rangeM) {
      throw new RangeError(`closeDistanceM ${this.closeDistanceM} exceeds rangeM ${this.rangeM}`);
    }
    this.cache = new PairCache(grid.agents.capacity, COLUMNS, 2 * grid.agents.capacity);
  }

  /** Pairs in range now plus encounters stored, and the bytes both hold. */
  get pairCount(): number {
    return this.cache.size + this.store.size;
  }

  get bytes(): number {
    return this.cache.bytes + this.store.bytes;
  }

  /** Bytes of the stored encounters alone (output: grows with contacts, not with the crowd). */
  get storedBytes(): number {
    return this.store.bytes;
  }

  /**
   * Call after every mobility step (with the grid rebuilt) at virtual time `atMs`; samples when a
   * sampling instant is due. Returns whether it sampled.
   */
  observe(atMs: number): boolean {
    if (atMs < this.nextSampleMs) return false;
    // Steps coarser than the sampling period: this sample stands for every instant it covers.
    const periodMs = this.sampleEveryS * 1000;
    const periods = Math.floor((atMs - this.nextSampleMs) / periodMs) + 1;
    this.weightS = periods * this.sampleEveryS;
    this.nextSampleMs += periods * periodMs;
    this.sampleAtMs = atMs;
    this.sampleS = Math.round(atMs / 1000);
    this.samples++;
    // Without a trace, the grid's cut (on squared distance) is widened by a hair so that
    // `record`'s test on the distance alone decides: a pair whose distance rounds to exactly
    // closeDistanceM is then close whatever the trace range (the two cuts can differ by an ulp).
    this.grid.forEachPair(
      this.onSample ? this.rangeM : this.closeDistanceM * (1 + 1e-9),
      this.record,
    );
    const nowS = atMs / 1000;
    if (nowS - this.lastSweepS >= SWEEP_EVERY_S) {
      this.lastSweepS = nowS;
      this.cache.sweep(this.keepPair);
    }
    return true;
  }

  private readonly record = (a: number, b: number, distanceM: number): void => {
    this.onSample?.(a, b, distanceM, this.sampleAtMs);
    if (distanceM > this.closeDistanceM) return;
    const slot = this.cache.findOrInsert(a, b);
    const v = this.cache.values;
    const base = slot * STRIDE;
    v[base + CLOSE_S] += this.weightS;
    const t = this.sampleS;
    if (this.cache.inserted) {
      v[base + MIN_DISTANCE_M] = distanceM;
      v[base + SPAN_FROM_S] = t;
      v[base + SPAN_TO_S] = t + 1;
      return;
    }
    if (distanceM < v[base + MIN_DISTANCE_M]) v[base + MIN_DISTANCE_M] = distanceM;
    const to = v[base + SPAN_TO_S];
    if (t === to) {
      if (v[base + SPAN_FROM_S] < 0) v[base + SPAN_FROM_S] = t;
      v[base + SPAN_TO_S] = t + 1;
    } else if (t > to) {
      const from = v[base + SPAN_FROM_S];
      if (from >= 0 && this.onCloseSpan !== undefined)
        this.onCloseSpan(Math.min(a, b), Math.max(a, b), from, to);
      v[base + SPAN_FROM_S] = t;
      v[base + SPAN_TO_S] = t + 1;
    }
    // t < to: a second in the span already.
  };

  /** Tells `onCloseSpan` the spans not yet told (at the run's end). */
  flushCloseSpans(): void {
    if (this.onCloseSpan === undefined) return;
    this.cache.sweep((slot, low, high) => {
      this.tellSpan(slot, low, high);
      return true;
    });
  }

  private tellSpan(slot: number, low: number, high: number): void {
    const base = slot * STRIDE;
    const v = this.cache.values;
    const from = v[base + SPAN_FROM_S];
    if (from < 0) return;
    v[base + SPAN_FROM_S] = -1;
    this.onCloseSpan!(low, high, from, v[base + SPAN_TO_S]);
  }

  /** Pairs not close at this sample leave the hot table for the store. */
  private readonly keepPair = (slot: number, low: number, high: number): boolean => {
    // Seen at this sample: its span ends with this sample's second.
    if (this.cache.values[slot * STRIDE + SPAN_TO_S] === this.sampleS + 1) {
      if (this.onCloseSpan !== undefined) this.tellSpan(slot, low, high);
      return true;
    }
    return this.leaveCache(slot, low, high);
  };

  /** Pair in `slot` leaves the hot table: its span told, its close time to the store. */
  private readonly leaveCache = (slot: number, low: number, high: number): false => {
    if (this.onCloseSpan !== undefined) this.tellSpan(slot, low, high);
    const base = slot * STRIDE;
    const v = this.cache.values;
    if (v[base + CLOSE_S] > 0)
      this.store.push(this.cache.keyOf(low, high), v[base + CLOSE_S], v[base + MIN_DISTANCE_M]);
    return false;
  };

  /** Cumulative seconds pair {a, b} spent within `closeDistanceM` (0 when never). */
  closeSeconds(a: number, b: number): number {
    const slot = this.cache.find(a, b);
    const hot = slot < 0 ? 0 : this.cache.values[slot * STRIDE + CLOSE_S];
    const at = this.store.indexOf(this.cache.keyOf(a, b));
    return at < 0 ? hot : hot + this.store.closeS[at];
  }

  /** Smallest sampled distance of pair {a, b}, or `undefined` when never within `closeDistanceM`. */
  minDistanceM(a: number, b: number): number | undefined {
    const slot = this.cache.find(a, b);
    const hot = slot < 0 ? undefined : this.cache.values[slot * STRIDE + MIN_DISTANCE_M];
    const at = this.store.indexOf(this.cache.keyOf(a, b));
    if (at < 0) return hot;
    const stored = this.store.minDistanceM[at];
    return hot === undefined || stored < hot ? stored : hot;
  }

  /**
   * Calls `callback` for every pair with some close time: the stored pairs in (a, b) order,
   * then pairs in range now that have no stored encounter (no allocation once the store is
   * merged).
   */
  forEachClosePair(
    callback: (a: number, b: number, closeS: number, minDistanceM: number) => void,
  ): void {
    const cache = this.cache;
    const store = this.store;
    store.merge();
    const v = cache.values;
    for (let i = 0; i < store.size; i++) {
      const key = store.keys[i];
      const low = Math.floor(key / cache.agentCapacity);
      const high = key - low * cache.agentCapacity;
      const slot = cache.find(low, high);
      let closeS = store.closeS[i];
      let minDistanceM = store.minDistanceM[i];
      if (slot >= 0) {
        closeS += v[slot * STRIDE + CLOSE_S];
        minDistanceM = Math.min(minDistanceM, v[slot * STRIDE + MIN_DISTANCE_M]);
      }
      callback(low, high, closeS, minDistanceM);
    }
    for (let s = 0; s < cache.slotCount; s++) {
      const low = cache.lowAt(s);
      if (low < 0) continue;
      const closeS = v[s * STRIDE + CLOSE_S];
      if (closeS <= 0) continue;
      const high = cache.highAt(s);
      if (store.indexOf(cache.keyOf(low, high)) >= 0) continue;
      callback(low, high, closeS, v[s * STRIDE + MIN_DISTANCE_M]);
    }
  }

  /**
   * Hands every pair with some close time over as columns sorted by key (what `forEachClosePair`
   * gives, in one order) and forgets them: the truth holds no pair after, and spans not yet told
   * to `onCloseSpan` are told first. The columns are the store's own arrays, no copy, so that a
   * run's end can transfer their buffers to another thread.
   */
  takeClosePairs(): ClosePairColumns {
    this.cache.sweep(this.leaveCache);
    const store = this.store;
    store.merge();
    this.store = new EncounterStore();
    return {
      agentCapacity: this.cache.agentCapacity,
      keys: store.keys.subarray(0, store.size),
      closeS: store.closeS.subarray(0, store.size),
      minDistanceM: store.minDistanceM.subarray(0, store.size),
    };
  }

  /** Pairs with at least `closeMinutes` of close time, sorted by (a, b). */
  closeContacts(closeMinutes = this.closeMinutes): CloseContact[] {
    const out: CloseContact[] = [];
    this.forEachClosePair((a, b, closeS, minDistanceM) => {
      if (closeS >= closeMinutes * 60) out.push({ a, b, closeMinutes: closeS / 60, minDistanceM });
    });
    return out.sort((x, y) => x.a - y.a || x.b - y.b);
  }
}

/** The row of `key` among the first `size` of sorted `keys`, or -1 (binary search). */
function rowOfKey(keys: Float64Array, size: number, key: number): number {
  let lo = 0;
  let hi = size - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = keys[mid];
    if (k === key) return mid;
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * `closeSeconds` and `minDistanceM` as the truth gave them, read from the columns it handed over
 * (`takeClosePairs`), in whatever thread they went to.
 */
export function closePairLookup(columns: ClosePairColumns): {
  closeSeconds(a: number, b: number): number;
  minDistanceM(a: number, b: number): number | undefined;
} {
  const { agentCapacity, keys, closeS, minDistanceM } = columns;
  const rowOf = (a: number, b: number) =>
    rowOfKey(keys, keys.length, Math.min(a, b) * agentCapacity + Math.max(a, b));
  return {
    closeSeconds(a, b) {
      const k = rowOf(a, b);
      return k < 0 ? 0 : closeS[k];
    },
    minDistanceM(a, b) {
      const k = rowOf(a, b);
      return k < 0 ? undefined : minDistanceM[k];
    },
  };
}

/**
 * Ended encounters, as columns: pair key, close seconds, smallest distance. Appends are O(1);
 * `merge` sorts by key (16-bit radix passes: two while keys fit 32 bits, a third past 65,536
 * agents) and folds repeated encounters of a pair into one row, after which `indexOf` is a binary
 * search.
 */
class EncounterStore {
  keys = new Float64Array(1024);
  closeS = new Float32Array(1024);
  minDistanceM = new Float32Array(1024);
  size = 0;
  private merged = true;

  get bytes(): number {
    return this.keys.byteLength + this.closeS.byteLength + this.minDistanceM.byteLength;
  }

  push(key: number, closeS: number, minDistanceM: number): void {
    if (this.size === this.keys.length) {
      // Fold repeated encounters first; grow only when that leaves less than 30 % free.
      this.merge();
      if (this.size > 0.7 * this.keys.length) this.grow(Math.ceil(this.keys.length * 1.5));
    }
    this.keys[this.size] = key;
    this.closeS[this.size] = closeS;
    this.minDistanceM[this.size] = minDistanceM;
    this.size++;
    this.merged = false;
  }

  /** The row of `key`, or -1 (merges first if needed). */
  indexOf(key: number): number {
    this.merge();
    return rowOfKey(this.keys, this.size, key);
  }

  /** Sorts the rows by key and folds rows of the same pair together. */
  merge(): void {
    if (this.merged) return;
    this.merged = true;
    const n = this.size;
    let keys = this.keys;
    let closeS = this.closeS;
    let minD = this.minDistanceM;
    let keys2 = new Float64Array(keys.length);
    let closeS2 = new Float32Array(keys.length);
    let minD2 = new Float32Array(keys.length);
    const counts = new Int32Array(65_537);
    let wide = false;
    for (let i = 0; i < n; i++) if (keys[i] > 0xffffffff) wide = true;
    // Digit `d` of a key: bits 16d .. 16d + 15 (the low 32 bits by ToInt32, the rest by division).
    const digit = (key: number, d: number) =>
      d < 2 ? (key >>> (16 * d)) & 0xffff : Math.floor(key / 4294967296) & 0xffff;
    for (let d = 0; d < (wide ? 3 : 2); d++) {
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[digit(keys[i], d) + 1]++;
      for (let c = 0; c < 65_536; c++) counts[c + 1] += counts[c];
      for (let i = 0; i < n; i++) {
        const at = counts[digit(keys[i], d)]++;
        keys2[at] = keys[i];
        closeS2[at] = closeS[i];
        minD2[at] = minD[i];
      }
      [keys, keys2] = [keys2, keys];
      [closeS, closeS2] = [closeS2, closeS];
      [minD, minD2] = [minD2, minD];
    }
    let out = 0;
    for (let i = 0; i < n; i++) {
      if (out > 0 && keys[out - 1] === keys[i]) {
        closeS[out - 1] += closeS[i];
        if (minD[i] < minD[out - 1]) minD[out - 1] = minD[i];
      } else {
        keys[out] = keys[i];
        closeS[out] = closeS[i];
        minD[out] = minD[i];
        out++;
      }
    }
    this.keys = keys;
    this.closeS = closeS;
    this.minDistanceM = minD;
    this.size = out;
  }

  private grow(capacity: number): void {
    if (capacity === this.keys.length) return;
    const keys = new Float64Array(capacity);
    const closeS = new Float32Array(capacity);
    const minD = new Float32Array(capacity);
    const n = Math.min(this.size, capacity);
    keys.set(this.keys.subarray(0, n));
    closeS.set(this.closeS.subarray(0, n));
    minD.set(this.minDistanceM.subarray(0, n));
    this.keys = keys;
    this.closeS = closeS;
    this.minDistanceM = minD;
  }
}

/**
 * Ground truth: who was how close to whom, for how long. Every `sampleEveryS` seconds of virtual
 * time the true distance of every pair within `rangeM` is sampled; each sample within
 * `closeDistanceM` adds `sampleEveryS` to the pair's close time. A close contact is a pair with at
 * least `closeMinutes` of cumulative close time (ECDC/CDC: within 2 m for 15 minutes or more).
 *
 * Storage is a `PairCache` holding only pairs that have been close at least once (or are within
 * `rangeM` now): 4 + 12 bytes per slot.
 */
import { PairCache } from "./pair-cache.js";
import type { SpatialGrid } from "./spatial-grid.js";

export interface GroundTruthOptions {
  /** Sampling period, seconds. Default 1. */
  sampleEveryS?: number;
  /** Pairs farther apart are not looked at, metres. Default 5. */
  rangeM?: number;
  /** Default 2 m (ECDC 2020, "Contact tracing: public health management of persons..."). */
  closeDistanceM?: number;
  /** Default 15 minutes (same source). */
  closeMinutes?: number;
  /** Called for every sampled pair within `rangeM` (a distance trace, if one is wanted). */
  onSample?: (a: number, b: number, distanceM: number, atMs: number) => void;
}

export interface CloseContact {
  readonly a: number;
  readonly b: number;
  readonly closeMinutes: number;
  readonly minDistanceM: number;
}

const CLOSE_S = 0;
const MIN_DISTANCE_M = 1;
const SEEN_AT_S = 2;
const COLUMNS = 3;

export class GroundTruth {
  readonly sampleEveryS: number;
  readonly rangeM: number;
  readonly closeDistanceM: number;
  readonly closeMinutes: number;
  /** Samples taken so far. */
  samples = 0;
  private readonly grid: SpatialGrid;
  private readonly cache: PairCache;
  private readonly onSample: GroundTruthOptions["onSample"];
  private nextSampleMs = 0;
  private sampleAtMs = 0;
  private weightS = 0;
  private lastSweepS = 0;

  constructor(grid: SpatialGrid, options: GroundTruthOptions = {}) {
    this.grid = grid;
    this.sampleEveryS = options.sampleEveryS ?? 1;
    this.rangeM = options.rangeM ?? 5;
    this.closeDistanceM = options.closeDistanceM ?? 2;
    this.closeMinutes = options.closeMinutes ?? 15;
    this.onSample = options.onSample;
    if (this.closeDistanceM > this.rangeM) {
      throw new RangeError(`closeDistanceM ${this.closeDistanceM} exceeds rangeM ${this.rangeM}`);
    }
    this.cache = new PairCache(grid.agents.capacity, COLUMNS, 2 * grid.agents.capacity);
  }

  /** Pairs stored, and the bytes their table holds. */
  get pairCount(): number {
    return this.cache.size;
  }

  get bytes(): number {
    return this.cache.bytes;
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
    this.samples++;
    this.grid.forEachPair(this.rangeM, this.record);
    const nowS = atMs / 1000;
    if (nowS - this.lastSweepS >= 60) {
      this.lastSweepS = nowS;
      this.cache.sweep(this.keepPair);
    }
    return true;
  }

  private readonly record = (a: number, b: number, distanceM: number): void => {
    this.onSample?.(a, b, distanceM, this.sampleAtMs);
    const slot = this.cache.findOrInsert(a, b);
    const v = this.cache.values;
    const base = slot * COLUMNS;
    if (this.cache.inserted) v[base + MIN_DISTANCE_M] = distanceM;
    else if (distanceM < v[base + MIN_DISTANCE_M]) v[base + MIN_DISTANCE_M] = distanceM;
    v[base + SEEN_AT_S] = this.sampleAtMs / 1000;
    if (distanceM <= this.closeDistanceM) v[base + CLOSE_S] += this.weightS;
  };

  /** Pairs never close are forgotten once out of range (they were only kept while near). */
  private readonly keepPair = (slot: number): boolean => {
    const base = slot * COLUMNS;
    const v = this.cache.values;
    return v[base + CLOSE_S] > 0 || v[base + SEEN_AT_S] * 1000 >= this.sampleAtMs;
  };

  /** Cumulative seconds pair {a, b} spent within `closeDistanceM` (0 when never). */
  closeSeconds(a: number, b: number): number {
    const slot = this.cache.find(a, b);
    return slot < 0 ? 0 : this.cache.values[slot * COLUMNS + CLOSE_S];
  }

  /** Smallest sampled distance of pair {a, b} within `rangeM`, or `undefined` when never that near. */
  minDistanceM(a: number, b: number): number | undefined {
    const slot = this.cache.find(a, b);
    return slot < 0 ? undefined : this.cache.values[slot * COLUMNS + MIN_DISTANCE_M];
  }

  /** Calls `callback` for every pair with some close time, in table order (no allocation). */
  forEachClosePair(
    callback: (a: number, b: number, closeS: number, minDistanceM: number) => void,
  ): void {
    const cache = this.cache;
    for (let s = 0; s < cache.slotCount; s++) {
      const low = cache.lowAt(s);
      if (low < 0) continue;
      const closeS = cache.values[s * COLUMNS + CLOSE_S];
      if (closeS > 0)
        callback(low, cache.highAt(s), closeS, cache.values[s * COLUMNS + MIN_DISTANCE_M]);
    }
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

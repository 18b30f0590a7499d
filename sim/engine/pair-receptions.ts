import type { Propagation } from "../world/propagation.js";
import { DRAW_NONE, type ReceptionTables } from "../world/reception.js";
import { ADVERTISING_INTERVAL_MS, PDU_AIRTIME_MS, type ReceptionSink } from "./advertising.js";

/** Uniforms in [0, 1): the link layer's own stream or a stream per (receiver, step). */
export interface Uniforms {
  float(): number;
}

/**
 * A pair's receptions in one step, drawn by count, and the link layer's counts. The near pairs'
 * pass and the receiver pass (far pairs, or a venue's receiver whole) both draw through `draw`,
 * so they consume their streams the same way.
 */
export class PairReceptions {
  private readonly propagation: Propagation;
  private readonly tables: ReceptionTables;
  private readonly sensitivityDbm: number;
  private readonly saturationDbm: number;
  private readonly dwellMs: number;
  /** Advertising events of the neighbours in range, since the last `takeCounts`. */
  heardAt = 0;
  /** Of those, the events not received (below the receiver's sensitivity). */
  below = 0;
  /** Received advertisements lost to a collision with another advertiser. */
  collisions = 0;

  constructor(propagation: Propagation, dwellMs: number) {
    this.propagation = propagation;
    this.tables = propagation.reception;
    this.sensitivityDbm = propagation.params.sensitivityDbm;
    this.saturationDbm = propagation.params.saturationDbm;
    this.dwellMs = dwellMs;
  }

  /** Events, events below sensitivity and collisions since the last call. */
  takeCounts(): [number, number, number] {
    const out: [number, number, number] = [this.heardAt, this.below, this.collisions];
    this.heardAt = 0;
    this.below = 0;
    this.collisions = 0;
    return out;
  }

  /**
   * Sender `t`'s `events` advertisements to receiver `r` (squared distance `d2`), one every
   * advertising interval from `firstMs`: each reaches the receiver's cut independently, so the
   * index of the next reception is drawn by inverting its geometric law with one uniform, whose
   * position inside the winning interval is the uniform of the received value. `w` is the first
   * of those uniforms when the caller already drew it (to skip pairs that hear nothing), 0 to
   * draw it here. Each reception is lost to a collision with `collisionP` (one more uniform);
   * the rest go to `sink`. Returns the events not received, collisions aside.
   */
  draw(
    random: Uniforms,
    r: number,
    t: number,
    d2: number,
    firstMs: number,
    events: number,
    w: number,
    collisionP: number,
    scanStartMs: number,
    sink: ReceptionSink,
  ): number {
    const { propagation, tables, saturationDbm, dwellMs } = this;
    const meanDbm = propagation.linkMeanDbm(t, r, d2);
    const kind = propagation.drawKind;
    // Each advertisement is received when its per-advertisement term reaches `cutDb`.
    const cutDb = this.sensitivityDbm - meanDbm;
    const p = kind === DRAW_NONE ? 0 : tables.probabilityAtLeast(kind, cutDb);
    if (!(p > 0)) return events;
    const miss = 1 - p;
    let received = 0;
    let collisions = 0;
    for (let e = 0; e < events; ) {
      if (w === 0) w = 1 - random.float(); // (0, 1]
      let before = 1; // P(no reception among the first m events left)
      let after = miss; // ... among the first m + 1
      let m = 0;
      const left = events - e;
      while (m < left && after >= w) {
        before = after;
        after *= miss;
        m++;
      }
      if (m === left) break;
      e += m;
      received++;
      const v = (before - w) / (before - after);
      w = 0;
      const eventMs = firstMs + e * ADVERTISING_INTERVAL_MS;
      e++;
      if (collisionP > 0 && random.float() < collisionP) {
        collisions++;
        continue;
      }
      const dbm = meanDbm + tables.drawAtLeast(kind, cutDb, v < 1 ? v : 0);
      const rssiDbm = Math.min(Math.round(dbm), saturationDbm);
      const channel = 37 + (Math.floor((eventMs - scanStartMs) / dwellMs) % 3);
      sink.push(r, t, eventMs, rssiDbm, channel);
    }
    this.collisions += collisions;
    return events - received;
  }
}

/** Chance that another advertiser's PDU overlaps one on the same channel (pure ALOHA). */
export function collisionProbability(advertisers: number): number {
  return 1 - Math.exp((-2 * advertisers * PDU_AIRTIME_MS) / ADVERTISING_INTERVAL_MS);
}

import type { SeededRandom } from "../../src/core/random.js";
import type { Propagation } from "../world/propagation.js";
import { DRAW_NONE } from "../world/reception.js";
import { ADVERTISING_INTERVAL_MS, type DeliverFar, type FirstEvents } from "./advertising.js";

/**
 * One receiver's near pairs for one step (the pairs the far pass set aside, or a query of their
 * own when a worker hears the far pairs): cached shadowing, `Propagation`'s state, and the link
 * layer's own stream, so they are heard in this thread, receiver after receiver, in order.
 * Receptions are drawn by count and handed to `deliver` as they are drawn.
 */
export class NearPairPass {
  private readonly propagation: Propagation;
  private readonly random: SeededRandom;
  private readonly dwellMs: number;
  private readonly deliver: DeliverFar;
  private heardAt = 0;
  private below = 0;
  private collisions = 0;

  constructor(
    propagation: Propagation,
    random: SeededRandom,
    dwellMs: number,
    deliver: DeliverFar,
  ) {
    this.propagation = propagation;
    this.random = random;
    this.dwellMs = dwellMs;
    this.deliver = deliver;
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
   * Hears receiver `r`'s near pairs, the first `listed` of `list` (squared distances in
   * `listD2`), over `[a, b)`, each advertisement lost to a collision with `collisionP`.
   */
  run(
    r: number,
    a: number,
    b: number,
    scanStartMs: number,
    collisionP: number,
    list: Int32Array,
    listD2: Float64Array,
    listed: number,
    firstEvents: FirstEvents,
  ): void {
    const { propagation, random } = this;
    const tables = propagation.reception;
    const { sensitivityDbm, saturationDbm } = propagation.params;
    let heardAt = 0;
    let below = 0;
    let collisions = 0;
    for (let k = 0; k < listed; k++) {
      const t = list[k];
      const d2 = listD2[k];
      const firstMs = firstEvents.at(t, a);
      if (firstMs >= b) continue;
      const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
      heardAt += events;
      // People in between only weaken the signal: when even without them no advertisement
      // can reach the cut, they need not be counted (and nothing is drawn either way).
      const upperDbm = propagation.linkMeanUpperDbm(t, r, d2);
      if (!(tables.probabilityAtLeast(propagation.drawKind, sensitivityDbm - upperDbm) > 0)) {
        below += events;
        continue;
      }
      const meanDbm = propagation.linkMeanDbm(t, r, d2);
      const kind = propagation.drawKind;
      // Each advertisement is received when its per-advertisement term reaches `cutDb`.
      const cutDb = sensitivityDbm - meanDbm;
      const p = kind === DRAW_NONE ? 0 : tables.probabilityAtLeast(kind, cutDb);
      if (!(p > 0)) {
        below += events;
        continue;
      }
      const miss = 1 - p;
      let received = 0;
      for (let e = 0; e < events; ) {
        // Index of the next reception: invert its geometric law with one uniform, whose
        // position inside the winning interval is the uniform of the received value.
        const w = 1 - random.float(); // (0, 1]
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
        const eventMs = firstMs + e * ADVERTISING_INTERVAL_MS;
        e++;
        if (collisionP > 0 && random.float() < collisionP) {
          collisions++;
          continue;
        }
        const dbm = meanDbm + tables.drawAtLeast(kind, cutDb, v < 1 ? v : 0);
        const rssiDbm = Math.min(Math.round(dbm), saturationDbm);
        const channel = 37 + (Math.floor((eventMs - scanStartMs) / this.dwellMs) % 3);
        this.deliver(r, t, eventMs, rssiDbm, channel);
      }
      below += events - received;
    }
    this.heardAt += heardAt;
    this.below += below;
    this.collisions += collisions;
  }
}

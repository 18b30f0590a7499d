import type { Agents } from "../world/agents.js";
import type { Propagation } from "../world/propagation.js";
import { DRAW_NONE } from "../world/reception.js";
import type { SpatialGrid } from "../world/spatial-grid.js";
import { StreamRandom } from "../world/stream-random.js";
import {
  ADVERTISING_INTERVAL_MS,
  type FirstEvents,
  PDU_AIRTIME_MS,
  type ReceptionSink,
} from "./advertising.js";

/**
 * One receiver of a world of venues, heard whole for one step: the neighbour query over the
 * reception range (everyone it returns is in the receiver's venue), then each neighbour near or
 * far as the link layer's two passes do, all from one stream per (receiver, step). With the
 * propagation model's pair streams (`Propagation.usePairStreams`), what it hears depends only on
 * the world's state and the receiver's venue-mates: any thread holding a copy of the venue gets
 * the same receptions.
 */
export class VenuePass {
  private readonly agents: Agents;
  private readonly grid: SpatialGrid;
  private readonly propagation: Propagation;
  private readonly rangeM: number;
  private readonly dwellMs: number;
  private readonly seed: number;
  private readonly random = new StreamRandom();
  private readonly neighbours: Int32Array;
  private readonly neighbourD2: Float64Array;
  private readonly cullD2: Float64Array[];
  private heardAt = 0;
  private below = 0;
  private collisions = 0;

  constructor(
    agents: Agents,
    grid: SpatialGrid,
    propagation: Propagation,
    rangeM: number,
    dwellMs: number,
    seed: number,
  ) {
    this.agents = agents;
    this.grid = grid;
    this.propagation = propagation;
    this.rangeM = rangeM;
    this.dwellMs = dwellMs;
    this.seed = seed;
    this.neighbours = new Int32Array(agents.capacity);
    this.neighbourD2 = new Float64Array(agents.capacity);
    this.cullD2 = [0, 1, 2].map((c) => propagation.cullDistancesSquared(c, new Float64Array(3)));
  }

  takeCounts(): [number, number, number] {
    const out: [number, number, number] = [this.heardAt, this.below, this.collisions];
    this.heardAt = 0;
    this.below = 0;
    this.collisions = 0;
    return out;
  }

  run(
    r: number,
    a: number,
    b: number,
    scanStartMs: number,
    firstEvents: FirstEvents,
    step: number,
    sink: ReceptionSink,
  ): void {
    const { agents, grid, propagation, neighbours, neighbourD2, random } = this;
    const tables = propagation.reception;
    const { sensitivityDbm, saturationDbm } = propagation.params;
    const count = grid.neighboursByClass(
      r,
      this.rangeM,
      agents.carry,
      this.cullD2[agents.carry[r]],
      neighbours,
      neighbourD2,
    );
    const kept = grid.kept;
    let heardAt = 0;
    let below = 0;
    let collisions = 0;
    for (let n = neighbours.length - (count - kept); n < neighbours.length; n++) {
      const firstMs = firstEvents.at(neighbours[n], a);
      if (firstMs >= b) continue;
      const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
      heardAt += events;
      below += events;
    }
    random.reseed(this.seed, r, step);
    const collisionP = 1 - Math.exp((-2 * count * PDU_AIRTIME_MS) / ADVERTISING_INTERVAL_MS);
    for (let n = 0; n < kept; n++) {
      const t = neighbours[n];
      const d2 = neighbourD2[n];
      const firstMs = firstEvents.at(t, a);
      if (firstMs >= b) continue;
      const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
      heardAt += events;
      const bound = propagation.receptionBound(t, r, d2);
      let w = 1 - random.float(); // (0, 1]
      if (bound === Number.POSITIVE_INFINITY) {
        // A near pair: skip it without counting people in between when even without them
        // nothing can be heard.
        const upperDbm = propagation.linkMeanUpperDbm(t, r, d2);
        if (!(tables.probabilityAtLeast(propagation.drawKind, sensitivityDbm - upperDbm) > 0)) {
          below += events;
          continue;
        }
      } else if (w <= 1 - events * bound) {
        below += events;
        continue;
      }
      const meanDbm = propagation.linkMeanDbm(t, r, d2);
      const kind = propagation.drawKind;
      const cutDb = sensitivityDbm - meanDbm;
      const p = kind === DRAW_NONE ? 0 : tables.probabilityAtLeast(kind, cutDb);
      if (!(p > 0)) {
        below += events;
        continue;
      }
      const miss = 1 - p;
      let received = 0;
      for (let e = 0; e < events; ) {
        if (w === 0) w = 1 - random.float();
        let before = 1;
        let after = miss;
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
        const channel = 37 + (Math.floor((eventMs - scanStartMs) / this.dwellMs) % 3);
        sink.push(r, t, eventMs, rssiDbm, channel);
      }
      below += events - received;
    }
    this.heardAt += heardAt;
    this.below += below;
    this.collisions += collisions;
  }
}

import type { Agents } from "../world/agents.js";
import type { Propagation } from "../world/propagation.js";
import type { SpatialGrid } from "../world/spatial-grid.js";
import { StreamRandom } from "../world/stream-random.js";
import { ADVERTISING_INTERVAL_MS, type FirstEvents, type ReceptionSink } from "./advertising.js";
import { collisionProbability, PairReceptions, type Uniforms } from "./pair-receptions.js";

/**
 * One receiver's neighbours for one step, from a stream of its own per (receiver, step): the
 * query over the whole reception range (which also counts the advertisers on the air), the
 * events of neighbours that cannot be heard at all, and the receptions of the rest, drawn by
 * count. It hears far pairs only and sets the near ones aside for `runNear` (cached shadowing,
 * `Propagation`'s state, the link layer's own stream), or, in a world of venues, hears the
 * receiver whole:
 * with the propagation model's pair streams (`Propagation.usePairStreams`) what it hears then
 * depends only on the world's state and the receiver's venue-mates, so any thread holding a copy
 * of the venue gets the same receptions (the venue shards).
 */
export class ReceiverPass {
  private readonly agents: Agents;
  private readonly grid: SpatialGrid;
  private readonly propagation: Propagation;
  private readonly rangeM: number;
  private readonly seed: number;
  private readonly nearAside: boolean;
  private readonly random = new StreamRandom();
  private readonly neighbours: Int32Array;
  private readonly neighbourD2: Float64Array;
  private readonly cullD2: Float64Array[];
  private readonly receptions: PairReceptions;
  /** With `nearAside`, the last `run`'s near neighbours (in grid order) and their squared distances. */
  private readonly near: Int32Array;
  private readonly nearD2: Float64Array;
  private nearCount = 0;
  /** The last `run`'s chance of a collision (`collisionProbability` of its advertisers). */
  private collisionP = 0;

  constructor(
    agents: Agents,
    grid: SpatialGrid,
    propagation: Propagation,
    options: { rangeM: number; dwellMs: number; seed: number; nearAside: boolean },
  ) {
    this.agents = agents;
    this.grid = grid;
    this.propagation = propagation;
    this.rangeM = options.rangeM;
    this.seed = options.seed;
    this.nearAside = options.nearAside;
    this.neighbours = new Int32Array(agents.capacity);
    this.neighbourD2 = new Float64Array(agents.capacity);
    this.near = new Int32Array(options.nearAside ? agents.capacity : 0);
    this.nearD2 = new Float64Array(options.nearAside ? agents.capacity : 0);
    this.cullD2 = [0, 1, 2].map((c) => propagation.cullDistancesSquared(c, new Float64Array(3)));
    this.receptions = new PairReceptions(propagation, options.dwellMs);
  }

  /** Bytes of the neighbour lists. */
  get bytes(): number {
    return (
      this.neighbours.byteLength +
      this.neighbourD2.byteLength +
      this.near.byteLength +
      this.nearD2.byteLength
    );
  }

  /** Events, events below sensitivity and collisions since the last call. */
  takeCounts(): [number, number, number] {
    return this.receptions.takeCounts();
  }

  /** Hears receiver `r` over `[a, b)` into `sink`; returns the advertisers within range. */
  run(
    r: number,
    a: number,
    b: number,
    scanStartMs: number,
    firstEvents: FirstEvents,
    step: number,
    sink: ReceptionSink,
  ): number {
    const { agents, grid, propagation, neighbours, neighbourD2, near, nearD2, random } = this;
    const { nearAside, receptions } = this;
    const tables = propagation.reception;
    const sensitivityDbm = propagation.params.sensitivityDbm;
    const count = grid.neighboursByClass(
      r,
      this.rangeM,
      agents.carry,
      this.cullD2[agents.carry[r]],
      neighbours,
      neighbourD2,
    );
    const kept = grid.kept;
    let nearCount = 0;
    let heardAt = 0;
    let below = 0;
    // Neighbours that cannot be heard at all (by their carry position): only their events.
    for (let n = neighbours.length - (count - kept); n < neighbours.length; n++) {
      const firstMs = firstEvents.at(neighbours[n], a);
      if (firstMs >= b) continue;
      const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
      heardAt += events;
      below += events;
    }
    random.reseed(this.seed, r, step);
    const collisionP = collisionProbability(count);
    for (let n = 0; n < kept; n++) {
      const t = neighbours[n];
      const d2 = neighbourD2[n];
      const bound = propagation.receptionBound(t, r, d2);
      if (nearAside && bound === Number.POSITIVE_INFINITY) {
        near[nearCount] = t;
        nearD2[nearCount++] = d2;
        continue;
      }
      const firstMs = firstEvents.at(t, a);
      if (firstMs >= b) continue;
      const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
      heardAt += events;
      const w = 1 - random.float(); // (0, 1]
      if (bound === Number.POSITIVE_INFINITY) {
        // A near pair heard here: skip it without counting people in between when even
        // without them nothing can be heard.
        const upperDbm = propagation.linkMeanUpperDbm(t, r, d2);
        if (!(tables.probabilityAtLeast(propagation.drawKind, sensitivityDbm - upperDbm) > 0)) {
          below += events;
          continue;
        }
      } else if (w <= 1 - events * bound) {
        // A far pair: the first uniform decides whether anything is received at all (nothing
        // iff w <= (1 - p)^events, and (1 - p)^events >= 1 - events * bound). Most far pairs
        // stop here, before their path loss is computed.
        below += events;
        continue;
      }
      below += receptions.draw(random, r, t, d2, firstMs, events, w, collisionP, scanStartMs, sink);
    }
    this.nearCount = nearCount;
    this.collisionP = collisionP;
    receptions.heardAt += heardAt;
    receptions.below += below;
    return count;
  }

  /**
   * Hears the near pairs the last `run` set aside, from `random` (the link layer's own stream:
   * near pairs use `Propagation`'s cached shadowing, so they are heard in one thread, receiver
   * after receiver, in order), into `sink` as they are drawn.
   */
  runNear(
    r: number,
    a: number,
    b: number,
    scanStartMs: number,
    firstEvents: FirstEvents,
    random: Uniforms,
    sink: ReceptionSink,
  ): void {
    const { propagation, near, nearD2, receptions, collisionP } = this;
    const tables = propagation.reception;
    const sensitivityDbm = propagation.params.sensitivityDbm;
    let heardAt = 0;
    let below = 0;
    for (let k = 0; k < this.nearCount; k++) {
      const t = near[k];
      const d2 = nearD2[k];
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
      below += receptions.draw(random, r, t, d2, firstMs, events, 0, collisionP, scanStartMs, sink);
    }
    receptions.heardAt += heardAt;
    receptions.below += below;
  }
}

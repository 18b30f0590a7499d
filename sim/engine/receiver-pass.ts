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

/** Uniforms in [0, 1): the link layer's own stream. */
export interface Uniforms {
  float(): number;
}

/** What `hear` does with a list of neighbours. */
const FAR_PAIRS = 0; // far pairs; near ones set aside for `runNear`
const WHOLE = 1; // near and far pairs alike (a world of venues)
const NEAR_PAIRS = 2; // the near pairs set aside

/**
 * One receiver's neighbours for one step: the query over the whole reception range (which also
 * counts the advertisers on the air), the events of neighbours that cannot be heard at all, and
 * the receptions of the rest, drawn by count (see `hear`) from a stream of its own per
 * (receiver, step). It hears far pairs and sets the near ones aside for `runNear` (cached
 * shadowing, `Propagation`'s state, the link layer's own stream), or, in a world of venues,
 * hears the receiver whole: with the propagation model's pair streams
 * (`Propagation.usePairStreams`) what it hears then depends only on the world's state and the
 * receiver's venue-mates, so any thread holding a copy of the venue gets the same receptions
 * (the venue shards).
 */
export class ReceiverPass {
  private readonly agents: Agents;
  private readonly grid: SpatialGrid;
  private readonly propagation: Propagation;
  private readonly rangeM: number;
  private readonly dwellMs: number;
  private readonly seed: number;
  private readonly nearAside: boolean;
  private readonly random = new StreamRandom();
  /** `runNear`'s stream and sink (kept apart from `run`'s, so that each call site sees one shape). */
  private nearRandom: Uniforms | undefined;
  private nearSink: ReceptionSink | undefined;
  private readonly neighbours: Int32Array;
  private readonly neighbourD2: Float64Array;
  private readonly cullD2: Float64Array[];
  /** With `nearAside`, the last `run`'s near neighbours (in grid order) and their squared distances. */
  private readonly near: Int32Array;
  private readonly nearD2: Float64Array;
  private nearCount = 0;
  /** The last `run`'s chance that another advertiser's PDU overlaps one (pure ALOHA). */
  private collisionP = 0;
  private heardAt = 0;
  private below = 0;
  private collisions = 0;

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
    this.dwellMs = options.dwellMs;
    this.seed = options.seed;
    this.nearAside = options.nearAside;
    this.neighbours = new Int32Array(agents.capacity);
    this.neighbourD2 = new Float64Array(agents.capacity);
    this.near = new Int32Array(options.nearAside ? agents.capacity : 0);
    this.nearD2 = new Float64Array(options.nearAside ? agents.capacity : 0);
    this.cullD2 = [0, 1, 2].map((c) => propagation.cullDistancesSquared(c, new Float64Array(3)));
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

  /** Advertising events of the neighbours in range, those not received, and collisions, since the last call. */
  takeCounts(): [number, number, number] {
    const out: [number, number, number] = [this.heardAt, this.below, this.collisions];
    this.heardAt = 0;
    this.below = 0;
    this.collisions = 0;
    return out;
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
    const { agents, grid, neighbours } = this;
    const count = grid.neighboursByClass(
      r,
      this.rangeM,
      agents.carry,
      this.cullD2[agents.carry[r]],
      neighbours,
      this.neighbourD2,
    );
    const kept = grid.kept;
    // Neighbours that cannot be heard at all (by their carry position): only their events.
    let culled = 0;
    for (let n = neighbours.length - (count - kept); n < neighbours.length; n++) {
      const firstMs = firstEvents.at(neighbours[n], a);
      if (firstMs >= b) continue;
      culled += Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
    }
    this.heardAt += culled;
    this.below += culled;
    this.random.reseed(this.seed, r, step);
    this.collisionP = 1 - Math.exp((-2 * count * PDU_AIRTIME_MS) / ADVERTISING_INTERVAL_MS);
    const mode = this.nearAside ? FAR_PAIRS : WHOLE;
    this.hear(mode, neighbours, this.neighbourD2, kept, r, a, b, scanStartMs, firstEvents, sink);
    return count;
  }

  /**
   * Hears the near pairs the last `run` set aside, from `random` (the link layer's own stream:
   * near pairs use `Propagation`'s cached shadowing, so they are heard in one thread, receiver
   * after receiver, in order), into `sink`.
   *
   * `draw` keeps `random` and `sink` apart from `run`'s stream and sink (two call sites, each
   * of one shape): passed through the same parameters, two shapes cost the continuous-scanning
   * bench about 6 %.
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
    const { near, nearD2, nearCount } = this;
    this.nearRandom = random;
    this.nearSink = sink;
    this.hear(NEAR_PAIRS, near, nearD2, nearCount, r, a, b, scanStartMs, firstEvents, sink);
  }

  /**
   * Hears the first `listed` of `list` (squared distances in `listD2`) at receiver `r` over
   * `[a, b)`: one loop for the three kinds of list (`mode`), which skips the pairs that cannot be
   * heard before their path loss is computed and draws the others' receptions (`draw`).
   */
  private hear(
    mode: number,
    list: Int32Array,
    listD2: Float64Array,
    listed: number,
    r: number,
    a: number,
    b: number,
    scanStartMs: number,
    firstEvents: FirstEvents,
    sink: ReceptionSink,
  ): void {
    const { propagation, near, nearD2, random } = this;
    const tables = propagation.reception;
    const sensitivityDbm = propagation.params.sensitivityDbm;
    let nearCount = 0;
    let heardAt = 0;
    let below = 0;
    for (let k = 0; k < listed; k++) {
      const t = list[k];
      const d2 = listD2[k];
      const bound =
        mode === NEAR_PAIRS ? Number.POSITIVE_INFINITY : propagation.receptionBound(t, r, d2);
      if (mode === FAR_PAIRS && bound === Number.POSITIVE_INFINITY) {
        near[nearCount] = t;
        nearD2[nearCount++] = d2;
        continue;
      }
      const firstMs = firstEvents.at(t, a);
      if (firstMs >= b) continue;
      const events = Math.ceil((b - firstMs) / ADVERTISING_INTERVAL_MS);
      heardAt += events;
      // Near pairs set aside draw their first uniform in the loop below.
      const w = mode === NEAR_PAIRS ? 0 : 1 - random.float(); // (0, 1]
      if (bound === Number.POSITIVE_INFINITY) {
        // A near pair: people in between only weaken the signal, so when even without them no
        // advertisement can reach the cut, they need not be counted (nothing is drawn).
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
      below += this.draw(mode === NEAR_PAIRS, r, t, d2, firstMs, events, w, scanStartMs, sink);
    }
    if (mode === FAR_PAIRS) this.nearCount = nearCount;
    this.heardAt += heardAt;
    this.below += below;
  }

  /**
   * Pair (`t` → `r`)'s `events` advertisements from `firstMs`: they reach the receiver's cut
   * independently, so the index of the next reception is drawn by inverting its geometric law
   * with one uniform, whose position inside the winning interval is the uniform of the received
   * value; each reception is then lost to a collision with `collisionP` (one more uniform). `w`
   * is the first uniform if the caller drew it, else 0. A near pair draws from `runNear`'s
   * stream into its sink, any other from the pass's own stream into `sink`. Returns the events
   * not received.
   */
  private draw(
    near: boolean,
    r: number,
    t: number,
    d2: number,
    firstMs: number,
    events: number,
    w: number,
    scanStartMs: number,
    sink: ReceptionSink,
  ): number {
    const { propagation, collisionP, dwellMs, random } = this;
    const nearRandom = this.nearRandom!;
    const tables = propagation.reception;
    const { sensitivityDbm, saturationDbm } = propagation.params;
    let collisions = 0;
    const meanDbm = propagation.linkMeanDbm(t, r, d2);
    const kind = propagation.drawKind;
    // Each advertisement is received when its per-advertisement term reaches `cutDb`.
    const cutDb = sensitivityDbm - meanDbm;
    const p = kind === DRAW_NONE ? 0 : tables.probabilityAtLeast(kind, cutDb);
    if (!(p > 0)) return events;
    const miss = 1 - p;
    let received = 0;
    for (let e = 0; e < events; ) {
      if (w === 0) w = 1 - (near ? nearRandom.float() : random.float());
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
      if (collisionP > 0 && (near ? nearRandom.float() : random.float()) < collisionP) {
        collisions++;
        continue;
      }
      const dbm = meanDbm + tables.drawAtLeast(kind, cutDb, v < 1 ? v : 0);
      const rssiDbm = Math.min(Math.round(dbm), saturationDbm);
      const channel = 37 + (Math.floor((eventMs - scanStartMs) / dwellMs) % 3);
      if (near) this.nearSink!.push(r, t, eventMs, rssiDbm, channel);
      else sink.push(r, t, eventMs, rssiDbm, channel);
    }
    this.collisions += collisions;
    return events - received;
  }
}

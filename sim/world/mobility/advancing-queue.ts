/**
 * A queue that advances: visitors arrive as a Poisson process, join the tail of a straight line,
 * step forward as the line moves, are served one at a time at the head (a checkpoint scanner, a
 * ticket desk), then walk off and leave the scene. Members not in the scene wait in a pool and
 * are reused, so the footfall is not limited by the member count (only the queue length is).
 */
import type { Random } from "../../../src/core/random.js";
import { type Agents, MobilityKind } from "../agents.js";
import type { MobilityModel } from "./mobility-model.js";
import { moveToward, standStill } from "./move-toward.js";

export interface AdvancingQueueOptions {
  /** Where the person being served stands. */
  headXM: number;
  headYM: number;
  /** Direction from the head toward the tail (normalised here). */
  towardTailX: number;
  towardTailY: number;
  /**
   * Distance between people in the line, metres. Default 0.9: queues keep about 0.5-1 m between
   * bodies (Fruin 1971, Pedestrian Planning and Design, queueing level of service B-C).
   */
  spacingM?: number;
  /** Service time at the head, seconds, uniform in the range. Default [5, 15] (a choice). */
  serviceS?: readonly [number, number];
  /** Mean arrivals per minute (Poisson). Default 4. */
  arrivalsPerMinute?: number;
  /** Where served people walk to (relative to the head) before leaving. Default 5 m ahead. */
  exitDxM?: number;
  exitDyM?: number;
  /** Walking speed, m/s. Default 1.2 (see `RandomWaypoint`). */
  speedMps?: number;
  /** People already in line at the start. Default 0. */
  initialLength?: number;
}

const OUTSIDE = 0;
const QUEUING = 1;
const SERVED = 2;
const LEAVING = 3;

export class AdvancingQueue implements MobilityModel {
  readonly kind = MobilityKind.queue;
  readonly members: Int32Array;
  /** Agent indices in line, head first: `line[(lineStart + k) % capacity]` for k < lineLength. */
  readonly line: Int32Array;
  lineStart = 0;
  lineLength = 0;
  /** Visitors served so far, and arrivals turned away because every member was in the scene. */
  served = 0;
  dropped = 0;
  private readonly phase: Uint8Array;
  private readonly pool: Int32Array;
  private poolSize = 0;
  private readonly slotOfAgent: Map<number, number>;
  private elapsedMs = 0;
  private nextArrivalMs = 0;
  private readonly headXM: number;
  private readonly headYM: number;
  private readonly ux: number;
  private readonly uy: number;
  private readonly spacingM: number;
  private readonly serviceMinMs: number;
  private readonly serviceMaxMs: number;
  private readonly arrivalsPerMs: number;
  private readonly exitXM: number;
  private readonly exitYM: number;
  private readonly speedMps: number;
  private readonly initialLength: number;

  constructor(members: Int32Array, options: AdvancingQueueOptions) {
    this.members = members;
    this.line = new Int32Array(Math.max(1, members.length));
    this.phase = new Uint8Array(members.length);
    this.pool = new Int32Array(members.length);
    this.slotOfAgent = new Map();
    for (let k = 0; k < members.length; k++) this.slotOfAgent.set(members[k], k);
    this.headXM = options.headXM;
    this.headYM = options.headYM;
    const norm = Math.hypot(options.towardTailX, options.towardTailY) || 1;
    this.ux = options.towardTailX / norm;
    this.uy = options.towardTailY / norm;
    this.spacingM = options.spacingM ?? 0.9;
    const [serviceMinS, serviceMaxS] = options.serviceS ?? [5, 15];
    this.serviceMinMs = serviceMinS * 1000;
    this.serviceMaxMs = serviceMaxS * 1000;
    this.arrivalsPerMs = (options.arrivalsPerMinute ?? 4) / 60_000;
    this.exitXM = this.headXM + (options.exitDxM ?? -5 * this.ux);
    this.exitYM = this.headYM + (options.exitDyM ?? -5 * this.uy);
    this.speedMps = options.speedMps ?? 1.2;
    this.initialLength = Math.min(options.initialLength ?? 0, members.length);
  }

  /** Position along the line of agent `i`, metres from the head toward the tail. */
  offsetAlongLineM(agents: Agents, i: number): number {
    return (agents.xM[i] - this.headXM) * this.ux + (agents.yM[i] - this.headYM) * this.uy;
  }

  /** The agent at place `k` of the line (0 = head), or -1. */
  at(k: number): number {
    return k >= 0 && k < this.lineLength ? this.line[(this.lineStart + k) % this.line.length] : -1;
  }

  place(agents: Agents, random: Random): void {
    for (let k = this.members.length - 1; k >= 0; k--) {
      const i = this.members[k];
      agents.mobility[i] = this.kind;
      agents.present[i] = 0;
      agents.xM[i] = this.exitXM;
      agents.yM[i] = this.exitYM;
      this.pool[this.poolSize++] = k;
    }
    for (let n = 0; n < this.initialLength; n++) {
      const i = this.join(agents);
      const s = n * this.spacingM;
      agents.xM[i] = this.headXM + s * this.ux;
      agents.yM[i] = this.headYM + s * this.uy;
    }
    this.nextArrivalMs = this.interArrivalMs(random);
  }

  step(agents: Agents, dtMs: number, random: Random): void {
    this.elapsedMs += dtMs;
    const dtS = dtMs / 1000;
    while (this.nextArrivalMs <= this.elapsedMs) {
      if (this.poolSize > 0 && this.lineLength < this.line.length) this.join(agents);
      else this.dropped++;
      this.nextArrivalMs += this.interArrivalMs(random);
    }
    // Service at the head.
    const head = this.at(0);
    if (head >= 0) {
      const h = this.slotOfAgent.get(head)!;
      const atHead = Math.abs(this.offsetAlongLineM(agents, head)) < 1e-6;
      if (this.phase[h] === QUEUING && atHead) {
        this.phase[h] = SERVED;
        agents.waitMs[head] =
          this.serviceMinMs + random.float() * (this.serviceMaxMs - this.serviceMinMs);
      } else if (this.phase[h] === SERVED) {
        agents.waitMs[head] -= dtMs;
        if (agents.waitMs[head] <= 0) {
          agents.waitMs[head] = 0;
          this.phase[h] = LEAVING;
          this.lineStart = (this.lineStart + 1) % this.line.length;
          this.lineLength--;
          this.served++;
        }
      }
    }
    // The line steps forward in order: nobody passes the person ahead.
    let aheadS = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < this.lineLength; k++) {
      const i = this.at(k);
      const s = this.offsetAlongLineM(agents, i);
      const slotS = k * this.spacingM;
      const limit = Math.max(slotS, aheadS + this.spacingM);
      const next = Math.max(s - this.speedMps * dtS, limit);
      const moved = Math.min(next, s);
      agents.xM[i] = this.headXM + moved * this.ux;
      agents.yM[i] = this.headYM + moved * this.uy;
      agents.vxMps[i] = dtS > 0 ? ((moved - s) * this.ux) / dtS : 0;
      agents.vyMps[i] = dtS > 0 ? ((moved - s) * this.uy) / dtS : 0;
      aheadS = moved;
    }
    // Served people walk off, then leave the scene.
    for (let k = 0; k < this.members.length; k++) {
      if (this.phase[k] !== LEAVING) continue;
      const i = this.members[k];
      if (moveToward(agents, i, this.exitXM, this.exitYM, this.speedMps, dtS)) {
        standStill(agents, i);
        agents.present[i] = 0;
        this.phase[k] = OUTSIDE;
        this.pool[this.poolSize++] = k;
      }
    }
  }

  private join(agents: Agents): number {
    const k = this.pool[--this.poolSize];
    const i = this.members[k];
    const place = this.lineLength;
    const tail = this.at(place - 1);
    const behindTailS = tail >= 0 ? this.offsetAlongLineM(agents, tail) + this.spacingM : 0;
    this.line[(this.lineStart + place) % this.line.length] = i;
    this.lineLength++;
    this.phase[k] = QUEUING;
    agents.present[i] = 1;
    // Walks in from two places behind the tail.
    const s = Math.max((place + 2) * this.spacingM, behindTailS);
    agents.xM[i] = this.headXM + s * this.ux;
    agents.yM[i] = this.headYM + s * this.uy;
    agents.waitMs[i] = 0;
    return i;
  }

  private interArrivalMs(random: Random): number {
    return -Math.log(1 - random.float()) / this.arrivalsPerMs;
  }
}

/**
 * Random waypoint (Johnson & Maltz 1996): walk in a straight line to a random target at a random
 * speed, pause, repeat. Targets are uniform in the area (outside the obstacles; the path itself
 * may cross one), or drawn from a list of spots (desks, a kitchen) when given.
 */
import type { Random } from "../../../src/core/random.js";
import { type Agents, MobilityKind } from "../agents.js";
import { clampX, clampY, type Rect, randomX, randomY, rectContains } from "../geometry.js";
import type { MobilityModel } from "./mobility-model.js";
import { moveToward, standStill } from "./move-toward.js";

export interface RandomWaypointOptions {
  area: Rect;
  /**
   * Walking speed range, m/s. Default [0.9, 1.5]: around the mean free walking speed of adults,
   * 1.2-1.4 m/s (Knoblauch, Pietrucha & Nitzburg 1996, Transportation Research Record 1538).
   */
  speedMps?: readonly [number, number];
  /** Pause at each waypoint, seconds, uniform in the range. Default [0, 60] (a choice). */
  pauseS?: readonly [number, number];
  /** Targets to choose from instead of the whole area: x, y pairs. */
  spots?: Float32Array;
  /** Targets land uniformly within this radius of the chosen spot (standing by a desk). Default 0. */
  spotRadiusM?: number;
  /** Rectangles no target may fall in. */
  obstacles?: readonly Rect[];
  /** Mobility kind written to the agents (groups reuse this model for their leaders). */
  kind?: MobilityKind;
}

export class RandomWaypoint implements MobilityModel {
  readonly kind: MobilityKind;
  readonly members: Int32Array;
  readonly area: Rect;
  private readonly speedMinMps: number;
  private readonly speedMaxMps: number;
  private readonly pauseMinMs: number;
  private readonly pauseMaxMs: number;
  private readonly spots: Float32Array | undefined;
  private readonly spotRadiusM: number;
  private readonly obstacles: readonly Rect[];

  constructor(members: Int32Array, options: RandomWaypointOptions) {
    this.members = members;
    this.area = options.area;
    this.kind = options.kind ?? MobilityKind.randomWaypoint;
    [this.speedMinMps, this.speedMaxMps] = options.speedMps ?? [0.9, 1.5];
    const [pauseMinS, pauseMaxS] = options.pauseS ?? [0, 60];
    this.pauseMinMs = pauseMinS * 1000;
    this.pauseMaxMs = pauseMaxS * 1000;
    this.spots = options.spots && options.spots.length >= 2 ? options.spots : undefined;
    this.obstacles = options.obstacles ?? [];
    this.spotRadiusM = options.spotRadiusM ?? 0;
  }

  place(agents: Agents, random: Random): void {
    for (let k = 0; k < this.members.length; k++) {
      const i = this.members[k];
      agents.mobility[i] = this.kind;
      this.chooseTarget(agents, i, random);
      agents.xM[i] = agents.homeXM[i] = agents.targetXM[i];
      agents.yM[i] = agents.homeYM[i] = agents.targetYM[i];
      // Start mid-pause or mid-walk so the crowd is not in lockstep.
      agents.waitMs[i] = random.float() * this.pauseMaxMs;
      this.chooseTarget(agents, i, random);
    }
  }

  step(agents: Agents, dtMs: number, random: Random): void {
    const dtS = dtMs / 1000;
    for (let k = 0; k < this.members.length; k++) {
      const i = this.members[k];
      if (agents.present[i] === 0) continue;
      this.stepOne(agents, i, dtMs, dtS, random);
    }
  }

  /** Advances one agent (groups call this for their leaders). */
  stepOne(agents: Agents, i: number, dtMs: number, dtS: number, random: Random): void {
    if (agents.waitMs[i] > 0) {
      agents.waitMs[i] -= dtMs;
      standStill(agents, i);
      if (agents.waitMs[i] <= 0) {
        agents.waitMs[i] = 0;
        this.chooseTarget(agents, i, random);
      }
      return;
    }
    if (moveToward(agents, i, agents.targetXM[i], agents.targetYM[i], agents.speedMps[i], dtS)) {
      agents.waitMs[i] = this.pauseMinMs + random.float() * (this.pauseMaxMs - this.pauseMinMs);
      if (agents.waitMs[i] <= 0) this.chooseTarget(agents, i, random);
    }
  }

  private chooseTarget(agents: Agents, i: number, random: Random): void {
    agents.speedMps[i] = this.speedMinMps + random.float() * (this.speedMaxMps - this.speedMinMps);
    if (this.spots) {
      const s = random.int(this.spots.length >> 1);
      const r = this.spotRadiusM * Math.sqrt(random.float());
      const a = 2 * Math.PI * random.float();
      agents.targetXM[i] = clampX(this.area, this.spots[2 * s] + r * Math.cos(a));
      agents.targetYM[i] = clampY(this.area, this.spots[2 * s + 1] + r * Math.sin(a));
      return;
    }
    let x = 0;
    let y = 0;
    for (let attempt = 0; attempt < 16; attempt++) {
      x = randomX(this.area, random);
      y = randomY(this.area, random);
      if (!this.insideObstacle(x, y)) break;
    }
    agents.targetXM[i] = x;
    agents.targetYM[i] = y;
  }

  private insideObstacle(xM: number, yM: number): boolean {
    for (const o of this.obstacles) if (rectContains(o, xM, yM)) return true;
    return false;
  }
}

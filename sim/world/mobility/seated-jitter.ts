/**
 * Seated (or standing still) people who shift a little: each agent's offset from its seat is an
 * Ornstein-Uhlenbeck process (a Gauss-Markov random walk pulled back to the seat), clipped at
 * three standard deviations.
 */
import type { Random } from "../../../src/core/random.js";
import { type Agents, MobilityKind } from "../agents.js";
import { randomNormal } from "../random-normal.js";
import type { MobilityModel } from "./mobility-model.js";

export interface SeatedJitterOptions {
  /**
   * Standard deviation of the offset from the seat, metres. Default 0.05: a modelling choice,
   * the scale of a seated person leaning and moving a hand-held phone.
   */
  jitterM?: number;
  /** Time constant of the offset's drift, seconds. Default 60 (a choice: slow fidgeting). */
  jitterTauS?: number;
}

export class SeatedJitter implements MobilityModel {
  readonly kind = MobilityKind.seated;
  readonly members: Int32Array;
  readonly jitterM: number;
  readonly jitterTauS: number;
  private readonly seats: Float32Array;

  /** `seats` holds x, y pairs; member k sits on seat k (there must be enough seats). */
  constructor(members: Int32Array, seats: Float32Array, options: SeatedJitterOptions = {}) {
    if (seats.length < 2 * members.length) {
      throw new RangeError(`${members.length} seated agents but only ${seats.length >> 1} seats`);
    }
    this.members = members;
    this.seats = seats;
    this.jitterM = options.jitterM ?? 0.05;
    this.jitterTauS = options.jitterTauS ?? 60;
  }

  place(agents: Agents, _random: Random): void {
    for (let k = 0; k < this.members.length; k++) {
      const i = this.members[k];
      agents.xM[i] = agents.homeXM[i] = agents.targetXM[i] = this.seats[2 * k];
      agents.yM[i] = agents.homeYM[i] = agents.targetYM[i] = this.seats[2 * k + 1];
      agents.mobility[i] = this.kind;
    }
  }

  step(agents: Agents, dtMs: number, random: Random): void {
    if (dtMs <= 0) return;
    const rho = Math.exp(-dtMs / (this.jitterTauS * 1000));
    const kick = this.jitterM * Math.sqrt(1 - rho * rho);
    const limit = 3 * this.jitterM;
    const dtS = dtMs / 1000;
    for (let k = 0; k < this.members.length; k++) {
      const i = this.members[k];
      if (agents.present[i] === 0) continue;
      let ox = rho * (agents.xM[i] - agents.homeXM[i]) + kick * randomNormal(random);
      let oy = rho * (agents.yM[i] - agents.homeYM[i]) + kick * randomNormal(random);
      ox = ox > limit ? limit : Math.max(ox, -limit);
      oy = oy > limit ? limit : Math.max(oy, -limit);
      const x = agents.homeXM[i] + ox;
      const y = agents.homeYM[i] + oy;
      agents.vxMps[i] = (x - agents.xM[i]) / dtS;
      agents.vyMps[i] = (y - agents.yM[i]) / dtS;
      agents.xM[i] = x;
      agents.yM[i] = y;
    }
  }
}

/** Agents that do not move: a fixed scanner (the Pi checkpoint), a phone left on a table. */
import type { Random } from "../../../src/core/random.js";
import { type Agents, MobilityKind } from "../agents.js";
import type { MobilityModel } from "./mobility-model.js";

export class Stationary implements MobilityModel {
  readonly kind = MobilityKind.stationary;
  readonly members: Int32Array;
  private readonly spots: Float32Array;

  /** `spots` holds x, y pairs; member k stands on spot k modulo the number of spots. */
  constructor(members: Int32Array, spots: Float32Array) {
    this.members = members;
    this.spots = spots;
  }

  place(agents: Agents, _random: Random): void {
    const n = this.spots.length >> 1;
    for (let k = 0; k < this.members.length; k++) {
      const i = this.members[k];
      const s = k % n;
      agents.xM[i] = agents.homeXM[i] = agents.targetXM[i] = this.spots[2 * s];
      agents.yM[i] = agents.homeYM[i] = agents.targetYM[i] = this.spots[2 * s + 1];
      agents.mobility[i] = this.kind;
    }
  }

  step(agents: Agents, _dtMs: number, _random: Random): void {
    for (let k = 0; k < this.members.length; k++) {
      agents.vxMps[this.members[k]] = 0;
      agents.vyMps[this.members[k]] = 0;
    }
  }
}

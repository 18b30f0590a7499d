/**
 * Groups walking together: the first member of each group (its leader) does random waypoint, the
 * others keep a fixed offset from the leader, within `spreadM` (clipped to the area).
 */
import type { Random } from "../../../src/core/random.js";
import { type Agents, MobilityKind } from "../agents.js";
import { clampX, clampY, type Rect } from "../geometry.js";
import type { MobilityModel } from "./mobility-model.js";
import { RandomWaypoint } from "./random-waypoint.js";

export interface GroupWalkOptions {
  area: Rect;
  /** Group sizes, uniform in the range, leader included. Default [2, 4]. */
  groupSize?: readonly [number, number];
  /**
   * Radius of the members' offsets around the leader, metres. Default 1.0: people walking
   * together keep within arm's length (a choice).
   */
  spreadM?: number;
  speedMps?: readonly [number, number];
  pauseS?: readonly [number, number];
  obstacles?: readonly Rect[];
  /** Id given to the first group; the next ones count up. */
  firstGroupId?: number;
}

export class GroupWalk implements MobilityModel {
  readonly kind = MobilityKind.group;
  readonly members: Int32Array;
  readonly area: Rect;
  /** For each member, the index of its leader (itself for a leader). */
  readonly leaderOf: Int32Array;
  /** Groups formed. */
  groupCount = 0;
  private leaders: RandomWaypoint;
  private readonly options: GroupWalkOptions;
  private readonly groupSizeMin: number;
  private readonly groupSizeMax: number;
  private readonly spreadM: number;
  private readonly firstGroupId: number;

  constructor(members: Int32Array, options: GroupWalkOptions) {
    this.members = members;
    this.area = options.area;
    [this.groupSizeMin, this.groupSizeMax] = options.groupSize ?? [2, 4];
    this.spreadM = options.spreadM ?? 1.0;
    this.firstGroupId = options.firstGroupId ?? 0;
    this.leaderOf = new Int32Array(members.length);
    this.options = options;
    this.leaders = this.leaderModel(new Int32Array(0));
  }

  place(agents: Agents, random: Random): void {
    // Partition members into groups; leaders go first in `leaderList`.
    const leaderList: number[] = [];
    let k = 0;
    let group = this.firstGroupId;
    while (k < this.members.length) {
      const span = this.groupSizeMax - this.groupSizeMin + 1;
      const size = Math.min(this.groupSizeMin + random.int(span), this.members.length - k);
      const leader = this.members[k];
      leaderList.push(leader);
      for (let m = 0; m < size; m++) {
        const i = this.members[k + m];
        this.leaderOf[k + m] = leader;
        agents.groupId[i] = group;
        agents.mobility[i] = this.kind;
        if (m > 0) {
          // Offset uniform in a disc of radius spreadM.
          const r = this.spreadM * Math.sqrt(random.float());
          const a = 2 * Math.PI * random.float();
          agents.targetXM[i] = r * Math.cos(a);
          agents.targetYM[i] = r * Math.sin(a);
        }
      }
      k += size;
      group++;
    }
    this.groupCount = group - this.firstGroupId;
    this.leaders = this.leaderModel(Int32Array.from(leaderList));
    this.leaders.place(agents, random);
    this.follow(agents, 0);
  }

  step(agents: Agents, dtMs: number, random: Random): void {
    const dtS = dtMs / 1000;
    const leaders = this.leaders.members;
    for (let k = 0; k < leaders.length; k++) {
      const i = leaders[k];
      if (agents.present[i] !== 0) this.leaders.stepOne(agents, i, dtMs, dtS, random);
    }
    this.follow(agents, dtS);
  }

  private leaderModel(leaders: Int32Array): RandomWaypoint {
    return new RandomWaypoint(leaders, {
      area: this.options.area,
      speedMps: this.options.speedMps,
      pauseS: this.options.pauseS,
      obstacles: this.options.obstacles,
      kind: MobilityKind.group,
    });
  }

  private follow(agents: Agents, dtS: number): void {
    for (let m = 0; m < this.members.length; m++) {
      const i = this.members[m];
      const leader = this.leaderOf[m];
      if (leader === i) continue;
      const x = clampX(this.area, agents.xM[leader] + agents.targetXM[i]);
      const y = clampY(this.area, agents.yM[leader] + agents.targetYM[i]);
      if (dtS > 0) {
        agents.vxMps[i] = (x - agents.xM[i]) / dtS;
        agents.vyMps[i] = (y - agents.yM[i]) / dtS;
      }
      agents.xM[i] = x;
      agents.yM[i] = y;
      agents.present[i] = agents.present[leader];
    }
  }
}

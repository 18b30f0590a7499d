/**
 * Replays recorded tracks: member k follows `tracks[k]`, at the recorded position at every
 * sample time and linearly interpolated between samples; absent (out of the scene) before its
 * first sample, after its last, across holes longer than the track set's `maxGapS`, and from a
 * sample without a position to the next sample (see `tracks.ts`). No random draws: the same
 * tracks give the same positions whatever the seed.
 */
import type { Random } from "../../../src/core/random.js";
import { type Agents, MobilityKind } from "../agents.js";
import { type Track, trackPosition } from "../tracks.js";
import type { MobilityModel } from "./mobility-model.js";

export class Trajectory implements MobilityModel {
  readonly kind = MobilityKind.trajectory;
  readonly members: Int32Array;
  private readonly tracks: readonly Track[];
  private readonly maxGapMs: number;
  /** Virtual time of the positions last set, ms from the scenario's start. */
  private atMs = 0;
  private readonly at = { xM: 0, yM: 0 };

  /** Member k follows `tracks[k]`; holes longer than `maxGapS` leave the agent absent. */
  constructor(members: Int32Array, tracks: readonly Track[], maxGapS = Number.POSITIVE_INFINITY) {
    if (tracks.length !== members.length) {
      throw new RangeError(`${members.length} trajectory agents but ${tracks.length} tracks`);
    }
    this.members = members;
    this.tracks = tracks;
    this.maxGapMs = maxGapS * 1000;
  }

  place(agents: Agents, _random: Random): void {
    this.atMs = 0;
    for (let k = 0; k < this.members.length; k++) {
      const i = this.members[k];
      agents.mobility[i] = this.kind;
      agents.vxMps[i] = 0;
      agents.vyMps[i] = 0;
      this.moveTo(agents, i, k, 0);
    }
  }

  step(agents: Agents, dtMs: number, _random: Random): void {
    if (dtMs <= 0) return;
    this.atMs += dtMs;
    const dtS = dtMs / 1000;
    for (let k = 0; k < this.members.length; k++) {
      const i = this.members[k];
      const wasPresent = agents.present[i] === 1;
      const x0 = agents.xM[i];
      const y0 = agents.yM[i];
      const present = this.moveTo(agents, i, k, this.atMs);
      agents.vxMps[i] = present && wasPresent ? (agents.xM[i] - x0) / dtS : 0;
      agents.vyMps[i] = present && wasPresent ? (agents.yM[i] - y0) / dtS : 0;
    }
  }

  /** Puts member k (agent i) where its track says at `atMs`; an absent agent keeps its last position. */
  private moveTo(agents: Agents, i: number, k: number, atMs: number): boolean {
    const present = trackPosition(this.tracks[k], atMs, this.maxGapMs, this.at);
    agents.present[i] = present ? 1 : 0;
    if (present) {
      agents.xM[i] = agents.homeXM[i] = agents.targetXM[i] = this.at.xM;
      agents.yM[i] = agents.homeYM[i] = agents.targetYM[i] = this.at.yM;
    }
    return present;
  }
}

/** The contract every mobility model meets; a world runs several, each moving its own members. */
import type { Random } from "../../../src/core/random.js";
import type { Agents, MobilityKind } from "../agents.js";

export interface MobilityModel {
  readonly kind: MobilityKind;
  /** Indices of the agents this model moves (no agent belongs to two models). */
  readonly members: Int32Array;
  /** Puts the members at their starting positions and state; called once, before any step. */
  place(agents: Agents, random: Random): void;
  /** Advances the members by `dtMs` of virtual time. Deterministic given `random`'s state. */
  step(agents: Agents, dtMs: number, random: Random): void;
}

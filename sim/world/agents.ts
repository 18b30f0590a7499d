/**
 * The crowd's state as a struct of typed arrays: one slot per agent, capacity fixed at creation,
 * so the simulator's hot loops read plain numbers and never allocate.
 */
import { ConfigError } from "../../src/core/errors.js";

/** Where the phone is carried; indexes `PropagationParams.carryLossDb`. */
export const CarryPosition = { hand: 0, pocket: 1, bag: 2 } as const;
export type CarryPosition = (typeof CarryPosition)[keyof typeof CarryPosition];
export const CARRY_POSITION_NAMES = ["hand", "pocket", "bag"] as const;

/** Which kind of mobility model moves an agent (informational: the models hold their members). */
export const MobilityKind = {
  stationary: 0,
  seated: 1,
  randomWaypoint: 2,
  queue: 3,
  boarding: 4,
  group: 5,
  trajectory: 6,
} as const;
export type MobilityKind = (typeof MobilityKind)[keyof typeof MobilityKind];

/**
 * Pair keys are `low * capacity + high`, exact as doubles; the pipeline's own pair keys use 2^20
 * (`PAIR_KEY_BASE`), so agent indices stay below it.
 */
export const MAX_AGENTS = 1_000_000;

/** What `Agents.add` needs; everything but the position has a default. */
export interface AgentInit {
  xM: number;
  yM: number;
  mobility?: MobilityKind;
  groupId?: number;
  carry?: CarryPosition;
  present?: boolean;
  deviceIndex?: number;
  protocolIndex?: number;
}

/** Agent state, struct of arrays. Roughly 90 bytes per agent. */
export class Agents {
  readonly capacity: number;
  /** Agents added so far; valid indices are `0 .. count - 1`. */
  count = 0;
  readonly xM: Float64Array;
  readonly yM: Float64Array;
  /** Velocity of the last step, m/s (set by the mobility models). */
  readonly vxMps: Float32Array;
  readonly vyMps: Float32Array;
  /** Where the agent is heading (waypoint, slot, seat), or a group member's offset to its leader. */
  readonly targetXM: Float32Array;
  readonly targetYM: Float32Array;
  /** Anchor of a seated agent (seat, desk), or the spot a boarding agent was given. */
  readonly homeXM: Float32Array;
  readonly homeYM: Float32Array;
  /** Walking speed chosen for the current leg, m/s. */
  readonly speedMps: Float32Array;
  /** Time left to pause or be served, ms. */
  readonly waitMs: Float32Array;
  readonly mobility: Uint8Array;
  /** Group id, -1 for none. */
  readonly groupId: Int32Array;
  /** `CarryPosition`. */
  readonly carry: Uint8Array;
  /** 1 while the agent is in the scene (boarded, queuing), 0 when it has alighted or not arrived. */
  readonly present: Uint8Array;
  /** Index the engine maps to a device of the calibration table. */
  readonly deviceIndex: Uint16Array;
  /** Index into the scenario's protocol mix (`PROTOCOL_NAMES` order in `scenario.ts`). */
  readonly protocolIndex: Uint8Array;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_AGENTS) {
      throw new ConfigError(
        `agent capacity must be an integer in 1..${MAX_AGENTS}, got ${capacity}`,
      );
    }
    this.capacity = capacity;
    this.xM = new Float64Array(capacity);
    this.yM = new Float64Array(capacity);
    this.vxMps = new Float32Array(capacity);
    this.vyMps = new Float32Array(capacity);
    this.targetXM = new Float32Array(capacity);
    this.targetYM = new Float32Array(capacity);
    this.homeXM = new Float32Array(capacity);
    this.homeYM = new Float32Array(capacity);
    this.speedMps = new Float32Array(capacity);
    this.waitMs = new Float32Array(capacity);
    this.mobility = new Uint8Array(capacity);
    this.groupId = new Int32Array(capacity).fill(-1);
    this.carry = new Uint8Array(capacity);
    this.present = new Uint8Array(capacity);
    this.deviceIndex = new Uint16Array(capacity);
    this.protocolIndex = new Uint8Array(capacity);
  }

  /** Adds an agent and returns its index. */
  add(init: AgentInit): number {
    if (this.count >= this.capacity) {
      throw new ConfigError(`agent capacity ${this.capacity} exceeded`);
    }
    const i = this.count++;
    this.xM[i] = init.xM;
    this.yM[i] = init.yM;
    this.targetXM[i] = init.xM;
    this.targetYM[i] = init.yM;
    this.homeXM[i] = init.xM;
    this.homeYM[i] = init.yM;
    this.mobility[i] = init.mobility ?? MobilityKind.stationary;
    this.groupId[i] = init.groupId ?? -1;
    this.carry[i] = init.carry ?? CarryPosition.hand;
    this.present[i] = init.present === false ? 0 : 1;
    this.deviceIndex[i] = init.deviceIndex ?? 0;
    this.protocolIndex[i] = init.protocolIndex ?? 0;
    return i;
  }

  /** Straight-line distance between two agents, metres. */
  distanceM(a: number, b: number): number {
    const dx = this.xM[a] - this.xM[b];
    const dy = this.yM[a] - this.yM[b];
    return Math.sqrt(dx * dx + dy * dy);
  }

  /** Number of agents present now. */
  presentCount(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) n += this.present[i];
    return n;
  }
}

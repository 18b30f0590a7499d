/**
 * Passengers of a tram or bus: each boards at one stop and alights at a later one. While the doors
 * are open at a stop, those alighting walk from their place to the nearest door and leave; those
 * boarding appear at a door a little later and walk to a free place (seat or standing spot).
 * Aboard, they shift on their place like seated people. Agents enter and leave the scene only
 * while the vehicle is at a stop.
 */
import type { Random } from "../../../src/core/random.js";
import { type Agents, MobilityKind } from "../agents.js";
import { clampX, clampY, type Point, type Rect } from "../geometry.js";
import { randomNormal } from "../random-normal.js";
import type { MobilityModel } from "./mobility-model.js";
import { moveToward, standStill } from "./move-toward.js";

export interface Stop {
  /** When the doors open, seconds from the start of the scenario. */
  readonly atS: number;
  /** How long they stay open, seconds. */
  readonly dwellS: number;
}

export interface VehicleStopsOptions {
  /** The vehicle's floor. */
  area: Rect;
  doors: readonly Point[];
  /** Places to sit or stand, x, y pairs; when all are taken, boarders stand where they can. */
  places: Float32Array;
  stops: readonly Stop[];
  /** Walking speed inside the vehicle, m/s. Default 1.0 (a choice: slower than free walking). */
  speedMps?: number;
  /** Shifting on one's place, as `SeatedJitter`. Defaults 0.05 m and 60 s. */
  jitterM?: number;
  jitterTauS?: number;
}

const WAITING = 0;
const BOARDING = 1;
const ABOARD = 2;
const ALIGHTING = 3;
const GONE = 4;

export class VehicleStops implements MobilityModel {
  readonly kind = MobilityKind.boarding;
  readonly members: Int32Array;
  /** Stop index where each member boards and alights (member order). */
  readonly boardStop: Int16Array;
  readonly alightStop: Int16Array;
  readonly stops: readonly Stop[];
  private readonly phase: Uint8Array;
  private readonly placeOf: Int32Array;
  /** Member slot holding each place, -1 when free. */
  private readonly placeOwner: Int32Array;
  private readonly boardDelayMs: Float32Array;
  private readonly options: VehicleStopsOptions;
  private readonly speedMps: number;
  private readonly jitterM: number;
  private readonly jitterTauS: number;
  private elapsedMs = 0;

  constructor(members: Int32Array, options: VehicleStopsOptions) {
    if (options.stops.length < 2) throw new RangeError("a vehicle needs at least two stops");
    if (options.doors.length < 1) throw new RangeError("a vehicle needs at least one door");
    this.members = members;
    this.options = options;
    this.stops = options.stops;
    this.speedMps = options.speedMps ?? 1.0;
    this.jitterM = options.jitterM ?? 0.05;
    this.jitterTauS = options.jitterTauS ?? 60;
    this.boardStop = new Int16Array(members.length);
    this.alightStop = new Int16Array(members.length);
    this.phase = new Uint8Array(members.length);
    this.placeOf = new Int32Array(members.length).fill(-1);
    this.placeOwner = new Int32Array(options.places.length >> 1).fill(-1);
    this.boardDelayMs = new Float32Array(members.length);
  }

  /** The stop whose doors are open at `atMs`, or -1. */
  stopOpenAt(atMs: number): number {
    for (let s = 0; s < this.stops.length; s++) {
      const open = this.stops[s].atS * 1000;
      if (atMs >= open && atMs <= open + this.stops[s].dwellS * 1000) return s;
    }
    return -1;
  }

  place(agents: Agents, random: Random): void {
    const n = this.stops.length;
    for (let k = 0; k < this.members.length; k++) {
      const i = this.members[k];
      agents.mobility[i] = this.kind;
      agents.present[i] = 0;
      const board = random.int(n - 1);
      this.boardStop[k] = board;
      this.alightStop[k] = board + 1 + random.int(n - 1 - board);
      // Boarders come in after the first people have got off: 20-60 % into the dwell.
      this.boardDelayMs[k] = (0.2 + 0.4 * random.float()) * this.stops[board].dwellS * 1000;
      const door = this.options.doors[random.int(this.options.doors.length)];
      agents.xM[i] = door.xM;
      agents.yM[i] = door.yM;
    }
  }

  step(agents: Agents, dtMs: number, random: Random): void {
    const startMs = this.elapsedMs;
    this.elapsedMs += dtMs;
    const dtS = dtMs / 1000;
    const open = this.stopOpenAt(this.elapsedMs);
    const wasOpen = this.stopOpenAt(startMs);
    const rho = Math.exp(-dtMs / (this.jitterTauS * 1000));
    const kick = this.jitterM * Math.sqrt(1 - rho * rho);
    const { area } = this.options;
    for (let k = 0; k < this.members.length; k++) {
      const i = this.members[k];
      switch (this.phase[k]) {
        case WAITING:
          if (
            open === this.boardStop[k] &&
            this.elapsedMs >= this.stops[open].atS * 1000 + this.boardDelayMs[k]
          ) {
            this.board(agents, k, random);
          }
          break;
        case BOARDING: {
          const p = this.placeOf[k];
          const tx = p >= 0 ? this.options.places[2 * p] : agents.homeXM[i];
          const ty = p >= 0 ? this.options.places[2 * p + 1] : agents.homeYM[i];
          if (moveToward(agents, i, tx, ty, this.speedMps, dtS)) this.phase[k] = ABOARD;
          break;
        }
        case ABOARD: {
          if (open === this.alightStop[k]) {
            this.phase[k] = ALIGHTING;
            this.freePlace(k);
            this.nearestDoor(agents, i);
            break;
          }
          const ox = rho * (agents.xM[i] - agents.homeXM[i]) + kick * randomNormal(random);
          const oy = rho * (agents.yM[i] - agents.homeYM[i]) + kick * randomNormal(random);
          const x = clampX(area, agents.homeXM[i] + ox);
          const y = clampY(area, agents.homeYM[i] + oy);
          agents.vxMps[i] = dtS > 0 ? (x - agents.xM[i]) / dtS : 0;
          agents.vyMps[i] = dtS > 0 ? (y - agents.yM[i]) / dtS : 0;
          agents.xM[i] = x;
          agents.yM[i] = y;
          break;
        }
        case ALIGHTING: {
          const arrived = moveToward(
            agents,
            i,
            agents.targetXM[i],
            agents.targetYM[i],
            this.speedMps,
            dtS,
          );
          // Off at the door, or when the doors close (the last ones squeeze out in time).
          if (arrived || open < 0) {
            standStill(agents, i);
            agents.present[i] = 0;
            this.phase[k] = GONE;
            if (open < 0 && wasOpen >= 0) {
              agents.xM[i] = agents.targetXM[i];
              agents.yM[i] = agents.targetYM[i];
            }
          }
          break;
        }
        default:
          break;
      }
    }
  }

  /** Passengers aboard now (present members). */
  aboard(agents: Agents): number {
    let n = 0;
    for (let k = 0; k < this.members.length; k++) n += agents.present[this.members[k]];
    return n;
  }

  private board(agents: Agents, k: number, random: Random): void {
    const i = this.members[k];
    const places = this.placeOwner.length;
    let p = -1;
    if (places > 0) {
      const start = random.int(places);
      for (let n = 0; n < places; n++) {
        const q = (start + n) % places;
        if (this.placeOwner[q] < 0) {
          p = q;
          break;
        }
      }
    }
    if (p >= 0) {
      this.placeOwner[p] = k;
      this.placeOf[k] = p;
      agents.homeXM[i] = this.options.places[2 * p];
      agents.homeYM[i] = this.options.places[2 * p + 1];
    } else {
      // Full: stand anywhere on the floor.
      agents.homeXM[i] = this.options.area.xM + random.float() * this.options.area.widthM;
      agents.homeYM[i] = this.options.area.yM + random.float() * this.options.area.heightM;
    }
    // Enter by the door nearest the place.
    this.nearestDoor(agents, i, agents.homeXM[i], agents.homeYM[i]);
    agents.xM[i] = agents.targetXM[i];
    agents.yM[i] = agents.targetYM[i];
    agents.present[i] = 1;
    this.phase[k] = BOARDING;
  }

  private freePlace(k: number): void {
    const p = this.placeOf[k];
    if (p >= 0) this.placeOwner[p] = -1;
    this.placeOf[k] = -1;
  }

  /** Sets agent i's target to the door nearest (xM, yM) (default: where it stands). */
  private nearestDoor(agents: Agents, i: number, xM = agents.xM[i], yM = agents.yM[i]): void {
    let best = 0;
    let bestD2 = Number.POSITIVE_INFINITY;
    for (let d = 0; d < this.options.doors.length; d++) {
      const door = this.options.doors[d];
      const d2 = (door.xM - xM) ** 2 + (door.yM - yM) ** 2;
      if (d2 < bestD2) {
        bestD2 = d2;
        best = d;
      }
    }
    agents.targetXM[i] = this.options.doors[best].xM;
    agents.targetYM[i] = this.options.doors[best].yM;
  }
}

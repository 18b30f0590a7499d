/**
 * A city's day: people live in blocks of flats, ride trams to offices and classrooms, and visit a
 * plaza. Every place where people meet is a venue: a rectangle of its own, set apart from every
 * other by more than the reception range, so a pair forms only between people in the same venue
 * (the link layer hears each venue on its own, see `venue-shards.ts`). Between venues people walk
 * the streets, which are not modelled: they are off the scene (`present` 0) for at least a minute.
 *
 * Each person's day is a list of legs (venue, start time of day) drawn once from the seed; a
 * step moves each person into the venue of the leg due, then within it: at home they stay at a
 * spot of their flat and now and then walk to another one, at a desk, a school seat or a tram
 * place they shift as `SeatedJitter` people do, on a plaza they walk as `RandomWaypoint` walkers.
 */
import type { Random } from "../../../src/core/random.js";
import { type Agents, MobilityKind } from "../agents.js";
import type { Rect } from "../geometry.js";
import { randomNormal } from "../random-normal.js";
import type { MobilityModel } from "./mobility-model.js";
import { moveToward, standStill } from "./move-toward.js";
import { RandomWaypoint } from "./random-waypoint.js";

/** What a person does in the daytime. */
export const CITY_DAYS = ["office", "school", "plaza", "home"] as const;
export type CityDayKind = (typeof CITY_DAYS)[number];

export const VenueKind = { home: 0, office: 1, classroom: 2, tram: 3, plaza: 4 } as const;
export const VENUE_KIND_NAMES = ["home", "office", "classroom", "tram", "plaza"] as const;

export interface CityDayOptions {
  /** Each member's day (`CITY_DAYS` index), member order. */
  days: Uint8Array;
  /** Time of day of the world's time 0, seconds after midnight. */
  startS: number;
  /** Free space between venues, metres: above the reception range. */
  gapM: number;
}

/** Flats per block: a 3 x 2 grid of 5 m x 4 m flats, about 15 people. */
const BLOCK_COLS = 3;
const BLOCK_ROWS = 2;
const FLAT_W_M = 5;
const FLAT_H_M = 4;
/** Office floor as `office.json`'s: 20 m x 15 m, desks in four clusters of 8. */
const OFFICE_W_M = 20;
const OFFICE_H_M = 15;
const OFFICE_DESKS = 32;
/** Classroom as `classroom.json`'s: 6 x 5 seats, 1.2 m x 1.4 m apart, in 9 m x 10 m. */
const CLASS_SEATS = 30;
/** Tram car as `tram.json`'s: 30 m x 2.65 m. */
const TRAM_W_M = 30;
const TRAM_H_M = 2.65;
/** Plaza: 100 m x 100 m. */
const PLAZA_M = 100;
/** Plaza visitors per plaza (0.025 people per m² when all are there, as `plaza.json`). */
const PLAZA_PEOPLE = 250;
/** Tram lines: one per this many people; a car leaves the first stop every `HEADWAY_S`. */
const PEOPLE_PER_LINE = 6_000;
const HEADWAY_S = 240;
const STOP_EVERY_S = 120;
const STOPS = 20;
/** Cars per line: a run of 20 stops (40 min) plus 20 min to turn round, one leaving every 4 min. */
const CARS_PER_LINE = 15;
const MAX_LEGS = 16;

interface Leg {
  venue: number;
  atS: number;
}

export class CityDay implements MobilityModel {
  readonly kind = MobilityKind.trajectory;
  readonly members: Int32Array;
  /** Each agent's venue now (agent index, -1 off the scene); sized to the agent capacity. */
  readonly venueOf: Int32Array;
  /** Venues: kind (`VenueKind`) and floor rectangle. */
  readonly venueKind: Uint8Array;
  readonly venueRect: Float64Array;
  /** Where the venues lie (every agent stays inside while present). */
  readonly bounds: Rect;
  readonly venueCount: number;
  private readonly startS: number;
  private readonly legVenue: Int32Array;
  private readonly legAtS: Float64Array;
  private readonly legCount: Uint8Array;
  private readonly legNow: Uint8Array;
  /** Each member's spot at home (x, y) and at work (desk or seat). */
  private readonly homeSpot: Float32Array;
  private readonly workSpot: Float32Array;
  private readonly plazas: RandomWaypoint[] = [];
  private readonly firstPlaza: number;
  private readonly days: Uint8Array;
  private readonly gapM: number;
  private elapsedMs = 0;
  private readonly counts: { blocks: number; offices: number; classrooms: number; lines: number };

  constructor(members: Int32Array, capacity: number, options: CityDayOptions) {
    this.members = members;
    this.days = options.days;
    this.startS = options.startS;
    this.gapM = options.gapM;
    const n = members.length;
    let office = 0;
    let school = 0;
    for (const d of options.days) {
      if (d === 0) office++;
      else if (d === 1) school++;
    }
    const perBlock = Math.round(BLOCK_COLS * BLOCK_ROWS * 2.5);
    this.counts = {
      blocks: Math.max(1, Math.ceil(n / perBlock)),
      offices: Math.ceil(office / OFFICE_DESKS),
      classrooms: Math.ceil(school / CLASS_SEATS),
      lines: Math.max(1, Math.ceil(n / PEOPLE_PER_LINE)),
    };
    const plazaCount = Math.max(1, Math.ceil(n / 40 / PLAZA_PEOPLE));
    const kinds: [number, number, number, number][] = [
      [VenueKind.home, this.counts.blocks, BLOCK_COLS * FLAT_W_M, BLOCK_ROWS * FLAT_H_M],
      [VenueKind.office, this.counts.offices, OFFICE_W_M, OFFICE_H_M],
      [VenueKind.classroom, this.counts.classrooms, 9, 10],
      [VenueKind.tram, this.counts.lines * CARS_PER_LINE, TRAM_W_M, TRAM_H_M],
      [VenueKind.plaza, plazaCount, PLAZA_M, PLAZA_M],
    ];
    const total = kinds.reduce((s, k) => s + k[1], 0);
    this.venueCount = total;
    this.venueKind = new Uint8Array(total);
    this.venueRect = new Float64Array(4 * total);
    // Bands of rows, one kind after another, about as wide as the whole is tall.
    let area = 0;
    for (const [, count, w, h] of kinds) area += count * (w + this.gapM) * (h + this.gapM);
    const widthM = Math.max(Math.sqrt(area), PLAZA_M + this.gapM);
    let v = 0;
    let yM = 0;
    let maxX = 0;
    for (const [kind, count, w, h] of kinds) {
      if (kind === VenueKind.plaza) this.firstPlaza = v;
      const pitchX = w + this.gapM;
      const pitchY = h + this.gapM;
      const cols = Math.max(1, Math.floor(widthM / pitchX));
      for (let k = 0; k < count; k++, v++) {
        this.venueKind[v] = kind;
        const x = (k % cols) * pitchX;
        const y = yM + Math.floor(k / cols) * pitchY;
        this.venueRect.set([x, y, w, h], 4 * v);
        maxX = Math.max(maxX, x + w);
      }
      if (count > 0) yM += Math.ceil(count / cols) * pitchY;
    }
    this.firstPlaza ??= total;
    this.bounds = { xM: 0, yM: 0, widthM: Math.max(maxX, 1), heightM: Math.max(yM - this.gapM, 1) };
    this.venueOf = new Int32Array(capacity).fill(-1);
    this.legVenue = new Int32Array(n * MAX_LEGS);
    this.legAtS = new Float64Array(n * MAX_LEGS);
    this.legCount = new Uint8Array(n);
    this.legNow = new Uint8Array(n);
    this.homeSpot = new Float32Array(2 * n);
    this.workSpot = new Float32Array(2 * n);
    for (let p = 0; p < plazaCount; p++) {
      const r = this.rectOf(this.firstPlaza + p);
      this.plazas.push(
        new RandomWaypoint(new Int32Array(0), { area: r, speedMps: [0.9, 1.5], pauseS: [0, 120] }),
      );
    }
  }

  /** Venues of each kind and tram lines. */
  get sizes(): { blocks: number; offices: number; classrooms: number; lines: number } {
    return { ...this.counts };
  }

  rectOf(v: number): Rect {
    const r = this.venueRect;
    return { xM: r[4 * v], yM: r[4 * v + 1], widthM: r[4 * v + 2], heightM: r[4 * v + 3] };
  }

  /** Member `k`'s day, as legs (venue -1: in the street). */
  legsOf(k: number): { venue: number; atS: number }[] {
    const out: Leg[] = [];
    for (let l = 0; l < this.legCount[k]; l++)
      out.push({ venue: this.legVenue[k * MAX_LEGS + l], atS: this.legAtS[k * MAX_LEGS + l] });
    return out;
  }

  place(agents: Agents, random: Random): void {
    const n = this.members.length;
    const { blocks, offices, classrooms, lines } = this.counts;
    const perBlock = Math.ceil(n / blocks);
    // Households of 1-5 fill the flats of each block in turn.
    let flat = 0;
    let left = 0;
    let officeSeat = 0;
    let classSeat = 0;
    const firstOffice = blocks;
    const firstClass = blocks + offices;
    const firstTram = blocks + offices + classrooms;
    // Households and seats are filled in a scrambled member order, so that the groups (office
    // workers, students, ...) mix in every block.
    let stride = Math.max(1, Math.round(n * 0.618));
    while (gcd(stride, n) !== 1) stride++;
    for (let kk = 0; kk < n; kk++) {
      const k = (kk * stride) % n;
      const i = this.members[k];
      agents.mobility[i] = this.kind;
      const block = Math.min(blocks - 1, Math.floor(kk / perBlock));
      if (left === 0 || Math.floor((kk - 1) / perBlock) !== block) {
        flat = random.int(BLOCK_COLS * BLOCK_ROWS);
        left = 1 + random.int(5);
      }
      left--;
      const home = this.rectOf(block);
      const fx = home.xM + (flat % BLOCK_COLS) * FLAT_W_M;
      const fy = home.yM + Math.floor(flat / BLOCK_COLS) * FLAT_H_M;
      this.homeSpot[2 * k] = fx + 0.5 + random.float() * (FLAT_W_M - 1);
      this.homeSpot[2 * k + 1] = fy + 0.5 + random.float() * (FLAT_H_M - 1);
      const legs: Leg[] = [{ venue: block, atS: 0 }];
      const day = CITY_DAYS[this.days[k]];
      const line = block % lines;
      const ride = (fromS: number, venueAfter: number, stayS: number) => {
        // Walk to the stop, wait for the next car, ride 3-12 stops, walk on.
        const walkS = 180 + random.float() * 420;
        const boardStop = random.int(STOPS - 12);
        const stops = 3 + random.int(10);
        const atStopS = fromS + walkS;
        const run = Math.ceil((atStopS - boardStop * STOP_EVERY_S) / HEADWAY_S);
        const boardS = run * HEADWAY_S + boardStop * STOP_EVERY_S;
        const alightS = boardS + stops * STOP_EVERY_S;
        const car =
          firstTram +
          line * CARS_PER_LINE +
          (((run % CARS_PER_LINE) + CARS_PER_LINE) % CARS_PER_LINE);
        legs.push(
          { venue: -1, atS: fromS },
          { venue: car, atS: boardS },
          { venue: -1, atS: alightS },
        );
        const arriveS = alightS + 120 + random.float() * 360;
        legs.push({ venue: venueAfter, atS: arriveS });
        return arriveS + stayS;
      };
      if (day === "office" || day === "school") {
        const work =
          day === "office"
            ? firstOffice + Math.floor(officeSeat / OFFICE_DESKS)
            : firstClass + Math.floor(classSeat / CLASS_SEATS);
        const seat = day === "office" ? officeSeat++ % OFFICE_DESKS : classSeat++ % CLASS_SEATS;
        const r = this.rectOf(work);
        if (day === "office") {
          const cluster = seat >> 3;
          this.workSpot[2 * k] = r.xM + 2 + (cluster & 1) * 9 + (seat & 3) * 1.6;
          this.workSpot[2 * k + 1] = r.yM + 2 + (cluster >> 1) * 5 + ((seat >> 2) & 1) * 1.5;
        } else {
          this.workSpot[2 * k] = r.xM + 1.5 + (seat % 6) * 1.2;
          this.workSpot[2 * k + 1] = r.yM + 1 + Math.floor(seat / 6) * 1.4;
        }
        // Leave home around 7:50 (office) or 7:35 (school), sd 25 / 15 min.
        const leaveS =
          day === "office"
            ? 28_200 + 1_500 * clip(randomNormal(random))
            : 27_300 + 900 * clip(randomNormal(random));
        const workS = day === "office" ? 8.5 * 3600 : 6.5 * 3600;
        let endS = ride(leaveS, work, workS);
        if (day === "office" && random.float() < 0.3) {
          // Lunch on a plaza, 12:00-13:00 give or take.
          const plaza = this.firstPlaza + random.int(this.plazas.length);
          const outS = 43_200 + 600 * clip(randomNormal(random));
          legs.push(
            { venue: -1, atS: outS },
            { venue: plaza, atS: outS + 300 },
            { venue: -1, atS: outS + 2_700 },
            { venue: work, atS: outS + 3_000 },
          );
          endS = Math.max(endS, outS + 3_600);
        }
        endS = ride(endS, block, 0);
      } else if (day === "plaza") {
        const plaza = this.firstPlaza + random.int(this.plazas.length);
        const leaveS = 32_400 + random.float() * 21_600;
        const endS = ride(leaveS, plaza, 3_600 + random.float() * 7_200);
        ride(endS, block, 0);
      }
      legs.sort((a, b) => a.atS - b.atS);
      const count = Math.min(legs.length, MAX_LEGS);
      for (let l = 0; l < count; l++) {
        this.legVenue[k * MAX_LEGS + l] = legs[l].venue;
        this.legAtS[k * MAX_LEGS + l] = legs[l].atS;
      }
      this.legCount[k] = count;
      agents.waitMs[i] = random.float() * 1_800_000;
    }
    for (let k = 0; k < n; k++) {
      const i = this.members[k];
      agents.present[i] = 0;
      this.venueOf[i] = -1;
      this.legNow[k] = 255;
      this.enterDue(agents, k, this.startS, random);
    }
  }

  step(agents: Agents, dtMs: number, random: Random): void {
    this.elapsedMs += dtMs;
    const nowS = this.startS + this.elapsedMs / 1000;
    const dtS = dtMs / 1000;
    const rho = Math.exp(-dtMs / 60_000);
    const kick = 0.05 * Math.sqrt(1 - rho * rho);
    for (let k = 0; k < this.members.length; k++) {
      const i = this.members[k];
      const next = this.legNow[k] + 1;
      if (next < this.legCount[k] && this.legAtS[k * MAX_LEGS + next] <= nowS)
        this.enterDue(agents, k, nowS, random);
      const v = this.venueOf[i];
      if (v < 0) continue;
      switch (this.venueKind[v]) {
        case VenueKind.home:
          if (agents.waitMs[i] > 0) {
            agents.waitMs[i] -= dtMs;
            standStill(agents, i);
          } else if (moveToward(agents, i, agents.targetXM[i], agents.targetYM[i], 0.8, dtS)) {
            // Another spot of the flat, a while later.
            agents.waitMs[i] = 300_000 + random.float() * 1_500_000;
            const fx = agents.homeXM[i] - ((agents.homeXM[i] - this.venueRect[4 * v]) % FLAT_W_M);
            const fy =
              agents.homeYM[i] - ((agents.homeYM[i] - this.venueRect[4 * v + 1]) % FLAT_H_M);
            agents.targetXM[i] = fx + 0.5 + random.float() * (FLAT_W_M - 1);
            agents.targetYM[i] = fy + 0.5 + random.float() * (FLAT_H_M - 1);
          }
          break;
        case VenueKind.plaza:
          this.plazas[v - this.firstPlaza].stepOne(agents, i, dtMs, dtS, random);
          break;
        default: {
          // Seated (desk, school seat, tram place): the offset from the spot drifts back to it.
          const limit = 0.15;
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
  }

  /** Moves member `k` to the last leg begun by `nowS`. */
  private enterDue(agents: Agents, k: number, nowS: number, random: Random): void {
    const i = this.members[k];
    let l = this.legNow[k] === 255 ? 0 : this.legNow[k];
    while (l + 1 < this.legCount[k] && this.legAtS[k * MAX_LEGS + l + 1] <= nowS) l++;
    this.legNow[k] = l;
    const v = this.legVenue[k * MAX_LEGS + l];
    this.venueOf[i] = v;
    standStill(agents, i);
    if (v < 0) {
      agents.present[i] = 0;
      return;
    }
    agents.present[i] = 1;
    let x: number;
    let y: number;
    const r = this.venueRect;
    switch (this.venueKind[v]) {
      case VenueKind.home:
        x = this.homeSpot[2 * k];
        y = this.homeSpot[2 * k + 1];
        agents.targetXM[i] = x;
        agents.targetYM[i] = y;
        break;
      case VenueKind.office:
      case VenueKind.classroom:
        x = this.workSpot[2 * k];
        y = this.workSpot[2 * k + 1];
        break;
      case VenueKind.tram:
        // A seat or a standing place anywhere along the car.
        x = r[4 * v] + 0.5 + random.float() * (TRAM_W_M - 1);
        y = r[4 * v + 1] + 0.4 + random.float() * (TRAM_H_M - 0.8);
        break;
      default:
        // Into the plaza from one of its edges; the walker picks its first target at once.
        x = r[4 * v] + random.float() * PLAZA_M;
        y = r[4 * v + 1] + (random.float() < 0.5 ? 0 : PLAZA_M);
        agents.targetXM[i] = x;
        agents.targetYM[i] = y;
        agents.waitMs[i] = 0;
        agents.speedMps[i] = 1.2;
    }
    agents.xM[i] = agents.homeXM[i] = x;
    agents.yM[i] = agents.homeYM[i] = y;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** A standard normal draw clipped at ±2.5 (times of day stay within the day). */
function clip(z: number): number {
  return Math.min(2.5, Math.max(-2.5, z));
}

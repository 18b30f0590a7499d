/**
 * The physical world of a simulation run: agents, their mobility models, the spatial grid, the
 * propagation model and the ground truth, stepped together on virtual time. `buildWorld` makes one
 * from a scenario; the engine steps it and asks `propagation.rssiDbm` for each advertisement.
 */
import { ConfigError } from "../../src/core/errors.js";
import { SeededRandom } from "../../src/core/random.js";
import { Agents, type CarryPosition } from "./agents.js";
import {
  channelPropagation,
  DEFAULT_CHANNEL,
  resolveChannelProfile,
} from "./channel-propagation.js";
import { simulatedDevice } from "./devices.js";
import type { Point, Rect } from "./geometry.js";
import { scaleRect } from "./geometry.js";
import { GroundTruth, type GroundTruthOptions } from "./ground-truth.js";
import { AdvancingQueue } from "./mobility/advancing-queue.js";
import { CITY_DAYS, CityDay } from "./mobility/city-day.js";
import { GroupWalk } from "./mobility/group-walk.js";
import type { MobilityModel } from "./mobility/mobility-model.js";
import { RandomWaypoint } from "./mobility/random-waypoint.js";
import { SeatedJitter } from "./mobility/seated-jitter.js";
import { Stationary } from "./mobility/stationary.js";
import { Trajectory } from "./mobility/trajectory.js";
import { VehicleStops } from "./mobility/vehicle-stops.js";
import {
  DEFAULT_PROPAGATION,
  Propagation,
  type PropagationParams,
  receptionRangeM,
} from "./propagation.js";
import {
  type AgentGroupSpec,
  PROTOCOL_NAMES,
  type Scenario,
  type ScenarioGeometry,
  seatPositions,
} from "./scenario.js";
import { SpatialGrid } from "./spatial-grid.js";

export interface WorldOptions {
  /** Seed of every random draw of the world (placement, mobility, propagation). Default 1. */
  seed?: number;
  /** Total agent count: non-fixed groups are scaled in proportion (and the geometry, if the
   * scenario says `scaleWithAgents`). */
  agents?: number;
  /**
   * Device indices are drawn uniformly from 0 .. deviceCount - 1. Default 1 (all 0). Groups
   * that name their `device` get that model instead (indices 1.., in order of first mention,
   * with its offsets in the propagation model; 0 stays the nominal device).
   */
  deviceCount?: number;
  /** Grid cell size, metres. Default 5: near the ground-truth range, where most queries are. */
  cellSizeM?: number;
  /** Overrides on top of the defaults and the scenario's own `propagation`. */
  propagation?: Partial<PropagationParams>;
  /** Cell of the link layer's grid, metres. Default half the reception range. */
  radioCellSizeM?: number;
  /** Ground-truth options, or false for none. */
  groundTruth?: GroundTruthOptions | false;
}

export class World {
  readonly scenario: Scenario;
  readonly agents: Agents;
  readonly models: readonly MobilityModel[];
  /** Fine grid (ground truth, people between two phones). */
  readonly grid: SpatialGrid;
  /** Coarse grid for the link layer's neighbour lists (cell half the reception range). */
  readonly radioGrid: SpatialGrid;
  readonly propagation: Propagation;
  readonly groundTruth: GroundTruth | undefined;
  /** Role of each scenario group and the agent indices it got: `[first, first + count)`. */
  readonly groups: readonly { role: string; first: number; count: number }[];
  /** Factor the geometry was scaled by (1 unless `scaleWithAgents` and an override). */
  readonly scale: number;
  /**
   * Each agent's venue now (-1: off the scene), when the scenario is made of venues out of radio
   * range of each other (the city): the link layer then hears venue by venue, as shards.
   */
  readonly venueOf: Int32Array | undefined;
  /** Venues there are (0 without venues). */
  readonly venueCount: number;
  /** Virtual time of the last step, ms. */
  atMs = 0;
  private readonly mobilityRandom: SeededRandom;

  constructor(parts: {
    scenario: Scenario;
    agents: Agents;
    models: readonly MobilityModel[];
    grid: SpatialGrid;
    radioGrid: SpatialGrid;
    propagation: Propagation;
    groundTruth: GroundTruth | undefined;
    groups: readonly { role: string; first: number; count: number }[];
    scale: number;
    mobilityRandom: SeededRandom;
    venues?: { venueOf: Int32Array; count: number };
  }) {
    this.scenario = parts.scenario;
    this.agents = parts.agents;
    this.models = parts.models;
    this.grid = parts.grid;
    this.radioGrid = parts.radioGrid;
    this.propagation = parts.propagation;
    this.groundTruth = parts.groundTruth;
    this.groups = parts.groups;
    this.scale = parts.scale;
    this.mobilityRandom = parts.mobilityRandom;
    this.venueOf = parts.venues?.venueOf;
    this.venueCount = parts.venues?.count ?? 0;
  }

  /** Distance beyond which nobody hears anybody (see `receptionRangeM`), metres. */
  get receptionRangeM(): number {
    return receptionRangeM(this.propagation.params);
  }

  /**
   * Advances the world by `dtMs`: every model moves its members, the grid is rebuilt, the
   * propagation model is told, ground truth samples if due. Steps of 1 s or less keep boarding
   * and queue service exact (they must be shorter than a stop's dwell).
   */
  step(dtMs: number): void {
    this.move(dtMs);
    this.observeTruth();
  }

  /**
   * `step` without its ground-truth sample: the models move, the grids are rebuilt and the
   * propagation model is told. Call `observeTruth()` before the next `move` (the engine samples
   * while its venue shards hear the step).
   */
  move(dtMs: number): void {
    for (const model of this.models) model.step(this.agents, dtMs, this.mobilityRandom);
    this.atMs += dtMs;
    this.grid.rebuild();
    this.radioGrid.rebuild();
    this.propagation.onStep(this.atMs);
  }

  /** The ground truth's sample of the present step, if one is due (`step`'s last part). */
  observeTruth(): void {
    this.groundTruth?.observe(this.atMs);
  }

  /** Bytes held by the world's typed arrays and caches (a memory estimate). */
  get bytes(): number {
    const a = this.agents;
    const agentBytes =
      a.xM.byteLength * 2 +
      a.vxMps.byteLength * 8 +
      a.mobility.byteLength * 3 +
      a.groupId.byteLength +
      a.deviceIndex.byteLength +
      a.protocolIndex.byteLength;
    const gridBytes =
      (this.grid.cols * this.grid.rows + this.radioGrid.cols * this.radioGrid.rows + 2) * 8 +
      a.capacity * 16;
    return agentBytes + gridBytes + this.propagation.cacheBytes + (this.groundTruth?.bytes ?? 0);
  }
}

/** Builds the world of `scenario` at time 0 (agents placed, grid built, ground truth sampled). */
/** Whether `scenario`'s world has venues (a group moves by the city's days): `World.venueOf`. */
export function hasVenues(scenario: Scenario): boolean {
  return scenario.agents.some((g) => g.mobility.kind === "city");
}

export function buildWorld(scenario: Scenario, options: WorldOptions = {}): World {
  const root = new SeededRandom(options.seed ?? 1);
  const placeRandom = root.fork();
  const mobilityRandom = root.fork();
  const propagationRandom = root.fork();

  const counts = groupCounts(scenario, options.agents);
  const baseTotal = scenario.agents.reduce((s, g) => s + g.count, 0);
  const total = counts.reduce((s, n) => s + n, 0);
  if (total < 1) throw new ConfigError(`scenario "${scenario.name}" has no agents`);
  const scale =
    scenario.scaleWithAgents && options.agents !== undefined && baseTotal > 0
      ? Math.sqrt(total / baseTotal)
      : 1;
  const geometry = scaleGeometry(scenario.geometry, scale);
  const seats = seatPositions(geometry);
  const agents = new Agents(total);
  const deviceCount = options.deviceCount ?? 1;
  const protocolCdf = cumulative(PROTOCOL_NAMES.map((p) => scenario.protocolMix[p] ?? 0));
  const devices = scenarioDevices(scenario);

  const models: MobilityModel[] = [];
  const groups: { role: string; first: number; count: number }[] = [];
  let seatCursor = 0;
  let nextGroupId = 0;
  // "city" groups share one city: their members are gathered and moved by one model.
  const cityMembers: number[] = [];
  const cityDays: number[] = [];
  let cityStartS = 27_000;
  scenario.agents.forEach((spec, k) => {
    const count = counts[k];
    const first = agents.count;
    const carryCdf = cumulative([spec.carry.hand, spec.carry.pocket, spec.carry.bag]);
    for (let n = 0; n < count; n++) {
      agents.add({
        xM: geometry.area.xM,
        yM: geometry.area.yM,
        carry: pick(carryCdf, placeRandom.float()) as CarryPosition,
        deviceIndex:
          spec.device !== undefined
            ? 1 + devices.indexOf(spec.device)
            : deviceCount > 1
              ? placeRandom.int(deviceCount)
              : 0,
        protocolIndex: pick(protocolCdf, placeRandom.float()),
      });
    }
    groups.push({ role: spec.role, first, count });
    if (count === 0) return;
    if (spec.mobility.kind === "city") {
      for (let n = 0; n < count; n++) {
        cityMembers.push(first + n);
        cityDays.push(CITY_DAYS.indexOf(spec.mobility.day));
      }
      if (spec.mobility.startS !== undefined) cityStartS = spec.mobility.startS;
      return;
    }
    const members = new Int32Array(count);
    for (let n = 0; n < count; n++) members[n] = first + n;
    const made = makeModel(
      spec,
      k,
      members,
      geometry,
      seats,
      seatCursor,
      scale,
      nextGroupId,
      scenario,
    );
    if (spec.mobility.kind === "seated") seatCursor += count;
    made.place(agents, placeRandom);
    if (made instanceof GroupWalk) nextGroupId += made.groupCount;
    models.push(made);
  });

  const params: PropagationParams = {
    ...DEFAULT_PROPAGATION,
    ...channelPropagation(
      resolveChannelProfile(scenario.channel ?? DEFAULT_CHANNEL),
      scenario.environment,
    ),
    ...scenario.propagation,
    ...deviceTables(devices),
    ...options.propagation,
  };
  let city: CityDay | undefined;
  if (cityMembers.length > 0) {
    city = new CityDay(Int32Array.from(cityMembers), total, {
      days: Uint8Array.from(cityDays),
      startS: cityStartS,
      // Out of radio range of each other, with room to spare.
      gapM: Math.ceil(receptionRangeM(params)) + 5,
    });
    city.place(agents, placeRandom);
    models.push(city);
  }
  const area = city?.bounds ?? geometry.area;
  const marginM = 10 * scale;
  const bounds: Rect = {
    xM: area.xM - marginM,
    yM: area.yM - marginM,
    widthM: area.widthM + 2 * marginM,
    heightM: area.heightM + 2 * marginM,
  };
  const grid = new SpatialGrid(agents, bounds, options.cellSizeM ?? 5);
  grid.rebuild();
  const propagation = new Propagation(agents, grid, propagationRandom, params);
  // Venues are heard apart (in any thread): each pair's shadowing draws its own stream.
  if (city) propagation.usePairStreams(propagationRandom.int(2 ** 31));
  const radioGrid = new SpatialGrid(
    agents,
    bounds,
    options.radioCellSizeM ?? Math.max(options.cellSizeM ?? 5, receptionRangeM(params) / 2),
  );
  radioGrid.rebuild();
  propagation.onStep(0);
  const groundTruth =
    options.groundTruth === false ? undefined : new GroundTruth(grid, options.groundTruth);
  groundTruth?.observe(0);
  return new World({
    scenario,
    agents,
    models,
    grid,
    radioGrid,
    propagation,
    groundTruth,
    groups,
    scale,
    mobilityRandom,
    ...(city ? { venues: { venueOf: city.venueOf, count: city.venueCount } } : {}),
  });
}

/** Agent count per group, after an override (largest-remainder split of the non-fixed groups). */
function groupCounts(scenario: Scenario, override: number | undefined): number[] {
  const base = scenario.agents.map((g) => g.count);
  if (override === undefined) return base;
  if (!Number.isInteger(override) || override < 1) {
    throw new ConfigError(`agent count must be a positive integer, got ${override}`);
  }
  const fixed = scenario.agents.reduce((s, g) => s + (g.fixed ? g.count : 0), 0);
  const flexibleBase = scenario.agents.reduce((s, g) => s + (g.fixed ? 0 : g.count), 0);
  const flexible = override - fixed;
  if (flexible < 0 || (flexible > 0 && flexibleBase === 0)) {
    throw new ConfigError(
      `scenario "${scenario.name}": agents ${override} cannot be met (${fixed} fixed agents, ${flexibleBase} scalable)`,
    );
  }
  const shares = scenario.agents.map((g) => (g.fixed ? 0 : (g.count * flexible) / flexibleBase));
  const counts = scenario.agents.map((g, k) => (g.fixed ? g.count : Math.floor(shares[k])));
  let left = override - counts.reduce((s, n) => s + n, 0);
  const order = shares
    .map((s, k) => ({ k, rest: s - Math.floor(s) }))
    .filter(({ k }) => !scenario.agents[k].fixed)
    .sort((x, y) => y.rest - x.rest || x.k - y.k);
  for (let n = 0; left > 0; n = (n + 1) % order.length, left--) counts[order[n].k]++;
  return counts;
}

function makeModel(
  spec: AgentGroupSpec,
  k: number,
  members: Int32Array,
  geometry: ScenarioGeometry,
  seats: Float32Array,
  seatCursor: number,
  scale: number,
  firstGroupId: number,
  scenario: Scenario,
): MobilityModel {
  const m = spec.mobility;
  const resolve = (ref: string | Point): Point =>
    typeof ref === "string" ? geometry.points[ref] : scalePoint(ref, scale);
  switch (m.kind) {
    case "stationary": {
      const at = resolve(m.at);
      return new Stationary(members, Float32Array.of(at.xM, at.yM));
    }
    case "seated": {
      const needed = 2 * (seatCursor + members.length);
      if (needed > seats.length) {
        throw new ConfigError(
          `scenario "${scenario.name}": agents[${k}].count ${members.length} needs seats ${seatCursor + 1}..${seatCursor + members.length} but geometry.seats has ${seats.length / 2}`,
          "E_SCENARIO",
        );
      }
      return new SeatedJitter(members, seats.subarray(2 * seatCursor, needed), {
        jitterM: m.jitterM,
        jitterTauS: m.jitterTauS,
      });
    }
    case "random-waypoint": {
      let spots: Float32Array | undefined;
      if (m.spots) {
        const list: number[] = [];
        for (const name of m.spots) {
          if (name === "seats") list.push(...seats);
          else list.push(geometry.points[name].xM, geometry.points[name].yM);
        }
        spots = Float32Array.from(list);
      }
      return new RandomWaypoint(members, {
        area: m.area ? scaleRect(m.area, scale) : geometry.area,
        speedMps: m.speedMps,
        pauseS: m.pauseS,
        spots,
        spotRadiusM: m.spotRadiusM,
        obstacles: geometry.obstacles,
      });
    }
    case "queue": {
      const head = resolve(m.head);
      return new AdvancingQueue(members, {
        headXM: head.xM,
        headYM: head.yM,
        towardTailX: m.towardTail.xM,
        towardTailY: m.towardTail.yM,
        spacingM: m.spacingM,
        serviceS: m.serviceS,
        arrivalsPerMinute: m.arrivalsPerMinute,
        initialLength: m.initialLength,
        speedMps: m.speedMps,
        exitDxM: m.exit?.xM,
        exitDyM: m.exit?.yM,
      });
    }
    case "boarding":
      return new VehicleStops(members, {
        area: geometry.area,
        doors: geometry.doors,
        places: seats,
        stops: scenario.schedule.stops,
        speedMps: m.speedMps,
        jitterM: m.jitterM,
      });
    case "trajectory": {
      const tracks = scenario.tracks;
      if (tracks === undefined)
        throw new ConfigError(
          `scenario "${scenario.name}": agents[${k}] needs tracks`,
          "E_SCENARIO",
        );
      return new Trajectory(
        members,
        m.tracks.map((id) => {
          const track = tracks.tracks.get(id);
          if (track === undefined)
            throw new ConfigError(
              `scenario "${scenario.name}": agents[${k}] follows unknown track "${id}"`,
              "E_SCENARIO",
            );
          return track;
        }),
        tracks.maxGapS,
      );
    }
    case "city":
      throw new ConfigError(`scenario "${scenario.name}": city groups share one model`);
    case "group":
      return new GroupWalk(members, {
        area: m.area ? scaleRect(m.area, scale) : geometry.area,
        groupSize: m.groupSize,
        spreadM: m.spreadM,
        speedMps: m.speedMps,
        pauseS: m.pauseS,
        obstacles: geometry.obstacles,
        firstGroupId,
      });
  }
}

/** The phone models the scenario's groups name, in order of first mention. */
function scenarioDevices(scenario: Scenario): string[] {
  const devices: string[] = [];
  for (const g of scenario.agents)
    if (g.device !== undefined && !devices.includes(g.device)) devices.push(g.device);
  return devices;
}

/** Propagation device tables for `devices` (index 0 the nominal device); none when empty. */
function deviceTables(devices: readonly string[]): Partial<PropagationParams> {
  if (devices.length === 0) return {};
  const txGainDb = [0];
  const rxOffsetDb = [0];
  for (const model of devices) {
    const found = simulatedDevice(model);
    if (found === undefined) throw new ConfigError(`no fitted offsets for device "${model}"`);
    txGainDb.push(found.device.txGainDb);
    rxOffsetDb.push(found.device.rxOffsetDb);
  }
  return { txGainDb, rxOffsetDb };
}

function scalePoint(p: Point, f: number): Point {
  return f === 1 ? p : { xM: p.xM * f, yM: p.yM * f };
}

function scaleGeometry(g: ScenarioGeometry, f: number): ScenarioGeometry {
  if (f === 1) return g;
  const points: Record<string, Point> = {};
  for (const [name, p] of Object.entries(g.points)) points[name] = scalePoint(p, f);
  return {
    area: scaleRect(g.area, f),
    obstacles: g.obstacles.map((r) => scaleRect(r, f)),
    doors: g.doors.map((p) => scalePoint(p, f)),
    seats: g.seats.map((s) => ({
      ...s,
      xM: s.xM * f,
      yM: s.yM * f,
      dxM: s.dxM * f,
      dyM: s.dyM * f,
    })),
    points,
  };
}

function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  for (let k = 0; k < weights.length; k++) {
    sum += weights[k];
    out[k] = sum;
  }
  return out;
}

function pick(cdf: Float64Array, u: number): number {
  const x = u * cdf[cdf.length - 1];
  for (let k = 0; k < cdf.length - 1; k++) if (x < cdf[k]) return k;
  return cdf.length - 1;
}

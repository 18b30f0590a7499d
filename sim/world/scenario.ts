/**
 * Scenarios as JSON: the scene's geometry, who is in it and how they move, the stop schedule, the
 * protocol mix and scanning cadence, the default duration. `loadScenario` validates a document and
 * names the offending field in a `ConfigError`; seven built-ins live in `scenarios/*.json`.
 *
 * {
 *   "name": "tram", "description": "...", "durationS": 1440,
 *   "scaleWithAgents": false,            // grow the geometry with an agent-count override
 *   "geometry": {
 *     "area": {"xM", "yM", "widthM", "heightM"},   // metres
 *     "obstacles": [rect...], "doors": [{"xM", "yM"}...],
 *     "seats": [{"xM", "yM", "cols", "rows", "dxM", "dyM"}...],   // grids of places
 *     "points": {"kitchen": {"xM", "yM"}, ...}                   // named places
 *   },
 *   "agents": [{"role", "count", "fixed"?, "carry"?: {"hand", "pocket", "bag"}, "mobility": {...}}],
 *   "schedule": {"stops": [{"atS", "dwellS"}...]},
 *   "protocolMix": {"gaen": 0.8, "bluezone": 0.2},
 *   "scanning": "gaen" | "bluezone" | "continuous",
 *   "propagation": {"shadowingSigmaDb": 6, ...},  // optional numeric overrides
 *   "channel": "v2",                     // optional channel profile (name or file), docs/channel.md
 *   "environment": "vehicle",            // optional environment class (the profile's offsets)
 *   "tracks": {"file": "crowd.csv", "maxGapS"?: 10}  // recorded tracks for "trajectory" groups
 * }
 *
 * "city" {day: "office" | "school" | "plaza" | "home", startS?} (every "city" group shares one
 * city of venues far apart: blocks of flats, offices, classrooms, tram cars, plazas; see
 * `mobility/city-day.ts`; `startS` is the time of day of time 0, default 07:30).
 *
 * Mobility kinds: "stationary" {at: point name | {xM, yM}}; "seated" {jitterM?, jitterTauS?}
 * (takes the next free seats in declaration order); "random-waypoint" {area?, speedMps?: [min,
 * max], pauseS?: [min, max], spots?: ["seats" | point name...], spotRadiusM?}; "queue" {head,
 * towardTail, spacingM?, serviceS?, arrivalsPerMinute?, initialLength?, speedMps?, exit?};
 * "boarding" {speedMps?, jitterM?} (uses seats, doors and schedule.stops); "group" {groupSize?,
 * spreadM?, speedMps?, pauseS?, area?}; "trajectory" {track: id} or {tracks: [id...]} (one agent
 * per track id of the scenario's `tracks` file, replayed exactly: see `tracks.ts` for the file
 * format and what happens outside a track; such groups are always `fixed`, their `count` may be
 * left out and must otherwise equal the number of tracks).
 *
 * A group may name the phone model its people carry, `"device": "Samsung SM-G973F"` (a model of
 * `src/signal/device-offsets.json`; see `devices.ts`); without it, phones are the nominal device.
 * `tracks.file` is relative to the scenario file's folder (the working folder for JSON text);
 * `tracks.maxGapS` (default: no limit) is the longest hole between samples interpolated.
 *
 * Built-ins `epfl-lunch`, `epfl-train`, `epfl-office`, `epfl-queue`, `epfl-party` replay the
 * DP-3T exp05 camera tracks from `../shared/data` at run time (`epfl-scenarios.ts`).
 */
import { dirname, resolve } from "node:path";
import type { Environment } from "../../src/campaigns/campaign-record.js";
import { ConfigError } from "../../src/core/errors.js";
import { readInputFile } from "../../src/io/read-input-file.js";
import { simulatedDevice } from "./devices.js";
import { EPFL_SCENARIO_NAMES, epflScenarioDocument } from "./epfl-scenarios.js";
import type { Point, Rect } from "./geometry.js";
import { CITY_DAYS, type CityDayKind } from "./mobility/city-day.js";
import type { Stop } from "./mobility/vehicle-stops.js";
import { CHANNEL_PROFILES } from "./channel-profiles.js";
import { resolveChannelProfile } from "./channel-propagation.js";
import type { PropagationParams } from "./propagation.js";
import { readTrackFile, type TrackSet } from "./tracks.js";
import bus from "./scenarios/bus.json" with { type: "json" };
import checkpointQueue from "./scenarios/checkpoint-queue.json" with { type: "json" };
import city from "./scenarios/city.json" with { type: "json" };
import classroom from "./scenarios/classroom.json" with { type: "json" };
import office from "./scenarios/office.json" with { type: "json" };
import plaza from "./scenarios/plaza.json" with { type: "json" };
import tram from "./scenarios/tram.json" with { type: "json" };

export const PROTOCOL_NAMES = ["gaen", "dp3t", "bluezone"] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];
export const SCANNING_CADENCES = ["gaen", "bluezone", "continuous"] as const;
export type ScanningCadence = (typeof SCANNING_CADENCES)[number];
export const MOBILITY_KINDS = [
  "stationary",
  "seated",
  "random-waypoint",
  "queue",
  "boarding",
  "group",
  "trajectory",
  "city",
] as const;

export interface SeatGrid {
  readonly xM: number;
  readonly yM: number;
  readonly cols: number;
  readonly rows: number;
  readonly dxM: number;
  readonly dyM: number;
}

export interface ScenarioGeometry {
  readonly area: Rect;
  readonly obstacles: readonly Rect[];
  readonly doors: readonly Point[];
  readonly seats: readonly SeatGrid[];
  readonly points: Readonly<Record<string, Point>>;
}

export type Range = readonly [number, number];

export type MobilitySpec =
  | { readonly kind: "stationary"; readonly at: string | Point }
  | { readonly kind: "seated"; readonly jitterM?: number; readonly jitterTauS?: number }
  | {
      readonly kind: "random-waypoint";
      readonly area?: Rect;
      readonly speedMps?: Range;
      readonly pauseS?: Range;
      readonly spots?: readonly string[];
      readonly spotRadiusM?: number;
    }
  | {
      readonly kind: "queue";
      readonly head: string | Point;
      readonly towardTail: Point;
      readonly spacingM?: number;
      readonly serviceS?: Range;
      readonly arrivalsPerMinute?: number;
      readonly initialLength?: number;
      readonly speedMps?: number;
      /** Where served people walk to, relative to the head. */
      readonly exit?: Point;
    }
  | { readonly kind: "boarding"; readonly speedMps?: number; readonly jitterM?: number }
  | {
      readonly kind: "group";
      readonly groupSize?: Range;
      readonly spreadM?: number;
      readonly speedMps?: Range;
      readonly pauseS?: Range;
      readonly area?: Rect;
    }
  | {
      readonly kind: "trajectory";
      /** Track ids of the scenario's `tracks`, one agent each, in order. */
      readonly tracks: readonly string[];
    }
  | {
      readonly kind: "city";
      /** What the group does in the daytime (`city-day.ts`). */
      readonly day: CityDayKind;
      /** Time of day of time 0, seconds after midnight (default 27,000: 07:30). */
      readonly startS?: number;
    };

export interface CarryMix {
  readonly hand: number;
  readonly pocket: number;
  readonly bag: number;
}

export interface AgentGroupSpec {
  readonly role: string;
  readonly count: number;
  /** Kept at `count` when the agent count is overridden (a scanner, a teacher). */
  readonly fixed: boolean;
  readonly carry: CarryMix;
  readonly mobility: MobilitySpec;
  /** The phone model everyone in the group carries (canonical name, see `devices.ts`). */
  readonly device?: string;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly durationS: number;
  readonly scaleWithAgents: boolean;
  readonly geometry: ScenarioGeometry;
  readonly agents: readonly AgentGroupSpec[];
  readonly schedule: { readonly stops: readonly Stop[] };
  readonly protocolMix: Readonly<Partial<Record<ProtocolName, number>>>;
  readonly scanning: ScanningCadence;
  readonly propagation: Partial<PropagationParams>;
  /**
   * The channel profile (`channel-propagation.ts`): a name (`herald-only`, `v2`) or a profile
   * JSON file; unset = `v2` (`DEFAULT_CHANNEL`), fitted across five campaigns. `simulate
   * --channel` overrides.
   */
  readonly channel?: string;
  /**
   * The environment class, for the channel profile's `environmentOffsetDb` (v2 fits none, so
   * no effect there; the default channel ignores it).
   */
  readonly environment?: Environment;
  /** The recorded tracks `trajectory` groups follow. */
  readonly tracks?: TrackSet;
}

const BUILT_INS: Readonly<Record<string, unknown>> = {
  tram,
  bus,
  classroom,
  "checkpoint-queue": checkpointQueue,
  office,
  plaza,
  city,
};

/**
 * Names of the built-in scenarios: the synthetic ones, then the EPFL replays (which need the
 * exp05 data under `../shared/data` when loaded).
 */
export const BUILT_IN_SCENARIOS: readonly string[] = [
  ...Object.keys(BUILT_INS),
  ...EPFL_SCENARIO_NAMES,
];

/**
 * A built-in scenario by name; a `ConfigError` listing the names when there is none, or (EPFL
 * replays) when the data folder is absent. `dataRoot`: the folder holding `dp3t-epfl/`
 * (default `../shared/data` beside the repository).
 */
export function builtInScenario(name: string, options: { dataRoot?: string } = {}): Scenario {
  if (EPFL_SCENARIO_NAMES.includes(name)) {
    const { doc, tracks } = epflScenarioDocument(name, options.dataRoot);
    return validateScenario(doc, { tracks });
  }
  const doc = BUILT_INS[name];
  if (doc === undefined) {
    throw new ConfigError(
      `unknown scenario "${name}"; built-in scenarios: ${BUILT_IN_SCENARIOS.join(", ")}`,
    );
  }
  return validateScenario(doc);
}

/**
 * A scenario from a JSON text (starting with "{"), a file path, or an already parsed object,
 * validated. Errors are `ConfigError`s naming the field.
 */
export function loadScenario(jsonOrPath: string | object): Scenario {
  if (typeof jsonOrPath !== "string") return validateScenario(jsonOrPath);
  let text = jsonOrPath;
  let where = "scenario";
  let baseDir: string | undefined;
  if (!jsonOrPath.trimStart().startsWith("{")) {
    where = jsonOrPath;
    baseDir = dirname(resolve(jsonOrPath));
    text = readInputFile(jsonOrPath, { what: "scenario file" });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${where} is not valid JSON: ${(cause as Error).message}`);
  }
  return validateScenario(doc, { baseDir });
}

/** What `validateScenario` needs besides the document. */
export interface ScenarioContext {
  /** Folder `tracks.file` is relative to (default: the working folder). */
  readonly baseDir?: string;
  /** Tracks already read (the EPFL built-ins): used instead of the document's `tracks`. */
  readonly tracks?: TrackSet;
}

type Json = Record<string, unknown>;

class Checker {
  constructor(private readonly label: string) {}

  fail(path: string, problem: string): never {
    throw new ConfigError(`${this.label}: ${path} ${problem}`, "E_SCENARIO");
  }

  object(v: unknown, path: string): Json {
    if (typeof v !== "object" || v === null || Array.isArray(v))
      this.fail(path, "must be an object");
    return v as Json;
  }

  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, "must be an array");
    return v;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== "string" || v.length === 0) this.fail(path, "must be a non-empty string");
    return v;
  }

  number(
    v: unknown,
    path: string,
    opts: { min?: number; max?: number; integer?: boolean; above?: number } = {},
  ): number {
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(path, "must be a number");
    if (opts.integer && !Number.isInteger(v)) this.fail(path, `must be an integer, got ${v}`);
    if (opts.min !== undefined && v < opts.min)
      this.fail(path, `must be at least ${opts.min}, got ${v}`);
    if (opts.above !== undefined && v <= opts.above)
      this.fail(path, `must be above ${opts.above}, got ${v}`);
    if (opts.max !== undefined && v > opts.max)
      this.fail(path, `must be at most ${opts.max}, got ${v}`);
    return v;
  }

  optionalNumber(
    v: unknown,
    path: string,
    opts: { min?: number; max?: number; integer?: boolean; above?: number } = {},
  ): number | undefined {
    return v === undefined ? undefined : this.number(v, path, opts);
  }

  rect(v: unknown, path: string): Rect {
    const o = this.object(v, path);
    return {
      xM: this.number(o.xM, `${path}.xM`),
      yM: this.number(o.yM, `${path}.yM`),
      widthM: this.number(o.widthM, `${path}.widthM`, { above: 0 }),
      heightM: this.number(o.heightM, `${path}.heightM`, { above: 0 }),
    };
  }

  point(v: unknown, path: string): Point {
    const o = this.object(v, path);
    return { xM: this.number(o.xM, `${path}.xM`), yM: this.number(o.yM, `${path}.yM`) };
  }

  range(v: unknown, path: string, min = 0): Range | undefined {
    if (v === undefined) return undefined;
    const a = this.array(v, path);
    if (a.length !== 2) this.fail(path, "must be [min, max]");
    const lo = this.number(a[0], `${path}[0]`, { min });
    const hi = this.number(a[1], `${path}[1]`, { min: lo });
    return [lo, hi];
  }

  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
    if (typeof v !== "string" || !allowed.includes(v as T)) {
      this.fail(path, `must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  }

  pointRef(v: unknown, path: string, points: Readonly<Record<string, Point>>): string | Point {
    if (typeof v === "string") {
      if (!(v in points)) this.fail(path, `names no point of geometry.points: "${v}"`);
      return v;
    }
    return this.point(v, path);
  }
}

/** Validates a parsed scenario document (reading its `tracks` file, if any). */
export function validateScenario(doc: unknown, context: ScenarioContext = {}): Scenario {
  const top = new Checker("scenario").object(doc, "scenario");
  const name = new Checker("scenario").string(top.name, "name");
  const c = new Checker(`scenario "${name}"`);
  const description = typeof top.description === "string" ? top.description : "";
  const durationS = c.number(top.durationS, "durationS", { above: 0 });
  const scaleWithAgents = top.scaleWithAgents === undefined ? false : top.scaleWithAgents === true;
  if (top.scaleWithAgents !== undefined && typeof top.scaleWithAgents !== "boolean") {
    c.fail("scaleWithAgents", "must be true or false");
  }

  const g = c.object(top.geometry, "geometry");
  const area = c.rect(g.area, "geometry.area");
  const obstacles =
    g.obstacles === undefined
      ? []
      : c
          .array(g.obstacles, "geometry.obstacles")
          .map((r, k) => c.rect(r, `geometry.obstacles[${k}]`));
  const doors =
    g.doors === undefined
      ? []
      : c.array(g.doors, "geometry.doors").map((p, k) => c.point(p, `geometry.doors[${k}]`));
  const seats =
    g.seats === undefined
      ? []
      : c.array(g.seats, "geometry.seats").map((s, k) => {
          const o = c.object(s, `geometry.seats[${k}]`);
          const path = `geometry.seats[${k}]`;
          return {
            xM: c.number(o.xM, `${path}.xM`),
            yM: c.number(o.yM, `${path}.yM`),
            cols: c.number(o.cols, `${path}.cols`, { min: 1, integer: true }),
            rows: c.number(o.rows, `${path}.rows`, { min: 1, integer: true }),
            dxM: c.number(o.dxM, `${path}.dxM`, { min: 0 }),
            dyM: c.number(o.dyM, `${path}.dyM`, { min: 0 }),
          };
        });
  const points: Record<string, Point> = {};
  if (g.points !== undefined) {
    for (const [key, p] of Object.entries(c.object(g.points, "geometry.points"))) {
      points[key] = c.point(p, `geometry.points.${key}`);
    }
  }
  const geometry: ScenarioGeometry = { area, obstacles, doors, seats, points };

  const stops: Stop[] = [];
  if (top.schedule !== undefined) {
    const s = c.object(top.schedule, "schedule");
    const list = s.stops === undefined ? [] : c.array(s.stops, "schedule.stops");
    list.forEach((v, k) => {
      const o = c.object(v, `schedule.stops[${k}]`);
      const atS = c.number(o.atS, `schedule.stops[${k}].atS`, { min: 0 });
      const dwellS = c.number(o.dwellS, `schedule.stops[${k}].dwellS`, { above: 0 });
      const previous = stops[k - 1];
      if (previous && atS < previous.atS + previous.dwellS) {
        c.fail(`schedule.stops[${k}].atS`, "must come after the previous stop's doors close");
      }
      stops.push({ atS, dwellS });
    });
  }

  let tracks = context.tracks;
  if (tracks === undefined && top.tracks !== undefined) {
    const t = c.object(top.tracks, "tracks");
    const file = c.string(t.file, "tracks.file");
    const maxGapS =
      c.optionalNumber(t.maxGapS, "tracks.maxGapS", { min: 0 }) ?? Number.POSITIVE_INFINITY;
    tracks = readTrackFile(resolve(context.baseDir ?? ".", file), maxGapS);
  }

  const agentList = c.array(top.agents, "agents");
  if (agentList.length === 0) c.fail("agents", "must list at least one group");
  const agents = agentList.map((v, k) =>
    validateGroup(c, v, `agents[${k}]`, geometry, stops, tracks),
  );
  const followed = new Map<string, string>();
  agents.forEach((g, k) => {
    if (g.mobility.kind !== "trajectory") return;
    if (scaleWithAgents) c.fail("scaleWithAgents", "cannot be true with trajectory groups");
    g.mobility.tracks.forEach((id, n) => {
      const path = `agents[${k}].mobility.tracks[${n}]`;
      const before = followed.get(id);
      if (before !== undefined) c.fail(path, `track "${id}" is already followed by ${before}`);
      followed.set(id, path);
    });
  });

  const mix = c.object(top.protocolMix, "protocolMix");
  const protocolMix: Partial<Record<ProtocolName, number>> = {};
  let total = 0;
  for (const [key, share] of Object.entries(mix)) {
    const protocol = c.oneOf(key, `protocolMix key "${key}"`, PROTOCOL_NAMES);
    protocolMix[protocol] = c.number(share, `protocolMix.${key}`, { min: 0, max: 1 });
    total += protocolMix[protocol];
  }
  if (Math.abs(total - 1) > 1e-6) c.fail("protocolMix", `shares must add up to 1, got ${total}`);
  const scanning = c.oneOf(top.scanning, "scanning", SCANNING_CADENCES);

  const propagation: Record<string, number> = {};
  if (top.propagation !== undefined) {
    for (const [key, v] of Object.entries(c.object(top.propagation, "propagation"))) {
      if (!PROPAGATION_NUMBERS.includes(key)) {
        c.fail(
          `propagation.${key}`,
          `is not a numeric propagation parameter (${PROPAGATION_NUMBERS.join(", ")})`,
        );
      }
      propagation[key] = c.number(v, `propagation.${key}`);
    }
  }

  const environment =
    top.environment === undefined
      ? undefined
      : c.oneOf(top.environment, "environment", ENVIRONMENTS);
  let channel: string | undefined;
  if (top.channel !== undefined) {
    channel = c.string(top.channel, "channel");
    // A profile file is relative to the scenario file.
    if (!Object.hasOwn(CHANNEL_PROFILES, channel))
      channel = resolve(context.baseDir ?? ".", channel);
    try {
      resolveChannelProfile(channel);
    } catch (cause) {
      c.fail("channel", (cause as Error).message);
    }
  }

  return {
    name,
    description,
    durationS,
    scaleWithAgents,
    geometry,
    agents,
    schedule: { stops },
    protocolMix,
    scanning,
    propagation: propagation as Partial<PropagationParams>,
    ...(tracks === undefined ? {} : { tracks }),
    ...(channel === undefined ? {} : { channel }),
    ...(environment === undefined ? {} : { environment }),
  };
}

const ENVIRONMENTS: readonly Environment[] = [
  "open-indoor",
  "office",
  "vehicle",
  "outdoor",
  "anechoic",
  "rig",
];

const PROPAGATION_NUMBERS = [
  "txPowerDbm",
  "refDistanceM",
  "refPathLossDb",
  "exponentNear",
  "breakpointM",
  "exponentFar",
  "minDistanceM",
  "shadowingSigmaDb",
  "shadowingTauS",
  "shadowingDecorrelationM",
  "bodyLossDb",
  "bodyRadiusM",
  "maxBodies",
  "ricianKDb",
  "movingRicianKDb",
  "movingSpeedMps",
  "sensitivityDbm",
  "saturationDbm",
  "cullSigmas",
  "memorySigmas",
];

function validateGroup(
  c: Checker,
  v: unknown,
  path: string,
  geometry: ScenarioGeometry,
  stops: readonly Stop[],
  tracks: TrackSet | undefined,
): AgentGroupSpec {
  const o = c.object(v, path);
  const role = c.string(o.role, `${path}.role`);
  const trajectory =
    typeof o.mobility === "object" &&
    o.mobility !== null &&
    (o.mobility as Json).kind === "trajectory";
  const count =
    trajectory && o.count === undefined
      ? -1
      : c.number(o.count, `${path}.count`, { min: 0, integer: true });
  if (o.fixed !== undefined && typeof o.fixed !== "boolean")
    c.fail(`${path}.fixed`, "must be true or false");
  // A recorded track is one person: never scaled by an agent-count override.
  const fixed = o.fixed === true || trajectory;
  let device: string | undefined;
  if (o.device !== undefined) {
    const model = c.string(o.device, `${path}.device`);
    const found = simulatedDevice(model);
    if (found === undefined)
      c.fail(
        `${path}.device`,
        `"${model}" has no fitted offsets (src/signal/device-offsets.json lists the models)`,
      );
    device = found.name;
  }
  let carry: CarryMix = { hand: 1 / 3, pocket: 1 / 3, bag: 1 / 3 };
  if (o.carry !== undefined) {
    const m = c.object(o.carry, `${path}.carry`);
    carry = {
      hand: c.number(m.hand ?? 0, `${path}.carry.hand`, { min: 0, max: 1 }),
      pocket: c.number(m.pocket ?? 0, `${path}.carry.pocket`, { min: 0, max: 1 }),
      bag: c.number(m.bag ?? 0, `${path}.carry.bag`, { min: 0, max: 1 }),
    };
    const total = carry.hand + carry.pocket + carry.bag;
    if (Math.abs(total - 1) > 1e-6)
      c.fail(`${path}.carry`, `shares must add up to 1, got ${total}`);
  }
  const m = c.object(o.mobility, `${path}.mobility`);
  const mp = `${path}.mobility`;
  const kind = c.oneOf(m.kind, `${mp}.kind`, MOBILITY_KINDS);
  let mobility: MobilitySpec;
  switch (kind) {
    case "stationary":
      mobility = { kind, at: c.pointRef(m.at, `${mp}.at`, geometry.points) };
      break;
    case "seated":
      if (geometry.seats.length === 0) c.fail(`${mp}.kind`, `"seated" needs geometry.seats`);
      mobility = {
        kind,
        jitterM: c.optionalNumber(m.jitterM, `${mp}.jitterM`, { min: 0 }),
        jitterTauS: c.optionalNumber(m.jitterTauS, `${mp}.jitterTauS`, { above: 0 }),
      };
      break;
    case "random-waypoint": {
      let spots: string[] | undefined;
      if (m.spots !== undefined) {
        spots = c.array(m.spots, `${mp}.spots`).map((s, k) => {
          const spot = c.string(s, `${mp}.spots[${k}]`);
          if (spot !== "seats" && !(spot in geometry.points)) {
            c.fail(
              `${mp}.spots[${k}]`,
              `must be "seats" or a name of geometry.points, got "${spot}"`,
            );
          }
          return spot;
        });
      }
      mobility = {
        kind,
        area: m.area === undefined ? undefined : c.rect(m.area, `${mp}.area`),
        speedMps: c.range(m.speedMps, `${mp}.speedMps`),
        pauseS: c.range(m.pauseS, `${mp}.pauseS`),
        spots,
        spotRadiusM: c.optionalNumber(m.spotRadiusM, `${mp}.spotRadiusM`, { min: 0 }),
      };
      if (mobility.speedMps && mobility.speedMps[1] <= 0)
        c.fail(`${mp}.speedMps`, "must allow walking");
      break;
    }
    case "queue":
      mobility = {
        kind,
        head: c.pointRef(m.head, `${mp}.head`, geometry.points),
        towardTail: c.point(m.towardTail, `${mp}.towardTail`),
        spacingM: c.optionalNumber(m.spacingM, `${mp}.spacingM`, { above: 0 }),
        serviceS: c.range(m.serviceS, `${mp}.serviceS`),
        arrivalsPerMinute: c.optionalNumber(m.arrivalsPerMinute, `${mp}.arrivalsPerMinute`, {
          above: 0,
        }),
        initialLength: c.optionalNumber(m.initialLength, `${mp}.initialLength`, {
          min: 0,
          integer: true,
        }),
        speedMps: c.optionalNumber(m.speedMps, `${mp}.speedMps`, { above: 0 }),
        exit: m.exit === undefined ? undefined : c.point(m.exit, `${mp}.exit`),
      };
      if (mobility.towardTail.xM === 0 && mobility.towardTail.yM === 0) {
        c.fail(`${mp}.towardTail`, "must not be zero");
      }
      break;
    case "boarding":
      if (stops.length < 2) c.fail(`${mp}.kind`, `"boarding" needs at least two schedule.stops`);
      if (geometry.doors.length === 0) c.fail(`${mp}.kind`, `"boarding" needs geometry.doors`);
      mobility = {
        kind,
        speedMps: c.optionalNumber(m.speedMps, `${mp}.speedMps`, { above: 0 }),
        jitterM: c.optionalNumber(m.jitterM, `${mp}.jitterM`, { min: 0 }),
      };
      break;
    case "group": {
      const groupSize = c.range(m.groupSize, `${mp}.groupSize`, 1);
      mobility = {
        kind,
        groupSize,
        spreadM: c.optionalNumber(m.spreadM, `${mp}.spreadM`, { min: 0 }),
        speedMps: c.range(m.speedMps, `${mp}.speedMps`),
        pauseS: c.range(m.pauseS, `${mp}.pauseS`),
        area: m.area === undefined ? undefined : c.rect(m.area, `${mp}.area`),
      };
      break;
    }
    case "city":
      mobility = {
        kind,
        day: c.oneOf(m.day, `${mp}.day`, CITY_DAYS),
        startS: c.optionalNumber(m.startS, `${mp}.startS`, { min: 0, max: 86_400 }),
      };
      break;
    case "trajectory": {
      if (tracks === undefined)
        c.fail(`${mp}.kind`, `"trajectory" needs the scenario's "tracks" (a track file)`);
      if ((m.track === undefined) === (m.tracks === undefined))
        c.fail(mp, 'needs either "track" (one id) or "tracks" (a list of ids)');
      const ids =
        m.track !== undefined
          ? [c.string(m.track, `${mp}.track`)]
          : c.array(m.tracks, `${mp}.tracks`).map((id, n) => c.string(id, `${mp}.tracks[${n}]`));
      if (ids.length === 0) c.fail(`${mp}.tracks`, "must list at least one track id");
      ids.forEach((id, n) => {
        if (!tracks.tracks.has(id))
          c.fail(
            m.track !== undefined ? `${mp}.track` : `${mp}.tracks[${n}]`,
            `names no track of ${tracks.source}: "${id}"`,
          );
      });
      if (count >= 0 && count !== ids.length)
        c.fail(`${path}.count`, `must equal the number of tracks (${ids.length}), got ${count}`);
      return {
        role,
        count: ids.length,
        fixed,
        carry,
        mobility: { kind, tracks: ids },
        ...(device === undefined ? {} : { device }),
      };
    }
  }
  return { role, count, fixed, carry, mobility, ...(device === undefined ? {} : { device }) };
}

/** All seat positions of the geometry, x, y pairs, in declaration order. */
export function seatPositions(geometry: ScenarioGeometry): Float32Array {
  let n = 0;
  for (const s of geometry.seats) n += s.cols * s.rows;
  const out = new Float32Array(2 * n);
  let k = 0;
  for (const s of geometry.seats) {
    for (let r = 0; r < s.rows; r++) {
      for (let col = 0; col < s.cols; col++) {
        out[k++] = s.xM + col * s.dxM;
        out[k++] = s.yM + r * s.dyM;
      }
    }
  }
  return out;
}

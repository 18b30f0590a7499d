/** The simulator's physical world: agents, mobility, geometry, propagation, ground truth. */
export { Agents, CarryPosition, MobilityKind } from "./agents.js";
export { benchWorld, type WorldBenchResult } from "./bench-world.js";
export type { Point, Rect } from "./geometry.js";
export { type CloseContact, GroundTruth, type GroundTruthOptions } from "./ground-truth.js";
export { SIMULATED_DEVICE_MODELS, simulatedDevice } from "./devices.js";
export { EPFL_SCENARIO_NAMES, EPFL_SCENARIOS } from "./epfl-scenarios.js";
export { AdvancingQueue } from "./mobility/advancing-queue.js";
export { GroupWalk } from "./mobility/group-walk.js";
export type { MobilityModel } from "./mobility/mobility-model.js";
export { RandomWaypoint } from "./mobility/random-waypoint.js";
export { SeatedJitter } from "./mobility/seated-jitter.js";
export { Stationary } from "./mobility/stationary.js";
export { Trajectory } from "./mobility/trajectory.js";
export { type Stop, VehicleStops } from "./mobility/vehicle-stops.js";
export { PairCache } from "./pair-cache.js";
export {
  DEFAULT_PROPAGATION,
  Propagation,
  type PropagationParams,
  pathLossDb,
  receptionRangeM,
} from "./propagation.js";
export {
  BUILT_IN_SCENARIOS,
  builtInScenario,
  loadScenario,
  type Scenario,
  validateScenario,
} from "./scenario.js";
export { SpatialGrid } from "./spatial-grid.js";
export {
  makeTrack,
  readTrackFile,
  type Track,
  TrackFileError,
  type TrackSet,
  trackPosition,
} from "./tracks.js";
export { buildWorld, World, type WorldOptions } from "./world.js";

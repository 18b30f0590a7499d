// biome-ignore-all assist/source/organizeImports: the exports are grouped by layer on purpose.
/**
 * The crowd simulator's public API, `import { … } from "proxkit/sim"`: built-in and custom
 * scenarios, a simulated run (what each phone heard, the keys the index cases published, the
 * ground truth), the shipped detectors' decisions on it and their evaluation. A custom detector
 * reads `SimulatedRun.sightings` and `published`, and is scored against `truth` (see
 * examples/custom-detector.ts). test/public-api.test.ts snapshots this list.
 */

// scenarios: the built-in worlds (office, bus, tram, …) and custom ones from JSON.
export {
  BUILT_IN_SCENARIOS,
  builtInScenario,
  loadScenario,
  PROTOCOL_NAMES,
  type ProtocolName,
  type Scenario,
  validateScenario,
} from "./world/scenario.js";

// a run: each receiver's sightings, the published keys, the ground truth of close pairs.
export {
  closeTruthSeconds,
  type GroundTruthRecord,
  PAIR_KEY_BASE,
  type PublishedKeySet,
  pairKey,
  type RunData,
  type RunMeta,
  type TruthAgent,
  type TruthPair,
} from "./pipeline/run-data.js";
export {
  DEFAULT_START_MS,
  type SimulatedRun,
  type SimulateRunOptions,
  simulateRun,
} from "./pipeline/simulate-run.js";

// detection and evaluation: the shipped detectors' decisions per pair, scored against the truth.
export {
  type DetectionRow,
  type DetectOptions,
  defaultDetectors,
  detectContacts,
  type PairDetection,
} from "./pipeline/detect-contacts.js";
export {
  type DetectorEvaluation,
  evaluateRun,
  type PrPoint,
  type ReferenceEvaluation,
  type RunEvaluation,
} from "./evaluation/evaluate-run.js";
export { precisionRecallF1 } from "./evaluation/precision-recall.js";

/**
 * Risk-scoring presets: what real exposure-notification apps shipped, kept as data
 * (`presets/*.json`, each with its source and date) and validated on load.
 */
import { ConfigError } from "../core/errors.js";
import cwaV1 from "./presets/cwa-v1.json" with { type: "json" };
import cwaV2 from "./presets/cwa-v2.json" with { type: "json" };
import immuni from "./presets/immuni.json" with { type: "json" };
import nhsV1 from "./presets/nhs-v1.json" with { type: "json" };
import nhsV2 from "./presets/nhs-v2.json" with { type: "json" };
import proxkit from "./presets/proxkit.json" with { type: "json" };
import swiss05 from "./presets/swiss-2020-05.json" with { type: "json" };
import swiss07 from "./presets/swiss-2020-07.json" with { type: "json" };
import swiss09 from "./presets/swiss-2020-09.json" with { type: "json" };

/**
 * - `v1-attenuation-durations`: EN v1 attenuation durations (time below t0, between t0 and
 *   t1, above t1), weighted per bucket, notify at a number of weighted minutes per day.
 * - `v2-exposure-windows`: EN v2 daily summaries over exposure windows (buckets
 *   immediate <= t0, near <= t1, medium <= t2, other), with an optional per-window filter.
 * - `v1-risk-score`: EN v1 risk score (attenuation score x duration score), Immuni style.
 * - `proxkit-detector`: our detector: estimated minutes within a distance.
 */
export type RiskModel =
  | "v1-attenuation-durations"
  | "v2-exposure-windows"
  | "v1-risk-score"
  | "proxkit-detector";

export interface RiskPreset {
  readonly name: string;
  readonly title: string;
  readonly date: string;
  readonly source: string;
  readonly model: RiskModel;
  /** Strictly increasing attenuation thresholds, dB. */
  readonly thresholdsDb: readonly number[];
  /** One weight per bucket (thresholds + 1), 0..2.5. */
  readonly weights: readonly number[];
  /** Weighted minutes per UTC day at which the preset notifies (v1 durations, v2 windows). */
  readonly notifyAtWeightedMinutes?: number;
  /** v2: drop windows with fewer than `minMinutes` below `attenuationBelowDb`. */
  readonly windowFilter?: { readonly attenuationBelowDb: number; readonly minMinutes: number };
  /** v2: windows scoring less are dropped (seconds). */
  readonly minimumWindowScore?: number;
  /** v1-risk-score: scores of the 8 EN v1 attenuation buckets (>73, 63-73, 51-63, 33-51, 27-33, 15-27, 10-15, <=10 dB). */
  readonly attenuationBucketScores?: readonly number[];
  /** v1-risk-score: scores of the 8 EN v1 duration buckets (0, <=5, <=10, <=15, <=20, <=25, <=30, >30 min). */
  readonly durationBucketScores?: readonly number[];
  readonly minimumRiskScore?: number;
  /** proxkit-detector: "close" distance and the minutes within it that notify. */
  readonly closeDistanceM?: number;
  readonly notifyAtCloseMinutes?: number;
  /** proxkit-detector: the attenuation (dB) that maps to `closeDistanceM`, fitted on held-out data. */
  readonly closeAttenuationDb?: number;
  /**
   * proxkit-detector: the logistic scale (dB per e-fold) of the chance that an attenuation means
   * within `closeDistanceM`, falling through 1/2 at `closeAttenuationDb`; it weighs durations in
   * `weightedDurationSum` (a score that ranks closeness). Absent: a step at `closeAttenuationDb`.
   */
  readonly closeScaleDb?: number;
  /**
   * proxkit-detector: how the close minutes that notify are counted. `"threshold"` (default): an
   * exposure's whole time counts when its mean attenuation is at or below `closeAttenuationDb`;
   * `"expected"`: its time counts weighted by the chance of being close (`closeScaleDb`), so a
   * long exposure just above the threshold still adds up.
   */
  readonly closeTime?: "threshold" | "expected";
}

/** Preset names, a contract: ours is first and the default. */
export const PRESET_NAMES = [
  "proxkit",
  "cwa-v1",
  "cwa-v2",
  "swiss-2020-05",
  "swiss-2020-07",
  "swiss-2020-09",
  "immuni",
  "nhs-v1",
  "nhs-v2",
] as const;

const RAW: Record<string, unknown> = {
  proxkit,
  "cwa-v1": cwaV1,
  "cwa-v2": cwaV2,
  "swiss-2020-05": swiss05,
  "swiss-2020-07": swiss07,
  "swiss-2020-09": swiss09,
  immuni,
  "nhs-v1": nhsV1,
  "nhs-v2": nhsV2,
};

/** Checks a preset's shape; anything off is a `ConfigError` naming the field. */
export function validatePreset(value: unknown, where = "preset"): RiskPreset {
  const p = value as RiskPreset;
  const fail = (what: string): never => {
    throw new ConfigError(`${where}: ${what}`, "E_PRESET");
  };
  if (typeof p !== "object" || p === null) fail("not an object");
  for (const field of ["name", "title", "date", "source"] as const) {
    if (typeof p[field] !== "string" || p[field].length === 0)
      fail(`"${field}" must be a non-empty string`);
  }
  const models: RiskModel[] = [
    "v1-attenuation-durations",
    "v2-exposure-windows",
    "v1-risk-score",
    "proxkit-detector",
  ];
  if (!models.includes(p.model)) fail(`"model" must be one of ${models.join(", ")}`);
  if (
    !Array.isArray(p.thresholdsDb) ||
    p.thresholdsDb.some((t, i) => typeof t !== "number" || (i > 0 && t <= p.thresholdsDb[i - 1]))
  ) {
    fail(`"thresholdsDb" must be strictly increasing numbers`);
  }
  if (p.model === "v2-exposure-windows" && p.thresholdsDb.length !== 3)
    fail(`a v2 preset needs 3 thresholds`);
  if (p.model === "v1-attenuation-durations" && p.thresholdsDb.length !== 2)
    fail(`a v1 preset needs 2 thresholds`);
  if (
    !Array.isArray(p.weights) ||
    p.weights.length !== p.thresholdsDb.length + 1 ||
    p.weights.some((w) => typeof w !== "number" || w < 0 || w > 2.5)
  ) {
    fail(`"weights" must be ${p.thresholdsDb.length + 1} numbers in 0..2.5`);
  }
  if (p.model === "v1-risk-score") {
    for (const field of ["attenuationBucketScores", "durationBucketScores"] as const) {
      const scores = p[field];
      if (
        !Array.isArray(scores) ||
        scores.length !== 8 ||
        scores.some((s) => !Number.isInteger(s) || s < 0 || s > 8)
      ) {
        fail(`"${field}" must be 8 whole numbers in 0..8`);
      }
    }
    if (typeof p.minimumRiskScore !== "number") fail(`"minimumRiskScore" must be a number`);
  } else if (p.model === "proxkit-detector") {
    if (!(typeof p.closeDistanceM === "number" && p.closeDistanceM > 0))
      fail(`"closeDistanceM" must be a positive number`);
    if (!(typeof p.notifyAtCloseMinutes === "number" && p.notifyAtCloseMinutes > 0))
      fail(`"notifyAtCloseMinutes" must be a positive number`);
    if (p.closeTime !== undefined && p.closeTime !== "threshold" && p.closeTime !== "expected")
      fail(`"closeTime" must be "threshold" or "expected"`);
    if (p.closeTime === "expected" && !(typeof p.closeScaleDb === "number" && p.closeScaleDb > 0))
      fail(`"closeTime": "expected" needs a positive "closeScaleDb"`);
  } else if (!(typeof p.notifyAtWeightedMinutes === "number" && p.notifyAtWeightedMinutes > 0)) {
    fail(`"notifyAtWeightedMinutes" must be a positive number`);
  }
  return p;
}

const PRESETS = new Map<string, RiskPreset>(
  Object.entries(RAW).map(([name, json]) => [name, validatePreset(json, `preset ${name}`)]),
);

/** The preset called `name`; an unknown name fails with the valid ones. */
export function presetFor(name: string): RiskPreset {
  const preset = PRESETS.get(name);
  if (!preset)
    throw new ConfigError(
      `unknown preset "${name}": use one of ${PRESET_NAMES.join(", ")}`,
      "E_PRESET",
    );
  return preset;
}

/** Every preset, ours first. */
export function allPresets(): RiskPreset[] {
  return PRESET_NAMES.map((name) => presetFor(name));
}

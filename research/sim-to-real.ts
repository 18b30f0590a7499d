/**
 * Sim-to-real agreement on recorded crowds (issue 12, item 3): for each `epfl-*` scenario and
 * each rule (our detector and every shipped preset), the F1 of the rule on the simulated replay
 * of the crowd against its F1 on the real recording of the same crowd (DP-3T experiment 05),
 * with the same truth definition on both sides.
 *
 * - Real: `evaluateExp05Contacts` (`research/exp05-contacts.ts`): every directed pair of
 *   people the cameras saw together, each rule deciding from the RSSI the receiver logged inside
 *   the camera's spans, the attenuation a GAEN phone computes from Google's calibration table
 *   (no anechoic offsets: the simulated phones do not apply them either).
 * - Simulated: `simulateRun` + `detectContacts` + `evaluateRun` on the built-in replay, the same
 *   pipeline as `proxkit simulate --scenario epfl-NAME --no-ceiling`, once per seed; the sim F1
 *   of a rule is its mean over the seeds.
 * - Truth, both sides: within `closeDistanceM` (2-D, on the camera's floor plan) for at least
 *   `closeMinutes` in total, counting only time both people were tracked (holes up to 10 s
 *   interpolated), both directions of a pair sharing it. The simulator scores every ordered pair
 *   of agents, the real side only pairs the cameras saw together; the extra simulated pairs were
 *   never present together, so they are never heard or close and leave F1 unchanged.
 *
 * Reported per scenario and rule: F1 real, F1 sim (mean and per seed), ΔF1 = sim - real; per
 * scenario: Spearman's rank correlation of the rules' F1 (real against sim); per rule: the mean
 * |ΔF1| over scenarios; overall: the mean of the per-scenario correlations, the correlation
 * pooled over every (scenario, rule), and the correlation of the rules' mean F1. Deterministic
 * (the simulation is seeded; no bootstrap).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { campaignFolder, campaignInfo } from "../src/campaigns/campaigns.js";
import { DeviceCalibrations } from "./estimator-candidates.js";
import { CALIBRATION_UNDER_DATA } from "./evaluate-campaigns.js";
import { loadCameraTracks, pairCloseness } from "../src/campaigns/exp05-camera-truth.js";
import { evaluateExp05Contacts } from "./exp05-contacts.js";
import { exp05PairKey } from "../src/campaigns/load-dp3t-exp05.js";
import { ConfigError } from "../src/core/errors.js";
import { PRESET_NAMES, presetFor, type RiskPreset } from "../src/exposure/risk-preset.js";
import { defaultDataRoot } from "../src/io/data-root.js";
import { loadCalibrationTable } from "../src/signal/calibration-table.js";
import { detectContacts } from "../sim/pipeline/detect-contacts.js";
import { simulateRun } from "../sim/pipeline/simulate-run.js";
import { EPFL_SCENARIO_NAMES, EPFL_SCENARIOS } from "../sim/world/epfl-scenarios.js";
import { builtInScenario } from "../sim/world/scenario.js";
import { evaluateRun } from "../sim/evaluation/evaluate-run.js";

/** The targets on the five `epfl-*` scenarios. */
export const SIM_TO_REAL_TARGETS = {
  /** Mean |ΔF1| over the scenarios, for every rule, at most this. */
  maxMeanAbsDeltaF1: 0.1,
  /** Rank correlation of the rules at least this. */
  minRankCorrelation: 0.8,
} as const;

/** Seeds of the simulated side by default. */
export const SIM_TO_REAL_SEEDS: readonly number[] = [1, 2, 3, 4, 5];

/** One scenario's F1 of every rule: real, and simulated per seed (`[seed][rule]`). */
export interface ScenarioF1 {
  readonly scenario: string;
  readonly realF1: readonly number[];
  readonly simF1BySeed: readonly (readonly number[])[];
}

export interface RuleAgreement {
  readonly rule: string;
  readonly realF1: number;
  /** Mean over the seeds. */
  readonly simF1: number;
  readonly simF1BySeed: readonly number[];
  /** simF1 - realF1. */
  readonly deltaF1: number;
}

export interface TruthAlignment {
  /** Directed pairs scored on each side, and the close contacts among them. */
  readonly realPairs: number;
  readonly realCloseContacts: number;
  readonly simPairs: number;
  readonly simCloseContacts: number;
  /** Directed pairs close on both sides, and close on one side only. */
  readonly closeOnBoth: number;
  readonly closeRealOnly: number;
  readonly closeSimOnly: number;
}

export interface ScenarioAgreement {
  readonly scenario: string;
  readonly rules: readonly RuleAgreement[];
  /** Spearman's rank correlation of the rules' F1, real against sim; null when undefined (ties everywhere). */
  readonly rankCorrelation: number | null;
  readonly truth?: TruthAlignment;
}

export interface SimToRealAgreement {
  readonly rules: readonly string[];
  readonly scenarios: readonly ScenarioAgreement[];
  /** Per rule over the scenarios: mean |ΔF1| and mean ΔF1 (sim - real). */
  readonly byRule: readonly {
    readonly rule: string;
    readonly meanAbsDeltaF1: number;
    readonly meanDeltaF1: number;
    readonly meanRealF1: number;
    readonly meanSimF1: number;
  }[];
  /** The mean of the per-scenario rank correlations that are defined. */
  readonly meanRankCorrelation: number | null;
  /** Spearman over every (scenario, rule) point. */
  readonly pooledRankCorrelation: number | null;
  /** Spearman of the rules' mean F1 over the scenarios (how the rules rank overall). */
  readonly meanF1RankCorrelation: number | null;
  readonly targets: {
    readonly maxMeanAbsDeltaF1: number;
    readonly minRankCorrelation: number;
    /** Every rule's mean |ΔF1| within the target. */
    readonly deltaMet: boolean;
    /** The pooled and the mean per-scenario correlations both at least the target. */
    readonly rankMet: boolean;
  };
}

/** Ranks 1..n, ties sharing their mean rank. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  for (let k = 0; k < order.length; ) {
    let end = k + 1;
    while (end < order.length && values[order[end]] === values[order[k]]) end++;
    const rank = (k + 1 + end) / 2;
    for (let j = k; j < end; j++) ranks[order[j]] = rank;
    k = end;
  }
  return ranks;
}

/** Spearman's rank correlation (Pearson on average ranks); NaN when either side is constant. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new RangeError("spearman: the two series differ in length");
  const n = x.length;
  if (n < 2) return Number.NaN;
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rx[i] - mean;
    const dy = ry[i] - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? Number.NaN : sxy / Math.sqrt(sxx * syy);
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** The agreement figures from per-scenario F1 (see the module comment); pure. */
export function simToRealAgreement(
  rules: readonly string[],
  scenarios: readonly (ScenarioF1 & { readonly truth?: TruthAlignment })[],
): SimToRealAgreement {
  if (scenarios.length === 0) throw new RangeError("simToRealAgreement: no scenario");
  const perScenario: ScenarioAgreement[] = scenarios.map((s) => {
    if (s.realF1.length !== rules.length || s.simF1BySeed.some((f) => f.length !== rules.length))
      throw new RangeError(`simToRealAgreement: ${s.scenario} has not one F1 per rule`);
    if (s.simF1BySeed.length === 0)
      throw new RangeError(`simToRealAgreement: ${s.scenario} has no seed`);
    const ruleRows = rules.map((rule, r) => {
      const bySeed = s.simF1BySeed.map((f) => f[r]);
      const simF1 = mean(bySeed);
      return {
        rule,
        realF1: s.realF1[r],
        simF1,
        simF1BySeed: bySeed,
        deltaF1: simF1 - s.realF1[r],
      };
    });
    return {
      scenario: s.scenario,
      rules: ruleRows,
      rankCorrelation: finiteOrNull(
        spearman(
          ruleRows.map((r) => r.realF1),
          ruleRows.map((r) => r.simF1),
        ),
      ),
      ...(s.truth ? { truth: s.truth } : {}),
    };
  });
  const byRule = rules.map((rule, r) => {
    const rows = perScenario.map((s) => s.rules[r]);
    return {
      rule,
      meanAbsDeltaF1: mean(rows.map((x) => Math.abs(x.deltaF1))),
      meanDeltaF1: mean(rows.map((x) => x.deltaF1)),
      meanRealF1: mean(rows.map((x) => x.realF1)),
      meanSimF1: mean(rows.map((x) => x.simF1)),
    };
  });
  const defined = perScenario.flatMap((s) =>
    s.rankCorrelation === null ? [] : [s.rankCorrelation],
  );
  const meanRank = defined.length === 0 ? null : mean(defined);
  const pooled = finiteOrNull(
    spearman(
      perScenario.flatMap((s) => s.rules.map((r) => r.realF1)),
      perScenario.flatMap((s) => s.rules.map((r) => r.simF1)),
    ),
  );
  const t = SIM_TO_REAL_TARGETS;
  return {
    rules,
    scenarios: perScenario,
    byRule,
    meanRankCorrelation: meanRank,
    pooledRankCorrelation: pooled,
    meanF1RankCorrelation: finiteOrNull(
      spearman(
        byRule.map((r) => r.meanRealF1),
        byRule.map((r) => r.meanSimF1),
      ),
    ),
    targets: {
      maxMeanAbsDeltaF1: t.maxMeanAbsDeltaF1,
      minRankCorrelation: t.minRankCorrelation,
      deltaMet: byRule.every((r) => r.meanAbsDeltaF1 <= t.maxMeanAbsDeltaF1),
      rankMet:
        pooled !== null &&
        pooled >= t.minRankCorrelation &&
        meanRank !== null &&
        meanRank >= t.minRankCorrelation,
    },
  };
}

export interface SimToRealOptions {
  /** The folder holding `dp3t-epfl/` and `gaen/` (default `../shared/data`). */
  readonly dataRoot?: string;
  /** `epfl-*` scenario names (default all five). */
  readonly scenarios?: readonly string[];
  /** Seeds of the simulated runs (default 1..5). */
  readonly seeds?: readonly number[];
  /** The rules (default every preset, ours first). */
  readonly presets?: readonly RiskPreset[];
  /** Truth: default 2 m for 15 min, as `simulate` and `evaluate`. */
  readonly closeDistanceM?: number;
  readonly closeMinutes?: number;
  /**
   * Real side: only receptions while the camera tracked both people, as the replay hears them
   * (a sensitivity check; default false: every reception as the phones logged it).
   */
  readonly realOnlyWhileTracked?: boolean;
  /** The simulated side's channel profile (name or file; default the scenarios' own, `v2`). */
  readonly channel?: string;
  /** Progress: a phase and the fraction of the whole. */
  readonly onProgress?: (phase: string, fraction: number) => void;
}

export interface SimToRealResult extends SimToRealAgreement {
  /** Whether the real side kept only receptions while the camera tracked both people. */
  readonly realOnlyWhileTracked: boolean;
  readonly closeDistanceM: number;
  readonly closeMinutes: number;
  readonly seeds: readonly number[];
}

/** True when the exp05 recordings and camera tracks are under `dataRoot`. */
export function simToRealDataPresent(dataRoot: string = defaultDataRoot()): boolean {
  const folder = join(dataRoot, campaignInfo("dp3t-exp05").folder);
  return (
    existsSync(join(folder, "ground_truth")) && existsSync(join(folder, "scenario01-lunch.sqlite"))
  );
}

/** Real F1 of every rule on exp05 scenarios (`lunch`, ...), with the sim-to-real conventions. */
export function realContactF1(options: {
  readonly dataRoot: string;
  readonly scenarios: readonly string[];
  readonly presets: readonly RiskPreset[];
  readonly closeDistanceM: number;
  readonly closeMinutes: number;
  readonly onlyWhileTracked?: boolean;
}): Map<string, { f1: number[]; pairs: number; closeContacts: number }> {
  const folder = campaignFolder(campaignInfo("dp3t-exp05"), options.dataRoot);
  const calibration = join(options.dataRoot, CALIBRATION_UNDER_DATA);
  const devices = new DeviceCalibrations(
    existsSync(calibration) ? loadCalibrationTable(calibration) : undefined,
  );
  const real = evaluateExp05Contacts({
    dataDir: folder,
    presets: options.presets,
    devices,
    scenarios: options.scenarios,
    closeDistanceM: options.closeDistanceM,
    closeMinutes: options.closeMinutes,
    onlyWhileTracked: options.onlyWhileTracked,
    resamples: 0,
  });
  return new Map(
    real.scenarios.map((s) => [
      s.scenario,
      { f1: s.detectors.map((d) => d.f1), pairs: s.pairs, closeContacts: s.closeContacts },
    ]),
  );
}

/** Runs both sides on every scenario and returns the agreement (see the module comment). */
export function evaluateSimToReal(options: SimToRealOptions = {}): SimToRealResult {
  const dataRoot = options.dataRoot ?? defaultDataRoot();
  const names = options.scenarios ?? EPFL_SCENARIO_NAMES;
  for (const name of names)
    if (EPFL_SCENARIOS[name] === undefined)
      throw new ConfigError(
        `sim-to-real: "${name}" is not an EPFL replay (${EPFL_SCENARIO_NAMES.join(", ")})`,
      );
  const seeds = options.seeds ?? SIM_TO_REAL_SEEDS;
  if (seeds.length === 0) throw new ConfigError("sim-to-real: no seed");
  const presets = options.presets ?? PRESET_NAMES.map((n) => presetFor(n));
  const closeDistanceM = options.closeDistanceM ?? 2;
  const closeMinutes = options.closeMinutes ?? 15;
  const progress = options.onProgress ?? (() => {});
  const steps = names.length * (seeds.length + 1) + 1;
  let step = 0;

  progress("sim-to-real: real recordings", 0);
  const real = realContactF1({
    dataRoot,
    scenarios: names.map((n) => EPFL_SCENARIOS[n]),
    presets,
    closeDistanceM,
    closeMinutes,
    onlyWhileTracked: options.realOnlyWhileTracked,
  });
  step++;
  const rows = names.map((name) => {
    const exp05 = EPFL_SCENARIOS[name];
    const scenario = builtInScenario(name, { dataRoot });
    // The camera truth of the real side, per unordered pair of camera ids.
    const folder = campaignFolder(campaignInfo("dp3t-exp05"), dataRoot);
    const closeness = pairCloseness(loadCameraTracks(folder, exp05), closeDistanceM);
    step++;
    const simF1BySeed: number[][] = [];
    let truth: TruthAlignment | undefined;
    for (const seed of seeds) {
      progress(`sim-to-real: ${name} seed ${seed}`, step / steps);
      const data = simulateRun(scenario, {
        seed,
        closeDistanceM,
        closeMinutes,
        rssiSamples: 0,
        ...(options.channel === undefined ? {} : { channel: options.channel }),
      });
      const detections = detectContacts(data, { presets });
      const evaluation = evaluateRun(
        data,
        detections,
        presets.map((p) => p.name),
      );
      simF1BySeed.push(evaluation.detectors.map((d) => d.f1));
      if (truth === undefined) {
        // Agent k is the k-th tracked camera id ("N Name" role); truth is the same for every seed.
        const ids = data.truth.agents.map((a) => a.role.split(" ")[0]);
        const closeS = closeMinutes * 60;
        const simClose = new Set<string>();
        for (const p of data.truth.pairs)
          if (p.closeS >= closeS) simClose.add(exp05PairKey(ids[p.a], ids[p.b]));
        const realClose = new Set<string>();
        for (const [key, c] of closeness) if (c.closeS >= closeS) realClose.add(key);
        let both = 0;
        for (const key of simClose) if (realClose.has(key)) both++;
        const r = real.get(exp05)!;
        truth = {
          realPairs: r.pairs,
          realCloseContacts: r.closeContacts,
          simPairs: evaluation.pairs,
          simCloseContacts: evaluation.closeContacts,
          closeOnBoth: 2 * both,
          closeRealOnly: 2 * (realClose.size - both),
          closeSimOnly: 2 * (simClose.size - both),
        };
      }
      step++;
    }
    return { scenario: name, realF1: real.get(exp05)!.f1, simF1BySeed, truth };
  });
  progress("sim-to-real: done", 1);
  return {
    realOnlyWhileTracked: options.realOnlyWhileTracked === true,
    closeDistanceM,
    closeMinutes,
    seeds,
    ...simToRealAgreement(
      presets.map((p) => p.name),
      rows,
    ),
  };
}

/**
 * The real F1 of each detector of a simulated `epfl-*` run, on the real recording of the same
 * crowd with the run's truth definition; undefined for other scenarios, `missing` with the
 * reason when it cannot be compared (recordings absent, run shorter than the recording).
 */
export function realF1OfReplay(run: {
  readonly scenario: string;
  readonly detectors: readonly string[];
  readonly closeDistanceM: number;
  readonly closeMinutes: number;
  /** The run's simulated time, and the whole replay's. */
  readonly durationS: number;
  readonly scenarioDurationS: number;
  readonly dataRoot?: string;
}): { source: string; f1: ReadonlyMap<string, number> } | { missing: string } | undefined {
  const exp05 = EPFL_SCENARIOS[run.scenario];
  if (exp05 === undefined) return undefined;
  const dataRoot = run.dataRoot ?? defaultDataRoot();
  if (run.durationS < run.scenarioDurationS)
    return {
      missing: `the run covers ${run.durationS} s of the ${run.scenarioDurationS} s recording (--duration), so the real recording is not the same crowd time`,
    };
  if (!simToRealDataPresent(dataRoot))
    return { missing: `the DP-3T exp05 recordings are not under ${dataRoot}` };
  const real = realContactF1({
    dataRoot,
    scenarios: [exp05],
    presets: run.detectors.map((n) => presetFor(n)),
    closeDistanceM: run.closeDistanceM,
    closeMinutes: run.closeMinutes,
  }).get(exp05)!;
  return {
    source: `DP-3T exp05 "${exp05}" as recorded (${real.closeContacts} close of ${real.pairs} directed pairs the cameras saw together), each rule on the RSSI the phones logged inside the camera's time, same truth (${run.closeDistanceM} m, ${run.closeMinutes} min); see docs/simulator-epfl.md for what the simulation cannot share with it (scan cadence, people the camera lost, phone placement).`,
    f1: new Map(run.detectors.map((n, k) => [n, real.f1[k]])),
  };
}

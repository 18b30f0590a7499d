/**
 * The unscented Kalman filter and smoother of the NHS COVID-19 app's risk model, after
 * Lovett et al. 2020, "Inferring proximity from Bluetooth Low Energy RSSI with Unscented
 * Kalman Smoothers" (arXiv:2007.05057), as implemented in the NHS `riskscore-kt` /
 * `riskscore-swift` libraries (`BLEDistanceUnscentedKalmanSmoother`, `kalman1d`).
 *
 * - State: the distance d (m), a random walk `d' = |d + w|`, `w ~ N(0, (0.1 m)^2)` per second.
 * - Observation: the log of the GAEN attenuation, `ln(att) = 0.1271 ln(d) + 4.2309 + v`,
 *   `v ~ N(0, 0.4948)`.
 * - One-dimensional augmented unscented transform: state, transition noise and observation
 *   noise give 7 sigma points (alpha 1, beta 0, kappa 0).
 * - The distance reported is the median of the Gamma distribution with the posterior's mean
 *   and variance, as the NHS `RiskScoreCalculator` does.
 *
 * The filter (`UnscentedKalmanFilter`) is causal; the smoother (`unscentedKalmanSmooth`) adds
 * the Rauch-Tung-Striebel backward pass over a whole recorded series and is not.
 */
import { gammaMedian } from "./gamma-median.js";
import type { SignalFilter, TimedSample } from "./signal-filter.js";

/**
 * `RiskScoreCalculatorConfiguration.exampleConfiguration` of the NHS riskscore libraries
 * (riskscore-kt-public, RiskScoreCalculatorConfiguration.kt): the parameters fitted by
 * Lovett et al. for the `log` observation type, at a sample resolution of 1 s.
 */
export const NHS_UKF_PARAMETERS = {
  /** Expected distance moved per second: the transition noise's standard deviation. */
  expectedDistanceMPerS: 0.1,
  /** ln(attenuation) = weightCoefficient * ln(distance) + intercept + noise. */
  weightCoefficient: 0.1270547531082051,
  intercept: 4.2309333657856945,
  /** Variance of the noise on ln(attenuation). */
  observationVariance: 0.4947614361027773,
  initialMeanM: 2.0,
  initialVarianceM2: 10.0,
  alpha: 1.0,
  beta: 0.0,
  kappa: 0.0,
} as const;

export type UnscentedKalmanParameters = {
  readonly [K in keyof typeof NHS_UKF_PARAMETERS]: number;
};

/** The smallest distance the observation function sees (the NHS Friis helper's 1e-3 m). */
const MIN_DISTANCE_M = 1e-3;
/** Augmented dimension: state, transition noise, observation noise. */
const DIMENSION = 3;

export interface DistanceState {
  readonly meanM: number;
  readonly varianceM2: number;
}

/** The sigma-point weights for (alpha, beta, kappa). */
function weightsFor(p: UnscentedKalmanParameters) {
  const lambda = p.alpha ** 2 * (DIMENSION + p.kappa) - DIMENSION;
  const scale = DIMENSION + lambda;
  const side = 1 / (2 * scale);
  return {
    scale,
    mean0: lambda / scale,
    cov0: lambda / scale + (1 - p.alpha ** 2 + p.beta),
    side,
  };
}

type Weights = ReturnType<typeof weightsFor>;

/** Weighted mean and variance of 7 sigma values (index 0 is the centre point). */
function moments(points: Float64Array, w: Weights): { mean: number; variance: number } {
  let mean = w.mean0 * points[0];
  for (let i = 1; i < 7; i++) mean += w.side * points[i];
  let variance = w.cov0 * (points[0] - mean) ** 2;
  for (let i = 1; i < 7; i++) variance += w.side * (points[i] - mean) ** 2;
  return { mean, variance };
}

function weightedCross(a: Float64Array, aMean: number, b: Float64Array, bMean: number, w: Weights) {
  let sum = w.cov0 * (a[0] - aMean) * (b[0] - bMean);
  for (let i = 1; i < 7; i++) sum += w.side * (a[i] - aMean) * (b[i] - bMean);
  return sum;
}

/** One step of the filter; scratch arrays are reused to keep the hot path allocation-free. */
class UnscentedStep {
  readonly p: UnscentedKalmanParameters;
  private readonly w: Weights;
  private readonly state = new Float64Array(7);
  private readonly propagated = new Float64Array(7);
  private readonly observed = new Float64Array(7);

  constructor(p: UnscentedKalmanParameters) {
    this.p = p;
    this.w = weightsFor(p);
  }

  /** Sigma points of the state; transition and observation noise on their own axes. */
  private sigma(meanM: number, varianceM2: number, transitionVariance: number): void {
    const spread = Math.sqrt(this.w.scale * Math.max(0, varianceM2));
    const transition = Math.sqrt(this.w.scale * transitionVariance);
    const s = this.state;
    s[0] = meanM;
    s[1] = meanM + spread;
    s[2] = meanM;
    s[3] = meanM;
    s[4] = meanM - spread;
    s[5] = meanM;
    s[6] = meanM;
    // The transition d' = |d + w|; only points 2 and 5 carry transition noise.
    for (let i = 0; i < 7; i++) this.propagated[i] = Math.abs(s[i]);
    this.propagated[2] = Math.abs(meanM + transition);
    this.propagated[5] = Math.abs(meanM - transition);
  }

  /** Predicts over `dtS` seconds (`undefined` for the very first observation), then updates. */
  step(
    prior: DistanceState,
    logAttenuation: number | undefined,
    dtS: number | undefined,
  ): DistanceState {
    const q = dtS === undefined ? 0 : this.p.expectedDistanceMPerS ** 2 * dtS;
    this.sigma(prior.meanM, prior.varianceM2, q);
    // The first step uses the initial state's points as they are (kalman1d initialTransform),
    // and so does a step over no time: no time, no transition.
    const points = dtS === undefined || dtS === 0 ? this.state : this.propagated;
    const predicted = moments(points, this.w);
    if (logAttenuation === undefined)
      return { meanM: predicted.mean, varianceM2: predicted.variance };
    const noise = Math.sqrt(this.w.scale * this.p.observationVariance);
    for (let i = 0; i < 7; i++) {
      const d = Math.max(MIN_DISTANCE_M, Math.abs(points[i]));
      this.observed[i] = this.p.weightCoefficient * Math.log(d) + this.p.intercept;
    }
    this.observed[3] += noise;
    this.observed[6] -= noise;
    const z = moments(this.observed, this.w);
    const cross = weightedCross(points, predicted.mean, this.observed, z.mean, this.w);
    const gain = cross / z.variance;
    return {
      meanM: predicted.mean + gain * (logAttenuation - z.mean),
      varianceM2: predicted.variance - cross * gain,
    };
  }

  /** The Rauch-Tung-Striebel correction of `filtered` given the smoothed next state. */
  smoothBack(filtered: DistanceState, next: DistanceState, dtS: number): DistanceState {
    const q = this.p.expectedDistanceMPerS ** 2 * dtS;
    this.sigma(filtered.meanM, filtered.varianceM2, q);
    const predicted = moments(this.propagated, this.w);
    const cross = weightedCross(
      this.propagated,
      predicted.mean,
      this.state,
      filtered.meanM,
      this.w,
    );
    const gain = predicted.variance > 0 ? cross / predicted.variance : 0;
    return {
      meanM: filtered.meanM + gain * (next.meanM - predicted.mean),
      varianceM2: filtered.varianceM2 + gain * gain * (next.varianceM2 - predicted.variance),
    };
  }
}

/** The distance reported for a state: the median of the moment-matched Gamma distribution. */
export function distanceFromState(state: DistanceState): number {
  if (!(state.meanM > 0)) return 0;
  if (!(state.varianceM2 > 0)) return state.meanM;
  return gammaMedian(state.meanM ** 2 / state.varianceM2, state.varianceM2 / state.meanM);
}

function logAttenuationOf(attenuationDb: number | undefined): number | undefined {
  // Attenuation 0 dB (clamped) has no logarithm: the step is a prediction only, as the NHS
  // code does for non-finite observations.
  return attenuationDb !== undefined && attenuationDb > 0 ? Math.log(attenuationDb) : undefined;
}

/**
 * The causal filter: push GAEN attenuations (dB) with their times; `value()` is the distance
 * estimate in metres. Time-aware: the random walk's variance grows with the time between
 * samples (0.1² m² per second by default), so samples sharing a timestamp add no motion.
 */
export class UnscentedKalmanFilter implements SignalFilter {
  readonly parameters: UnscentedKalmanParameters;
  private readonly stepper: UnscentedStep;
  private current: DistanceState | undefined;
  private lastMs = 0;

  constructor(parameters: Partial<UnscentedKalmanParameters> = {}) {
    this.parameters = { ...NHS_UKF_PARAMETERS, ...parameters };
    this.stepper = new UnscentedStep(this.parameters);
  }

  push(sample: TimedSample): void {
    const z = logAttenuationOf(sample.value);
    if (this.current === undefined) {
      const initial = {
        meanM: this.parameters.initialMeanM,
        varianceM2: this.parameters.initialVarianceM2,
      };
      this.current = this.stepper.step(initial, z, undefined);
    } else {
      const dtS = Math.max(0, sample.atMs - this.lastMs) / 1000;
      this.current = this.stepper.step(this.current, z, dtS);
    }
    this.lastMs = sample.atMs;
  }

  /** The distance estimate (m): the posterior's Gamma median. */
  value(): number | undefined {
    return this.current === undefined ? undefined : distanceFromState(this.current);
  }

  /** The posterior mean and variance of the distance. */
  state(): DistanceState | undefined {
    return this.current;
  }

  reset(): void {
    this.current = undefined;
    this.lastMs = 0;
  }
}

/**
 * The full smoother over a regular series of attenuations (dB), one every `stepS` seconds
 * (`undefined` where nothing was heard), as the NHS risk model runs it over a day's scans.
 * Returns the smoothed posterior of every step. Not causal: every output uses the whole series.
 */
export function unscentedKalmanSmooth(
  attenuationsDb: readonly (number | undefined)[],
  options: { stepS?: number; parameters?: Partial<UnscentedKalmanParameters> } = {},
): DistanceState[] {
  if (attenuationsDb.length === 0) return [];
  const parameters = { ...NHS_UKF_PARAMETERS, ...options.parameters };
  const stepS = options.stepS ?? 1;
  const stepper = new UnscentedStep(parameters);
  const filtered: DistanceState[] = [];
  let state: DistanceState = {
    meanM: parameters.initialMeanM,
    varianceM2: parameters.initialVarianceM2,
  };
  for (let i = 0; i < attenuationsDb.length; i++) {
    state = stepper.step(state, logAttenuationOf(attenuationsDb[i]), i === 0 ? undefined : stepS);
    filtered.push(state);
  }
  const smoothed = filtered.slice();
  for (let i = filtered.length - 2; i >= 0; i--)
    smoothed[i] = stepper.smoothBack(filtered[i], smoothed[i + 1], stepS);
  return smoothed;
}

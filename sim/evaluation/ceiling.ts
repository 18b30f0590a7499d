/**
 * The RSSI ceiling of a simulated run: the best F1 any rule "notify when the mean signal was at
 * or above θ for `closeMinutes`" could reach if the receiver knew each second's mean signal of
 * the run's own propagation model exactly (path loss, shadowing, people in between, carry
 * losses; no fading, no device offsets: `Propagation.meanRssiDbm`) and θ were chosen in
 * hindsight. It tells channel-limited error (signal nearly flat in distance, shadowing) from
 * detector error. It is an upper bound for threshold rules on smoothed RSSI, not a Bayes bound
 * for every conceivable detector.
 *
 * `ceilingPass` steps a second world built from the same scenario, seed and agent count (its
 * mobility draws are the run's; propagation has a random stream of its own, so the shadowing is
 * its own draw of the same model) without a link layer, and keeps per pair a histogram of the
 * per-second mean signal. A pair's score is its `rank`-th strongest second, rank = close minutes
 * over the step: the highest θ at which "seconds with mean >= θ" still reaches the close minutes.
 *
 * `ceiling-scans` is the same rule for a receiver that knows the exact mean signal only at the
 * seconds it scanned, each scan standing for the real time since that receiver's previous scan
 * (`scanCreditsS`, the time model of our detector's sampled close seconds). A receiver's scans
 * are read off the run's own sightings (`receiverScans`: the link layer keeps no record of its
 * scan schedule): its sighting times cut where they are more than `SCAN_GAP_MS` apart or a scan
 * reaches `CONTINUOUS_SCAN_PERIOD_MS`, as the exposure windows cut scan instances. A scan in
 * which the receiver heard nobody leaves no trace: it would score nothing itself (no pair's mean
 * above the floor at its seconds, save one too weak to decode every time), but the next scan's
 * credit then spans two periods and is capped at 300 s, so a receiver alone for a while counts
 * less time than it scanned for. On the crowded runs it does not happen: `missedScanShare` is 0
 * on classroom and tram seed 1 (no gap between a receiver's scans over 310 s); a scan before a
 * receiver's first heard one or after its last cannot be seen that way.
 * Per ordered pair (index case, receiver) each second of a receiver's scan adds the pair's mean
 * signal to a histogram of float weights with weight credit / seconds of that scan, so a scan
 * adds up to its credit; the score is the highest bin edge where the weight from the top reaches
 * the close minutes.
 */
import {
  CONTINUOUS_SCAN_PERIOD_MS,
  SCAN_GAP_MS,
} from "../../src/exposure/exposure-window-builder.js";
import { MAX_SCAN_CREDIT_S, scanCreditsS } from "../../src/exposure/score-exposure.js";
import { STEP_MS } from "../engine/run-simulation.js";
import {
  type CeilingScores,
  PAIR_KEY_BASE,
  type ScanCeilingScores,
  type TruthPair,
} from "../pipeline/run-data.js";
import { distanceForPathLossM } from "../world/propagation.js";
import type { Scenario } from "../world/scenario.js";
import { buildWorld } from "../world/world.js";
import { MAX_CURVE_POINTS, precisionRecallF1 } from "./precision-recall.js";

/** Histogram bin of the mean signal, dB: scores are on this grid. */
export const CEILING_BIN_DB = 0.5;
/**
 * Above this many agents `simulate` skips the ceiling pass unless asked (`--ceiling`): its cost
 * grows with the pairs within ~25 m (plaza, one hour: 11 s at 500 agents, 30 s at 1,000, where
 * the simulation takes 2 and 4 s; classroom 0.4 s, tram 1 s). The scan-sampled ceiling adds
 * little: plaza at 500 agents 8.7 s instead of 8.0 s and ~10 MB more heap, tram 1 %.
 */
export const CEILING_MAX_AGENTS = 500;

/**
 * Per-pair histograms of values in bins of `binDb` from `floorDbm` up: counts (`Uint32Array`,
 * one per second, for the ceiling) or float weights (`Float64Array`, seconds of credit, for
 * the scan-sampled ceiling). Values at or above the top bin's lower edge land in the top bin,
 * values below the floor are not counted. Memory per pair is `bins` numbers, whatever the run's
 * length.
 */
export class SignalHistogram {
  readonly floorDbm: number;
  readonly binDb: number;
  readonly bins: number;

  constructor(floorDbm: number, topDbm: number, binDb = CEILING_BIN_DB) {
    if (!(topDbm > floorDbm && binDb > 0)) throw new RangeError("histogram needs top > floor");
    this.floorDbm = floorDbm;
    this.binDb = binDb;
    this.bins = Math.ceil((topDbm - floorDbm) / binDb);
  }

  newCounts(): Uint32Array {
    return new Uint32Array(this.bins);
  }

  newWeights(): Float64Array {
    return new Float64Array(this.bins);
  }

  /** Adds `weight` (default one count) at `valueDbm`; nothing below the floor. */
  add(values: Uint32Array | Float64Array, valueDbm: number, weight = 1): void {
    if (!(valueDbm >= this.floorDbm)) return;
    const bin = Math.floor((valueDbm - this.floorDbm) / this.binDb);
    values[bin < this.bins ? bin : this.bins - 1] += weight;
  }

  /**
   * The lower edge of the bin where the counts or weights from the top bin down reach `k`, dBm:
   * the highest threshold on the bin grid with at least `k` at or above it (float weights within
   * `WEIGHT_EPSILON_S` of `k` reach it; whole counts are unaffected). -Infinity when all of them
   * do not.
   */
  kthLargest(values: Uint32Array | Float64Array, k: number): number {
    let seen = 0;
    for (let bin = this.bins - 1; bin >= 0; bin--) {
      seen += values[bin];
      if (seen >= k - WEIGHT_EPSILON_S) return this.floorDbm + bin * this.binDb;
    }
    return Number.NEGATIVE_INFINITY;
  }
}

/** Weights within this many seconds of the close minutes reach them (float sums). */
const WEIGHT_EPSILON_S = 1e-6;

/** One receiver's scans as its sightings show them: first and last sighting, ms since the start. */
export interface ReceiverScans {
  readonly firstMs: readonly number[];
  readonly lastMs: readonly number[];
}

/**
 * Each receiver's scans from its sightings (ms since the Unix epoch, `startMs` the run's time
 * 0): its sighting times, whatever the sender, cut into scans where two are more than
 * `SCAN_GAP_MS` apart or a scan would reach `CONTINUOUS_SCAN_PERIOD_MS` (the scan instances of
 * the exposure windows our detector reads, here over all senders).
 */
export function receiverScans(
  sightings: readonly (readonly { readonly atMs: number }[])[],
  startMs: number,
): ReceiverScans[] {
  return sightings.map((list) => {
    const times = list.map((s) => s.atMs - startMs);
    for (let k = 1; k < times.length; k++)
      if (times[k] < times[k - 1]) {
        times.sort((a, b) => a - b);
        break;
      }
    const firstMs: number[] = [];
    const lastMs: number[] = [];
    for (const t of times) {
      const n = firstMs.length;
      if (
        n > 0 &&
        t - lastMs[n - 1] <= SCAN_GAP_MS &&
        t - firstMs[n - 1] < CONTINUOUS_SCAN_PERIOD_MS
      )
        lastMs[n - 1] = t;
      else {
        firstMs.push(t);
        lastMs.push(t);
      }
    }
    return { firstMs, lastMs };
  });
}

/**
 * Share of the gaps between a receiver's consecutive scans longer than `periodMs` plus a margin
 * (one scan or more heard nobody), over every receiver: what deriving the scans from the
 * sightings misses.
 */
export function missedScanShare(scans: readonly ReceiverScans[], periodMs: number): number {
  let gaps = 0;
  let long = 0;
  for (const r of scans)
    for (let k = 1; k < r.firstMs.length; k++) {
      gaps++;
      if (r.firstMs[k] - r.firstMs[k - 1] > periodMs + 10_000) long++;
    }
  return gaps === 0 ? 0 : long / gaps;
}

/**
 * One receiver's scan seconds as steps of the pass: the step indices in ascending order, the
 * weight each carries (a scan's credit over its steps; two scans in one step add up), and the
 * weight from each on (`suffix[k]`: steps k.., `suffix[steps.length]` 0).
 */
interface ScanSteps {
  readonly steps: Int32Array;
  readonly weights: Float64Array;
  readonly suffix: Float64Array;
}

export function scanSteps(scans: ReceiverScans, stepMs: number, stepCount: number): ScanSteps {
  const credits = scanCreditsS(scans.firstMs);
  const steps: number[] = [];
  const weights: number[] = [];
  scans.firstMs.forEach((first, k) => {
    const from = Math.floor(first / stepMs);
    const to = Math.floor(scans.lastMs[k] / stepMs);
    const perStep = credits[k] / (to - from + 1);
    for (let s = from; s <= to; s++) {
      if (s < 0 || s >= stepCount) continue;
      if (steps.at(-1) === s) weights[weights.length - 1] += perStep;
      else {
        steps.push(s);
        weights.push(perStep);
      }
    }
  });
  const suffix = new Float64Array(steps.length + 1);
  for (let k = steps.length - 1; k >= 0; k--) suffix[k] = suffix[k + 1] + weights[k];
  return { steps: Int32Array.from(steps), weights: Float64Array.from(weights), suffix };
}

export interface CeilingPassOptions {
  seed: number;
  /** The run's agent override (the same groups and geometry scaling as the run). */
  agents?: number;
  durationS: number;
  indexCases: readonly number[];
  closeDistanceM: number;
  closeMinutes: number;
  /**
   * Each receiver's scans (`receiverScans` of the run's sightings), by agent index: also score
   * `ceiling-scans`. Receivers beyond the array never scanned.
   */
  scans?: readonly ReceiverScans[];
  /** Called after every simulated minute with the fraction done. */
  onProgress?: (fraction: number) => void;
}

export interface CeilingPass {
  readonly ceiling: CeilingScores;
  /** The pass's own ground truth: close seconds per unordered pair `a * PAIR_KEY_BASE + b` (a < b). */
  readonly closeSeconds: Map<number, number>;
  readonly wallMs: number;
}

/**
 * Steps a fresh world of `scenario` (the run's, protocol already applied) and scores the ordered
 * pairs (index case, receiver) with at least `rank` seconds of mean signal at or above the
 * floor; the others score -Infinity and are left out. The floor is the receivers' sensitivity:
 * phones report nothing weaker, so no smoothed RSSI, and no threshold on it, goes below it (a
 * floor 15 dB lower gave the same rows on classroom seed 1 and tram seeds 1, 7-9, where the best
 * θ came within 0.5-2 dB of the sensitivity).
 */
export function ceilingPass(scenario: Scenario, options: CeilingPassOptions): CeilingPass {
  const started = performance.now();
  const world = buildWorld(scenario, {
    seed: options.seed,
    agents: options.agents,
    groundTruth: { closeDistanceM: options.closeDistanceM, closeMinutes: options.closeMinutes },
  });
  const agents = world.agents;
  const propagation = world.propagation;
  const p = propagation.params;
  const histogram = new SignalHistogram(p.sensitivityDbm, p.saturationDbm);
  const stepS = STEP_MS / 1000;
  const rank = Math.max(1, Math.ceil((options.closeMinutes * 60) / stepS - 1e-9));
  const isIndex = new Uint8Array(agents.count);
  for (const i of options.indexCases) isIndex[i] = 1;
  const txGainDb = (i: number) => p.txGainDb?.[agents.deviceIndex[i]] ?? 0;
  const rxOffsetDb = (i: number) => p.rxOffsetDb?.[agents.deviceIndex[i]] ?? 0;

  // By txCarry * 3 + rxCarry (the mean signal is symmetric): squared distance up to which a
  // pair keeps cached shadowing ("near"), and beyond which it never counts: culled, or far (its
  // mean is then the path loss alone: the run draws its shadowing afresh per advertisement) with
  // that mean below the floor.
  const nearD2 = new Float64Array(9);
  const gateD2 = new Float64Array(9);
  const cull = new Float64Array(3);
  const near = new Float64Array(3);
  for (let r = 0; r < 3; r++) {
    propagation.cullDistancesSquared(r, cull);
    propagation.nearDistancesSquared(r, near);
    for (let t = 0; t < 3; t++) {
      const carryDb = p.carryLossDb[t] + p.carryLossDb[r];
      const floorD2 =
        distanceForPathLossM(p.txPowerDbm - carryDb - histogram.floorDbm, p) ** 2 * (1 + 1e-9);
      nearD2[t * 3 + r] = near[t];
      gateD2[t * 3 + r] = Math.min(cull[t], Math.max(near[t], floorD2));
    }
  }
  const rangeM = Math.sqrt(Math.max(...gateD2));

  // Per pair: the histogram's bins, then the seconds its bound reached the floor (`POTENTIAL`).
  // A pair left too few seconds to reach `rank` of them scores -Infinity whatever comes: it is
  // dropped (`DEAD`) and costs nothing more (exact; most pairs in a tram ride together briefly).
  const POTENTIAL = histogram.bins;
  const DEAD = new Uint32Array(0);
  const counts = new Map<number, Uint32Array>();
  const carry = agents.carry;
  let stepsLeft = 0;
  const steps = Math.ceil((options.durationS * 1000) / STEP_MS);

  // ceiling-scans: per receiver its scan steps, and this step's weight (0: not scanning) and
  // the weight left from this step on. Per ordered pair key (index, receiver) the weights, then
  // the weight so far at or above the floor (`REACHED`); a pair whose weight so far plus its
  // receiver's weight left falls short of the close minutes is dropped (`WEIGHTS_DEAD`).
  const targetS = options.closeMinutes * 60;
  const scanned = options.scans?.map((r) => scanSteps(r, STEP_MS, steps));
  const scanNext = new Int32Array(agents.count);
  const scanWeight = new Float64Array(agents.count);
  const scanLeft = new Float64Array(agents.count);
  const REACHED = histogram.bins;
  const WEIGHTS_DEAD = new Float64Array(0);
  const weights = new Map<number, Float64Array>();
  let meanDbm = Number.NaN;
  const scanVisit = (
    tx: number,
    rx: number,
    a: number,
    b: number,
    near: boolean,
    upper: number,
  ) => {
    const w = scanWeight[rx];
    if (w === 0) return;
    const key = tx * PAIR_KEY_BASE + rx;
    let h = weights.get(key);
    if (h === undefined) {
      if (scanLeft[rx] < targetS - WEIGHT_EPSILON_S) return;
      h = new Float64Array(histogram.bins + 1);
      weights.set(key, h);
    } else if (h === WEIGHTS_DEAD) return;
    if (h[REACHED] + scanLeft[rx] < targetS - WEIGHT_EPSILON_S) {
      weights.set(key, WEIGHTS_DEAD);
      return;
    }
    if (Number.isNaN(meanDbm)) meanDbm = near ? propagation.meanRssiDbm(a, b) : upper;
    if (meanDbm >= histogram.floorDbm) {
      histogram.add(h, meanDbm, w);
      h[REACHED] += w;
    }
  };

  const visit = (i: number, j: number, distanceM: number): void => {
    if (isIndex[i] === 0 && isIndex[j] === 0) return;
    const a = Math.min(i, j);
    const b = Math.max(i, j);
    const d2 = distanceM * distanceM;
    const combo = carry[a] * 3 + carry[b];
    if (d2 > gateD2[combo]) return;
    // Upper bound without the people in between (they only weaken it); device offsets removed.
    const upperDbm = propagation.linkMeanUpperDbm(a, b) - txGainDb(a) - rxOffsetDb(b);
    if (upperDbm < histogram.floorDbm - 1e-3) return;
    const near = d2 <= nearD2[combo];
    meanDbm = Number.NaN;
    const key = a * PAIR_KEY_BASE + b;
    let c = counts.get(key);
    if (c === undefined) {
      if (stepsLeft >= rank) {
        c = new Uint32Array(histogram.bins + 1);
        counts.set(key, c);
      }
    }
    if (c !== undefined && c !== DEAD) {
      c[POTENTIAL]++;
      if (c[POTENTIAL] + stepsLeft - 1 < rank) counts.set(key, DEAD);
      else {
        meanDbm = near ? propagation.meanRssiDbm(a, b) : upperDbm;
        histogram.add(c, meanDbm);
      }
    }
    if (scanned === undefined) return;
    if (isIndex[a]) scanVisit(a, b, a, b, near, upperDbm);
    if (isIndex[b]) scanVisit(b, a, a, b, near, upperDbm);
  };

  for (let s = 0; s < steps; s++) {
    world.step(STEP_MS);
    stepsLeft = steps - s;
    if (scanned !== undefined) {
      for (let r = 0; r < agents.count; r++) {
        const own = scanned[r];
        if (own === undefined) continue;
        let k = scanNext[r];
        while (k < own.steps.length && own.steps[k] < s) k++;
        scanNext[r] = k;
        scanWeight[r] = k < own.steps.length && own.steps[k] === s ? own.weights[k] : 0;
        scanLeft[r] = own.suffix[k];
      }
      // Pairs no longer visited still hold their weights: drop those that cannot reach.
      if (s % 60 === 0)
        for (const [key, h] of weights)
          if (
            h !== WEIGHTS_DEAD &&
            h[REACHED] + scanLeft[key % PAIR_KEY_BASE] < targetS - WEIGHT_EPSILON_S
          )
            weights.set(key, WEIGHTS_DEAD);
    }
    world.radioGrid.forEachPair(rangeM, visit);
    if (options.onProgress && (s + 1) % 60 === 0) options.onProgress((s + 1) / steps);
  }

  const scores: { index: number; receiver: number; score: number }[] = [];
  for (const [key, c] of counts) {
    if (c === DEAD) continue;
    const score = histogram.kthLargest(c, rank);
    if (score === Number.NEGATIVE_INFINITY) continue;
    const a = Math.floor(key / PAIR_KEY_BASE);
    const b = key % PAIR_KEY_BASE;
    if (isIndex[a]) scores.push({ index: a, receiver: b, score });
    if (isIndex[b]) scores.push({ index: b, receiver: a, score });
  }
  scores.sort((x, y) => x.index - y.index || x.receiver - y.receiver);

  let scans: ScanCeilingScores | undefined;
  if (scanned !== undefined) {
    const scanScores: { index: number; receiver: number; score: number }[] = [];
    for (const [key, h] of weights) {
      if (h === WEIGHTS_DEAD) continue;
      const score = histogram.kthLargest(h, targetS);
      if (score === Number.NEGATIVE_INFINITY) continue;
      scanScores.push({
        index: Math.floor(key / PAIR_KEY_BASE),
        receiver: key % PAIR_KEY_BASE,
        score,
      });
    }
    scanScores.sort((x, y) => x.index - y.index || x.receiver - y.receiver);
    scans = {
      targetS,
      scanGapMs: SCAN_GAP_MS,
      maxScanMs: CONTINUOUS_SCAN_PERIOD_MS,
      maxCreditS: MAX_SCAN_CREDIT_S,
      scans: (options.scans ?? []).reduce((sum, r) => sum + r.firstMs.length, 0),
      scores: scanScores,
    };
  }

  const closeSeconds = new Map<number, number>();
  world.groundTruth?.forEachClosePair((a, b, closeS) => {
    closeSeconds.set(Math.min(a, b) * PAIR_KEY_BASE + Math.max(a, b), closeS);
  });
  return {
    ceiling: {
      stepS,
      rank,
      floorDbm: histogram.floorDbm,
      binDb: histogram.binDb,
      scores,
      ...(scans === undefined ? {} : { scans }),
    },
    closeSeconds,
    wallMs: performance.now() - started,
  };
}

/**
 * Pairs whose close seconds differ between the ceiling pass and the run's truth (both ways), or
 * 0 when the two worlds moved alike.
 */
export function trajectoryMismatches(
  closeSeconds: ReadonlyMap<number, number>,
  truthPairs: readonly TruthPair[],
): number {
  let mismatches = 0;
  const seen = new Set<number>();
  for (const p of truthPairs) {
    const key = Math.min(p.a, p.b) * PAIR_KEY_BASE + Math.max(p.a, p.b);
    seen.add(key);
    if (closeSeconds.get(key) !== p.closeS) mismatches++;
  }
  for (const key of closeSeconds.keys()) if (!seen.has(key)) mismatches++;
  return mismatches;
}

export interface ThresholdSweep {
  /** The best threshold, dBm (null when no pair has a score). */
  readonly threshold: number | null;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  /** Precision and recall at (up to `MAX_CURVE_POINTS`) thresholds, strongest first. */
  readonly curve: { threshold: number; precision: number; recall: number }[];
}

/**
 * The rule "notify when score >= θ" swept over every distinct finite score: the θ with the best
 * F1 against `positives` (close contacts, scored or not). Ties go to the highest θ (fewest
 * notifications); pairs tied at θ are all notified.
 */
export function sweepThreshold(
  scores: readonly { score: number; positive: boolean }[],
  positives: number,
): ThresholdSweep {
  const sorted = scores.filter((s) => Number.isFinite(s.score)).sort((a, b) => b.score - a.score);
  // Notifying nobody is the baseline a threshold has to beat.
  let best = {
    threshold: null as number | null,
    ...precisionRecallF1(0, 0, positives),
    truePositives: 0,
    falsePositives: 0,
    falseNegatives: positives,
  };
  const all: { threshold: number; precision: number; recall: number }[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < sorted.length; ) {
    const threshold = sorted[k].score;
    while (k < sorted.length && sorted[k].score === threshold) {
      if (sorted[k].positive) tp++;
      else fp++;
      k++;
    }
    const m = precisionRecallF1(tp, fp, positives - tp);
    all.push({ threshold, precision: m.precision, recall: m.recall });
    if (m.f1 > best.f1)
      best = {
        threshold,
        ...m,
        truePositives: tp,
        falsePositives: fp,
        falseNegatives: positives - tp,
      };
  }
  const step = Math.max(1, Math.ceil(all.length / MAX_CURVE_POINTS));
  const curve = all.filter((_, k) => k % step === 0 || k === all.length - 1);
  return { ...best, curve };
}

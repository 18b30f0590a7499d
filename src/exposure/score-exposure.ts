/**
 * Scores exposures with a `RiskPreset`: EN v1 attenuation durations, EN v2 daily summaries,
 * the EN v1 risk score (Immuni), or proxkit's detector. Every model takes the same input:
 * windows of (attenuation, seconds) segments, which come from exposure windows (one segment
 * per scan instance: typical attenuation x secondsSinceLastScan) or from measured
 * attenuation histograms (the Dublin tram data).
 */
import { withCapacity } from "../core/typed-arrays.js";
import { dayOf, utcDate } from "../protocols/rolling-id-scheme.js";
import type { ExposureWindow } from "./exposure-window-builder.js";
import type { RiskPreset } from "./risk-preset.js";

export interface AttenuationSegment {
  readonly attenuationDb: number;
  readonly seconds: number;
}

export interface ScoredWindow {
  /** Which exposure (key, pair) the window belongs to: v1 models aggregate per exposure and day. */
  readonly exposure: string;
  readonly startMs: number;
  readonly segments: readonly AttenuationSegment[];
  /**
   * When the segments are scan instances: each one's time, ms (parallel to `segments`). Our
   * detector then credits scans with the real time between them and smooths attenuation over
   * the exposure; the other models never look at it.
   */
  readonly scanAtMs?: readonly number[];
}

/** One UTC day's result, in the shape of the EN v2 DailySummary plus the decision. */
export interface DailyResult {
  readonly day: string;
  /** Sum of window scores (v1 risk score: sum of exposure risk scores). */
  readonly scoreSum: number;
  readonly maximumScore: number;
  /**
   * Sum of weighted durations, seconds. Our detector: the expected seconds within the close
   * distance (each exposure's time weighted by its chance of being close), so that a share of
   * the time heard ranks closeness; its `scoreSum` is the seconds estimated close, which decide.
   */
  readonly weightedDurationSum: number;
  readonly notified: boolean;
}

export interface ExposureScore {
  readonly dailySummaries: DailyResult[];
  readonly notified: boolean;
}

/** Segments of an exposure window: each scan instance's typical attenuation for its secondsSinceLastScan. */
export function windowToScored(window: ExposureWindow, exposure: string): ScoredWindow {
  return {
    exposure,
    startMs: window.startMs,
    segments: window.scanInstances.map((s) => ({
      attenuationDb: s.typicalAttenuationDb,
      seconds: s.secondsSinceLastScan,
    })),
    scanAtMs: window.scanInstances.map((s) => s.atMs),
  };
}

/** EN v1 attenuation-duration bucket: below t0, between t0 and t1, at or above t1. */
function v1Bucket(attenuationDb: number, thresholds: readonly number[]): number {
  let bucket = 0;
  while (bucket < thresholds.length && attenuationDb >= thresholds[bucket]) bucket++;
  return bucket;
}

/** EN v2 bucket: immediate <= t0, near <= t1, medium <= t2, other. */
function v2Bucket(attenuationDb: number, thresholds: readonly number[]): number {
  let bucket = 0;
  while (bucket < thresholds.length && attenuationDb > thresholds[bucket]) bucket++;
  return bucket;
}

/** EN v1 risk-score attenuation bucket index (0: > 73 dB ... 7: <= 10 dB). */
const V1_ATTENUATION_BOUNDS_DB = [73, 63, 51, 33, 27, 15, 10];
function v1AttenuationScoreIndex(attenuationDb: number): number {
  let index = 0;
  while (
    index < V1_ATTENUATION_BOUNDS_DB.length &&
    attenuationDb <= V1_ATTENUATION_BOUNDS_DB[index]
  )
    index++;
  return index;
}

/** EN v1 risk-score duration bucket index (0: 0 min, 1: <= 5, ... 7: > 30). */
function v1DurationScoreIndex(minutes: number): number {
  if (minutes <= 0) return 0;
  return Math.min(7, Math.ceil(minutes / 5));
}

const dayOfMs = (ms: number) => utcDate(dayOf(ms));

/** Per window (or per v1 exposure) score; returns [day, score, weightedSeconds] triples. */
function windowScores(
  preset: RiskPreset,
  windows: readonly ScoredWindow[],
): [string, number, number][] {
  const out: [string, number, number][] = [];
  switch (preset.model) {
    case "v1-attenuation-durations":
    case "v2-exposure-windows": {
      const bucketOf = preset.model === "v1-attenuation-durations" ? v1Bucket : v2Bucket;
      for (const w of windows) {
        if (preset.windowFilter) {
          const limit = preset.windowFilter.attenuationBelowDb;
          const seconds = w.segments.reduce(
            (sum, s) => sum + (s.attenuationDb <= limit ? s.seconds : 0),
            0,
          );
          if (seconds < preset.windowFilter.minMinutes * 60) continue;
        }
        let weighted = 0;
        for (const s of w.segments)
          weighted += s.seconds * preset.weights[bucketOf(s.attenuationDb, preset.thresholdsDb)];
        if (preset.minimumWindowScore !== undefined && weighted < preset.minimumWindowScore)
          continue;
        out.push([dayOfMs(w.startMs), weighted, weighted]);
      }
      return out;
    }
    case "v1-risk-score": {
      // EN v1 scores an exposure (one key on one day) by its total duration and time-weighted attenuation.
      const exposures = new Map<
        string,
        { day: string; seconds: number; attenuationSeconds: number }
      >();
      for (const w of windows) {
        const day = dayOfMs(w.startMs);
        const key = `${w.exposure}\u0000${day}`;
        const e = exposures.get(key) ?? { day, seconds: 0, attenuationSeconds: 0 };
        for (const s of w.segments) {
          e.seconds += s.seconds;
          e.attenuationSeconds += s.attenuationDb * s.seconds;
        }
        exposures.set(key, e);
      }
      for (const e of exposures.values()) {
        if (e.seconds <= 0) continue;
        const attenuationDb = e.attenuationSeconds / e.seconds;
        const score =
          preset.attenuationBucketScores![v1AttenuationScoreIndex(attenuationDb)] *
          preset.durationBucketScores![v1DurationScoreIndex(e.seconds / 60)];
        out.push([e.day, score, e.seconds]);
      }
      return out;
    }
    case "proxkit-detector": {
      const closeDb = preset.closeAttenuationDb ?? 63;
      const soft = preset.closeTime === "expected";
      const sampled = windows.filter((w) => w.scanAtMs?.length === w.segments.length);
      const isSampled = new Set(sampled);
      for (const w of windows) {
        if (isSampled.has(w)) continue;
        // Measured time at each attenuation (no scan times): the minutes at or below closeDb
        // decide; each minute's chance of being close weighs the duration.
        let close = 0;
        let expected = 0;
        for (const s of w.segments) {
          if (soft) close += s.seconds * closeProbability(preset, s.attenuationDb);
          else if (s.attenuationDb <= closeDb) close += s.seconds;
          expected += s.seconds * closeProbability(preset, s.attenuationDb);
        }
        out.push([dayOfMs(w.startMs), close, expected]);
      }
      for (const [day, closeS, expectedS] of sampledCloseSeconds(sampled, preset))
        out.push([day, closeS, expectedS]);
      return out;
    }
  }
}

/**
 * Our detector's chance that an attenuation means "within `closeDistanceM`": a logistic falling
 * through 1/2 at `closeAttenuationDb` with `closeScaleDb` per e-fold (fitted across campaigns,
 * `research/fit-detector.ts`). Without a scale it is the step at `closeAttenuationDb`.
 */
export function closeProbability(preset: RiskPreset, attenuationDb: number): number {
  const closeDb = preset.closeAttenuationDb ?? 63;
  const scaleDb = preset.closeScaleDb;
  if (scaleDb === undefined || scaleDb <= 0) return attenuationDb <= closeDb ? 1 : 0;
  return 1 / (1 + Math.exp((attenuationDb - closeDb) / scaleDb));
}

/** Longest time one scan instance stands for, s: the EN API's cap on secondsSinceLastScan. */
export const MAX_SCAN_CREDIT_S = 300;

/**
 * Our detector on scan instances (sampled, not measured, time): per exposure and UTC day, each
 * scan stands for the real time since the exposure's previous scan (at most 5 minutes; the first
 * for the median of those gaps, 2 minutes when it is alone), which, unlike the EN API's
 * secondsSinceLastScan (floored to whole minutes, 2 minutes for the first scan), adds up to the
 * contact's duration on average. A scan's attenuation is mostly the pair's slowly varying
 * shadowing and carry losses plus noise, so the exposure's time-weighted mean attenuation decides
 * whether its whole time counts as close. Returns [day, close seconds, expected close seconds]
 * per exposure and day: the third weighs the scans' own seconds (secondsSinceLastScan) by the
 * chance that the mean attenuation means within `closeDistanceM` (`closeProbability`).
 */
function sampledCloseSeconds(
  windows: readonly ScoredWindow[],
  preset: RiskPreset,
): [string, number, number][] {
  const closeDb = preset.closeAttenuationDb ?? 63;
  const scans = new Map<
    string,
    { day: string; atMs: number; attenuationDb: number; seconds: number }[]
  >();
  for (const w of windows) {
    w.segments.forEach((s, k) => {
      const atMs = w.scanAtMs![k];
      const day = dayOfMs(atMs);
      const key = `${w.exposure}\u0000${day}`;
      let list = scans.get(key);
      if (!list) {
        list = [];
        scans.set(key, list);
      }
      list.push({ day, atMs, attenuationDb: s.attenuationDb, seconds: s.seconds });
    });
  }
  const out: [string, number, number][] = [];
  for (const list of scans.values()) {
    list.sort((a, b) => a.atMs - b.atMs);
    const credits = scanCreditsS(list.map((scan) => scan.atMs));
    let totalS = 0;
    let weightedDb = 0;
    let heardS = 0;
    list.forEach((scan, k) => {
      totalS += credits[k];
      weightedDb += credits[k] * scan.attenuationDb;
      heardS += scan.seconds;
    });
    const meanDb = totalS > 0 ? weightedDb / totalS : Number.POSITIVE_INFINITY;
    // The expected close time weighs the scans' own seconds (the EN API's, as every preset
    // weighs them), so that it divided by the time heard is exactly the chance of being close.
    const p = closeProbability(preset, meanDb);
    out.push([
      list[0].day,
      preset.closeTime === "expected" ? totalS * p : meanDb <= closeDb ? totalS : 0,
      totalS > 0 ? heardS * p : 0,
    ]);
  }
  return out;
}

/** Credit of a lone scan, s (the EN API's secondsSinceLastScan when the previous scan is unknown). */
const UNKNOWN_SCAN_CREDIT_S = 120;

/**
 * The seconds each scan of a time-ordered list stands for, by the rule of `sampledCloseSeconds`:
 * the real time since the previous scan, at most `MAX_SCAN_CREDIT_S`; the first scan the median
 * of those gaps (gaps over the cap left out), `UNKNOWN_SCAN_CREDIT_S` when there is none.
 */
export function scanCreditsS(sortedAtMs: readonly number[]): Float64Array {
  const credits = new Float64Array(sortedAtMs.length);
  scanCreditsInto(sortedAtMs, 0, sortedAtMs.length, credits, new Float64Array(sortedAtMs.length));
  return credits;
}

/**
 * `scanCreditsS` of `sortedAtMs[start .. end - 1]` into `credits[start .. end - 1]`, with `gaps`
 * (room for end - start values) as scratch: no allocation, for the column scorer.
 */
function scanCreditsInto(
  sortedAtMs: ArrayLike<number>,
  start: number,
  end: number,
  credits: Float64Array,
  gaps: Float64Array,
): void {
  if (end <= start) return;
  let m = 0;
  for (let k = start + 1; k < end; k++) {
    const gapS = (sortedAtMs[k] - sortedAtMs[k - 1]) / 1000;
    credits[k] = Math.min(gapS, MAX_SCAN_CREDIT_S);
    if (gapS <= MAX_SCAN_CREDIT_S) gaps[m++] = gapS;
  }
  credits[start] = m === 0 ? UNKNOWN_SCAN_CREDIT_S : sortedMedian(gaps.subarray(0, m).sort());
}

/** Scores windows with `preset`: daily summaries and whether the preset notifies. */
export function scoreExposure(preset: RiskPreset, windows: readonly ScoredWindow[]): ExposureScore {
  const days = new Map<
    string,
    { scoreSum: number; maximumScore: number; weightedDurationSum: number }
  >();
  for (const [day, score, weightedSeconds] of windowScores(preset, windows)) {
    const d = days.get(day) ?? { scoreSum: 0, maximumScore: 0, weightedDurationSum: 0 };
    d.scoreSum += score;
    d.maximumScore = Math.max(d.maximumScore, score);
    d.weightedDurationSum += weightedSeconds;
    days.set(day, d);
  }
  const dailySummaries = [...days.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([day, d]) => {
      let notified: boolean;
      if (preset.model === "v1-risk-score") notified = d.maximumScore >= preset.minimumRiskScore!;
      else if (preset.model === "proxkit-detector")
        notified = d.scoreSum >= preset.notifyAtCloseMinutes! * 60;
      else notified = d.weightedDurationSum >= preset.notifyAtWeightedMinutes! * 60;
      return { day, ...d, notified };
    });
  return { dailySummaries, notified: dailySummaries.some((d) => d.notified) };
}

/**
 * One pair's windows in columns, for `scoreWindowColumns`: window `w` belongs to exposure
 * `exposure[w]` (windows of one key share the number), starts at `startMs[w]`, and has the scan
 * instances `firstScan[w] .. firstScan[w + 1] - 1`, each at `scanAtMs` with its typical
 * `attenuationDb` for `seconds`: the same as a `ScoredWindow` list with `scanAtMs`.
 */
export interface WindowColumns {
  readonly count: number;
  readonly exposure: ArrayLike<number>;
  readonly startMs: ArrayLike<number>;
  readonly firstScan: ArrayLike<number>;
  readonly scanAtMs: ArrayLike<number>;
  readonly attenuationDb: ArrayLike<number>;
  readonly seconds: ArrayLike<number>;
}

/** What a detector compares with its threshold, on its worst day, and whether it notifies. */
export interface PresetDecision {
  /** Weighted (or estimated close) minutes, or the EN v1 risk score for `v1-risk-score`. */
  readonly score: number;
  /** Estimated minutes of exposure it counts (weighted or close minutes). */
  readonly minutes: number;
  readonly notified: boolean;
}

/** The score a preset thresholds and the minutes it counts, from its daily summaries. */
export function presetDecision(preset: RiskPreset, days: readonly DailyResult[]): PresetDecision {
  let score = 0;
  let minutes = 0;
  for (const d of days) {
    const s = preset.model === "v1-risk-score" ? d.maximumScore : d.weightedDurationSum / 60;
    score = Math.max(score, s);
    // Our detector's weighted duration is the expected close time (its ranking score); the
    // minutes it estimates close, which decide, are its scoreSum.
    const closeS = preset.model === "proxkit-detector" ? d.scoreSum : d.weightedDurationSum;
    minutes = Math.max(minutes, closeS / 60);
  }
  return { score, minutes, notified: days.some((d) => d.notified) };
}

/**
 * `presetDecision(preset, scoreExposure(preset, windows).dailySummaries)` for windows given in
 * columns, with no object per window, segment or day (its working columns are reused from call
 * to call): the simulator scores millions of pairs. Every sum is taken in the order
 * `scoreExposure` takes it, so the results are the same to the bit
 * (`test/exposure/score-exposure.test.ts` checks it on random windows).
 */
export function scoreWindowColumns(preset: RiskPreset, w: WindowColumns): PresetDecision {
  const days = dayTotals;
  days.clear();
  const day = (ms: number) => Math.floor(ms / MS_PER_DAY_SCORE);
  switch (preset.model) {
    case "v1-attenuation-durations":
    case "v2-exposure-windows": {
      const bucketOf = preset.model === "v1-attenuation-durations" ? v1Bucket : v2Bucket;
      for (let k = 0; k < w.count; k++) {
        const from = w.firstScan[k];
        const to = w.firstScan[k + 1];
        if (preset.windowFilter) {
          const limit = preset.windowFilter.attenuationBelowDb;
          let seconds = 0;
          for (let s = from; s < to; s++) seconds += w.attenuationDb[s] <= limit ? w.seconds[s] : 0;
          if (seconds < preset.windowFilter.minMinutes * 60) continue;
        }
        let weighted = 0;
        for (let s = from; s < to; s++)
          weighted +=
            w.seconds[s] * preset.weights[bucketOf(w.attenuationDb[s], preset.thresholdsDb)];
        if (preset.minimumWindowScore !== undefined && weighted < preset.minimumWindowScore)
          continue;
        days.add(day(w.startMs[k]), weighted, weighted);
      }
      break;
    }
    case "v1-risk-score": {
      // Exposures (key, day) in order of first appearance, as the Map of `windowScores`.
      const g = groups;
      g.reserve(w.count);
      const { key: keys, day: keyDays, seconds, attenuationSeconds } = g;
      let exposures = 0;
      for (let k = 0; k < w.count; k++) {
        const d = day(w.startMs[k]);
        let e = 0;
        while (e < exposures && !(keys[e] === w.exposure[k] && keyDays[e] === d)) e++;
        if (e === exposures) {
          keys[e] = w.exposure[k];
          keyDays[e] = d;
          seconds[e] = 0;
          attenuationSeconds[e] = 0;
          exposures++;
        }
        for (let s = w.firstScan[k]; s < w.firstScan[k + 1]; s++) {
          seconds[e] += w.seconds[s];
          attenuationSeconds[e] += w.attenuationDb[s] * w.seconds[s];
        }
      }
      for (let e = 0; e < exposures; e++) {
        if (seconds[e] <= 0) continue;
        const attenuationDb = attenuationSeconds[e] / seconds[e];
        const score =
          preset.attenuationBucketScores![v1AttenuationScoreIndex(attenuationDb)] *
          preset.durationBucketScores![v1DurationScoreIndex(seconds[e] / 60)];
        days.add(keyDays[e], score, seconds[e]);
      }
      break;
    }
    case "proxkit-detector": {
      // Every window here has scan times (sampled): exposures (key, day of the scan) in order of
      // first appearance, each one's scans sorted by time, as `sampledCloseSeconds` does.
      const closeDb = preset.closeAttenuationDb ?? 63;
      const g = groups;
      const n = w.count > 0 ? w.firstScan[w.count] - w.firstScan[0] : 0;
      g.reserve(n);
      g.reserveScans(n);
      const { key: keys, day: keyDays, size, scanGroup } = g;
      // Each scan's group, in the scans' order.
      let exposures = 0;
      let i = 0;
      for (let k = 0; k < w.count; k++) {
        for (let s = w.firstScan[k]; s < w.firstScan[k + 1]; s++) {
          const d = day(w.scanAtMs[s]);
          let e = 0;
          while (e < exposures && !(keys[e] === w.exposure[k] && keyDays[e] === d)) e++;
          if (e === exposures) {
            keys[e] = w.exposure[k];
            keyDays[e] = d;
            size[e] = 0;
            exposures++;
          }
          size[e]++;
          scanGroup[i++] = e;
        }
      }
      // The scans grouped (positions from[e] ..), each group in the scans' order.
      const { from, scans, atMs, credits, gaps } = g;
      from[0] = 0;
      for (let e = 0; e < exposures; e++) {
        from[e + 1] = from[e] + size[e];
        size[e] = from[e];
      }
      i = 0;
      for (let k = 0; k < w.count; k++)
        for (let s = w.firstScan[k]; s < w.firstScan[k + 1]; s++) scans[size[scanGroup[i++]]++] = s;
      for (let e = 0; e < exposures; e++) {
        const d = keyDays[e];
        const start = from[e];
        const end = from[e + 1];
        // Stable by time (insertion sort, the groups come nearly sorted), as Array.prototype.sort
        // keeps equal times in insertion order.
        for (let a = start; a < end; a++) {
          const s = scans[a];
          const t = w.scanAtMs[s];
          let b = a;
          for (; b > start && atMs[b - 1] > t; b--) {
            atMs[b] = atMs[b - 1];
            scans[b] = scans[b - 1];
          }
          atMs[b] = t;
          scans[b] = s;
        }
        scanCreditsInto(atMs, start, end, credits, gaps);
        let totalS = 0;
        let weightedDb = 0;
        let heardS = 0;
        for (let a = start; a < end; a++) {
          totalS += credits[a];
          weightedDb += credits[a] * w.attenuationDb[scans[a]];
          heardS += w.seconds[scans[a]];
        }
        const meanDb = totalS > 0 ? weightedDb / totalS : Number.POSITIVE_INFINITY;
        const p = closeProbability(preset, meanDb);
        days.add(
          d,
          preset.closeTime === "expected" ? totalS * p : meanDb <= closeDb ? totalS : 0,
          totalS > 0 ? heardS * p : 0,
        );
      }
      break;
    }
  }
  return days.decision(preset);
}

const MS_PER_DAY_SCORE = 86_400_000;

/** The median of ascending `sorted` (not empty), as `median` of fit-points.ts takes it. */
function sortedMedian(sorted: Float64Array): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * `scoreWindowColumns`'s working columns, grown as needed: exposures (key, day) and their sums
 * or scan counts, and scans grouped by exposure with their times and credits.
 */
class ExposureGroups {
  key = new Float64Array(16);
  day = new Float64Array(16);
  seconds = new Float64Array(16);
  attenuationSeconds = new Float64Array(16);
  size = new Int32Array(16);
  from = new Int32Array(17);
  scanGroup = new Int32Array(64);
  scans = new Int32Array(64);
  atMs = new Float64Array(64);
  credits = new Float64Array(64);
  gaps = new Float64Array(64);

  /** Room for `n` exposures. */
  reserve(n: number): void {
    if (n < this.key.length) return;
    this.key = withCapacity(this.key, n);
    this.day = withCapacity(this.day, n);
    this.seconds = withCapacity(this.seconds, n);
    this.attenuationSeconds = withCapacity(this.attenuationSeconds, n);
    this.size = withCapacity(this.size, n);
    this.from = withCapacity(this.from, n + 1);
  }

  /** Room for `n` scans. */
  reserveScans(n: number): void {
    if (n <= this.scans.length) return;
    this.scanGroup = withCapacity(this.scanGroup, n);
    this.scans = withCapacity(this.scans, n);
    this.atMs = withCapacity(this.atMs, n);
    this.credits = withCapacity(this.credits, n);
    this.gaps = withCapacity(this.gaps, n);
  }
}

/** Per-day sums in the order the days were first met (as `scoreExposure`'s Map), then decided. */
class DayTotals {
  private count = 0;
  private days = new Float64Array(8);
  private scoreSum = new Float64Array(8);
  private maximumScore = new Float64Array(8);
  private weighted = new Float64Array(8);

  clear(): void {
    this.count = 0;
  }

  add(day: number, score: number, weightedSeconds: number): void {
    let d = 0;
    while (d < this.count && this.days[d] !== day) d++;
    if (d === this.count) {
      if (d === this.days.length) {
        this.days = withCapacity(this.days, d + 1);
        this.scoreSum = withCapacity(this.scoreSum, d + 1);
        this.maximumScore = withCapacity(this.maximumScore, d + 1);
        this.weighted = withCapacity(this.weighted, d + 1);
      }
      this.days[d] = day;
      this.scoreSum[d] = 0;
      this.maximumScore[d] = 0;
      this.weighted[d] = 0;
      this.count++;
    }
    this.scoreSum[d] += score;
    this.maximumScore[d] = Math.max(this.maximumScore[d], score);
    this.weighted[d] += weightedSeconds;
  }

  decision(preset: RiskPreset): PresetDecision {
    let score = 0;
    let minutes = 0;
    let notified = false;
    for (let d = 0; d < this.count; d++) {
      const scoreSum = this.scoreSum[d];
      const maximumScore = this.maximumScore[d];
      const weighted = this.weighted[d];
      if (preset.model === "v1-risk-score") notified ||= maximumScore >= preset.minimumRiskScore!;
      else if (preset.model === "proxkit-detector")
        notified ||= scoreSum >= preset.notifyAtCloseMinutes! * 60;
      else notified ||= weighted >= preset.notifyAtWeightedMinutes! * 60;
      score = Math.max(score, preset.model === "v1-risk-score" ? maximumScore : weighted / 60);
      const closeS = preset.model === "proxkit-detector" ? scoreSum : weighted;
      minutes = Math.max(minutes, closeS / 60);
    }
    return { score, minutes, notified };
  }
}

// Reused by every `scoreWindowColumns` call (it never calls itself, nor anything that calls it).
const dayTotals = new DayTotals();
const groups = new ExposureGroups();

/**
 * Received signal strength of one advertisement between two phones in the crowd:
 *
 *   rssiDbm = txPowerDbm + txGainDb[txDevice]
 *             - pathLoss(d) - shadowing(pair, t) - bodies between × bodyLossDb
 *             - carryLoss(tx) - carryLoss(rx) + fading + rxOffsetDb[rxDevice]
 *
 * then cut at the receiver's sensitivity, rounded to whole dBm and saturated, as phones report it.
 *
 * Path loss is log-distance with two slopes: the near slope and PL(d0) are fitted to the Herald
 * "edison" rig (0-3 m, see `research/fit-propagation.ts`), beyond the breakpoint the ITU indoor slope
 * applies. Shadowing is a Gauss-Markov (AR(1)) process per pair, decorrelating with time and with
 * the change of the pair's distance (Gudmundson's exponential model), updated lazily once per
 * mobility step when the pair is evaluated, and kept in a `PairCache` only for pairs in use.
 * Fast fading is Rician, drawn independently per call (one call per advertisement and channel),
 * with a high K factor on still links (fitted) and the 3GPP indoor K when either phone moves;
 * or Gaussian in dB (`fadingSigmaDb`, channel model v2 via `channel-propagation.ts`).
 *
 * Hot path: one hash probe, a few multiplications and one uniform draw per reception; the distance,
 * path loss, people in between and shadowing are computed once per pair per mobility step. Pairs
 * too far to be heard cost a squared distance and no state; pairs heard only in a rare shadowing
 * fade-up get a fresh draw and no state (see `cullSigmas`, `memorySigmas`).
 */
import type { Random } from "../../src/core/random.js";
import { SeededRandom } from "../../src/core/random.js";
import type { Agents } from "./agents.js";
import { PairCache } from "./pair-cache.js";
import { randomNormal } from "./random-normal.js";
import { DRAW_FAR, DRAW_MOVING, DRAW_NONE, DRAW_STILL, ReceptionTables } from "./reception.js";
import type { SpatialGrid } from "./spatial-grid.js";
import { StreamRandom } from "./stream-random.js";

export interface PropagationParams {
  /**
   * Nominal transmit power, dBm. Only `txPowerDbm - refPathLossDb` is identifiable from RSSI
   * data, and `refPathLossDb` was fitted with 0 dBm here; per-device differences go in `txGainDb`.
   */
  readonly txPowerDbm: number;
  /** Reference distance d0 of the log-distance model, metres. */
  readonly refDistanceM: number;
  /** Effective path loss at d0 between two phones (antennas and casings included), dB. Fitted. */
  readonly refPathLossDb: number;
  /** Path-loss exponent up to the breakpoint. Fitted on the rig's 0-3 m. */
  readonly exponentNear: number;
  /** Where the far slope takes over, metres (the rig data stops at 3 m); Infinity: one slope. */
  readonly breakpointM: number;
  /**
   * Path-loss exponent beyond the breakpoint: 3.0, ITU-R P.1238 Table 2 distance power loss
   * coefficient N = 30 for offices at 2.4 GHz (N / 10).
   */
  readonly exponentFar: number;
  /** Distances below this are treated as this (phones touching), metres. */
  readonly minDistanceM: number;
  /** Standard deviation of the log-normal shadowing, dB. Fitted. */
  readonly shadowingSigmaDb: number;
  /**
   * Time constant of shadowing for a link that does not move, seconds. The rig's placements (up
   * to 30 min each) show no drift beyond the fast spread (sd of 30-s medians ~1 dB); any value
   * from ~10 h up fits, so a still link keeps its shadowing. Movement decorrelates it
   * (`shadowingDecorrelationM`), and people walking through the link add body loss.
   */
  readonly shadowingTauS: number;
  /**
   * Decorrelation distance of shadowing in the change of the pair's distance, metres
   * (Gudmundson 1991, Electronics Letters 27(23), exponential model). 0.5: rig placements
   * 0.20-0.25 m apart differ by up to 15 dB, so correlation is lost within about half a metre.
   */
  readonly shadowingDecorrelationM: number;
  /**
   * Loss by the carrier's own body for each carry position [hand, pocket, bag], dB, applied at
   * both ends. Leith & Farrell (2020, "Coronavirus contact tracing: evaluating the potential of
   * using Bluetooth received signal strength for proximity detection", ACM SIGCOMM CCR 50(4))
   * measured drops of roughly 5-10 dB and more when handsets go into pockets and bags; 5 and 8
   * are mid-range choices, not fits.
   */
  readonly carryLossDb: readonly [number, number, number];
  /**
   * Loss per person standing between the two phones, dB. A body mid-link at 2.4 GHz costs a few
   * dB, more near either antenna (Januszkiewicz 2018, "Analysis of human body shadowing effect
   * on wireless sensor networks operating in the 2.4 GHz band", Sensors 18(10):3412); 4 dB is a
   * choice inside the 3-5 dB range usually quoted, not a fit.
   */
  readonly bodyLossDb: number;
  /** A person blocks the link when standing within this distance of it, metres (half a torso). */
  readonly bodyRadiusM: number;
  /** People counted at most: diffraction and reflections bound the loss. Default 4 (a choice). */
  readonly maxBodies: number;
  /**
   * Rician K factor of the fast fading on a still link (neither phone moved in the last step),
   * dB (power of the direct path over the scattered). Fitted on the rig, whose phones sit still.
   */
  readonly ricianKDb: number;
  /**
   * K factor when either phone moves (faster than `movingSpeedMps`), dB: 7, the mean K of
   * 3GPP TR 38.901 Table 7.5-6 (indoor office, line of sight).
   */
  readonly movingRicianKDb: number;
  /**
   * Gaussian fast fading instead of Rician: σ in dB, for still and moving links alike (channel
   * model v2, `channel-propagation.ts`). Unset (the default): Rician with `ricianKDb` /
   * `movingRicianKDb`.
   */
  readonly fadingSigmaDb?: number;
  /** Speed above which a phone counts as moving for fading, m/s. */
  readonly movingSpeedMps: number;
  /**
   * Weakest advertisement a phone reports, dBm. -100: the rig's phones reported down to -100
   * (0.01 % of 332 k readings below it); the Bluetooth Core spec only requires -70.
   */
  readonly sensitivityDbm: number;
  /**
   * Strongest value a phone reports, dBm. -20 is a choice above anything the rig saw (max -50 at
   * 0 cm); the Bluetooth Core spec (v5.3 Vol 6 Part A §4.3) requires receivers to cope with -10.
   */
  readonly saturationDbm: number;
  /**
   * A pair whose mean signal (carry losses included, shadowing and fading not) is more than
   * this many shadowing σ plus the 99th percentile of fading below the sensitivity is not heard,
   * without any draw or state: at 3 σ such a pair would be heard less than 0.2 % of the time.
   */
  readonly cullSigmas: number;
  /**
   * Pairs needing a shadowing fade-up of more than this many σ to be heard get a fresh
   * shadowing draw per reception instead of cached state: their marginal statistics stay right,
   * only the correlation over time of these rarely heard far pairs is lost. 1 σ keeps the cache
   * to the pairs that matter (memory stays near a few hundred bytes per agent in a crowd).
   */
  readonly memorySigmas: number;
  /** Per-device transmit gain relative to the nominal power, dB, by device index (missing = 0). */
  readonly txGainDb?: ArrayLike<number>;
  /** Per-device receive offset (what the phone adds to the true power), dB (missing = 0). */
  readonly rxOffsetDb?: ArrayLike<number>;
}

/**
 * Defaults. refPathLossDb, exponentNear, shadowingSigmaDb and ricianKDb are fitted to the Herald
 * "edison" robot rig (../shared/data/herald-edison: 6 files, 332 k readings, 0.2-3 m; fit and
 * residuals in research/fit-propagation.ts); the others carry their sources.
 */
export const DEFAULT_PROPAGATION: PropagationParams = {
  txPowerDbm: 0,
  refDistanceM: 1,
  refPathLossDb: 76.6,
  exponentNear: 0.48,
  breakpointM: 3,
  exponentFar: 3.0,
  minDistanceM: 0.1,
  shadowingSigmaDb: 4.5,
  shadowingTauS: 36_000,
  shadowingDecorrelationM: 0.5,
  carryLossDb: [0, 5, 8],
  bodyLossDb: 4,
  bodyRadiusM: 0.25,
  maxBodies: 4,
  ricianKDb: 15.7,
  movingRicianKDb: 7,
  movingSpeedMps: 0.1,
  sensitivityDbm: -100,
  saturationDbm: -20,
  cullSigmas: 3,
  memorySigmas: 1,
};

/** Mean path loss at `distanceM`, dB: two-slope log-distance. */
export function pathLossDb(distanceM: number, p: PropagationParams): number {
  const d = Math.max(distanceM, p.minDistanceM);
  if (d <= p.breakpointM)
    return p.refPathLossDb + 10 * p.exponentNear * Math.log10(d / p.refDistanceM);
  return (
    p.refPathLossDb +
    10 * p.exponentNear * Math.log10(p.breakpointM / p.refDistanceM) +
    10 * p.exponentFar * Math.log10(d / p.breakpointM)
  );
}

/** `pathLossDb(sqrt(d2))` without the square root (the far pairs' hot path). */
function farPathLossDb(d2: number, p: PropagationParams): number {
  const min2 = p.minDistanceM * p.minDistanceM;
  const bp2 = p.breakpointM * p.breakpointM;
  const x = Math.max(d2, min2);
  if (x <= bp2)
    return p.refPathLossDb + 5 * p.exponentNear * Math.log10(x / (p.refDistanceM * p.refDistanceM));
  return (
    p.refPathLossDb +
    10 * p.exponentNear * Math.log10(p.breakpointM / p.refDistanceM) +
    5 * p.exponentFar * Math.log10(x / bp2)
  );
}

/** The distance at which the mean path loss reaches `lossDb`, metres (inverse of `pathLossDb`). */
export function distanceForPathLossM(lossDb: number, p: PropagationParams): number {
  const atBreak = pathLossDb(p.breakpointM, p);
  if (lossDb <= atBreak) {
    return Math.max(
      p.minDistanceM,
      p.refDistanceM * 10 ** ((lossDb - p.refPathLossDb) / (10 * p.exponentNear)),
    );
  }
  return p.breakpointM * 10 ** ((lossDb - atBreak) / (10 * p.exponentFar));
}

const FADING_TABLE_SIZE = 4096;
const fadingTables = new Map<number, Float32Array>();

/**
 * Quantiles of the Rician power gain in dB (mean power 1) at K = `kDb`, `FADING_TABLE_SIZE` of
 * them: a draw is one uniform index. Built once per K from a fixed internal seed, so it does not
 * depend on (or consume) the simulation's randomness.
 */
export function ricianFadingTableDb(kDb: number): Float32Array {
  const cached = fadingTables.get(kDb);
  if (cached) return cached;
  const k = 10 ** (kDb / 10);
  const los = Math.sqrt(k / (k + 1));
  const sigma = Math.sqrt(1 / (2 * (k + 1)));
  const samples = 32 * FADING_TABLE_SIZE;
  const draws = new Float64Array(samples);
  const rng = new SeededRandom(0x51ad);
  for (let s = 0; s < samples; s++) {
    const re = los + sigma * randomNormal(rng);
    const im = sigma * randomNormal(rng);
    draws[s] = 10 * Math.log10(re * re + im * im);
  }
  draws.sort();
  const table = new Float32Array(FADING_TABLE_SIZE);
  for (let q = 0; q < FADING_TABLE_SIZE; q++) table[q] = draws[q * 32 + 16];
  fadingTables.set(kDb, table);
  return table;
}

const gaussianTables = new Map<number, Float32Array>();

/**
 * Quantiles of a Gaussian fading term in dB (mean 0, σ `sigmaDb`), `FADING_TABLE_SIZE` of them,
 * built as `ricianFadingTableDb` is (fixed internal seed, medians of sorted draws).
 */
export function gaussianFadingTableDb(sigmaDb: number): Float32Array {
  const cached = gaussianTables.get(sigmaDb);
  if (cached) return cached;
  const samples = 32 * FADING_TABLE_SIZE;
  const draws = new Float64Array(samples);
  const rng = new SeededRandom(0x9a55);
  for (let s = 0; s < samples; s++) draws[s] = sigmaDb * randomNormal(rng);
  draws.sort();
  const table = new Float32Array(FADING_TABLE_SIZE);
  for (let q = 0; q < FADING_TABLE_SIZE; q++) table[q] = draws[q * 32 + 16];
  gaussianTables.set(sigmaDb, table);
  return table;
}

/** The still and moving fading quantile tables of `p`, dB. */
export function fadingTablesDb(p: PropagationParams): {
  still: Float32Array;
  moving: Float32Array;
} {
  if (p.fadingSigmaDb !== undefined) {
    const table = gaussianFadingTableDb(p.fadingSigmaDb);
    return { still: table, moving: table };
  }
  return {
    still: ricianFadingTableDb(p.ricianKDb),
    moving: ricianFadingTableDb(p.movingRicianKDb),
  };
}

// Columns of the per-pair cache.
const SHADOW_DB = 0;
const UPDATED_AT_S = 1;
const DISTANCE_M = 2;
const STEP = 3;
const MEAN_LOSS_DB = 4;
/** 0 for a still link, FADING_TABLE_SIZE for a moving one: offset into `fading`. */
const FADING_OFFSET = 5;
/** People between the two phones this step, or -1 until counted (`MEAN_LOSS_DB` excludes them). */
const BODIES = 6;
const COLUMNS = 7;
/** Float32 words per slot of the pair cache (`PairCache.stride`). */
const STRIDE = PairCache.strideFor(COLUMNS);
/** Maximum load of the pair cache (linear probing stays short up to ~0.8). */
const PAIR_CACHE_MAX_LOAD = 0.8;

/** Buckets of squared distance in the far pairs' reception bound. */
const FAR_BOUND_BUCKETS = 1024;

/** Pairs whose shadowing correlation has fallen below e^-3 (5 %) are forgotten. */
const FORGET_AFTER_DECORRELATIONS = 3;

export class Propagation {
  readonly params: PropagationParams;
  private readonly agents: Agents;
  private readonly grid: SpatialGrid;
  private readonly random: Random;
  private readonly cache: PairCache;
  private readonly fading: Float32Array;
  /** The per-advertisement term's distributions, for drawing receptions by count. */
  readonly reception: ReceptionTables;
  /** The draw kind of the pair last given to `linkMeanDbm` (`DRAW_*` of `reception.ts`). */
  drawKind: number = DRAW_NONE;
  private readonly txGainDb: Float32Array;
  private readonly rxOffsetDb: Float32Array;
  private readonly carryLossDb: Float32Array;
  /** Squared distances beyond which a pair is not heard / not cached, by txCarry * 3 + rxCarry. */
  private readonly cullD2 = new Float64Array(9);
  private readonly memoryD2 = new Float64Array(9);
  /** `receptionBound` tables: FAR_BOUND_BUCKETS per carry combination. */
  private readonly farBound = new Float64Array(9 * FAR_BOUND_BUCKETS);
  private readonly farBoundScale = new Float64Array(9);
  private stepIndex = 1;
  /** The last `stateSlot` call's pair, step and slot (slots move only on inserts and sweeps). */
  private lastA = -1;
  private lastB = -1;
  private lastStep = -1;
  private lastSlot = 0;
  /** Set by `usePairStreams`: shadowing draws from a stream per (pair, step). */
  private pairRandom: StreamRandom | undefined;
  private pairSeed = 0;
  private nowS = 0;
  private lastSweepS = 0;
  /** Virtual seconds between sweeps of the pair cache. */
  private readonly sweepEveryS = 10;

  constructor(
    agents: Agents,
    grid: SpatialGrid,
    random: Random,
    params: PropagationParams = DEFAULT_PROPAGATION,
  ) {
    this.params = params;
    this.agents = agents;
    this.grid = grid;
    this.random = random;
    // Pairs peak just before each sweep (every 10 s) at several times their mean: a fuller table
    // (lookups are by key, nothing depends on slot order) spares a doubling at those peaks.
    this.cache = new PairCache(agents.capacity, COLUMNS, 4 * agents.capacity, PAIR_CACHE_MAX_LOAD);
    this.fading = new Float32Array(2 * FADING_TABLE_SIZE);
    const tables = fadingTablesDb(params);
    this.fading.set(tables.still);
    this.fading.set(tables.moving, FADING_TABLE_SIZE);
    this.reception = new ReceptionTables(tables.still, tables.moving, params.shadowingSigmaDb);
    // Device tables as long as the calibration table or the largest device index now in use
    // (not 65,536 entries: 512 KB a world); indices set later must stay within the tables.
    let devices = Math.max(1, params.txGainDb?.length ?? 0, params.rxOffsetDb?.length ?? 0);
    for (let i = 0; i < agents.count; i++) devices = Math.max(devices, agents.deviceIndex[i] + 1);
    this.txGainDb = new Float32Array(devices);
    this.rxOffsetDb = new Float32Array(devices);
    if (params.txGainDb) this.txGainDb.set(Array.from(params.txGainDb));
    if (params.rxOffsetDb) this.rxOffsetDb.set(Array.from(params.rxOffsetDb));
    this.carryLossDb = Float32Array.from(params.carryLossDb);
    const maxOf = (xs: ArrayLike<number> | undefined): number => {
      let m = 0;
      if (xs) for (let i = 0; i < xs.length; i++) m = Math.max(m, xs[i]);
      return m;
    };
    const p99 = Math.floor(0.99 * FADING_TABLE_SIZE);
    const fadingP99 = Math.max(this.fading[p99], this.fading[FADING_TABLE_SIZE + p99]);
    const budgetDb =
      params.txPowerDbm + maxOf(params.txGainDb) + maxOf(params.rxOffsetDb) - params.sensitivityDbm;
    for (let t = 0; t < 3; t++) {
      for (let r = 0; r < 3; r++) {
        const lossBudget = budgetDb - this.carryLossDb[t] - this.carryLossDb[r];
        const cull = lossBudget + params.cullSigmas * params.shadowingSigmaDb + fadingP99;
        const memory = lossBudget + params.memorySigmas * params.shadowingSigmaDb + fadingP99;
        this.cullD2[t * 3 + r] = distanceForPathLossM(cull, params) ** 2;
        this.memoryD2[t * 3 + r] = distanceForPathLossM(memory, params) ** 2;
      }
    }
    // Far pairs: the chance of one advertisement being heard at the near end of each bucket of
    // squared distance, with the strongest device offsets, bounds it over the whole bucket.
    const farKind = params.shadowingSigmaDb > 0 ? DRAW_FAR : DRAW_MOVING;
    for (let combo = 0; combo < 9; combo++) {
      const lo = this.memoryD2[combo];
      const span = this.cullD2[combo] - lo;
      this.farBoundScale[combo] = span > 0 ? FAR_BOUND_BUCKETS / span : 0;
      const carry = this.carryLossDb[Math.floor(combo / 3)] + this.carryLossDb[combo % 3];
      for (let i = 0; i < FAR_BOUND_BUCKETS; i++) {
        const d2 = lo + (i * span) / FAR_BOUND_BUCKETS;
        const strongestDbm = budgetDb + params.sensitivityDbm - farPathLossDb(d2, params) - carry;
        this.farBound[combo * FAR_BOUND_BUCKETS + i] = Math.min(
          1,
          this.reception.probabilityAtLeast(farKind, params.sensitivityDbm - strongestDbm) *
            (1 + 1e-9),
        );
      }
    }
  }

  /**
   * Writes into `out[txCarry]` the squared distance up to which a pair with a receiver carried
   * at `rxCarry` keeps cached shadowing (a "near" pair; beyond it, up to the cull distance, a
   * "far" pair with fresh shadowing per advertisement), m².
   */
  nearDistancesSquared(rxCarry: number, out: Float64Array): Float64Array {
    for (let t = 0; t < 3; t++) out[t] = this.memoryD2[t * 3 + rxCarry];
    return out;
  }

  /**
   * An upper bound on the chance that one advertisement of `tx` is received by `rx` during the
   * current step, from a squared distance and a table read: 0 when the pair is culled, Infinity
   * (no bound) for a near pair (cached shadowing), and for far pairs the chance at the near end
   * of a 1/1024 slice of their distance span. The link layer skips a far pair's step on it without
   * computing the path loss when a uniform draw already says "nothing received". `d2` is the
   * pair's squared distance when the caller has it (from the neighbour query).
   */
  receptionBound(tx: number, rx: number, d2 = this.distanceSquared(tx, rx)): number {
    const a = this.agents;
    const combo = a.carry[tx] * 3 + a.carry[rx];
    if (d2 > this.cullD2[combo]) return 0;
    const lo = this.memoryD2[combo];
    if (d2 <= lo) return Number.POSITIVE_INFINITY;
    const i = Math.floor((d2 - lo) * this.farBoundScale[combo]);
    return this.farBound[
      combo * FAR_BOUND_BUCKETS + (i < FAR_BOUND_BUCKETS ? i : FAR_BOUND_BUCKETS - 1)
    ];
  }

  /**
   * Writes into `out[txCarry]` the squared distance beyond which a transmitter carried at
   * `txCarry` is never heard by a receiver carried at `rxCarry` (where `linkMeanDbm` and
   * `rssiDbm` cull the pair), m².
   */
  cullDistancesSquared(rxCarry: number, out: Float64Array): Float64Array {
    for (let t = 0; t < 3; t++) out[t] = this.cullD2[t * 3 + rxCarry];
    return out;
  }

  /**
   * Shadowing is drawn from a stream per (pair, step) instead of this model's own stream, so a
   * pair's values do not depend on which other pairs were evaluated before it: several copies
   * of the model, each evaluating the pairs of its own venues (`venue-shards` in the link
   * layer), then agree with one that evaluates them all.
   */
  usePairStreams(seed: number): void {
    this.pairRandom = new StreamRandom();
    this.pairSeed = seed | 0;
  }

  /** The seed `usePairStreams` was given (0 when not in use). */
  get pairStreamSeed(): number {
    return this.pairSeed;
  }

  /** Pairs currently cached, and the bytes the cache holds. */
  get pairCount(): number {
    return this.cache.size;
  }

  get cacheBytes(): number {
    return this.cache.bytes;
  }

  /**
   * Tells the model that agents moved (call after every mobility step and grid rebuild, with the
   * step's virtual time): per-pair geometry is recomputed on next use, stale pairs are dropped.
   */
  onStep(atMs: number): void {
    this.stepIndex++;
    this.nowS = atMs / 1000;
    if (this.nowS - this.lastSweepS >= this.sweepEveryS) {
      this.lastSweepS = this.nowS;
      this.sweep();
    }
  }

  /**
   * Everything but fading, device offsets and the receiver's cut: the pair's mean received
   * power at nominal transmit power, dBm, for the current step.
   */
  meanRssiDbm(tx: number, rx: number): number {
    const slot = this.pairSlot(tx, rx);
    const a = this.agents;
    return (
      this.params.txPowerDbm -
      this.meanLossAt(slot) -
      this.carryLossDb[a.carry[tx]] -
      this.carryLossDb[a.carry[rx]]
    );
  }

  /**
   * The RSSI receiver `rx` reports for one advertisement of `tx` on advertising `channel`
   * (37/38/39; each call draws its own fading), in whole dBm, or `undefined` when it is not
   * received. `txPowerDbm` overrides the nominal power (an app's advertising power setting);
   * above the nominal power the far-pair shortcuts are off, so set `params.txPowerDbm` to the
   * strongest power in use.
   */
  rssiDbm(
    tx: number,
    rx: number,
    _channel: number,
    txPowerDbm = this.params.txPowerDbm,
  ): number | undefined {
    const a = this.agents;
    const p = this.params;
    const dx = a.xM[tx] - a.xM[rx];
    const dy = a.yM[tx] - a.yM[rx];
    const d2 = dx * dx + dy * dy;
    const combo = a.carry[tx] * 3 + a.carry[rx];
    const nominal = txPowerDbm <= p.txPowerDbm;
    if (nominal && d2 > this.cullD2[combo]) return undefined;
    let meanLossDb: number;
    let fadingOffset: number;
    if (nominal && d2 > this.memoryD2[combo]) {
      // Far and rarely heard: shadowing drawn afresh, nobody counted in between.
      meanLossDb = pathLossDb(Math.sqrt(d2), p) + p.shadowingSigmaDb * randomNormal(this.random);
      fadingOffset = FADING_TABLE_SIZE;
    } else {
      const slot = this.pairSlot(tx, rx, d2);
      const v = this.cache.values;
      meanLossDb = this.meanLossAt(slot);
      fadingOffset = v[slot * STRIDE + FADING_OFFSET];
    }
    const fading = this.fading[fadingOffset + ((this.random.float() * FADING_TABLE_SIZE) | 0)];
    const dbm =
      txPowerDbm +
      this.txGainDb[a.deviceIndex[tx]] -
      meanLossDb -
      this.carryLossDb[a.carry[tx]] -
      this.carryLossDb[a.carry[rx]] +
      fading +
      this.rxOffsetDb[a.deviceIndex[rx]];
    if (dbm < p.sensitivityDbm) return undefined;
    const rounded = Math.round(dbm);
    return Math.min(rounded, p.saturationDbm);
  }

  /**
   * The received power of one advertisement of `tx` at `rx` during the current step before its
   * per-advertisement term, dBm (nominal transmit power, device offsets and carry losses
   * included), or -Infinity when the pair cannot be heard; sets `drawKind` to how that term is
   * distributed (`reception.ts`). `rssiDbm` is, in distribution, this plus one draw of the term,
   * cut at the sensitivity, rounded and saturated; the link layer uses it to draw how many of a
   * pair's advertisements are received instead of drawing each one. `d2` is the pair's squared
   * distance when the caller has it (as in `receptionBound`).
   */
  linkMeanDbm(tx: number, rx: number, d2 = this.distanceSquared(tx, rx)): number {
    return this.linkMean(tx, rx, true, d2);
  }

  /**
   * `linkMeanDbm` without the loss through people in between for a near pair (they are then not
   * counted): an upper bound on it, dBm, that costs no segment query. Sets `drawKind`. A
   * `linkMeanDbm` of the same pair right after it finds the pair's slot without a probe.
   */
  linkMeanUpperDbm(tx: number, rx: number, d2 = this.distanceSquared(tx, rx)): number {
    return this.linkMean(tx, rx, false, d2);
  }

  /** Squared distance between agents `tx` and `rx`, m² (the one every method of a pair uses). */
  private distanceSquared(tx: number, rx: number): number {
    const a = this.agents;
    const dx = a.xM[tx] - a.xM[rx];
    const dy = a.yM[tx] - a.yM[rx];
    return dx * dx + dy * dy;
  }

  private linkMean(tx: number, rx: number, withBodies: boolean, d2: number): number {
    const a = this.agents;
    const p = this.params;
    const combo = a.carry[tx] * 3 + a.carry[rx];
    if (d2 > this.cullD2[combo]) {
      this.drawKind = DRAW_NONE;
      return Number.NEGATIVE_INFINITY;
    }
    let meanLossDb: number;
    if (d2 > this.memoryD2[combo]) {
      // As in `rssiDbm`: fresh shadowing and moving fading per advertisement.
      meanLossDb = farPathLossDb(d2, p);
      this.drawKind = p.shadowingSigmaDb > 0 ? DRAW_FAR : DRAW_MOVING;
    } else {
      const slot = withBodies ? this.pairSlot(tx, rx, d2) : this.stateSlot(tx, rx, d2);
      const v = this.cache.values;
      meanLossDb = withBodies ? this.meanLossAt(slot) : v[slot * STRIDE + MEAN_LOSS_DB];
      this.drawKind = v[slot * STRIDE + FADING_OFFSET] === 0 ? DRAW_STILL : DRAW_MOVING;
    }
    return (
      p.txPowerDbm +
      this.txGainDb[a.deviceIndex[tx]] -
      meanLossDb -
      this.carryLossDb[a.carry[tx]] -
      this.carryLossDb[a.carry[rx]] +
      this.rxOffsetDb[a.deviceIndex[rx]]
    );
  }

  /**
   * An upper bound on any RSSI `rssiDbm(tx, rx)` can return during the current step, dBm
   * (-Infinity when the pair is culled). For pairs with stored shadowing the bound is exact
   * (strongest fade of the table); for far pairs it allows a 6-sigma shadowing draw. The link
   * layer uses it to skip every advertising event of a pair that cannot be heard this step.
   */
  upperBoundRssiDbm(tx: number, rx: number): number {
    const a = this.agents;
    const p = this.params;
    const dx = a.xM[tx] - a.xM[rx];
    const dy = a.yM[tx] - a.yM[rx];
    const d2 = dx * dx + dy * dy;
    const combo = a.carry[tx] * 3 + a.carry[rx];
    if (d2 > this.cullD2[combo]) return Number.NEGATIVE_INFINITY;
    let meanLossDb: number;
    let fadingOffset: number;
    if (d2 > this.memoryD2[combo]) {
      meanLossDb = pathLossDb(Math.sqrt(d2), p) - 6 * p.shadowingSigmaDb;
      fadingOffset = FADING_TABLE_SIZE;
    } else {
      const slot = this.pairSlot(tx, rx, d2);
      meanLossDb = this.meanLossAt(slot);
      fadingOffset = this.cache.values[slot * STRIDE + FADING_OFFSET];
    }
    const strongestFadeDb = Math.max(this.fading[fadingOffset + FADING_TABLE_SIZE - 1], 0);
    return (
      p.txPowerDbm +
      this.txGainDb[a.deviceIndex[tx]] -
      meanLossDb -
      this.carryLossDb[a.carry[tx]] -
      this.carryLossDb[a.carry[rx]] +
      strongestFadeDb +
      this.rxOffsetDb[a.deviceIndex[rx]]
    );
  }

  /** The pair's current shadowing, dB (positive = weaker signal). */
  shadowingDb(a: number, b: number): number {
    return this.cache.values[this.pairSlot(a, b) * STRIDE + SHADOW_DB];
  }

  /** Forgets every pair (their shadowing is drawn afresh on next use). */
  reset(): void {
    this.cache.clear();
    this.lastStep = -1;
  }

  /**
   * The pair's cache slot with its per-step values up to date, people in between included:
   * its mean loss is `meanLossAt(slot)`.
   */
  private pairSlot(a: number, b: number, d2 = this.distanceSquared(a, b)): number {
    const slot = this.stateSlot(a, b, d2);
    const v = this.cache.values;
    const base = slot * STRIDE;
    if (v[base + BODIES] < 0) {
      const p = this.params;
      v[base + BODIES] =
        p.bodyLossDb > 0 && this.grid.contains(a) && this.grid.contains(b)
          ? this.grid.countNearSegment(a, b, p.bodyRadiusM, p.maxBodies)
          : 0;
    }
    return slot;
  }

  /** The pair's mean loss this step, dB (after `pairSlot`). */
  private meanLossAt(slot: number): number {
    const v = this.cache.values;
    return v[slot * STRIDE + MEAN_LOSS_DB] + v[slot * STRIDE + BODIES] * this.params.bodyLossDb;
  }

  /**
   * The pair's cache slot with distance, shadowing and fading kind up to date for this step,
   * the people in between not yet counted (`BODIES` -1): they only lower the signal, so a
   * bound from this slot lets the link layer skip counting them for pairs nobody can hear.
   * `d2` is the pair's squared distance (`distanceSquared(a, b)`).
   */
  private stateSlot(a: number, b: number, d2: number): number {
    // The same pair as the last call, in the same step (the link layer's bound, then its mean):
    // nothing inserted or moved since, so its slot is the same.
    if (a === this.lastA && b === this.lastB && this.lastStep === this.stepIndex)
      return this.lastSlot;
    const cache = this.cache;
    const slot = cache.findOrInsert(a, b);
    this.lastA = a;
    this.lastB = b;
    this.lastStep = this.stepIndex;
    this.lastSlot = slot;
    const v = cache.values;
    const base = slot * STRIDE;
    if (!cache.inserted && v[base + STEP] === this.stepIndex) return slot;
    const p = this.params;
    const ag = this.agents;
    const d = Math.sqrt(d2);
    let shadow: number;
    let random: Pick<Random, "float"> = this.random;
    if (this.pairRandom !== undefined) {
      const low = Math.min(a, b);
      this.pairRandom.reseed(
        this.pairSeed ^ Math.imul(low + 1, 0x27d4eb2d),
        Math.max(a, b),
        this.stepIndex,
      );
      random = this.pairRandom;
    }
    if (cache.inserted) {
      shadow = p.shadowingSigmaDb * randomNormal(random);
    } else {
      const dtS = this.nowS - v[base + UPDATED_AT_S];
      const moved = Math.abs(d - v[base + DISTANCE_M]);
      const rho = Math.exp(-dtS / p.shadowingTauS - moved / p.shadowingDecorrelationM);
      shadow =
        rho * v[base + SHADOW_DB] +
        p.shadowingSigmaDb * Math.sqrt(1 - rho * rho) * randomNormal(random);
    }
    v[base + SHADOW_DB] = shadow;
    v[base + UPDATED_AT_S] = this.nowS;
    v[base + DISTANCE_M] = d;
    v[base + STEP] = this.stepIndex;
    v[base + MEAN_LOSS_DB] = pathLossDb(d, p) + shadow;
    v[base + BODIES] = -1;
    const still2 = p.movingSpeedMps * p.movingSpeedMps;
    const moving =
      ag.vxMps[a] * ag.vxMps[a] + ag.vyMps[a] * ag.vyMps[a] > still2 ||
      ag.vxMps[b] * ag.vxMps[b] + ag.vyMps[b] * ag.vyMps[b] > still2;
    v[base + FADING_OFFSET] = moving ? FADING_TABLE_SIZE : 0;
    return slot;
  }

  private readonly keepPair = (slot: number, low: number, high: number): boolean => {
    const ag = this.agents;
    if (ag.present[low] === 0 || ag.present[high] === 0) return false;
    const p = this.params;
    const v = this.cache.values;
    const base = slot * STRIDE;
    const moved = Math.abs(ag.distanceM(low, high) - v[base + DISTANCE_M]);
    const decorrelations =
      (this.nowS - v[base + UPDATED_AT_S]) / p.shadowingTauS + moved / p.shadowingDecorrelationM;
    return decorrelations < FORGET_AFTER_DECORRELATIONS;
  };

  private sweep(): void {
    this.cache.sweep(this.keepPair);
  }
}

/**
 * The distance beyond which a phone never hears another, metres: where the mean signal between
 * two hand-held phones with the strongest device offsets and nobody in between falls `marginDb`
 * below the sensitivity (default: `cullSigmas` σ of shadowing plus the 99th percentile of fading,
 * the distance at which `Propagation.rssiDbm` stops hearing anyone). Use it as the link layer's
 * neighbour range.
 */
export function receptionRangeM(
  p: PropagationParams = DEFAULT_PROPAGATION,
  marginDb?: number,
): number {
  const p99 = Math.floor(0.99 * FADING_TABLE_SIZE);
  const tables = fadingTablesDb(p);
  const fadingP99 = Math.max(tables.still[p99], tables.moving[p99]);
  const margin = marginDb ?? p.cullSigmas * p.shadowingSigmaDb + fadingP99;
  const maxOf = (xs: ArrayLike<number> | undefined): number => {
    let m = 0;
    if (xs) for (let i = 0; i < xs.length; i++) m = Math.max(m, xs[i]);
    return m;
  };
  const budgetDb =
    p.txPowerDbm +
    maxOf(p.txGainDb) +
    maxOf(p.rxOffsetDb) -
    2 * p.carryLossDb[0] +
    margin -
    p.sensitivityDbm;
  return distanceForPathLossM(budgetDb, p);
}

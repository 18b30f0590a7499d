/**
 * A run's evaluation and report section, accumulated while the run streams: the truth's close
 * seconds, the link layer's sightings and the detectors' decisions are fed in as they happen, and
 * `finish` gives what `evaluateRun` and `reportRun` give over a whole `RunData` (they replay one
 * into this class, so there is one implementation).
 *
 * Nothing is kept per sighting or per detection row as an object: pairs live in open-addressing
 * tables of typed records, past close intervals in an arena, decisions in dense per-pair cells.
 * What each structure costs is in `bytes()`.
 *
 * Link coverage (Herald detection and continuity) is counted online. The 30-s windows in which a
 * pair was close and those in which the receiver heard the sender come in two streams, each in
 * time order but in no order relative to the other within a step; a pair's close windows and an
 * ordered pair's heard windows each keep the last `HISTORY_WINDOWS` of them as a bit mask, and a
 * window counts as covered when its second mark arrives, whichever stream brings it. Whether the
 * pair is a close contact is only known at the end, so every pair keeps its counts until then.
 */
import { ExactSum } from "../../src/core/exact-sum.js";
import { toHex } from "../../src/core/hex.js";
import { stableCountingSort, withCapacity } from "../../src/core/typed-arrays.js";
import type { DetectionRow, PairDetection } from "../pipeline/detect-contacts.js";
import type { PairDecisions } from "../pipeline/stream-detect.js";
import {
  PAIR_KEY_BASE,
  pairKey,
  type RssiDistanceSample,
  type RunCeiling,
  type RunData,
  type RunMeta,
  type TruthPair,
} from "../pipeline/run-data.js";
import { senderOfId } from "../pipeline/sender-of-id.js";
import type { ReportRun } from "../report/report-input.js";
import { sweepThreshold } from "./ceiling.js";
import type {
  DetectorEvaluation,
  PrPoint,
  ReferenceEvaluation,
  RunEvaluation,
} from "./evaluate-run.js";
import { MAX_CURVE_POINTS, precisionRecallF1 } from "./precision-recall.js";
import type { ReportRunExtras } from "./report-run.js";

/** Continuity is measured in windows of this length (Herald's analysis uses 30 s). */
export const CONTINUITY_WINDOW_S = 30;

/** Ordered pairs put on the timeline at most (the report picks the most telling of them). */
export const MAX_TIMELINE_PAIRS = 200;

/**
 * Windows of history a pair keeps of each stream (one bit each): how far one stream may run
 * ahead of the other for the same pair, 15.5 minutes. Within a step they are a step apart.
 */
const HISTORY_WINDOWS = 32;

/** A window never marked. */
const NEVER = -0x80000000;

export const round = (x: number, digits = 4) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export type { DetectionRow } from "../pipeline/detect-contacts.js";

/** The engine's ground truth as `finish` needs it. */
export interface RunTruth {
  closeSeconds(a: number, b: number): number;
  minDistanceM(a: number, b: number): number | undefined;
}

export interface RunAccumulatorInit {
  /** Agents in the run (ordered pairs scored: index cases × (agents − 1)). */
  readonly agents: number;
  /** Wall-clock time of the run's time 0, ms since the Unix epoch. */
  readonly startMs: number;
  readonly closeMinutes: number;
  /** The detectors evaluated, in the order of the evaluation's rows. */
  readonly detectorNames: readonly string[];
  readonly indexCases: readonly number[];
}

/** Bytes held by the accumulator's typed arrays, by structure (capacity, not use). */
export interface AccumulatorBytes {
  readonly closePairs: number;
  readonly intervals: number;
  readonly orderedPairs: number;
  readonly detections: number;
  readonly windows: number;
  readonly total: number;
  readonly counts: {
    closePairs: number;
    intervals: number;
    orderedPairs: number;
    detectionPairs: number;
    detectionRows: number;
    windows: number;
  };
}

const ensure = withCapacity;

function hashPair(x: number, y: number): number {
  let h = Math.imul(x ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul((y + 0x7f4a7c15) | 0, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

/** Where a record keeps its pair's agents. */
const FIRST = 0;
const SECOND = 1;

/**
 * Pairs of agent indices to dense ids 0, 1, 2, … in order of arrival, each with a record of
 * `stride` Int32 fields in one array: the pair itself (`FIRST`, `SECOND`), then its owner's
 * state, which starts at 0. Linear probing over an Int32Array of ids (at most half full). A
 * lookup that finds its pair has read the record to compare it, so the owner's state comes in
 * the same cache line instead of from columns of their own (the tables outgrow the caches).
 */
class PairTable {
  data: Int32Array;
  size = 0;
  /** Whether the last `findOrAdd` added its pair. */
  added = false;
  private slots = new Int32Array(32).fill(-1);

  constructor(readonly stride: number) {
    this.data = new Int32Array(16 * stride);
  }

  first(id: number): number {
    return this.data[id * this.stride + FIRST];
  }

  second(id: number): number {
    return this.data[id * this.stride + SECOND];
  }

  find(x: number, y: number): number {
    const mask = this.slots.length - 1;
    const { data, stride } = this;
    for (let h = hashPair(x, y) & mask; ; h = (h + 1) & mask) {
      const id = this.slots[h];
      if (id < 0 || (data[id * stride + FIRST] === x && data[id * stride + SECOND] === y))
        return id;
    }
  }

  findOrAdd(x: number, y: number): number {
    const mask = this.slots.length - 1;
    const stride = this.stride;
    let data = this.data;
    let h = hashPair(x, y) & mask;
    for (; ; h = (h + 1) & mask) {
      const id = this.slots[h];
      if (id < 0) break;
      if (data[id * stride + FIRST] === x && data[id * stride + SECOND] === y) {
        this.added = false;
        return id;
      }
    }
    const id = this.size++;
    if (this.size * stride > data.length) this.data = data = ensure(data, this.size * stride);
    data[id * stride + FIRST] = x;
    data[id * stride + SECOND] = y;
    this.slots[h] = id;
    if (this.size * 2 > this.slots.length) this.rehash();
    this.added = true;
    return id;
  }

  get bytes(): number {
    return this.data.byteLength + this.slots.byteLength;
  }

  /** Ids sorted by (`major` agent, then the other), `major` being `FIRST` or `SECOND`. */
  sortedIds(major: number): Uint32Array {
    const byMinor = stableByKey(identity(this.size), this.data, this.stride, SECOND - major);
    return stableByKey(byMinor, this.data, this.stride, major);
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    const { data, stride } = this;
    for (let id = 0; id < this.size; id++) {
      let h = hashPair(data[id * stride + FIRST], data[id * stride + SECOND]) & mask;
      while (slots[h] >= 0) h = (h + 1) & mask;
      slots[h] = id;
    }
    this.slots = slots;
  }
}

function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let k = 0; k < n; k++) out[k] = k;
  return out;
}

/** `items` stably sorted by `keys[item * stride + offset]` (whole numbers from 0, agent indices). */
function stableByKey(
  items: Uint32Array,
  keys: Int32Array,
  stride: number,
  offset: number,
): Uint32Array {
  let buckets = 0;
  for (let k = 0; k < items.length; k++)
    buckets = Math.max(buckets, keys[items[k] * stride + offset] + 1);
  return stableCountingSort(items, keys, buckets, stride, offset);
}

/**
 * A close pair's record: its current close interval [`CLOSE_START`, `CLOSE_END`) (`CLOSE_END`
 * `NEVER` while none; the earlier ones are in the interval arena, the latest at `CLOSE_PREV`,
 * or −1), its close windows' history (`CLOSE_W`, mask after it) and count. A close second reads
 * and writes only these 32 bytes, but for the ordered pairs of a new window.
 */
const CLOSE_START = 2;
const CLOSE_END = 3;
const CLOSE_PREV = 4;
const CLOSE_W = 5;
const CLOSE_WINDOWS = 7;
const CLOSE_STRIDE = 8;
/** Entries of the close-pair id cache (256 kB): 10 times the pairs close at once among 10,000. */
const CLOSE_HINTS = 1 << 16;

/**
 * An ordered pair's record (sender, receiver): its heard windows' history (`HEARD_W`, mask after
 * it), covered close windows, detection pair (or −1) and close pair (or −1). The eighth field is
 * unused: it pads records to 32 bytes, two to a cache line.
 */
const HEARD_W = 2;
const COVERED = 4;
const DETECTION = 5;
const CLOSE_PAIR = 6;
const ORDERED_STRIDE = 8;

/** How many scored pairs got each score above 0 (a precision-recall curve needs no more). */
type ScoreCounts = Map<number, number>;

function countScore(counts: ScoreCounts, score: number): void {
  if (score > 0) counts.set(score, (counts.get(score) ?? 0) + 1);
}

/** Whether (closeS, key) ranks before (closeS2, key2) on the timeline: closer in truth first. */
function ranksBefore(closeS: number, key: number, closeS2: number, key2: number): boolean {
  return closeS > closeS2 || (closeS === closeS2 && key < key2);
}

/**
 * Each detector's decisions on scored pairs, folded as they come: notifications that were and
 * were not close contacts, the duration error's sum (exact, so the order decisions come in does
 * not matter) and its terms, and how many positive and negative pairs got each score.
 */
class DecisionTally {
  readonly tp: Float64Array;
  readonly fp: Float64Array;
  readonly errorSum: ExactSum[];
  readonly errorPairs: Float64Array;
  readonly positiveScores: ScoreCounts[];
  readonly negativeScores: ScoreCounts[];

  constructor(columns: number) {
    this.tp = new Float64Array(columns);
    this.fp = new Float64Array(columns);
    this.errorSum = Array.from({ length: columns }, () => new ExactSum());
    this.errorPairs = new Float64Array(columns);
    this.positiveScores = Array.from({ length: columns }, () => new Map());
    this.negativeScores = Array.from({ length: columns }, () => new Map());
  }

  add(column: number, positive: boolean, score: number, errorMin: number, notified: boolean): void {
    if (notified) {
      if (positive) this.tp[column]++;
      else this.fp[column]++;
    }
    this.addError(column, errorMin);
    countScore(positive ? this.positiveScores[column] : this.negativeScores[column], score);
  }

  addError(column: number, errorMin: number): void {
    this.errorSum[column].add(errorMin);
    this.errorPairs[column]++;
  }

  /** Distinct scores kept (for memory reports). */
  get scores(): number {
    let n = 0;
    for (const m of [...this.positiveScores, ...this.negativeScores]) n += m.size;
    return n;
  }
}

/**
 * The window spans of the notified pairs that may yet be on the timeline: the
 * `MAX_TIMELINE_PAIRS` first of them by the timeline's order (close seconds in truth descending,
 * then pair key). A pair pushed out by better ones can never come back, so the spans kept are
 * exactly those the timeline can show, in memory that does not grow with the run.
 */
class TimelineSpans {
  private readonly slotOf = new Map<number, number>();
  private readonly pairs: number[] = [];
  private readonly keys: number[] = [];
  private readonly closeS: number[] = [];
  private readonly spans: number[][] = [];
  /** The slot that ranks last, once full. */
  private worst = -1;
  spanCount = 0;

  /** Takes detection pair `p` (key, truth close seconds) if it ranks among the first; whether taken. */
  offer(p: number, key: number, closeS: number): boolean {
    if (this.slotOf.has(p)) return true;
    if (this.pairs.length < MAX_TIMELINE_PAIRS) {
      this.slotOf.set(p, this.pairs.length);
      this.pairs.push(p);
      this.keys.push(key);
      this.closeS.push(closeS);
      this.spans.push([]);
      if (this.pairs.length === MAX_TIMELINE_PAIRS) this.findWorst();
      return true;
    }
    const w = this.worst;
    if (!ranksBefore(closeS, key, this.closeS[w], this.keys[w])) return false;
    this.slotOf.delete(this.pairs[w]);
    this.spanCount -= this.spans[w].length / 2;
    this.slotOf.set(p, w);
    this.pairs[w] = p;
    this.keys[w] = key;
    this.closeS[w] = closeS;
    this.spans[w] = [];
    this.findWorst();
    return true;
  }

  /** Adds a span of pair `p`, which must have been taken. */
  push(p: number, startS: number, endS: number): void {
    const slot = this.slotOf.get(p);
    if (slot === undefined) return;
    this.spans[slot].push(startS, endS);
    this.spanCount++;
  }

  /** Pair `p`'s spans as [start, end, start, end, …], or undefined when it was not kept. */
  spansOf(p: number): readonly number[] | undefined {
    const slot = this.slotOf.get(p);
    return slot === undefined ? undefined : this.spans[slot];
  }

  private findWorst(): void {
    let w = 0;
    for (let k = 1; k < this.pairs.length; k++)
      if (ranksBefore(this.closeS[w], this.keys[w], this.closeS[k], this.keys[k])) w = k;
    this.worst = w;
  }
}

/**
 * Marks window `w` in the (last window, bit mask) history at `data[at]`, `data[at + 1]`; true
 * when it was not marked yet. The mask is kept as an Int32 of the same bits.
 */
function markWindow(data: Int32Array, at: number, w: number, stream: string): boolean {
  const last = data[at];
  if (last === NEVER || w > last) {
    const shift = last === NEVER ? HISTORY_WINDOWS : w - last;
    data[at + 1] = shift >= HISTORY_WINDOWS ? 1 : (data[at + 1] << shift) | 1;
    data[at] = w;
    return true;
  }
  const d = last - w;
  if (d >= HISTORY_WINDOWS)
    throw new RangeError(`${stream} for window ${w} came after window ${last} of the same pair`);
  const bit = 1 << d;
  if ((data[at + 1] & bit) !== 0) return false;
  data[at + 1] |= bit;
  return true;
}

/** Whether window `w` is marked in a history; throws when `w` is older than it reaches. */
function hasWindow(at: number, mask: number, w: number, stream: string): boolean {
  if (at === NEVER || w > at) return false;
  const d = at - w;
  if (d >= HISTORY_WINDOWS)
    throw new RangeError(
      `window ${w} came more than ${HISTORY_WINDOWS} windows behind ${stream} of the same pair`,
    );
  return ((mask >>> d) & 1) === 1;
}

/** Cell flags of a detection: the row exists, it notified. */
const PRESENT = 1;
const NOTIFIED = 2;
/** A detection pair's flags: some row came, some window span came. */
const ROWS_CAME = 1;
const SPANS_CAME = 2;

export class RunAccumulator {
  private readonly agents: number;
  private readonly startS: number;
  /**
   * Each receiver's last (sender, window) seen: a scan hears the same sender a dozen times in a
   * row, and a repeat within a window changes nothing, so it skips the pair lookup.
   */
  private readonly lastSender: Int32Array;
  private readonly lastWindow: Float64Array;
  private readonly closeMinutes: number;
  private readonly names: readonly string[];
  private readonly codeOf = new Map<string, number>();
  /** `codeOf` of each name, by position. */
  private readonly codes: Int32Array;
  private readonly indexCases: readonly number[];
  private readonly isIndex: Uint8Array;
  private finished = false;

  // Unordered pairs {a, b}, a < b, ever within the close distance (records of `CLOSE_STRIDE`).
  private readonly closePairs = new PairTable(CLOSE_STRIDE);
  /**
   * A direct-mapped cache of close-pair ids by hash: the pairs close this second were mostly
   * close the second before, and a hit reads this small table, which stays in the caches more
   * often than the probe slots (tens of MB in a crowd). About 4 lookups in 5 hit in a plaza of
   * 10,000.
   */
  private readonly closeHints = new Int32Array(CLOSE_HINTS).fill(-1);
  /**
   * The ordered pairs a→b and b→a (ids, −1 while none), linked so no lookup is needed later;
   * outside the records, as only a new close window reads them.
   */
  private closeAB = new Int32Array(16);
  private closeBA = new Int32Array(16);
  // Close intervals before each pair's current one, chained from the latest by `ivPrev`.
  private ivStart = new Int32Array(16);
  private ivEnd = new Int32Array(16);
  private ivPrev = new Int32Array(16);
  private arena = 0;
  /** Close intervals in all, current ones included. */
  private intervals = 0;

  // Ordered pairs (sender, receiver) heard (records of `ORDERED_STRIDE`).
  private readonly ordered = new PairTable(ORDERED_STRIDE);

  // Detection pairs: one block of a cell per detector.
  private detOwner = new Uint32Array(16);
  /** `ROWS_CAME` once some row (of any detector, known or not) came, `SPANS_CAME` once spans did. */
  private detRows = new Uint8Array(16);
  /** 1 when the pair is a close contact of an index case in truth. */
  private detPositive = new Uint8Array(16);
  private detCount = 0;
  private cellFlags = new Uint8Array(16);
  private rows = 0;
  /** The last (index, receiver) looked up and its detection pair: a pair's windows follow it. */
  private lastIndex = -1;
  private lastReceiver = -1;
  private lastDetection = -1;

  // The decisions, folded into the evaluation as they come (by cell column): nothing per row is
  // kept but its cell's flags.
  private truth: RunTruth | undefined;
  private readonly scoring: DecisionTally;
  /** Scored pairs with a row, and how many of them are close contacts (the `heard` reference). */
  private heardPairs = 0;
  private heardPositives = 0;

  /** The notified pairs' window spans the timeline may show. */
  private readonly spans = new TimelineSpans();
  /** The pair whose spans are coming, and whether they are kept. */
  private windowPair = -1;
  private windowKept = true;

  constructor(init: RunAccumulatorInit) {
    this.agents = init.agents;
    this.startS = init.startMs / 1000;
    this.lastSender = new Int32Array(init.agents).fill(-1);
    this.lastWindow = new Float64Array(init.agents);
    this.closeMinutes = init.closeMinutes;
    this.names = [...init.detectorNames];
    this.names.forEach((name, code) => {
      if (!this.codeOf.has(name)) this.codeOf.set(name, code);
    });
    this.codes = Int32Array.from(this.names, (name) => this.codeOf.get(name)!);
    this.indexCases = [...init.indexCases];
    this.isIndex = new Uint8Array(init.agents);
    for (const i of init.indexCases) this.isIndex[i] = 1;
    this.scoring = new DecisionTally(this.names.length);
  }

  /**
   * Pair {a, b} was within the close distance during second `tS` since the run's start. A pair's
   * seconds come in nondecreasing order; a repeated or older second is ignored.
   */
  close(a: number, b: number, tS: number): void {
    this.closeSpan(a, b, tS, tS + 1);
  }

  /** `close(a, b, t)` for every whole second t in [fromS, toS), in one call. */
  closeSpan(a: number, b: number, fromS: number, toS: number): void {
    this.event();
    if (!Number.isInteger(fromS) || !Number.isInteger(toS))
      throw new RangeError(`close seconds must be whole, got [${fromS}, ${toS})`);
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const hint = hashPair(lo, hi) & (CLOSE_HINTS - 1);
    let id = this.closeHints[hint];
    let c = this.closePairs.data;
    if (id < 0 || c[id * CLOSE_STRIDE + FIRST] !== lo || c[id * CLOSE_STRIDE + SECOND] !== hi) {
      id = this.closeRecord(lo, hi);
      this.closeHints[hint] = id;
      c = this.closePairs.data;
    }
    const r = id * CLOSE_STRIDE;
    const end = c[r + CLOSE_END];
    let from = fromS;
    if (end !== NEVER && end >= fromS) {
      // Seconds up to the interval's end are in already.
      if (toS <= end) return;
      from = end;
      c[r + CLOSE_END] = toS;
    } else {
      if (toS <= fromS) return;
      if (end !== NEVER) {
        // The current interval is over: into the arena.
        const k = this.arena++;
        if (k === this.ivStart.length) {
          this.ivStart = ensure(this.ivStart, this.arena);
          this.ivEnd = ensure(this.ivEnd, this.arena);
          this.ivPrev = ensure(this.ivPrev, this.arena);
        }
        this.ivStart[k] = c[r + CLOSE_START];
        this.ivEnd[k] = end;
        this.ivPrev[k] = c[r + CLOSE_PREV];
        c[r + CLOSE_PREV] = k;
      }
      c[r + CLOSE_START] = fromS;
      c[r + CLOSE_END] = toS;
      this.intervals++;
    }
    for (let w = Math.floor(from / CONTINUITY_WINDOW_S); w * CONTINUITY_WINDOW_S < toS; w++) {
      if (!markWindow(c, r + CLOSE_W, w, "close()")) continue;
      c[r + CLOSE_WINDOWS]++;
      this.coverIfHeard(this.closeAB[id], w);
      this.coverIfHeard(this.closeBA[id], w);
    }
  }

  /**
   * Registers pair {a, b} (a < b) as close without a second of it (a run folder's truth may hold
   * such a pair); `close` registers pairs itself.
   */
  closePair(a: number, b: number): number {
    this.event();
    return this.closeRecord(a, b);
  }

  /**
   * Receiver stored a sighting sent by `sender` at `atMs` (ms since the epoch, as stored). An
   * ordered pair's sightings come in nondecreasing time.
   */
  sighting(receiver: number, sender: number, atMs: number): void {
    this.event();
    const w = Math.floor((atMs / 1000 - this.startS) / CONTINUITY_WINDOW_S);
    if (this.lastSender[receiver] === sender && this.lastWindow[receiver] === w) return;
    this.lastSender[receiver] = sender;
    this.lastWindow[receiver] = w;
    const r = this.orderedPair(sender, receiver) * ORDERED_STRIDE;
    const o = this.ordered.data;
    if (o[r + HEARD_W] === w) return;
    if (!markWindow(o, r + HEARD_W, w, "sighting()")) return;
    const id = o[r + CLOSE_PAIR];
    if (id < 0) return;
    const c = this.closePairs.data;
    const cw = id * CLOSE_STRIDE + CLOSE_W;
    if (hasWindow(c[cw], c[cw + 1], w, "close()")) o[r + COVERED]++;
  }

  /**
   * The run's events are over: decisions and window spans come next, judged against `truth` as
   * they come (nothing per decision is kept but its flags).
   */
  scoreAgainst(truth: RunTruth): void {
    this.open();
    if (this.truth !== undefined) throw new Error("the run's accumulator is already scoring");
    this.truth = truth;
  }

  /**
   * Every detector's decision on ordered pair (index, receiver) at once, position j for the j-th
   * detector named at construction: as `detection` once per detector, in that order.
   */
  decisions(index: number, receiver: number, d: PairDecisions): void {
    const p = this.decidedPair(index, receiver);
    const truthMin = this.truthSecondsOf(p) / 60;
    const base = p * this.names.length;
    for (let j = 0; j < this.names.length; j++)
      this.decide(
        p,
        base + this.codes[j],
        this.names[j],
        truthMin,
        d.score[j],
        d.minutes[j],
        d.notified[j] === 1,
      );
  }

  /**
   * One detector's decision on one ordered pair, at most once per (detector, index, receiver),
   * in any order, but before the pair's window spans. A detector not named at construction only
   * counts for the `heard` reference.
   */
  detection(row: DetectionRow): void {
    const p = this.decidedPair(row.index, row.receiver);
    const code = this.codeOf.get(row.detector);
    if (code === undefined) return;
    const truthMin = this.truthSecondsOf(p) / 60;
    this.decide(
      p,
      p * this.names.length + code,
      row.detector,
      truthMin,
      row.score,
      row.estimatedMinutes,
      row.notified,
    );
  }

  /**
   * One matched exposure-window span [startS, endS) of ordered pair (index, receiver), in order,
   * after every decision on the pair.
   */
  window(index: number, receiver: number, startS: number, endS: number): void {
    this.scoringOpen();
    const p = this.detectionPair(index, receiver);
    // Spans serve only the report's timeline, which shows them for notified pairs among the
    // closest in truth: a day-long run has tens of millions, so only those that can be on it
    // are kept.
    if (p !== this.windowPair) {
      this.windowPair = p;
      this.detRows[p] |= SPANS_CAME;
      this.windowKept =
        this.notified(p) && this.spans.offer(p, pairKey(index, receiver), this.truthSecondsOf(p));
    }
    if (this.windowKept) this.spans.push(p, startS, endS);
  }

  bytes(): AccumulatorBytes {
    const closePairs = this.closePairs.bytes + this.closeAB.byteLength + this.closeBA.byteLength;
    const intervals = this.ivStart.byteLength + this.ivEnd.byteLength + this.ivPrev.byteLength;
    const orderedPairs = this.ordered.bytes;
    const detections =
      this.detOwner.byteLength +
      this.detRows.byteLength +
      this.detPositive.byteLength +
      this.cellFlags.byteLength;
    const windows = 16 * this.spans.spanCount;
    return {
      closePairs,
      intervals,
      orderedPairs,
      detections,
      windows,
      total: closePairs + intervals + orderedPairs + detections + windows,
      counts: {
        closePairs: this.closePairs.size,
        intervals: this.intervals,
        orderedPairs: this.ordered.size,
        detectionPairs: this.detCount,
        detectionRows: this.rows,
        windows: this.spans.spanCount,
      },
    };
  }

  /** End of run: the evaluation against the truth given to `scoreAgainst`, the truth pairs and the report. */
  finish(end: { meta: RunMeta; ceiling?: RunCeiling }): RunAccumulation {
    const truth = this.scoringOpen();
    this.finished = true;
    return new RunAccumulation(this.state(), end.meta, truth, end.ceiling);
  }

  private open(): void {
    if (this.finished) throw new Error("the run's accumulator is finished");
  }

  /** Close seconds and sightings come before scoring starts. */
  private event(): void {
    this.open();
    if (this.truth !== undefined)
      throw new Error("the run's close seconds and sightings come before its scoring");
  }

  /** Decisions and spans come after `scoreAgainst`; its truth. */
  private scoringOpen(): RunTruth {
    this.open();
    if (this.truth === undefined)
      throw new Error("decisions come after scoreAgainst(truth), which ends the run's events");
    return this.truth;
  }

  /** The detection pair of a decision, which must come before the pair's spans. */
  private decidedPair(index: number, receiver: number): number {
    this.scoringOpen();
    const p = this.detectionPair(index, receiver);
    const rows = this.detRows[p];
    if ((rows & SPANS_CAME) !== 0)
      throw new Error(`a decision on ${index}→${receiver} came after its window spans`);
    if (rows === 0) {
      this.detRows[p] = ROWS_CAME;
      const positive =
        this.isIndex[index] === 1 && this.truthSecondsOf(p) >= this.closeMinutes * 60 ? 1 : 0;
      this.detPositive[p] = positive;
      if (this.isIndex[index] === 1) {
        this.heardPairs++;
        this.heardPositives += positive;
      }
    }
    return p;
  }

  /** One detector's decision into its cell's flags and the tally (scored pairs only). */
  private decide(
    p: number,
    cell: number,
    name: string,
    truthMin: number,
    score: number,
    minutes: number,
    notified: boolean,
  ): void {
    if (this.cellFlags[cell] !== 0) {
      const o = this.detOwner[p] * ORDERED_STRIDE;
      const index = this.ordered.data[o + FIRST];
      const receiver = this.ordered.data[o + SECOND];
      throw new Error(`${name} decided on ${index}→${receiver} twice`);
    }
    this.cellFlags[cell] = PRESENT | (notified ? NOTIFIED : 0);
    this.rows++;
    const index = this.ordered.data[this.detOwner[p] * ORDERED_STRIDE + FIRST];
    if (this.isIndex[index] === 1)
      this.scoring.add(
        cell % this.names.length,
        this.detPositive[p] === 1,
        score,
        Math.abs(minutes - truthMin),
        notified,
      );
  }

  /** Whether some detector notified pair `p`. */
  private notified(p: number): boolean {
    const d = this.names.length;
    for (let c = p * d; c < (p + 1) * d; c++) if ((this.cellFlags[c] & NOTIFIED) !== 0) return true;
    return false;
  }

  /** The truth's close seconds of detection pair `p` (0 when it was never close). */
  private truthSecondsOf(p: number): number {
    const c = this.ordered.data[this.detOwner[p] * ORDERED_STRIDE + CLOSE_PAIR];
    if (c < 0) return 0;
    const data = this.closePairs.data;
    return this.truth!.closeSeconds(
      data[c * CLOSE_STRIDE + FIRST],
      data[c * CLOSE_STRIDE + SECOND],
    );
  }

  /** `closePair` without the check that the run is open. */
  private closeRecord(a: number, b: number): number {
    const id = this.closePairs.findOrAdd(a, b);
    if (this.closePairs.added) {
      if (id === this.closeAB.length) {
        this.closeAB = ensure(this.closeAB, id + 1);
        this.closeBA = ensure(this.closeBA, id + 1);
      }
      const ab = this.ordered.find(a, b);
      const ba = this.ordered.find(b, a);
      this.closeAB[id] = ab;
      this.closeBA[id] = ba;
      const o = this.ordered.data;
      if (ab >= 0) o[ab * ORDERED_STRIDE + CLOSE_PAIR] = id;
      if (ba >= 0) o[ba * ORDERED_STRIDE + CLOSE_PAIR] = id;
      const c = this.closePairs.data;
      const r = id * CLOSE_STRIDE;
      c[r + CLOSE_END] = NEVER;
      c[r + CLOSE_PREV] = -1;
      c[r + CLOSE_W] = NEVER;
    }
    return id;
  }

  private orderedPair(sender: number, receiver: number): number {
    const id = this.ordered.findOrAdd(sender, receiver);
    if (this.ordered.added) {
      const r = id * ORDERED_STRIDE;
      const o = this.ordered.data;
      o[r + HEARD_W] = NEVER;
      o[r + DETECTION] = -1;
      const c = this.closePairs.find(Math.min(sender, receiver), Math.max(sender, receiver));
      o[r + CLOSE_PAIR] = c;
      if (c >= 0) {
        if (sender < receiver) this.closeAB[c] = id;
        else this.closeBA[c] = id;
      }
    }
    return id;
  }

  private detectionPair(index: number, receiver: number): number {
    if (index === this.lastIndex && receiver === this.lastReceiver) return this.lastDetection;
    const o = this.orderedPair(index, receiver);
    const at = o * ORDERED_STRIDE + DETECTION;
    let p = this.ordered.data[at];
    if (p < 0) {
      p = this.detCount++;
      if (p === this.detOwner.length) {
        this.detOwner = ensure(this.detOwner, this.detCount);
        this.detRows = ensure(this.detRows, this.detCount);
        this.detPositive = ensure(this.detPositive, this.detCount);
      }
      if (this.detCount * this.names.length > this.cellFlags.length)
        this.cellFlags = ensure(this.cellFlags, this.detCount * this.names.length);
      this.detOwner[p] = o;
      this.ordered.data[at] = p;
    }
    this.lastIndex = index;
    this.lastReceiver = receiver;
    this.lastDetection = p;
    return p;
  }

  /** A new close window `w` of the pair covers (sender, receiver) if the receiver heard it then. */
  private coverIfHeard(o: number, w: number): void {
    if (o < 0) return;
    const data = this.ordered.data;
    const r = o * ORDERED_STRIDE;
    if (hasWindow(data[r + HEARD_W], data[r + HEARD_W + 1], w, "sighting()")) data[r + COVERED]++;
  }

  private state(): AccumulatorState {
    return {
      agents: this.agents,
      closeMinutes: this.closeMinutes,
      names: this.names,
      indexCases: this.indexCases,
      isIndex: this.isIndex,
      closePairs: this.closePairs,
      closeAB: this.closeAB,
      closeBA: this.closeBA,
      ivStart: this.ivStart,
      ivEnd: this.ivEnd,
      ivPrev: this.ivPrev,
      ordered: this.ordered,
      detOwner: this.detOwner,
      detRows: this.detRows,
      detPositive: this.detPositive,
      detCount: this.detCount,
      cellFlags: this.cellFlags,
      tally: this.scoring,
      heardPairs: this.heardPairs,
      heardPositives: this.heardPositives,
      spans: this.spans,
    };
  }
}

/** What the accumulator hands over at the end (its arrays, no copies). */
interface AccumulatorState {
  readonly agents: number;
  readonly closeMinutes: number;
  readonly names: readonly string[];
  readonly indexCases: readonly number[];
  readonly isIndex: Uint8Array;
  readonly closePairs: PairTable;
  readonly closeAB: Int32Array;
  readonly closeBA: Int32Array;
  readonly ivStart: Int32Array;
  readonly ivEnd: Int32Array;
  readonly ivPrev: Int32Array;
  readonly ordered: PairTable;
  readonly detOwner: Uint32Array;
  readonly detRows: Uint8Array;
  readonly detPositive: Uint8Array;
  readonly detCount: number;
  readonly cellFlags: Uint8Array;
  readonly tally: DecisionTally;
  readonly heardPairs: number;
  readonly heardPositives: number;
  readonly spans: TimelineSpans;
}

/**
 * A finished run: its evaluation (computed on first use), its truth pairs and its report. The
 * decisions were folded in as they came; the timeline lists a pair's detected spans in the order
 * `detectContacts` gives decisions (receiver, then index case, then detector as named).
 */
export class RunAccumulation {
  /** Close seconds of each close pair (by close-pair id), from the truth. */
  private readonly closeS: Float64Array;
  /** Close-pair ids in (a, b) order. */
  private readonly closeOrder: Uint32Array;
  private readonly closeThresholdS: number;
  private cached: RunEvaluation | undefined;

  constructor(
    private readonly s: AccumulatorState,
    private readonly meta: RunMeta,
    private readonly truth: RunTruth,
    private readonly ceiling: RunCeiling | undefined,
  ) {
    this.closeThresholdS = s.closeMinutes * 60;
    const pairs = s.closePairs;
    const c = pairs.data;
    this.closeS = new Float64Array(pairs.size);
    for (let id = 0; id < pairs.size; id++)
      this.closeS[id] = truth.closeSeconds(
        c[id * CLOSE_STRIDE + FIRST],
        c[id * CLOSE_STRIDE + SECOND],
      );
    this.closeOrder = pairs.sortedIds(FIRST);
  }

  /** The evaluation `evaluateRun` gives for the same run. */
  get evaluation(): RunEvaluation {
    this.cached ??= this.evaluate();
    return this.cached;
  }

  /** The truth's close pairs as `simulateRun` lists them: in (a, b) order, intervals in time order. */
  *truthPairs(): Iterable<TruthPair> {
    const c = this.s.closePairs.data;
    for (const id of this.closeOrder) {
      const a = c[id * CLOSE_STRIDE + FIRST];
      const b = c[id * CLOSE_STRIDE + SECOND];
      yield {
        a,
        b,
        closeS: this.closeS[id],
        minDistanceM: this.truth.minDistanceM(a, b) ?? 0,
        closeIntervals: this.intervalsOf(id),
      };
    }
  }

  /** The run's report section, as `reportRun` gives it. */
  report(rssiVsDistance: readonly RssiDistanceSample[], extras: ReportRunExtras = {}): ReportRun {
    return assembleReportRun(this.meta, this.evaluation, this.timeline(), rssiVsDistance, extras);
  }

  /**
   * The report's timeline: close contacts and pairs some detector notified, the
   * `MAX_TIMELINE_PAIRS` closest in truth, with their close intervals, then the windows of each
   * notifying decision on them.
   */
  timeline(): ReportRun["timeline"] {
    const s = this.s;
    const thr = this.closeThresholdS;
    const pairs = s.closePairs;
    const candKey: number[] = [];
    const candS: number[] = [];
    for (let id = 0; id < pairs.size; id++) {
      if (this.closeS[id] < thr) continue;
      const a = pairs.first(id);
      const b = pairs.second(id);
      if (s.isIndex[a]) {
        candKey.push(pairKey(a, b));
        candS.push(this.closeS[id]);
      }
      if (s.isIndex[b]) {
        candKey.push(pairKey(b, a));
        candS.push(this.closeS[id]);
      }
    }
    const d = s.names.length;
    const notified = (p: number) => {
      for (let c = p * d; c < (p + 1) * d; c++) if ((s.cellFlags[c] & NOTIFIED) !== 0) return true;
      return false;
    };
    for (let p = 0; p < s.detCount; p++) {
      if (s.detPositive[p] || !notified(p)) continue; // close contacts are in already
      const o = s.detOwner[p];
      const c = s.ordered.data[o * ORDERED_STRIDE + CLOSE_PAIR];
      candKey.push(pairKey(s.ordered.first(o), s.ordered.second(o)));
      candS.push(c < 0 ? 0 : this.closeS[c]);
    }
    const chosen = topCandidates(candKey, candS, MAX_TIMELINE_PAIRS);
    const label = (key: number) => `${Math.floor(key / PAIR_KEY_BASE)}→${key % PAIR_KEY_BASE}`;
    const timeline: ReportRun["timeline"] = [];
    // The chosen pairs with decisions, to list their spans by receiver, then index case.
    const detected: number[] = [];
    for (const key of chosen) {
      const index = Math.floor(key / PAIR_KEY_BASE);
      const receiver = key % PAIR_KEY_BASE;
      const c = this.closeId(index, receiver);
      if (c >= 0)
        for (const [startS, endS] of this.intervalsOf(c))
          timeline.push({ pair: label(key), startS, endS, kind: "truth-close" });
      const o = s.ordered.find(index, receiver);
      const p = o < 0 ? -1 : s.ordered.data[o * ORDERED_STRIDE + DETECTION];
      if (p >= 0 && notified(p)) detected.push(key);
    }
    detected.sort((x, y) => (x % PAIR_KEY_BASE) - (y % PAIR_KEY_BASE) || x - y);
    for (const key of detected) {
      const o = s.ordered.find(Math.floor(key / PAIR_KEY_BASE), key % PAIR_KEY_BASE);
      const p = s.ordered.data[o * ORDERED_STRIDE + DETECTION];
      const list = s.spans.spansOf(p);
      if (list === undefined) {
        // Only a pair without spans can be missing: one with spans ranked among the kept.
        if ((s.detRows[p] & SPANS_CAME) !== 0)
          throw new Error(`the timeline lost the spans of ${label(key)}`);
        continue;
      }
      for (let code = 0; code < d; code++) {
        if ((s.cellFlags[p * d + code] & NOTIFIED) === 0) continue;
        for (let k = 0; k < list.length; k += 2)
          timeline.push({
            pair: label(key),
            startS: list[k],
            endS: list[k + 1],
            kind: "detected",
            detector: s.names[code],
          });
      }
    }
    return timeline;
  }

  /** A detector's cell column: its first position among the names. */
  private codeOf(name: string): number {
    return this.s.names.indexOf(name);
  }

  private closeId(x: number, y: number): number {
    return x < y ? this.s.closePairs.find(x, y) : this.s.closePairs.find(y, x);
  }

  private intervalsOf(id: number): [number, number][] {
    const s = this.s;
    const c = s.closePairs.data;
    const r = id * CLOSE_STRIDE;
    if (c[r + CLOSE_END] === NEVER) return [];
    const out: [number, number][] = [[c[r + CLOSE_START], c[r + CLOSE_END]]];
    for (let k = c[r + CLOSE_PREV]; k >= 0; k = s.ivPrev[k]) out.push([s.ivStart[k], s.ivEnd[k]]);
    return out.reverse();
  }

  private evaluate(): RunEvaluation {
    const s = this.s;
    const thr = this.closeThresholdS;
    const pairs = s.closePairs;
    const heard = s.ordered.data;
    const d = s.names.length;
    // Close contacts among the scored ordered pairs; link coverage of every close pair.
    let positives = 0;
    let linkPairs = 0;
    let detected = 0;
    let windows = 0;
    let covered = 0;
    for (let id = 0; id < pairs.size; id++) {
      if (this.closeS[id] < thr) continue;
      const a = pairs.first(id);
      const b = pairs.second(id);
      positives += s.isIndex[a] + s.isIndex[b];
      linkPairs += 2;
      windows += 2 * pairs.data[id * CLOSE_STRIDE + CLOSE_WINDOWS];
      for (const o of [s.closeAB[id], s.closeBA[id]]) {
        if (o < 0 || heard[o * ORDERED_STRIDE + HEARD_W] === NEVER) continue;
        detected++;
        covered += heard[o * ORDERED_STRIDE + COVERED];
      }
    }
    const detection = linkPairs === 0 ? 0 : round(detected / linkPairs);
    const continuity = windows === 0 ? 0 : round(covered / windows);

    // The decisions were tallied as they came (by cell column). Pairs close at some time that a
    // detector never scored: it counted 0 minutes.
    const tally = s.tally;
    const columns = Int32Array.from(s.names, (name) => this.codeOf(name)).filter(
      (code, k) => code === k,
    );
    for (const id of this.closeOrder) {
      const closeMin = this.closeS[id] / 60;
      for (let way = 0; way < 2; way++) {
        if (!s.isIndex[way === 0 ? pairs.first(id) : pairs.second(id)]) continue;
        const o = way === 0 ? s.closeAB[id] : s.closeBA[id];
        const block = o < 0 ? -1 : heard[o * ORDERED_STRIDE + DETECTION];
        for (const code of columns) {
          if (block >= 0 && (s.cellFlags[block * d + code] & PRESENT) !== 0) continue;
          tally.addError(code, closeMin);
        }
      }
    }
    const detectors: DetectorEvaluation[] = [];
    const prCurves: RunEvaluation["prCurves"] = [];
    for (const name of s.names) {
      const code = this.codeOf(name);
      const tp = tally.tp[code];
      const fp = tally.fp[code];
      const fn = positives - tp;
      const m = precisionRecallF1(tp, fp, fn);
      const errorPairs = tally.errorPairs[code];
      detectors.push({
        name,
        precision: round(m.precision),
        recall: round(m.recall),
        f1: round(m.f1),
        truePositives: tp,
        falsePositives: fp,
        falseNegatives: fn,
        durationErrorMin: round(errorPairs === 0 ? 0 : tally.errorSum[code].value / errorPairs, 2),
        detection,
        continuity,
      });
      prCurves.push({
        detector: name,
        points: prCurveOfCounts(tally.positiveScores[code], tally.negativeScores[code], positives),
      });
    }
    const refs = this.referenceRows(positives);
    return {
      run: this.meta,
      pairs: s.indexCases.length * (s.agents - 1),
      closeContacts: positives,
      detection,
      continuity,
      detectors,
      prCurves,
      references: refs.references,
      referencePrCurves: refs.curves,
      ...(refs.note === undefined ? {} : { referencesNote: refs.note }),
    };
  }

  private referenceRows(positives: number): {
    references: ReferenceEvaluation[];
    curves: RunEvaluation["referencePrCurves"];
    note?: string;
  } {
    const s = this.s;
    const row = (
      name: ReferenceEvaluation["name"],
      tp: number,
      fp: number,
      thresholdDbm: number | null,
    ): ReferenceEvaluation => {
      const fn = positives - tp;
      const m = precisionRecallF1(tp, fp, fn);
      return {
        name,
        precision: round(m.precision),
        recall: round(m.recall),
        f1: round(m.f1),
        truePositives: tp,
        falsePositives: fp,
        falseNegatives: fn,
        thresholdDbm,
      };
    };
    // Heard: every ordered pair with a detection row (its receiver matched one of the index
    // case's IDs), whatever the detector.
    const references = [row("heard", s.heardPositives, s.heardPairs - s.heardPositives, null)];
    const note = ceilingNote(this.ceiling);
    const ceiling = this.ceiling;
    if (ceiling === undefined || "skipped" in ceiling) return { references, curves: [], note };
    const thr = this.closeThresholdS;
    const positive = (index: number, receiver: number) => {
      if (!s.isIndex[index]) return false;
      const c = this.closeId(index, receiver);
      return c >= 0 && this.closeS[c] >= thr;
    };
    const curves: RunEvaluation["referencePrCurves"] = [];
    const sweepRow = (
      name: ReferenceEvaluation["name"],
      scores: readonly { index: number; receiver: number; score: number }[],
    ) => {
      const sweep = sweepThreshold(
        scores
          .filter((x) => s.isIndex[x.index])
          .map((x) => ({ score: x.score, positive: positive(x.index, x.receiver) })),
        positives,
      );
      references.push(row(name, sweep.truePositives, sweep.falsePositives, sweep.threshold));
      const points = sweep.curve.map((p) => ({
        threshold: round(p.threshold, 3),
        precision: round(p.precision),
        recall: round(p.recall),
      }));
      curves.push({ reference: name, points });
    };
    sweepRow("ceiling", ceiling.scores);
    if (ceiling.scans === undefined)
      return {
        references,
        curves,
        note: "ceiling-scans absent: the run's ceiling.jsonl predates it (simulate the run again)",
      };
    sweepRow("ceiling-scans", ceiling.scans.scores);
    return { references, curves };
  }
}

/**
 * The `limit` first keys by (closeS descending, key ascending), in that order: every key above
 * the limit-th largest closeS, then the ties at it by key.
 */
function topCandidates(
  keys: readonly number[],
  closeS: readonly number[],
  limit: number,
): number[] {
  if (keys.length > limit) {
    const sorted = Float64Array.from(closeS).sort();
    const cut = sorted[sorted.length - limit];
    const above: number[] = [];
    let tied = 0;
    for (let k = 0; k < keys.length; k++) {
      if (closeS[k] > cut) above.push(k);
      else if (closeS[k] === cut) tied++;
    }
    // Keys are whole numbers below 2^53: a typed sort orders them exactly.
    const ties = new Float64Array(tied);
    tied = 0;
    for (let k = 0; k < keys.length; k++) if (closeS[k] === cut) ties[tied++] = keys[k];
    ties.sort();
    const order = above.sort((x, y) => closeS[y] - closeS[x] || keys[x] - keys[y]);
    return [...order.map((k) => keys[k]), ...ties.subarray(0, limit - order.length)];
  }
  return keys
    .map((_, k) => k)
    .sort((x, y) => closeS[y] - closeS[x] || keys[x] - keys[y])
    .map((k) => keys[k]);
}

/** The note printed when a run has no ceiling row. */
export function ceilingNote(ceiling: RunCeiling | undefined): string | undefined {
  if (ceiling === undefined)
    return "ceiling absent: the run folder has no ceiling.jsonl (written by proxkit simulate)";
  if ("skipped" in ceiling) return `ceiling not computed: ${ceiling.skipped}`;
  return undefined;
}

/**
 * Precision and recall of "score >= threshold" for thresholds over the scores seen (pairs never
 * scored have score 0 and are never predicted), at most `MAX_CURVE_POINTS` of them by quantile.
 */
export function prCurve(
  scores: readonly { score: number; positive: boolean }[],
  positives: number,
): PrPoint[] {
  const pos: ScoreCounts = new Map();
  const neg: ScoreCounts = new Map();
  for (const s of scores) countScore(s.positive ? pos : neg, s.score);
  return prCurveOfCounts(pos, neg, positives);
}

/** A count's distinct scores, ascending. */
function sortedScores(counts: ScoreCounts): Float64Array {
  return Float64Array.from(counts.keys()).sort();
}

/** `prCurve` over how many positive and negative pairs got each score above 0. */
function prCurveOfCounts(
  positiveScores: ScoreCounts,
  negativeScores: ScoreCounts,
  positives: number,
): PrPoint[] {
  const pos = sortedScores(positiveScores);
  const neg = sortedScores(negativeScores);
  // Distinct scores, highest first.
  const distinct = new Float64Array(pos.length + neg.length);
  let count = 0;
  for (let i = pos.length - 1, j = neg.length - 1; i >= 0 || j >= 0; ) {
    const v = j < 0 || (i >= 0 && pos[i] >= neg[j]) ? pos[i--] : neg[j--];
    if (count === 0 || distinct[count - 1] !== v) distinct[count++] = v;
  }
  const step = Math.max(1, Math.ceil(count / MAX_CURVE_POINTS));
  const points: PrPoint[] = [];
  let i = pos.length - 1;
  let j = neg.length - 1;
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < count; k++) {
    if (k % step !== 0 && k !== count - 1) continue;
    const threshold = distinct[k];
    for (; i >= 0 && pos[i] >= threshold; i--) tp += positiveScores.get(pos[i])!;
    for (; j >= 0 && neg[j] >= threshold; j--) fp += negativeScores.get(neg[j])!;
    const m = precisionRecallF1(tp, fp, positives - tp);
    points.push({
      threshold: round(threshold, 3),
      precision: round(m.precision),
      recall: round(m.recall),
    });
  }
  return points;
}

/** A run's report section from its meta, evaluation and timeline. */
export function assembleReportRun(
  meta: RunMeta,
  evaluation: RunEvaluation,
  timeline: ReportRun["timeline"],
  rssiVsDistance: readonly RssiDistanceSample[],
  extras: ReportRunExtras = {},
): ReportRun {
  const measured = extras.measured;
  return {
    scenario: meta.scenario,
    protocol: meta.protocol,
    agents: meta.agents,
    durationS: meta.durationS,
    seed: meta.seed,
    detectors: evaluation.detectors.map((d) => ({
      name: d.name,
      precision: d.precision,
      recall: d.recall,
      f1: d.f1,
      durationErrorMin: d.durationErrorMin,
      detection: d.detection,
      continuity: d.continuity,
    })),
    prCurves: evaluation.prCurves.map((c) => ({ detector: c.detector, points: [...c.points] })),
    references: evaluation.references.map((r) => ({
      name: r.name,
      precision: r.precision,
      recall: r.recall,
      f1: r.f1,
      thresholdDbm: r.thresholdDbm,
      ...(r.name === "ceiling"
        ? {
            points:
              evaluation.referencePrCurves.find((c) => c.reference === "ceiling")?.points ?? [],
          }
        : {}),
    })),
    ...(extras.channel === undefined ? {} : { channel: extras.channel }),
    rssiVsDistance: {
      simulated: rssiVsDistance.map((p) => ({ distanceM: p.distanceM, rssiDbm: p.rssiDbm })),
      ...(measured === undefined
        ? {}
        : "missing" in measured
          ? { measured: { missing: measured.missing } }
          : {
              real: measured.points.map((p) => ({ ...p })),
              measured: { source: measured.source },
            }),
    },
    timeline,
  };
}

/** Indices 0..n−1 ordered by `windowOf`, stable (a counting sort when the windows are few). */
function orderByWindow(windowOf: Int32Array | number[], n: number): Uint32Array {
  const out = new Uint32Array(n);
  if (n === 0) return out;
  let lo = windowOf[0];
  let hi = windowOf[0];
  for (let k = 1; k < n; k++) {
    lo = Math.min(lo, windowOf[k]);
    hi = Math.max(hi, windowOf[k]);
  }
  if (hi - lo > n + 1_000_000) {
    for (let k = 0; k < n; k++) out[k] = k;
    return out.sort((x, y) => windowOf[x] - windowOf[y] || x - y);
  }
  const starts = new Uint32Array(hi - lo + 2);
  for (let k = 0; k < n; k++) starts[windowOf[k] - lo + 1]++;
  for (let w = 1; w < starts.length; w++) starts[w] += starts[w - 1];
  for (let k = 0; k < n; k++) out[starts[windowOf[k] - lo]++] = k;
  return out;
}

/**
 * A whole run fed to an accumulator as the streaming pipeline would: the truth's close seconds
 * and the sightings (their senders found through every agent's IDs) window by window, then the
 * detections and each pair's windows once. `detectorNames` are the detectors evaluated; others
 * in `detections` count for the `heard` reference only.
 */
export function accumulateRunData(
  data: RunData,
  detections: readonly PairDetection[],
  detectorNames: readonly string[],
  options: { sightings?: boolean } = {},
): RunAccumulation {
  const acc = new RunAccumulator({
    agents: data.truth.agents.length,
    startMs: data.meta.startMs,
    closeMinutes: data.meta.closeMinutes,
    detectorNames,
    indexCases: data.indexCases,
  });
  // Close seconds as spans cut at window edges, and sightings, merged by 30-s window.
  const spanWindow: number[] = [];
  const spanPair: number[] = [];
  const spanFrom: number[] = [];
  const spanTo: number[] = [];
  data.truth.pairs.forEach((p, k) => {
    if (p.closeIntervals.length === 0) acc.closePair(Math.min(p.a, p.b), Math.max(p.a, p.b));
    for (const [from, to] of p.closeIntervals) {
      for (let w = Math.floor(from / CONTINUITY_WINDOW_S); w * CONTINUITY_WINDOW_S < to; w++) {
        spanWindow.push(w);
        spanPair.push(k);
        spanFrom.push(Math.max(from, w * CONTINUITY_WINDOW_S));
        spanTo.push(Math.min(to, (w + 1) * CONTINUITY_WINDOW_S));
      }
    }
  });
  const sightWindow: number[] = [];
  const sightReceiver: number[] = [];
  const sightSender: number[] = [];
  const sightAt: number[] = [];
  if (options.sightings !== false) {
    const sender = senderOfId(data.truth.agents);
    const startS = data.meta.startMs / 1000;
    data.sightings.forEach((list, receiver) => {
      for (const s of list) {
        const from = sender.get(toHex(s.id));
        if (from === undefined) continue;
        sightWindow.push(Math.floor((s.atMs / 1000 - startS) / CONTINUITY_WINDOW_S));
        sightReceiver.push(receiver);
        sightSender.push(from);
        sightAt.push(s.atMs);
      }
    });
  }
  const spans = orderByWindow(spanWindow, spanWindow.length);
  const sights = orderByWindow(sightWindow, sightWindow.length);
  for (let i = 0, j = 0; i < spans.length || j < sights.length; ) {
    if (
      j >= sights.length ||
      (i < spans.length && spanWindow[spans[i]] <= sightWindow[sights[j]])
    ) {
      const k = spans[i++];
      const p = data.truth.pairs[spanPair[k]];
      acc.closeSpan(p.a, p.b, spanFrom[k], spanTo[k]);
    } else {
      const k = sights[j++];
      acc.sighting(sightReceiver[k], sightSender[k], sightAt[k]);
    }
  }
  // Every decision, then each pair's spans once, as the streaming pipeline sends them.
  const truthOf = new Map<number, TruthPair>();
  for (const p of data.truth.pairs) truthOf.set(pairKey(Math.min(p.a, p.b), Math.max(p.a, p.b)), p);
  acc.scoreAgainst({
    closeSeconds: (a, b) => truthOf.get(pairKey(Math.min(a, b), Math.max(a, b)))?.closeS ?? 0,
    minDistanceM: (a, b) => truthOf.get(pairKey(Math.min(a, b), Math.max(a, b)))?.minDistanceM,
  });
  for (const d of detections) acc.detection(d);
  const withWindows = new Set<number>();
  for (const d of detections) {
    const key = pairKey(d.index, d.receiver);
    if (withWindows.has(key)) continue;
    withWindows.add(key);
    for (const [startS, endS] of d.windows) acc.window(d.index, d.receiver, startS, endS);
  }
  return acc.finish({ meta: data.meta, ceiling: data.ceiling });
}

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
import { FIRST, hashPair, PairTable, SECOND } from "../../src/core/pair-table.js";
import { withCapacity } from "../../src/core/typed-arrays.js";
import type { DetectionRow, PairDetection } from "../pipeline/detect-contacts.js";
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
import type { PairDecisions } from "../pipeline/stream-detect.js";
import type { ReportRun } from "../report/report-input.js";
import { sweepThreshold } from "./ceiling.js";
import type {
  DetectorEvaluation,
  PrPoint,
  ReferenceEvaluation,
  RunEvaluation,
} from "./evaluate-run.js";
import { PartitionedRows } from "./partitioned-rows.js";
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
  /** Rows of pairs no longer met held in memory before they go to files (default 4 MB). */
  readonly rowsInMemoryBytes?: number;
  /**
   * Records (close and ordered pairs) the tables hold, beyond twice what the last sweep
   * left, before pairs idle since long leave them (default 65,536; 0: every 10 minutes, for tests).
   */
  readonly sweepMinRecords?: number;
}

/** Bytes held by the accumulator's typed arrays, by structure (capacity, not use). */
export interface AccumulatorBytes {
  readonly closePairs: number;
  readonly intervals: number;
  readonly orderedPairs: number;
  /** The rows of pairs no longer met, held in memory until they go to files. */
  readonly rows: number;
  readonly windows: number;
  readonly total: number;
  readonly counts: {
    /** Close pairs, close intervals and heard ordered pairs of the run (a pair met again counts again). */
    closePairs: number;
    intervals: number;
    orderedPairs: number;
    /** Of them, those in the tables now (met lately). */
    liveClosePairs: number;
    liveOrderedPairs: number;
    detectionPairs: number;
    detectionRows: number;
    windows: number;
  };
}

const ensure = withCapacity;

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
 * An ordered pair's record (sender, receiver), made when the receiver first hears the sender: its
 * heard windows' history (`HEARD_W`, mask after it), covered close windows and close pair (or −1).
 */
const HEARD_W = 2;
const COVERED = 4;
const CLOSE_PAIR = 5;
const ORDERED_STRIDE = 6;

/**
 * Pairs not met for `IDLE_WINDOWS` windows (20 minutes, more than the `HISTORY_WINDOWS` one
 * stream may run ahead of the other) leave the tables for `PartitionedRows`, checked every
 * `SWEEP_WINDOWS` (10 minutes): when such a pair meets again, no window of its old history can
 * be looked up, so a new record counts exactly what the old one would have.
 */
const IDLE_WINDOWS = 40;
const SWEEP_WINDOWS = 20;
/** Records (close and ordered pairs) the tables hold before a sweep is worth its cost. */
const SWEEP_MIN_RECORDS = 1 << 16;

/** A close pair's row: [`ROW_CLOSE`, a, b, close windows, n, n (start, end) intervals …]. */
const ROW_CLOSE = 1;
/** An ordered pair's row: [`ROW_HEARD`, sender, receiver, covered close windows]. */
const ROW_HEARD = 2;

/** Whole thousandths below this (scores below 131.072) are counted in an array (512 kB at most), the rest in a map. */
const DENSE_THOUSANDTHS = 1 << 17;

/**
 * How many scored pairs got each score above 0 (a precision-recall curve needs no more): scores
 * the detectors round to whole thousandths are counted in an array indexed by thousandths, grown
 * to the largest seen; any other score in a map.
 */
class ScoreCounts {
  private dense = new Int32Array(1024);
  private readonly sparse = new Map<number, number>();

  add(score: number): void {
    if (!(score > 0)) return;
    const k = Math.round(score * 1000);
    if (k / 1000 === score && k < DENSE_THOUSANDTHS) {
      if (k >= this.dense.length) {
        let size = this.dense.length * 2;
        while (size <= k) size *= 2;
        const grown = new Int32Array(size);
        grown.set(this.dense);
        this.dense = grown;
      }
      this.dense[k]++;
    } else this.sparse.set(score, (this.sparse.get(score) ?? 0) + 1);
  }

  /** The distinct scores ascending and how many pairs got each. */
  sorted(): { values: Float64Array; counts: Float64Array } {
    let n = this.sparse.size;
    for (let k = 0; k < this.dense.length; k++) if (this.dense[k] > 0) n++;
    const sparse = Float64Array.from(this.sparse.keys()).sort();
    const values = new Float64Array(n);
    const counts = new Float64Array(n);
    let i = 0;
    let j = 0;
    for (let k = 0; k < this.dense.length || j < sparse.length; ) {
      while (k < this.dense.length && this.dense[k] === 0) k++;
      const dense = k < this.dense.length ? k / 1000 : Number.POSITIVE_INFINITY;
      if (j < sparse.length && sparse[j] < dense) {
        values[i] = sparse[j];
        counts[i++] = this.sparse.get(sparse[j++])!;
      } else if (k < this.dense.length) {
        values[i] = dense;
        counts[i++] = this.dense[k++];
      }
    }
    return { values, counts };
  }
}

/** Whether (closeS, key) ranks before (closeS2, key2) on the timeline: closer in truth first. */
function ranksBefore(closeS: number, key: number, closeS2: number, key2: number): boolean {
  return closeS > closeS2 || (closeS === closeS2 && key < key2);
}

/**
 * Each detector's decisions on scored pairs, folded as they come: notifications that were and
 * were not close contacts, the duration error's sum (exact, so the order terms come in does not
 * matter) and its terms, and how many positive and negative pairs got each score.
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
    this.positiveScores = Array.from({ length: columns }, () => new ScoreCounts());
    this.negativeScores = Array.from({ length: columns }, () => new ScoreCounts());
  }

  add(column: number, positive: boolean, score: number, errorMin: number, notified: boolean): void {
    if (notified) {
      if (positive) this.tp[column]++;
      else this.fp[column]++;
    }
    this.addError(column, errorMin);
    (positive ? this.positiveScores[column] : this.negativeScores[column]).add(score);
  }

  /** A duration-error term (`pairs` −1 takes one back). */
  addError(column: number, errorMin: number, pairs = 1): void {
    this.errorSum[column].add(errorMin);
    this.errorPairs[column] += pairs;
  }
}

/**
 * The `MAX_TIMELINE_PAIRS` first pairs offered, by the timeline's order (close seconds in truth
 * descending, then pair key), each with a list of numbers (spans or intervals) and an extra. A pair
 * pushed out by better ones never comes back, so what is kept is exactly what the timeline can
 * show, in memory that does not grow with the run.
 */
class TopPairs<T> {
  private readonly slotOf = new Map<number, number>();
  readonly keys: number[] = [];
  readonly closeS: number[] = [];
  readonly lists: number[][] = [];
  readonly extras: T[] = [];
  /** The slot that ranks last, once full. */
  private worst = -1;

  /** Takes pair `key` (with `extra`) if it ranks among the first; its slot, or −1. */
  offer(key: number, closeS: number, extra: T): number {
    const known = this.slotOf.get(key);
    if (known !== undefined) return known;
    let slot = this.keys.length;
    if (slot < MAX_TIMELINE_PAIRS) {
      this.keys.push(key);
      this.closeS.push(closeS);
      this.lists.push([]);
      this.extras.push(extra);
    } else {
      slot = this.worst;
      if (!ranksBefore(closeS, key, this.closeS[slot], this.keys[slot])) return -1;
      this.slotOf.delete(this.keys[slot]);
      this.keys[slot] = key;
      this.closeS[slot] = closeS;
      this.lists[slot] = [];
      this.extras[slot] = extra;
    }
    this.slotOf.set(key, slot);
    if (this.keys.length === MAX_TIMELINE_PAIRS) this.findWorst();
    return slot;
  }

  slot(key: number): number {
    return this.slotOf.get(key) ?? -1;
  }

  /** Numbers kept in the lists. */
  get numbers(): number {
    let n = 0;
    for (const list of this.lists) n += list.length;
    return n;
  }

  private findWorst(): void {
    let w = 0;
    for (let k = 1; k < this.keys.length; k++)
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

/** A notified pair on the timeline's short list: whether it is a close contact, who notified. */
interface NotifiedPair {
  readonly positive: boolean;
  readonly codes: readonly number[];
}

/** Cell flags of a pair's pending decisions: the row exists, it notified. */
const PRESENT = 1;
const NOTIFIED = 2;

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

  // Unordered pairs {a, b}, a < b, within the close distance lately (records of `CLOSE_STRIDE`).
  private closePairs = new PairTable(CLOSE_STRIDE);
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
  /** Close pairs, ordered pairs and close intervals in all, counted as they start. */
  private closePairCount = 0;
  private orderedCount = 0;
  private intervals = 0;

  // Ordered pairs (sender, receiver) heard lately (records of `ORDERED_STRIDE`).
  private ordered = new PairTable(ORDERED_STRIDE);

  /** Pairs no longer met: rows by the pair's lower agent. */
  private readonly rows: PartitionedRows;
  /** The latest window of each stream (close seconds, sightings), and the next sweep's. */
  private closeClock = NEVER;
  private heardClock = NEVER;
  /** No pair can be idle long enough before `IDLE_WINDOWS`: the first sweep comes after. */
  private nextSweep = IDLE_WINDOWS + SWEEP_WINDOWS;
  /** Records left in the tables by the last sweep, and the least worth a sweep. */
  private keptAtSweep = 0;
  private readonly sweepMinRecords: number;

  // The decisions, folded into the evaluation pair by pair as they come, by receiver then index
  // case: nothing is kept per pair.
  private truth: RunTruth | undefined;
  private readonly tally: DecisionTally;
  /** The pair whose decisions are coming (index, receiver; −1: none) and its cells by column. */
  private pendingIndex = -1;
  private pendingReceiver = -1;
  private readonly pendingFlags: Uint8Array;
  private readonly pendingScore: Float64Array;
  private readonly pendingMinutes: Float64Array;
  /** The key (receiver, then index) of the last pair decided, for the order check. */
  private lastDecided = -1;
  private decisionRows = 0;
  private decidedPairs = 0;
  /** Scored pairs with a row, and how many of them are close contacts (the `heard` reference). */
  private heardPairs = 0;
  private heardPositives = 0;
  /** Notified pairs that may be on the timeline, with their spans and notifying columns. */
  private readonly notifiedPairs = new TopPairs<NotifiedPair>();
  /** The pair whose spans are coming, and its slot among `notifiedPairs` (−1: not kept). */
  private windowKey = -1;
  private windowSlot = -1;

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
    this.tally = new DecisionTally(this.names.length);
    this.pendingFlags = new Uint8Array(this.names.length);
    this.pendingScore = new Float64Array(this.names.length);
    this.pendingMinutes = new Float64Array(this.names.length);
    this.rows = new PartitionedRows(init.agents, init.rowsInMemoryBytes);
    this.sweepMinRecords = init.sweepMinRecords ?? SWEEP_MIN_RECORDS;
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
    if (toS > fromS) {
      const w = Math.floor((toS - 1) / CONTINUITY_WINDOW_S);
      if (w > this.closeClock) {
        this.closeClock = w;
        this.tick();
      }
    }
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
  closePair(a: number, b: number): void {
    this.event();
    this.closeRecord(a, b);
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
    if (w > this.heardClock) {
      this.heardClock = w;
      this.tick();
    }
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
   * they come.
   */
  scoreAgainst(truth: RunTruth): void {
    this.open();
    if (this.truth !== undefined) throw new Error("the run's accumulator is already scoring");
    this.truth = truth;
    // Every pair to the rows: the sweep leaves empty tables, and their memory goes back.
    this.sweep(Number.POSITIVE_INFINITY);
  }

  /**
   * Every detector's decision on ordered pair (index, receiver) at once, position j for the j-th
   * detector named at construction: as `detection` once per detector, in that order. Pairs come
   * by receiver, then index case (as `detectContacts` lists them), each pair's decisions before
   * its window spans.
   */
  decisions(index: number, receiver: number, d: PairDecisions): void {
    this.startPair(index, receiver);
    for (let j = 0; j < this.names.length; j++)
      this.setCell(this.codes[j], this.names[j], d.score[j], d.minutes[j], d.notified[j] === 1);
  }

  /**
   * One detector's decision on one ordered pair, at most once per (detector, index, receiver):
   * a pair's rows together, pairs by receiver then index case. A detector not named at
   * construction only counts for the `heard` reference.
   */
  detection(row: DetectionRow): void {
    this.startPair(row.index, row.receiver);
    const code = this.codeOf.get(row.detector);
    if (code !== undefined)
      this.setCell(code, row.detector, row.score, row.estimatedMinutes, row.notified);
  }

  /**
   * One matched exposure-window span [startS, endS) of ordered pair (index, receiver), in order,
   * after the pair's decisions. Spans serve only the report's timeline, which shows them for the
   * notified pairs closest in truth: a day-long run has tens of millions, so only those that can
   * be on it are kept.
   */
  window(index: number, receiver: number, startS: number, endS: number): void {
    this.scoringOpen();
    this.flushPending();
    const key = pairKey(index, receiver);
    if (key !== this.windowKey) {
      this.windowKey = key;
      this.windowSlot = this.notifiedPairs.slot(key);
    }
    if (this.windowSlot >= 0) this.notifiedPairs.lists[this.windowSlot].push(startS, endS);
  }

  bytes(): AccumulatorBytes {
    const closePairs = this.closePairs.bytes + this.closeAB.byteLength + this.closeBA.byteLength;
    const intervals = this.ivStart.byteLength + this.ivEnd.byteLength + this.ivPrev.byteLength;
    const orderedPairs = this.ordered.bytes;
    const spanNumbers = this.notifiedPairs.numbers;
    return {
      closePairs,
      intervals,
      orderedPairs,
      rows: this.rows.bytes,
      windows: 8 * spanNumbers,
      total: closePairs + intervals + orderedPairs + this.rows.bytes + 8 * spanNumbers,
      counts: {
        closePairs: this.closePairCount,
        intervals: this.intervals,
        orderedPairs: this.orderedCount,
        liveClosePairs: this.closePairs.size,
        liveOrderedPairs: this.ordered.size,
        detectionPairs: this.decidedPairs,
        detectionRows: this.decisionRows,
        windows: spanNumbers / 2,
      },
    };
  }

  /** End of run: the evaluation against the truth given to `scoreAgainst`, the truth pairs and the report. */
  finish(end: { meta: RunMeta; ceiling?: RunCeiling }): RunAccumulation {
    const truth = this.scoringOpen();
    this.flushPending();
    this.finished = true;
    return new RunAccumulation(
      {
        agents: this.agents,
        closeMinutes: this.closeMinutes,
        names: this.names,
        indexCases: this.indexCases,
        isIndex: this.isIndex,
        rows: this.rows,
        tally: this.tally,
        heardPairs: this.heardPairs,
        heardPositives: this.heardPositives,
        notifiedPairs: this.notifiedPairs,
      },
      end.meta,
      truth,
      end.ceiling,
    );
  }

  /** Removes the rows' files (when the run is abandoned before `finish`). */
  discard(): void {
    this.rows.close();
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

  /**
   * Both streams have moved on: every `SWEEP_WINDOWS`, once the tables have doubled since
   * the last sweep (so that sweeping costs a constant per record, like growing a table), pairs
   * idle since long go to the rows.
   */
  private tick(): void {
    const now = Math.min(this.closeClock, this.heardClock);
    if (now === NEVER || now < this.nextSweep) return;
    const records = this.closePairs.size + this.ordered.size;
    if (this.sweepMinRecords > 0 && records < this.sweepMinRecords + 2 * this.keptAtSweep) return;
    this.nextSweep = now + SWEEP_WINDOWS;
    this.sweep(now - IDLE_WINDOWS);
    this.keptAtSweep = this.closePairs.size + this.ordered.size;
  }

  /**
   * Writes every pair whose last close and heard windows are before `cutoff` to the rows and
   * rebuilds the tables over the others (a close pair leaves with its two ordered pairs).
   */
  private sweep(cutoff: number): void {
    const close = this.closePairs;
    const ordered = this.ordered;
    const c = close.data;
    const o = ordered.data;
    const idle = (w: number) => w === NEVER || w < cutoff;
    const closeGone = new Uint8Array(close.size);
    for (let id = 0; id < close.size; id++) {
      const ab = this.closeAB[id];
      const ba = this.closeBA[id];
      closeGone[id] =
        idle(c[id * CLOSE_STRIDE + CLOSE_W]) &&
        (ab < 0 || idle(o[ab * ORDERED_STRIDE + HEARD_W])) &&
        (ba < 0 || idle(o[ba * ORDERED_STRIDE + HEARD_W]))
          ? 1
          : 0;
    }
    const orderedGone = new Uint8Array(ordered.size);
    for (let id = 0; id < ordered.size; id++) {
      const link = o[id * ORDERED_STRIDE + CLOSE_PAIR];
      orderedGone[id] = (link >= 0 ? closeGone[link] === 1 : idle(o[id * ORDERED_STRIDE + HEARD_W]))
        ? 1
        : 0;
    }
    // The leaving pairs' rows.
    const intervals: number[] = [];
    for (let id = 0; id < close.size; id++) {
      if (!closeGone[id]) continue;
      const r = id * CLOSE_STRIDE;
      const a = c[r + FIRST];
      intervals.length = 0;
      this.intervalsOf(c, id, intervals);
      const { buffer, at } = this.rows.row(a, 5 + intervals.length);
      buffer[at] = ROW_CLOSE;
      buffer[at + 1] = a;
      buffer[at + 2] = c[r + SECOND];
      buffer[at + 3] = c[r + CLOSE_WINDOWS];
      buffer[at + 4] = intervals.length / 2;
      for (let k = 0; k < intervals.length; k++) buffer[at + 5 + k] = intervals[k];
      this.rows.settle();
    }
    for (let id = 0; id < ordered.size; id++) {
      if (!orderedGone[id]) continue;
      const r = id * ORDERED_STRIDE;
      const sender = o[r + FIRST];
      const receiver = o[r + SECOND];
      const { buffer, at } = this.rows.row(Math.min(sender, receiver), 4);
      buffer[at] = ROW_HEARD;
      buffer[at + 1] = sender;
      buffer[at + 2] = receiver;
      buffer[at + 3] = o[r + COVERED];
      this.rows.settle();
    }
    // The staying pairs in new tables (same order), links and intervals carried over.
    const keptClose = new PairTable(CLOSE_STRIDE);
    const closeId = new Int32Array(close.size).fill(-1);
    // Sized for the staying pairs' intervals, grown as in `closeSpan`.
    let ivStart = new Int32Array(16);
    let ivEnd = new Int32Array(16);
    let ivPrev = new Int32Array(16);
    let arena = 0;
    for (let id = 0; id < close.size; id++) {
      if (closeGone[id]) continue;
      const r = id * CLOSE_STRIDE;
      const k = keptClose.findOrAdd(c[r + FIRST], c[r + SECOND]);
      closeId[id] = k;
      keptClose.data.set(c.subarray(r + 2, r + CLOSE_STRIDE), k * CLOSE_STRIDE + 2);
      // The arena chain, oldest first, so that it is rebuilt in the same order.
      let prev = -1;
      for (const v of this.arenaChain(c, id)) {
        if (arena === ivStart.length) {
          ivStart = ensure(ivStart, arena + 1);
          ivEnd = ensure(ivEnd, arena + 1);
          ivPrev = ensure(ivPrev, arena + 1);
        }
        ivStart[arena] = this.ivStart[v];
        ivEnd[arena] = this.ivEnd[v];
        ivPrev[arena] = prev;
        prev = arena++;
      }
      keptClose.data[k * CLOSE_STRIDE + CLOSE_PREV] = prev;
    }
    const keptOrdered = new PairTable(ORDERED_STRIDE);
    const orderedId = new Int32Array(ordered.size).fill(-1);
    for (let id = 0; id < ordered.size; id++) {
      if (orderedGone[id]) continue;
      const r = id * ORDERED_STRIDE;
      const k = keptOrdered.findOrAdd(o[r + FIRST], o[r + SECOND]);
      orderedId[id] = k;
      keptOrdered.data.set(o.subarray(r + 2, r + ORDERED_STRIDE), k * ORDERED_STRIDE + 2);
      const link = o[r + CLOSE_PAIR];
      keptOrdered.data[k * ORDERED_STRIDE + CLOSE_PAIR] = link < 0 ? -1 : closeId[link];
    }
    const closeAB = new Int32Array(Math.max(16, keptClose.size));
    const closeBA = new Int32Array(closeAB.length);
    for (let id = 0; id < close.size; id++) {
      const k = closeId[id];
      if (k < 0) continue;
      closeAB[k] = this.closeAB[id] < 0 ? -1 : orderedId[this.closeAB[id]];
      closeBA[k] = this.closeBA[id] < 0 ? -1 : orderedId[this.closeBA[id]];
    }
    this.closePairs = keptClose;
    this.ordered = keptOrdered;
    this.closeAB = closeAB;
    this.closeBA = closeBA;
    this.ivStart = ivStart;
    this.ivEnd = ivEnd;
    this.ivPrev = ivPrev;
    this.arena = arena;
    this.closeHints.fill(-1);
  }

  /** Close pair `id`'s intervals in time order, appended to `out` as start, end, …. */
  private intervalsOf(c: Int32Array, id: number, out: number[]): void {
    const r = id * CLOSE_STRIDE;
    if (c[r + CLOSE_END] === NEVER) return;
    for (const k of this.arenaChain(c, id)) out.push(this.ivStart[k], this.ivEnd[k]);
    out.push(c[r + CLOSE_START], c[r + CLOSE_END]);
  }

  /** Close pair `id`'s earlier intervals in the arena, oldest first. */
  private arenaChain(c: Int32Array, id: number): number[] {
    const chain: number[] = [];
    for (let k = c[id * CLOSE_STRIDE + CLOSE_PREV]; k >= 0; k = this.ivPrev[k]) chain.push(k);
    return chain.reverse();
  }

  /** Starts (or continues) the decisions of pair (index, receiver), checking their order. */
  private startPair(index: number, receiver: number): void {
    this.scoringOpen();
    if (index === this.pendingIndex && receiver === this.pendingReceiver) return;
    this.flushPending();
    const key = receiver * PAIR_KEY_BASE + index;
    if (key === this.lastDecided)
      throw new Error(
        `decisions on ${index}→${receiver} came again, after its window spans or another pair's decisions`,
      );
    if (key < this.lastDecided) {
      const last = this.lastDecided;
      throw new Error(
        `decisions come by receiver, then index case, each pair's together: ${index}→${receiver} came after ${last % PAIR_KEY_BASE}→${Math.floor(last / PAIR_KEY_BASE)}`,
      );
    }
    this.lastDecided = key;
    this.pendingIndex = index;
    this.pendingReceiver = receiver;
  }

  private setCell(
    code: number,
    name: string,
    score: number,
    minutes: number,
    notified: boolean,
  ): void {
    if (this.pendingFlags[code] !== 0)
      throw new Error(`${name} decided on ${this.pendingIndex}→${this.pendingReceiver} twice`);
    this.pendingFlags[code] = PRESENT | (notified ? NOTIFIED : 0);
    this.pendingScore[code] = score;
    this.pendingMinutes[code] = minutes;
    this.decisionRows++;
  }

  /**
   * The pending pair's decisions into the tally: a scored pair's notifications, scores and
   * duration errors; a close pair decided by a detector takes back the term `finish` adds for
   * every close pair (a detector that never scored it counted 0 minutes), so the exact sum is
   * what adding only the undecided pairs gives. A notified pair is offered to the timeline.
   */
  private flushPending(): void {
    const index = this.pendingIndex;
    const receiver = this.pendingReceiver;
    if (index < 0) return;
    this.pendingIndex = -1;
    this.pendingReceiver = -1;
    this.decidedPairs++;
    const closeS = this.truth!.closeSeconds(Math.min(index, receiver), Math.max(index, receiver));
    const scored = this.isIndex[index] === 1;
    const positive = scored && closeS >= this.closeMinutes * 60;
    if (scored) {
      this.heardPairs++;
      if (positive) this.heardPositives++;
    }
    const truthMin = closeS / 60;
    const notifiedCodes: number[] = [];
    for (let code = 0; code < this.names.length; code++) {
      const flags = this.pendingFlags[code];
      if (flags === 0) continue;
      this.pendingFlags[code] = 0;
      const notified = (flags & NOTIFIED) !== 0;
      if (notified) notifiedCodes.push(code);
      if (!scored) continue;
      this.tally.add(
        code,
        positive,
        this.pendingScore[code],
        Math.abs(this.pendingMinutes[code] - truthMin),
        notified,
      );
      if (closeS > 0) this.tally.addError(code, -truthMin, -1);
    }
    if (notifiedCodes.length > 0)
      this.notifiedPairs.offer(pairKey(index, receiver), closeS, {
        positive,
        codes: notifiedCodes,
      });
  }

  /** The record of close pair {a, b} (a < b), made and linked to its ordered pairs when new. */
  private closeRecord(a: number, b: number): number {
    const id = this.closePairs.findOrAdd(a, b);
    if (this.closePairs.added) {
      this.closePairCount++;
      if (id >= this.closeAB.length) {
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
      this.orderedCount++;
      const r = id * ORDERED_STRIDE;
      const o = this.ordered.data;
      o[r + HEARD_W] = NEVER;
      const c = this.closePairs.find(Math.min(sender, receiver), Math.max(sender, receiver));
      o[r + CLOSE_PAIR] = c;
      if (c >= 0) {
        if (sender < receiver) this.closeAB[c] = id;
        else this.closeBA[c] = id;
      }
    }
    return id;
  }

  /** A new close window `w` of the pair covers (sender, receiver) if the receiver heard it then. */
  private coverIfHeard(o: number, w: number): void {
    if (o < 0) return;
    const data = this.ordered.data;
    const r = o * ORDERED_STRIDE;
    if (hasWindow(data[r + HEARD_W], data[r + HEARD_W + 1], w, "sighting()")) data[r + COVERED]++;
  }
}

/** What the accumulator hands over at the end. */
interface AccumulatorState {
  readonly agents: number;
  readonly closeMinutes: number;
  readonly names: readonly string[];
  readonly indexCases: readonly number[];
  readonly isIndex: Uint8Array;
  readonly rows: PartitionedRows;
  readonly tally: DecisionTally;
  readonly heardPairs: number;
  readonly heardPositives: number;
  readonly notifiedPairs: TopPairs<NotifiedPair>;
}

/**
 * A partition's close pairs, their rows merged, in (a, b) order: close windows, intervals in
 * time order (`intervals[from[k]] ..` to `from[k + 1]`, start and end), and the close windows
 * covered for a→b and b→a (−1: never heard). Columns, not an object per pair.
 */
interface MergedPartition {
  readonly size: number;
  readonly a: Int32Array;
  readonly b: Int32Array;
  readonly windows: Int32Array;
  readonly from: Int32Array;
  readonly intervals: Int32Array;
  readonly coveredAB: Int32Array;
  readonly coveredBA: Int32Array;
}

/** A partition's rows merged by pair (a pair met again has a row per stay in the tables). */
function mergePartition(rows: Int32Array): MergedPartition {
  // The rows' offsets, close and heard apart.
  let closeRows = 0;
  let heardRows = 0;
  let intervalCount = 0;
  for (let at = 0; at < rows.length; ) {
    if (rows[at] === ROW_CLOSE) {
      closeRows++;
      intervalCount += rows[at + 4];
      at += 5 + 2 * rows[at + 4];
    } else if (rows[at] === ROW_HEARD) {
      heardRows++;
      at += 4;
    } else throw new Error(`the accumulator's rows are corrupt at value ${at}`);
  }
  const closeAt = new Int32Array(closeRows);
  const heardAt = new Int32Array(heardRows);
  closeRows = 0;
  heardRows = 0;
  for (let at = 0; at < rows.length; ) {
    if (rows[at] === ROW_CLOSE) {
      closeAt[closeRows++] = at;
      at += 5 + 2 * rows[at + 4];
    } else {
      heardAt[heardRows++] = at;
      at += 4;
    }
  }
  // By pair, then by offset (the order they left the tables, which is time order).
  closeAt.sort((x, y) => rows[x + 1] - rows[y + 1] || rows[x + 2] - rows[y + 2] || x - y);
  const lo = (at: number) => Math.min(rows[at + 1], rows[at + 2]);
  const hi = (at: number) => Math.max(rows[at + 1], rows[at + 2]);
  heardAt.sort((x, y) => lo(x) - lo(y) || hi(x) - hi(y) || x - y);
  let size = 0;
  for (let k = 0; k < closeAt.length; k++)
    if (
      k === 0 ||
      rows[closeAt[k] + 1] !== rows[closeAt[k - 1] + 1] ||
      rows[closeAt[k] + 2] !== rows[closeAt[k - 1] + 2]
    )
      size++;
  const out: MergedPartition = {
    size,
    a: new Int32Array(size),
    b: new Int32Array(size),
    windows: new Int32Array(size),
    from: new Int32Array(size + 1),
    intervals: new Int32Array(2 * intervalCount),
    coveredAB: new Int32Array(size).fill(-1),
    coveredBA: new Int32Array(size).fill(-1),
  };
  let pair = -1;
  let iv = 0;
  let h = 0;
  for (let k = 0; k < closeAt.length; k++) {
    const at = closeAt[k];
    const a = rows[at + 1];
    const b = rows[at + 2];
    if (pair < 0 || out.a[pair] !== a || out.b[pair] !== b) {
      pair++;
      out.a[pair] = a;
      out.b[pair] = b;
      out.from[pair] = iv;
      // Heard rows of this pair, both ways (rows of pairs never close are passed over).
      while (
        h < heardAt.length &&
        (lo(heardAt[h]) < a || (lo(heardAt[h]) === a && hi(heardAt[h]) < b))
      )
        h++;
      for (; h < heardAt.length && lo(heardAt[h]) === a && hi(heardAt[h]) === b; h++) {
        const r = heardAt[h];
        const column = rows[r + 1] === a ? out.coveredAB : out.coveredBA;
        column[pair] = Math.max(column[pair], 0) + rows[r + 3];
      }
    }
    out.windows[pair] += rows[at + 3];
    const n = 2 * rows[at + 4];
    for (let j = 0; j < n; j++) out.intervals[iv++] = rows[at + 5 + j];
  }
  out.from[size] = iv;
  return out;
}

/** Intervals `from .. to` of a merged partition's list as [start, end] pairs. */
function intervalPairs(intervals: Int32Array, from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  for (let k = from; k < to; k += 2) out.push([intervals[k], intervals[k + 1]]);
  return out;
}

/**
 * A finished run: its evaluation, its truth pairs and its report. The decisions were folded in as
 * they came; the pairs' rows are read a partition at a time, once here for the evaluation and the
 * timeline's close contacts, and once more by each `truthPairs`.
 */
export class RunAccumulation {
  private readonly closeThresholdS: number;
  private readonly result: RunEvaluation;
  /** Close contacts that may be on the timeline, with their intervals. */
  private readonly contacts = new TopPairs<undefined>();
  /** The kept notified pairs' close intervals. */
  private readonly notifiedIntervals = new Map<number, number[]>();

  constructor(
    private readonly s: AccumulatorState,
    private readonly meta: RunMeta,
    private readonly truth: RunTruth,
    private readonly ceiling: RunCeiling | undefined,
  ) {
    this.closeThresholdS = s.closeMinutes * 60;
    this.result = this.evaluate();
  }

  /** The evaluation `evaluateRun` gives for the same run. */
  get evaluation(): RunEvaluation {
    return this.result;
  }

  /** The truth's close pairs as `simulateRun` lists them: in (a, b) order, intervals in time order. */
  *truthPairs(): Iterable<TruthPair> {
    const rows = this.s.rows;
    for (let p = 0; p < rows.partitions; p++) {
      const m = mergePartition(rows.read(p));
      for (let k = 0; k < m.size; k++) {
        const a = m.a[k];
        const b = m.b[k];
        yield {
          a,
          b,
          closeS: this.truth.closeSeconds(a, b),
          minDistanceM: this.truth.minDistanceM(a, b) ?? 0,
          closeIntervals: intervalPairs(m.intervals, m.from[k], m.from[k + 1]),
        };
      }
    }
  }

  /** Removes the pairs' files, if they went to disk: `truthPairs` cannot be read after. */
  close(): void {
    this.s.rows.close();
  }

  /** The run's report section, as `reportRun` gives it. */
  report(rssiVsDistance: readonly RssiDistanceSample[], extras: ReportRunExtras = {}): ReportRun {
    return assembleReportRun(this.meta, this.evaluation, this.timeline(), rssiVsDistance, extras);
  }

  /**
   * The report's timeline: close contacts and pairs some detector notified, the
   * `MAX_TIMELINE_PAIRS` closest in truth, with their close intervals, then the windows of each
   * notifying decision on them (pairs by receiver, then index case).
   */
  timeline(): ReportRun["timeline"] {
    const s = this.s;
    const notified = s.notifiedPairs;
    const candKey: number[] = [...this.contacts.keys];
    const candS: number[] = [...this.contacts.closeS];
    notified.keys.forEach((key, slot) => {
      if (notified.extras[slot].positive) return; // a close contact already
      candKey.push(key);
      candS.push(notified.closeS[slot]);
    });
    const chosen = topCandidates(candKey, candS, MAX_TIMELINE_PAIRS);
    const label = (key: number) => `${Math.floor(key / PAIR_KEY_BASE)}→${key % PAIR_KEY_BASE}`;
    const timeline: ReportRun["timeline"] = [];
    const detected: number[] = [];
    for (const key of chosen) {
      const slot = this.contacts.slot(key);
      const intervals =
        slot >= 0 ? this.contacts.lists[slot] : (this.notifiedIntervals.get(key) ?? []);
      for (let k = 0; k < intervals.length; k += 2)
        timeline.push({
          pair: label(key),
          startS: intervals[k],
          endS: intervals[k + 1],
          kind: "truth-close",
        });
      if (notified.slot(key) >= 0) detected.push(key);
    }
    detected.sort((x, y) => (x % PAIR_KEY_BASE) - (y % PAIR_KEY_BASE) || x - y);
    for (const key of detected) {
      const slot = notified.slot(key);
      const spans = notified.lists[slot];
      for (const code of notified.extras[slot].codes)
        for (let k = 0; k < spans.length; k += 2)
          timeline.push({
            pair: label(key),
            startS: spans[k],
            endS: spans[k + 1],
            kind: "detected",
            detector: s.names[code],
          });
    }
    return timeline;
  }

  /** A detector's cell column: its first position among the names. */
  private codeOf(name: string): number {
    return this.s.names.indexOf(name);
  }

  /**
   * One pass over the pairs' rows: close contacts, link coverage, the duration error of close
   * pairs a detector never scored, the timeline's close contacts and intervals; then each
   * detector's row from the tally.
   */
  private evaluate(): RunEvaluation {
    const s = this.s;
    const thr = this.closeThresholdS;
    const tally = s.tally;
    const columns = Int32Array.from(s.names, (name) => this.codeOf(name)).filter(
      (code, k) => code === k,
    );
    let positives = 0;
    let linkPairs = 0;
    let detected = 0;
    let windows = 0;
    let covered = 0;
    for (let p = 0; p < s.rows.partitions; p++) {
      const m = mergePartition(s.rows.read(p));
      for (let k = 0; k < m.size; k++) {
        const a = m.a[k];
        const b = m.b[k];
        const closeS = this.truth.closeSeconds(a, b);
        const intervals = () => Array.from(m.intervals.subarray(m.from[k], m.from[k + 1]));
        for (let way = 0; way < 2; way++) {
          const index = way === 0 ? a : b;
          const receiver = way === 0 ? b : a;
          const key = pairKey(index, receiver);
          if (s.notifiedPairs.slot(key) >= 0) this.notifiedIntervals.set(key, intervals());
          if (!s.isIndex[index]) continue;
          // Pairs close in truth that a detector never scored: it counted 0 minutes (a detector
          // that scored one took this term back).
          if (closeS > 0) for (const code of columns) tally.addError(code, closeS / 60);
          if (closeS >= thr) {
            const slot = this.contacts.offer(key, closeS, undefined);
            if (slot >= 0) this.contacts.lists[slot] = intervals();
          }
        }
        if (closeS < thr) continue;
        positives += s.isIndex[a] + s.isIndex[b];
        linkPairs += 2;
        windows += 2 * m.windows[k];
        for (let way = 0; way < 2; way++) {
          const c = way === 0 ? m.coveredAB[k] : m.coveredBA[k];
          if (c < 0) continue;
          detected++;
          covered += c;
        }
      }
    }
    const detection = linkPairs === 0 ? 0 : round(detected / linkPairs);
    const continuity = windows === 0 ? 0 : round(covered / windows);
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
    const positive = (index: number, receiver: number) =>
      s.isIndex[index] === 1 &&
      this.truth.closeSeconds(Math.min(index, receiver), Math.max(index, receiver)) >= thr;
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
  const pos = new ScoreCounts();
  const neg = new ScoreCounts();
  for (const s of scores) (s.positive ? pos : neg).add(s.score);
  return prCurveOfCounts(pos, neg, positives);
}

/** `prCurve` over how many positive and negative pairs got each score above 0. */
function prCurveOfCounts(
  positiveScores: ScoreCounts,
  negativeScores: ScoreCounts,
  positives: number,
): PrPoint[] {
  const { values: pos, counts: posCount } = positiveScores.sorted();
  const { values: neg, counts: negCount } = negativeScores.sorted();
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
    for (; i >= 0 && pos[i] >= threshold; i--) tp += posCount[i];
    for (; j >= 0 && neg[j] >= threshold; j--) fp += negCount[j];
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
  // By receiver, then index case, as the accumulator takes them (stable: detectors as listed).
  const byPair = detections
    .map((_, k) => k)
    .sort(
      (x, y) =>
        detections[x].receiver - detections[y].receiver ||
        detections[x].index - detections[y].index ||
        x - y,
    );
  for (const k of byPair) acc.detection(detections[k]);
  const withWindows = new Set<number>();
  for (const d of detections) {
    const key = pairKey(d.index, d.receiver);
    if (withWindows.has(key)) continue;
    withWindows.add(key);
    for (const [startS, endS] of d.windows) acc.window(d.index, d.receiver, startS, endS);
  }
  return acc.finish({ meta: data.meta, ceiling: data.ceiling });
}

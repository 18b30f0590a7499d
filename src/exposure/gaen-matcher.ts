/**
 * Matches published GAEN diagnosis keys against what a device heard (docs/protocols.md, GAEN
 * matching):
 * derive each key's RPIs (batched), look each up among the stored sightings, accept a
 * sighting only inside its interval's ±2 h (12-interval) tolerance, decrypt its AEM with the
 * key's AEMK and reject TX power outside [-50, +20] dBm.
 *
 * The stored sightings are indexed once in a compact open-addressing table of 32-bit
 * fingerprints (most RPI lookups miss, and a miss costs one probe into a table that fits in
 * cache); a fingerprint hit is confirmed on all 16 bytes.
 */
import { CodecError } from "../core/errors.js";
import {
  cryptAem,
  decodeMetadata,
  deriveAemk,
  enIntervalNumber,
  GAEN_ROLLING_PERIOD,
  GaenRpiBatchDeriver,
} from "../protocols/gaen.js";

/** A sighting whose ENIN differs from its RPI's interval by more than this is a replay. */
export const MATCH_TOLERANCE_INTERVALS = 12;
/** Plausible advertised TX power (docs/protocols.md, GAEN matching). */
export const MIN_TX_POWER_DBM = -50;
export const MAX_TX_POWER_DBM = 20;

/** GAEN sightings in columns: sighting i has `atMs[i]`, `rssiDbm[i]`, RPI at `rpis[16i..]`, AEM at `aems[4i..]`. */
export interface GaenSightingColumns {
  readonly count: number;
  readonly atMs: Float64Array;
  readonly rssiDbm: Int16Array;
  readonly rpis: Uint8Array;
  readonly aems: Uint8Array;
}

/** A published key: 16 bytes, its rolling start and period. */
export interface PublishedKey {
  readonly keyData: Uint8Array;
  readonly rollingStartIntervalNumber: number;
  readonly rollingPeriod: number;
}

/** One accepted sighting of a published key. */
export interface KeyMatch {
  /** Index of the key in the list given to `match`. */
  readonly keyIndex: number;
  /** Index of the sighting in the columns. */
  readonly sighting: number;
  /** TX power decrypted from the AEM. */
  readonly txPowerDbm: number;
}

export interface MatchCounts {
  keys: number;
  rpis: number;
  /** RPI hits among the sightings, before the time and TX-power checks. */
  candidates: number;
  rejectedOutsideTolerance: number;
  rejectedTxPower: number;
  accepted: number;
}

/** Collects columns from sighting objects (for files and tests; the hot path fills columns directly). */
export function toGaenColumns(
  sightings: readonly { atMs: number; rssiDbm: number; id: Uint8Array; aem?: Uint8Array }[],
): GaenSightingColumns {
  const n = sightings.length;
  const columns = {
    count: n,
    atMs: new Float64Array(n),
    rssiDbm: new Int16Array(n),
    rpis: new Uint8Array(16 * n),
    aems: new Uint8Array(4 * n),
  };
  sightings.forEach((s, i) => {
    if (s.id.length !== 16)
      throw new CodecError(`sighting ${i}: a GAEN RPI must be 16 bytes, got ${s.id.length}`);
    columns.atMs[i] = s.atMs;
    columns.rssiDbm[i] = s.rssiDbm;
    columns.rpis.set(s.id, 16 * i);
    if (s.aem) columns.aems.set(s.aem, 4 * i);
  });
  return columns;
}

export class GaenMatcher {
  private readonly columns: GaenSightingColumns;
  private readonly rpiWords: Uint32Array;
  /** Slot -> fingerprint (RPI word 0, never 0 in a used slot). */
  private readonly fingerprints: Uint32Array;
  /** Slot -> first sighting of that RPI. */
  private readonly firstSighting: Int32Array;
  /** Sighting -> next sighting of the same RPI, or -1. */
  private readonly nextSighting: Int32Array;
  private readonly mask: number;
  private readonly deriver = new GaenRpiBatchDeriver();

  constructor(columns: GaenSightingColumns) {
    this.columns = columns;
    const n = columns.count;
    this.rpiWords = new Uint32Array(columns.rpis.buffer, columns.rpis.byteOffset, 4 * n);
    let capacity = 16;
    while (capacity < n * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.fingerprints = new Uint32Array(capacity);
    this.firstSighting = new Int32Array(capacity).fill(-1);
    this.nextSighting = new Int32Array(n).fill(-1);
    if (columns.rpis.byteOffset % 4 !== 0)
      throw new RangeError("GaenMatcher: RPI column must be 4-byte aligned");
    for (let i = 0; i < n; i++) this.insert(i);
  }

  private static fingerprint(word0: number): number {
    return word0 === 0 ? 1 : word0;
  }

  private insert(i: number): void {
    const w = this.rpiWords;
    const fp = GaenMatcher.fingerprint(w[4 * i]);
    let slot = Math.imul(w[4 * i + 1], 0x9e3779b1) >>> 0;
    for (;;) {
      slot &= this.mask;
      const existing = this.fingerprints[slot];
      if (existing === 0) {
        this.fingerprints[slot] = fp;
        this.firstSighting[slot] = i;
        return;
      }
      if (existing === fp && this.sameRpi(this.firstSighting[slot], w, 4 * i)) {
        this.nextSighting[i] = this.firstSighting[slot];
        this.firstSighting[slot] = i;
        return;
      }
      slot++;
    }
  }

  private sameRpi(sighting: number, words: Uint32Array, at: number): boolean {
    const w = this.rpiWords;
    const o = 4 * sighting;
    return (
      w[o] === words[at] &&
      w[o + 1] === words[at + 1] &&
      w[o + 2] === words[at + 2] &&
      w[o + 3] === words[at + 3]
    );
  }

  /** First sighting of the RPI at `words[at..at+4)`, or -1. */
  private lookup(words: Uint32Array, at: number): number {
    const fp = GaenMatcher.fingerprint(words[at]);
    let slot = Math.imul(words[at + 1], 0x9e3779b1) >>> 0;
    for (;;) {
      slot &= this.mask;
      const existing = this.fingerprints[slot];
      if (existing === 0) return -1;
      if (existing === fp && this.sameRpi(this.firstSighting[slot], words, at))
        return this.firstSighting[slot];
      slot++;
    }
  }

  /**
   * Matches `keys` against the sightings. Keys are derived in batches of `batchKeys` so that
   * memory stays bounded (2.3 KB of RPIs per key in a batch).
   */
  match(
    keys: readonly PublishedKey[],
    options: { batchKeys?: number; counts?: MatchCounts } = {},
  ): KeyMatch[] {
    // No bigger buffers than the keys need (a phone matching a few keys allocates little).
    const batchKeys = Math.max(1, Math.min(options.batchKeys ?? 4096, keys.length));
    const counts = options.counts;
    const stride = GAEN_ROLLING_PERIOD * 16;
    const teks = new Uint8Array(16 * batchKeys);
    const rpis = new Uint8Array(batchKeys * stride);
    const words = new Uint32Array(rpis.buffer);
    const matches: KeyMatch[] = [];
    for (let first = 0; first < keys.length; first += batchKeys) {
      const last = Math.min(keys.length, first + batchKeys);
      for (let k = first; k < last; k++) {
        const key = keys[k];
        teks.set(key.keyData, 16 * (k - first));
        const period = Math.min(key.rollingPeriod || GAEN_ROLLING_PERIOD, GAEN_ROLLING_PERIOD);
        this.deriver.deriveInto(
          teks,
          k - first,
          key.rollingStartIntervalNumber,
          period,
          rpis,
          (k - first) * stride,
        );
      }
      for (let k = first; k < last; k++) {
        const key = keys[k];
        const period = Math.min(key.rollingPeriod || GAEN_ROLLING_PERIOD, GAEN_ROLLING_PERIOD);
        const base = ((k - first) * stride) >> 2;
        let aemk: Uint8Array | undefined;
        for (let j = 0; j < period; j++) {
          let s = this.lookup(words, base + 4 * j);
          // Sightings of one RPI mostly carry the same AEM (a sender's metadata is fixed for
          // the interval): decrypt each distinct AEM once, not once per sighting.
          let lastAem = -1;
          let lastTx = 0;
          while (s >= 0) {
            if (counts) counts.candidates++;
            const interval = key.rollingStartIntervalNumber + j;
            const heard = enIntervalNumber(this.columns.atMs[s]);
            if (Math.abs(heard - interval) > MATCH_TOLERANCE_INTERVALS) {
              if (counts) counts.rejectedOutsideTolerance++;
            } else {
              const aems = this.columns.aems;
              const aem =
                (aems[4 * s] | (aems[4 * s + 1] << 8) | (aems[4 * s + 2] << 16)) +
                aems[4 * s + 3] * 0x1000000;
              if (aem !== lastAem) {
                aemk ??= deriveAemk(key.keyData);
                const o = 16 * s;
                const metadata = cryptAem(
                  aemk,
                  this.columns.rpis.subarray(o, o + 16),
                  aems.subarray(4 * s, 4 * s + 4),
                );
                lastTx = decodeMetadata(metadata).txPowerDbm;
                lastAem = aem;
              }
              const txPowerDbm = lastTx;
              if (txPowerDbm < MIN_TX_POWER_DBM || txPowerDbm > MAX_TX_POWER_DBM) {
                if (counts) counts.rejectedTxPower++;
              } else {
                matches.push({ keyIndex: k, sighting: s, txPowerDbm });
                if (counts) counts.accepted++;
              }
            }
            s = this.nextSighting[s];
          }
        }
      }
      if (counts) {
        counts.keys += last - first;
        for (let k = first; k < last; k++)
          counts.rpis += Math.min(
            keys[k].rollingPeriod || GAEN_ROLLING_PERIOD,
            GAEN_ROLLING_PERIOD,
          );
      }
    }
    return matches;
  }
}

/** Empty counters for `match`. */
export function newMatchCounts(): MatchCounts {
  return {
    keys: 0,
    rpis: 0,
    candidates: 0,
    rejectedOutsideTolerance: 0,
    rejectedTxPower: 0,
    accepted: 0,
  };
}

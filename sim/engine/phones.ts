/**
 * Every simulated phone's rolling state as columns: its random stream (four words), its newest
 * day key (in one byte pool), and the broadcast on the air (since/until, the decoded ID and AEM,
 * the address). About 100 bytes a phone, against ~2 KB for a `KeyStore`, a `RotatingAdvertiser`,
 * its `Broadcast` and a `SeededRandom` object per phone.
 *
 * A rotation rebuilds the protocol objects for an instant: the stream resumes from its words,
 * keys go through a real `KeyStore` when the day changes, and IDs and payloads come from the
 * protocol's `RollingIdScheme`, in the same order of random draws as `RotatingAdvertiser`.
 * A phone's rotations are therefore bit-exact with an advertiser and a key store driven by the
 * same stream at the same times (`test/sim/engine/phones.test.ts` checks it): ID, payload and
 * address change together, at the same instants, from the same keys.
 */
import { classifyAdvertisement, rollingIdOf } from "../../src/ble/classify-advertisement.js";
import { randomNonResolvableAddress } from "../../src/ble/random-address.js";
import { SeededRandom } from "../../src/core/random.js";
import { shuffledEpochOrder } from "../../src/protocols/dp3t.js";
import { DEFAULT_RETENTION_DAYS, KeyStore } from "../../src/protocols/key-store.js";
import {
  type DayKey,
  dayOf,
  MS_PER_DAY,
  type Protocol,
  type RollingId,
  type RollingIdScheme,
} from "../../src/protocols/rolling-id-scheme.js";
import {
  defaultRotationPolicy,
  type RotationPolicy,
} from "../../src/protocols/rotating-advertiser.js";
import { schemeFor } from "../../src/protocols/schemes.js";
import { PROTOCOL_NAMES } from "../world/scenario.js";

/** `keyDay` of a phone that has no key yet (and `orderDay` of one that has no shuffle). */
const NONE = -0x80000000;
const ID_STRIDE = 16;
const AEM_STRIDE = 4;
const ADDRESS_STRIDE = 6;
/** Bytes of each chunk of the arena that decoded IDs and AEMs are views into. */
const ARENA_CHUNK = 65_536;

/** What receivers decode from a phone's current broadcast; shared by its sightings. */
export interface DecodedBroadcast {
  readonly protocol: Protocol;
  readonly id: Uint8Array;
  readonly aem: Uint8Array | undefined;
}

/** A phone's broadcast, copied out of the columns (for tests and tools; the engine reads columns). */
export interface PhoneBroadcast {
  readonly sinceMs: number;
  readonly untilMs: number;
  /** Decoded from the payload; `undefined` if it does not decode to a rolling ID. */
  readonly decoded: DecodedBroadcast | undefined;
  /** Random non-resolvable private address, most significant byte first. */
  readonly address: Uint8Array;
}

export class Phones {
  readonly count: number;
  private readonly protocolIndex: Uint8Array;
  private readonly txPowerDbm: number;
  private readonly schemes: RollingIdScheme[];
  private readonly policies: RotationPolicy[];
  private readonly keyStride: number;
  /** Each phone's random stream, four words (`SeededRandom.saveState`). */
  private readonly stream: Int32Array;
  /** The day of each phone's newest key (`NONE`: none yet), and its bytes. */
  private readonly keyDay: Int32Array;
  private readonly keyBytes: Uint8Array;
  /** Older keys still retained (multi-day runs only), oldest first. */
  private readonly olderKeys = new Map<number, DayKey[]>();
  /** The current broadcast: `[sinceMs, untilMs)` (NaN before the first), decoded ID and AEM, address. */
  private readonly sinceMs: Float64Array;
  private readonly untilMs: Float64Array;
  /** Protocol of the decoded broadcast + 1 (0: the payload does not decode to a rolling ID). */
  private readonly decodedProtocol: Uint8Array;
  private readonly idBytes: Uint8Array;
  private readonly aemBytes: Uint8Array;
  private readonly address: Uint8Array;
  /** DP-3T's broadcast order: the day it was shuffled for, and the stream just before shuffling. */
  private orderDay: Int32Array | undefined;
  private orderStream: Int32Array | undefined;
  /**
   * Each phone's decoded broadcast, made when it is first heard and dropped at its rotation: all
   * the sightings of one broadcast share its ID and AEM arrays (a consumer that keeps sightings
   * pays ~90 bytes each, not ~500). The arrays are views into `arena`, 20 bytes per broadcast.
   */
  private readonly shared: (DecodedBroadcast | undefined)[];
  private arena = new Uint8Array(ARENA_CHUNK);
  private arenaUsed = 0;

  /**
   * @param protocolIndex each phone's protocol (`PROTOCOL_NAMES` order); read, not copied.
   * @param txPowerDbm written into GAEN metadata.
   */
  constructor(protocolIndex: Uint8Array, count: number, txPowerDbm: number) {
    this.count = count;
    this.protocolIndex = protocolIndex;
    this.txPowerDbm = txPowerDbm;
    this.schemes = PROTOCOL_NAMES.map((p) => schemeFor(p));
    this.policies = this.schemes.map(defaultRotationPolicy);
    let keyStride = 1;
    let shuffles = false;
    for (let i = 0; i < count; i++) {
      const scheme = this.schemes[protocolIndex[i]];
      keyStride = Math.max(keyStride, scheme.keyBytes);
      shuffles ||= scheme.shuffledBroadcast;
    }
    this.keyStride = keyStride;
    this.stream = new Int32Array(4 * count);
    this.keyDay = new Int32Array(count).fill(NONE);
    this.keyBytes = new Uint8Array(keyStride * count);
    this.sinceMs = new Float64Array(count).fill(Number.NaN);
    this.untilMs = new Float64Array(count).fill(Number.NaN);
    this.decodedProtocol = new Uint8Array(count);
    this.idBytes = new Uint8Array(ID_STRIDE * count);
    this.aemBytes = new Uint8Array(AEM_STRIDE * count);
    this.address = new Uint8Array(ADDRESS_STRIDE * count);
    if (shuffles) {
      this.orderDay = new Int32Array(count).fill(NONE);
      this.orderStream = new Int32Array(4 * count);
    }
    this.shared = new Array(count).fill(undefined);
  }

  /** Phone `i` draws from `random` from now on (its state is copied; `random` is not kept). */
  setStream(i: number, random: SeededRandom): void {
    random.saveState(this.stream, 4 * i);
  }

  /**
   * What receivers decode from phone `i`'s broadcast at `atMs` (after rotating as needed), or
   * `undefined` when it carries no rolling ID. The same object for every call during one
   * broadcast (its sightings share the arrays); do not modify it.
   */
  decodedAt(i: number, atMs: number): DecodedBroadcast | undefined {
    if (!(atMs >= this.sinceMs[i] && atMs < this.untilMs[i])) this.advance(i, atMs);
    const decoded = this.shared[i];
    if (decoded !== undefined || this.decodedProtocol[i] === 0) return decoded;
    this.shared[i] = this.decoded(i);
    return this.shared[i];
  }

  /** Phone `i`'s broadcast at `atMs` (rotating as needed), copied out. */
  broadcastAt(i: number, atMs: number): PhoneBroadcast {
    if (!(atMs >= this.sinceMs[i] && atMs < this.untilMs[i])) this.advance(i, atMs);
    return {
      sinceMs: this.sinceMs[i],
      untilMs: this.untilMs[i],
      decoded: this.decodedProtocol[i] === 0 ? undefined : this.decoded(i),
      address: this.address.slice(ADDRESS_STRIDE * i, ADDRESS_STRIDE * (i + 1)),
    };
  }

  /**
   * Phone `i`'s key store as of now: the keys its broadcasts used (none if it never rotated).
   * A new object per call, built from the columns.
   */
  keyStore(i: number): KeyStore {
    const keys = [...(this.olderKeys.get(i) ?? [])];
    const day = this.keyDay[i];
    if (day !== NONE) keys.push({ day, key: this.newestKey(i) });
    return new KeyStore(PROTOCOL_NAMES[this.protocolIndex[i]], { keys });
  }

  /** Every phone's `keyStore`. */
  keyStores(): KeyStore[] {
    return Array.from({ length: this.count }, (_, i) => this.keyStore(i));
  }

  /** Bytes held by the columns and older keys. */
  get bytes(): number {
    let bytes =
      this.stream.byteLength +
      this.keyDay.byteLength +
      this.keyBytes.byteLength +
      this.sinceMs.byteLength +
      this.untilMs.byteLength +
      this.decodedProtocol.byteLength +
      this.idBytes.byteLength +
      this.aemBytes.byteLength +
      this.address.byteLength +
      (this.orderDay?.byteLength ?? 0) +
      (this.orderStream?.byteLength ?? 0) +
      this.arena.byteLength;
    // Decoded broadcasts: a reference, an object and one or two array views each.
    for (let i = 0; i < this.count; i++) {
      const d = this.shared[i];
      bytes += d === undefined ? 8 : d.aem === undefined ? 152 : 248;
    }
    for (const keys of this.olderKeys.values()) bytes += keys.length * (this.keyStride + 64);
    return bytes;
  }

  private newestKey(i: number): Uint8Array {
    const length = this.schemes[this.protocolIndex[i]].keyBytes;
    const from = this.keyStride * i;
    return this.keyBytes.slice(from, from + length);
  }

  /** Phone `i`'s decoded broadcast, its bytes copied to the arena (never overwritten). */
  private decoded(i: number): DecodedBroadcast {
    const protocol = PROTOCOL_NAMES[this.decodedProtocol[i] - 1];
    const idLength = this.schemes[this.decodedProtocol[i] - 1].idBytes;
    const aemLength = protocol === "gaen" ? AEM_STRIDE : 0;
    if (this.arenaUsed + idLength + aemLength > this.arena.length) {
      // Views keep a full chunk alive; a new one for what follows.
      this.arena = new Uint8Array(ARENA_CHUNK);
      this.arenaUsed = 0;
    }
    const arena = this.arena;
    const at = this.arenaUsed;
    arena.set(this.idBytes.subarray(ID_STRIDE * i, ID_STRIDE * i + idLength), at);
    arena.set(this.aemBytes.subarray(AEM_STRIDE * i, AEM_STRIDE * i + aemLength), at + idLength);
    this.arenaUsed = at + idLength + aemLength;
    return {
      protocol,
      id: arena.subarray(at, at + idLength),
      aem: aemLength > 0 ? arena.subarray(at + idLength, at + idLength + aemLength) : undefined,
    };
  }

  /**
   * `RotatingAdvertiser.at`: rotates at once if time went back before the broadcast began,
   * then rotation by rotation up to `atMs` (afresh at `atMs` after a gap of over a day).
   */
  private advance(i: number, atMs: number): void {
    const random = SeededRandom.fromState(this.stream, 4 * i);
    const sinceMs = this.sinceMs[i];
    if (Number.isNaN(sinceMs) || atMs < sinceMs) this.rotate(i, atMs, random);
    while (atMs >= this.untilMs[i]) {
      const untilMs = this.untilMs[i];
      this.rotate(i, atMs - untilMs > MS_PER_DAY ? atMs : untilMs, random);
    }
    random.saveState(this.stream, 4 * i);
  }

  /** `RotatingAdvertiser.rotate`: same draws from the stream, in the same order. */
  private rotate(i: number, atMs: number, random: SeededRandom): void {
    const scheme = this.schemes[this.protocolIndex[i]];
    const policy = this.policies[this.protocolIndex[i]];
    const key = this.currentKey(i, atMs, random);
    const id = this.broadcastId(i, scheme, key, atMs, random);
    this.sinceMs[i] = atMs;
    this.untilMs[i] =
      policy.kind === "slot-aligned"
        ? id.startMs + scheme.slotMs
        : atMs + policy.minMs + Math.floor(random.float() * (policy.maxMs - policy.minMs));
    const payload = scheme.payload(key, id, { txPowerDbm: this.txPowerDbm });
    this.address.set(randomNonResolvableAddress(random), ADDRESS_STRIDE * i);
    random.int(2 ** 32); // the advertising-delay seed: unused here, drawn to keep the stream in step
    this.shared[i] = undefined;
    // Decode the bytes on the air, as a receiving phone does (every receiver gets the same fields).
    const classified = classifyAdvertisement(payload);
    const rollingId = rollingIdOf(classified);
    if (classified.protocol === "unknown" || !rollingId) {
      this.decodedProtocol[i] = 0;
      return;
    }
    this.decodedProtocol[i] = PROTOCOL_NAMES.indexOf(classified.protocol) + 1;
    this.idBytes.set(rollingId, ID_STRIDE * i);
    if (classified.protocol === "gaen") this.aemBytes.set(classified.aem, AEM_STRIDE * i);
  }

  /**
   * `KeyStore.ensureCurrent(atMs)` on the phone's keys. When the newest key is today's and
   * nothing is due for deletion (every rotation of a run shorter than a day but the first),
   * that returns the newest key and changes nothing; otherwise a real `KeyStore` does it.
   * A fresh `DayKey` each time: schemes cache a day's derived IDs per key object, and this
   * one dies with the rotation.
   */
  private currentKey(i: number, atMs: number, random: SeededRandom): DayKey {
    const today = dayOf(atMs);
    const older = this.olderKeys.get(i);
    if (
      this.keyDay[i] === today &&
      (older === undefined || older[0].day >= today - DEFAULT_RETENTION_DAYS + 1)
    ) {
      return { day: today, key: this.newestKey(i) };
    }
    const store = this.keyStore(i);
    const key = store.ensureCurrent(atMs, random);
    const all = store.all();
    const newest = all[all.length - 1];
    this.keyDay[i] = newest.day;
    this.keyBytes.set(newest.key, this.keyStride * i);
    if (all.length > 1) this.olderKeys.set(i, all.slice(0, -1));
    else this.olderKeys.delete(i);
    return { day: key.day, key: key.key.slice() };
  }

  /**
   * The ID of `atMs`'s slot, in the day's shuffled order for DP-3T. The order is drawn from the
   * stream at the day's first rotation, as the advertiser does; later rotations redraw the same
   * permutation from the stream's words saved just before it (20 bytes instead of 96 numbers).
   */
  private broadcastId(
    i: number,
    scheme: RollingIdScheme,
    key: DayKey,
    atMs: number,
    random: SeededRandom,
  ): RollingId {
    const id = scheme.idAt(key, atMs)!;
    if (!scheme.shuffledBroadcast) return id;
    const orderDay = this.orderDay!;
    const orderStream = this.orderStream!;
    let order: number[];
    if (orderDay[i] !== key.day) {
      orderDay[i] = key.day;
      random.saveState(orderStream, 4 * i);
      order = shuffledEpochOrder(random, scheme.slotsPerDay);
    } else {
      order = shuffledEpochOrder(SeededRandom.fromState(orderStream, 4 * i), scheme.slotsPerDay);
    }
    const shuffled = scheme.idsForDay(key)[order[id.slot]];
    // Keep the slot timing of the epoch in which it is broadcast.
    return { slot: id.slot, startMs: id.startMs, id: shuffled.id };
  }
}

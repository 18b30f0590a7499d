/**
 * The advertiser state machine: for any time, what a device puts on the air. The rolling ID,
 * the payload, the random non-resolvable address and the advertising-interval jitter seed
 * all change at the same instant (a rotation) and never one without the others, so that no
 * field links two consecutive IDs.
 */
import { randomNonResolvableAddress } from "../ble/random-address.js";
import { ConfigError } from "../core/errors.js";
import type { Random } from "../core/random.js";
import { shuffledEpochOrder } from "./dp3t.js";
import {
  type DayKey,
  dayOf,
  MS_PER_DAY,
  type RollingId,
  type RollingIdScheme,
} from "./rolling-id-scheme.js";

/** What is on the air between two rotations. */
export interface Broadcast {
  /** Rotation counter, from 0. */
  readonly rotation: number;
  /** When this broadcast started and when the next rotation is due. */
  readonly sinceMs: number;
  readonly untilMs: number;
  readonly id: RollingId;
  /** Legacy advertising data (31 bytes at most). */
  readonly payload: Uint8Array;
  /** Random non-resolvable private address, most significant byte first. */
  readonly address: Uint8Array;
  readonly txPowerDbm: number;
  /** Seed of the 0-10 ms advertising delay sequence, redrawn at each rotation. */
  readonly intervalJitterSeed: number;
}

/**
 * When rotations happen.
 * - `random-period`: every `minMs`..`maxMs` (uniform), the ID of the slot at the rotation
 *   instant (GAEN as Android and iOS do it: the address and RPI change every ~10-20 minutes).
 * - `slot-aligned`: at every slot boundary, so each ID is on the air only inside its own slot
 *   (DP-3T epochs, Bluezone slots, whose matching looks IDs up within their slot).
 */
export type RotationPolicy =
  | { kind: "random-period"; minMs: number; maxMs: number }
  | { kind: "slot-aligned" };

/** The rotation each protocol uses unless configured otherwise. */
export function defaultRotationPolicy(scheme: RollingIdScheme): RotationPolicy {
  return scheme.protocol === "gaen"
    ? { kind: "random-period", minMs: 600_000, maxMs: 1_200_000 }
    : { kind: "slot-aligned" };
}

export interface RotatingAdvertiserOptions {
  scheme: RollingIdScheme;
  /** The device's key for a UTC day (typically `KeyStore.ensureCurrent`). */
  keyForDay(day: number, atMs: number): DayKey;
  random: Random;
  txPowerDbm: number;
  rotation?: RotationPolicy;
  /**
   * For protocols that shuffle (DP-3T): the day's broadcast order (a permutation of the slots).
   * Default: a fresh shuffle from `random` per day. A tool that computes one rotation at a time
   * passes an order derived from the key, so that separate runs agree.
   */
  broadcastOrder?(key: DayKey): number[];
}

export class RotatingAdvertiser {
  private readonly scheme: RollingIdScheme;
  private readonly options: RotatingAdvertiserOptions;
  private readonly policy: RotationPolicy;
  private current: Broadcast | undefined;
  private broadcastOrder: { day: number; order: number[] } | undefined;

  constructor(options: RotatingAdvertiserOptions) {
    this.options = options;
    this.scheme = options.scheme;
    this.policy = options.rotation ?? defaultRotationPolicy(options.scheme);
    if (this.policy.kind === "random-period") {
      const { minMs, maxMs } = this.policy;
      if (!(minMs > 0 && maxMs >= minMs))
        throw new ConfigError(
          `rotation period must satisfy 0 < min <= max, got ${minMs}..${maxMs} ms`,
        );
      if (minMs < this.scheme.slotMs) {
        // A shorter period would put the same ID on the air under two addresses.
        throw new ConfigError(
          `rotation period (${minMs} ms) must be at least the ID slot (${this.scheme.slotMs} ms)`,
        );
      }
    }
  }

  /**
   * The broadcast at `atMs`. Time normally moves forward; if it jumps back before the current
   * broadcast began, the advertiser rotates at once rather than replay an old ID.
   */
  at(atMs: number): Broadcast {
    let current = this.current;
    if (!current || atMs < current.sinceMs) {
      current = this.rotate(atMs, current ? current.rotation + 1 : 0);
    }
    while (atMs >= current.untilMs) {
      // Catch up rotation by rotation; after a long gap, start afresh at `atMs`.
      const next = atMs - current.untilMs > MS_PER_DAY ? atMs : current.untilMs;
      current = this.rotate(next, current.rotation + 1);
    }
    this.current = current;
    return current;
  }

  /** When the broadcast in force at `atMs` ends. */
  nextRotationMs(atMs: number): number {
    return this.at(atMs).untilMs;
  }

  private rotate(atMs: number, rotation: number): Broadcast {
    const { random } = this.options;
    const day = dayOf(atMs);
    const key = this.options.keyForDay(day, atMs);
    const id = this.broadcastId(key, atMs);
    const slotEndMs = id.startMs + this.scheme.slotMs;
    const untilMs =
      this.policy.kind === "slot-aligned"
        ? slotEndMs
        : atMs +
          this.policy.minMs +
          Math.floor(random.float() * (this.policy.maxMs - this.policy.minMs));
    return {
      rotation,
      sinceMs: atMs,
      untilMs,
      id,
      payload: this.scheme.payload(key, id, { txPowerDbm: this.options.txPowerDbm }),
      address: randomNonResolvableAddress(random),
      txPowerDbm: this.options.txPowerDbm,
      intervalJitterSeed: random.int(2 ** 32),
    };
  }

  /** The ID of `atMs`'s slot, in the day's shuffled order for protocols that shuffle. */
  private broadcastId(key: DayKey, atMs: number): RollingId {
    const id = this.scheme.idAt(key, atMs)!;
    if (!this.scheme.shuffledBroadcast) return id;
    if (this.broadcastOrder?.day !== key.day) {
      this.broadcastOrder = {
        day: key.day,
        order:
          this.options.broadcastOrder?.(key) ??
          shuffledEpochOrder(this.options.random, this.scheme.slotsPerDay),
      };
    }
    const shuffled = this.scheme.idsForDay(key)[this.broadcastOrder.order[id.slot]];
    // Keep the slot timing of the epoch in which it is broadcast.
    return { slot: id.slot, startMs: id.startMs, id: shuffled.id };
  }
}

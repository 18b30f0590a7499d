import { randomBytes, randomInt } from "node:crypto";
import prand from "pure-rand";

/** The source of randomness. Keys need `cryptoRandom`; simulations and tests a `SeededRandom`. */
export interface Random {
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
  /** A float in [0, 1). */
  float(): number;
  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
}

/** The operating system's CSPRNG (node:crypto). */
export const cryptoRandom: Random = {
  bytes: (n) => new Uint8Array(randomBytes(n)),
  float: () => randomInt(0, 2 ** 48) / 2 ** 48,
  int: (maxExclusive) => randomInt(0, maxExclusive),
};

/**
 * A deterministic PRNG (xoroshiro128+ from pure-rand): the same seed gives the same stream.
 * Never use it for keys outside tests and simulations.
 */
export class SeededRandom implements Random {
  private readonly rng: prand.RandomGenerator;

  constructor(seed: number) {
    this.rng = prand.xoroshiro128plus(seed | 0);
  }

  private next32(): number {
    return this.rng.unsafeNext() >>> 0;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let word = this.next32();
      for (let j = i; j < Math.min(i + 4, n); j++) {
        out[j] = word & 0xff;
        word >>>= 8;
      }
    }
    return out;
  }

  float(): number {
    // 53 bits of randomness from two draws.
    return ((this.next32() >>> 5) * 67108864 + (this.next32() >>> 6)) / 9007199254740992;
  }

  int(maxExclusive: number): number {
    return prand.unsafeUniformIntDistribution(0, maxExclusive - 1, this.rng);
  }

  /** An independent stream 2^64 draws away (for a sub-simulation or a device). */
  fork(): SeededRandom {
    const child = Object.create(SeededRandom.prototype) as SeededRandom;
    const jumped = this.rng.jump ? this.rng.jump() : this.rng.clone();
    (child as unknown as { rng: prand.RandomGenerator }).rng = jumped;
    this.rng.unsafeNext();
    return child;
  }
}

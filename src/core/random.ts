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
  // randomInt allows ranges below 2^48 only: 48 bits straight from randomBytes instead.
  float: () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48,
  int: (maxExclusive) => randomInt(0, maxExclusive),
};

/**
 * A deterministic PRNG (xoroshiro128+ from pure-rand): the same seed gives the same stream.
 * Never use it for keys outside tests and simulations.
 */
export class SeededRandom implements Random {
  private readonly rng: prand.RandomGenerator;

  constructor(seed: number) {
    // xoroshiro128+ seeded with a small integer starts with a few near-maximal outputs
    // (its state is mostly zero bits); scramble the seed with splitmix32 and skip the warm-up.
    this.rng = prand.xoroshiro128plus(splitmix32(seed | 0));
    for (let i = 0; i < 8; i++) this.rng.unsafeNext();
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

  /**
   * Writes the generator's state (four 32-bit words) to `out` at `offset`, so that many
   * streams can be kept in one typed array and resumed with `SeededRandom.fromState`.
   */
  saveState(out: Int32Array, offset = 0): void {
    const state = this.rng.getState();
    for (let i = 0; i < 4; i++) out[offset + i] = state[i];
  }

  /** The stream whose state `saveState` wrote at `offset`: it continues exactly where that one was. */
  static fromState(words: Int32Array, offset = 0): SeededRandom {
    const resumed = Object.create(SeededRandom.prototype) as SeededRandom;
    (resumed as unknown as { rng: prand.RandomGenerator }).rng = prand.xoroshiro128plus.fromState([
      words[offset],
      words[offset + 1],
      words[offset + 2],
      words[offset + 3],
    ]);
    return resumed;
  }

  /**
   * An independent stream (for a sub-simulation or a device): the child continues from here and
   * this stream jumps 2^64 draws ahead, so successive children are 2^64 draws apart. (Jumping
   * the child and stepping the parent once instead puts every child on one sequence, one draw
   * apart: child i after k draws would be child i + k, and phones' day keys would repeat each
   * other's.)
   */
  fork(): SeededRandom {
    const child = Object.create(SeededRandom.prototype) as SeededRandom;
    (child as unknown as { rng: prand.RandomGenerator }).rng = this.rng.clone();
    this.rng.unsafeJump!();
    return child;
  }
}

/** splitmix32 finaliser (Steele, Lea & Flood 2014): spreads the bits of a small seed. */
function splitmix32(seed: number): number {
  let z = (seed + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}

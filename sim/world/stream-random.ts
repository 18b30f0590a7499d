/**
 * xoshiro128** (Blackman & Vigna), reseeded per (receiver, step) or (pair, step) from splitmix32:
 * the link layer's far pairs, and everything heard in a venue shard, draw from it, so their draws
 * depend on neither the thread that hears them nor the order receivers are heard in.
 */
export class StreamRandom {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  reseed(seed: number, receiver: number, step: number): void {
    let z = (seed ^ Math.imul(receiver + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x632be5ab)) | 0;
    z = splitmix32(z);
    this.s0 = z = splitmix32(z + 0x9e3779b9);
    this.s1 = z = splitmix32(z + 0x9e3779b9);
    this.s2 = z = splitmix32(z + 0x9e3779b9);
    this.s3 = splitmix32(z + 0x9e3779b9) | 1;
  }

  private next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits. */
  float(): number {
    return ((this.next() >>> 5) * 67108864 + (this.next() >>> 6)) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function splitmix32(seed: number): number {
  let z = seed | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}

/**
 * Advertising on the simulated air, shared by the link layer's passes and its worker threads:
 * the advertising interval and PDU air time, each phone's first advertising event of a step,
 * and where far-pair receptions go (`ReceptionSink`, `FarReceptions`).
 */
/** Mean advertising interval (GAEN BT spec v1.2 recommends 200-270 ms) plus the 0-10 ms advDelay mean. */
export const ADVERTISING_INTERVAL_MS = 255;
/** Air time of one legacy advertising PDU with 31 bytes of data at 1 Mbit/s: (1+4+2+6+31+3) bytes. */
export const PDU_AIRTIME_MS = 0.376;

/**
 * Each phone's first advertising event of the step, computed when first asked for (a step of
 * GAEN scanning looks at the neighbours of 2 % of the phones, not at all of them).
 */
export class FirstEvents {
  private readonly phaseMs: Float64Array;
  private readonly firstMs: Float64Array;
  private readonly stamp: Int32Array;
  private step = -1;
  private fromMs = 0;

  constructor(phaseMs: Float64Array) {
    this.phaseMs = phaseMs;
    this.firstMs = new Float64Array(phaseMs.length);
    this.stamp = new Int32Array(phaseMs.length).fill(-1);
  }

  get bytes(): number {
    return this.firstMs.byteLength + this.stamp.byteLength;
  }

  begin(step: number, fromMs: number): void {
    this.step = step;
    this.fromMs = fromMs;
  }

  /** Phone `t`'s first advertising event at or after `a` (not before the step's start). */
  at(t: number, a: number): number {
    if (this.stamp[t] !== this.step) {
      this.stamp[t] = this.step;
      const from = this.fromMs;
      this.firstMs[t] = from + intervalOffset(this.phaseMs[t] - from);
    }
    const first = this.firstMs[t];
    // A scan that began inside the step: its first event of this phone.
    return first >= a
      ? first
      : first + Math.ceil((a - first) / ADVERTISING_INTERVAL_MS) * ADVERTISING_INTERVAL_MS;
  }
}

/**
 * `((x % I) + I) % I` for the advertising interval I, to the bit, without its two `fmod` calls
 * (each a call into C, paid per phone per step). `x - trunc(x / I) * I` is exact (an integer
 * number of intervals off `x`, no larger than it) but the rounded quotient can be one off, which
 * the signs reveal; the rest is the expression's own rounding of `r + I`, then the exact
 * `fmod` of a value in [0, 2 I] (`r + I` can round up to 2 I itself, whose remainder is 0).
 */
export function intervalOffset(x: number): number {
  const i = ADVERTISING_INTERVAL_MS;
  let r = x - Math.trunc(x / i) * i;
  if (x >= 0) {
    if (r < 0) r += i;
    else if (r >= i) r -= i;
  } else if (r > 0) r -= i;
  else if (r <= -i) r += i;
  const y = r + i;
  return y < i ? y : y < 2 * i ? y - i : y - 2 * i;
}

/** Where far-pair receptions go: (receiver, sender, virtual ms, RSSI, channel). */
export interface ReceptionSink {
  push(receiver: number, sender: number, eventMs: number, rssiDbm: number, channel: number): void;
}

export type DeliverFar = (
  receiver: number,
  sender: number,
  eventMs: number,
  rssiDbm: number,
  channel: number,
) => void;

/** Receptions as columns, growing as needed (the in-thread sink). */
export class FarReceptions implements ReceptionSink {
  private receiver: Int32Array;
  private sender: Int32Array;
  private atMs: Float64Array;
  private rssi: Int16Array;
  private channel: Uint8Array;
  private size = 0;

  constructor(capacity: number) {
    this.receiver = new Int32Array(capacity);
    this.sender = new Int32Array(capacity);
    this.atMs = new Float64Array(capacity);
    this.rssi = new Int16Array(capacity);
    this.channel = new Uint8Array(capacity);
  }

  push(receiver: number, sender: number, eventMs: number, rssiDbm: number, channel: number): void {
    if (this.size === this.receiver.length) this.grow();
    const i = this.size++;
    this.receiver[i] = receiver;
    this.sender[i] = sender;
    this.atMs[i] = eventMs;
    this.rssi[i] = rssiDbm;
    this.channel[i] = channel;
  }

  drain(deliver: DeliverFar): void {
    for (let i = 0; i < this.size; i++) {
      deliver(this.receiver[i], this.sender[i], this.atMs[i], this.rssi[i], this.channel[i]);
    }
    this.size = 0;
  }

  private grow(): void {
    const grown = (a: Int32Array | Float64Array | Int16Array | Uint8Array) => {
      const b = new (a.constructor as new (n: number) => typeof a)(a.length * 2);
      b.set(a as never);
      return b;
    };
    this.receiver = grown(this.receiver) as Int32Array;
    this.sender = grown(this.sender) as Int32Array;
    this.atMs = grown(this.atMs) as Float64Array;
    this.rssi = grown(this.rssi) as Int16Array;
    this.channel = grown(this.channel) as Uint8Array;
  }
}
